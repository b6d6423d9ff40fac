import datetime as dt

import numpy as np
import pytest

from governance.artifacts import read_bytes
from governance.errors import Conflict, Forbidden, InvalidInput
from governance.models import AuditEvent, LineageEdge, ModelVersion, RunStatus
from governance.models.inventory import VersionStatus
from governance.services import run_state
from scenarios import scenario_files
from scenarios.models import GenerationRun, ScenarioSet, TrainingRun
from scenarios.services.runs import (
    generation_run_execute,
    generation_run_start,
    run_cancel,
    training_run_execute,
    training_run_start,
)

pytestmark = pytest.mark.django_db


def test_training_registers_a_version_with_checkpoint_and_lineage(train, developer, real_dataset):
    run = train("factor_mc", {"estimator": "ledoit_wolf"})
    assert run.status == RunStatus.SUCCEEDED and run.progress == 1.0 and run.error == ""
    version = run.model_version
    assert version.status == VersionStatus.DRAFT and version.version == "1.0.0"
    assert version.checkpoint_sha256 == run.checkpoint_sha256
    assert version.dataset_fingerprints == [real_dataset.sha256]
    assert str(version.holdout_start) == "2015-01-01" and version.environment["seed"] == 7
    assert version.environment["git_commit"] and version.environment["packages"]["numpy"]
    assert version.training_run == f"training_run:{run.pk}"
    # The checkpoint bytes are content-addressed and verified on read.
    read_bytes(version.checkpoint_uri, expected_sha256=version.checkpoint_sha256)
    assert LineageEdge.objects.filter(source__uid=f"training_run:{run.pk}", relation="used",
                                      target__uid=f"dataset:{real_dataset.pk}").exists()
    assert LineageEdge.objects.filter(source__uid=f"checkpoint:{run.checkpoint_sha256}", relation="wasGeneratedBy",
                                      target__uid=f"training_run:{run.pk}").exists()
    actions = list(AuditEvent.objects.filter(object_type="training_run").values_list("action", flat=True))
    assert actions == ["training_run.started", "training_run.succeeded"]


def test_preprocessing_is_fitted_on_the_training_window_only(train):
    run = train("factor_mc", {"estimator": "sample"})
    from scenarios.services.runs import load_checkpoint

    state = load_checkpoint(run.model_version)
    assert state.meta["train_end"] <= "2014-12-31"
    # Changing the holdout data cannot change the checkpoint: re-training on the same window gives the same bytes.
    again = train("factor_mc", {"estimator": "sample"}, version="1.0.1")
    assert again.checkpoint_sha256 == run.checkpoint_sha256


def test_an_overlapping_holdout_is_refused(developer, scenario_model, real_dataset):
    with pytest.raises(InvalidInput, match="strictly after"):
        training_run_start(actor=developer, model=scenario_model, version_label="1.0.0", dataset=real_dataset,
                           engine="factor_mc", train_end=dt.date(2014, 12, 31), holdout_start=dt.date(2014, 6, 1))
    assert not TrainingRun.objects.exists()


def test_bad_training_requests(developer, validator, scenario_model, real_dataset):
    common = dict(model=scenario_model, dataset=real_dataset, train_end=dt.date(2014, 12, 31),
                  holdout_start=dt.date(2015, 1, 1))
    with pytest.raises(InvalidInput, match="unknown engine"):
        training_run_start(actor=developer, version_label="1.0.0", engine="alchemy", **common)
    with pytest.raises(InvalidInput, match="unknown config keys"):
        training_run_start(actor=developer, version_label="1.0.0", engine="factor_mc", config={"bogus": 1},
                           **common)
    with pytest.raises(InvalidInput, match="semantic version"):
        training_run_start(actor=developer, version_label="one", engine="factor_mc", **common)
    with pytest.raises(Forbidden):
        training_run_start(actor=validator, version_label="1.0.0", engine="factor_mc", **common)


def test_a_failing_fit_ends_failed_with_its_reason_and_registers_nothing(train):
    run = train("garch_evt_copula", {"family": "gaussian"}, train_end=dt.date(1999, 4, 30))
    assert run.status == RunStatus.FAILED
    assert "training rows" in run.error or "need at least" in run.error
    assert run.model_version is None and not ModelVersion.objects.exists()
    assert AuditEvent.objects.filter(action="training_run.failed").exists()


def test_a_task_delivered_twice_does_its_work_once(train):
    run = train("factor_mc")
    training_run_execute(run.pk, worker="second-delivery")  # finished: nothing happens
    assert ModelVersion.objects.count() == 1
    assert TrainingRun.objects.get(pk=run.pk).attempts == 1


def test_a_run_held_by_a_live_worker_is_busy_and_a_dead_one_is_taken_over(developer, scenario_model, real_dataset,
                                                                         django_capture_on_commit_callbacks,
                                                                         settings):
    with django_capture_on_commit_callbacks(execute=False):
        run = training_run_start(actor=developer, model=scenario_model, version_label="2.0.0",
                                 dataset=real_dataset, engine="factor_mc", train_end=dt.date(2014, 12, 31),
                                 holdout_start=dt.date(2015, 1, 1))
    assert run_state.claim(TrainingRun, run.pk, worker="first")
    with pytest.raises(run_state.RunBusy):
        run_state.claim(TrainingRun, run.pk, worker="duplicate")
    # The first worker dies: its heartbeat gets old; the re-delivered task takes the run over.
    settings.CRUCIBLE_RUN_LEASE_SECONDS = 0
    training_run_execute(run.pk, worker="rescuer")
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.worker == "rescuer" and run.attempts == 2


