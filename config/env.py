"""Reading the platform's configuration from the environment.

Kept apart from ``settings.py`` so the rules (embedded defaults, secret generation) are plain
functions that tests can call with any environment.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

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
    # Written whole beside the target, then hard-linked into place: link() fails if the file exists, so two
    # processes starting together agree on one key, and a reader never sees a created but still empty file
    # (O_EXCL on the target itself left that window: two gunicorn workers, one with an empty SECRET_KEY).
    fd, temp = tempfile.mkstemp(dir=var_dir, prefix=".secret_key-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        os.chmod(temp, 0o600)
        try:
            os.link(temp, path)
        except FileExistsError:
            return path.read_text().strip()
    finally:
        os.unlink(temp)
    return key


TASK_MODES = ("broker", "local", "inline")


def task_mode(env: Mapping[str, str]) -> str:
    """``CRUCIBLE_TASKS``: how tasks reach a worker. Unset → ``broker`` with a ``CELERY_BROKER_URL``, else ``local``.

    ``broker``: the configured broker (Redis) and workers anywhere. ``local``: kombu's filesystem transport
    under var/broker/, one host, a worker started beside the web server (``make serve``). ``inline``: every
    task runs in the process that sends it (tests, and the ``demo``/``run_pipeline`` commands).
    """
    raw = env.get("CRUCIBLE_TASKS", "").strip().lower()
    if not raw:
        return "broker" if env.get("CELERY_BROKER_URL", "").strip() else "local"
    if raw not in TASK_MODES:
        raise ImproperlyConfigured(
            f"CRUCIBLE_TASKS={env.get('CRUCIBLE_TASKS')!r} is not a task mode: use one of {', '.join(TASK_MODES)}")
    if raw == "broker" and not env.get("CELERY_BROKER_URL", "").strip():
        raise ImproperlyConfigured("CRUCIBLE_TASKS=broker needs CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0)")
    return raw


def broker_folders(env: Mapping[str, str], var_dir: Path) -> dict[str, Path]:
    """The local transport's folders (``CRUCIBLE_BROKER_DIR``, default var/broker): messages wait in ``in``,
    move to ``processed`` when a worker takes them (a rename on one file system, so two consumers never
    take the same message), the exchanges' bindings are kept in ``control``."""
    root = Path(env.get("CRUCIBLE_BROKER_DIR", "").strip() or var_dir / "broker").resolve()
    return {"in": root / "in", "processed": root / "processed", "control": root / "control"}


def celery_config(env: Mapping[str, str], longest_task_seconds: int, var_dir: Path | None = None) -> dict:
    """Celery settings (without the ``CELERY_`` prefix) for the task mode (``task_mode``).

    No broker configured → the ``local`` filesystem transport under ``var_dir``/broker: a request only
    writes a message, a worker runs it. ``inline`` only when asked for.
    """
    mode = task_mode(env)
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
    if mode == "broker":
        config["broker_url"] = env["CELERY_BROKER_URL"].strip()
        # Redis re-delivers an unacknowledged task after visibility_timeout: it must be longer
        # than the longest task or a still-running task would be started a second time.
        config["broker_transport_options"] = {"visibility_timeout": longest_task_seconds + 3600}
        config["task_always_eager"] = False
    elif mode == "local":
        folders = broker_folders(env, Path(var_dir) if var_dir is not None else Path("var"))
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        config["broker_url"] = "filesystem://localhost/"  # a hostname, or kombu warns on every connection
        # One folder for producers (the web server) and consumers (the worker) on this host.
        config["broker_transport_options"] = {
            "data_folder_in": str(folders["in"]), "data_folder_out": str(folders["in"]),
            "store_processed": True, "processed_folder": str(folders["processed"]),
            "control_folder": str(folders["control"]),
        }
        # Remote control broadcasts to every pidbox queue ever bound, and this transport has no TTL: the
        # messages of a worker that is gone would pile up in the folder. (Mingle and gossip turn
        # themselves off on transports other than AMQP/Redis; task events are off by default.)
        config["worker_enable_remote_control"] = False
        config["task_always_eager"] = False
    else:  # inline
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
