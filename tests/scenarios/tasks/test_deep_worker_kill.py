"""A Celery worker killed (SIGKILL) in the middle of a diffusion training, on a real worker and Redis.

Two ways a worker dies, two outcomes, never a run stuck RUNNING and never a model version with a
half-written checkpoint:

* the whole worker (main process and its pool child) is killed: nobody is left to re-queue the task
  (Redis would only re-deliver it after the hours-long visibility timeout), the run's heartbeat goes
  stale, and ``reap_stale_runs`` marks it FAILED after twice the lease;
* only the pool child running the task is killed (an OOM kill, a segfault in a native library):
  ``task_reject_on_worker_lost`` re-queues the task, the redelivery finds the run RUNNING under the
  dead child's live lease (``RunBusy`` → retry after the lease), then claims it once the lease has
  expired and trains it to the end: SUCCEEDED on the second attempt with a checkpoint that loads.

The lease is shortened to a few seconds in the worker (``CRUCIBLE_RUN_LEASE_SECONDS``) and in this
process (the reaper), so the test waits seconds rather than the production ten minutes.
"""

from __future__ import annotations

import datetime as dt
import os
import signal

import pytest
from django.core.management import call_command

from governance.models import ModelVersion, RunStatus
from scenarios.engines.base import FittedState
from scenarios.models import TrainingRun
from scenarios.services.runs import load_checkpoint, training_run_start
from tests.workers import running_worker, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LEASE = 3
# Small enough for a busy two-core box, long enough (epochs of ~1 s) to be killed mid-way.
CONFIG = {"channels": 16, "blocks": 1, "dilations": [1], "time_dim": 16, "timesteps": 50, "batch_size": 64,
          "ddim_steps": 10, "patience": 1000}


def _start(developer, model, dataset, epochs: int) -> TrainingRun:
    return training_run_start(actor=developer, model=model, version_label="1.0.0", dataset=dataset,
                              engine="diffusion", config=CONFIG | {"epochs": epochs},
                              train_end=dt.date(2014, 12, 31), holdout_start=dt.date(2015, 1, 1), seed=3)


def _mid_training(run_id: int) -> TrainingRun | None:
    """The run once it is RUNNING and has reported at least one finished epoch."""
    run = TrainingRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).first()
    return run if run is not None and run.progress_detail.get("epoch", 0) >= 1 else None


def test_killed_worker_leaves_the_run_failed_by_the_reaper_without_a_version(
        through_redis, developer, scenario_model, real_dataset, settings):
    settings.CRUCIBLE_RUN_LEASE_SECONDS = LEASE
    settings.CRUCIBLE_RUN_MAX_ATTEMPTS = 1  # the reaper fails it rather than re-queue it (tests/governance/runs)
    with running_worker(through_redis, "gpu", extra_env={"CRUCIBLE_RUN_LEASE_SECONDS": str(LEASE)}) as worker:
        run = _start(developer, scenario_model, real_dataset, epochs=500)
        running = wait_until(lambda: _mid_training(run.pk), timeout=240)
        assert running.progress < 0.85, "killed before the checkpoint is stored"
        os.killpg(worker["process"].pid, signal.SIGKILL)  # the main process and its pool child
        worker["process"].wait(timeout=30)

    stuck = TrainingRun.objects.get(pk=run.pk)
    assert stuck.status == RunStatus.RUNNING  # what the dead worker left behind...
    call_command("reap_stale_runs")  # ...is not reaped while the lease could still be live
    assert TrainingRun.objects.get(pk=run.pk).status == RunStatus.RUNNING
    wait_until(lambda: (call_command("reap_stale_runs") or True)
               and TrainingRun.objects.get(pk=run.pk).status != RunStatus.RUNNING, timeout=6 * LEASE)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "worker lost" in run.error
    assert run.finished_at is not None
    assert run.model_version_id is None and not run.checkpoint_sha256 and not run.checkpoint_path
    assert not ModelVersion.objects.filter(model=scenario_model).exists()


def test_killed_pool_child_requeues_the_task_and_the_retry_completes_it(
        through_redis, developer, scenario_model, real_dataset, settings):
    settings.CRUCIBLE_RUN_LEASE_SECONDS = LEASE
    with running_worker(through_redis, "gpu", extra_env={"CRUCIBLE_RUN_LEASE_SECONDS": str(LEASE)}) as worker:
        run = _start(developer, scenario_model, real_dataset, epochs=4)
        first = wait_until(lambda: _mid_training(run.pk), timeout=240)
        assert first.progress < 0.85 and first.attempts == 1
        stats = worker["app"].control.inspect(destination=[worker["name"]], timeout=5).stats()
        children = stats[worker["name"]]["pool"]["processes"]
        assert len(children) == 1
        os.kill(children[0], signal.SIGKILL)  # the pool child training the model, not the worker

        done = wait_until(lambda: TrainingRun.objects.filter(pk=run.pk).exclude(
            status__in=[RunStatus.PENDING, RunStatus.RUNNING]).first(), timeout=300)
        assert worker["process"].poll() is None, "the worker itself survived its child"

    assert done.status == RunStatus.SUCCEEDED, done.error
    assert done.attempts == 2, "claimed once by the killed child, once by the redelivery"
    version = ModelVersion.objects.get(model=scenario_model)
    assert done.model_version_id == version.pk
    state = load_checkpoint(version)  # the registered checkpoint is whole: its SHA-256 is checked on read
    assert isinstance(state, FittedState) and state.engine == "diffusion"
    assert state.meta["epochs_run"] == 4
    assert len(done.loss_curve) == 4
