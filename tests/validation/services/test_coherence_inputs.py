"""What a validation run's coherence tier tests: default rules from its dataset, levels at train_end, and
the no-arbitrage checks of its portfolio's options revalued by the engine (real database)."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from scenarios.services.datasets import dataset_import
from scenarios.services.scenario_sets import scenario_set_import
from scenarios.services.stress import portfolio_create
from validation.metrics.coherence import coherence_tier
from validation.outcomes import judge, summarise
from validation.policy_defaults import SETTINGS, thresholds_for
from validation.services.coherence_inputs import coherence_inputs
from validation.services.runs import validation_run_start

pytestmark = pytest.mark.django_db

FACTORS = ["SP500", "VIX", "HY", "UST10Y"]
TRAIN_END = dt.date(2014, 9, 13)  # a Saturday: the level is Friday's, the last row on or before it
HORIZON = 10


def raw_table() -> pd.DataFrame:
    dates = pd.bdate_range("2014-01-01", periods=300)
    i = np.arange(300)
    return pd.DataFrame({"date": dates, "SP500": 1800 + 2.0 * i, "VIX": 12 + (i % 9), "HY": 3.0 + 0.01 * i,
                         "UST10Y": 2.5 - 0.002 * i})


def expected_levels() -> dict[str, float]:
    table = raw_table().set_index("date")
    row = table[table.index <= pd.Timestamp(TRAIN_END)].iloc[-1]
    assert row.name == pd.Timestamp("2014-09-12")
    return {f: float(row[f]) for f in ("VIX", "HY", "UST10Y")}


@pytest.fixture
def dataset(developer):
    return dataset_import(actor=developer, name="coherence panel", raw=raw_table(), source="test",
                          column_kinds={"SP500": "prices", "VIX": "levels", "HY": "levels", "UST10Y": "rates"},
                          risk_classes={"SP500": "equity", "VIX": "volatility", "HY": "credit", "UST10Y": "rates"})


def paths(n=200, seed=5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0, size=(n, HORIZON, 4)) * [0.01, 0.8, 0.05, 0.05]


def start_run(validator, dataset, synthetic, capture, options=None, factors=FACTORS):
    buffer = io.BytesIO()
    np.save(buffer, synthetic)
    scenario_set = scenario_set_import(actor=validator, data=buffer.getvalue(), filename="set.npy", name="set",
                                       dataset=dataset, factors=factors)
    with capture(execute=False):
        return validation_run_start(actor=validator, scenario_set=scenario_set, tiers=["coherence"],
                                    options=options, train_end=TRAIN_END, holdout_start=dt.date(2014, 9, 15))


def test_the_service_takes_default_rules_from_the_dataset_with_levels_at_train_end(
        dataset, validator, django_capture_on_commit_callbacks):
    synthetic = paths()
    run = start_run(validator, dataset, synthetic, django_capture_on_commit_callbacks)
    inputs = coherence_inputs(run, synthetic)
    assert inputs["source"] == "policy defaults" and inputs["option_checks"] is None and inputs["note"] == ""
    assert inputs["parity_tolerance"] == SETTINGS["coherence_defaults"]["option_parity_tolerance"]
    levels = expected_levels()
    by_kind = {(r["rule"], r.get("factor") or r["factor_b"]): r for r in inputs["rules"]}
    assert by_kind[("non_negative", "VIX")]["level0"] == levels["VIX"]
    # HY rises every day: its level identifies the row read (Friday 12 September, not the first or last row)
    assert by_kind[("non_negative", "HY")]["level0"] == pytest.approx(levels["HY"]) == pytest.approx(4.82)
    assert by_kind[("floor", "UST10Y")]["level0"] == pytest.approx(levels["UST10Y"])
    assert by_kind[("floor", "UST10Y")]["minimum"] == run.policy.suite_settings["coherence_defaults"]["rates_floor"]
    assert by_kind[("max_daily_move", "SP500")]["maximum_abs"] == 0.25
    assert {k for k in by_kind if k[0] == "co_move"} == {("co_move", "VIX"), ("co_move", "HY")}

    # The same rules judge the set: calm, then with VIX taken below zero in 5 % of the scenarios.
    tier = {"rules": inputs["rules"], "option_checks": inputs["option_checks"]}
    calm = {j.result.name: j.outcome for j in judge(coherence_tier(synthetic, None, FACTORS, **tier),
                                                    thresholds_for(2))}
    assert calm["coherence_non_negative"] == "PASS" and calm["coherence_max_daily_move"] == "PASS"
    synthetic[:10, 0, 1] = -25.0
    judged = judge(coherence_tier(synthetic, None, FACTORS, **tier), thresholds_for(2))
    assert {(j.result.name, j.result.factor): j.outcome for j in judged}[("coherence_non_negative", "VIX")] == "FAIL"
    assert summarise(judged)[0] == {"coherence": "FAIL"}


def test_configured_rules_win_and_an_old_policy_falls_back_to_the_current_settings(
        dataset, validator, django_capture_on_commit_callbacks):
    rule = {"rule": "ceiling", "factor": "VIX", "level0": 20.0, "maximum": 80.0}
    run = start_run(validator, dataset, paths(), django_capture_on_commit_callbacks,
                    options={"coherence_rules": [rule]})
    inputs = coherence_inputs(run, paths())
    assert inputs["source"] == "configured" and inputs["rules"] == [rule]
    run.options = {}
    run.policy.suite_settings = {}  # a policy before version 4 (not saved)
    inputs = coherence_inputs(run)  # the set's own paths, read from the store
    assert inputs["source"] == "policy defaults"
    assert [r["minimum"] for r in inputs["rules"] if r["rule"] == "floor"] == [
        SETTINGS["coherence_defaults"]["rates_floor"]]


def bs(spot, strike, t, r, vol, kind):
    """Black-Scholes closed form (Hull eq. 15.20-15.21) with scipy's normal CDF: the oracle."""
    d1 = (np.log(spot / strike) + (r + vol**2 / 2) * t) / (vol * np.sqrt(t))
    d2 = d1 - vol * np.sqrt(t)
    if kind == "call":
        return spot * norm.cdf(d1) - strike * np.exp(-r * t) * norm.cdf(d2)
    return strike * np.exp(-r * t) * norm.cdf(-d2) - spot * norm.cdf(-d1)


