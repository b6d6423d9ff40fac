"""Holdout re-conditioning of engines with a GJR filter (scenarios.engines.replay), against arch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from arch import arch_model

from scenarios.engines import copula, registry, replay


@pytest.fixture(scope="module")
def panel():
    from arch.data import nasdaq, sp500

    prices = pd.concat({"SP500": sp500.load()["Adj Close"], "NASDAQ": nasdaq.load()["Adj Close"]},
                       axis=1, join="inner").dropna()
    returns = np.log(prices).diff().dropna()
    return returns[returns.index <= "2012-12-31"], returns[(returns.index > "2012-12-31")
                                                           & (returns.index <= "2014-12-31")]


@pytest.fixture(scope="module")
def fitted(panel):
    train, _ = panel
    config = registry.make_config("garch_evt_copula", {"family": "student_t"})
    return registry.fit_engine("garch_evt_copula", train.to_numpy(), list(train.columns), config,
                               kinds=["equity", "equity"])


def test_day_ahead_variances_equal_arch_filter_with_frozen_parameters(panel, fitted):
    """Oracle: arch's GJR filter with the fitted parameters fixed, run on training + later data."""
    train, after = panel
    h = replay.day_ahead_variances(fitted, after.to_numpy())
    params, scales = fitted.arrays["garch_params"], fitted.arrays["scale"]
    for j, name in enumerate(train.columns):
        series = pd.concat([train[name], after[name]]).to_numpy() * scales[j]
        model = arch_model(series, mean="Constant", vol="GARCH", p=1, o=1, q=1, dist="t", rescale=False)
        fixed = model.fix(params[j])
        expected = np.asarray(fixed.conditional_volatility)[len(train):] ** 2
        np.testing.assert_allclose(h[:, j], expected, rtol=1e-6)
    np.testing.assert_allclose(h[0], fitted.arrays["h_next"], rtol=1e-12)


def test_reconditioned_paths_start_from_the_given_state(fitted):
    state = np.array([[4.0, 0.25]])  # twice and half the unit variance, in scaled units
    paths = registry.sample_engine(replay.reconditioned(fitted, state), n=40_000, horizon=2, condition=None, seed=3)
    unit = registry.sample_engine(replay.unit_start(fitted), n=40_000, horizon=1, condition=None, seed=3)
    mean, scale = replay.scaled_mean_and_scale(fitted)
    np.testing.assert_allclose(paths[:, 0, :].std(axis=0) * scale, np.sqrt(state[0]), rtol=0.03)
    innovations = replay.day_one_innovations(unit, fitted)
    np.testing.assert_allclose(innovations.std(axis=0), 1.0, rtol=0.03)
    np.testing.assert_allclose(innovations.mean(axis=0), 0.0, atol=0.02)
    # the same seed: a one-day reconditioned path is the unit-start innovation scaled by sqrt(h)
    one_day = registry.sample_engine(replay.reconditioned(fitted, state), n=40_000, horizon=1, condition=None,
                                     seed=3)
    np.testing.assert_allclose((one_day[:, 0, :] - mean) * scale, innovations * np.sqrt(state[0]), rtol=1e-9,
                               atol=1e-12)


def test_reconditioning_leaves_the_fitted_state_alone(fitted):
    before = fitted.arrays["h_hist"].copy()
    other = replay.reconditioned(fitted, np.ones((3, 2)))
    assert other.config["start_variance"] == "historical" and fitted.config["start_variance"] == "last"
    np.testing.assert_array_equal(fitted.arrays["h_hist"], before)


def test_every_filtered_engine_is_covered_and_others_are_not():
    assert set(replay.STATE_LAYOUT) == {"garch_evt_copula", *registry.DEEP_ENGINES}
    historical = registry.fit_engine("historical_bootstrap", np.random.default_rng(0).normal(size=(300, 2)), ["a", "b"],
                                     registry.make_config("historical_bootstrap", {}), kinds=None)
    assert not replay.supports(historical)
    with pytest.raises(ValueError, match="no volatility filter"):
        replay.day_ahead_variances(historical, np.zeros((5, 2)))


@pytest.mark.parametrize(("after", "message"), [
    (np.zeros((5, 3)), r"expected \[T, 2\]"), (np.full((5, 2), np.nan), "non-finite"),
])
def test_bad_inputs_raise(fitted, after, message):
    with pytest.raises(ValueError, match=message):
        replay.day_ahead_variances(fitted, after)


@pytest.mark.parametrize("states", [np.ones((0, 2)), np.ones((2, 3)), -np.ones((2, 2)), np.full((1, 2), np.inf)])
def test_bad_start_variances_raise(fitted, states):
    with pytest.raises(ValueError, match="start variances"):
        replay.reconditioned(fitted, states)


def test_copula_config_default_is_unchanged():
    assert copula.Config().start_variance == "last"
