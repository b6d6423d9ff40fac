"""Condition bounds: the range an engine was trained for, from the training array, and the check of a request."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios.engines.base import Condition, Target
from scenarios.engines.conditions import (
    DEFAULT_VOL_RANGE,
    bounds_for,
    check_condition,
    realised_move_range,
    vol_only_bounds,
)

FACTORS = ["SP500", "WTI"]
KINDS = ["equity", "commodity"]


@pytest.fixture
def train() -> np.ndarray:
    return np.random.default_rng(3).normal(0.0, 0.01, size=(250, 2))


def rolling_sums(x: np.ndarray, days: int) -> np.ndarray:
    # the oracle: every window summed by a plain loop
    return np.array([x[t:t + days].sum(axis=0) for t in range(x.shape[0] - days + 1)])


def test_the_move_bounds_are_three_times_the_extreme_rolling_sums_of_the_training_data(train):
    bounds = bounds_for("garch_evt_copula", train, FACTORS, KINDS, horizon=20, windows=[5, 60])
    assert bounds.vol_multiplier == DEFAULT_VOL_RANGE == (1.0, 3.0)
    for days in (5, 20, 60):
        sums = rolling_sums(train, days)
        for j, factor in enumerate(FACTORS):
            lo, hi = bounds.moves[days][factor]
            assert lo == pytest.approx(3.0 * min(0.0, sums[:, j].min()), rel=1e-12)
            assert hi == pytest.approx(3.0 * max(0.0, sums[:, j].max()), rel=1e-12)
    assert bounds.severities == ("mild", "moderate", "severe", "extreme")
    assert bounds.train_rows == 250


def test_a_window_longer_than_the_training_data_is_scaled_by_the_square_root_of_time():
    x = np.array([[0.01], [-0.02], [0.03]])
    low, high = realised_move_range(x, 12)
    assert low[0] == pytest.approx(0.02 * 2.0) and high[0] == pytest.approx(0.02 * 2.0)  # sqrt(12/3) = 2


def test_an_untrained_window_length_is_scaled_from_the_horizon(train):
    bounds = bounds_for("garch_evt_copula", train, FACTORS, KINDS, horizon=20)
    lo, hi = bounds.move_range("SP500", 80)
    assert (lo, hi) == pytest.approx(tuple(2.0 * v for v in bounds.moves[20]["SP500"]))
    assert bounds.move_range("GOLD", 20) is None


def test_a_severe_request_with_a_tenth_of_the_vol_breaches_the_trained_range(train):
    bounds = bounds_for("garch_evt_copula", train, FACTORS, KINDS, horizon=20)
    breaches = check_condition(Condition(severity="severe", vol_multiplier=0.1), bounds, FACTORS, KINDS, 20)
    messages = [b.message for b in breaches]
    assert "vol_multiplier 0.1 is below the trained range 1.0–3.0 of engine garch_evt_copula" in messages
    assert any("below the severe level 2.0" in m for m in messages)
    assert {b.field for b in breaches} == {"vol_multiplier"}


def test_a_vol_multiplier_above_the_extreme_level_breaches(train):
    bounds = bounds_for("garch_evt_copula", train, FACTORS, KINDS, horizon=20)
    (breach,) = check_condition(Condition(vol_multiplier=4.0), bounds, FACTORS, KINDS, 20)
    assert breach.message.startswith("vol_multiplier 4.0 is above the trained range 1.0–3.0")


def test_an_equity_rally_under_a_severity_breaches(train):
    bounds = bounds_for("garch_evt_copula", train, FACTORS, KINDS, horizon=20, windows=[20])
    condition = Condition(severity="severe", targets=(Target("SP500", 0.5, 20),))
    messages = [b.message for b in check_condition(condition, bounds, FACTORS, KINDS, 20)]
    assert any("must be a drawdown" in m for m in messages)
    # +0.5 in logs is also far beyond three times the best 20-day move of a 1 %-vol series
    assert any("outside the trained range" in m for m in messages)


def test_a_target_within_three_times_the_worst_move_passes_and_beyond_it_breaches(train):
    bounds = bounds_for("garch_evt_copula", train, FACTORS, KINDS, horizon=20, windows=[20])
    worst = rolling_sums(train, 20)[:, 0].min()
    inside = Condition(severity="severe", targets=(Target("SP500", 2.9 * worst, 20),))
    outside = Condition(severity="severe", targets=(Target("SP500", 3.1 * worst, 20),))
    assert check_condition(inside, bounds, FACTORS, KINDS, 20) == []
    (breach,) = check_condition(outside, bounds, FACTORS, KINDS, 20)
    assert breach.field == "targets[0].move" and "SP500 20-day move" in breach.bound


def test_historical_severities_and_an_unconditioned_request_are_in_range(train):
    bounds = bounds_for("historical_bootstrap", train, FACTORS, KINDS, horizon=20)
    assert check_condition(None, bounds, FACTORS, KINDS, 20) == []
    for severity in ("mild", "moderate", "severe", "extreme"):
        assert check_condition(Condition(severity=severity), bounds, FACTORS, KINDS, 20) == []


def test_an_engine_range_override_narrows_the_allowed_severities(train):
    bounds = bounds_for("garch_evt_copula", train, FACTORS, KINDS, horizon=20, vol_range=(1.0, 1.5))
    assert bounds.severities == ("mild", "moderate")
    (breach,) = check_condition(Condition(severity="extreme"), bounds, FACTORS, KINDS, 20)
    assert breach.field == "severity" and "1.0–1.5" in breach.message


def test_a_supervisory_path_is_bounded_on_its_vol_only(train):
    bounds = vol_only_bounds("supervisory", 20)
    condition = Condition(vol_multiplier=0.5, targets=(Target("SP500", 5.0, 20),), extra={"fed_path": []})
    (breach,) = check_condition(condition, bounds, FACTORS, KINDS, 20)
    assert breach.field == "vol_multiplier"


def test_bad_training_arrays_are_refused():
    with pytest.raises(ValueError, match="2 factors"):
        bounds_for("historical_bootstrap", np.zeros((10, 3)), FACTORS, KINDS, 20)
    with pytest.raises(ValueError, match="finite"):
        bounds_for("historical_bootstrap", np.full((10, 2), np.nan), FACTORS, KINDS, 20)
    with pytest.raises(ValueError, match="horizon"):
        bounds_for("historical_bootstrap", np.zeros((10, 2)), FACTORS, KINDS, 0)
