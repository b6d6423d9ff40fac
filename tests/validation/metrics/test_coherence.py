"""Coherence tier: violation shares on hand-built scenarios, and clear errors for bad rules."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import norm

from validation.metrics.coherence import (
    coherence_metrics,
    coherence_tier,
    option_no_arbitrage_metrics,
    parse_rules,
    violation_shares,
)
from validation.outcomes import judge
from validation.policy_defaults import thresholds_for

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


def test_a_co_move_rule_without_a_conditioning_scenario_is_not_run():
    rule = [{"rule": "co_move", "factor_a": "equity", "direction_a": "down", "factor_b": "hy_spread",
             "direction_b": "up", "min_size": 0.5}]
    [result] = coherence_metrics(scenarios(), None, FACTORS, rules=rule)
    assert result.not_run and result.passed is None and result.details["conditioning_scenarios"] == 0
    assert "no scenario has equity down by more than 0.5" in result.not_run
    assert [j.outcome for j in judge([result], thresholds_for(2))] == ["NOT_RUN"]


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
    ([{"rule": "max_daily_move", "factor": "equity"}], "missing \\['maximum_abs'\\]"),
    ([{"rule": "max_daily_move", "factor": "equity", "maximum_abs": 0}], "maximum_abs must be > 0"),
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


def outcomes(results):
    return {(j.result.name, j.result.factor): j.outcome for j in judge(results, thresholds_for(2))}


def test_a_forty_percent_one_day_equity_drop_fails_max_daily_move():
    rng = np.random.default_rng(11)
    paths = rng.normal(0.0, 0.01, size=(50, 20, 4))
    rule = [{"rule": "max_daily_move", "factor": "equity", "maximum_abs": 0.25}]
    [calm] = coherence_metrics(paths, None, FACTORS, rules=rule)
    assert calm.value == 0.0 and outcomes([calm]) == {("coherence_max_daily_move", "equity"): "PASS"}
    paths[7, 3, 0] = np.log(0.6)  # a 40 % one-day fall
    [crash] = coherence_metrics(paths, None, FACTORS, rules=rule)
    assert crash.value == pytest.approx(1 / 50) and crash.details["violating_indices"] == [7]
    assert crash.details["largest_abs_move"] == pytest.approx(-np.log(0.6))
    # one scenario in 50 is beyond the policy's WARN bound (1 %): FAIL
    assert outcomes([crash]) == {("coherence_max_daily_move", "equity"): "FAIL"}


def test_max_daily_move_uses_each_day_not_the_cumulative_move():
    paths = np.zeros((2, 10, 4))
    paths[0, :, 0] = -0.05  # -0.5 over ten days, no day beyond 0.25
    paths[1, 0, 0], paths[1, 1, 0] = -0.3, 0.3  # one day beyond, a cumulative move of 0
    [result] = coherence_metrics(paths, None, FACTORS,
                                 rules=[{"rule": "max_daily_move", "factor": "equity", "maximum_abs": 0.25}])
    assert result.details["violating_indices"] == [1] and result.value == 0.5


def bs(spot, strike, t, r, vol, kind):
    """Black-Scholes closed form (Hull eq. 15.20-15.21) written out with scipy's normal CDF: the oracle."""
    d1 = (np.log(spot / strike) + (r + vol**2 / 2) * t) / (vol * np.sqrt(t))
    d2 = d1 - vol * np.sqrt(t)
    if kind == "call":
        return spot * norm.cdf(d1) - strike * np.exp(-r * t) * norm.cdf(d2)
    return strike * np.exp(-r * t) * norm.cdf(-d2) - spot * norm.cdf(-d1)


def bs_check(kind="call", n=500, seed=3):
    rng = np.random.default_rng(seed)
    spot = 100 * np.exp(rng.normal(0, 0.2, n))
    vol = 0.2 + rng.uniform(0, 0.3, n)
    strike, t, r = 100.0, 0.5, 0.03
    return {"position": f"{kind} K=100", "option_type": kind, "strike": strike, "spot": spot,
            "discount": np.exp(-r * t), "values": bs(spot, strike, t, r, vol, kind),
            "call": bs(spot, strike, t, r, vol, "call"), "put": bs(spot, strike, t, r, vol, "put"),
            "values_up": bs(spot, strike * 1.01, t, r, vol, kind),
            "values_down": bs(spot, strike * 0.99, t, r, vol, kind)}


