"""``demo --quick`` on the full stack: Redis broker, one worker process per queue (gpu, cpu), PostgreSQL."""

import json

import pytest
from django.core.management import call_command

from pipelines import services as pipeline
from reports.models import Packet, Report
from scenarios.models import GenerationRun, TrainingRun
from tests.pipelines.demo_checks import check_demo_outcome
from tests.workers import running_worker
from validation.models import ValidationRun

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_demo_quick_runs_through_gpu_and_cpu_workers(through_redis, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(pipeline.PASSWORD_ENV, "demo password for the test")
    with running_worker(through_redis, "gpu") as gpu, running_worker(through_redis, "cpu") as cpu:
        call_command("demo", "--quick", "--json", "--out", str(tmp_path), "--timeout", "400")
    summary = json.loads(capsys.readouterr().out)
    check_demo_outcome(summary)
    assert summary["tasks"] == "workers"
    # Every run was executed by the worker of its queue, none in this process.
    gpu_name, cpu_name = gpu["name"][:100], cpu["name"][:100]
    assert {r.worker for r in TrainingRun.objects.all()} == {gpu_name}
    assert {r.worker for r in GenerationRun.objects.all()} == {gpu_name}
    for run in ValidationRun.objects.all():  # statistics on cpu, neural scores (if asked for) on gpu
        expected = {cpu_name, gpu_name} if "discriminative" in run.tiers else {cpu_name}
        assert set(run.worker.split(",")) == expected, (run.pk, run.tiers)
    assert ValidationRun.objects.filter(tiers__contains=["conformance"]).exists()  # conditioned sets too
    assert {r.worker for r in Report.objects.all()} | {p.worker for p in Packet.objects.all()} == {cpu_name}


def test_without_a_worker_the_demo_stops_with_a_clear_error(through_redis, tmp_path, monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.setenv(pipeline.PASSWORD_ENV, "demo password for the test")
    with pytest.raises(CommandError, match=r"still PENDING after 2 s: is a Celery worker consuming the 'gpu' queue"):
        call_command("demo", "--quick", "--out", str(tmp_path), "--timeout", "2")
    assert TrainingRun.objects.get().status == "PENDING"  # enqueued, for a worker that starts later
