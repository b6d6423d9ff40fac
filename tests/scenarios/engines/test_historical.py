"""Historical replay and block bootstrap: known answers on real S&P 500 / NASDAQ / WTI data."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from scenarios.engines import historical
from scenarios.engines.base import Condition, FittedState

FACTORS = ["SPX", "NDX", "WTI"]
KINDS = ["equity", "equity", "commodity"]


@functools.cache
def real_increments() -> pd.DataFrame:
    """Daily log-returns of S&P 500, NASDAQ and WTI on common dates, 1999-2018 (bundled with arch)."""
    from arch.data import nasdaq, sp500, wti

    prices = pd.concat({"SPX": sp500.load()["Adj Close"], "NDX": nasdaq.load()["Adj Close"],
                        "WTI": wti.load()["DCOILWTICO"]}, axis=1, join="inner").dropna()
    return np.log(prices[(prices > 0).all(axis=1)]).diff().dropna()


@functools.cache
def fitted(method: str = "stationary", block_length: float = 10.0, regime: bool = False) -> FittedState:
    data = real_increments()
    config = historical.Config(method=method, block_length=block_length, regime_sampling=regime)
    return historical.fit(data.to_numpy(), FACTORS, config, KINDS)


# ── replay ──────────────────────────────────────────────────────────────────────────────────
def test_replay_named_window_is_the_exact_slice():
    data = real_increments()
    got = historical.replay_window(data.to_numpy(), data.index, "lehman_2008")
    expected = data.loc["2008-09-15":"2008-12-31"].to_numpy()
    np.testing.assert_array_equal(got, expected)
    assert got.shape[0] == len(data.loc["2008-09-15":"2008-12-31"]) > 60


@pytest.mark.parametrize("name", ["taper_2013", "eu_debt_2011", "china_2015", "volmageddon_2018"])
def test_replay_every_covered_named_window(name):
    data = real_increments()
    start, end = historical.NAMED_WINDOWS[name]
    got = historical.replay_window(data.to_numpy(), data.index.to_numpy(), name)
    np.testing.assert_array_equal(got, data.loc[start:end].to_numpy())


def test_replay_explicit_dates_inclusive_and_iso_strings():
    data = real_increments().iloc[:30]
    dates = [d.strftime("%Y-%m-%d") for d in data.index]
    got = historical.replay_window(data.to_numpy(), dates, dates[3], dates[7])
    np.testing.assert_array_equal(got, data.to_numpy()[3:8])


def test_replay_window_not_covered_names_the_window():
    data = real_increments()
    with pytest.raises(ValueError, match="covid_2020.*not covered"):
        historical.replay_window(data.to_numpy(), data.index, "covid_2020")


@pytest.mark.parametrize(("start", "end", "message"), [
    ("nonsense_1999", None, "not a named window"),
    ("lehman_2008", "2009-01-01", "named; do not pass an end"),
    ("2008-10-01", "2008-09-01", "before start"),
    ("2008-10-01", "not-a-date", "not a date"),
    ("2008-10-04", "2008-10-05", "no data rows"),  # a weekend
])
def test_replay_bad_windows(start, end, message):
    data = real_increments()
    with pytest.raises(ValueError, match=message):
        historical.replay_window(data.to_numpy(), data.index, start, end)


def test_replay_bad_dates():
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match="strictly increasing; row 2"):
        historical.replay_window(x, ["2020-01-01", "2020-01-02", "2020-01-02"], "2020-01-01", "2020-01-02")
    with pytest.raises(ValueError, match="2 dates for 3 rows"):
        historical.replay_window(x, ["2020-01-01", "2020-01-02"], "2020-01-01", "2020-01-02")
    with pytest.raises(ValueError, match="2-D"):
        historical.replay_window(np.zeros(3), ["2020-01-01", "2020-01-02", "2020-01-03"], "2020-01-01", "2020-01-02")


# ── bootstrap ───────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("method", ["stationary", "moving"])
def test_bootstrap_draws_only_historical_rows(method):
    state = fitted(method)
    paths = historical.sample(state, 200, 30, None, np.random.default_rng(1))
    assert paths.shape == (200, 30, 3)
    train = state.arrays["increments"]
    known = {row.tobytes() for row in train}
    assert all(row.tobytes() in known for row in paths.reshape(-1, 3))


@pytest.mark.parametrize("method", ["stationary", "moving"])
def test_bootstrap_preserves_marginal_mean(method):
    state = fitted(method)
    train = state.arrays["increments"]
    paths = historical.sample(state, 4000, 25, None, np.random.default_rng(2))
    # Blocks of ~10 correlated days: the effective sample is about rows / L, so allow 5 SE of that.
    se = train.std(axis=0) * np.sqrt(10.0 / (4000 * 25))
    assert np.all(np.abs(paths.reshape(-1, 3).mean(axis=0) - train.mean(axis=0)) < 5 * se)


def test_stationary_blocks_have_geometric_mean_length():
    config = historical.Config(method="stationary", block_length=8.0)
    rows = historical.block_indices(5000, 2000, 100, config, np.random.default_rng(3))
    steps = np.diff(rows, axis=1)
    continued = (steps == 1) | (steps == -(5000 - 1))  # circular wrap continues a block
    # P(continue) = 1 - 1/L, plus the 1/5000 chance that a fresh start lands on the next row.
    assert abs(continued.mean() - (1 - 1 / 8)) < 0.005


def test_moving_blocks_are_fixed_length_and_inside_the_sample():
    config = historical.Config(method="moving", block_length=5)
    rows = historical.block_indices(50, 300, 23, config, np.random.default_rng(4))
    assert rows.min() >= 0 and rows.max() < 50
    for block in range(5):
        chunk = rows[:, block * 5: block * 5 + 5]
        assert np.all(np.diff(chunk, axis=1) == 1)


def test_bootstrap_is_deterministic_per_seed_and_state_round_trips():
    state = fitted()
    a = historical.sample(state, 50, 20, None, np.random.default_rng(7))
    b = historical.sample(state, 50, 20, None, np.random.default_rng(7))
    c = historical.sample(state, 50, 20, None, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    restored = FittedState.from_bytes(state.to_bytes())
    np.testing.assert_array_equal(historical.sample(restored, 50, 20, None, np.random.default_rng(7)), a)
    assert restored.to_bytes() == state.to_bytes()


def _realised_vol(paths: np.ndarray) -> np.ndarray:
    return paths.std(axis=(0, 1))


def test_severe_condition_has_higher_vol_than_mild():
    state = fitted()
    mild = historical.sample(state, 2000, 20, Condition(severity="mild"), np.random.default_rng(5))
    severe = historical.sample(state, 2000, 20, Condition(severity="severe"), np.random.default_rng(5))
    assert np.all(_realised_vol(severe) > 1.4 * _realised_vol(mild))
    # Severity also sets the median 20-day equity move (base.SEVERITY_LEVELS).
    assert np.median(severe[:, :, 0].sum(axis=1)) == pytest.approx(-0.20)


def test_regime_sampling_starts_blocks_on_high_vol_days():
    state = fitted(regime=True)
    high, ratio = historical._regime(state, historical.Config(**state.config), "severe")
    assert ratio > 1.5  # the top-decile turbulent days really are turbulent on this data
    train = state.arrays["increments"]
    paths = historical.sample(state, 500, 10, Condition(severity="severe"), np.random.default_rng(6))
    plain = historical.sample(fitted(), 500, 10, None, np.random.default_rng(6))
    assert np.all(_realised_vol(paths) > 1.5 * _realised_vol(plain))
    # severe = 2x; the regime delivers ~ratio of it, so only the residual multiplier scales
    # the draws: un-conditioned draws must be rows starting in the high-vol set.
    raw = historical.block_indices(train.shape[0], 500, 10, historical.Config(**state.config),
                                   np.random.default_rng(6), high)
    assert set(raw[:, 0].tolist()) <= set(high.tolist())


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"method": "circular"}, "unknown bootstrap method"),
    ({"block_length": 0.5}, "block_length must be"),
    ({"method": "moving", "block_length": 2.5}, "integer block_length"),
    ({"vol_window": 0}, "vol_window"),
])
def test_bad_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        historical.Config(**kwargs)


def test_bad_fit_and_sample_inputs():
    x = np.random.default_rng(0).normal(size=(40, 2))
    with pytest.raises(ValueError, match="non-finite value.*'b'"):
        historical.fit(np.where(np.arange(80).reshape(40, 2) == 11, np.nan, x), ["a", "b"], historical.Config())
    with pytest.raises(ValueError, match="exceeds the 40 training rows"):
        historical.fit(x, ["a", "b"], historical.Config(method="moving", block_length=41))
    with pytest.raises(ValueError, match="historical.Config"):
        historical.fit(x, ["a", "b"], {"method": "stationary"})
    state = historical.fit(x, ["a", "b"], historical.Config())
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        historical.sample(state, 3, 0, None, np.random.default_rng(0))
