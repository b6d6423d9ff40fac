"""Crisis tier: Wasserstein pinned to scipy, the loss quantile to a hand computation, uncovered windows skipped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wasserstein_distance

from validation.metrics.crisis import (
    CRISIS_WINDOWS,
    crisis_loss_quantile,
    crisis_metrics,
    crisis_wasserstein,
    loss_quantile,
)

FACTORS = ["eq", "rates"]


def frame(start="2007-01-01", end="2010-12-31", seed=0):
    dates = pd.bdate_range(start, end)
    values = np.random.default_rng(seed).standard_normal((dates.size, 2)) * [0.01, 0.002]
    return pd.DataFrame(values, index=dates, columns=["rates", "eq"])[["eq", "rates"]].assign(other=1.0)


def test_wasserstein_equals_scipy_per_factor_and_window():
    real = frame()
    synthetic = np.random.default_rng(1).standard_normal((200, 20, 2)) * 0.01
    results = crisis_metrics(synthetic, real, FACTORS, windows={"gfc": ("2008-09-15", "2009-03-31")})
    window = real.loc["2008-09-15":"2009-03-31", FACTORS].to_numpy()
    w = [m for m in results if m.name == "crisis_wasserstein"]
    assert [m.factor for m in w] == FACTORS
    for j, m in enumerate(w):
        assert m.value == pytest.approx(wasserstein_distance(synthetic[:, :, j].ravel(), window[:, j]), rel=1e-12)
        assert m.details["days"] == window.shape[0] and m.tier == "crisis"
    np.testing.assert_allclose(crisis_wasserstein(synthetic, window), [m.value for m in w], rtol=1e-12)


def test_loss_quantile_by_hand():
    # Two factors, weights (1, 0): losses are minus the first factor's horizon sum.
    dates = pd.bdate_range("2020-01-01", periods=10)
    crisis = np.zeros((10, 2))
    crisis[3:6, 0] = [-0.05, -0.02, -0.01]  # worst 3-day window loses 0.08, starting on the 4th day
    real = pd.DataFrame(crisis, index=dates, columns=FACTORS)
    synthetic = np.zeros((4, 3, 2))
    synthetic[:, 0, 0] = [-0.01, -0.08, -0.10, 0.02]  # generated losses 0.01, 0.08, 0.10, -0.02
    [q] = [m for m in crisis_metrics(synthetic, real, FACTORS, windows={"c": ("2020-01-01", "2020-01-14")},
                                     weights=[1.0, 0.0]) if m.name == "crisis_loss_quantile"]
    assert q.details["realised_loss"] == pytest.approx(0.08)
    assert q.details["worst_window_start"] == str(dates[3].date())
    assert q.value == pytest.approx((2 + 0.5) / 4)  # two below, one tie
    assert q.passed is True
    assert crisis_loss_quantile(synthetic, crisis, [1.0, 0.0]) == pytest.approx(0.625)
    assert loss_quantile(np.array([0.0, 1.0]), 5.0) == 1.0


def test_window_shorter_than_horizon_uses_its_whole_loss():
    real = frame()
    synthetic = np.random.default_rng(2).standard_normal((100, 60, 2)) * 0.01
    [q] = [m for m in crisis_metrics(synthetic, real, FACTORS, windows={"short": ("2008-10-06", "2008-10-10")})
           if m.name == "crisis_loss_quantile"]
    window = real.loc["2008-10-06":"2008-10-10", FACTORS].to_numpy()
    assert q.details["shorter_than_horizon"] and q.details["worst_window_days"] == 5
    assert q.details["realised_loss"] == pytest.approx(-(window.sum(axis=0) @ [0.5, 0.5]))


def test_uncovered_windows_are_skipped_not_errors():
    real = frame()
    results = crisis_metrics(np.zeros((10, 20, 2)), real, FACTORS)
    skipped = {m.details["window"]: m for m in results if m.name == "crisis_window_skipped"}
    assert "covid_2020" in skipped and "ltcm_1998" in skipped and "gfc_2008" not in skipped
    assert all(m.direction == "info" and m.passed is None for m in skipped.values())
    assert "does not cover" in skipped["covid_2020"].details["reason"]
    assert {m.details["window"] for m in results if m.name == "crisis_loss_quantile"} == {"gfc_2008"}
    assert set(CRISIS_WINDOWS) == set(skipped) | {"gfc_2008"}


def test_real_sp500_crises():
    from arch.data import sp500

    prices = sp500.load()["Adj Close"]
    returns = np.log(prices).diff().dropna().to_frame("spx")
    rng = np.random.default_rng(3)
    calm = rng.standard_normal((2000, 20, 1)) * 0.008
    stressed = rng.standard_t(3, size=(2000, 20, 1)) * 0.025 - 0.004
    windows = {"gfc": ("2008-09-15", "2009-03-31"), "covid": ("2020-02-19", "2020-04-30")}
    calm_r, stressed_r = (crisis_metrics(s, returns, ["spx"], windows=windows, weights=[1.0]) for s in (calm, stressed))
    q_calm = next(m for m in calm_r if m.name == "crisis_loss_quantile")
    q_stressed = next(m for m in stressed_r if m.name == "crisis_loss_quantile")
    assert q_calm.value == 1.0 and q_calm.passed is False
    assert q_stressed.value < 0.99 and q_stressed.passed is True
    assert q_calm.details["realised_loss"] > 0.25  # the worst 20 days of the GFC lost over a quarter
    w_calm = next(m for m in calm_r if m.name == "crisis_wasserstein").value
    assert w_calm > next(m for m in stressed_r if m.name == "crisis_wasserstein").value
    assert [m.details["window"] for m in calm_r if m.name == "crisis_window_skipped"] == ["covid"]


def test_bad_input():
    real = frame()
    synthetic = np.zeros((10, 20, 2))
    with pytest.raises(ValueError, match="no column for factors \\['vix'\\]"):
        crisis_metrics(synthetic, real, ["eq", "vix"])
    with pytest.raises(ValueError, match="pass its dates"):
        crisis_metrics(synthetic, real[FACTORS].to_numpy(), FACTORS)
    with pytest.raises(ValueError, match="strictly increasing"):
        crisis_metrics(synthetic, real[FACTORS].to_numpy(), FACTORS, dates=real.index[::-1])
    with pytest.raises(ValueError, match="got 3 dates for"):
        crisis_metrics(synthetic, real[FACTORS].to_numpy(), FACTORS, dates=real.index[:3])
    with pytest.raises(ValueError, match="ends .* before it starts"):
        crisis_metrics(synthetic, real, FACTORS, windows={"x": ("2009-01-01", "2008-01-01")})
    with pytest.raises(ValueError, match="3 portfolio weights for 2 factors"):
        crisis_metrics(synthetic, real, FACTORS, weights=[1, 1, 1])
    with pytest.raises(ValueError, match="factor names must match"):
        crisis_metrics(np.zeros((10, 20, 3)), real, FACTORS)
    bad = real.copy()
    bad.iloc[5, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite value at row 5, column 1"):
        crisis_metrics(synthetic, bad, FACTORS)


def test_no_crisis_window_to_test_is_not_run():
    real = frame()
    synthetic = np.random.default_rng(3).standard_normal((100, 20, 2)) * 0.01
    [row] = crisis_metrics(synthetic, real, FACTORS, windows={})
    assert row.name == "crisis_windows_none" and row.not_run and row.passed is None


def test_an_uncovered_window_is_not_run_and_names_the_crisis():
    real = frame()
    synthetic = np.random.default_rng(3).standard_normal((100, 20, 2)) * 0.01
    [row] = crisis_metrics(synthetic, real, FACTORS, windows={"covid": ("2020-02-19", "2020-04-30")})
    assert row.name == "crisis_window_skipped" and "covid" in row.not_run and row.passed is None


def test_a_portfolio_without_exposure_has_no_crisis_loss_to_place():
    real = frame()
    synthetic = np.random.default_rng(3).standard_normal((100, 20, 2)) * 0.01
    results = crisis_metrics(synthetic, real, FACTORS, windows={"gfc": ("2008-09-15", "2009-03-31")},
                             weights=[0.0, 0.0])
    [q] = [r for r in results if r.name == "crisis_loss_quantile"]
    assert "no exposure" in q.not_run and q.passed is None


def test_a_crisis_far_beyond_the_scenarios_fails_the_loss_quantile():
    real = frame()
    real.loc["2008-09-15":"2009-03-31", "eq"] -= 0.02  # a steady 2 % daily fall through the crisis
    synthetic = np.random.default_rng(3).standard_normal((500, 20, 2)) * 0.001
    [q] = [r for r in crisis_metrics(synthetic, real, FACTORS, windows={"gfc": ("2008-09-15", "2009-03-31")},
                                     weights=[1.0, 0.0]) if r.name == "crisis_loss_quantile"]
    assert q.value == 1.0 and q.passed is False
