"""Generation governance: condition bounds (400 naming the bound, or a developer's audited reason) and the
plausibility filter (paths removed and counted; a filter removing too much fails the run, nothing stored)."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from governance.artifacts import read_bytes
from governance.errors import Forbidden, InvalidInput
from governance.models import AuditEvent, RunStatus
from scenarios import scenario_files
from scenarios.datasets import read_canonical
from scenarios.models import GenerationRun, ScenarioSet
from scenarios.services.datasets import dataset_import_builtin
from scenarios.services.runs import (
    generation_run_execute,
    generation_run_start,
    load_increments,
    training_run_execute,
    training_run_start,
)

pytestmark = pytest.mark.django_db

DEV = {"purpose": "development", "horizon": 10, "seed": 5}


@pytest.fixture
def version(train):
    trained = train("historical_bootstrap", {"block_length": 5.0})
    assert trained.status == RunStatus.SUCCEEDED, trained.error
    return trained.model_version


def run_generation(actor, version, django_capture_on_commit_callbacks, **kwargs) -> GenerationRun:
    with django_capture_on_commit_callbacks(execute=False):
        started = generation_run_start(actor=actor, model_version=version, **kwargs)
    generation_run_execute(started.pk, worker="test-worker")
    started.refresh_from_db()
    return started


def stored_paths(scenario_set: ScenarioSet) -> np.ndarray:
    return scenario_files.read_canonical(read_bytes(scenario_set.storage_path,
                                                    expected_sha256=scenario_set.sha256))[0]


# ── condition bounds ──────────────────────────────────────────────────────────────────────────
def test_a_severe_request_with_a_tenth_of_the_vol_is_refused_naming_the_trained_range(developer, version):
    with pytest.raises(InvalidInput) as refused:
        generation_run_start(actor=developer, model_version=version, n_scenarios=100,
                             condition={"severity": "severe", "vol_multiplier": 0.1}, **DEV)
    assert refused.value.code == "condition_out_of_range"
    assert "vol_multiplier 0.1 is below the trained range 1.0–3.0" in refused.value.message
    assert any("1.0–3.0" in m for m in refused.value.details["condition"])
    assert not GenerationRun.objects.exists()


def test_an_equity_rally_under_a_severity_is_refused(developer, version):
    with pytest.raises(InvalidInput, match="must be a drawdown") as refused:
        generation_run_start(actor=developer, model_version=version, n_scenarios=100,
                             condition={"severity": "severe", "targets": [{"factor": "SP500", "move": 0.5,
                                                                           "days": 20}]}, **DEV)
    assert refused.value.details["condition"]


def test_a_target_beyond_three_times_the_worst_training_move_is_refused(developer, version,
                                                                      django_capture_on_commit_callbacks):
    train = load_increments(version.training_run_row.dataset)
    train = train[train.index <= "2014-12-31"]
    worst = train["SP500"].rolling(20).sum().min()  # the oracle: pandas' rolling window
    with pytest.raises(InvalidInput, match="outside the trained range"):
        generation_run_start(actor=developer, model_version=version, n_scenarios=100,
                             condition={"targets": [{"factor": "SP500", "move": 3.05 * worst, "days": 20}]}, **DEV)
    run = run_generation(developer, version, django_capture_on_commit_callbacks, n_scenarios=50,
                         condition={"targets": [{"factor": "SP500", "move": 2.95 * worst, "days": 20}]}, **DEV)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.condition_bounds["breaches"] == []
    assert run.condition_bounds["bounds"]["moves"]["20"]["SP500"][0] == pytest.approx(3 * worst)


def test_a_developer_reason_lets_the_run_proceed_audited_and_marks_the_set(developer, version,
                                                                          django_capture_on_commit_callbacks):
    reason = "reverse-stress exploration: how calm can a severe equity path be"
    run = run_generation(developer, version, django_capture_on_commit_callbacks, n_scenarios=60,
                         condition={"severity": "severe", "vol_multiplier": 0.1}, out_of_range_reason=reason, **DEV)
    assert run.status == RunStatus.SUCCEEDED, run.error
    event = AuditEvent.objects.get(action="generation_run.out_of_training_range", object_id=str(run.pk))
    assert event.after["reason"] == reason
    assert any("1.0–3.0" in b["message"] for b in event.after["breaches"])
    scenario_set = ScenarioSet.objects.get(generation_run=run)
    assert scenario_set.out_of_training_range and scenario_set.out_of_range_reason == reason
    assert scenario_set.condition_bounds["bounds"]["vol_multiplier"] == [1.0, 3.0]
    assert [b["field"] for b in scenario_set.condition_bounds["breaches"]] == ["vol_multiplier", "vol_multiplier"]


def test_only_a_developer_of_the_version_may_give_a_reason(validator, version, drive_to):
    version = drive_to(version, "in_validation")
    with pytest.raises(Forbidden, match="only a developer"):
        generation_run_start(actor=validator, model_version=version, n_scenarios=100, horizon=10,
                             purpose="validation", condition={"severity": "severe", "vol_multiplier": 0.1},
                             out_of_range_reason="I say so")
    assert not GenerationRun.objects.exists()


def test_an_unconditioned_or_in_range_request_is_never_marked(developer, version, django_capture_on_commit_callbacks):
    plain = run_generation(developer, version, django_capture_on_commit_callbacks, n_scenarios=40, **DEV)
    severe = run_generation(developer, version, django_capture_on_commit_callbacks, n_scenarios=40,
                            condition={"severity": "severe"}, **DEV)
    assert plain.condition_bounds == {} and not plain.scenario_set.out_of_training_range
    assert severe.condition_bounds["breaches"] == [] and severe.condition_bounds["bounds"]["severities"]
    assert not severe.scenario_set.out_of_training_range
    assert not AuditEvent.objects.filter(action="generation_run.out_of_training_range").exists()


def test_an_unknown_target_factor_is_refused_even_with_a_reason(developer, version):
    with pytest.raises(InvalidInput, match="unknown factor 'GOLD'"):
        generation_run_start(actor=developer, model_version=version, n_scenarios=10, out_of_range_reason="x",
                             condition={"targets": [{"factor": "GOLD", "move": -0.1, "days": 5}]}, **DEV)


# ── plausibility filter ───────────────────────────────────────────────────────────────────────
def test_the_filter_removes_exactly_the_violating_paths_and_records_why(developer, version,
                                                                       django_capture_on_commit_callbacks):
    plain = run_generation(developer, version, django_capture_on_commit_callbacks, n_scenarios=400, **DEV)
    unfiltered = stored_paths(plain.scenario_set)
    largest = np.abs(unfiltered[:, :, 0]).max(axis=1)
    cut = float(np.sort(largest)[-8])  # paths whose largest S&P 500 day exceeds this: the 7 above it
    violating = largest > cut
    assert violating.sum() == 7
    rules = [{"rule": "max_daily_move", "factor": "SP500", "maximum_abs": cut}]
    run = run_generation(developer, version, django_capture_on_commit_callbacks, n_scenarios=400,
                         plausibility_filter={"rules": rules}, **DEV)
    assert run.status == RunStatus.SUCCEEDED, run.error
    scenario_set = run.scenario_set
    # Same seed, same draws: the set is the unfiltered one without exactly the violating paths.
    assert np.array_equal(stored_paths(scenario_set), unfiltered[~violating])
    assert scenario_set.n_scenarios == 393 and run.n_scenarios == 400
    report = scenario_set.filter_report
    assert report["drawn"] == 400 and report["removed"] == 7 and report["share"] == pytest.approx(7 / 400)
    assert report["reasons"] == {"max_daily_move(SP500)": 7} and report["max_share"] == 0.05
    assert run.filter_report == report


def test_a_filter_removing_more_than_the_policy_share_fails_the_run_and_stores_nothing(
        developer, version, django_capture_on_commit_callbacks):
    rules = [{"rule": "max_daily_move", "factor": "SP500", "maximum_abs": 0.01}]
    run = run_generation(developer, version, django_capture_on_commit_callbacks, n_scenarios=200,
                         plausibility_filter={"rules": rules}, **DEV)
    assert run.status == RunStatus.FAILED
    assert "the plausibility filter would remove" in run.error
    assert "% of the paths (max_daily_move(SP500): " in run.error
    assert "more than the 5 % a policy allows" in run.error
    share = run.filter_report["share"]
    assert share > 0.05 and f"{100 * share:.1f} %" in run.error
    assert not ScenarioSet.objects.exists()
    assert AuditEvent.objects.filter(action="generation_run.failed", object_id=str(run.pk)).exists()


def test_a_filtered_run_reproduces_bit_for_bit(developer, version, django_capture_on_commit_callbacks):
    run = run_generation(developer, version, django_capture_on_commit_callbacks, n_scenarios=300,
                         plausibility_filter={"rules": [{"rule": "max_daily_move", "factor": "SP500",
                                                         "maximum_abs": 0.06}]}, **DEV)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert 0 < run.filter_report["removed"]  # the filter did remove paths, so reproducing must filter too
    out = io.StringIO()
    try:
        call_command("reproduce", "--generation-run", str(run.pk), stdout=out)
    except CommandError as error:  # pragma: no cover - the failure message is the diagnosis
        pytest.fail(out.getvalue() + str(error))
    assert "MATCH: bit-for-bit" in out.getvalue() and run.scenario_set.sha256 in out.getvalue()


@pytest.mark.parametrize(("spec", "match"), [
    ({"rules": [{"rule": "non_negative", "factor": "GOLD"}]}, "unknown factor 'GOLD'"),
    ({"rules": [{"rule": "non_negative", "factor": "SP500"}]}, "no starting level"),
    ({"rules": []}, "non-empty list"),
    ({"default": True, "rules": []}, "either rules or default"),
    ({"default": "yes"}, "true or false"),
    ({"filters": []}, "unknown keys filters"),
    ([1, 2], "must be"),
])
def test_a_bad_filter_is_refused_naming_the_problem(developer, version, spec, match):
    with pytest.raises(InvalidInput, match=match):
        generation_run_start(actor=developer, model_version=version, n_scenarios=10, plausibility_filter=spec, **DEV)


def test_the_default_filter_starts_vix_levels_at_the_end_of_training(developer, scenario_model,
                                                                    django_capture_on_commit_callbacks):
    dataset = dataset_import_builtin(actor=developer, builtin="vix")
    with django_capture_on_commit_callbacks(execute=False):
        started = training_run_start(actor=developer, model=scenario_model, version_label="1.0.0", dataset=dataset,
                                     engine="historical_bootstrap", config={}, train_end=dt.date(2016, 12, 31),
                                     holdout_start=dt.date(2017, 1, 1), seed=3)
    training_run_execute(started.pk, worker="test-worker")
    started.refresh_from_db()
    assert started.status == RunStatus.SUCCEEDED, started.error
    levels = read_canonical(read_bytes(dataset.storage_path, expected_sha256=dataset.sha256))
    level0 = float(levels[levels.index <= "2016-12-31"]["VIX"].iloc[-1])
    run = run_generation(developer, started.model_version, django_capture_on_commit_callbacks, n_scenarios=200,
                         plausibility_filter={"default": True}, **DEV)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.plausibility_filter == {"default": True, "rules": [{"rule": "non_negative", "factor": "VIX",
                                                                   "level0": level0}]}
    # every kept path keeps VIX non-negative
    kept = stored_paths(run.scenario_set)
    assert (level0 + np.cumsum(kept[:, :, 0], axis=1)).min() >= 0
    assert run.scenario_set.n_scenarios == 200 - run.filter_report["removed"]
    # Three times the historical vol of daily VIX changes, bootstrapped from a VIX of about 14, drives more than
    # 5 % of the paths below zero: the default filter refuses to hide that, and the run fails.
    extreme = run_generation(developer, started.model_version, django_capture_on_commit_callbacks, n_scenarios=200,
                             plausibility_filter={"default": True}, condition={"severity": "extreme"}, **DEV)
    assert extreme.status == RunStatus.FAILED and "non_negative(VIX)" in extreme.error
    assert extreme.filter_report["share"] > 0.05 and not ScenarioSet.objects.filter(generation_run=extreme).exists()