@pytest.mark.parametrize("kind", ["call", "put"])
def test_black_scholes_values_respect_no_arbitrage(kind):
    results = option_no_arbitrage_metrics([bs_check(kind)], parity_tolerance=0.001)
    assert [r.name for r in results] == ["coherence_option_non_negative", "coherence_put_call_parity",
                                         "coherence_strike_monotone"]
    assert all(r.value == 0.0 and r.factor == f"{kind} K=100" for r in results)
    assert set(outcomes(results).values()) == {"PASS"}
    assert results[1].details["max_gap_share_of_spot"] < 1e-12


def test_a_broken_pricer_fails_every_no_arbitrage_check():
    check = bs_check("call")
    check["values"] = check["values"] - 5.0  # deep out-of-the-money calls now worth less than nothing
    check["call"] = check["values"]  # and parity no longer holds
    check["values_up"] = check["values"] + 1.0  # the call gains value as the strike rises
    results = option_no_arbitrage_metrics([check], parity_tolerance=0.001)
    non_negative, parity, monotone = results
    assert 0 < non_negative.value < 1 and non_negative.details["min_value"] < 0
    assert parity.value == 1.0 and monotone.value == 1.0
    assert set(outcomes(results).values()) == {"FAIL"}


def test_parity_is_judged_within_its_tolerance():
    check = bs_check("put")
    check["call"] = check["call"] + 0.0005 * check["spot"]  # inside 0.1 % of spot
    [_, parity, _] = option_no_arbitrage_metrics([check], parity_tolerance=0.001)
    assert parity.value == 0.0
    [_, parity, _] = option_no_arbitrage_metrics([check], parity_tolerance=0.0001)
    assert parity.value == 1.0


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda c: c.pop("put"), "missing \\['put'\\]"),
    (lambda c: c.update(option_type="straddle"), "option_type must be 'call' or 'put'"),
    (lambda c: c.update(spot=c["spot"][:-1]), "spot has 499 values"),
    (lambda c: c.update(values=np.full(500, np.nan)), "values has a non-finite value"),
    (lambda c: c.update(strike=-1), "strike must be > 0"),
])
def test_bad_option_checks_are_named(mutate, message):
    check = bs_check()
    mutate(check)
    with pytest.raises(ValueError, match=message):
        option_no_arbitrage_metrics([check], parity_tolerance=0.001)
    with pytest.raises(ValueError, match="parity_tolerance"):
        option_no_arbitrage_metrics([bs_check()], parity_tolerance=-1)


def test_the_tier_with_nothing_to_test_is_one_not_run_row():
    [row] = coherence_tier(scenarios(), None, FACTORS, rules=[], option_checks=None,
                           reason="no default rule applies to equity (equity, prices); configure rules")
    assert row.name == "coherence_rules" and row.tier == "coherence"
    assert row.not_run == "no default rule applies to equity (equity, prices); configure rules"
    assert outcomes([row]) == {("coherence_rules", None): "NOT_RUN"}
    [row] = coherence_tier(scenarios(), None, FACTORS, rules=None)
    assert "configure rules" in row.not_run


def test_the_tier_joins_rule_rows_and_option_rows():
    results = coherence_tier(scenarios(), None, FACTORS, rules=RULES, option_checks=[bs_check("put")])
    assert [r.name for r in results] == ["coherence_co_move", "coherence_floor", "coherence_non_negative",
                                         "coherence_ceiling", "coherence_option_non_negative",
                                         "coherence_put_call_parity", "coherence_strike_monotone"]
    assert len(coherence_tier(scenarios(), None, FACTORS, rules=[], option_checks=[bs_check()])) == 3
