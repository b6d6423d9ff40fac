"""The production WSGI server: gunicorn in compose and ``make serve-prod`` (issue 16 §7: compose had no
production server wired to a configuration; the dev server answered the load test)."""

from __future__ import annotations

import http.client
import json
import os
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from django.db import connection

from governance import roles

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "docker" / "gunicorn.conf.py"


def _conf(**env) -> dict:
    saved = {k: os.environ.pop(k, None) for k in ("WEB_CONCURRENCY", "GUNICORN_BIND")}
    try:
        os.environ.update(env)
        return runpy.run_path(str(CONF))
    finally:
        for key in env:
            os.environ.pop(key, None)
        os.environ.update({k: v for k, v in saved.items() if v is not None})


def test_the_gunicorn_configuration_runs_4_sync_workers_unless_told_otherwise():
    conf = _conf()
    assert (conf["workers"], conf["worker_class"]) == (4, "sync")
    assert _conf(WEB_CONCURRENCY="7")["workers"] == 7
    assert conf["max_requests"] > 0 and conf["timeout"] > 0


def test_compose_serves_the_web_service_with_gunicorn_and_its_configuration():
    web = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())["services"]["web"]
    assert web["command"] == ["web"]
    assert web["environment"]["WEB_CONCURRENCY"] == "4"
    assert "@db:5432/" in web["environment"]["DATABASE_URL"]
    entry = (ROOT / "docker" / "entrypoint.sh").read_text()
    assert "exec gunicorn config.wsgi:application --config docker/gunicorn.conf.py" in entry
    assert "gunicorn==" in (ROOT / "requirements.txt").read_text()


def test_make_serve_prod_runs_gunicorn_with_4_workers_on_localhost_port_8000():
    dry_run = subprocess.run(["make", "-n", "serve-prod"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    assert "manage.py migrate" in dry_run
    assert "WEB_CONCURRENCY=4" in dry_run and "gunicorn config.wsgi:application" in dry_run
    assert "--config docker/gunicorn.conf.py" in dry_run and "--bind 127.0.0.1:8000" in dry_run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, token: str | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": f"Token {token}"} if token else {})
        response = conn.getresponse()
        raw = response.read() or b"{}"
        try:
            return response.status, json.loads(raw)
        except ValueError:  # an HTML error page: keep its text for the assertion message
            return response.status, {"not_json": raw.decode("utf-8", "replace")[:500]}
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_gunicorn_serves_the_api_and_answers_a_huge_limit_with_a_400(make_user, tmp_path):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=make_user("reader", roles.AUDITOR)).key
    db = connection.settings_dict
    url = (f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@{db['HOST'] or '127.0.0.1'}:"
           f"{db['PORT'] or 5432}/{db['NAME']}")
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "CRUCIBLE_VAR_DIR": str(tmp_path), "WEB_CONCURRENCY": "2"}
    env.pop("CELERY_BROKER_URL", None)
    log = tmp_path / "gunicorn.log"  # the server's own account of any failure, quoted when the test fails
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "config.wsgi:application", "--config",
                               str(CONF), "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=log.open("wb"), start_new_session=True)
    try:
        for _ in range(300):
            if server.poll() is not None:
                pytest.fail(log.read_text()[-3000:])
            try:
                status, health = _get(port, "/healthz")
            except OSError:
                time.sleep(0.1)
                continue
            assert status == 200, (status, health, log.read_text()[-3000:])
            break
        status, body = _get(port, "/api/v1/models/", token)
        assert status == 200 and body["results"] == []
        status, body = _get(port, "/api/v1/models/?limit=99999999999999999999", token)
        assert status == 400 and "limit" in body["error"]["details"]
        status, body = _get(port, "/api/v1/findings/?version=1e20", token)
        assert status == 400 and "version" in body["error"]["details"]
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
