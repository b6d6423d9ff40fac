"""What a documentation PDF cites by default (issue 17): the version's validated sets of purpose ``use`` or
``validation`` — never a developer's ``development`` set, from the service and from the API alike — and how the
PDF names the version: by its engine's family, not the model's registered family when the two differ."""

from __future__ import annotations

import subprocess

import pytest

from governance.models import InventoryModel
from governance.services.lineage import lineage_entity
from reports.models import Report
from reports.services.documents import default_scenario_sets, model_kind, report_start
from scenarios.models import ScenarioSet
from tests.fixtures_reports import record_validation

pytestmark = pytest.mark.django_db


def development_copy(scenario_set: ScenarioSet, *, validator, purpose: str = "development") -> ScenarioSet:
    """A set of the same version with another purpose (as if generated while the version was a draft), and a
    SUCCEEDED validation run of it, so that only its purpose keeps it out of the defaults."""
    copy = ScenarioSet.objects.get(pk=scenario_set.pk)
    copy.pk, copy.generation_run, copy.purpose, copy.name = None, None, purpose, f"{purpose} copy"
    copy.source = f"import:{purpose}-copy"
    copy.save()
    lineage_entity(uid=copy.lineage_uid, kind="scenario_set", label=copy.name, sha256=copy.sha256,
                   object_type="scenario_set", object_id=copy.pk, actor=validator)
    record_validation(copy, actor=validator, tier_outcomes={"multivariate": "PASS"}, outcome="PASS")
    return copy


def test_the_defaults_leave_out_a_validated_development_set(documented_version, validator, developer,
                                                            django_capture_on_commit_callbacks):
    version = documented_version.version
    dev = development_copy(documented_version.scenario_set, validator=validator)
    assert dev.model_version_id == version.pk
    assert default_scenario_sets(version) == [documented_version.scenario_set]
    with django_capture_on_commit_callbacks(execute=False):
        report = report_start(actor=developer, model_version=version)
    cited = set(report.scenario_sets.values_list("pk", flat=True))
    assert cited == {documented_version.scenario_set.pk}
    assert dev.pk not in set(report.validation_runs.values_list("scenario_set_id", flat=True))
    assert not report.stress_results.filter(scenario_set=dev).exists()


def test_a_development_set_is_cited_only_when_named(documented_version, validator, developer,
                                                    django_capture_on_commit_callbacks):
    dev = development_copy(documented_version.scenario_set, validator=validator)
    with django_capture_on_commit_callbacks(execute=False):
        report = report_start(actor=developer, model_version=documented_version.version,
                              scenario_sets=[documented_version.scenario_set, dev])
    assert dev in report.scenario_sets.all()


def test_the_api_with_defaults_leaves_out_the_development_set(documented_version, validator, developer, api,
                                                              django_capture_on_commit_callbacks):
    dev = development_copy(documented_version.scenario_set, validator=validator)
    with django_capture_on_commit_callbacks(execute=False):
        response = api(developer).post("/api/v1/reports/", {"model_version": documented_version.version.pk},
                                       format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["scenario_sets"] == [documented_version.scenario_set.pk]
    assert dev.pk not in body["scenario_sets"]
    report = Report.objects.get(pk=body["id"])
    assert not report.scenario_sets.filter(purpose="development").exists()


def test_an_external_set_is_not_a_default_either(documented_version, validator):
    external = development_copy(documented_version.scenario_set, validator=validator, purpose="external")
    assert external not in default_scenario_sets(documented_version.version)


def test_a_copula_version_of_a_model_registered_as_diffusion_is_called_a_copula(documented_version):
    version = documented_version.version
    assert version.engine == "garch_evt_copula"
    InventoryModel.objects.filter(pk=version.model.pk).update(family="diffusion")
    version.model.refresh_from_db()
    kind = model_kind(version)
    assert kind == {"label": "Copula with GARCH-EVT margins", "registered": "Diffusion (DDPM/DDIM)", "differs": True}
    InventoryModel.objects.filter(pk=version.model.pk).update(family="copula")
    version.model.refresh_from_db()
    assert model_kind(version) == {"label": "Copula with GARCH-EVT margins", "registered": "", "differs": False}


def test_the_pdf_of_a_copula_version_says_copula_not_the_models_registered_family(
        documented_version, validator, django_capture_on_commit_callbacks):
    from reports.services.documents import report_execute, report_pdf_path

    version = documented_version.version
    InventoryModel.objects.filter(pk=version.model.pk).update(family="diffusion")
    with django_capture_on_commit_callbacks(execute=False):
        report = report_start(actor=validator, model_version=version,
                              options={"shap_background": 20, "shap_sample": 20, "max_waterfalls": 1,
                                       "max_factor_panels": 2})
    report_execute(report.pk, worker="test-worker")
    report.refresh_from_db()
    assert report.status == "SUCCEEDED", report.error
    text = subprocess.run(["/usr/bin/pdftotext", str(report_pdf_path(report)), "-"], capture_output=True,
                          check=True).stdout.decode()
    words = " ".join(text.split())
    assert "records the Copula with GARCH-EVT margins model" in words
    assert "records the Diffusion" not in words
    assert "registers the model as Diffusion (DDPM/DDIM)" in words