def test_the_options_of_the_runs_book_are_revalued_and_respect_no_arbitrage(
        dataset, developer, validator, django_capture_on_commit_callbacks):
    book = portfolio_create(actor=developer, name="options book", positions=[
        {"kind": "linear", "factor": "SP500", "exposure": 1e6, "name": "index"},
        {"kind": "option", "underlying": "SP500", "option_type": "put", "quantity": -50, "strike": 1900,
         "expiry": 0.5, "spot": 2000, "vol": 0.2, "rate": 0.02, "name": "written put"},
        {"kind": "option", "underlying": "SP500", "option_type": "call", "quantity": 10, "strike": 2100,
         "expiry": 0.25, "spot": 2000, "vol": 0.18, "rate": 0.01, "dividend_yield": 0.02, "vol_factor": "VIX",
         "rate_factor": "UST10Y", "name": "call with vol and rate"},
    ])
    synthetic = paths()
    run = start_run(validator, dataset, synthetic, django_capture_on_commit_callbacks,
                    options={"portfolio": book.pk})
    inputs = coherence_inputs(run, synthetic)
    put, call = inputs["option_checks"]
    assert (put["position"], put["option_type"], call["position"]) == ("written put", "put", "call with vol and rate")
    # the engine's value at the horizon's end is the closed form at the shocked spot, one unit, whatever the quantity
    spot = 2000 * np.exp(synthetic[:, :, 0].sum(axis=1))
    t_left = 0.5 - HORIZON / 252
    np.testing.assert_allclose(put["spot"], spot)
    np.testing.assert_allclose(put["values"], bs(spot, 1900, t_left, 0.02, 0.2, "put"), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(put["values_up"], bs(spot, 1919, t_left, 0.02, 0.2, "put"), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(put["call"], bs(spot, 1900, t_left, 0.02, 0.2, "call"), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(call["discount"], np.exp(-(0.01 + 0.01 * synthetic[:, :, 3].sum(axis=1))
                                                        * (0.25 - HORIZON / 252)))
    results = coherence_tier(synthetic, None, FACTORS, rules=inputs["rules"], option_checks=inputs["option_checks"],
                             parity_tolerance=inputs["parity_tolerance"])
    option_rows = [j for j in judge(results, thresholds_for(2)) if j.result.factor in ("written put",
                                                                                       "call with vol and rate")]
    assert len(option_rows) == 6 and {j.outcome for j in option_rows} == {"PASS"}
    # the check is not hollow: a pricer whose put ignores the strike breaks parity and monotonicity
    broken = dict(put, values_up=put["values"] - 1.0, put=put["put"] + 0.01 * put["spot"])
    rows = judge(coherence_tier(synthetic, None, FACTORS, rules=[], option_checks=[broken]), thresholds_for(2))
    assert {j.result.name: j.outcome for j in rows} == {"coherence_option_non_negative": "PASS",
                                                        "coherence_put_call_parity": "FAIL",
                                                        "coherence_strike_monotone": "FAIL"}


def test_a_book_without_options_and_a_set_no_rule_applies_to(developer, validator, dataset,
                                                             django_capture_on_commit_callbacks):
    linear = portfolio_create(actor=developer, name="linear book",
                              positions=[{"kind": "linear", "factor": "SP500", "exposure": 1.0}])
    run = start_run(validator, dataset, paths(), django_capture_on_commit_callbacks, options={"portfolio": linear.pk})
    inputs = coherence_inputs(run, paths())
    assert inputs["option_checks"] is None and inputs["note"] == "portfolio linear book v1 holds no option"

    macro = raw_table()[["date", "UST10Y"]].rename(columns={"UST10Y": "GDP"})
    macro_dataset = dataset_import(actor=developer, name="macro", raw=macro, source="test", kind="levels",
                                   risk_classes={"GDP": "macro"})
    run = start_run(validator, macro_dataset, paths()[:, :, :1], django_capture_on_commit_callbacks, factors=["GDP"])
    inputs = coherence_inputs(run, paths()[:, :, :1])
    assert inputs["rules"] == [] and inputs["note"] == "no default rule applies to GDP (macro, levels); configure rules"
    [row] = coherence_tier(paths()[:, :, :1], None, ["GDP"], rules=inputs["rules"], reason=inputs["note"])
    assert row.name == "coherence_rules" and row.not_run == inputs["note"]


