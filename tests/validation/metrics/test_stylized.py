"""Stylized-facts tier (Cont 2001): Hill vs closed forms, estimators vs published S&P 500 values, and the
discrimination test — a block bootstrap of real returns passes, iid Gaussian data with the same covariance fails."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from validation.metrics.stylized import coverage, hill_estimator, measure_facts, stylized_metrics
from validation.metrics.temporal import pooled_acf

FACTORS = ["spx", "ndx", "wti"]


@lru_cache(maxsize=1)
def real_log_returns() -> pd.DataFrame:
    """S&P 500, NASDAQ and WTI daily log-returns 1999–2018 on common dates (arch.data)."""
    from arch.data import nasdaq, sp500, wti

    prices = pd.concat({"spx": sp500.load()["Adj Close"], "ndx": nasdaq.load()["Adj Close"],
                        "wti": wti.load()["DCOILWTICO"]}, axis=1, sort=True).dropna()
    prices = prices[prices.index >= "1999-01-01"]
    return np.log(prices).diff().dropna()


def test_hill_on_exact_pareto_quantiles_matches_the_closed_form():
    # X_(i) = (n / i)^(1/alpha): log X_(i) - log X_(k+1) = log((k+1)/i) / alpha, so
    # 1/alpha_hat = [k log(k+1) - log k!] / (alpha k).
    alpha, n, k = 3.0, 1000, 50
    losses = (n / np.arange(1, n + 1)) ** (1 / alpha)
    expected = alpha * k / (k * math.log(k + 1) - math.lgamma(k + 1))
    assert hill_estimator(np.random.default_rng(0).permutation(losses), k) == pytest.approx(expected, rel=1e-12)


def test_hill_on_pareto_samples_is_unbiased_in_the_gamma_sense():
    # For Pareto(alpha) data, k * gamma_hat * alpha ~ Gamma(k, 1) exactly (Rényi representation).
    alpha, k = 2.5, 400
    rng = np.random.default_rng(1)
    gammas = [1 / hill_estimator(rng.pareto(alpha, 20_000) + 1.0, k) for _ in range(40)]
    mean = np.mean(gammas) * alpha
    assert mean == pytest.approx(1.0, abs=3 / math.sqrt(k * 40))


@pytest.mark.parametrize(("losses", "k", "message"), [
    (np.ones((3, 3)), 1, "one-dimensional"),
    (np.array([1.0, np.nan, 2.0]), 1, "non-finite"),
    (np.arange(1.0, 5.0), 4, "k must be an integer in 1..3"),
    (np.array([3.0, 2.0, -1.0, -2.0]), 2, "Hill needs k\\+1 positive losses"),
])
def test_hill_bad_input(losses, k, message):
    with pytest.raises(ValueError, match=message):
        hill_estimator(losses, k)


def test_estimators_reproduce_published_sp500_facts():
    from arch.data import sp500

    r = np.diff(np.log(sp500.load()["Adj Close"].to_numpy()))  # all S&P 500 days 1999–2018
    facts = measure_facts(r[None, :, None])
    assert facts["excess_kurtosis"][0] == pytest.approx(8.2, abs=0.3)
    assert facts["excess_kurtosis"][0] == pytest.approx(stats.kurtosis(r), rel=1e-12)
    assert facts["abs_acf_lag1"][0] == pytest.approx(0.24, abs=0.02)
    assert pooled_acf(np.abs(r)[None, :], 100)[99] == pytest.approx(0.12, abs=0.02)
    assert facts["leverage_lag1"][0] == pytest.approx(-0.11, abs=0.03)
    assert 2.0 <= facts["hill_alpha"][0] <= 5.0  # Cont (2001): tail index between 2 and 5


def _split():
    r = real_log_returns()
    return r[r.index < "2015-01-01"].to_numpy(), r[r.index >= "2015-01-01"].to_numpy()


def moving_block_paths(real, n, horizon, block, rng):
    """Paths made of ``horizon // block`` moving blocks of ``block`` consecutive real days (Künsch 1989)."""
    starts = rng.integers(0, real.shape[0] - block + 1, size=(n, horizon // block))
    index = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(n, -1)
    return real[index]


def test_discrimination_block_bootstrap_passes_and_gaussian_fails():
    training, holdout = _split()
    rng = np.random.default_rng(2015)
    bootstrap = moving_block_paths(training, 2000, 60, 30, rng)
    gaussian = rng.multivariate_normal(training.mean(axis=0), np.cov(training, rowvar=False), size=(2000, 60))
    equity = ["spx", "ndx"]
    good = stylized_metrics(bootstrap, holdout, FACTORS, equity_factors=equity)
    bad = stylized_metrics(gaussian, holdout, FACTORS, equity_factors=equity)
    good_cov, bad_cov = good[-1], bad[-1]
    assert good_cov.name == bad_cov.name == "stylized_coverage"
    assert good_cov.passed is True, good_cov.details
    assert bad_cov.passed is False
    assert good_cov.value >= 0.9 and bad_cov.value <= 0.6
    missed = set(bad_cov.details["missed"])
    assert {"fat_tails:spx", "volatility_clustering:spx", "fat_tails:wti", "volatility_clustering:wti"} <= missed
    # Each fact reports what it measured on both sides.
    fat = next(m for m in bad if m.name == "stylized_fat_tails" and m.factor == "spx")
    assert fat.details["real"] > 1 > fat.details["synthetic"]
    assert fat.details["real_shows"] and not fat.details["synthetic_shows"]
    assert not any(m.name == "stylized_leverage_effect" and m.factor == "wti" for m in good)


def test_coverage_raw_statistic_and_short_horizon():
    training, holdout = _split()
    rng = np.random.default_rng(3)
    assert coverage(moving_block_paths(training, 500, 60, 20, rng), holdout) >= 0.8
    short = stylized_metrics(moving_block_paths(training, 2000, 10, 10, rng), holdout, FACTORS)
    skipped = [m for m in short if m.name == "stylized_long_memory"]
    assert skipped and all(m.direction == "info" and "skipped" in m.details for m in skipped)
    assert short[-1].details["facts"] == 3 * 4 + 1


def test_bad_input():
    training, holdout = _split()
    paths = moving_block_paths(training, 50, 20, 20, np.random.default_rng(4))
    with pytest.raises(ValueError, match="equity factors \\['dax'\\]"):
        stylized_metrics(paths, holdout, FACTORS, equity_factors=["dax"])
    [short_holdout] = stylized_metrics(paths, holdout[:50], FACTORS)
    assert short_holdout.name == "stylized_coverage" and "at least 100" in short_holdout.not_run
    with pytest.raises(ValueError, match="factor names must match"):
        stylized_metrics(paths[:, :, :2], holdout, FACTORS)
    [short_paths] = stylized_metrics(paths[:, :4], holdout, FACTORS)
    assert "at least 6" in short_paths.not_run and short_paths.passed is None
    with pytest.raises(ValueError, match="at least 6 steps"):
        measure_facts(paths[:, :4])
    holdout = holdout.copy()
    holdout[7, 2] = np.inf
    with pytest.raises(ValueError, match="non-finite value at row 7, column 2"):
        stylized_metrics(paths, holdout, FACTORS)


def test_no_equity_factor_leaves_the_leverage_effect_not_run():
    training, holdout = _split()
    paths = moving_block_paths(training, 300, 20, 20, np.random.default_rng(5))
    results = stylized_metrics(paths, holdout, FACTORS, equity_factors=[])
    leverage = [r for r in results if r.name == "stylized_leverage_effect"]
    assert len(leverage) == 1 and "no equity factor" in leverage[0].not_run and leverage[0].passed is None
    assert results[-1].name == "stylized_coverage" and not results[-1].not_run
