"""Every statistical tier of the suite can FAIL, and says NOT_RUN (never PASS) where it has nothing to test.

Issue 15 §2 ("no hollow verdicts"): each test feeds ``validation.suite.statistical`` data that must fail one
tier, judged under the tier-2 defaults of the policy, and each tier that can have nothing to test is shown
to be NOT_RUN there. The newer tiers (conformance, plausibility, adversarial, comparison, coherence) have
their own tests beside their metrics.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from validation import suite
from validation.outcomes import judge, summarise
from validation.policy_defaults import thresholds_for

FACTORS = ["eq", "rates"]
KINDS = ["equity", "rates"]
COV = np.array([[1.0, 0.3], [0.3, 1.0]]) * 1e-4  # 1 % daily vol, correlation 0.3
FLOOR = {"resamples": 10, "paths": 200}


def _iid(rng, rows):
    return rng.multivariate_normal(np.zeros(2), COV, size=rows)


def _paths(rng, n=200, horizon=20):
    return rng.multivariate_normal(np.zeros(2), COV, size=(n, horizon))


def _clustered(rng, rows):
    """Volatility that switches between a calm and a wild regime every 40 days (a mixture of normals: fat
    tails, and strong, persistent clustering of |r| and r² — a holdout that an iid generator cannot match)."""
    vol = np.where((np.arange(rows) // 40) % 2 == 0, 0.3, 3.0)[:, None]
    return (_iid(rng, rows) * vol)


def _tier_outcome(inputs: suite.Inputs, tier: str, seed: int = 0) -> tuple[str, list]:
    results = suite.statistical(inputs, [tier], rng=np.random.default_rng(seed), floor_config=FLOOR)
    judged = judge(results, thresholds_for(2))
    tiers, _ = summarise(judged)
    return tiers[tier], judged


def _inputs(synthetic, train, holdout, **kwargs) -> suite.Inputs:
    return suite.Inputs(synthetic=synthetic, train=train, holdout=holdout, factors=list(FACTORS), kinds=list(KINDS),
                        **kwargs)


def _failed(judged) -> set[str]:
    return {item.result.name for item in judged if item.outcome == "FAIL"}


# ------------------------------------------------------------------------------------------- FAIL per tier


def test_a_set_with_four_times_the_volatility_fails_the_univariate_tier():
    rng = np.random.default_rng(1)
    outcome, judged = _tier_outcome(_inputs(4 * _paths(rng), _iid(rng, 500), _iid(rng, 300)), "univariate")
    assert outcome == "FAIL"
    assert {"vol_rel_diff_daily", "ks_daily"} <= _failed(judged)


def test_a_set_with_four_times_the_volatility_fails_the_multivariate_tier():
    rng = np.random.default_rng(2)
    outcome, judged = _tier_outcome(_inputs(4 * _paths(rng), _iid(rng, 500), _iid(rng, 300)), "multivariate")
    assert outcome == "FAIL"
    assert {"energy_distance_daily", "mmd2_daily"} <= _failed(judged)


def test_iid_paths_fail_the_temporal_tier_against_a_clustered_holdout():
    rng = np.random.default_rng(3)
    train, holdout = _clustered(rng, 1200), _clustered(rng, 600)
    synthetic = _paths(rng, n=300, horizon=20) * holdout.std(axis=0) / 0.01
    outcome, judged = _tier_outcome(_inputs(synthetic, train, holdout), "temporal")
    assert outcome == "FAIL"
    assert "acf_abs_returns" in _failed(judged)


def test_iid_gaussian_paths_fail_the_stylized_facts_of_a_fat_tailed_clustered_holdout():
    rng = np.random.default_rng(4)
    train, holdout = _clustered(rng, 1200), _clustered(rng, 600)
    synthetic = _paths(rng, n=300, horizon=20) * holdout.std(axis=0) / 0.01
    outcome, judged = _tier_outcome(_inputs(synthetic, train, holdout), "stylized_facts")
    assert outcome == "FAIL"
    assert {"stylized_coverage", "stylized_volatility_clustering"} <= _failed(judged)


def test_copies_of_training_windows_fail_the_memorisation_tier():
    rng = np.random.default_rng(5)
    train, holdout = _iid(rng, 500), _iid(rng, 300)
    starts = rng.integers(0, 500 - 20, size=200)
    copies = train[starts[:, None] + np.arange(20)[None, :]]
    outcome, judged = _tier_outcome(_inputs(copies, train, holdout), "memorisation")
    assert outcome == "FAIL"
    assert {"memorisation_copies", "memorisation_distance_ratio", "memorisation_close_share"} <= _failed(judged)


def test_a_var_far_too_small_fails_the_risk_backtest_tier():
    rng = np.random.default_rng(6)
    synthetic = 0.1 * _paths(rng, n=1000)  # a tenth of the real volatility
    outcome, judged = _tier_outcome(_inputs(synthetic, _iid(rng, 500), _iid(rng, 300)), "risk_backtest")
    assert outcome == "FAIL"
    assert {"kupiec_pof", "basel_traffic_light", "es_backtest_z2"} <= _failed(judged)


def _history(rng, start, end, crash: float = 0.0) -> pd.DataFrame:
    dates = pd.bdate_range(start, end)
    frame = pd.DataFrame(_iid(rng, dates.size), index=dates, columns=FACTORS)
    frame.loc["2020-02-19":"2020-04-30", "eq"] -= crash
    return frame


def test_a_crisis_loss_far_beyond_every_scenario_fails_the_crisis_tier():
    rng = np.random.default_rng(7)
    history = _history(rng, "2019-01-01", "2020-12-31", crash=0.03)  # covid: a 3 % fall every day
    inputs = _inputs(_paths(rng), _iid(rng, 300), _iid(rng, 200), history=history, train_end=dt.date(2019, 12, 31))
    outcome, judged = _tier_outcome(inputs, "crisis")
    assert outcome == "FAIL"
    [quantile] = [item for item in judged if item.result.name == "crisis_loss_quantile"]
    assert quantile.result.details["window"] == "covid_2020" and quantile.result.value == 1.0


# ------------------------------------------------------------------------------ NOT_RUN where nothing to test


def test_one_factor_leaves_the_multivariate_tier_not_run():
    rng = np.random.default_rng(11)
    inputs = suite.Inputs(synthetic=_paths(rng)[:, :, :1], train=_iid(rng, 500)[:, :1], holdout=_iid(rng, 300)[:, :1],
                          factors=["eq"], kinds=["equity"])
    outcome, judged = _tier_outcome(inputs, "multivariate")
    assert outcome == "NOT_RUN"
    assert all(item.outcome == "NOT_RUN" for item in judged)


@pytest.mark.parametrize("horizon", [2])
def test_paths_too_short_for_serial_dependence_leave_the_temporal_tier_not_run(horizon):
    rng = np.random.default_rng(12)
    outcome, _ = _tier_outcome(_inputs(_paths(rng, horizon=horizon), _iid(rng, 500), _iid(rng, 300)), "temporal")
    assert outcome == "NOT_RUN"


def test_constant_paths_leave_the_temporal_tier_not_run_never_pass():
    # A constant path has no autocorrelation and no Ljung-Box statistic: nothing to compare.
    rng = np.random.default_rng(13)
    synthetic = np.full((200, 20, 2), 0.001)
    outcome, judged = _tier_outcome(_inputs(synthetic, _iid(rng, 500), _iid(rng, 300)), "temporal")
    assert outcome == "NOT_RUN"
    assert all("constant" in item.result.not_run for item in judged)


@pytest.mark.parametrize("horizon", [2, 4])
def test_paths_too_short_for_stylized_facts_leave_the_tier_not_run(horizon):
    rng = np.random.default_rng(14)
    outcome, _ = _tier_outcome(_inputs(_paths(rng, horizon=horizon), _iid(rng, 500), _iid(rng, 300)),
                               "stylized_facts")
    assert outcome == "NOT_RUN"


def test_a_training_window_shorter_than_the_horizon_leaves_memorisation_not_run():
    rng = np.random.default_rng(15)
    outcome, _ = _tier_outcome(_inputs(_paths(rng, horizon=20), _iid(rng, 10), _iid(rng, 300)), "memorisation")
    assert outcome == "NOT_RUN"


def test_a_holdout_too_short_for_a_backtest_leaves_the_risk_backtest_not_run():
    rng = np.random.default_rng(16)
    outcome, judged = _tier_outcome(_inputs(0.1 * _paths(rng, n=1000), _iid(rng, 500), _iid(rng, 50)),
                                    "risk_backtest")
    assert outcome == "NOT_RUN"
    assert {item.outcome for item in judged} == {"INFO", "NOT_RUN"}


def test_no_crisis_after_the_training_cut_off_leaves_the_crisis_tier_not_run():
    rng = np.random.default_rng(17)
    history = _history(rng, "2019-01-01", "2022-12-30", crash=0.03)
    inputs = _inputs(_paths(rng), _iid(rng, 300), _iid(rng, 200), history=history, train_end=dt.date(2021, 1, 4))
    outcome, judged = _tier_outcome(inputs, "crisis")
    assert outcome == "NOT_RUN"
    assert "no named crisis window" in judged[0].result.not_run


def test_no_dated_history_leaves_the_crisis_tier_not_run():
    rng = np.random.default_rng(18)
    outcome, _ = _tier_outcome(_inputs(_paths(rng), _iid(rng, 300), _iid(rng, 200)), "crisis")
    assert outcome == "NOT_RUN"


def test_the_same_generator_passes_every_tier_it_can_be_tested_on():
    # The other side of the coin: the fail tests above fail because of the data, not because a tier always
    # fails. Draws from the holdout's own distribution pass the univariate, multivariate and memorisation tiers.
    rng = np.random.default_rng(19)
    inputs = _inputs(_paths(rng, n=300), _iid(rng, 1000), _iid(rng, 500))
    for tier in ("univariate", "multivariate", "memorisation"):
        outcome, judged = _tier_outcome(inputs, tier)
        assert outcome in ("PASS", "WARN"), (tier, _failed(judged))
