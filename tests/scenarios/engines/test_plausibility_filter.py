"""The plausibility filter removes exactly the violating paths, says why, and refuses to remove too many."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios.engines.plausibility_filter import (
    FILTER_MAX_SHARE,
    FilterRejected,
    apply_filter,
    default_filter_rules,
    filter_paths,
)

FACTORS = ["SP500", "VIX"]


def constructed_paths() -> np.ndarray:
    """100 quiet paths; path 3 takes VIX (level 15) below zero, path 7 has a -0.4 equity day, path 9 both."""
    paths = np.full((100, 5, 2), 0.001)
    paths[3, 2, 1] = -20.0
    paths[7, 1, 0] = -0.4
    paths[9, 4, 1] = -16.0
    paths[9, 0, 0] = 0.3
    return paths


RULES = [{"rule": "non_negative", "factor": "VIX"}, {"rule": "max_daily_move", "factor": "SP500", "maximum_abs": 0.25}]


def test_the_filter_removes_exactly_the_violating_paths_and_counts_the_reasons():
    kept, reasons = filter_paths(constructed_paths(), FACTORS, RULES, {"VIX": 15.0})
    assert np.flatnonzero(~kept).tolist() == [3, 7, 9]
    assert reasons == {"non_negative(VIX)": 2, "max_daily_move(SP500)": 2}


def test_floor_and_ceiling_use_the_level_from_the_starting_point():
    paths = np.zeros((4, 3, 2))
    paths[1, :, 1] = [1.0, 1.0, 1.0]  # VIX 15 -> 18: above a ceiling of 17.5
    paths[2, :, 1] = [-1.0, -1.0, 0.0]  # VIX 15 -> 13: below a floor of 13.5
    rules = [{"rule": "ceiling", "factor": "VIX", "maximum": 17.5},
             {"rule": "floor", "factor": "VIX", "minimum": 13.5, "level0": 15.0, "name": "vix floor"}]
    kept, reasons = filter_paths(paths, FACTORS, rules, {"VIX": 15.0})
    assert kept.tolist() == [True, False, False, True]
    assert reasons == {"ceiling(VIX)": 1, "vix floor": 1}


def test_a_filter_within_the_share_returns_the_kept_paths_and_a_report():
    paths = constructed_paths()
    kept, report = apply_filter(paths, FACTORS, RULES, {"VIX": 15.0})
    assert kept.shape == (97, 5, 2) and np.array_equal(kept, np.delete(paths, [3, 7, 9], axis=0))
    assert report["drawn"] == 100 and report["removed"] == 3 and report["share"] == pytest.approx(0.03)
    assert report["max_share"] == FILTER_MAX_SHARE == 0.05
    assert report["rules"][0] == {"rule": "non_negative", "factor": "VIX", "level0": 15.0}


def test_a_filter_removing_more_than_the_policy_share_is_refused_with_the_share_and_reasons():
    paths = constructed_paths()
    paths[10:40, 0, 1] = -30.0  # 30 more negative VIX paths: 33 % removed
    with pytest.raises(FilterRejected) as caught:
        apply_filter(paths, FACTORS, RULES, {"VIX": 15.0})
    message = str(caught.value)
    assert "would remove 33.0 % of the paths (non_negative(VIX): 32; max_daily_move(SP500): 2)" in message
    assert "more than the 5 % a policy allows" in message
    assert caught.value.report["removed"] == 33


def test_default_rules_guard_vol_levels_and_equity_days():
    rules = default_filter_rules(["SP500", "VIX", "AAA", "EURUSD"], ["equity", "volatility", "rates", "fx"],
                                 {"SP500": "prices", "VIX": "levels", "AAA": "rates", "EURUSD": "prices"},
                                 {"VIX": 14.2, "AAA": 3.9})
    assert rules == [{"rule": "max_daily_move", "factor": "SP500", "maximum_abs": 0.25},
                     {"rule": "non_negative", "factor": "VIX", "level0": 14.2},
                     {"rule": "max_daily_move", "factor": "EURUSD", "maximum_abs": 0.2}]


@pytest.mark.parametrize(("rules", "match"), [
    ({"rule": "non_negative"}, "list"),
    ([{"rule": "co_move", "factor": "VIX"}], "unknown rule 'co_move'"),
    ([{"rule": "non_negative", "factor": "GOLD"}], "unknown factor 'GOLD'"),
    ([{"rule": "non_negative", "factor": "SP500"}], "no starting level"),
    ([{"rule": "max_daily_move", "factor": "SP500"}], "missing maximum_abs"),
    ([{"rule": "max_daily_move", "factor": "SP500", "maximum_abs": -1}], "must be > 0"),
    ([{"rule": "floor", "factor": "VIX", "minimum": "low"}], "must be a number"),
    ([{"rule": "floor", "factor": "VIX", "minimum": 1, "colour": "red"}], "unknown keys colour"),
])
def test_bad_rules_are_refused_by_name(rules, match):
    with pytest.raises(ValueError, match=match):
        filter_paths(np.zeros((2, 3, 2)), FACTORS, rules, {"VIX": 15.0})


def test_bad_paths_are_refused():
    with pytest.raises(ValueError, match="2 factors"):
        filter_paths(np.zeros((2, 3, 3)), FACTORS, RULES, {"VIX": 15.0})
    with pytest.raises(ValueError, match="non-finite"):
        filter_paths(np.full((2, 3, 2), np.inf), FACTORS, RULES, {"VIX": 15.0})
