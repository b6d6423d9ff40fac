"""Signing in and out: CSRF on every form, lock-out after repeated failures (audited), session settings."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from governance.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_in(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_sign_in_and_out(validator):
    client = Client()
    assert client.get("/inventory/")["Location"] == "/accounts/login/?next=/inventory/"
    response = client.post("/accounts/login/", {"username": "val", "password": PASSWORD, "next": "/inventory/"})
    assert response.status_code == 302 and response["Location"] == "/inventory/"
    assert client.get("/inventory/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.login", actor_id=validator.pk).count() == 1
    # Sign-out is a POST (a link cannot sign anybody out); afterwards pages ask to sign in again.
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/inventory/").status_code == 302


def test_csrf_is_enforced_on_every_form(under_validation, validator, developer):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/accounts/login/", {"username": "val", "password": PASSWORD}).status_code == 403
    client.force_login(validator)
    version = under_validation.version
    for url, data in [
        (f"/versions/{version.pk}/decision/", {"action": "validate", "password": PASSWORD, "reason": "x"}),
        (f"/versions/{version.pk}/findings/new/", {"title": "t", "description": "d", "severity": "low",
                                                   "owner": developer.pk, "due_date": "2027-01-01"}),
        ("/accounts/logout/", {}),
    ]:
        assert client.post(url, data).status_code == 403, url
    version.refresh_from_db()
    assert version.status == "in_validation"
    # With the token from the page's form the same post goes through.
    page = client.get(f"/versions/{version.pk}/decision/")
    token = page.content.decode().split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = client.post(f"/versions/{version.pk}/decision/",
                           {"action": "validate", "password": PASSWORD, "reason": "ok", "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_lock_out_after_repeated_failures(validator, settings):
    settings.CRUCIBLE_LOGIN_MAX_FAILURES = 3
    client = Client()
    for _ in range(3):
        response = _sign_in(client, "val", "wrong password")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    # Locked: even the right password is refused, with a clear message, for this user from this address.
    response = _sign_in(client, "val", PASSWORD)
    assert response.status_code == 200
    assert "Too many failed sign-ins for this user from your address" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address is not locked out (a pair, not the account, is throttled).
    assert _sign_in(Client(), "val", PASSWORD, address="10.0.0.2").status_code == 302

    actions = list(AuditEvent.objects.filter(object_type="user").values_list("action", "object_id"))
    assert actions.count(("auth.login_failed", "val")) == 3
    assert actions.count(("auth.locked_out", "val")) == 1
    assert actions.count(("auth.login_refused", "val")) == 1
    refused = AuditEvent.objects.get(action="auth.login_refused")
    assert refused.actor_id is None and refused.after["address"] == "10.0.0.1"


def test_lock_out_ends_after_the_window(validator, settings):
    from django.core.cache import cache

    settings.CRUCIBLE_LOGIN_MAX_FAILURES = 2
    client = Client()
    for _ in range(2):
        _sign_in(client, "val", "wrong")
    assert "Too many failed" in _sign_in(client, "val", PASSWORD).content.decode()
    cache.clear()  # the counter's time-out: what the window's end does
    assert _sign_in(client, "val", PASSWORD).status_code == 302


def test_unknown_usernames_are_throttled_too(db):
    client = Client()
    for _ in range(settings.CRUCIBLE_LOGIN_MAX_FAILURES):
        _sign_in(client, "ghost", "guess")
    assert "Too many failed" in _sign_in(client, "ghost", "guess").content.decode()


def test_session_cookie_and_idle_timeout(validator):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax" and settings.CSRF_COOKIE_SAMESITE == "Lax"
    client = Client()
    response = _sign_in(client, "val", PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # served over plain HTTP in tests; see the HTTPS test below
    session = Session.objects.get(session_key=cookie.value)
    remaining = (session.expire_date - timezone.now()).total_seconds()
    assert 30 * 60 - 60 < remaining <= 30 * 60
    # Idle for longer than the timeout: the session is gone and the pages ask to sign in again.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    assert client.get("/inventory/").status_code == 302


def test_activity_moves_the_idle_timeout_on(validator):
    client = Client()
    cookie = _sign_in(client, "val", PASSWORD).cookies[settings.SESSION_COOKIE_NAME]
    Session.objects.filter(pk=cookie.value).update(expire_date=timezone.now() + dt.timedelta(seconds=30))
    assert client.get("/inventory/").status_code == 200
    remaining = (Session.objects.get(pk=cookie.value).expire_date - timezone.now()).total_seconds()
    assert remaining > 30 * 60 - 60


@pytest.mark.parametrize(("env", "secure", "proxy"), [
    ({}, False, None),
    ({"CRUCIBLE_HTTPS": "1"}, True, None),
    ({"CRUCIBLE_HTTPS": "1", "CRUCIBLE_BEHIND_PROXY": "1"}, True, ("HTTP_X_FORWARDED_PROTO", "https")),
])
def test_cookie_security_follows_the_environment(env, secure, proxy, tmp_path):
    # A fresh interpreter reads the settings module with this environment.
    code = ("import django, os; django.setup(); from django.conf import settings as s; "
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, getattr(s, 'SECURE_PROXY_SSL_HEADER', None))")
    clean = {k: v for k, v in os.environ.items() if k not in ("CRUCIBLE_HTTPS", "SECURE_COOKIES",
                                                              "CRUCIBLE_BEHIND_PROXY")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=clean | env | {"DJANGO_SETTINGS_MODULE": "config.settings",
                                             "CRUCIBLE_VAR_DIR": str(tmp_path)})
    assert done.stdout.strip() == f"{secure} {secure} {proxy}"
