"""POST /api/v1/generation-runs/: condition bounds and the plausibility filter over the API; bad input is a 400."""

from __future__ import annotations

import pytest

from governance.models import AuditEvent
from scenarios.models import GenerationRun
from scenarios.services.runs import generation_run_execute

pytestmark = pytest.mark.django_db

URL = "/api/v1/generation-runs/"


@pytest.fixture
def body(train):
    trained = train("historical_bootstrap", {"block_length": 5.0})
    assert trained.status == "SUCCEEDED", trained.error
    return {"model_version": trained.model_version.pk, "n_scenarios": 200, "horizon": 10, "purpose": "development",
            "seed": 3}


def test_a_severe_request_with_a_tenth_of_the_vol_is_a_400_naming_the_bound(api, developer, body):
    response = api(developer).post(URL, body | {"condition": {"severity": "severe", "vol_multiplier": 0.1}},
                                   format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "condition_out_of_range" and "1.0–3.0" in error["message"]
    assert any("below the severe level 2.0" in m for m in error["details"]["condition"])
    assert not GenerationRun.objects.exists()


def test_an_equity_rally_under_a_severity_is_a_400(api, developer, body):
    condition = {"severity": "moderate", "targets": [{"factor": "SP500", "move": 0.5, "days": 20}]}
    response = api(developer).post(URL, body | {"condition": condition}, format="json")
    assert response.status_code == 400 and "drawdown" in response.json()["error"]["message"]


def test_a_developer_reason_over_the_api_marks_the_set(api, developer, body, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        started = api(developer).post(URL, body | {"condition": {"vol_multiplier": 0.5},
                                                   "out_of_range_reason": "calm-market sensitivity study"},
                                      format="json")
    assert started.status_code == 202, started.content
    assert started.json()["out_of_range_reason"] == "calm-market sensitivity study"
    generation_run_execute(started.json()["id"], worker="w")
    run = api(developer).get(f"{URL}{started.json()['id']}/").json()
    assert run["status"] == "SUCCEEDED" and run["condition_bounds"]["breaches"]
    meta = api(developer).get(f"/api/v1/scenario-sets/{run['scenario_set']}/").json()
    assert meta["out_of_training_range"] is True and meta["out_of_range_reason"] == "calm-market sensitivity study"
    assert meta["condition_bounds"]["bounds"]["vol_multiplier"] == [1.0, 3.0] and meta["filter_report"] == {}
    assert AuditEvent.objects.filter(action="generation_run.out_of_training_range").count() == 1


def test_a_filter_over_the_api_is_reported_on_the_run_and_the_set(api, developer, body,
                                                                  django_capture_on_commit_callbacks):
    rules = [{"rule": "max_daily_move", "factor": "SP500", "maximum_abs": 0.06}]
    with django_capture_on_commit_callbacks(execute=False):
        started = api(developer).post(URL, body | {"plausibility_filter": {"rules": rules}}, format="json")
    assert started.status_code == 202, started.content
    assert started.json()["plausibility_filter"]["rules"] == [rules[0] | {"maximum_abs": 0.06}]
    generation_run_execute(started.json()["id"], worker="w")
    run = api(developer).get(f"{URL}{started.json()['id']}/").json()
    meta = api(developer).get(f"/api/v1/scenario-sets/{run['scenario_set']}/").json()
    report = meta["filter_report"]
    assert report["drawn"] == 200 and meta["n_scenarios"] == 200 - report["removed"] and report == run["filter_report"]
    assert meta["out_of_training_range"] is False


@pytest.mark.parametrize(("extra", "field", "text"), [
    ({"plausibility_filter": {"rules": [{"rule": "non_negative", "factor": "GOLD"}]}}, None, "unknown factor"),
    ({"plausibility_filter": {"rules": [{"rule": "teleport", "factor": "SP500"}]}}, None, "unknown rule"),
    ({"plausibility_filter": [1]}, "plausibility_filter", "JSON object"),
    ({"plausibility_filter": {"default": "sometimes"}}, None, "true or false"),
    ({"out_of_range_reason": ["a", "list"]}, "out_of_range_reason", ""),
    ({"condition": {"vol_multiplier": -2}}, None, "positive"),
])
def test_bad_generation_input_is_a_400_never_a_500(api, developer, body, extra, field, text):
    response = api(developer).post(URL, body | extra, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert text in error["message"] or text in str(error["details"])
    if field:
        assert field in error["details"]
    assert not GenerationRun.objects.exists()


def test_a_reason_from_a_non_developer_is_a_403(api, validator, body, drive_to):
    from governance.models import ModelVersion

    drive_to(ModelVersion.objects.get(pk=body["model_version"]), "in_validation")
    response = api(validator).post(URL, body | {"purpose": "validation", "out_of_range_reason": "trust me",
                                                "condition": {"vol_multiplier": 0.5}}, format="json")
    assert response.status_code == 403 and "only a developer" in response.json()["error"]["message"]
