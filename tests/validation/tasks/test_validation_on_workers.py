"""A validation run split across a cpu worker (statistical tiers) and a gpu worker (neural scores)."""

from __future__ import annotations

import datetime as dt

import pytest

from scenarios.models import ScenarioSet
from scenarios.services.datasets import dataset_import_builtin
from scenarios.services.runs import generation_run_start, training_run_start
from tests.workers import running_worker, wait_until
from validation.models import ValidationRun
from validation.services.runs import validation_run_start

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_statistical_and_neural_parts_join_across_two_queues(through_redis, developer, scenario_model):
    dataset = dataset_import_builtin(actor=developer, builtin="sp500_nasdaq_wti")
    with running_worker(through_redis, "gpu") as gpu, running_worker(through_redis, "cpu") as cpu:
        run = training_run_start(actor=developer, model=scenario_model, version_label="1.0.0", dataset=dataset,
                                 engine="factor_mc", train_end=dt.date(2014, 12, 31),
                                 holdout_start=dt.date(2015, 1, 1))
        version = wait_until(lambda: type(run).objects.get(pk=run.pk).model_version, timeout=180)
        gen = generation_run_start(actor=developer, model_version=version, n_scenarios=500, horizon=10,
                                   purpose="development")
        scenario_set = wait_until(lambda: ScenarioSet.objects.filter(generation_run=gen).first(), timeout=120)
        started = validation_run_start(actor=developer, scenario_set=scenario_set,
                                       tiers=["univariate", "discriminative"])
        done = wait_until(lambda: ValidationRun.objects.filter(pk=started.pk, status__in=["SUCCEEDED", "FAILED"])
                          .first(), timeout=240)
        assert done.status == "SUCCEEDED", done.error
        assert done.parts == {"statistical": "SUCCEEDED", "neural": "SUCCEEDED"}
        assert set(done.tier_outcomes) == {"univariate", "discriminative"}
        # each part ran on the worker of its queue
        workers = set(done.worker.split(","))
        assert any(w.startswith(gpu["name"].split("@")[0]) for w in workers), workers
        assert any(w.startswith(cpu["name"].split("@")[0]) for w in workers), workers
