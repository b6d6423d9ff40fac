"""The score calibration of the deep engines (deep_common.fit_score_calibration) on synthetic windows
whose true structure is known: covariances against numpy's estimator of the real windows, distributions
against scipy's two-sample KS."""

from __future__ import annotations

import numpy as np
from scipy import stats

from scenarios.engines.deep_common import calibrate_scores, fit_score_calibration, has_calibration, windows

W, F = 10, 2


def _real_scores(rng: np.random.Generator, days: int = 12_000) -> np.ndarray:
    """Gaussian scores with a cross-lag link (factor 1 follows factor 0 by a day) and a volatility
    regime shared by both factors (so loud windows of one are loud windows of the other)."""
    z = rng.standard_normal((days, F))
    z[1:, 1] = 0.6 * z[:-1, 0] + 0.8 * z[1:, 1]
    regime = np.exp(0.35 * np.convolve(rng.standard_normal(days), np.ones(15) / np.sqrt(15), mode="same"))
    scores = z * regime[:, None]
    return (scores - scores.mean(0)) / scores.std(0)


def _generator(rng: np.random.Generator, n: int) -> np.ndarray:
    """A generator that knows neither: independent factors, each window with its own random loudness."""
    loud = np.exp(0.3 * rng.standard_normal((n, 1, F)))
    return rng.standard_normal((n, W, F)) * loud


def test_the_calibration_gives_the_real_covariance_across_days_and_factors():
    rng = np.random.default_rng(0)
    real = windows(_real_scores(rng), W)
    arrays = fit_score_calibration(_generator(rng, 8192), real)
    assert has_calibration(arrays)
    out = calibrate_scores(arrays, _generator(np.random.default_rng(1), 8192), np.random.default_rng(2))
    cov_real = np.cov(real.reshape(real.shape[0], -1), rowvar=False)
    cov_out = np.cov(out.reshape(out.shape[0], -1), rowvar=False)
    assert np.abs(cov_out - cov_real).max() < 0.12  # the quantile maps after the ZCA map move it a little
    # the cross-lag link: corr(factor 0 on day t, factor 1 on day t+1) ≈ 0.6 in the real windows
    lag = np.mean([np.corrcoef(out[:, t, 0], out[:, t + 1, 1])[0, 1] for t in range(W - 1)])
    assert abs(lag - 0.6) < 0.08
    # and so the correlation of window sums (what the 20-day validation tests see)
    assert abs(np.corrcoef(out.sum(1), rowvar=False)[0, 1] - np.corrcoef(real.sum(1), rowvar=False)[0, 1]) < 0.05


def test_window_loudness_gets_the_real_distribution():
    rng = np.random.default_rng(3)
    real = windows(_real_scores(rng), W)
    arrays = fit_score_calibration(_generator(rng, 8192), real)
    fresh = _generator(np.random.default_rng(4), 8192)
    out = calibrate_scores(arrays, fresh, np.random.default_rng(5))

    def rms(x):
        return np.sqrt(np.mean(x**2, axis=1))

    for j in range(F):
        assert stats.ks_2samp(rms(out)[:, j], rms(real)[:, j]).statistic < 0.03
        assert stats.ks_2samp(rms(fresh)[:, j], rms(real)[:, j]).statistic > 0.1  # it had to move
    # margins stay standard normal
    for j in range(F):
        assert stats.kstest(out[:, :, j].ravel(), "norm").statistic < 0.02


def test_a_collapsed_generator_gets_the_real_covariance_from_noise():
    rng = np.random.default_rng(6)
    real = windows(_real_scores(rng), W)
    collapsed = np.repeat(rng.standard_normal((8192, 1, 1)), W, axis=1) * np.ones((1, 1, F))  # rank one
    arrays = fit_score_calibration(collapsed, real)
    assert arrays["calibration.joint_noise"].shape == (W * F - 1, W * F)  # one direction spanned
    out = calibrate_scores(arrays, np.repeat(rng.standard_normal((8192, 1, 1)), W, axis=1) * np.ones((1, 1, F)),
                           np.random.default_rng(7))
    day_corr = np.corrcoef(out.reshape(-1, F), rowvar=False)[0, 1]
    assert abs(day_corr - np.corrcoef(real.reshape(-1, F), rowvar=False)[0, 1]) < 0.05
    lag1 = np.mean([np.corrcoef(out[:, t, 0], out[:, t + 1, 0])[0, 1] for t in range(W - 1)])
    assert abs(lag1) < 0.05  # not the collapse's perfect persistence


def test_states_calibrated_before_the_joint_map_still_sample_with_their_own_maps():
    """Per-factor day maps + the day's cross-factor map (the stored arrays of states fitted before the joint
    map): identity maps leave the scores as they are, and no joint map is applied to them."""
    scores = np.random.default_rng(8).standard_normal((64, W, F))
    probabilities = stats.norm.cdf(np.linspace(-4, 4, 401))
    grid = np.repeat(stats.norm.ppf(probabilities)[:, None], F, axis=1)
    rms_levels = np.repeat(np.linspace(0.01, 5, 201)[:, None], F, axis=1)
    old = {"calibration.mean_generated": np.zeros((W, F)), "calibration.mean_real": np.zeros((W, F)),
           "calibration.basis": np.repeat(np.eye(W)[None], F, axis=0), "calibration.gains": np.ones((F, W)),
           "calibration.matrix": np.repeat(np.eye(W)[None], F, axis=0), "calibration.cross_cholesky": np.eye(F),
           "calibration.cross_matrix": np.eye(F), "calibration.cross_mean": np.zeros((2, F)),
           "calibration.scale": np.stack([rms_levels, rms_levels])[None],
           "calibration.quantiles": grid[None]}
    assert has_calibration(old)
    np.testing.assert_allclose(calibrate_scores(old, scores, np.random.default_rng(9)), np.clip(scores, -4, 4),
                               atol=1e-6)
