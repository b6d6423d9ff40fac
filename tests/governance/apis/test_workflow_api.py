import pytest

from governance.models import AuditEvent, ModelVersion
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def post(client, url, data):
    return client.post(url, data, format="json")


def test_the_workflow_over_the_api_with_signatures(api, version, developer, validator, approver, auditor,
                                                   passing_evidence):
    url = f"/api/v1/versions/{version.pk}/transitions/"
    available = api(developer).get(url).json()
    assert available == [{"action": "submit", "source": "draft", "target": "submitted", "role": "developer",
                          "signature_meaning": "submitted for independent validation as developer",
                          "allowed": True, "why_not": None}]
    wrong = post(api(developer), url, {"action": "submit", "password": "nope"})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "signature_refused"
    assert post(api(developer), url, {"action": "submit", "password": PASSWORD}).json()["status"] == "submitted"
    # The developer cannot take part in validation: the option is shown as not allowed, with the reason.
    shown = api(developer).get(url).json()[0]
    assert shown["allowed"] is False and "needs the role validator" in shown["why_not"]
    assert post(api(validator), url, {"action": "start_validation"}).json()["status"] == "in_validation"
    illegal = post(api(approver), url, {"action": "approve", "password": PASSWORD})
    assert illegal.status_code == 409 and illegal.json()["error"]["code"] == "illegal_transition"
    passing_evidence(version)
    assert post(api(validator), url, {"action": "validate", "password": PASSWORD}).status_code == 200
    assert post(api(validator), url, {"action": "approve", "password": PASSWORD}).status_code == 403
    approved = post(api(approver), url, {"action": "approve", "password": PASSWORD})
    assert approved.status_code == 200 and approved.json()["approver"] == "app"
    signatures = api(auditor).get(f"/api/v1/versions/{version.pk}/signatures/").json()
    assert [s["meaning"] for s in signatures] == [
        "submitted for independent validation as developer", "validated as independent validator",
        "approved for use as approver"]
    assert all(s["bound"] for s in signatures)
    ModelVersion.objects.filter(pk=version.pk).update(config={"steps": 1000})
    broken = api(auditor).get(f"/api/v1/versions/{version.pk}/signatures/").json()
    assert not any(s["bound"] for s in broken) and broken[0]["changed_fields"] == ["config"]


def test_transition_input_errors(api, version, developer, auditor, validator):
    url = f"/api/v1/versions/{version.pk}/transitions/"
    unknown = post(api(developer), url, {"action": "teleport"})
    assert unknown.status_code == 400 and "action" in unknown.json()["error"]["details"]
    assert post(api(auditor), url, {"action": "submit", "password": PASSWORD}).status_code == 403  # no role
    assert post(api(validator), url, {"action": "submit", "password": PASSWORD}).status_code == 404  # draft hidden
    assert post(api(developer), "/api/v1/versions/424242/transitions/", {"action": "submit"}).status_code == 404


def test_findings_over_the_api(api, version, developer, validator, approver, drive):
    drive(version, "in_validation")
    url = f"/api/v1/versions/{version.pk}/findings/"
    body = {"title": "Light tails", "description": "Hill index 4.9 vs 3.1", "severity": "high",
            "owner": developer.pk, "due_date": "2027-03-31"}
    assert post(api(developer), url, body).status_code == 403
    bad = post(api(validator), url, body | {"severity": "catastrophic", "due_date": "someday"})
    assert bad.status_code == 400 and {"severity", "due_date"} <= set(bad.json()["error"]["details"])
    created = post(api(validator), url, body)
    assert created.status_code == 201
    fid = created.json()["id"]
    assert api(approver).get("/api/v1/findings/", {"severity": "high", "status": "open"}).json()["count"] == 1
    assert post(api(developer), f"/api/v1/findings/{fid}/remediate/", {"text": "GPD tails"}).status_code == 200
    assert post(api(developer), f"/api/v1/findings/{fid}/close/", {"text": "done"}).status_code == 403
    unsigned = post(api(validator), f"/api/v1/findings/{fid}/close/", {"text": "verified"})
    assert unsigned.status_code == 400 and "password" in unsigned.json()["error"]["details"]  # close is e-signed
    wrong = post(api(validator), f"/api/v1/findings/{fid}/close/", {"text": "verified", "password": "nope"})
    assert wrong.status_code == 403
    closed = post(api(validator), f"/api/v1/findings/{fid}/close/", {"text": "verified", "password": PASSWORD})
    assert closed.json()["status"] == "closed"
    again = post(api(validator), f"/api/v1/findings/{fid}/close/", {"text": "verified", "password": PASSWORD})
    assert again.status_code == 409
    assert post(api(validator), f"/api/v1/findings/{fid}/explode/", {"text": "x"}).status_code == 404
    actions = set(AuditEvent.objects.filter(object_type="finding").values_list("action", flat=True))
    assert actions == {"finding.raised", "finding.remediated", "finding.closed", "finding.signed",
                       "signature.refused"}


def test_evidence_and_workflow_tables_are_readable(api, version, auditor, passing_evidence):
    passing_evidence(version)
    evidence = api(auditor).get("/api/v1/evidence/", {"version": version.pk}).json()
    assert evidence["count"] == 1 and evidence["results"][0]["outcome"] == "PASS"
    table = api(auditor).get("/api/v1/workflow/").json()
    assert {"action": "approve", "source": "validated", "target": "approved", "role": "approver",
            "signature_meaning": "approved for use as approver"} in table
