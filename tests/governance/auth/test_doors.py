"""Every door that checks a password refuses the (N+1)-th attempt, even with the right password (issue 16 §3).

Doors: the portal sign-in, the admin sign-in, the browsable API's sign-in, the token endpoint and the
e-signature password re-entry. One policy (governance.services.login_guard), one set of counters.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from governance.errors import Forbidden
from governance.models import AuditEvent, Signature
from governance.services.workflow import version_transition
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ADDRESS = "10.1.1.1"


def _token(username: str, password: str, address: str = ADDRESS):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json",
                            REMOTE_ADDR=address)


def _form_sign_in(url: str, username: str, password: str, address: str = ADDRESS, client: Client | None = None):
    client = client or Client()
    response = client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)
    return client, response


def _rows(action: str, **filters) -> int:
    return AuditEvent.objects.filter(action=action, **filters).count()


# --- the token endpoint ---------------------------------------------------------------------------

def test_the_token_endpoint_refuses_the_right_password_after_n_failures(developer, settings):
    settings.CRUCIBLE_LOGIN_MAX_FAILURES = 5
    for _ in range(5):
        wrong = _token("dev", "not the password")
        assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid"
    locked = _token("dev", PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "locked_out"
    assert "Too many failed sign-ins" in locked.json()["error"]["message"]
    assert 0 < int(locked["Retry-After"]) <= settings.CRUCIBLE_LOGIN_LOCKOUT_SECONDS + 1
    assert not Token.objects.filter(user=developer).exists()
    # Every failure, the lock-out and the refusal are in the audit trail, attributed to the door.
    assert _rows("auth.login_failed", object_id="dev", after__door="token") == 5
    assert _rows("auth.locked_out", object_id="dev") == 1
    assert _rows("auth.login_refused", object_id="dev") == 1
    # Another address is not locked out: the pair is, not the account.
    fine = _token("dev", PASSWORD, address="10.1.1.2")
    assert fine.status_code == 200 and fine.json()["token"] == Token.objects.get(user=developer).key
    assert _rows("auth.login", actor_id=developer.pk, after__door="token") == 1


def test_the_token_endpoint_is_refused_to_a_user_locked_out_of_the_portal(developer, settings):
    settings.CRUCIBLE_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        _form_sign_in("/accounts/login/", "dev", "wrong")
    assert _token("dev", PASSWORD).status_code == 429
    assert not Token.objects.exists()


def test_the_lock_ends_when_the_window_has_passed(developer, settings):
    settings.CRUCIBLE_LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        _token("dev", "wrong")
    assert _token("dev", PASSWORD).status_code == 429
    cache.clear()  # what the counters' time-out does at the end of the window
    assert _token("dev", PASSWORD).status_code == 200


def test_a_token_request_with_missing_fields_is_a_400_naming_them(db):
    response = APIClient().post("/api/v1/auth/token/", {"username": "dev"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()["error"]["details"]


# --- the admin and the browsable API sign-in ----------------------------------------------------------

@pytest.mark.parametrize("url", ["/admin/login/", "/api-auth/login/"])
def test_the_admin_and_api_sign_in_refuse_the_right_password_after_n_failures(url, staff_user, settings):
    settings.CRUCIBLE_LOGIN_MAX_FAILURES = 4
    door = "admin" if url.startswith("/admin/") else "api-auth"
    client = Client()
    for _ in range(4):
        _, response = _form_sign_in(url, "ops", "wrong", client=client)
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    _, response = _form_sign_in(url, "ops", PASSWORD, client=client)
    assert response.status_code == 200
    assert "Too many failed sign-ins for this user from your address" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert _rows("auth.login_failed", object_id="ops", after__door=door) == 4
    assert _rows("auth.locked_out", object_id="ops", after__door=door) == 1
    assert _rows("auth.login_refused", object_id="ops", after__door=door) == 1
    # From another address the same staff user signs in, and the sign-in is audited.
    other, response = _form_sign_in(url, "ops", PASSWORD, address="10.1.1.9")
    assert response.status_code == 302 and other.session["_auth_user_id"] == str(staff_user.pk)
    assert _rows("auth.login", actor_id=staff_user.pk, after__door=door) == 1


def test_a_right_password_on_a_non_staff_account_at_the_admin_is_not_counted_as_a_guess(developer, settings):
    settings.CRUCIBLE_LOGIN_MAX_FAILURES = 2
    for _ in range(3):
        _, response = _form_sign_in("/admin/login/", "dev", PASSWORD)
        assert "staff account" in response.content.decode()
    assert _rows("auth.login_failed") == 0
    assert _token("dev", PASSWORD).status_code == 200


# --- the address limit ------------------------------------------------------------------------------

def test_an_address_spraying_usernames_is_locked_out_of_every_door(developer, staff_user, settings):
    settings.CRUCIBLE_LOGIN_MAX_FAILURES = 5
    settings.CRUCIBLE_LOGIN_MAX_FAILURES_PER_ADDRESS = 6
    for n in range(6):  # one failure per username: the pair limit is never reached
        _token(f"user{n}", "guess")
    assert _token("dev", PASSWORD).status_code == 429
    _, response = _form_sign_in("/admin/login/", "ops", PASSWORD)
    assert "Too many failed sign-ins from your address" in response.content.decode()
    # The same user from another address is let in.
    assert _token("dev", PASSWORD, address="10.1.1.2").status_code == 200


def test_forwarded_addresses_count_only_from_trusted_proxies(developer, settings):
    settings.CRUCIBLE_LOGIN_MAX_FAILURES = 2

    def via_proxy(password, forwarded):
        return APIClient().post("/api/v1/auth/token/", {"username": "dev", "password": password}, format="json",
                                REMOTE_ADDR="172.16.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    settings.CRUCIBLE_TRUSTED_PROXIES = 1
    for spoofed in ("1.1.1.1, 203.0.113.7", "2.2.2.2, 203.0.113.7"):
        via_proxy("wrong", spoofed)  # the client's own left-hand entries change; the proxy's does not
    assert via_proxy(PASSWORD, "9.9.9.9, 203.0.113.7").status_code == 429
    assert via_proxy(PASSWORD, "203.0.113.8").status_code == 200
    assert AuditEvent.objects.filter(action="auth.login_failed").first().after["address"] == "203.0.113.7"
    # With no trusted proxy the header is ignored: the address is the peer's.
    settings.CRUCIBLE_TRUSTED_PROXIES = 0
    cache.clear()
    for forwarded in ("1.1.1.1", "2.2.2.2"):
        via_proxy("wrong", forwarded)
    assert via_proxy(PASSWORD, "3.3.3.3").status_code == 429


# --- audit rows are bounded -------------------------------------------------------------------------

def test_failures_for_unknown_usernames_are_aggregated_per_address(db, settings):
    settings.CRUCIBLE_LOGIN_MAX_FAILURES = 5
    settings.CRUCIBLE_LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    before = AuditEvent.objects.count()
    for n in range(60):
        if n % 2:
            _token(f"nobody{n}", "hunter2")
        else:
            _form_sign_in("/accounts/login/", f"nobody{n}", "hunter2")
    rows = list(AuditEvent.objects.order_by("seq")[before:])
    # One row when the first failure of the window arrives, one when the address is locked (with the
    # count), one for the first refusal: 60 attempts, 3 rows.
    assert [row.action for row in rows] == [
        "auth.login_failed_unknown_user", "auth.address_locked", "auth.login_refused"]
    assert all(row.object_type == "address" and row.object_id == ADDRESS and row.actor_id is None for row in rows)
    assert rows[1].after["failures"] == 20 and rows[1].after["unknown_user_failures"] == 20
    # The typed usernames (where people type passwords by mistake) are never stored.
    assert not any("nobody" in str(row.after) or "nobody" in row.object_id for row in rows)


def test_the_next_window_carries_the_previous_windows_count(db, settings):
    from governance.services import login_guard

    settings.CRUCIBLE_LOGIN_MAX_FAILURES_PER_ADDRESS = 50
    for n in range(7):
        _token(f"nobody{n}", "x")
    # The window ends (its counters time out); the long-lived tally of the last window stays.
    for key in (login_guard._key("unknown", ADDRESS), login_guard._address_key(ADDRESS)):
        cache.delete_many([key, key + ":since"])
    _token("nobody-again", "x")
    rows = AuditEvent.objects.filter(action="auth.login_failed_unknown_user").order_by("seq")
    assert [row.after["previous_window_failures"] for row in rows] == [None, 7]


def test_a_locked_out_pair_writes_one_refusal_row_per_window(developer, settings):
    settings.CRUCIBLE_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        _token("dev", "wrong")
    for _ in range(40):
        assert _token("dev", PASSWORD).status_code == 429
    assert _rows("auth.login_refused") == 1
    assert AuditEvent.objects.filter(action__startswith="auth.").count() == 3 + 1 + 1


# --- e-signatures -----------------------------------------------------------------------------------

def test_a_signer_is_locked_out_after_n_wrong_passwords_even_with_the_right_one(version, developer, settings):
    settings.CRUCIBLE_LOGIN_MAX_FAILURES = 5
    for n in range(5):
        with pytest.raises(Forbidden) as wrong:
            version_transition(actor=developer, version=version, action="submit", password="wrong")
        assert wrong.value.code == "signature_refused" and wrong.value.details["failures"] == n + 1
    with pytest.raises(Forbidden) as locked:
        version_transition(actor=developer, version=version, action="submit", password=PASSWORD)
    assert locked.value.details["locked"] is True and "locked" in locked.value.message
    version.refresh_from_db()
    assert version.status == "draft" and not Signature.objects.exists()
    assert _rows("signature.refused", actor_id=developer.pk) == 6
    # When the window has passed the signer signs again.
    cache.clear()
    assert version_transition(actor=developer, version=version, action="submit", password=PASSWORD).status == \
        "submitted"


def test_a_right_signature_resets_the_signers_count(version, developer, settings):
    settings.CRUCIBLE_LOGIN_MAX_FAILURES = 2
    with pytest.raises(Forbidden):
        version_transition(actor=developer, version=version, action="submit", password="wrong")
    version_transition(actor=developer, version=version, action="submit", password=PASSWORD)
    version.refresh_from_db()
    assert version.status == "submitted"


def test_an_address_locked_at_the_sign_in_doors_cannot_sign_over_the_api(api, version, developer, settings):
    settings.CRUCIBLE_LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    for n in range(3):
        _token(f"someone{n}", "guess", address="10.9.9.9")
    url = f"/api/v1/versions/{version.pk}/transitions/"
    client = api(developer)
    refused = client.post(url, {"action": "submit", "password": PASSWORD}, format="json", REMOTE_ADDR="10.9.9.9")
    assert refused.status_code == 403 and refused.json()["error"]["details"]["locked"] is True
    signed = client.post(url, {"action": "submit", "password": PASSWORD}, format="json", REMOTE_ADDR="10.9.9.8")
    assert signed.status_code == 200 and signed.json()["status"] == "submitted"


def test_wrong_signatures_count_against_the_address_too(api, version, developer, settings):
    settings.CRUCIBLE_LOGIN_MAX_FAILURES = 10
    settings.CRUCIBLE_LOGIN_MAX_FAILURES_PER_ADDRESS = 2
    url = f"/api/v1/versions/{version.pk}/transitions/"
    for _ in range(2):
        api(developer).post(url, {"action": "submit", "password": "wrong"}, format="json", REMOTE_ADDR="10.7.7.7")
    assert _token("dev", PASSWORD, address="10.7.7.7").status_code == 429
