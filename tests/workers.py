"""Real Celery worker processes for integration tests (no eager mode).

``running_worker`` starts ``celery -A config worker`` as a subprocess pointed at the test
database and a real Redis, waits until it answers a ping, and stops it afterwards.
``running_local_worker`` does the same on the local filesystem transport (``CRUCIBLE_TASKS=local``).
The suite itself runs tasks in-process: ``pytest_configure`` below gives the loaded settings
``CRUCIBLE_TASKS=inline`` unless the environment names another mode.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection
from kombu import pools as kombu_pools

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def database_url_of_test_db() -> str:
    sd = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("worker tests need PostgreSQL: run them through 'make test'")
    password = f":{sd['PASSWORD']}" if sd.get("PASSWORD") else ""
    return f"postgres://{sd['USER']}{password}@{sd['HOST'] or '127.0.0.1'}:{sd['PORT'] or 5432}/{sd['NAME']}"


def broker_app(redis_url: str) -> Celery:
    """A Celery app with the platform's own configuration, but sending through ``redis_url``."""
    # Not the current app: shared tasks called later in this process must keep using the platform's app.
    app = Celery("crucible-test-client", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=redis_url, task_always_eager=False)
    return app


def apply_task_mode(mode: str) -> None:
    """Give the loaded settings the Celery configuration of task mode ``mode`` (``CRUCIBLE_TASKS``).

    pytest-django loads the settings before tests/conftest.py runs, so an environment default set there
    comes too late for settings.py: the ``CELERY_*`` settings are derived again here. The Celery app reads
    Django's settings live, so it follows.
    """
    from config.env import celery_config, task_mode

    env = {**os.environ, "CRUCIBLE_TASKS": mode}
    mode = task_mode(env)
    if getattr(settings, "CRUCIBLE_TASKS", None) == mode:
        return
    # Keys only some modes set: drop them first so none of the previous mode's is left behind.
    for name in ("broker_transport_options", "worker_enable_remote_control", "task_eager_propagates"):
        if hasattr(settings, "CELERY_" + name.upper()):
            delattr(settings, "CELERY_" + name.upper())
    for name, value in celery_config(env, settings.LONGEST_TASK_SECONDS, settings.VAR_DIR).items():
        setattr(settings, "CELERY_" + name.upper(), value)
    settings.CRUCIBLE_TASKS = mode
    reset_producer_pool()


def pytest_configure(config):
    # The suite runs tasks in-process unless CRUCIBLE_TASKS says otherwise. Only the loaded settings are changed,
    # not os.environ: a process a test starts (a worker, gunicorn, a settings probe) gets the mode it is given.
    apply_task_mode(os.environ.get("CRUCIBLE_TASKS", "inline"))
    # Charts are not drawn after every run of the suite (thousands nobody looks at); the figure tests turn
    # drawing on. Also for the processes tests start (workers inherit the environment).
    settings.CRUCIBLE_DRAW_FIGURES = False
    os.environ.setdefault("CRUCIBLE_DRAW_FIGURES", "0")


def stop_process_group(proc) -> None:
    """SIGTERM the worker's process group (warm shutdown), SIGKILL it if it has not ended in 30 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def worker_env(redis_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url_of_test_db(),
        CRUCIBLE_TASKS="broker",  # not the suite's inline default: this process consumes from the broker
        CELERY_BROKER_URL=redis_url,
        CRUCIBLE_VAR_DIR=str(settings.VAR_DIR),
        ARTIFACT_ROOT=str(settings.ARTIFACT_ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


@contextlib.contextmanager
def running_worker(
    redis_url: str, queues: str = "gpu,cpu", *, extra_env: dict[str, str] | None = None, timeout: float = 90
) -> Iterator[dict]:
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    log_path = Path(settings.VAR_DIR) / f"worker-{name.split('@')[0]}.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues, "-n", name,
         "--concurrency", "1", "--pool", "prefork", "--without-gossip", "--without-mingle",
         "--loglevel", "INFO"],
        cwd=ROOT, env=worker_env(redis_url, extra_env), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    app = broker_app(redis_url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited with {proc.returncode}: {log_path.read_text()[-3000:]}")
            if app.control.ping(destination=[name], timeout=1.0):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker did not answer a ping in {timeout}s: {log_path.read_text()[-3000:]}")
        yield {"name": name, "process": proc, "app": app, "log": log_path}
    finally:
        stop_process_group(proc)
        log.close()
        app.close()


def local_transport_options(broker_dir: Path) -> dict[str, str]:
    """The transport options ``CRUCIBLE_TASKS=local`` gives a worker whose ``CRUCIBLE_BROKER_DIR`` is ``broker_dir``."""
    from config.env import celery_config

    return celery_config({"CRUCIBLE_TASKS": "local", "CRUCIBLE_BROKER_DIR": str(broker_dir)}, 3600)[
        "broker_transport_options"]


@contextlib.contextmanager
def running_local_worker(
    broker_dir: Path, queues: str = "gpu,cpu", *, extra_env: dict[str, str] | None = None, timeout: float = 90
) -> Iterator[dict]:
    """``celery -A config worker`` with ``CRUCIBLE_TASKS=local`` (no broker), messages in ``broker_dir``.

    The local transport has no remote control (no ping): the worker is ready when its log says so.
    """
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    log_path = Path(settings.VAR_DIR) / f"worker-{name.split('@')[0]}.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed in finally
    env = dict(os.environ)
    env.pop("CELERY_BROKER_URL", None)
    env.update(
        DATABASE_URL=database_url_of_test_db(), CRUCIBLE_TASKS="local", CRUCIBLE_BROKER_DIR=str(broker_dir),
        CRUCIBLE_VAR_DIR=str(settings.VAR_DIR), ARTIFACT_ROOT=str(settings.ARTIFACT_ROOT), PYTHONUNBUFFERED="1",
    )
    env.update(extra_env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues, "-n", name,
         "--concurrency", "1", "--pool", "prefork", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while " ready." not in log_path.read_text():
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited with {proc.returncode}: {log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker not ready in {timeout}s: {log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield {"name": name, "process": proc, "log": log_path}
    finally:
        stop_process_group(proc)
        log.close()


def wait_until(predicate, timeout: float = 60, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def reset_producer_pool():
    # The app caches its connection and producer pools on first use, and kombu keeps them in global
    # groups keyed by connection: close and forget all of them so the next send uses the new broker URL.
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def through_redis(redis_url):
    """Make this process's Celery app send to Redis instead of running tasks eagerly."""
    redis.Redis.from_url(redis_url).flushdb()
    saved = {"broker_url": celery_app.conf.broker_url, "task_always_eager": celery_app.conf.task_always_eager}
    celery_app.conf.update(broker_url=redis_url, task_always_eager=False)
    reset_producer_pool()
    yield redis_url
    celery_app.conf.update(**saved)
    reset_producer_pool()
    redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture
def through_local_folder(tmp_path):
    """Make this process's Celery app send through the local filesystem transport (a fresh folder), as the
    web server does with ``CRUCIBLE_TASKS=local``; yields the broker folder for ``running_local_worker``."""
    broker_dir = tmp_path / "broker"
    options = local_transport_options(broker_dir)
    keys = ("broker_url", "broker_transport_options", "task_always_eager", "worker_enable_remote_control")
    saved = {key: celery_app.conf.get(key) for key in keys}
    celery_app.conf.update(broker_url="filesystem://localhost/", broker_transport_options=options,
                           task_always_eager=False, worker_enable_remote_control=False)
    reset_producer_pool()
    yield broker_dir
    celery_app.conf.update(**saved)
    reset_producer_pool()
