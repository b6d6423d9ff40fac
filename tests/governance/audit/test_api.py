"""The audit API: who reads what, filters, verification, checkpoints, the public key."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance import signing
from governance.models import AuditCheckpoint, AuditEvent
from governance.services.audit import audit_record

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/audit/events/"
VERIFY = "/api/v1/audit/verify/"
CHECKPOINTS = "/api/v1/audit/checkpoints/"
PUBLIC_KEY = "/api/v1/audit/public-key/"


@pytest.fixture
def trail(developer, validator, auditor):
    """Seven events: four by the developer, two by the validator, one by the auditor."""
    rows = [
        (developer, "model.created", "model", "M-1"),
        (developer, "version.created", "model_version", "1"),
        (validator, "finding.raised", "finding", "10"),
        (developer, "version.updated", "model_version", "1"),
        (validator, "finding.closed", "finding", "10"),
        (auditor, "model.updated", "model", "M-1"),
        (developer, "version.created", "model_version", "2"),
    ]
    return [audit_record(actor=a, action=act, object_type=t, object_id=o, after={"i": i})
            for i, (a, act, t, o) in enumerate(rows)]


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def seqs(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["seq"] for row in response.json()["results"]]


@pytest.mark.parametrize("role_user", ["auditor", "validator", "approver", "admin"])
def test_reviewers_read_every_event(request, trail, api, role_user):
    user = request.getfixturevalue(role_user)
    response = api(user).get(EVENTS)
    assert seqs(response) == [1, 2, 3, 4, 5, 6, 7]
    body = response.json()
    assert body["count"] == 7 and set(body) == {"count", "next", "previous", "results"}
    first = body["results"][0]
    assert first == {
        "seq": 1, "timestamp": first["timestamp"], "actor_id": trail[0].actor_id, "actor_username": "dev",
        "action": "model.created", "object_type": "model", "object_id": "M-1", "before": None, "after": {"i": 0},
        "reason": "", "prev_hash": "0" * 64, "hash": trail[0].hash,
    }


def test_a_developer_reads_only_their_own_events(trail, api, developer):
    assert seqs(api(developer).get(EVENTS)) == [1, 2, 4, 7]
    assert api(developer).get(f"{EVENTS}4/").json()["action"] == "version.updated"
    assert_error(api(developer).get(f"{EVENTS}3/"), 404, "not_found")  # the validator's: not leaked


def test_a_user_with_no_role_is_refused(trail, api, nobody):
    assert_error(api(nobody).get(EVENTS), 403, "missing_role")
    assert_error(api(nobody).get(f"{EVENTS}1/"), 403, "missing_role")
    assert_error(api(nobody).get(VERIFY), 403, "missing_role")
    assert_error(api(nobody).get(CHECKPOINTS), 403, "missing_role")


def test_anonymous_is_401(trail, api):
    for url in (EVENTS, f"{EVENTS}1/", VERIFY, CHECKPOINTS, PUBLIC_KEY):
        assert_error(api().get(url), 401, "not_authenticated")
    assert_error(api().post(CHECKPOINTS, {"reason": "x"}, format="json"), 401, "not_authenticated")


def test_one_event_and_absent_ones(trail, api, auditor):
    response = api(auditor).get(f"{EVENTS}3/")
    assert response.status_code == 200 and response.json()["hash"] == trail[2].hash
    assert_error(api(auditor).get(f"{EVENTS}99/"), 404, "not_found")
    assert_error(api(auditor).get(f"{EVENTS}abc/"), 404, "not_found")


def test_pagination(trail, api, auditor):
    body = api(auditor).get(EVENTS, {"limit": 2, "offset": 2}).json()
    assert [r["seq"] for r in body["results"]] == [3, 4] and body["count"] == 7 and body["next"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"object_type": "finding"}, [3, 5]),
        ({"object_type": "model_version", "object_id": "1"}, [2, 4]),
        ({"actor_username": "val"}, [3, 5]),
        ({"action": "version.created"}, [2, 7]),
        ({"action_prefix": "finding."}, [3, 5]),
        ({"seq_min": 3, "seq_max": 5}, [3, 4, 5]),
        ({"seq_min": 6}, [6, 7]),
        ({"object_type": "nothing"}, []),
    ],
)
def test_filters(trail, api, auditor, params, expected):
    assert seqs(api(auditor).get(EVENTS, params)) == expected


def test_filter_by_actor_id(trail, api, auditor, validator, developer):
    assert seqs(api(auditor).get(EVENTS, {"actor": validator.id})) == [3, 5]
    # A developer's scope still applies under any filter.
    assert seqs(api(developer).get(EVENTS, {"actor": validator.id})) == []


def test_filter_by_time_range(trail, api, auditor):
    stamps = {e.seq: e.timestamp for e in AuditEvent.objects.all()}
    after = stamps[3].isoformat()
    before = stamps[5].isoformat()
    assert seqs(api(auditor).get(EVENTS, {"timestamp_after": after, "timestamp_before": before})) == [3, 4, 5]
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    assert seqs(api(auditor).get(EVENTS, {"timestamp_after": future})) == []


@pytest.mark.parametrize("params", [{"actor": "abc"}, {"seq_min": "x"}, {"timestamp_after": "yesterday"}])
def test_bad_filter_values_are_400(trail, api, auditor, params):
    error = assert_error(api(auditor).get(EVENTS, params), 400, "invalid")
    assert error["details"]


def test_verify_endpoint(trail, api, auditor, admin, developer, raw_sql):
    body = api(developer).get(VERIFY).json()
    assert body["ok"] is True and body["n_events"] == 7 and body["first_broken_seq"] is None
    assert body["head_seq"] == 7 and body["head_hash"] == trail[-1].hash and body["last_checkpoint"] is None

    api(admin).post(CHECKPOINTS, {"reason": "before tampering"}, format="json")
    raw_sql("UPDATE governance_auditevent SET reason = 'rewritten' WHERE seq = 5")
    response = api(auditor).get(VERIFY)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False and body["first_broken_seq"] == 5 and body["n_events"] == 4
    assert "seq 5" in body["reason"] and body["problems"][0]["seq"] == 5
    assert body["last_checkpoint"]["seq"] == 7 and body["last_checkpoint"]["signature_valid"] is True


@pytest.mark.parametrize("role_user", ["admin"])
def test_admins_sign_a_checkpoint_on_request(request, trail, api, role_user):
    user = request.getfixturevalue(role_user)
    response = api(user).post(CHECKPOINTS, {"reason": "quarterly attestation"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["seq"] == 7 and body["head_hash"] == trail[-1].hash and body["reason"] == "quarterly attestation"
    public = api(user).get(PUBLIC_KEY).json()
    assert body["public_key"] == public["public_key"] and body["fingerprint"] == public["fingerprint"]
    assert signing.verify_signature(body["public_key"], body["signed_message"].encode(), body["signature"])
    created = AuditEvent.objects.get(seq=8)
    assert created.action == "audit.checkpoint_created" and created.actor_id == user.id

    listed = api(user).get(CHECKPOINTS).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]


@pytest.mark.parametrize("role_user", ["developer", "validator", "approver", "auditor", "nobody"])
def test_other_roles_may_not_sign(request, trail, api, role_user):
    user = request.getfixturevalue(role_user)
    assert_error(api(user).post(CHECKPOINTS, {"reason": "x"}, format="json"), 403, "missing_role")
    assert not AuditCheckpoint.objects.exists()


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "x" * 201}, {"reason": None}])
def test_a_checkpoint_needs_a_reason(trail, api, admin, body):
    error = assert_error(api(admin).post(CHECKPOINTS, body, format="json"), 400, "invalid")
    assert "reason" in error["details"]
    assert not AuditCheckpoint.objects.exists()


def test_checkpoints_are_listed_newest_first(trail, api, admin, developer):
    for reason in ("one", "two"):
        api(admin).post(CHECKPOINTS, {"reason": reason}, format="json")
    assert [c["reason"] for c in api(developer).get(CHECKPOINTS).json()["results"]] == ["two", "one"]


def test_public_key_for_any_authenticated_user(api, nobody, platform_key):
    body = api(nobody).get(PUBLIC_KEY).json()
    assert body == {"algorithm": "Ed25519", "public_key": platform_key,
                    "fingerprint": signing.key_fingerprint(platform_key)}


def test_a_misconfigured_key_is_503_not_500(api, auditor, admin, monkeypatch):
    monkeypatch.setenv(signing.KEY_ENV, "garbage")
    assert_error(api(auditor).get(PUBLIC_KEY), 503, "signing_unavailable")
    assert_error(api(admin).post(CHECKPOINTS, {"reason": "x"}, format="json"), 503, "signing_unavailable")


def test_the_endpoints_are_in_the_openapi_schema(api, developer):
    schema = api(developer).get("/api/v1/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in (EVENTS, "/api/v1/audit/events/{seq}/", VERIFY, CHECKPOINTS, PUBLIC_KEY):
        assert path in paths, path
    params = {p["name"] for p in paths[EVENTS]["get"]["parameters"]}
    assert {"object_type", "object_id", "actor", "actor_username", "action", "timestamp_after", "timestamp_before",
            "seq_min", "seq_max", "limit", "offset"} <= params
    assert "201" in paths[CHECKPOINTS]["post"]["responses"]
