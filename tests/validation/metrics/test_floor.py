"""Noise floors against a closed form: the floor's spread covers the training window's own sampling error."""

import numpy as np
import pytest

from validation.metrics.floor import noise_floor


def _mean_difference(paths: np.ndarray, real: np.ndarray) -> float:
    return float(paths.mean() - real.mean())


def _spread(floor) -> float:
    return (floor.high - floor.low) / (2 * 1.6448536269514722)


def test_the_floor_spread_matches_the_closed_form_for_a_mean_of_independent_draws():
    """Ideal generator of iid N(0, 1): its mean difference to the holdout sits ``mean(T) - mean(truth)`` plus
    path noise away from the floor's centre, so the floor's sd must be ``sqrt(1/T + 1/(n h))``."""
    rng = np.random.default_rng(3)
    train, holdout = rng.standard_normal((1500, 1)), rng.standard_normal((750, 1))
    n, h = 500, 20
    floor = noise_floor(_mean_difference, train, holdout, horizon=h, n_paths=n, resamples=400, rng=rng)
    assert _spread(floor) == pytest.approx(np.sqrt(1 / 1500 + 1 / (n * h)), rel=0.15)
    assert "redraws of the training window" in floor.method


def test_the_one_window_floor_leaves_the_training_sampling_error_out():
    rng = np.random.default_rng(4)
    train, holdout = rng.standard_normal((1500, 1)), rng.standard_normal((750, 1))
    floor = noise_floor(_mean_difference, train, holdout, horizon=20, n_paths=500, resamples=400, rng=rng,
                        resample_reference=False)
    # Paths overlap inside one window of 1,500 days: the spread is that of resampling 1,500 values, not 10,000
    # new ones, and stays well below sqrt(1/T + 1/(n h)) = 0.028.
    assert _spread(floor) < 0.7 * np.sqrt(1 / 1500 + 1 / 10_000)


def test_a_floor_needs_five_resamples():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="at least 5 resamples"):
        noise_floor(_mean_difference, rng.standard_normal((100, 1)), rng.standard_normal((50, 1)), horizon=5,
                    resamples=4, rng=rng)
