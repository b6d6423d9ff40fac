"""Conditioned sets are validated for what they are used for (issue 15 §1, §3): conformance to the condition,
plausibility under the model's unconditioned fit, coherence, and the adversarial conditioning audit."""

import numpy as np
import pytest

from governance.artifacts import store_bytes
from governance.services.lineage import lineage_entity
from scenarios import scenario_files
from scenarios.models import ScenarioSet
from scenarios.services.scenario_sets import scenario_set_array
from tests.validation.services.test_validation_runs import validate
from validation import suite

pytestmark = pytest.mark.django_db

COPULA = {"family": "student_t", "start_variance": "last", "max_fourth_moment_factor": 0.99}


@pytest.fixture
def copula_severe(train, generate, developer):
    version = train("garch_evt_copula", COPULA).model_version
    scenario_set = generate(developer, version, n_scenarios=1000, horizon=20, purpose="development", seed=3,
                            condition={"severity": "severe"})
    return version, scenario_set


def _doctored(scenario_set, paths, name):
    """A copy of ``scenario_set`` with other paths (what a broken conditional engine would have stored)."""
    blob = scenario_files.canonical_bytes(paths, list(scenario_set.factors))
    path, sha = store_bytes(blob, suffix=".parquet")
    doctored = ScenarioSet.objects.create(
        model_version=scenario_set.model_version, dataset=scenario_set.dataset, name=name, source="test:doctored",
        purpose=scenario_set.purpose, engine=scenario_set.engine, engine_config=scenario_set.engine_config,
        condition=scenario_set.condition, seed=scenario_set.seed, factors=scenario_set.factors,
        n_scenarios=paths.shape[0], horizon=paths.shape[1], sha256=sha, size_bytes=len(blob), storage_path=path,
        created_by=scenario_set.created_by)
    lineage_entity(uid=doctored.lineage_uid, kind="scenario_set", label=name, sha256=sha, object_type="scenario_set",
                   object_id=doctored.pk, actor=scenario_set.created_by)
    return doctored


def test_a_severe_set_is_judged_on_conformance_plausibility_coherence_and_the_adversarial_audit(
        copula_severe, validator, django_capture_on_commit_callbacks):
    _, scenario_set = copula_severe
    run = validate(validator, scenario_set, django_capture_on_commit_callbacks)
    assert run.status == "SUCCEEDED", run.error
    assert run.tiers == list(suite.CONDITIONED_TIERS)
    assert set(run.tier_outcomes) == set(suite.CONDITIONED_TIERS)
    vol = {r.factor: r for r in run.metrics.filter(name="conformance_vol_ratio")}
    assert set(vol) == {"SP500", "NASDAQ", "WTI"}
    # the copula scales deviations by exactly the asked multiplier: realised / asked - 1 ≈ 0
    assert all(abs(r.value) < 0.05 and r.outcome == "PASS" for r in vol.values()), [(r.value, r.outcome) for r in
                                                                                      vol.values()]
    targets = run.metrics.filter(name="conformance_target")
    assert {r.factor for r in targets} == {"SP500", "NASDAQ"}  # the equity factors get the drawdown target
    assert run.metrics.filter(tier="plausibility", name="plausibility_outside_share").exists()
    assert run.metrics.filter(tier="adversarial", name="severity_monotone").get().outcome == "PASS"
    # no stress result exists yet: the comparison had nothing to compare and says so
    assert run.tier_outcomes["comparison"] == "NOT_RUN"
    assert run.outcome in {"PASS", "WARN", "FAIL"}


def test_a_set_conditioned_severe_with_four_times_the_documented_vol_fails_conformance(
        copula_severe, validator, django_capture_on_commit_callbacks):
    _, scenario_set = copula_severe
    paths = scenario_set_array(scenario_set)
    mean = paths.mean(axis=0, keepdims=True)
    doctored = _doctored(scenario_set, mean + (paths - mean) * 4.0, "severe, but 8x vol")
    run = validate(validator, doctored, django_capture_on_commit_callbacks, tiers=["conformance"])
    rows = list(run.metrics.filter(name="conformance_vol_ratio"))
    assert rows and all(r.outcome == "FAIL" for r in rows)
    assert run.tier_outcomes == {"conformance": "FAIL"} and run.outcome == "FAIL"
    message = rows[0].details["message"]
    # 4 × the copula's own 2.0: about 8× the model's unconditioned paths (a different draw, hence not exactly 8)
    assert message.startswith("severe asked for 2.0× vol, set has ") and 7.0 < rows[0].details["realised"] < 9.0


def test_an_engine_that_ignores_the_condition_is_flagged_by_the_adversarial_audit(
        copula_severe, validator, django_capture_on_commit_callbacks, monkeypatch):
    from scenarios.engines import registry
    from validation.services import conditioned

    real = registry.sample_engine

    def ignores_the_condition(state, *, n, horizon, condition, seed):  # the test double: benign under stress
        return real(state, n=n, horizon=horizon, condition=None, seed=seed)

    monkeypatch.setattr(conditioned.registry, "sample_engine", ignores_the_condition)
    _, scenario_set = copula_severe
    run = validate(validator, scenario_set, django_capture_on_commit_callbacks, tiers=["adversarial"])
    benign = run.metrics.get(name="adversarial_benign_share")
    assert benign.value == pytest.approx(1.0) and benign.outcome == "FAIL"
    monotone = run.metrics.get(name="severity_monotone")
    assert monotone.value == 3 and monotone.outcome == "FAIL"


def test_the_fed_translation_is_judged_against_its_quarterly_targets(train, generate, developer, validator,
                                                                     django_capture_on_commit_callbacks):
    version = train("supervisory", {}, version="1.0.0-fed").model_version
    scenario_set = generate(developer, version, n_scenarios=300, horizon=63, purpose="development", seed=4,
                            condition={"supervisory": {"edition": "2025", "scenario": "severely_adverse"}})
    run = validate(validator, scenario_set, django_capture_on_commit_callbacks,
                   tiers=["conformance", "plausibility", "adversarial"])
    assert run.status == "SUCCEEDED", run.error
    targets = list(run.metrics.filter(name="conformance_target"))
    assert {r.factor for r in targets} == {"SP500", "NASDAQ", "WTI"}
    assert all(r.details["day"] == 63 for r in targets)
    # the Brownian-bridge translation hits its quarter-end targets: the median is on target up to the residual
    assert all(r.outcome in ("PASS", "WARN") for r in targets), [(r.factor, r.value) for r in targets]
    assert all(r.outcome == "NOT_RUN" for r in run.metrics.filter(name="conformance_vol_ratio"))
    assert run.metrics.get(tier="plausibility", name="plausibility_outside_share").details["reference"].startswith(
        "300 real 63-day windows")
    assert run.tier_outcomes["adversarial"] == "NOT_RUN"


def test_validation_of_an_unconditioned_set_names_the_tiers_that_tested_nothing(
        train, generate, developer, validator, django_capture_on_commit_callbacks):
    version = train("factor_mc").model_version
    scenario_set = generate(developer, version, n_scenarios=300, horizon=20, purpose="development", seed=5)
    run = validate(validator, scenario_set, django_capture_on_commit_callbacks,
                   tiers=["conformance", "comparison", "univariate"])
    assert run.tier_outcomes["conformance"] == "NOT_RUN" and run.tier_outcomes["comparison"] == "NOT_RUN"
    assert run.outcome == run.tier_outcomes["univariate"]
    assert np.isnan(run.metrics.get(name="conformance_vol_ratio").value or np.nan)
