"""VaR/ES backtests: Kupiec, Christoffersen, Basel traffic light, and the portfolio backtest."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from validation.metrics.backtest import (
    basel_traffic_light,
    christoffersen_cc,
    christoffersen_independence,
    kupiec_pof,
    var_backtest,
)

CHI2_1_95 = 3.841458820694124


# ------------------------------------------------------------------------------------------ Kupiec


def test_kupiec_hand_computation_8_exceedances_in_250_days():
    # LR_pof = -2 ln[(1-p)^(n-x) p^x] + 2 ln[(1-x/n)^(n-x) (x/n)^x], evaluated term by term.
    n, x, p = 250, 8, 0.01
    pi_hat = x / n  # 0.032
    log_l_null = (n - x) * math.log(1 - p) + x * math.log(p)  # 242 ln 0.99 + 8 ln 0.01
    log_l_alt = (n - x) * math.log(1 - pi_hat) + x * math.log(pi_hat)  # 242 ln 0.968 + 8 ln 0.032
    expected = -2 * (log_l_null - log_l_alt)
    assert expected == pytest.approx(7.7336, abs=1e-4)

    result = kupiec_pof(x, n, p)
    assert result.name == "kupiec_pof" and result.tier == "risk_backtest"
    assert result.value == pytest.approx(expected, rel=1e-12)
    assert result.pvalue == pytest.approx(stats.chi2.sf(expected, 1), rel=1e-12)
    assert result.threshold == pytest.approx(CHI2_1_95)
    assert result.passed is False


@pytest.mark.parametrize(("p", "n", "low", "high"), [
    # Kupiec (1995) Table 3 as reprinted in Jorion, "Value at Risk" (3rd ed., 2007), Table 6-3:
    # the 95 % non-rejection regions "low < N < high" for the number of exceptions N.
    (0.01, 510, 1, 11), (0.01, 1000, 4, 17),
    (0.025, 255, 2, 12), (0.025, 510, 6, 21), (0.025, 1000, 15, 36),
    (0.05, 255, 6, 21), (0.05, 510, 16, 36), (0.05, 1000, 37, 65),
])
def test_kupiec_reproduces_the_published_non_rejection_regions(p, n, low, high):
    accepted = [x for x in range(n + 1) if kupiec_pof(x, n, p).passed]
    assert min(accepted) == low + 1
    assert max(accepted) == high - 1


def test_kupiec_published_upper_bound_for_one_year_at_99_percent():
    # The same table gives "N < 7" for p = 1 %, T = 255 (no lower bound is printed for that cell).
    accepted = [x for x in range(256) if kupiec_pof(x, 255, 0.01).passed]
    assert max(accepted) == 6


def test_kupiec_zero_and_all_exceedances():
    n, p = 250, 0.01
    zero = kupiec_pof(0, n, p)
    assert zero.value == pytest.approx(-2 * n * math.log(1 - p))  # the alternative likelihood is 1
    assert math.isfinite(zero.pvalue)
    every = kupiec_pof(n, n, p)
    assert every.value == pytest.approx(-2 * n * math.log(p))
    assert every.passed is False


def test_kupiec_exact_rate_gives_zero():
    result = kupiec_pof(5, 500, 0.01)
    assert result.value == pytest.approx(0.0, abs=1e-12)
    assert result.pvalue == pytest.approx(1.0)
    assert result.passed is True


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"exceedances": 1, "n": 10, "p": 0.0}, "between 0 and 1"),
    ({"exceedances": 1, "n": 10, "p": 1.0}, "between 0 and 1"),
    ({"exceedances": 1, "n": 10, "p": -0.5}, "between 0 and 1"),
    ({"exceedances": 1, "n": 10, "p": "x"}, "must be a number"),
    ({"exceedances": 1, "n": 0, "p": 0.01}, "n must be at least 1"),
    ({"exceedances": -1, "n": 10, "p": 0.01}, "exceedances must be at least 0"),
    ({"exceedances": 11, "n": 10, "p": 0.01}, "cannot exceed"),
    ({"exceedances": 1.5, "n": 10, "p": 0.01}, "must be an integer"),
])
def test_kupiec_bad_inputs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kupiec_pof(**kwargs)


# ---------------------------------------------------------------------------------- Christoffersen


HITS = [0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0]


def test_christoffersen_independence_hand_computation():
    # Transitions of HITS (19 of them), counted by hand:
    #   0→0: (0,1) (4,5) (5,6) (8,9) (9,10) (10,11) (15,16) (16,17) (17,18) (18,19) = 10
    #   0→1: (1,2) (6,7) (11,12)                                                     = 3
    #   1→0: (3,4) (7,8) (14,15)                                                     = 3
    #   1→1: (2,3) (12,13) (13,14)                                                   = 3
    n00, n01, n10, n11 = 10, 3, 3, 3
    pi01, pi11 = n01 / (n00 + n01), n11 / (n10 + n11)  # 3/13, 1/2
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)  # 6/19
    log_l_null = (n00 + n10) * math.log(1 - pi) + (n01 + n11) * math.log(pi)
    log_l_alt = (n00 * math.log(1 - pi01) + n01 * math.log(pi01)
                 + n10 * math.log(1 - pi11) + n11 * math.log(pi11))
    expected = -2 * (log_l_null - log_l_alt)

    result = christoffersen_independence(HITS)
    assert result.name == "christoffersen_independence" and result.tier == "risk_backtest"
    assert (result.details["n00"], result.details["n01"], result.details["n10"], result.details["n11"]) == (
        n00, n01, n10, n11)
    assert result.value == pytest.approx(expected, rel=1e-12)
    assert result.pvalue == pytest.approx(stats.chi2.sf(expected, 1), rel=1e-12)


def test_christoffersen_independence_is_the_g_test_on_the_transition_table():
    # LR_ind is the likelihood-ratio (G) test of independence on the 2×2 transition table;
    # scipy's chi2_contingency with lambda_="log-likelihood" computes the same statistic.
    rng = np.random.default_rng(3)
    hits = (rng.random(400) < 0.05).astype(int)
    hits[100:104] = 1  # a cluster, so the statistic is not trivially small
    result = christoffersen_independence(hits)
    d = result.details
    table = np.array([[d["n00"], d["n01"]], [d["n10"], d["n11"]]])
    g = stats.chi2_contingency(table, correction=False, lambda_="log-likelihood")
    assert result.value == pytest.approx(g.statistic, rel=1e-10)
    assert result.pvalue == pytest.approx(g.pvalue, rel=1e-8)


def test_christoffersen_cc_is_pof_plus_independence():
    p = 0.05
    cc = christoffersen_cc(HITS, p)
    pof = kupiec_pof(sum(HITS), len(HITS), p)
    ind = christoffersen_independence(HITS)
    assert cc.name == "christoffersen_cc"
    assert cc.value == pytest.approx(pof.value + ind.value, rel=1e-12)
    assert cc.pvalue == pytest.approx(stats.chi2.sf(pof.value + ind.value, 2), rel=1e-12)
    assert cc.threshold == pytest.approx(stats.chi2.ppf(0.95, 2))


def test_christoffersen_clustered_hits_reject_and_scattered_hits_pass():
    clustered = np.zeros(500, dtype=int)
    clustered[200:205] = 1
    scattered = np.zeros(500, dtype=int)
    scattered[[50, 150, 250, 350, 450]] = 1
    assert christoffersen_independence(clustered).passed is False
    assert christoffersen_independence(scattered).passed is True
    assert christoffersen_cc(scattered, 0.01).passed is True


@pytest.mark.parametrize("hits", [
    [0] * 50,  # no exceedance: the 1-row is empty
    [1] * 50,  # every day: the 0-row is empty
    [0] * 49 + [1],  # a single exceedance on the last day: n10 = n11 = 0
    [1] + [0] * 49,  # a single exceedance on the first day: n01 = n11 = 0
])
def test_christoffersen_empty_transition_cells(hits):
    result = christoffersen_independence(hits)
    assert math.isfinite(result.value) and result.value == pytest.approx(0.0, abs=1e-9)
    cc = christoffersen_cc(hits, 0.01)
    assert math.isfinite(cc.value)
    assert cc.value == pytest.approx(kupiec_pof(sum(hits), len(hits), 0.01).value, abs=1e-9)


def test_christoffersen_accepts_booleans():
    assert christoffersen_independence(np.array(HITS, dtype=bool)).value == pytest.approx(
        christoffersen_independence(HITS).value)


@pytest.mark.parametrize(("hits", "message"), [
    ([0, 1, 2, 0], "only 0 and 1"),
    ([0, 0.5, 1], "only 0 and 1"),
    (["a", "b"], "only 0 and 1"),
    ([1], "at least 2"),
    ([], "at least 2"),
    ([[0, 1], [1, 0]], "1-D"),
])
def test_christoffersen_bad_hits(hits, message):
    with pytest.raises(ValueError, match=message):
        christoffersen_independence(hits)
    with pytest.raises(ValueError, match=message):
        christoffersen_cc(hits, 0.01)


@pytest.mark.parametrize("p", [0.0, 1.0, 1.5, -0.01])
def test_christoffersen_cc_bad_p(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        christoffersen_cc(HITS, p)


# ------------------------------------------------------------------------------------ traffic light


@pytest.mark.parametrize(("x", "zone", "plus"), [
    (0, "green", 0.0), (1, "green", 0.0), (2, "green", 0.0), (3, "green", 0.0), (4, "green", 0.0),
    (5, "yellow", 0.40), (6, "yellow", 0.50), (7, "yellow", 0.65), (8, "yellow", 0.75), (9, "yellow", 0.85),
    (10, "red", 1.00), (11, "red", 1.00), (25, "red", 1.00), (250, "red", 1.00),
])
def test_basel_traffic_light_zones_and_plus_factors(x, zone, plus):
    # Basel Committee (1996), Table 2: 250 observations at 99 % VaR.
    result = basel_traffic_light(x)
    assert result.name == "basel_traffic_light" and result.tier == "risk_backtest"
    assert result.details["zone"] == zone
    assert result.details["plus_factor"] == pytest.approx(plus)
    assert result.passed is (zone == "green")
    assert result.details["cumulative_probability"] == pytest.approx(stats.binom.cdf(x, 250, 0.01), rel=1e-12)


def test_basel_boundaries_match_the_binomial_cdf():
    cdf = stats.binom.cdf(np.arange(12), 250, 0.01)
    assert cdf[4] < 0.95 <= cdf[5]  # green ends at 4
    assert cdf[9] < 0.9999 <= cdf[10]  # yellow ends at 9
    result = basel_traffic_light(0)
    assert (result.details["green_max"], result.details["yellow_max"]) == (4, 9)
    assert result.threshold == 4


def test_basel_traffic_light_scales_to_other_lengths():
    n = 500
    cdf = stats.binom.cdf(np.arange(n + 1), n, 0.01)
    green_max = int(np.flatnonzero(cdf < 0.95).max())
    yellow_max = int(np.flatnonzero(cdf < 0.9999).max())
    assert basel_traffic_light(green_max, n).details["zone"] == "green"
    first_yellow = basel_traffic_light(green_max + 1, n)
    assert first_yellow.details["zone"] == "yellow"
    assert first_yellow.details["plus_factor"] >= 0.40
    assert first_yellow.details["exceedances_per_250"] == pytest.approx((green_max + 1) / 2)
    assert basel_traffic_light(yellow_max, n).details["zone"] == "yellow"
    assert basel_traffic_light(yellow_max + 1, n).details["zone"] == "red"


@pytest.mark.parametrize(("args", "message"), [
    ((1, 250, 0.0), "between 0 and 1"),
    ((1, 250, 1.0), "between 0 and 1"),
    ((1, 0, 0.01), "n must be at least 1"),
    ((-1, 250, 0.01), "at least 0"),
    ((251, 250, 0.01), "cannot exceed"),
])
def test_basel_bad_inputs(args, message):
    with pytest.raises(ValueError, match=message):
        basel_traffic_light(*args)


# ------------------------------------------------------------------------------------ var_backtest


def _scenarios(n=20000, horizon=10, factors=3, scale=1.0, seed=0):
    return scale * np.random.default_rng(seed).standard_normal((n, horizon, factors))


def test_var_backtest_well_specified_model_passes():
    weights = np.array([1.0, 0.5, -0.25])
    real = np.random.default_rng(1).standard_normal((1000, 3))
    results = var_backtest(_scenarios(), real, weights)
    by_name = {r.name: r for r in results}
    assert list(by_name) == ["var_exceedance_rate", "kupiec_pof", "christoffersen_independence",
                             "christoffersen_cc", "basel_traffic_light", "es_backtest_z2"]
    assert all(r.tier == "risk_backtest" for r in results)

    sigma = np.linalg.norm(weights)
    rate = by_name["var_exceedance_rate"]
    assert rate.details["var"] == pytest.approx(stats.norm.ppf(0.99) * sigma, rel=0.05)
    expected_es = sigma * stats.norm.pdf(stats.norm.ppf(0.99)) / 0.01
    assert rate.details["es"] == pytest.approx(expected_es, rel=0.05)
    hits = np.array(rate.details["hits"])
    assert hits.size == 1000
    np.testing.assert_array_equal(hits, (real @ weights < -rate.details["var"]).astype(int))
    assert rate.value == pytest.approx(hits.mean())
    assert by_name["kupiec_pof"].details["exceedances"] == hits.sum()

    assert by_name["kupiec_pof"].passed
    assert by_name["christoffersen_cc"].passed
    assert by_name["basel_traffic_light"].details["zone"] == "green"
    assert by_name["es_backtest_z2"].passed


def test_var_backtest_underestimated_risk_fails():
    real = 2.0 * np.random.default_rng(2).standard_normal((500, 3))
    by_name = {r.name: r for r in var_backtest(_scenarios(), real, [1.0, 1.0, 1.0])}
    assert by_name["kupiec_pof"].passed is False
    assert by_name["basel_traffic_light"].details["zone"] == "red"
    assert by_name["basel_traffic_light"].details["exceedances_per_250"] > 10
    z2 = by_name["es_backtest_z2"]
    assert z2.value < -0.7 and z2.passed is False
    assert z2.pvalue < 0.01
    assert z2.details["loss_to_es_ratio"] > 1


def test_var_backtest_multi_day_horizon_uses_non_overlapping_windows():
    real = np.random.default_rng(4).standard_normal((503, 3))
    weights = [1.0, 0.0, 0.0]
    by_name = {r.name: r for r in var_backtest(_scenarios(), real, weights, horizon=5, level=0.975)}
    rate = by_name["var_exceedance_rate"]
    assert rate.details["n_obs"] == 100
    assert rate.details["var"] == pytest.approx(stats.norm.ppf(0.975) * math.sqrt(5), rel=0.05)
    windows = real[:500, 0].reshape(100, 5).sum(axis=1)
    np.testing.assert_array_equal(rate.details["hits"], (windows < -rate.details["var"]).astype(int))
    assert by_name["kupiec_pof"].details["p"] == pytest.approx(0.025)


def test_var_backtest_is_deterministic():
    real = np.random.default_rng(5).standard_normal((300, 3))
    a = [r.to_dict() for r in var_backtest(_scenarios(n=2000), real, [1, 1, 1])]
    b = [r.to_dict() for r in var_backtest(_scenarios(n=2000), real, [1, 1, 1])]
    assert a == b


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"weights": [1.0, 1.0]}, "3 factor weights"),
    ({"weights": [0.0, 0.0, 0.0]}, "all zero"),
    ({"weights": [1.0, np.nan, 0.0]}, "finite"),
    ({"level": 1.0}, "level must lie strictly between 0 and 1"),
    ({"level": 0.0}, "level must lie strictly between 0 and 1"),
    ({"horizon": 0}, "horizon must be at least 1"),
    ({"horizon": 11}, "longer than the scenarios"),
    ({"level": 0.9999}, "cannot estimate"),
])
def test_var_backtest_bad_inputs(kwargs, message):
    args = {"synthetic": _scenarios(n=1000), "real": np.zeros((100, 3)) + 0.1, "weights": [1.0, 1.0, 1.0]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        var_backtest(args.pop("synthetic"), args.pop("real"), args.pop("weights"), **args)


def test_var_backtest_rejects_mismatched_or_short_data():
    with pytest.raises(ValueError, match="factors"):
        var_backtest(_scenarios(n=1000), np.zeros((100, 2)), [1.0, 1.0])
    with pytest.raises(ValueError, match="two non-overlapping"):
        var_backtest(_scenarios(n=1000), np.zeros((15, 3)), [1.0, 1.0, 1.0], horizon=10)
    real = np.zeros((100, 3))
    real[5, 1] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        var_backtest(_scenarios(n=1000), real, [1.0, 1.0, 1.0])


def test_a_holdout_shorter_than_one_expected_exceedance_is_not_run_never_pass():
    # 50 days at 99 %: a correct VaR expects 0.5 exceedances; the Basel table has no verdict to give.
    real = np.random.default_rng(7).standard_normal((50, 3))
    by_name = {r.name: r for r in var_backtest(_scenarios(n=2000), real, [1.0, 1.0, 1.0])}
    assert by_name["var_exceedance_rate"].direction == "info"
    for name in ("kupiec_pof", "christoffersen_independence", "christoffersen_cc", "basel_traffic_light",
                 "es_backtest_z2"):
        assert by_name[name].passed is None and "at least 100 observations" in by_name[name].not_run


def test_independence_with_fewer_than_two_exceedances_is_not_run():
    real = 0.1 * np.random.default_rng(8).standard_normal((300, 3))  # far inside the VaR: no exceedance
    by_name = {r.name: r for r in var_backtest(_scenarios(n=2000), real, [1.0, 1.0, 1.0])}
    assert by_name["var_exceedance_rate"].details["exceedances"] == 0
    assert "needs at least two" in by_name["christoffersen_independence"].not_run
    assert by_name["kupiec_pof"].not_run == "" and by_name["kupiec_pof"].passed is False  # too few: also a failure
