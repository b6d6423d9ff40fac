"""Training and generation through Redis on a real worker process listening on the gpu queue."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.models import RunStatus
from scenarios.models import GenerationRun, ScenarioSet, TrainingRun
from scenarios.services.datasets import dataset_import_builtin
from scenarios.services.runs import generation_run_start, training_run_start
from tests.workers import running_worker, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_training_then_generation_on_a_gpu_queue_worker(through_redis, developer, scenario_model):
    dataset = dataset_import_builtin(actor=developer, builtin="sp500_nasdaq_wti")
    with running_worker(through_redis, "gpu"):
        run = training_run_start(actor=developer, model=scenario_model, version_label="1.0.0", dataset=dataset,
                                 engine="garch_evt_copula", config={"family": "student_t"},
                                 train_end=dt.date(2014, 12, 31), holdout_start=dt.date(2015, 1, 1), seed=1)
        run = wait_until(lambda: TrainingRun.objects.filter(pk=run.pk, status__in=["SUCCEEDED", "FAILED"]).first(),
                         timeout=240)
        assert run.status == RunStatus.SUCCEEDED, run.error
        assert run.worker.startswith("test-") and run.model_version_id
        gen = generation_run_start(actor=developer, model_version=run.model_version, n_scenarios=1000, horizon=20,
                                   purpose="development", condition={"severity": "severe"}, seed=2)
        gen = wait_until(lambda: GenerationRun.objects.filter(pk=gen.pk, status__in=["SUCCEEDED", "FAILED"]).first(),
                         timeout=120)
        assert gen.status == RunStatus.SUCCEEDED, gen.error
        assert ScenarioSet.objects.get(generation_run=gen).n_scenarios == 1000
