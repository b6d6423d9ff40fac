"""Security headers (issue 16 §9): a Content-Security-Policy on every page, HTTPS-only settings when
served over HTTPS, ``manage.py check --deploy`` clean in that mode, and the OpenAPI schema for
signed-in users only."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part}


def test_every_page_carries_a_content_security_policy_without_inline_script_or_style(client, developer):
    client.force_login(developer)
    for url in ("/accounts/login/", "/", "/inventory/", "/runs/", "/admin/login/"):
        policy = _policy(client.get(url))
        assert policy["script-src"] == ["'self'"], url
        assert policy["style-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], url
        assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'self'"], url
    # JSON answers carry it too (the header is set for every response).
    assert "Content-Security-Policy" in APIClient().get("/api/v1/me/")


def test_no_template_has_an_inline_script_style_or_event_handler():
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    forbidden = [inline_script, re.compile(r"<style\b", re.I), re.compile(r"\sstyle\s*=", re.I),
                 re.compile(r"\son[a-z]+\s*=", re.I), re.compile(r"javascript:", re.I)]
    pages = [p for p in (ROOT / "templates").rglob("*.html") if "pdf" not in p.parts]  # PDFs never reach a browser
    assert pages
    offending = [f"{page.relative_to(ROOT)}: {pattern.pattern}" for page in pages
                 for pattern in forbidden if pattern.search(page.read_text())]
    assert offending == []


def test_the_api_docs_pages_allow_inline_styles_only_and_serve_their_script_as_a_file(client, developer):
    client.force_login(developer)
    docs = client.get("/api/v1/docs/")
    policy = _policy(docs)
    assert policy["script-src"] == ["'self'"] and "'unsafe-inline'" in policy["style-src"]
    html = docs.content.decode()
    inline = [m for m in re.findall(r"<script[^>]*>", html) if "src=" not in m]
    assert inline == []
    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', html).group(1).replace("&amp;", "&")
    script = client.get(script_url)
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
    assert "'unsafe-inline'" in _policy(client.get("/api/v1/redoc/"))["style-src"]


def test_the_openapi_schema_and_docs_are_for_signed_in_users_only(developer):
    anonymous = APIClient()
    for url in ("/api/v1/schema/", "/api/v1/docs/", "/api/v1/redoc/"):
        assert anonymous.get(url).status_code == 401, url
    signed_in = APIClient()
    signed_in.force_authenticate(developer)
    assert signed_in.get("/api/v1/schema/", {"format": "json"}).json()["openapi"].startswith("3.")


def _run(args: list[str], env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    # The child runs on the embedded default in its own var dir: never on the suite's (unmigrated) databases.
    clean = {k: v for k, v in os.environ.items()
             if k not in ("CRUCIBLE_HTTPS", "SECURE_COOKIES", "CRUCIBLE_BEHIND_PROXY", "DJANGO_DEBUG", "SECRET_KEY",
                          "DATABASE_URL")}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT,
                          env=clean | {"DJANGO_SETTINGS_MODULE": "config.settings", "CRUCIBLE_VAR_DIR": str(tmp_path)}
                          | env)


def test_the_deploy_check_is_clean_when_served_over_https(tmp_path):
    env = {"CRUCIBLE_HTTPS": "1", "SECRET_KEY": "k7#Qv9!pZr2@Lm5$Wx8^Tn3&Hb6*Jc4(Dy1)Gf0_Sa-Ue+Io=Pq~Rv" * 2}
    done = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_the_deploy_check_names_what_is_missing_over_plain_http(tmp_path):
    # The same check fails without CRUCIBLE_HTTPS: the test above could not pass by checking nothing.
    done = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], {"SECRET_KEY": "x" * 60}, tmp_path)
    assert done.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in done.stderr + done.stdout


def test_https_mode_redirects_sets_hsts_and_secure_cookies(tmp_path):
    code = """
import django; django.setup()
from django.conf import settings as s
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
plain = Client().get('/accounts/login/')
secure = Client().get('/accounts/login/', secure=True)
health = Client(raise_request_exception=False).get('/healthz')  # not redirected (the probe speaks HTTP)
print(plain.status_code, plain['Location'])
print(secure['Strict-Transport-Security'])
print('upgrade-insecure-requests' in secure['Content-Security-Policy'])
print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, health.status_code != 301)
"""
    done = _run(["-c", code], {"CRUCIBLE_HTTPS": "1", "SECRET_KEY": "s" * 60, "ALLOWED_HOSTS": "testserver"},
                tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "301 https://testserver/accounts/login/"
    assert lines[1] == "max-age=31536000; includeSubDomains; preload"
    assert lines[2:] == ["True", "True True True"]
