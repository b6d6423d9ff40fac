"""The run kernel (governance.services.run_state) on the real run kinds, on PostgreSQL.

Issue 16 §1 / defect 8: a validation part was claimed with no lease, so a worker killed mid-part left it
RUNNING for ever and the reaper covered training and generation only.
"""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from django.core.management import call_command

from config.celery import app as celery_app
from governance.artifacts import TEMP_PREFIX, artifact_root, store_bytes
from governance.models import AuditEvent, RunStatus
from governance.services import run_state
from reports.models import Packet, Report
from scenarios.models import GenerationRun, TrainingRun
from scenarios.models.dataset import DatasetImport
from scenarios.services.runs import training_run_execute, training_run_start
from validation.models import MetricRow, ValidationPart, ValidationRun
from validation.services.runs import validation_part_execute, validation_run_start

pytestmark = pytest.mark.django_db


def _started_training(developer, scenario_model, real_dataset, capture, version: str = "1.0.0") -> TrainingRun:
    with capture(execute=False):
        return training_run_start(actor=developer, model=scenario_model, version_label=version, dataset=real_dataset,
                                  engine="factor_mc", train_end=dt.date(2014, 12, 31),
                                  holdout_start=dt.date(2015, 1, 1))


@pytest.fixture
def validation_run(train, generate, developer, django_capture_on_commit_callbacks):
    trained = train("factor_mc")
    scenario_set = generate(developer, trained.model_version, n_scenarios=300, horizon=20, purpose="development")
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        run = validation_run_start(actor=developer, scenario_set=scenario_set, tiers=["univariate"])
    assert len(enqueued) == 1  # the statistical part; the neural one is SKIPPED
    return run


def _actions(object_type: str, object_id) -> list[str]:
    return list(AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id))
                .order_by("seq").values_list("action", flat=True))


def test_every_run_kind_is_registered_with_the_kernel_and_reaped():
    kinds = {kind.model: kind for kind in run_state.run_kinds()}
    for model in (TrainingRun, GenerationRun, ValidationPart, Report, Packet, DatasetImport):
        assert model in kinds and kinds[model].executable, model
    assert not kinds[ValidationRun].executable  # an aggregate: its parts are the runs


def test_a_validation_part_whose_worker_died_is_requeued_by_the_reaper_and_then_completes(validation_run, settings):
    part = ValidationPart.objects.get(run=validation_run, name="statistical")
    assert part.status == RunStatus.PENDING
    lease = run_state.claim(ValidationPart, part.pk, worker="doomed")  # ...and the worker is killed here
    assert lease is not None
    validation_run.refresh_from_db()
    assert validation_run.status == RunStatus.RUNNING and validation_run.parts["statistical"] == RunStatus.RUNNING

    call_command("reap_stale_runs")  # the lease is live: nothing happens
    assert ValidationPart.objects.get(pk=part.pk).status == RunStatus.RUNNING

    settings.CRUCIBLE_RUN_LEASE_SECONDS = 0
    report = run_state.run_reap_stale()
    assert report.requeued == {"validation_part": [part.pk]}
    part.refresh_from_db()
    validation_run.refresh_from_db()
    assert part.status == RunStatus.PENDING and part.worker == "" and part.attempts == 1
    assert validation_run.parts["statistical"] == RunStatus.PENDING and validation_run.status == RunStatus.RUNNING
    assert _actions("validation_part", part.pk) == ["validation_part.requeued"]

    validation_part_execute(validation_run.pk, "statistical", worker="rescuer")
    part.refresh_from_db()
    validation_run.refresh_from_db()
    assert part.status == RunStatus.SUCCEEDED and part.attempts == 2
    assert validation_run.status == RunStatus.SUCCEEDED, validation_run.error
    assert validation_run.parts == {"statistical": RunStatus.SUCCEEDED, "neural": "SKIPPED"}
    assert MetricRow.objects.filter(run=validation_run).exists()
    assert _actions("validation_run", validation_run.pk) == ["validation_run.started", "validation_run.succeeded"]
    # the late worker, lease lost, cannot store anything now
    with pytest.raises(run_state.RunTakenOver):
        with lease.completing():
            pass


def test_a_part_out_of_attempts_is_failed_by_the_reaper_and_fails_its_run(validation_run, settings):
    part = ValidationPart.objects.get(run=validation_run, name="statistical")
    run_state.claim(ValidationPart, part.pk, worker="doomed")
    settings.CRUCIBLE_RUN_LEASE_SECONDS = 0
    settings.CRUCIBLE_RUN_MAX_ATTEMPTS = 1
    assert run_state.reap_stale(ValidationPart) == [part.pk]
    part.refresh_from_db()
    validation_run.refresh_from_db()
    assert part.status == RunStatus.FAILED and "worker lost" in part.error
    assert validation_run.status == RunStatus.FAILED and validation_run.error.startswith("statistical: worker lost")
    assert _actions("validation_part", part.pk) == ["validation_part.reaped"]
    assert _actions("validation_run", validation_run.pk)[-1] == "validation_run.failed"
    reaped = AuditEvent.objects.get(object_type="validation_part", action="validation_part.reaped")
    assert reaped.actor_id is None  # the system did it, not the person who started the run


