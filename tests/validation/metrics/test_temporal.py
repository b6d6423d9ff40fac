"""Temporal tier: pooled ACF / Ljung–Box / ARCH-LM / leverage pinned to statsmodels and hand computations."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from statsmodels.stats.diagnostic import acorr_ljungbox, het_arch
from statsmodels.tsa.stattools import acf

from validation.metrics.floor import noise_floors
from validation.metrics.result import MetricResult, block_bootstrap_paths
from validation.metrics.temporal import (
    acf_error,
    acf_metrics,
    arch_lm_per_path,
    leverage_curve,
    leverage_metrics,
    ljung_box_per_path,
    pooled_acf,
    pooled_box_pierce,
    rejection_share,
    temporal_metrics,
)

FACTORS = ["a", "b"]


def garch(rng, n_paths, horizon, burn=200, omega=0.05, alpha=0.1, beta=0.85, leverage=0.0):
    """GARCH(1,1) paths (with a GJR-style leverage term when ``leverage`` > 0), one factor."""
    total = burn + horizon
    z = rng.standard_normal((n_paths, total))
    r = np.zeros((n_paths, total))
    var = np.full(n_paths, omega / (1 - alpha - beta))
    for t in range(total):
        r[:, t] = np.sqrt(var) * z[:, t]
        var = omega + (alpha + leverage * (r[:, t] < 0)) * r[:, t] ** 2 + beta * var
    return r[:, burn:]


def test_pooled_acf_of_one_path_is_statsmodels_adjusted_acf():
    x = np.random.default_rng(0).standard_t(4, size=300)
    np.testing.assert_allclose(pooled_acf(x[None, :], 15), acf(x, nlags=15, adjusted=True)[1:], rtol=1e-12)


def test_pooled_acf_pools_within_path_pairs_by_hand():
    x = np.random.default_rng(1).standard_normal((4, 7))
    m = x.mean()
    var = ((x - m) ** 2).mean()
    for k in (1, 3, 6):
        pairs = [(x[i, t] - m) * (x[i, t + k] - m) for i in range(4) for t in range(7 - k)]
        assert pooled_acf(x, 6)[k - 1] == pytest.approx(np.mean(pairs) / var, rel=1e-12)


def test_per_path_ljung_box_and_arch_lm_equal_statsmodels_path_by_path():
    x = np.random.default_rng(2).standard_t(5, size=(4, 40, 2))
    q, p = ljung_box_per_path(x, 6)
    a_lm, a_p = arch_lm_per_path(x, 3)
    for i in range(4):
        for j in range(2):
            lb = acorr_ljungbox(x[i, :, j], lags=[6])
            assert q[i, j] == pytest.approx(lb["lb_stat"].iloc[0], rel=1e-10)
            assert p[i, j] == pytest.approx(lb["lb_pvalue"].iloc[0], rel=1e-8)
            ref = het_arch(x[i, :, j], nlags=3, result_object=True)
            assert a_lm[i, j] == pytest.approx(ref.lm, rel=1e-8)
            assert a_p[i, j] == pytest.approx(ref.lmpval, rel=1e-8)


def test_pooled_box_pierce_by_hand():
    x = np.random.default_rng(3).standard_normal((50, 20, 1))
    rho = pooled_acf(x, 5)[:, 0]
    q, p = pooled_box_pierce(x, 5)
    assert q[0] == pytest.approx(sum(50 * (20 - k) * rho[k - 1] ** 2 for k in range(1, 6)))
    assert 0 <= p[0] <= 1


def test_leverage_of_one_path_is_numpy_corrcoef():
    r = np.random.default_rng(4).standard_normal(500)
    curve = leverage_curve(r[None, :, None], 5)[:, 0]
    for k in range(1, 6):
        assert curve[k - 1] == pytest.approx(np.corrcoef(r[:-k], np.abs(r[k:]))[0, 1], rel=1e-10)


def test_iid_rejection_share_is_near_the_test_size():
    x = np.random.default_rng(5).standard_normal((4000, 60, 1))
    # In 60 observations Ljung–Box (10 lags) is mildly oversized and ARCH-LM (5 lags) undersized; the metric
    # compares shares on equal footing (real windows of the same horizon), so the distortion cancels.
    assert 0.03 <= rejection_share(x, "ljung_box", 10)[0] <= 0.09
    assert 0.015 <= rejection_share(x, "arch_lm", 5)[0] <= 0.07


def test_acf_of_abs_returns_separates_garch_from_iid():
    rng = np.random.default_rng(6)
    real = garch(rng, 1, 4000)[0][:, None]
    same = garch(rng, 2000, 40)[:, :, None]
    iid = rng.standard_normal((2000, 40, 1)) * real.std()
    good = acf_metrics(same, real, ["x"], kind="abs")[0]
    bad = acf_metrics(iid, real, ["x"], kind="abs")[0]
    assert isinstance(good, MetricResult) and good.tier == "temporal" and good.name == "acf_abs_returns"
    assert good.value < bad.value
    assert good.passed is True and bad.passed is False
    assert len(good.details["synthetic"]) == 20 == len(good.details["lags"])


def test_identical_data_has_zero_acf_error_and_leverage_error():
    real = np.random.default_rng(7).standard_normal((300, 2))
    np.testing.assert_allclose(acf_error(real[None], real, "squared"), 0, atol=1e-12)
    assert all(m.value == pytest.approx(0, abs=1e-12) for m in leverage_metrics(real[None], real, FACTORS))


def test_leverage_metric_detects_a_missing_leverage_effect():
    rng = np.random.default_rng(8)
    real = garch(rng, 1, 6000, leverage=0.15, alpha=0.02)[0][:, None]
    with_leverage = garch(rng, 2000, 30, leverage=0.15, alpha=0.02)[:, :, None]
    without = garch(rng, 2000, 30, alpha=0.09)[:, :, None]
    good, bad = (leverage_metrics(s, real, ["x"])[0] for s in (with_leverage, without))
    assert good.value < bad.value
    assert np.mean(good.details["real"][:3]) < -0.05


def test_whole_tier_returns_every_metric_per_factor():
    rng = np.random.default_rng(9)
    results = temporal_metrics(rng.standard_normal((300, 20, 2)), rng.standard_normal((400, 2)), FACTORS)
    names = {m.name for m in results}
    assert names == {"acf_returns", "acf_abs_returns", "acf_squared_returns", "ljung_box_returns",
                     "ljung_box_squared", "arch_lm", "leverage"}
    assert len(results) == 7 * 2
    lb = next(m for m in results if m.name == "ljung_box_returns")
    assert {"synthetic_rejection_share", "real_rejection_share", "synthetic_pooled_pvalue",
            "real_full_series_pvalue"} <= set(lb.details)
    assert all(m.to_dict()["tier"] == "temporal" for m in results)


def test_raw_statistic_gives_noise_floors_that_pass_real_data():
    rng = np.random.default_rng(11)
    series = garch(rng, 2, 3000).T  # two independent GARCH factors, [3000, 2]
    training, holdout = series[:2000], series[2000:]
    floors = noise_floors(partial(acf_error, kind="abs"), training, holdout, horizon=20, n_paths=300,
                          resamples=10, rng=rng)
    assert len(floors) == 2 and all(f.low <= f.median <= f.high for f in floors)
    real_like = block_bootstrap_paths(training, 300, 20, rng)
    results = acf_metrics(real_like, holdout, FACTORS, kind="abs", threshold=0.0, floor=floors)
    assert [m.floor for m in results] == floors
    with pytest.raises(ValueError, match="got 1 noise floors for 2 factors"):
        acf_metrics(real_like, holdout, FACTORS, floor=floors[:1])


def test_short_horizon_skips_per_path_tests_as_information():
    rng = np.random.default_rng(10)
    results = temporal_metrics(rng.standard_normal((100, 5, 2)), rng.standard_normal((200, 2)), FACTORS)
    skipped = [m for m in results if m.name in ("ljung_box_returns", "arch_lm")]
    assert skipped and all(m.direction == "info" and m.passed is None for m in skipped)
    assert len(next(m for m in results if m.name == "acf_returns").details["lags"]) == 4


@pytest.mark.parametrize(("synthetic", "real", "factors", "message"), [
    (np.zeros((10, 20, 3)), np.zeros((100, 2)), FACTORS, "factor names must match"),
    (np.zeros((10, 20, 2)), np.zeros((100, 3)), FACTORS, "3 columns but 2 factor names"),
    (np.zeros((10, 20, 2)), np.zeros((10, 2)), FACTORS, "at least 30"),
    (np.zeros((10, 20, 2, 1)), np.zeros((100, 2)), FACTORS, "must be \\[scenarios, horizon, factors\\]"),
    (np.zeros((10, 1, 2)), np.zeros((100, 2)), FACTORS, "at least 2 steps"),
])
def test_bad_input_is_named(synthetic, real, factors, message):
    with pytest.raises(ValueError, match=message):
        temporal_metrics(synthetic, real, factors)


def test_nan_is_located():
    synthetic = np.zeros((5, 20, 2))
    synthetic[3, 4, 1] = np.nan
    with pytest.raises(ValueError, match=r"non-finite value at \[scenario, step, factor\] = \[3, 4, 1\]"):
        acf_metrics(synthetic, np.ones((100, 2)), FACTORS)
    with pytest.raises(ValueError, match="kind must be one of"):
        acf_metrics(np.ones((5, 20, 2)), np.ones((100, 2)), FACTORS, kind="cubed")


def test_ljung_box_on_constant_synthetic_paths_is_not_run_not_a_pass():
    # A constant path has no Ljung-Box statistic; counting it as "does not reject" let a constant generator
    # match a real series that rarely rejects.
    from validation.metrics.temporal import arch_lm_metrics, ljung_box_metrics

    rng = np.random.default_rng(21)
    real = rng.standard_normal((400, 2))
    synthetic = rng.standard_normal((200, 20, 2))
    synthetic[:, :, 1] = 0.5
    for results in (ljung_box_metrics(synthetic, real, ["a", "b"]),
                    ljung_box_metrics(synthetic, real, ["a", "b"], squared=True),
                    arch_lm_metrics(synthetic, real, ["a", "b"])):
        by_factor = {r.factor: r for r in results}
        assert by_factor["a"].passed is not None and not by_factor["a"].not_run
        assert "constant" in by_factor["b"].not_run and by_factor["b"].passed is None


def test_acf_and_leverage_on_a_constant_real_factor_are_not_run():
    from validation.metrics.temporal import acf_metrics, leverage_metrics

    rng = np.random.default_rng(22)
    real = rng.standard_normal((300, 2))
    real[:, 0] = 0.0
    synthetic = rng.standard_normal((100, 20, 2))
    for results in (acf_metrics(synthetic, real, ["a", "b"]), leverage_metrics(synthetic, real, ["a", "b"])):
        by_factor = {r.factor: r for r in results}
        assert "the real series of a are constant" in by_factor["a"].not_run
        assert not by_factor["b"].not_run


def test_per_path_tests_on_short_paths_are_not_run():
    from validation.metrics.temporal import ljung_box_metrics

    rng = np.random.default_rng(23)
    results = ljung_box_metrics(rng.standard_normal((50, 5, 1)), rng.standard_normal((100, 1)), ["a"])
    assert results[0].not_run and results[0].passed is None and "horizon of at least 10" in results[0].not_run


def test_iid_paths_fail_the_volatility_clustering_metrics_against_a_garch_series():
    from validation.metrics.temporal import acf_metrics, arch_lm_metrics

    # A strong ARCH effect (alpha 0.5): per-path tests on 40 days have little power against a milder one
    # (alpha 0.15, beta 0.83 gives a rejection-share gap of only ~0.06), the pooled ACF of r² much more.
    rng = np.random.default_rng(24)
    real = _garch(rng, 3000, alpha=0.5, beta=0.45).reshape(-1, 1)
    synthetic = rng.standard_normal((500, 40, 1)) * real.std()
    assert acf_metrics(synthetic, real, ["a"], kind="squared")[0].passed is False
    assert arch_lm_metrics(synthetic, real, ["a"])[0].passed is False


def _garch(rng, n, omega=0.05, alpha=0.15, beta=0.83):
    r, var = np.empty(n), omega / (1 - alpha - beta)
    for t in range(n):
        r[t] = np.sqrt(var) * rng.standard_normal()
        var = omega + alpha * r[t] ** 2 + beta * var
    return r
