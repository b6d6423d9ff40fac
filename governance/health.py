"""Can the platform reach its database and its broker? Used by /healthz and the demo."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import Connection


def database_status() -> str:
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure to reach the database is "error"
        connection.close()
        return "error"
    return "ok"


def tasks_inline() -> bool:
    """Do tasks run in the process that sends them? Read from the Celery app, not from settings, so the
    CLI pipelines' switch to in-process (``tasks_run_inline`` below) is honoured everywhere."""
    return bool(current_app.conf.task_always_eager)


def tasks_run_inline() -> bool:
    """From now on, run every task in this process (eager), unless a broker is configured.

    For the commands that ARE the long work (``demo``, ``run_pipeline``): they are not web requests, and
    in the ``local`` mode no worker need be running beside them. With ``CRUCIBLE_TASKS=broker`` they keep
    sending to the workers. Returns whether tasks now run inline.
    """
    if getattr(settings, "CRUCIBLE_TASKS", "") == "local":
        current_app.conf.update(task_always_eager=True, task_eager_propagates=True)
    return tasks_inline()


def tasks_local() -> bool:
    """Do tasks go through the filesystem transport (``CRUCIBLE_TASKS=local``, one host)?"""
    return not tasks_inline() and str(current_app.conf.broker_url or "").startswith("filesystem://")


# A worker beside the web server runs the heartbeat task once a minute (the beat schedule in settings):
# three missed beats and the check says so instead of pretending the queued work will run.
WORKER_HEARTBEAT_STALE = dt.timedelta(seconds=180)


def local_broker_status() -> str:
    """The local transport: its folders writable → "ok" when a worker's heartbeat is recent, else
    "no worker heartbeat" (runs wait in the folder until ``make serve``'s worker, or any
    ``celery -A config worker``, takes them); folders missing or read-only → "error"."""
    options = current_app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "processed_folder", "control_folder"):
        folder = Path(options.get(key, ""))
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            return "error"
    from governance.models import WorkerHeartbeat

    try:
        latest = WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    except Exception:  # noqa: BLE001 - the database check reports an unreachable database
        return "no worker heartbeat"
    if latest is None or timezone.now() - latest > WORKER_HEARTBEAT_STALE:
        return "no worker heartbeat"
    return "ok"


def broker_status() -> str:
    if tasks_inline():
        return "eager"
    if tasks_local():
        return local_broker_status()
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception:  # noqa: BLE001 - any failure to reach the broker is "error"
        return "error"
    return "ok"