def test_a_redelivery_of_a_poison_task_past_its_attempts_fails_the_run_instead_of_looping(
        developer, scenario_model, real_dataset, django_capture_on_commit_callbacks, settings):
    run = _started_training(developer, scenario_model, real_dataset, django_capture_on_commit_callbacks)
    settings.CRUCIBLE_RUN_MAX_ATTEMPTS = 2
    settings.CRUCIBLE_RUN_LEASE_SECONDS = 0
    assert run_state.claim(TrainingRun, run.pk, worker="killed-1").attempt == 1
    assert run_state.claim(TrainingRun, run.pk, worker="killed-2").attempt == 2
    assert run_state.claim(TrainingRun, run.pk, worker="third") is None
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "on each of 2 attempts" in run.error
    assert _actions("training_run", run.pk)[-1] == "training_run.reaped"


def test_a_live_lease_makes_a_duplicate_delivery_wait_exactly_for_what_is_left_of_it(
        developer, scenario_model, real_dataset, django_capture_on_commit_callbacks, settings):
    settings.CRUCIBLE_RUN_LEASE_SECONDS = 600
    run = _started_training(developer, scenario_model, real_dataset, django_capture_on_commit_callbacks)
    run_state.claim(TrainingRun, run.pk, worker="first")
    with pytest.raises(run_state.RunBusy) as busy:
        run_state.claim(TrainingRun, run.pk, worker="duplicate")
    assert 590 <= busy.value.retry_in <= 600


def test_a_worker_whose_lease_was_taken_over_cannot_report_progress_or_store_its_result(
        developer, scenario_model, real_dataset, django_capture_on_commit_callbacks, settings):
    from governance.models import ModelVersion

    run = _started_training(developer, scenario_model, real_dataset, django_capture_on_commit_callbacks)
    stale = run_state.claim(TrainingRun, run.pk, worker="paused")
    settings.CRUCIBLE_RUN_LEASE_SECONDS = 0
    training_run_execute(run.pk, worker="rescuer")  # takes the run over and finishes it
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.attempts == 2
    with pytest.raises(run_state.RunTakenOver):
        stale.progress(0.5, stage="late")
    with pytest.raises(run_state.RunTakenOver):
        with stale.completing():
            pass
    assert ModelVersion.objects.filter(model=scenario_model).count() == 1
    assert _actions("training_run", run.pk).count("training_run.succeeded") == 1


def test_run_start_creates_audits_and_enqueues_in_one_call_and_answers_what_a_202_needs(
        developer, scenario_model, real_dataset, django_capture_on_commit_callbacks):
    run = _started_training(developer, scenario_model, real_dataset, django_capture_on_commit_callbacks)
    accepted = run_state.run_accepted(run).as_dict()
    assert accepted == {"id": run.pk, "kind": "training_run", "status": "PENDING", "progress": 0.0,
                        "url": f"/api/v1/training-runs/{run.pk}/"}
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        started = run_state.run_start(TrainingRun, actor=developer, model=scenario_model, version_label="7.0.0",
                                      dataset=real_dataset, engine="factor_mc", train_end=dt.date(2014, 12, 31),
                                      holdout_start=dt.date(2015, 1, 1), seed=3)
    assert len(enqueued) == 1 and started.status == RunStatus.PENDING and started.url.endswith(f"/{started.id}/")
    assert _actions("training_run", started.id) == ["training_run.started"]
    assert started.run.heartbeat_at is not None  # when it was enqueued: the reaper's mark for a lost message


def test_a_pending_run_whose_message_was_lost_is_enqueued_again(
        developer, scenario_model, real_dataset, django_capture_on_commit_callbacks, settings):
    run = _started_training(developer, scenario_model, real_dataset, django_capture_on_commit_callbacks)
    settings.CRUCIBLE_RUN_LEASE_SECONDS = 0
    time.sleep(0.01)
    with django_capture_on_commit_callbacks(execute=True):
        report = run_state.run_reap_stale(models=[TrainingRun])
    assert report.re_enqueued == {"training_run": [run.pk]}
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED  # the re-sent task ran (eagerly here) and did the work, once


def test_cancel_is_the_kernels_and_audited_under_the_kinds_name(
        developer, scenario_model, real_dataset, django_capture_on_commit_callbacks):
    from scenarios.services.runs import run_cancel

    run = _started_training(developer, scenario_model, real_dataset, django_capture_on_commit_callbacks)
    run = run_cancel(actor=developer, run=run)
    assert run.status == RunStatus.CANCELLED and run.error == "cancelled before it started"
    assert _actions("training_run", run.pk) == ["training_run.started", "training_run.cancel_requested"]


def test_the_reaper_sweeps_half_written_artefacts_but_not_fresh_ones(settings, tmp_path):
    settings.ARTIFACT_ROOT = tmp_path
    store_bytes(b"kept", suffix=".bin")
    folder = artifact_root() / "ab"
    folder.mkdir()
    old, fresh = folder / f"{TEMP_PREFIX}killed", folder / f"{TEMP_PREFIX}writing"
    old.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    settings.CRUCIBLE_RUN_LEASE_SECONDS = 60
    report = run_state.run_reap_stale()
    assert report.temp_files_removed == [f"ab/{TEMP_PREFIX}killed"]
    assert not old.exists() and fresh.exists()


def test_the_reaper_is_a_celery_task_that_beat_schedules():
    celery_app.loader.import_default_modules()
    assert "governance.run_tasks.reap_stale_runs" in celery_app.tasks
    assert any(entry["task"] == "governance.run_tasks.reap_stale_runs"
               for entry in celery_app.conf.beat_schedule.values())
