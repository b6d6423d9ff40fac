"""Settings come from the environment; the embedded default needs nothing set."""

from __future__ import annotations

import stat

import pytest
from celery import Celery
from django.core.exceptions import ImproperlyConfigured

from config.env import TASK_ROUTES, celery_config, database_config, env_bool, secret_key, task_mode


def test_no_database_url_means_sqlite_under_var(tmp_path):
    config = database_config({}, tmp_path)
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "crucible.sqlite3")


def test_database_url_means_postgresql_through_psycopg(tmp_path):
    config = database_config({"DATABASE_URL": "postgres://u:p@db.example:6543/crucible"}, tmp_path)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == ("db.example", 6543, "crucible", "u")
    assert config["OPTIONS"]["connect_timeout"] == 5


def test_secret_key_is_generated_once_into_var_and_kept_private(tmp_path):
    first = secret_key({}, tmp_path)
    second = secret_key({}, tmp_path)
    assert first == second and len(first) >= 50
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert secret_key({"SECRET_KEY": "from-env"}, tmp_path) == "from-env"


def test_debug_is_off_unless_asked():
    assert env_bool({}, "DJANGO_DEBUG") is False
    assert env_bool({"DJANGO_DEBUG": "1"}, "DJANGO_DEBUG") is True
    assert env_bool({"DJANGO_DEBUG": "no"}, "DJANGO_DEBUG") is False


def test_no_broker_means_the_local_filesystem_queue_not_eager(tmp_path):
    assert task_mode({}) == "local"
    config = celery_config({}, 3600, tmp_path)
    assert config["task_always_eager"] is False and "task_eager_propagates" not in config
    assert config["broker_url"] == "filesystem://localhost/"
    options = config["broker_transport_options"]
    # One folder shared by the web server (producer) and the worker (consumer).
    assert options["data_folder_in"] == options["data_folder_out"] == str(tmp_path / "broker" / "in")
    assert options["store_processed"] is True and options["processed_folder"] == str(tmp_path / "broker" / "processed")
    assert options["control_folder"] == str(tmp_path / "broker" / "control")
    assert all((tmp_path / "broker" / name).is_dir() for name in ("in", "processed", "control"))
    # No remote control: its broadcasts would pile up for workers that are gone (no TTL on this transport).
    assert config["worker_enable_remote_control"] is False


def test_the_local_broker_folder_can_be_moved(tmp_path):
    config = celery_config({"CRUCIBLE_BROKER_DIR": str(tmp_path / "q")}, 3600, tmp_path / "var")
    assert config["broker_transport_options"]["data_folder_in"] == str(tmp_path / "q" / "in")


def test_inline_runs_tasks_in_process_only_when_asked_for(tmp_path):
    config = celery_config({"CRUCIBLE_TASKS": "inline"}, 3600, tmp_path)
    assert config["task_always_eager"] is True and config["task_eager_propagates"] is True
    assert not (tmp_path / "broker").exists()
    assert task_mode({"CRUCIBLE_TASKS": " Inline "}) == "inline"
    # Asked for explicitly, inline wins over a configured broker (e.g. a test run inside a deployment).
    assert celery_config({"CRUCIBLE_TASKS": "inline", "CELERY_BROKER_URL": "redis://h/0"}, 3600)["task_always_eager"]


def test_a_broker_url_means_the_broker_mode():
    assert task_mode({"CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}) == "broker"
    assert task_mode({"CRUCIBLE_TASKS": "broker", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}) == "broker"


def test_an_unknown_task_mode_is_refused_by_name():
    with pytest.raises(ImproperlyConfigured, match="CRUCIBLE_TASKS='eagre'"):
        task_mode({"CRUCIBLE_TASKS": "eagre"})
    with pytest.raises(ImproperlyConfigured, match="CRUCIBLE_TASKS=broker needs CELERY_BROKER_URL"):
        celery_config({"CRUCIBLE_TASKS": "broker"}, 3600)


def test_broker_configuration_is_reliable():
    config = celery_config({"CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}, 3600)
    assert config["broker_url"] == "redis://127.0.0.1:6379/0"
    assert config["task_always_eager"] is False
    assert config["task_acks_late"] is True
    assert config["task_reject_on_worker_lost"] is True
    assert config["worker_prefetch_multiplier"] == 1
    assert config["accept_content"] == ["json"] and config["task_serializer"] == "json"
    # A still-running task must never be re-delivered: visibility timeout > the longest task.
    assert config["broker_transport_options"]["visibility_timeout"] > config["task_time_limit"]


def test_tasks_are_routed_to_gpu_and_cpu_queues():
    app = Celery("routing-check", set_as_current=False)
    app.conf.update(task_routes=TASK_ROUTES, task_default_queue="cpu")
    router = app.amqp.router

    def queue_of(name: str) -> str:
        return router.route({}, name, (), {})["queue"].name

    assert queue_of("scenarios.tasks.train_model") == "gpu"
    assert queue_of("scenarios.tasks.generate_scenarios") == "gpu"
    assert queue_of("validation.tasks.neural_scores") == "gpu"
    assert queue_of("validation.tasks.run_statistical_tiers") == "cpu"
    assert queue_of("reports.tasks.render_report") == "cpu"
    assert queue_of("governance.tasks.heartbeat") == "cpu"


def test_processes_starting_together_agree_on_one_non_empty_secret_key(tmp_path):
    """Two gunicorn workers generating the key at once: one used to read the other's created-but-empty file."""
    import subprocess
    import sys

    code = ("import sys; from pathlib import Path; from config.env import secret_key; "
            "print(secret_key({}, Path(sys.argv[1])))")
    for attempt in range(3):
        folder = tmp_path / str(attempt)
        procs = [subprocess.Popen([sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True)
                 for _ in range(8)]
        keys = {p.communicate(timeout=60)[0].strip() for p in procs}
        assert len(keys) == 1 and "" not in keys
        assert (folder / "secret_key").read_text() == keys.pop()
        assert [p.name for p in folder.iterdir()] == ["secret_key"]  # no temporary file left behind
