"""Reading the platform's configuration from the environment.

Kept apart from ``settings.py`` so the rules (embedded defaults, secret generation) are plain
functions that tests can call with any environment.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import dj_database_url

TRUE_WORDS = {"1", "true", "yes", "on"}


def env_bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in TRUE_WORDS


def database_config(env: Mapping[str, str], var_dir: Path) -> dict:
    """``DATABASE_URL`` set → that database (PostgreSQL through psycopg 3); unset → SQLite in var/."""
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(var_dir / "crucible.sqlite3"),
            # Writers take the database lock when their transaction starts (IMMEDIATE), so two
            # writers queue for up to `timeout` seconds instead of failing on a lock upgrade.
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
        }
    config = dj_database_url.parse(url, conn_max_age=0)
    if config["ENGINE"] == "django.db.backends.postgresql":
        config.setdefault("OPTIONS", {})
        config["OPTIONS"].setdefault("connect_timeout", 5)
    return config


def secret_key(env: Mapping[str, str], var_dir: Path) -> str:
    """``SECRET_KEY`` from the environment, else one generated once into var/ (never committed)."""
    key = env.get("SECRET_KEY", "").strip()
    if key:
        return key
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # O_EXCL: two processes starting together must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def celery_config(env: Mapping[str, str], longest_task_seconds: int) -> dict:
    """Celery settings (without the ``CELERY_`` prefix).

    No broker configured → tasks run eagerly in-process (the embedded default).
    """
    broker = env.get("CELERY_BROKER_URL", "").strip()
    config: dict = {
        # Reliability: a task is acknowledged only after it finished, and re-delivered when its
        # worker dies; one task at a time per worker process so long GPU jobs are not hoarded.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        # Outcomes live on the run rows in the database, not in a result backend.
        "task_ignore_result": True,
        "task_default_queue": "cpu",
        "task_routes": TASK_ROUTES,
        "task_time_limit": longest_task_seconds,
        "task_soft_time_limit": longest_task_seconds - 60,
        "worker_hijack_root_logger": False,
        "broker_connection_retry_on_startup": True,
    }
    if broker:
        config["broker_url"] = broker
        # Redis re-delivers an unacknowledged task after visibility_timeout: it must be longer
        # than the longest task or a still-running task would be started a second time.
        config["broker_transport_options"] = {"visibility_timeout": longest_task_seconds + 3600}
        config["task_always_eager"] = False
    else:
        config["broker_url"] = "memory://localhost/"  # a hostname, or kombu warns on every connection
        config["task_always_eager"] = True
        config["task_eager_propagates"] = True
    return config


# Training and generation need the accelerator; validation statistics and reports do not.
# The neural validation scores train small networks, so they go to the gpu queue as well.
TASK_ROUTES = {
    "scenarios.tasks.*": {"queue": "gpu"},
    "validation.tasks.neural_*": {"queue": "gpu"},
    "validation.tasks.*": {"queue": "cpu"},
    "reports.tasks.*": {"queue": "cpu"},
    "governance.tasks.*": {"queue": "cpu"},
}
