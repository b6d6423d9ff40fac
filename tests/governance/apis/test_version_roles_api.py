"""POST /api/v1/versions/<pk>/role/: the role service over the API, and the role in the version's output."""

import pytest

from governance.models import AuditEvent

pytestmark = pytest.mark.django_db


def post(client, pk, data):
    return client.post(f"/api/v1/versions/{pk}/role/", data, format="json")


def test_an_approver_sets_champion_and_the_version_output_shows_the_role(api, make_version, drive, approver,
                                                                         auditor):
    old = drive(make_version("1.0.0"), "in_use")
    new = drive(make_version("2.0.0"), "approved")
    assert post(api(approver), old.pk, {"role": "champion", "reason": "in use"}).json()["role"] == "champion"
    response = post(api(approver), new.pk, {"role": "champion", "reason": "better tails"})
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "champion" and response.json()["id"] == new.pk
    assert api(auditor).get(f"/api/v1/versions/{old.pk}/").json()["role"] == "challenger"
    listed = {v["version"]: v["role"] for v in api(auditor).get("/api/v1/versions/").json()["results"]}
    assert listed == {"1.0.0": "challenger", "2.0.0": "champion"}
    assert AuditEvent.objects.filter(action="model_version.role_changed").count() == 3


def test_errors_are_403_409_400_and_404_in_the_api_error_shape(api, make_version, drive, approver, developer,
                                                              validator, make_user):
    approved = drive(make_version("1.0.0"), "approved")
    validated = drive(make_version("1.1.0"), "validated")
    forbidden = post(api(validator), approved.pk, {"role": "champion", "reason": "x"})
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "missing_role"
    too_early = post(api(approver), validated.pk, {"role": "champion", "reason": "x"})
    assert too_early.status_code == 409 and "validated" in too_early.json()["error"]["message"]
    unknown = post(api(approver), approved.pk, {"role": "emperor", "reason": "x"})
    assert unknown.status_code == 400 and "benchmark" in unknown.json()["error"]["message"]
    no_reason = post(api(approver), approved.pk, {"role": "champion"})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["error"]["message"]
    assert post(api(approver), 999_999, {"role": "champion", "reason": "x"}).status_code == 404
    # A developer of another model does not see this model's draft: 404, so its existence does not leak.
    draft = make_version("3.0.0")
    outsider = make_user("outsider", "developer")
    assert post(api(outsider), draft.pk, {"role": "champion", "reason": "x"}).status_code == 404
    assert not AuditEvent.objects.filter(action="model_version.role_changed").exists()
