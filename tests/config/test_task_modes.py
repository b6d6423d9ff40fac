"""Task modes (CRUCIBLE_TASKS): without a broker, a request only queues the work in a folder and a worker runs it."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid

import pytest
from celery import current_app
from django.test import override_settings
from django.utils import timezone

from governance.health import broker_status, tasks_inline, tasks_run_inline
from governance.models import RunStatus, WorkerHeartbeat
from governance.services.heartbeat import heartbeat_record
from scenarios.models import TrainingRun
from tests.workers import ROOT, running_local_worker, wait_until

TRAINING = {"version_label": "1.0.0", "engine": "factor_mc", "config": {"estimator": "ewma"},
            "train_end": "2014-12-31", "holdout_start": "2015-01-01", "seed": 5}


def test_settings_with_no_broker_and_no_mode_queue_tasks_in_a_folder_under_var(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("CELERY_BROKER_URL", "CRUCIBLE_TASKS", "CRUCIBLE_BROKER_DIR", "DATABASE_URL")}
    env.update(CRUCIBLE_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings")
    probe = ("import json, django; django.setup(); from django.conf import settings as s; "
             "from config.celery import app; print(json.dumps([s.CRUCIBLE_TASKS, s.CELERY_TASK_ALWAYS_EAGER, "
             "app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_transport_options]))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    mode, setting_eager, app_eager, url, options = json.loads(out.stdout.strip().splitlines()[-1])
    assert (mode, setting_eager, app_eager, url) == ("local", False, False, "filesystem://localhost/")
    assert options["data_folder_in"] == options["data_folder_out"] == str(tmp_path / "broker" / "in")
    assert (tmp_path / "broker" / "in").is_dir() and (tmp_path / "broker" / "processed").is_dir()


def test_an_unknown_mode_stops_the_settings_naming_it(tmp_path):
    env = {**os.environ, "CRUCIBLE_TASKS": "sometimes", "CRUCIBLE_VAR_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "ImproperlyConfigured" in out.stderr and "CRUCIBLE_TASKS='sometimes'" in out.stderr


def test_the_cli_pipelines_switch_to_in_process_only_in_the_local_mode():
    saved = current_app.conf.task_always_eager, current_app.conf.get("task_eager_propagates")
    try:
        current_app.conf.update(task_always_eager=False)
        with override_settings(CRUCIBLE_TASKS="broker"):
            assert tasks_run_inline() is False and tasks_inline() is False  # a broker: the workers run them
        with override_settings(CRUCIBLE_TASKS="local"):
            assert tasks_run_inline() is True
        assert tasks_inline() is True and current_app.conf.task_eager_propagates is True
    finally:
        current_app.conf.update(task_always_eager=saved[0], task_eager_propagates=saved[1])


@pytest.mark.django_db
def test_health_on_the_local_transport_says_when_no_worker_heartbeat_is_recent(through_local_folder, client):
    assert broker_status() == "no worker heartbeat"
    body = client.get("/healthz").json()
    assert body["broker"] == "no worker heartbeat" and body["status"] == "ok"  # the web server still serves
    beat = heartbeat_record(queue="cpu", hostname="here")
    assert broker_status() == "ok"
    WorkerHeartbeat.objects.filter(pk=beat.pk).update(seen_at=timezone.now() - dt.timedelta(minutes=10))
    assert broker_status() == "no worker heartbeat"
    heartbeat_record(queue="gpu", hostname="here")
    (through_local_folder / "in").rmdir()  # the queue folder is gone: nothing can be queued
    assert broker_status() == "error"
    assert client.get("/healthz").json()["status"] == "degraded"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_api_start_answers_at_once_and_a_local_worker_process_runs_it(
    through_local_folder, api, developer, scenario_model, real_dataset, client
):
    client_api = api(developer)
    assert client_api.get("/api/v1/training-runs/").status_code == 200  # warm the URL conf and the views
    with running_local_worker(through_local_folder, "gpu,cpu") as worker:
        started = time.monotonic()
        response = client_api.post("/api/v1/training-runs/", TRAINING | {
            "model": scenario_model.model_id, "dataset": real_dataset.pk}, format="json")
        elapsed = time.monotonic() - started
        assert response.status_code == 202, response.content
        assert response.json()["status"] in ("PENDING", "RUNNING")  # the task did not run in the request
        assert elapsed < 1.0, f"the request took {elapsed:.2f} s"
        run_id = response.json()["id"]
        run = wait_until(lambda: TrainingRun.objects.filter(
            pk=run_id, status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED]).first(), timeout=180)
        assert run.status == RunStatus.SUCCEEDED, run.error
        assert run.worker == worker["name"][:100] and run.model_version_id

        token = uuid.uuid4().hex
        current_app.send_task("governance.tasks.heartbeat", args=["cpu", token], queue="cpu")
        wait_until(lambda: WorkerHeartbeat.objects.filter(token=token).exists(), timeout=60)
        assert client.get("/healthz").json()["broker"] == "ok"
    # Every message was taken from the queue folder and kept in processed/.
    assert not list((through_local_folder / "in").glob("*.msg"))
    assert list((through_local_folder / "processed").glob("*.gpu.msg"))
