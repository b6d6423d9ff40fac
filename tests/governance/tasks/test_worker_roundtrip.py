"""A real worker process, a real Redis broker, a real PostgreSQL: no eager mode."""

from __future__ import annotations

import uuid

import pytest
import redis

from governance.models import WorkerHeartbeat
from tests.workers import running_worker, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clean_broker(redis_url):
    redis.Redis.from_url(redis_url).flushdb()
    yield redis_url
    redis.Redis.from_url(redis_url).flushdb()


def test_tasks_on_both_queues_run_in_a_worker_process_and_land_in_postgres(clean_broker):
    with running_worker(clean_broker, "gpu,cpu") as worker:
        tokens = {}
        for queue in ("gpu", "cpu"):
            tokens[queue] = uuid.uuid4().hex
            worker["app"].send_task("governance.tasks.heartbeat", args=[queue, tokens[queue]], queue=queue)

        wait_until(lambda: WorkerHeartbeat.objects.filter(token__in=tokens.values()).count() == 2, timeout=60)
        beats = {b.queue: b for b in WorkerHeartbeat.objects.filter(token__in=tokens.values())}
        assert set(beats) == {"gpu", "cpu"}
        assert beats["gpu"].token == tokens["gpu"]
        assert "received" in worker["log"].read_text().lower()
    assert worker["process"].poll() is not None, "the worker must be stopped after the test"


def test_a_worker_on_the_cpu_queue_does_not_take_gpu_work(clean_broker):
    token = uuid.uuid4().hex
    with running_worker(clean_broker, "cpu") as worker:
        worker["app"].send_task("governance.tasks.heartbeat", args=["gpu", token], queue="gpu")
        worker["app"].send_task("governance.tasks.heartbeat", args=["cpu", token], queue="cpu")
        wait_until(lambda: WorkerHeartbeat.objects.filter(token=token, queue="cpu").exists(), timeout=60)
        assert not WorkerHeartbeat.objects.filter(token=token, queue="gpu").exists()
    # The gpu task is still waiting in its Redis queue for a gpu worker.
    assert redis.Redis.from_url(clean_broker).llen("gpu") == 1
