"""Plausibility tier (Breuer et al. 2009): Mahalanobis distances pinned to scipy, the Gaussian closed form,
and historical analogues found by date."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import mahalanobis
from scipy.stats import binom, chi2

from validation.metrics.plausibility import (
    mahalanobis_sq,
    plausibility_metrics,
    plausibility_region,
    unconditioned_fit,
    whitening,
)
from validation.outcomes import judge
from validation.policy_defaults import thresholds_for

FACTORS = ["SP500", "VIX", "UST10Y"]
H = 10
DAILY_COV = np.array([[1.0, -0.6, 0.2], [-0.6, 4.0, -0.3], [0.2, -0.3, 0.25]]) * 1e-4
DAILY_MEAN = np.array([3e-4, -1e-4, 0.0])


def paths(rng, n, horizon=H, scale=1.0):
    daily = rng.multivariate_normal(DAILY_MEAN, DAILY_COV, size=(n, horizon))
    return DAILY_MEAN + (daily - DAILY_MEAN) * scale


def history(rng, days=1500):
    return rng.multivariate_normal(DAILY_MEAN, DAILY_COV, size=days), pd.bdate_range("2001-01-02", periods=days)


def outcome(result):
    return judge([result], thresholds_for(2))[0].outcome


def test_squared_distances_match_scipy():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    cov, mean, moves = a @ a.T + 0.1 * np.eye(4), rng.standard_normal(4), rng.standard_normal((50, 4))
    inverse = np.linalg.inv(cov)
    expected = [mahalanobis(x, mean, inverse) ** 2 for x in moves]
    np.testing.assert_allclose(mahalanobis_sq(moves, mean, cov), expected, rtol=1e-10)
    assert whitening(cov)[1] == "cholesky"
    assert mahalanobis_sq(moves[0], mean, cov) == pytest.approx([expected[0]])


def test_a_singular_covariance_uses_the_pseudo_inverse_and_says_so():
    rng = np.random.default_rng(1)
    b = rng.standard_normal((3, 2))
    cov = b @ b.T  # rank 2 of 3
    mean = np.zeros(3)
    moves = rng.standard_normal((20, 2)) @ b.T  # in the covariance's range
    pinv = np.linalg.pinv(cov)
    expected = np.einsum("ij,jk,ik->i", moves, pinv, moves)
    np.testing.assert_allclose(mahalanobis_sq(moves, mean, cov), expected, rtol=1e-8)
    assert whitening(cov)[1] == "pseudo-inverse (the covariance is singular: rank 2 of 3)"


def test_gaussian_draws_fall_outside_the_chi2_region_at_its_level():
    rng = np.random.default_rng(2)
    cov, mean = DAILY_COV * H, DAILY_MEAN * H
    draws = rng.multivariate_normal(mean, cov, size=40_000)
    share = float((mahalanobis_sq(draws, mean, cov) > chi2.ppf(0.99, 3)).mean())
    low, high = binom.ppf([0.0005, 0.9995], 40_000, 0.01) / 40_000  # a 99.9 % binomial band
    assert low <= share <= high


def test_the_metric_puts_one_percent_of_an_equal_law_set_outside_the_99_percent_region():
    rng = np.random.default_rng(3)
    reference, synthetic = paths(rng, 20_000), paths(rng, 20_000)
    calm = np.tile(DAILY_MEAN, (H + 5, 1))  # a history with no real window far from the mean
    share, _ = plausibility_metrics(synthetic, reference, calm, [str(d) for d in range(H + 5)], FACTORS,
                                    chi2_level=0.99, tail_share=0.01, weights=[1.0, 0.0, 0.0])
    assert share.details["radius_sq"] == pytest.approx(chi2.ppf(0.99, 3))
    assert share.details["radius_from"] == "chi-squared quantile"
    assert share.value == pytest.approx(0.01, abs=0.003)
    assert share.details["n_outside"] == round(share.value * 20_000)


def test_a_set_ten_times_the_reference_scale_fails_and_a_set_equal_in_law_passes():
    rng = np.random.default_rng(4)
    reference = paths(rng, 2000)
    real, dates = history(rng)
    wild, _ = plausibility_metrics(paths(rng, 1000, scale=10.0), reference, real, dates, FACTORS,
                                   chi2_level=0.9999, tail_share=0.01, weights=[1.0, 0.0, 0.0])
    fine, _ = plausibility_metrics(paths(rng, 1000), reference, real, dates, FACTORS,
                                   chi2_level=0.9999, tail_share=0.01, weights=[1.0, 0.0, 0.0])
    assert wild.name == "plausibility_outside_share" and wild.tier == "plausibility"
    assert wild.value > 0.8 and outcome(wild) == "FAIL"
    assert fine.value <= 0.005 and outcome(fine) == "PASS"


def test_the_radius_is_the_largest_real_window_when_history_lies_beyond_the_chi2_quantile():
    rng = np.random.default_rng(5)
    reference = paths(rng, 2000)
    real, dates = history(rng, 600)
    real[400:400 + H, 0] -= 0.03  # a crash: -30 % over the ten days ending at row 409
    share, _ = plausibility_metrics(paths(rng, 500), reference, real, dates, FACTORS, chi2_level=0.9999,
                                    tail_share=0.01, weights=[1.0, 0.0, 0.0])
    mean, cov, _ = unconditioned_fit(reference, H)
    windows = np.stack([real[k:k + H].sum(axis=0) for k in range(600 - H + 1)])
    d2 = mahalanobis_sq(windows, mean, cov)
    assert share.details["historical_max"] == pytest.approx(d2.max())
    assert share.details["radius_sq"] == pytest.approx(d2.max()) and d2.max() > chi2.ppf(0.9999, 3)
    assert share.details["radius_from"] == "history"
    assert share.details["historical_max_end"] == dates[409].date().isoformat()
    region = plausibility_region(mean, cov, real, H, chi2_level=0.9999)  # the same region, for other callers
    assert region["radius_sq"] == pytest.approx(share.details["radius_sq"]) and region["worst_window"] == 400
    short = plausibility_region(mean, cov, real[:H - 1], H, chi2_level=0.9999)
    assert short["radius_sq"] == pytest.approx(chi2.ppf(0.9999, 3)) and short["worst_window"] is None


def test_the_analogue_of_a_path_copied_from_history_is_that_window():
    rng = np.random.default_rng(6)
    reference = paths(rng, 2000)
    real, dates = history(rng, 800)
    real[500:500 + H, 0] -= 0.02  # a sell-off, so the copied window is the set's worst path for a long book
    synthetic = paths(rng, 300)
    synthetic[17] = real[500:500 + H]
    _, analogue = plausibility_metrics(synthetic, reference, real, dates, FACTORS, chi2_level=0.9999,
                                       tail_share=0.01, weights=[1.0, 0.0, 0.0])
    worst = analogue.details["analogues"][0]
    assert analogue.name == "plausibility_analogue" and analogue.direction == "info"
    assert worst["path"] == 17 and worst["distance"] == pytest.approx(0.0, abs=1e-9)
    assert worst["analogue_start"] == dates[500].date().isoformat()
    assert worst["analogue_end"] == dates[500 + H - 1].date().isoformat()
    assert worst["loss"] == pytest.approx(-real[500:500 + H, 0].sum())
    assert analogue.details["tail_paths"] == 3 and len(analogue.details["analogues"]) == 3
    assert outcome(analogue) == "INFO"


def test_the_analogue_distance_is_the_nearest_window_in_the_fit_metric():
    rng = np.random.default_rng(7)
    reference, synthetic = paths(rng, 1000), paths(rng, 200, scale=3.0)
    real, dates = history(rng, 400)
    _, analogue = plausibility_metrics(synthetic, reference, real, dates, FACTORS, chi2_level=0.9999,
                                       tail_share=0.05, weights=[1.0, -0.5, 2.0])
    mean, cov, _ = unconditioned_fit(reference, H)
    inverse = np.linalg.inv(cov)
    moves = synthetic.sum(axis=1)
    losses = -(moves @ np.array([1.0, -0.5, 2.0]))
    tail = np.argsort(-losses)[:10]
    windows = np.stack([real[k:k + H].sum(axis=0) for k in range(400 - H + 1)])
    nearest = [min(mahalanobis(moves[p], w, inverse) for w in windows) for p in tail]
    assert analogue.value == pytest.approx(np.median(nearest), rel=1e-9)
    assert [a["path"] for a in analogue.details["analogues"]] == tail.tolist()
    radius = np.sqrt(analogue.details["radius_sq"])
    assert analogue.details["share_farther_than_radius"] == pytest.approx(np.mean(np.array(nearest) > radius))


def test_a_reference_shorter_than_the_set_is_scaled_and_says_so():
    rng = np.random.default_rng(8)
    short = paths(rng, 30_000, horizon=5)
    mean, cov, note = unconditioned_fit(short, H)
    five = short.sum(axis=1)
    np.testing.assert_allclose(mean, five.mean(axis=0) * 2.0, rtol=1e-12)
    np.testing.assert_allclose(cov, np.cov(five, rowvar=False) * 2.0, rtol=1e-12)
    np.testing.assert_allclose(cov, DAILY_COV * H, rtol=0.05, atol=2e-5)  # a random walk's 10-day covariance
    assert "scaled by 10/5" in note
    _, _, note = unconditioned_fit(paths(rng, 10, horizon=30), H)
    assert "first 10 days" in note


def test_a_history_shorter_than_two_windows_is_not_run_with_the_reason():
    rng = np.random.default_rng(9)
    reference = paths(rng, 100)
    real, dates = history(rng, H)
    rows = plausibility_metrics(paths(rng, 50), reference, real, dates, FACTORS, chi2_level=0.99,
                                tail_share=0.01, weights=None)
    assert [r.name for r in rows] == ["plausibility_outside_share", "plausibility_analogue"]
    assert all("the history has 10 days, fewer than the 11 needed" in r.not_run for r in rows)
    assert [j.outcome for j in judge(rows, thresholds_for(2))] == ["NOT_RUN", "NOT_RUN"]


@pytest.mark.parametrize(("change", "message"), [
    ({"history_dates": ["2001-01-02"] * 3}, "history has 200 rows but history_dates has 3"),
    ({"weights": [1.0, 0.0]}, "weights has 2 entries but there are 3 factors"),
    ({"chi2_level": 1.0}, "chi2_level must lie in"),
    ({"tail_share": 0.0}, "tail_share must lie in"),
    ({"reference": np.zeros((1, H, 3))}, "reference needs at least 2 paths"),
    ({"synthetic": np.zeros((5, H, 2))}, "synthetic has 2 factors"),
])
def test_bad_inputs_are_refused_with_the_reason(change, message):
    rng = np.random.default_rng(10)
    real, dates = history(rng, 200)
    arguments = {"synthetic": paths(rng, 20), "reference": paths(rng, 20), "history": real,
                 "history_dates": dates, "chi2_level": 0.99, "tail_share": 0.01, "weights": [1.0, 0.0, 0.0]} | change
    with pytest.raises(ValueError, match=message):
        plausibility_metrics(arguments.pop("synthetic"), arguments.pop("reference"), arguments.pop("history"),
                             arguments.pop("history_dates"), FACTORS, **arguments)


def test_bad_covariances_are_refused():
    with pytest.raises(ValueError, match="not symmetric"):
        mahalanobis_sq(np.zeros((2, 2)), np.zeros(2), [[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="cov is zero"):
        mahalanobis_sq(np.zeros((2, 2)), np.zeros(2), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="moves have 2 factors but mean has 3"):
        mahalanobis_sq(np.zeros((2, 2)), np.zeros(3), np.eye(2))
