"""Settings come from the environment; the embedded default needs nothing set."""

from __future__ import annotations

import stat

from celery import Celery

from config.env import TASK_ROUTES, celery_config, database_config, env_bool, secret_key


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


def test_no_broker_means_eager_in_process():
    config = celery_config({}, 3600)
    assert config["task_always_eager"] is True
    assert config["task_eager_propagates"] is True


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