def test_reaping_marks_lost_runs_failed(developer, scenario_model, real_dataset, django_capture_on_commit_callbacks,
                                       settings):
    with django_capture_on_commit_callbacks(execute=False):
        run = training_run_start(actor=developer, model=scenario_model, version_label="3.0.0",
                                 dataset=real_dataset, engine="factor_mc", train_end=dt.date(2014, 12, 31),
                                 holdout_start=dt.date(2015, 1, 1))
    run_state.claim(TrainingRun, run.pk, worker="doomed")
    settings.CRUCIBLE_RUN_LEASE_SECONDS = 0
    settings.CRUCIBLE_RUN_MAX_ATTEMPTS = 1  # out of attempts: failed, not re-queued
    assert run_state.reap_stale(TrainingRun) == [run.pk]
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "worker lost" in run.error
    assert not ModelVersion.objects.exists()


def test_cancel(developer, validator, scenario_model, real_dataset, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = training_run_start(actor=developer, model=scenario_model, version_label="4.0.0",
                                 dataset=real_dataset, engine="factor_mc", train_end=dt.date(2014, 12, 31),
                                 holdout_start=dt.date(2015, 1, 1))
    with pytest.raises(Forbidden):
        run_cancel(actor=validator, run=run)
    run = run_cancel(actor=developer, run=run)
    assert run.status == RunStatus.CANCELLED
    training_run_execute(run.pk, worker="late")
    assert not ModelVersion.objects.exists()
    with pytest.raises(Conflict):
        run_cancel(actor=developer, run=run)


def generate(actor, version, capture, **kwargs):
    with capture(execute=False):
        run = generation_run_start(actor=actor, model_version=version, **kwargs)
    generation_run_execute(run.pk, worker="test-worker")
    run.refresh_from_db()
    return run


def test_generation_for_use_needs_an_approved_version(train, developer, django_capture_on_commit_callbacks):
    version = train("factor_mc").model_version
    with pytest.raises(Conflict) as error:
        generation_run_start(actor=developer, model_version=version, n_scenarios=100, horizon=20, purpose="use")
    assert error.value.code == "version_not_usable"
    run = generate(developer, version, django_capture_on_commit_callbacks, n_scenarios=500, horizon=20,
                   purpose="development", seed=11, condition={"severity": "severe"})
    assert run.status == RunStatus.SUCCEEDED, run.error
    scenario_set = ScenarioSet.objects.get(generation_run=run)
    paths, factors = scenario_files.read_canonical(read_bytes(scenario_set.storage_path,
                                                              expected_sha256=scenario_set.sha256))
    assert paths.shape == (500, 20, 3) and factors == ["SP500", "NASDAQ", "WTI"]
    assert scenario_set.condition["severity"] == "severe" and scenario_set.seed == 11
    # Same seed, same bytes (bit-for-bit on CPU).
    again = generate(developer, version, django_capture_on_commit_callbacks, n_scenarios=500, horizon=20,
                     purpose="development", seed=11, condition={"severity": "severe"})
    assert ScenarioSet.objects.get(generation_run=again).sha256 == scenario_set.sha256
    assert LineageEdge.objects.filter(source__uid=f"scenario_set:{scenario_set.pk}",
                                      target__uid=f"generation_run:{run.pk}").exists()


def test_severity_raises_realised_volatility(train, developer, django_capture_on_commit_callbacks):
    version = train("garch_evt_copula", {"family": "student_t"}).model_version
    vols = {}
    for severity in ("mild", "severe"):
        run = generate(developer, version, django_capture_on_commit_callbacks, n_scenarios=2000, horizon=20,
                       purpose="development", seed=3, condition={"severity": severity})
        assert run.status == RunStatus.SUCCEEDED, run.error
        paths, _ = scenario_files.read_canonical(read_bytes(ScenarioSet.objects.get(generation_run=run).storage_path))
        vols[severity] = float(paths[:, :, 0].std())
    assert vols["severe"] > 1.3 * vols["mild"]


def test_bad_generation_requests(train, developer, auditor):
    version = train("factor_mc").model_version
    with pytest.raises(InvalidInput):
        generation_run_start(actor=developer, model_version=version, n_scenarios=0, horizon=20, purpose="development")
    with pytest.raises(InvalidInput, match="unknown severity"):
        generation_run_start(actor=developer, model_version=version, n_scenarios=10, horizon=20,
                             purpose="development", condition={"severity": "apocalyptic"})
    with pytest.raises(Forbidden):
        generation_run_start(actor=auditor, model_version=version, n_scenarios=10, horizon=20, purpose="development")
    assert not GenerationRun.objects.exists()


def test_engine_output_is_checked(train, developer, django_capture_on_commit_callbacks):
    version = train("historical_bootstrap", {"block_length": 5.0}).model_version
    run = generate(developer, version, django_capture_on_commit_callbacks, n_scenarios=300, horizon=10,
                   purpose="development", seed=1)
    paths, _ = scenario_files.read_canonical(read_bytes(ScenarioSet.objects.get(generation_run=run).storage_path))
    assert np.isfinite(paths).all()
