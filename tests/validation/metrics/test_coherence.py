"""Coherence tier: violation shares on hand-built scenarios, and clear errors for bad rules."""

from __future__ import annotations

import json

import numpy as np
import pytest

from validation.metrics.coherence import coherence_metrics, parse_rules, violation_shares

FACTORS = ["equity", "hy_spread", "ust10y", "vix"]


def scenarios():
    """Four 3-day scenarios with known totals (equity log-return, spread/yield/VIX level changes)."""
    s = np.zeros((4, 3, 4))
    s[:, 0, 0] = [-0.30, -0.25, -0.05, 0.10]  # equity: two severe falls, a mild one, a rally
    s[:, 0, 1] = [0.02, -0.01, 0.00, -0.01]  # spread: widens in #0, tightens in #1 (incoherent)
    s[:, :, 2] = [[-1.0, -1.0, -1.0], [0.1, 0.1, 0.1], [-1.5, 0.5, 1.0], [0, 0, 0]]  # yield from 2 %
    s[:, :, 3] = [[5, -10, 0], [-15, 0, 0], [1, 1, 1], [-25, 30, 0]]  # VIX from 20
    return s


RULES = [
    {"rule": "co_move", "factor_a": "equity", "direction_a": "down", "factor_b": "hy_spread", "direction_b": "up",
     "min_size": 0.2, "name": "equity crash widens spreads"},
    {"rule": "floor", "factor": "ust10y", "level0": 2.0, "minimum": -1.0},
    {"rule": "non_negative", "factor": "vix", "level0": 20.0},
    {"rule": "ceiling", "factor": "vix", "level0": 20.0, "maximum": 50.0},
]


def test_violation_shares_by_hand():
    results = coherence_metrics(scenarios(), None, FACTORS, rules=json.loads(json.dumps(RULES)))
    co, floor, nonneg, ceiling = results
    # co_move: severe = #0, #1 (falls > 0.2); #1 has spreads tightening -> 1 of 2.
    assert co.value == 0.5 and co.details["conditioning_scenarios"] == 2 and co.details["violating_indices"] == [1]
    assert co.name == "coherence_co_move" and co.details["label"] == "equity crash widens spreads"
    assert co.passed is False
    # floor: yield path #0 = 1, 0, -1 (ok: not below -1); #2 = 0.5, 1.0, 2.0 ok -> 0 violations.
    assert floor.value == 0.0 and floor.passed is True and floor.details["extreme_level"] == pytest.approx(-1.0)
    # non_negative VIX: #1 goes to 5 (ok); #3 goes to -5 -> 1 of 4.
    assert nonneg.value == 0.25 and nonneg.details["violating_indices"] == [3]
    # ceiling 50: #3 reaches -5 + 30 = 25, none above 50.
    assert ceiling.value == 0.0
    np.testing.assert_allclose(violation_shares(scenarios(), FACTORS, RULES), [0.5, 0.0, 0.25, 0.0])
    assert all(r.tier == "coherence" and json.dumps(r.to_dict()) for r in results)


def test_no_conditioning_scenario_is_informational():
    rule = [{"rule": "co_move", "factor_a": "equity", "direction_a": "down", "factor_b": "hy_spread",
             "direction_b": "up", "min_size": 0.5}]
    [result] = coherence_metrics(scenarios(), None, FACTORS, rules=rule)
    assert result.direction == "info" and result.passed is None and result.details["conditioning_scenarios"] == 0


def test_real_violation_share_and_threshold():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((200, 4)) * [0.01, 0.001, 0.05, 1.0]
    rule = [{"rule": "floor", "factor": "ust10y", "level0": 2.0, "minimum": 1.99}]
    [result] = coherence_metrics(scenarios(), real, FACTORS, rules=rule, threshold=0.8)
    assert result.threshold == 0.8 and result.value == pytest.approx(0.5)
    assert 0 < result.details["real_violation_share"] < 1


@pytest.mark.parametrize(("rules", "message"), [
    ([{"rule": "monotone", "factor": "vix"}], "unknown rule 'monotone'"),
    ([{"rule": "floor", "factor": "oil", "level0": 1, "minimum": 0}], "unknown factor 'oil'"),
    ([{"rule": "floor", "factor": "vix", "level0": 1}], "missing \\['minimum'\\]"),
    ([{"rule": "non_negative", "factor": "vix", "level0": 1, "floor": 0}], "unknown keys \\['floor'\\]"),
    ([{"rule": "co_move", "factor_a": "equity", "direction_a": "sideways", "factor_b": "vix",
       "direction_b": "up"}], "direction_a must be 'up' or 'down'"),
    ([{"rule": "floor", "factor": "vix", "level0": "high", "minimum": 0}], "level0 must be a number"),
    ([{"rule": "co_move", "factor_a": "equity", "direction_a": "down", "factor_b": "vix", "direction_b": "up",
       "min_size": -1}], "min_size must be >= 0"),
    ({"rule": "floor"}, "must be a list"),
    (["floor"], "rule 0 must be a dict"),
    ([], "no coherence rules"),
])
def test_bad_rules_are_named(rules, message):
    with pytest.raises(ValueError, match=message):
        coherence_metrics(scenarios(), None, FACTORS, rules=rules)


def test_bad_data():
    with pytest.raises(ValueError, match="factor names must match"):
        coherence_metrics(scenarios()[:, :, :3], None, FACTORS, rules=RULES)
    with pytest.raises(ValueError, match="real must be \\[time, 4 factors\\]"):
        coherence_metrics(scenarios(), np.zeros((10, 3)), FACTORS, rules=RULES)
    assert len(parse_rules(RULES, FACTORS)) == 4
