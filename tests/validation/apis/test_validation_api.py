import pytest

from validation.models import ValidationPolicy
from validation.services.runs import validation_part_execute

pytestmark = pytest.mark.django_db


def test_start_read_and_list_validation_runs(api, train, generate, developer, validator, auditor, make_user,
                                             django_capture_on_commit_callbacks):
    version = train("factor_mc").model_version
    scenario_set = generate(developer, version, n_scenarios=500, horizon=10, purpose="development", seed=1)
    with django_capture_on_commit_callbacks(execute=False):
        response = api(developer).post("/api/v1/validation-runs/", {"scenario_set": scenario_set.pk,
                                                                    "tiers": ["univariate", "temporal"]},
                                       format="json")
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]
    assert response.json()["parts"] == {"statistical": "PENDING", "neural": "SKIPPED"}
    validation_part_execute(run_id, "statistical", worker="w")
    detail = api(developer).get(f"/api/v1/validation-runs/{run_id}/").json()
    assert detail["status"] == "SUCCEEDED" and set(detail["tier_outcomes"]) == {"univariate", "temporal"}
    assert {m["tier"] for m in detail["metrics"]} == {"univariate", "temporal"}
    assert all(m["outcome"] in {"PASS", "WARN", "FAIL", "INFO"} for m in detail["metrics"])
    listing = api(auditor).get("/api/v1/validation-runs/", {"model_version": version.pk}).json()
    assert listing["count"] == 1 and listing["results"][0]["policy"] == f"tier {version.model.tier} v4"
    # a validator does not see a draft's runs; unknown ids are 404; bad tiers 400; no role 403
    assert api(validator).get(f"/api/v1/validation-runs/{run_id}/").status_code == 404
    assert api(developer).get("/api/v1/validation-runs/999/").status_code == 404
    bad = api(developer).post("/api/v1/validation-runs/", {"scenario_set": scenario_set.pk, "tiers": ["vibes"]},
                              format="json")
    assert bad.status_code == 400
    assert api(make_user("nobody")).get("/api/v1/validation-runs/").status_code == 403


def test_policies_are_versioned_and_admin_only(api, make_user, developer):
    admin = make_user("admin-user", "admin")
    assert ValidationPolicy.objects.filter(version=1).count() == 3
    tier1 = ValidationPolicy.objects.get(model_tier=1, version=1).thresholds["ks_daily"]["threshold"]
    tier3 = ValidationPolicy.objects.get(model_tier=3, version=1).thresholds["ks_daily"]["threshold"]
    assert tier1 < tier3  # tier 1 strictest
    change = {"model_tier": 2, "thresholds": {"ks_daily": {"threshold": 0.04, "warn": 0.08}}, "note": "tighter KS"}
    assert api(developer).post("/api/v1/validation-policies/", change, format="json").status_code == 403
    no_note = api(admin).post("/api/v1/validation-policies/", change | {"note": " "}, format="json")
    assert no_note.status_code == 400
    nan = api(admin).post("/api/v1/validation-policies/", change | {"thresholds": {"ks_daily": {"threshold": "x"}}},
                          format="json")
    assert nan.status_code == 400
    created = api(admin).post("/api/v1/validation-policies/", change, format="json")
    # versions 2 and 3 are migrations 0003's and 0004's (graded backtest bounds); an admin's change is the next
    assert created.status_code == 201 and created.json()["version"] == 5
    assert created.json()["thresholds"]["ks_daily"] == {"threshold": 0.04, "warn": 0.08}
    assert created.json()["thresholds"]["mmd2_daily"]  # the rest carried over
    assert created.json()["thresholds"]["christoffersen_cc"] == {"threshold": 5.991465, "warn": 9.21034}
    assert created.json()["thresholds"]["es_backtest_z2"] == {"threshold": -0.7, "warn": -1.8}
    assert created.json()["suite_settings"]["filter_max_share"] == 0.05  # the suite settings carried over
    from governance.models import AuditEvent

    assert AuditEvent.objects.filter(action="validation_policy.updated", reason="tighter KS").exists()
