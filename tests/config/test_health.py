from __future__ import annotations

import pytest
from django.db import connection
from django.test import override_settings

from governance.services.heartbeat import heartbeat_record


@pytest.mark.django_db
def test_healthz_reports_database_and_eager_broker(client):
    heartbeat_record(queue="gpu", hostname="gpu-box")
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == "eager"
    assert body["status"] == "ok"
    assert body["workers"]["gpu"]["hostname"] == "gpu-box"


@pytest.mark.django_db
def test_healthz_reaches_a_real_redis_broker(client, redis_url):
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=redis_url):
        body = client.get("/healthz").json()
    assert body["broker"] == "ok"


@pytest.mark.django_db
def test_healthz_degraded_when_the_broker_is_down(client):
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == "error"
    assert response.json()["status"] == "degraded"


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_when_the_database_is_unreachable(client):
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        connection.settings_dict.update(HOST="127.0.0.1", PORT=1)
    else:
        connection.settings_dict.update(NAME="/nonexistent-dir/db.sqlite3")
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert response.json()["database"] == "error"
    assert response.json()["status"] == "unavailable"
