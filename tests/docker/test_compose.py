"""Docker cannot run here: parse the files and check the stack's wiring."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def load_compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_compose_has_the_services():
    services = load_compose()["services"]
    assert set(services) == {"db", "broker", "web", "worker-cpu", "worker-gpu", "beat", "migrate"}
    assert services["db"]["image"].startswith("postgres:")
    assert services["broker"]["image"].startswith("redis:")


def test_workers_listen_on_their_queues():
    entry = (DOCKER / "entrypoint.sh").read_text()
    services = load_compose()["services"]
    assert services["worker-cpu"]["command"] == ["worker-cpu"]
    assert services["worker-gpu"]["command"] == ["worker-gpu"]
    assert re.search(r"worker-cpu\)\s*\n\s*exec celery -A config worker -Q cpu ", entry)
    assert re.search(r"worker-gpu\)\s*\n.*\n\s*exec celery -A config worker -Q gpu ", entry)


def test_gpu_worker_reserves_an_nvidia_device_and_uses_the_cuda_image():
    gpu = load_compose()["services"]["worker-gpu"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    assert gpu["build"]["dockerfile"] == "docker/Dockerfile.gpu"
    dockerfile = (DOCKER / "Dockerfile.gpu").read_text()
    assert re.search(r"^FROM nvidia/cuda:", dockerfile, re.M)
    assert "whl/cu" in dockerfile and "torch==2.13.0" in dockerfile


def test_environment_is_wired_to_the_db_and_broker_services():
    services = load_compose()["services"]
    for name in ("web", "worker-cpu", "worker-gpu", "migrate"):
        env = services[name]["environment"]
        assert "@db:5432/" in env["DATABASE_URL"], name
        assert env["CELERY_BROKER_URL"].startswith("redis://broker:6379/"), name
        assert env["SECRET_KEY"].startswith("${SECRET_KEY"), "the secret comes from the environment"
    for name in ("web", "worker-cpu", "worker-gpu"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_web_image_runs_gunicorn_and_cpu_torch():
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    assert "whl/cpu" in dockerfile and "requirements.txt" in dockerfile
    assert "exec gunicorn config.wsgi:application" in (DOCKER / "entrypoint.sh").read_text()


def test_requirements_pin_everything_exactly():
    root = DOCKER.parent
    for name in ("requirements.txt", "requirements-test.txt"):
        for line in (root / name).read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#") or line.startswith("-r "):
                continue
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.+\-]+", line), f"{name}: {line} is not pinned"
    assert "torch==2.13.0" in (root / "requirements.txt").read_text().splitlines()


def test_ci_runs_exactly_make_test():
    ci = (DOCKER.parent / ".ci" / "run").read_text()
    commands = [line for line in ci.splitlines() if line.strip() and not line.startswith("#")]
    assert commands[-1].strip() == "make test"


def test_the_signing_key_is_a_read_only_secret_and_anchors_live_on_their_own_volume():
    """Issue 16 §6: the key never lies in var/ beside the database; checkpoints are published outside it."""
    compose = load_compose()
    services = compose["services"]
    assert "crucible_signing_key" in compose["secrets"]
    for name in ("web", "worker-cpu", "worker-gpu", "beat"):
        env = services[name]["environment"]
        assert env["CRUCIBLE_SIGNING_KEY_FILE"] == "/run/secrets/crucible_signing_key", name
        assert not env["CRUCIBLE_SIGNING_KEY_FILE"].startswith(env["CRUCIBLE_VAR_DIR"]), name
        assert services[name]["secrets"] == ["crucible_signing_key"], name
        anchor_dir = env["CRUCIBLE_ANCHOR_LOG"].rsplit("/", 1)[0]
        assert any(v == f"anchors:{anchor_dir}" for v in services[name]["volumes"]), name
        assert env["CACHE_URL"].startswith("redis://broker:6379/"), "sign-in counters shared by every process"
    assert "anchors" in compose["volumes"]


def test_the_beat_runs_the_reaper_and_the_checkpoint_schedule():
    entry = (DOCKER / "entrypoint.sh").read_text()
    assert load_compose()["services"]["beat"]["command"] == ["beat"]
    assert re.search(r"beat\)\s*\n.*\n\s*exec celery -A config beat ", entry)
