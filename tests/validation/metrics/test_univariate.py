"""Univariate tier: each metric pinned to scipy / numpy or a hand computation; bad inputs; pass logic."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import stats

from validation.metrics import univariate as uni
from validation.metrics.floor import noise_floors
from validation.metrics.result import Floor, MetricResult, horizon_sums

FACTORS = ["equity", "rates", "credit"]


def _data(seed=0, n=60, horizon=5, t=200, f=3):
    rng = np.random.default_rng(seed)
    synthetic = rng.standard_normal((n, horizon, f)) * 0.01
    real = rng.standard_t(4, size=(t, f)) * 0.01
    return synthetic, real


def test_ks_matches_scipy_on_both_scopes():
    synthetic, real = _data()
    results = uni.ks(synthetic, real, FACTORS)
    assert [r.name for r in results] == ["ks_daily"] * 3 + ["ks_horizon"] * 3
    assert all(isinstance(r, MetricResult) and r.tier == "univariate" for r in results)
    daily = synthetic.reshape(-1, 3)
    sums_s, sums_r = synthetic.sum(axis=1), horizon_sums(real, 5)
    for f in range(3):
        expected_daily = stats.ks_2samp(daily[:, f], real[:, f])
        expected_horizon = stats.ks_2samp(sums_s[:, f], sums_r[:, f])
        assert results[f].factor == FACTORS[f]
        assert results[f].value == pytest.approx(expected_daily.statistic, abs=1e-15)
        assert results[f].pvalue == pytest.approx(expected_daily.pvalue, rel=1e-12)
        assert results[3 + f].value == pytest.approx(expected_horizon.statistic, abs=1e-15)
        # Overlapping real windows are not independent draws: the horizon p-value is nominal, never a test.
        assert results[3 + f].pvalue is None
        assert results[3 + f].details["nominal_pvalue"] == pytest.approx(expected_horizon.pvalue, rel=1e-12)
    np.testing.assert_allclose(uni.ks_statistic(synthetic, real), np.reshape([r.value for r in results], (2, 3)))


def test_horizon_sums_are_overlapping_window_sums():
    _, real = _data()
    sums = horizon_sums(real, 5)
    assert sums.shape == (196, 3)
    np.testing.assert_allclose(sums[7], real[7:12].sum(axis=0))


def test_anderson_darling_matches_scipy():
    synthetic, real = _data(1)
    results = uni.anderson_darling(synthetic, real, FACTORS)
    assert [r.name for r in results] == ["ad_daily"] * 3 + ["ad_horizon"] * 3
    daily = synthetic.reshape(-1, 3)
    for f in range(3):
        expected = stats.anderson_ksamp([daily[:, f], real[:, f]], variant="midrank")
        assert results[f].value == pytest.approx(expected.statistic, rel=1e-12)
        assert results[f].pvalue == pytest.approx(expected.pvalue, rel=1e-12)
    sums_s, sums_r = synthetic.sum(axis=1), horizon_sums(real, 5)
    expected = stats.anderson_ksamp([sums_s[:, 2], sums_r[:, 2]], variant="midrank")
    assert results[5].value == pytest.approx(expected.statistic, rel=1e-12)
    assert results[5].pvalue is None and results[5].details["nominal_pvalue"] == pytest.approx(expected.pvalue)


def test_moments_match_scipy_and_hand_formulas():
    synthetic, real = _data(2)
    results = uni.moments(synthetic, real, FACTORS)
    by_name = {(r.name, r.factor): r for r in results}
    x = synthetic.reshape(-1, 3)
    f = 1
    vol_r = real[:, f].std(ddof=1)
    assert by_name[("mean_diff_daily", "rates")].value == pytest.approx((x[:, f].mean() - real[:, f].mean()) / vol_r)
    assert by_name[("vol_rel_diff_daily", "rates")].value == pytest.approx(x[:, f].std(ddof=1) / vol_r - 1)
    assert by_name[("skew_diff_daily", "rates")].value == pytest.approx(
        stats.skew(x[:, f]) - stats.skew(real[:, f]), rel=1e-9)
    assert by_name[("kurt_diff_daily", "rates")].value == pytest.approx(
        stats.kurtosis(x[:, f]) - stats.kurtosis(real[:, f]), rel=1e-9)
    s, r = synthetic.sum(axis=1)[:, f], horizon_sums(real, 5)[:, f]
    assert by_name[("kurt_diff_horizon", "rates")].value == pytest.approx(stats.kurtosis(s) - stats.kurtosis(r),
                                                                          rel=1e-9)
    assert by_name[("vol_rel_diff_horizon", "rates")].value == pytest.approx(s.std(ddof=1) / r.std(ddof=1) - 1)
    assert by_name[("skew_diff_daily", "rates")].details["real"] == pytest.approx(stats.skew(real[:, f]))
    assert all(r.direction == "abs_max" for r in results)
    assert uni.moments_statistic(synthetic, real).shape == (2, 4, 3)


def test_quantile_errors_by_hand():
    synthetic, real = _data(3)
    results = uni.quantile_errors(synthetic, real, FACTORS)
    assert len(results) == 2 * 4 * 3
    assert {r.name for r in results} == {f"q{p}_err_{s}" for p in ("01", "05", "95", "99")
                                         for s in ("daily", "horizon")}
    x = synthetic.reshape(-1, 3)[:, 0]
    expected = abs(np.quantile(x, 0.99) - np.quantile(real[:, 0], 0.99)) / real[:, 0].std(ddof=1)
    hit = next(r for r in results if r.name == "q99_err_daily" and r.factor == "equity")
    assert hit.value == pytest.approx(expected)
    assert hit.details["quantile"] == 0.99


def test_gaussian_against_heavy_tails_has_larger_ks_than_same_distribution():
    rng = np.random.default_rng(7)
    real = rng.standard_t(2.5, size=(2000, 1))
    gaussian = rng.standard_normal((400, 10, 1)) * real.std()
    same = rng.standard_t(2.5, size=(400, 10, 1))
    d_gauss = uni.ks(gaussian, real, ["x"])[0].value
    d_same = uni.ks(same, real, ["x"])[0].value
    assert d_gauss > 2 * d_same
    ad_gauss = uni.anderson_darling(gaussian, real, ["x"])[0].value
    ad_same = uni.anderson_darling(same, real, ["x"])[0].value
    assert ad_gauss > ad_same


def test_threshold_and_floor_drive_passed():
    synthetic, real = _data(4)
    assert all(r.passed is None for r in uni.ks(synthetic, real, FACTORS))
    assert all(r.passed for r in uni.ks(synthetic, real, FACTORS, threshold=1.0))
    assert not any(r.passed for r in uni.ks(synthetic, real, FACTORS, threshold=0.0))
    per_name = uni.ks(synthetic, real, FACTORS, threshold={"ks_daily": 1.0})
    assert [r.passed for r in per_name] == [True] * 3 + [None] * 3
    wide = Floor(low=0.0, median=0.5, high=1.0, n=20, method="test")
    narrow = Floor(low=0.0, median=0.0, high=0.0, n=20, method="test")
    assert all(r.passed for r in uni.ks(synthetic, real, FACTORS, floor=[wide] * 6))
    assert not any(r.passed for r in uni.ks(synthetic, real, FACTORS, floor=[narrow] * 6))
    with pytest.raises(ValueError, match="floor has 2 entries but the metric has 6"):
        uni.ks(synthetic, real, FACTORS, floor=[wide] * 2)
    moments = uni.moments(synthetic, real, FACTORS, threshold={"vol_rel_diff_daily": 10.0})
    assert all(r.passed for r in moments if r.name == "vol_rel_diff_daily")


def test_noise_floor_lines_up_with_results():
    synthetic, real = _data(5, t=300)
    training, holdout = real[:150], real[150:]
    floors = noise_floors(uni.ks_statistic, training, holdout, horizon=5, n_paths=50, resamples=5,
                          rng=np.random.default_rng(0))
    results = uni.ks(synthetic, holdout, FACTORS, floor=floors)
    assert len(floors) == len(results) == 6
    assert all(r.floor is f for r, f in zip(results, floors, strict=True))
    moment_floors = noise_floors(uni.moments_statistic, training, holdout, horizon=5, n_paths=50, resamples=5,
                                 rng=np.random.default_rng(0))
    assert len(uni.moments(synthetic, holdout, FACTORS, floor=moment_floors)) == len(moment_floors) == 24


@pytest.mark.parametrize(("synthetic", "real", "factors", "message"), [
    (np.zeros((5, 3, 3)), np.zeros((50, 3, 1)), FACTORS, r"real must be \[time, factors\]"),
    (np.zeros((5, 3, 3, 1)), np.ones((50, 3)), FACTORS, r"synthetic must be \[scenarios, horizon, factors\]"),
    (np.zeros((5, 3, 2)), np.random.default_rng(0).normal(size=(50, 3)), FACTORS, "synthetic has 2 factors but"),
    (np.zeros((5, 3, 3)), np.random.default_rng(0).normal(size=(50, 3)), ["a", "b"], "3 columns but 2 factor names"),
    (np.zeros((5, 3, 3)), np.random.default_rng(0).normal(size=(10, 3)), FACTORS, "10 observations"),
    (np.zeros((5, 40, 3)), np.random.default_rng(0).normal(size=(50, 3)), FACTORS, "overlapping 40-day sums"),
    (np.zeros((5, 3, 3)), np.zeros((50, 3)), FACTORS, "real factor 'equity' is constant"),
    (np.zeros((5, 3, 3)), np.random.default_rng(0).normal(size=(50, 3)), ["a", "a", "b"], "duplicate"),
])
def test_bad_inputs_name_the_problem(synthetic, real, factors, message):
    for metric in (uni.ks, uni.anderson_darling, uni.moments, uni.quantile_errors):
        with pytest.raises(ValueError, match=message):
            metric(synthetic, real, factors)


def test_non_finite_values_are_located():
    synthetic, real = _data()
    bad = synthetic.copy()
    bad[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"synthetic has a non-finite value at .* = \[2, 1, 0\]"):
        uni.ks(bad, real, FACTORS)
    bad_real = real.copy()
    bad_real[4, 2] = np.inf
    with pytest.raises(ValueError, match="real has a non-finite value at row 4, column 2"):
        uni.moments_statistic(synthetic, bad_real)


def test_constant_synthetic_factor_fails_rather_than_crashes():
    synthetic, real = _data()
    synthetic[:, :, 0] = 0.0
    results = {(r.name, r.factor): r for r in uni.moments(synthetic, real, FACTORS, threshold=100.0)}
    assert np.isnan(results[("skew_diff_daily", "equity")].value)
    assert results[("skew_diff_daily", "equity")].passed is False
    assert results[("vol_rel_diff_daily", "equity")].value == pytest.approx(-1.0)


def test_subsampling_is_deterministic_and_capped(monkeypatch):
    synthetic, real = _data(6, n=400, horizon=5)
    monkeypatch.setattr(uni, "KS_CAP", 500)
    first = uni.ks_statistic(synthetic, real)
    assert np.array_equal(first, uni.ks_statistic(synthetic, real))
    results = uni.ks(synthetic, real, FACTORS)
    assert results[0].details["n_synthetic"] == 500
    seeded = uni.ks_statistic(synthetic, real, rng=np.random.default_rng(1))
    assert np.array_equal(seeded, uni.ks_statistic(synthetic, real, rng=np.random.default_rng(1)))


def test_run_univariate_covers_every_family_and_stays_fast():
    rng = np.random.default_rng(8)
    factors = [f"f{i}" for i in range(10)]
    synthetic = rng.standard_normal((2000, 10, 10))
    real = rng.standard_t(5, size=(500, 10))
    start = time.perf_counter()
    results = uni.run_univariate(synthetic, real, factors, thresholds={"ks_daily": 0.2})
    elapsed = time.perf_counter() - start
    assert len(results) == (2 + 2 + 8 + 8) * 10
    assert {r.tier for r in results} == {"univariate"}
    assert all(r.passed for r in results if r.name == "ks_daily")
    assert all(r.to_dict()["name"] == r.name for r in results)
    assert elapsed < 60  # a sanity bound, not a benchmark (see bench/)
    with pytest.raises(ValueError, match="unknown families"):
        uni.run_univariate(synthetic, real, factors, floors={"nope": []})


def test_higher_moments_are_compared_at_the_floors_sample_size():
    """Skew and kurtosis: the median over disjoint subsamples of ``matched_paths`` paths (scipy oracle)."""
    sps, moments = stats, uni.moments
    rng = np.random.default_rng(5)
    synthetic = rng.standard_t(3, size=(2000, 5, 2))
    real = rng.standard_t(5, size=(400, 2))
    results = {(r.name, r.factor): r for r in moments(synthetic, real, ["a", "b"], matched_paths=500)}
    daily = [sps.kurtosis(synthetic[i * 500:(i + 1) * 500].reshape(-1, 2), axis=0) for i in range(4)]
    expected = np.median(daily, axis=0) - sps.kurtosis(real, axis=0)
    for f, factor in enumerate(["a", "b"]):
        result = results[("kurt_diff_daily", factor)]
        assert result.value == pytest.approx(expected[f], rel=1e-9)
        assert result.details["full_sample_value"] == pytest.approx(
            sps.kurtosis(synthetic.reshape(-1, 2), axis=0)[f] - sps.kurtosis(real, axis=0)[f], rel=1e-9)
        assert result.details["subsamples"] == 4
        # the mean and volatility still use every path
        assert "matched_paths" not in results[("vol_rel_diff_daily", factor)].details
    unmatched = {(r.name, r.factor): r for r in moments(synthetic, real, ["a", "b"])}
    assert unmatched[("kurt_diff_daily", "a")].value == pytest.approx(
        results[("kurt_diff_daily", "a")].details["full_sample_value"])


def test_a_correct_generator_is_not_failed_by_the_horizon_scope_s_overlapping_windows():
    """Overlapping horizon sums read as independent draws would give ad_horizon p = 0.001 for the true law."""
    rng = np.random.default_rng(11)
    real = rng.standard_normal((750, 2)) * 0.01
    synthetic = rng.standard_normal((2000, 20, 2)) * 0.01
    horizon = [r for r in uni.anderson_darling(synthetic, real, FACTORS[:2]) if r.name == "ad_horizon"]
    assert all(r.pvalue is None for r in horizon)
    assert all("overlapping" in r.details["pvalue_note"] for r in horizon)
