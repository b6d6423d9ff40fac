"""A report or packet cites only validated scenario sets (issue 15 §1): refused with 409 naming the set,
nothing written, the refusal audited."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from governance.errors import Conflict
from governance.models import AuditEvent
from governance.services.inventory import model_create, version_create
from reports.models import Packet, Report
from reports.services.documents import report_start
from reports.services.packets import packet_start
from scenarios import scenario_files
from scenarios.services.scenario_sets import scenario_set_import
from tests.fixtures_reports import record_validation
from tests.reports.packet_support import make_report_for

pytestmark = pytest.mark.django_db


def _version(developer):
    model = model_create(actor=developer, name="Citation model", purpose="citation test", business_line="Markets",
                         family="copula", exposure_usd=Decimal("1000000"), materiality_purpose="informational")
    return version_create(actor=developer, model=model, version="1.0.0")


def _imported(actor, name: str, seed: int):
    paths = np.random.default_rng(seed).normal(size=(20, 5, 2))
    return scenario_set_import(actor=actor, data=scenario_files.canonical_bytes(paths, ["A", "B"]),
                               filename=f"{name}.parquet", name=name)


def _validate(scenario_set, actor, dataset, version):
    return record_validation(scenario_set, actor=actor, dataset=dataset, version=version, rows=[
        {"tier": "coherence", "name": "coherence_floor", "factor": "A", "value": 0.0, "threshold": 0.0,
         "outcome": "PASS"}])


def test_a_report_citing_an_unvalidated_set_is_refused_naming_it_and_nothing_is_written(
        developer, validator, approver, real_dataset, django_capture_on_commit_callbacks):
    version = _version(developer)
    validated = _imported(validator, "validated set", 0)
    _validate(validated, validator, real_dataset, version)
    unvalidated = _imported(validator, "never validated", 1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with pytest.raises(Conflict) as refused:
            report_start(actor=approver, model_version=version, scenario_sets=[validated, unvalidated])
    assert f"scenario set {unvalidated.pk} (never validated)" in refused.value.message
    assert f"scenario set {validated.pk} " not in refused.value.message
    assert refused.value.details == {"scenario_sets": [unvalidated.pk]}
    assert not Report.objects.exists() and not callbacks
    event = AuditEvent.objects.get(action="report.refused")
    assert event.actor_username == approver.username and event.after == {"unvalidated_scenario_sets": [unvalidated.pk]}
    assert not AuditEvent.objects.filter(action="report.requested").exists()
    # the validated set alone is accepted
    with django_capture_on_commit_callbacks(execute=False):
        report = report_start(actor=approver, model_version=version, scenario_sets=[validated])
    assert list(report.scenario_sets.all()) == [validated]


def test_a_report_of_a_version_cites_by_default_only_its_validated_sets(
        documented_version, generate, validator, approver, django_capture_on_commit_callbacks):
    doc = documented_version
    extra = generate(validator, doc.version, n_scenarios=50, horizon=5, purpose="validation", seed=9)
    with django_capture_on_commit_callbacks(execute=False):
        report = report_start(actor=approver, model_version=doc.version)
    assert list(report.scenario_sets.all()) == [doc.scenario_set]
    assert extra not in report.scenario_sets.all()
    assert list(report.stress_results.all()) == [doc.stress]


def test_the_report_api_answers_409_naming_the_unvalidated_set(developer, validator, approver, api,
                                                               django_capture_on_commit_callbacks):
    version = _version(developer)
    unvalidated = _imported(validator, "api set", 2)
    answer = api(approver).post("/api/v1/reports/", {"model_version": version.pk, "scenario_sets": [unvalidated.pk]},
                               format="json")
    assert answer.status_code == 409, answer.content
    error = answer.json()["error"]
    assert error["code"] == "unvalidated_scenario_set"
    assert f"scenario set {unvalidated.pk} (api set)" in error["message"]
    assert not Report.objects.exists()
    assert AuditEvent.objects.filter(action="report.refused", actor_username=approver.username).exists()


def test_a_packet_of_a_report_citing_an_unvalidated_set_is_refused_and_the_refusal_is_kept(
        developer, validator, approver, django_capture_on_commit_callbacks):
    version = _version(developer)
    unvalidated = _imported(validator, "cited unvalidated", 3)
    report = make_report_for(version, actor=approver, scenario_sets=[unvalidated])  # made before the rule
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with pytest.raises(Conflict, match=rf"the packet cites .*scenario set {unvalidated.pk} \(cited unvalidated\)"):
            packet_start(actor=approver, report=report)
    assert not Packet.objects.exists() and not callbacks
    event = AuditEvent.objects.get(action="packet.refused")
    assert event.object_id == str(report.pk) and event.after == {"unvalidated_scenario_sets": [unvalidated.pk]}
    assert not AuditEvent.objects.filter(action="packet.requested").exists()
