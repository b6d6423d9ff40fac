"""The rolling (day-ahead) VaR/ES backtest against closed forms for Gaussian forecasts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from validation.metrics.backtest import DayAhead, day_ahead_var_es, var_backtest


def _forecast(sigma: np.ndarray, n: int = 200_000, seed: int = 0) -> DayAhead:
    innovations = np.random.default_rng(seed).standard_normal((n, 1))
    return DayAhead(mean=np.zeros(1), sigma=sigma.reshape(-1, 1), innovations=innovations, method="test")


def test_day_ahead_var_and_es_match_the_normal_closed_form():
    sigma = np.array([0.01, 0.02, 0.05])
    var, es = day_ahead_var_es(_forecast(sigma), np.ones(1), 0.01)
    z = stats.norm.ppf(0.99)
    np.testing.assert_allclose(var, z * sigma, rtol=0.01)
    np.testing.assert_allclose(es, stats.norm.pdf(z) / 0.01 * sigma, rtol=0.015)


def test_hits_follow_each_days_var_not_a_static_one():
    rng = np.random.default_rng(1)
    sigma = np.where(np.arange(1000) < 500, 0.01, 0.04)  # a calm then a stressed regime
    real = (rng.standard_normal(1000) * sigma).reshape(-1, 1)
    results = {r.name: r for r in var_backtest(np.zeros((200, 1, 1)), real, np.ones(1), day_ahead=_forecast(sigma))}
    expected_hits = (real[:, 0] < -stats.norm.ppf(0.99) * sigma)
    assert results["var_exceedance_rate"].details["hits"] == expected_hits.astype(int).tolist()
    assert results["var_exceedance_rate"].details["method"] == "test"
    assert len(results["var_exceedance_rate"].details["var_by_day"]) == 1000
    # correctly specified forecasts pass Kupiec; a static 1 % VaR of the calm regime would not
    assert results["kupiec_pof"].passed
    static_sigma = np.full(1000, 0.01)
    static = {r.name: r for r in var_backtest(np.zeros((200, 1, 1)), real, np.ones(1),
                                              day_ahead=_forecast(static_sigma))}
    assert not static["kupiec_pof"].passed


def test_z2_with_time_varying_es_is_the_acerbi_szekely_sum():
    sigma = np.linspace(0.01, 0.03, 400)
    real = (np.random.default_rng(2).standard_t(4, 400) * sigma * 0.9).reshape(-1, 1)
    forecast = _forecast(sigma)
    results = {r.name: r for r in var_backtest(np.zeros((200, 1, 1)), real, np.ones(1), day_ahead=forecast,
                                               rng=np.random.default_rng(0))}
    var, es = day_ahead_var_es(forecast, np.ones(1), 0.01)
    hits = real[:, 0] < -var
    z2 = 1.0 - np.sum(-real[:, 0] * hits / es) / (400 * 0.01)
    assert results["es_backtest_z2"].value == pytest.approx(z2, rel=1e-12)
    assert 0 < results["es_backtest_z2"].pvalue <= 1


@pytest.mark.parametrize(("forecast", "message"), [
    (DayAhead(np.zeros(1), np.ones((3, 1)), np.ones((5, 1))), r"sigma has shape"),
    (DayAhead(np.zeros(1), np.ones((10, 1)), np.ones((5, 2))), r"innovations must be"),
    (DayAhead(np.zeros(1), np.full((10, 1), np.nan), np.ones((5, 1))), "non-finite"),
])
def test_bad_day_ahead_forecasts_raise(forecast, message):
    with pytest.raises(ValueError, match=message):
        var_backtest(np.zeros((200, 1, 1)), np.zeros((10, 1)), np.ones(1), day_ahead=forecast)


def test_day_ahead_needs_horizon_one():
    with pytest.raises(ValueError, match="horizon 1"):
        var_backtest(np.zeros((200, 5, 1)), np.zeros((10, 1)), np.ones(1), horizon=2,
                     day_ahead=_forecast(np.ones(10)))
