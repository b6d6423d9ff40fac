"""Factor Monte Carlo: covariance reproduced, EWMA by hand, Ledoit-Wolf by sklearn, gamma scaling."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from sklearn.covariance import LedoitWolf

from scenarios.engines import factor_mc
from scenarios.engines.base import Condition, FittedState

FACTORS = ["SPX", "NDX", "WTI"]
KINDS = ["equity", "equity", "commodity"]


@functools.cache
def real_increments() -> np.ndarray:
    """Daily log-returns of S&P 500, NASDAQ and WTI on common dates, 1999-2018 (bundled with arch)."""
    from arch.data import nasdaq, sp500, wti

    prices = pd.concat({"SPX": sp500.load()["Adj Close"], "NDX": nasdaq.load()["Adj Close"],
                        "WTI": wti.load()["DCOILWTICO"]}, axis=1, join="inner").dropna()
    return np.log(prices[(prices > 0).all(axis=1)]).diff().dropna().to_numpy()


def test_sample_covariance_is_reproduced():
    data = real_increments()
    state = factor_mc.fit(data, FACTORS, factor_mc.Config(), KINDS)
    np.testing.assert_allclose(state.arrays["cov"], np.cov(data, rowvar=False))
    np.testing.assert_allclose(state.arrays["mean"], data.mean(axis=0))
    draws = factor_mc.sample(state, 200_000, 1, None, np.random.default_rng(0))[:, 0, :]
    cov = state.arrays["cov"]
    assert np.linalg.norm(np.cov(draws, rowvar=False) - cov) / np.linalg.norm(cov) < 0.02
    se = np.sqrt(np.diag(cov) / 200_000)
    assert np.all(np.abs(draws.mean(axis=0) - state.arrays["mean"]) < 5 * se)


def test_days_are_iid_over_the_horizon():
    state = factor_mc.fit(real_increments(), FACTORS, factor_mc.Config(), KINDS)
    paths = factor_mc.sample(state, 50_000, 4, None, np.random.default_rng(1))
    lag = np.corrcoef(paths[:, 0, 0], paths[:, 1, 0])[0, 1]
    assert abs(lag) < 5 / np.sqrt(50_000)


def test_ewma_matches_hand_recursion():
    data = real_increments()[-300:]
    lam = 0.94
    s = np.zeros((3, 3))
    for row in data:  # RiskMetrics recursion from S_0 = 0, then normalised weights
        s = lam * s + (1 - lam) * np.outer(row, row)
    expected = s / (1 - lam ** data.shape[0])
    state = factor_mc.fit(data, FACTORS, factor_mc.Config(estimator="ewma"), KINDS)
    np.testing.assert_allclose(state.arrays["cov"], expected, rtol=1e-12)
    np.testing.assert_allclose(factor_mc.ewma_covariance(data[:, :1], 0.5),
                               [[sum(0.5 * 0.5**i * data[-1 - i, 0] ** 2 for i in range(300)) / (1 - 0.5**300)]])


def test_ledoit_wolf_matches_sklearn():
    data = real_increments()[:100]
    state = factor_mc.fit(data, FACTORS, factor_mc.Config(estimator="ledoit_wolf"), KINDS)
    np.testing.assert_allclose(state.arrays["cov"], LedoitWolf().fit(data).covariance_)


def test_gamma_scales_the_std():
    data = real_increments()
    base = factor_mc.fit(data, FACTORS, factor_mc.Config(), KINDS)
    amplified = factor_mc.fit(data, FACTORS, factor_mc.Config(gamma=2.5), KINDS)
    a = factor_mc.sample(base, 20_000, 5, None, np.random.default_rng(2))
    b = factor_mc.sample(amplified, 20_000, 5, None, np.random.default_rng(2))
    mean = base.arrays["mean"]
    np.testing.assert_allclose(b - mean, 2.5 * (a - mean), rtol=1e-12, atol=1e-15)  # same z, shocks scaled
    np.testing.assert_allclose(b.std(axis=(0, 1)) / np.sqrt(np.diag(base.arrays["cov"])), 2.5, rtol=0.02)


def test_determinism_and_state_round_trip():
    state = factor_mc.fit(real_increments(), FACTORS, factor_mc.Config(estimator="ewma"), KINDS)
    a = factor_mc.sample(state, 100, 10, None, np.random.default_rng(5))
    np.testing.assert_array_equal(a, factor_mc.sample(state, 100, 10, None, np.random.default_rng(5)))
    assert not np.array_equal(a, factor_mc.sample(state, 100, 10, None, np.random.default_rng(6)))
    restored = FittedState.from_bytes(state.to_bytes())
    np.testing.assert_array_equal(factor_mc.sample(restored, 100, 10, None, np.random.default_rng(5)), a)


def test_severe_condition_has_higher_vol_than_mild():
    state = factor_mc.fit(real_increments(), FACTORS, factor_mc.Config(), KINDS)
    mild = factor_mc.sample(state, 5000, 20, Condition(severity="mild"), np.random.default_rng(3))
    severe = factor_mc.sample(state, 5000, 20, Condition(severity="severe"), np.random.default_rng(3))
    assert np.all(severe.std(axis=(0, 1)) > 1.5 * mild.std(axis=(0, 1)))
    assert np.median(severe[:, :, 0].sum(axis=1)) == pytest.approx(-0.20)


def test_singular_covariance_still_samples():
    x = np.random.default_rng(0).normal(size=(200, 1))
    state = factor_mc.fit(np.hstack([x, x]), ["a", "b"], factor_mc.Config(mean="zero"))
    paths = factor_mc.sample(state, 1000, 2, None, np.random.default_rng(0))
    np.testing.assert_allclose(paths[..., 0], paths[..., 1], atol=1e-12)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"estimator": "oas"}, "unknown covariance estimator 'oas'"),
    ({"ewma_lambda": 1.0}, "ewma_lambda must lie strictly between 0 and 1"),
    ({"gamma": 0.5}, "gamma must be a finite number >= 1"),
    ({"mean": "median"}, "unknown mean"),
])
def test_bad_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        factor_mc.Config(**kwargs)


def test_bad_inputs():
    data = real_increments()
    with pytest.raises(ValueError, match="3 columns but 2 factor names"):
        factor_mc.fit(data, ["a", "b"], factor_mc.Config())
    with pytest.raises(ValueError, match="need at least 30 training rows"):
        factor_mc.fit(data[:5], FACTORS, factor_mc.Config())
    with pytest.raises(ValueError, match="2 kinds for 3 factors"):
        factor_mc.fit(data, FACTORS, factor_mc.Config(), ["equity", "equity"])
    state = factor_mc.fit(data, FACTORS, factor_mc.Config())
    with pytest.raises(ValueError, match="n must be a positive integer"):
        factor_mc.sample(state, 2.5, 3, None, np.random.default_rng(0))
    with pytest.raises(ValueError, match="not 'factor_mc'"):
        factor_mc.sample(FittedState(engine="other", config={}, factors=FACTORS), 1, 1, None, np.random.default_rng(0))
