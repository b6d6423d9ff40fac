import pytest

from governance.models import AuditEvent

pytestmark = pytest.mark.django_db

NEW_MODEL = {
    "name": "Oil shock copula", "purpose": "Commodity desk stress", "business_line": "Commodities",
    "family": "copula", "exposure_usd": "150000000.00", "materiality_purpose": "risk_management",
    "regulatory_uses": ["ICAAP"], "limitations": "No intraday data",
}


def error_of(response):
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_register_and_read_a_model(api, developer, auditor):
    response = api(developer).post("/api/v1/models/", NEW_MODEL, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["model_id"] == "CRU-0001" and body["tier"] == 2 and body["developers"] == ["dev"]
    listing = api(auditor).get("/api/v1/models/", {"tier": 2})
    assert listing.json()["count"] == 1
    assert api(auditor).get("/api/v1/models/", {"tier": 1}).json()["count"] == 0
    assert api(auditor).get("/api/v1/models/", {"search": "copula"}).json()["count"] == 1
    assert api(auditor).get("/api/v1/models/CRU-0001/").json()["limitations"] == "No intraday data"


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "-5", "abc"])
def test_non_finite_or_negative_exposure_is_400_with_field_errors(api, developer, bad):
    response = api(developer).post("/api/v1/models/", NEW_MODEL | {"exposure_usd": bad}, format="json")
    assert response.status_code == 400
    assert "exposure_usd" in error_of(response)["details"]


def test_nan_literal_in_json_is_refused(api, developer):
    raw = '{"name": "x", "exposure_usd": NaN}'
    response = api(developer).post("/api/v1/models/", raw, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_missing_and_unknown_choices_are_named(api, developer):
    response = api(developer).post("/api/v1/models/", {"family": "astrology"}, format="json")
    details = error_of(response)["details"]
    assert response.status_code == 400
    assert {"name", "purpose", "business_line", "family", "exposure_usd", "materiality_purpose"} <= set(details)


def test_roles_for_the_inventory(api, developer, validator, auditor, make_user):
    assert api(validator).post("/api/v1/models/", NEW_MODEL, format="json").status_code == 403
    assert api(auditor).post("/api/v1/models/", NEW_MODEL, format="json").status_code == 403
    nobody = make_user("nobody")
    assert api(nobody).get("/api/v1/models/").status_code == 403
    assert api().get("/api/v1/models/").status_code == 401
    assert api(auditor).get("/api/v1/models/CRU-9999/").status_code == 404


def test_patch_and_tier_override(api, developer, validator):
    api(developer).post("/api/v1/models/", NEW_MODEL, format="json")
    response = api(developer).patch("/api/v1/models/CRU-0001/", {"exposure_usd": "2000000000"}, format="json")
    assert response.status_code == 200 and response.json()["computed_tier"] == 1
    assert api(validator).patch("/api/v1/models/CRU-0001/", {"name": "x"}, format="json").status_code == 403
    no_reason = api(validator).post("/api/v1/models/CRU-0001/tier-override/", {"tier": 3}, format="json")
    assert no_reason.status_code == 400 and "reason" in error_of(no_reason)["details"]
    ok = api(validator).post("/api/v1/models/CRU-0001/tier-override/", {"tier": 3, "reason": "run-off book"},
                             format="json")
    assert ok.status_code == 200 and ok.json()["tier"] == 3
    assert AuditEvent.objects.filter(action="model.tier_overridden", reason="run-off book").exists()


def test_versions_api_and_object_level_visibility(api, developer, validator, auditor, make_user):
    api(developer).post("/api/v1/models/", NEW_MODEL, format="json")
    created = api(developer).post("/api/v1/models/CRU-0001/versions/", {
        "version": "0.1.0", "engine": "copula", "checkpoint_sha256": "a" * 64, "config": {"copula": "t"},
        "train_end": "2014-12-31", "holdout_start": "2015-01-01",
    }, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    other_dev = make_user("dev2", "developer")
    # A draft is visible to its developers and to auditors, not to other developers or validators.
    assert api(developer).get(f"/api/v1/versions/{pk}/").status_code == 200
    assert api(auditor).get(f"/api/v1/versions/{pk}/").status_code == 200
    assert api(other_dev).get(f"/api/v1/versions/{pk}/").status_code == 404
    assert api(validator).get(f"/api/v1/versions/{pk}/").status_code == 404
    assert api(validator).get("/api/v1/versions/").json()["count"] == 0
    # Only its developers edit it; bad fields are named.
    assert api(developer).patch(f"/api/v1/versions/{pk}/", {"notes": "ok"}, format="json").status_code == 200
    bad = api(developer).patch(f"/api/v1/versions/{pk}/", {"checkpoint_sha256": "xyz"}, format="json")
    assert bad.status_code == 400 and "checkpoint_sha256" in error_of(bad)["details"]
    overlap = api(developer).patch(f"/api/v1/versions/{pk}/", {"holdout_start": "2014-06-01"}, format="json")
    assert overlap.status_code == 400 and "holdout_start" in error_of(overlap)["details"]
    duplicate = api(developer).post("/api/v1/models/CRU-0001/versions/", {"version": "0.1.0"}, format="json")
    assert duplicate.status_code == 409
    assert api(auditor).patch(f"/api/v1/versions/{pk}/", {"notes": "x"}, format="json").status_code == 403
    assert api(auditor).get("/api/v1/versions/999999/").status_code == 404


def test_everything_is_in_the_openapi_schema(api, auditor):
    paths = api(auditor).get("/api/v1/schema/", {"format": "json"}).json()["paths"]
    for expected in ("/api/v1/models/", "/api/v1/models/{model_id}/", "/api/v1/models/{model_id}/versions/",
                     "/api/v1/versions/{id}/transitions/", "/api/v1/versions/{id}/signatures/",
                     "/api/v1/findings/", "/api/v1/evidence/", "/api/v1/workflow/"):
        assert expected in paths, expected
