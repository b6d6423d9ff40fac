"""The default coherence rules: which rule each kind of factor gets, and sets that must FAIL under them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from validation.coherence_defaults import default_rules, no_default_reason
from validation.metrics.coherence import coherence_tier, parse_rules
from validation.outcomes import judge, summarise
from validation.policy_defaults import SETTINGS, thresholds_for

SET = SETTINGS["coherence_defaults"]
FACTORS = ["SP500", "NASDAQ", "VIX", "HY", "UST10Y", "WTI", "GDP"]
RISK = {"SP500": "equity", "NASDAQ": "equity", "VIX": "volatility", "HY": "credit", "UST10Y": "rates",
        "WTI": "commodity", "GDP": "macro"}
COLUMN = {"SP500": "prices", "NASDAQ": "prices", "VIX": "levels", "HY": "levels", "UST10Y": "rates",
          "WTI": "prices", "GDP": "levels"}
LEVEL0 = {"VIX": 15.0, "HY": 3.5, "UST10Y": 2.2, "GDP": 100.0}


def rules_by(rules, kind):
    return {(r.get("factor") or r["factor_b"]): r for r in rules if r["rule"] == kind}


def outcomes(results):
    return {(j.result.name, j.result.factor, j.result.details.get("label")): j.outcome
            for j in judge(results, thresholds_for(2))}


def test_each_kind_of_factor_gets_its_default_rules():
    rules = default_rules(FACTORS, RISK, COLUMN, LEVEL0, SET)
    parse_rules(rules, FACTORS)  # every default is a valid rule of the metric
    assert rules_by(rules, "non_negative") == {
        "VIX": {"rule": "non_negative", "factor": "VIX", "level0": 15.0,
                "name": "VIX level >= 0 (a volatility index cannot be negative)"},
        "HY": {"rule": "non_negative", "factor": "HY", "level0": 3.5,
               "name": "HY level >= 0 (a credit spread cannot be negative)"}}
    floor = rules_by(rules, "floor")
    assert list(floor) == ["UST10Y"] and floor["UST10Y"]["minimum"] == SET["rates_floor"] == -1.0
    daily = rules_by(rules, "max_daily_move")
    assert {f: r["maximum_abs"] for f, r in daily.items()} == {"SP500": 0.25, "NASDAQ": 0.25, "WTI": 0.5}
    co = rules_by(rules, "co_move")
    assert {f: r["direction_b"] for f, r in co.items()} == {"NASDAQ": "down", "VIX": "up", "HY": "up"}
    assert all(r["factor_a"] == "SP500" and r["direction_a"] == "down" and r["min_size"] == 0.10 for r in co.values())
    assert co["VIX"]["name"] == "SP500 down more than 0.1 -> VIX up (in a sell-off volatility rises)"
    assert not any("GDP" in (r.get("factor"), r.get("factor_b")) for r in rules)  # macro: no a priori rule


def test_settings_and_kinds_change_the_rules():
    kinds = [RISK[f] for f in FACTORS]  # a list parallel to the factors works as a mapping does
    returns = dict(COLUMN, SP500="returns", HY="prices")
    rules = default_rules(FACTORS, kinds, returns, LEVEL0, dict(SET, rates_floor=0.5, max_daily_move={"equity": 0.2}))
    assert rules_by(rules, "floor")["UST10Y"]["minimum"] == 0.5
    # simple returns: the log bound 0.2 becomes e^0.2 - 1, the looser side
    assert rules_by(rules, "max_daily_move")["SP500"]["maximum_abs"] == pytest.approx(math.expm1(0.2))
    assert "WTI" not in rules_by(rules, "max_daily_move")
    assert "HY" not in rules_by(rules, "non_negative")  # a credit price needs no level rule
    assert rules_by(rules, "co_move")["HY"]["direction_b"] == "down"  # and falls in a sell-off
    no_start = default_rules(FACTORS, RISK, COLUMN, {}, dict(SET, rates_floor=None, co_move_min_size=None))
    assert {r["rule"] for r in no_start} == {"max_daily_move"}
    with pytest.raises(ValueError, match="rates_floor must be a number"):
        default_rules(FACTORS, RISK, COLUMN, LEVEL0, dict(SET, rates_floor="low"))
    with pytest.raises(ValueError, match="max_daily_move.equity must be > 0"):
        default_rules(FACTORS, RISK, COLUMN, LEVEL0, dict(SET, max_daily_move={"equity": 0}))
    with pytest.raises(ValueError, match="2 risk classs for 7 factors"):
        default_rules(FACTORS, ["equity", "equity"], COLUMN, LEVEL0, SET)


def calm_set(n=100, horizon=20, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0, size=(n, horizon, 2)) * [0.003, 0.5]


def test_a_set_whose_vix_level_goes_negative_fails_the_default_rules():
    factors, risk, column = ["SP500", "VIX"], {"SP500": "equity", "VIX": "volatility"}, {"SP500": "prices",
                                                                                          "VIX": "levels"}
    rules = default_rules(factors, risk, column, {"VIX": 15.0}, SET)
    assert "non_negative" in {r["rule"] for r in rules}
    paths = calm_set()
    calm = coherence_tier(paths, None, factors, rules=rules)
    assert outcomes(calm)[("coherence_non_negative", "VIX", "VIX level >= 0 (a volatility index cannot be "
                                                              "negative)")] == "PASS"
    paths[:5, 0, 1] = -20.0  # five scenarios take VIX from 15 to -5 on the first day
    results = coherence_tier(paths, None, factors, rules=rules)
    [row] = [r for r in results if r.name == "coherence_non_negative"]
    assert row.value == 0.05 and row.details["extreme_level"] < 0
    judged = judge(results, thresholds_for(2))
    assert {j.result.name: j.outcome for j in judged}["coherence_non_negative"] == "FAIL"
    assert summarise(judged)[0]["coherence"] == "FAIL"


def test_sell_offs_without_rising_volatility_fail_and_no_sell_off_is_not_run():
    factors, risk, column = ["SP500", "VIX"], {"SP500": "equity", "VIX": "volatility"}, {"SP500": "prices",
                                                                                          "VIX": "levels"}
    rules = [r for r in default_rules(factors, risk, column, {"VIX": 15.0}, SET) if r["rule"] == "co_move"]
    paths = calm_set()  # 20 days of 0.3 % vol: no scenario falls 10 %
    [row] = coherence_tier(paths, None, factors, rules=rules)
    assert row.not_run and outcomes([row]) == {("coherence_co_move", "SP500->VIX", row.details["label"]): "NOT_RUN"}
    paths[:10, :, 0] -= 0.01  # ten sell-offs of about -20 %...
    paths[:10, :, 1] = np.abs(paths[:10, :, 1])  # ...with VIX rising: coherent
    [row] = coherence_tier(paths, None, factors, rules=rules)
    assert row.details["conditioning_scenarios"] == 10 and row.value == 0.0
    assert set(outcomes([row]).values()) == {"PASS"}
    paths[:5, :, 1] = -np.abs(paths[:5, :, 1])  # half of them with VIX falling: incoherent
    [row] = coherence_tier(paths, None, factors, rules=rules)
    assert row.value == 0.5 and set(outcomes([row]).values()) == {"FAIL"}


def test_a_set_no_default_rule_applies_to_is_not_run_and_says_why():
    factors, risk, column = ["GDP", "UST10Y"], {"GDP": "macro", "UST10Y": "rates"}, {"GDP": "levels",
                                                                                      "UST10Y": "rates"}
    assert default_rules(factors, risk, column, {"GDP": 100.0}, SET) == []
    reason = no_default_reason(factors, risk, column, {"GDP": 100.0})
    assert reason == ("no default rule applies to GDP (macro, levels), UST10Y (rates, rates, no starting level); "
                      "configure rules")
    [row] = coherence_tier(np.zeros((10, 5, 2)), None, factors, rules=[], reason=reason)
    assert row.name == "coherence_rules" and row.not_run == reason
    assert summarise(judge([row], thresholds_for(2)))[0] == {"coherence": "NOT_RUN"}
