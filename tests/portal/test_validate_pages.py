"""Validator pages (issue 17 §3): generate validation sets, start validation, run a stress — and the refusals."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory

from governance import roles
from portal.forms_validate import condition_choices, condition_from_choice
from portal.jobs import job_url
from scenarios.models import GenerationRun, StressResult
from tests.conftest import PASSWORD
from validation.models import ValidationRun

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def validating(train, drive_to, generate, validator, developer):
    """A factor-MC version in validation with one small validation set, and the sample book."""
    from scenarios.services.stress import portfolio_create
    from tests.fixtures_reports import SAMPLE_BOOK

    trained = train("factor_mc")
    assert trained.status == "SUCCEEDED", trained.error
    version = drive_to(trained.model_version, "in_validation")
    scenario_set = generate(validator, version, n_scenarios=200, horizon=10, purpose="validation", seed=3)
    portfolio = portfolio_create(actor=developer, name="sample book", positions=SAMPLE_BOOK)
    return version, scenario_set, portfolio


# ── generate validation sets ──────────────────────────────────────────────────────────────────
def test_a_validator_sees_the_generate_form_with_each_condition_the_model_supports(validating, validator):
    version, scenario_set, _ = validating
    response = _client(validator).get(f"/versions/{version.pk}/validation-sets/")
    assert response.status_code == 200
    body = response.content.decode()
    for value in ("unconditioned", "mild", "moderate", "severe", "extreme"):
        assert f'value="{value}"' in body
    assert "supervisory:" not in body  # a factor-MC version cannot follow a Fed path
    assert 'for="id_n_scenarios"' in body and 'for="id_horizon"' in body and 'for="id_seed"' in body
    assert f"/scenario-sets/{scenario_set.pk}/validate/" in body  # its sets, each with its actions
    assert "<td>unconditioned</td>" in body


def test_a_condition_is_named_in_words():
    from portal.templatetags.validate_tags import condition_label

    assert condition_label({"severity": None, "vol_multiplier": None, "targets": [], "extra": {}}) == "unconditioned"
    assert condition_label({"severity": "severe", "targets": [], "extra": {}}) == "severity severe"
    assert condition_label({"extra": {"fed_path": {"q": 1}, "fed_source": {"file": "t.csv"}}}) == (
        "Fed supervisory path (t.csv)")


def test_without_readable_fed_tables_a_supervisory_version_is_told_why(settings, tmp_path, make_user):
    from governance.models import ModelVersion
    from portal.views.validate import generate_refusal

    settings.CRUCIBLE_FED_DIR = tmp_path  # an empty directory: no table to offer
    assert condition_choices("supervisory") == []
    assert "unconditioned" in dict(condition_choices("factor_mc"))
    version = ModelVersion(status="in_validation", engine="supervisory", checkpoint_sha256="0" * 64)
    assert "supervisory tables could not be read" in generate_refusal(make_user("adm", roles.ADMIN), version)


def test_the_supervisory_engine_is_offered_only_the_feds_published_scenarios():
    choices = dict(condition_choices("supervisory"))
    assert "supervisory:2025:severely_adverse" in choices and "supervisory:2025:baseline" in choices
    assert "unconditioned" not in choices and not any("historic" in c for c in choices)
    assert condition_from_choice("supervisory:2026-proposed:baseline") == {
        "supervisory": {"edition": "2026-proposed", "scenario": "baseline"}}
    assert condition_from_choice("severe") == {"severity": "severe"}
    assert condition_from_choice("unconditioned") is None


def test_a_validator_generates_a_validation_set_and_is_sent_to_the_job_page(validating, validator):
    version, _, _ = validating
    before = GenerationRun.objects.count()
    response = _client(validator).post(f"/versions/{version.pk}/validation-sets/",
                                       {"condition": "severe", "n_scenarios": 300, "horizon": 15, "seed": 11})
    assert response.status_code == 303
    run = GenerationRun.objects.latest("pk")
    assert GenerationRun.objects.count() == before + 1
    assert response["Location"] == job_url(run) == f"/jobs/generation_run/{run.pk}/"
    assert (run.purpose, run.n_scenarios, run.horizon, run.seed, run.created_by) == (
        "validation", 300, 15, 11, validator)
    assert run.condition["severity"] == "severe"


def test_bad_generation_input_shows_the_form_again_with_field_errors_and_starts_nothing(validating, validator):
    version, _, _ = validating
    before = GenerationRun.objects.count()
    response = _client(validator).post(f"/versions/{version.pk}/validation-sets/",
                                       {"condition": "apocalyptic", "n_scenarios": 0, "horizon": 9999, "seed": -1})
    assert response.status_code == 400
    body = response.content.decode()
    assert body.count('class="field-error"') >= 4
    assert "Select a valid choice" in body
    assert GenerationRun.objects.count() == before


def test_a_developer_cannot_generate_validation_sets_from_the_page(validating, developer):
    version, _, _ = validating
    before = GenerationRun.objects.count()
    client = _client(developer)
    assert client.get(f"/versions/{version.pk}/validation-sets/").status_code == 403
    response = client.post(f"/versions/{version.pk}/validation-sets/",
                           {"condition": "severe", "n_scenarios": 100, "horizon": 10, "seed": 0})
    assert response.status_code == 403
    assert GenerationRun.objects.count() == before


def test_a_validator_cannot_open_the_generate_page_of_a_draft_they_cannot_see(train, validator):
    draft = train("factor_mc").model_version
    client = _client(validator)
    # The validator sees drafts of no one: the page is a 404 like every invisible object.
    assert client.get(f"/versions/{draft.pk}/validation-sets/").status_code == 404


def test_an_admin_on_a_draft_is_told_why_and_a_post_is_refused(train, make_user):
    draft = train("factor_mc").model_version
    admin = make_user("adm", roles.ADMIN)
    client = _client(admin)
    response = client.get(f"/versions/{draft.pk}/validation-sets/")
    assert response.status_code == 200
    assert 'id="generate-refusal"' in response.content.decode() and "Draft" in response.content.decode()
    before = GenerationRun.objects.count()
    response = client.post(f"/versions/{draft.pk}/validation-sets/",
                           {"condition": "severe", "n_scenarios": 100, "horizon": 10, "seed": 0})
    assert response.status_code == 409
    assert GenerationRun.objects.count() == before


# ── start validation ──────────────────────────────────────────────────────────────────────────
def test_starting_validation_is_a_plain_confirmation_not_an_e_signature(validating, validator):
    _, scenario_set, _ = validating
    response = _client(validator).get(f"/scenario-sets/{scenario_set.pk}/validate/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Nothing is signed" in body and 'type="password"' not in body
    assert 'value="univariate"' in body and "Start validation</button>" in body


def test_a_validator_starts_validation_on_a_set_and_lands_on_the_job_page(validating, validator):
    _, scenario_set, _ = validating
    response = _client(validator).post(f"/scenario-sets/{scenario_set.pk}/validate/",
                                       {"tiers": ["univariate", "memorisation"], "seed": 5})
    assert response.status_code == 303
    run = ValidationRun.objects.get(scenario_set=scenario_set)
    assert response["Location"] == f"/jobs/validation_run/{run.pk}/"
    assert (run.tiers, run.seed, run.created_by) == (["univariate", "memorisation"], 5, validator)


def test_an_unknown_tier_is_a_field_error_and_nothing_starts(validating, validator):
    _, scenario_set, _ = validating
    response = _client(validator).post(f"/scenario-sets/{scenario_set.pk}/validate/",
                                       {"tiers": ["astrology"], "seed": 0})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not ValidationRun.objects.filter(scenario_set=scenario_set).exists()


def test_a_developer_of_the_model_cannot_start_validation_on_its_set(validating, developer):
    _, scenario_set, _ = validating
    client = _client(developer)
    assert client.get(f"/scenario-sets/{scenario_set.pk}/validate/").status_code == 403
    response = client.post(f"/scenario-sets/{scenario_set.pk}/validate/", {"seed": 0})
    assert response.status_code == 403
    assert not ValidationRun.objects.filter(scenario_set=scenario_set).exists()


def test_a_validator_who_develops_the_model_is_refused_for_segregation_of_duties(validating, make_user):
    version, scenario_set, _ = validating
    both = make_user("dev-and-val", roles.DEVELOPER, roles.VALIDATOR)
    version.model.developers.add(both)
    response = _client(both).post(f"/scenario-sets/{scenario_set.pk}/validate/", {"seed": 0})
    assert response.status_code == 403
    assert "segregation of duties" in response.content.decode()
    assert not ValidationRun.objects.filter(scenario_set=scenario_set).exists()


# ── stress ────────────────────────────────────────────────────────────────────────────────────
def test_a_validator_runs_a_stress_of_a_portfolio_on_a_set(validating, validator):
    version, scenario_set, portfolio = validating
    response = _client(validator).post(f"/scenario-sets/{scenario_set.pk}/stress/",
                                       {"portfolio": portfolio.pk, "levels": "0.99,0.995", "k": 5})
    assert response.status_code == 303
    assert response["Location"] == f"/versions/{version.pk}/#scenario-sets"  # no validation run yet
    stress = StressResult.objects.get(scenario_set=scenario_set)
    assert (stress.portfolio, stress.levels, len(stress.worst), stress.created_by) == (
        portfolio, [0.99, 0.995], 5, validator)


def test_after_a_stress_the_validator_lands_on_the_sets_validation_run_page(validating, validator,
                                                                          django_capture_on_commit_callbacks):
    from validation.services.runs import validation_run_start

    _, scenario_set, portfolio = validating
    with django_capture_on_commit_callbacks(execute=False):
        run = validation_run_start(actor=validator, scenario_set=scenario_set, tiers=["univariate"])
    response = _client(validator).post(f"/scenario-sets/{scenario_set.pk}/stress/",
                                       {"portfolio": portfolio.pk, "levels": "0.99", "k": 3})
    assert response.status_code == 303 and response["Location"] == f"/validation/runs/{run.pk}/"
    assert StressResult.objects.filter(scenario_set=scenario_set, portfolio=portfolio).count() == 1


def test_a_bad_stress_form_is_a_400_and_nothing_is_written(validating, validator):
    _, scenario_set, portfolio = validating
    response = _client(validator).post(f"/scenario-sets/{scenario_set.pk}/stress/",
                                       {"portfolio": portfolio.pk, "levels": "0.5,2", "k": 0})
    assert response.status_code == 400
    assert response.content.decode().count('class="field-error"') == 2
    assert not StressResult.objects.exists()


def test_an_auditor_cannot_run_a_stress(validating, auditor):
    _, scenario_set, portfolio = validating
    client = _client(auditor)
    assert client.get(f"/scenario-sets/{scenario_set.pk}/stress/").status_code == 403
    response = client.post(f"/scenario-sets/{scenario_set.pk}/stress/",
                           {"portfolio": portfolio.pk, "levels": "0.99", "k": 5})
    assert response.status_code == 403
    assert not StressResult.objects.exists()


# ── the partial the version page includes ─────────────────────────────────────────────────────
def _render_actions(user, version) -> str:
    request = RequestFactory().get(f"/versions/{version.pk}/")
    request.user = user
    return render_to_string("portal/validate/_version_actions.html", {"version": version}, request=request)


def test_the_version_actions_show_a_validator_what_they_may_start(validating, validator):
    version, scenario_set, _ = validating
    html = _render_actions(validator, version)
    assert f"/versions/{version.pk}/validation-sets/" in html
    assert f"/scenario-sets/{scenario_set.pk}/validate/" in html and f"/scenario-sets/{scenario_set.pk}/stress/" in html


def test_the_version_actions_show_a_developer_nothing(validating, developer):
    version, _, _ = validating
    assert _render_actions(developer, version).strip() == ""
