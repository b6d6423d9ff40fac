"""TimeGAN's post-hoc discriminative score (Yoon et al. 2019): small sizes, CPU, a few seconds each."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from validation.neural.discriminative import discriminative_score

F, H = 3, 10
FAST = {"max_per_class": 800, "epochs": 8, "batch_size": 128}


def _gaussian_paths(n, scale=1.0, seed=0):
    return scale * np.random.default_rng(seed).standard_normal((n, H, F))


def _real(days=1500, seed=1):
    return np.random.default_rng(seed).standard_normal((days, F))


def _ar_paths(n, phi, seed=2):
    # Stationary AR(1) with unit variance, started from its stationary distribution.
    rng = np.random.default_rng(seed)
    x = np.empty((n, H, F))
    x[:, 0] = rng.standard_normal((n, F))
    for t in range(1, H):
        x[:, t] = phi * x[:, t - 1] + np.sqrt(1 - phi**2) * rng.standard_normal((n, F))
    return x


def test_same_distribution_scores_small():
    result = discriminative_score(_gaussian_paths(1000), _real(), **FAST)
    assert result.name == "discriminative_score"
    assert result.tier == "discriminative"
    assert result.direction == "max" and result.threshold == pytest.approx(0.15)
    assert result.value < 0.1
    assert result.passed is True
    assert result.details["device"] in ("cpu", "cuda")
    assert result.details["n_train"] == 2 * 640 and result.details["n_test"] == 2 * 160


def test_three_times_the_volatility_scores_large():
    result = discriminative_score(_gaussian_paths(1000, scale=3.0), _real(), **FAST)
    assert result.value > 0.3
    assert result.passed is False


def test_autocorrelated_paths_against_iid_real_score_large():
    result = discriminative_score(_ar_paths(1000, phi=0.9), _real(), **FAST)
    assert result.value > 0.3


def test_same_seed_same_score_and_details():
    args = (_gaussian_paths(400, scale=1.5), _real(800))
    small = {"max_per_class": 300, "epochs": 3, "batch_size": 64}
    a = discriminative_score(*args, seed=7, **small)
    b = discriminative_score(*args, seed=7, **small)
    assert a.to_dict() == b.to_dict()


def test_does_not_touch_the_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    discriminative_score(_gaussian_paths(100), _real(300), max_per_class=100, epochs=1)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize(("synthetic", "real", "kwargs", "message"), [
    (np.zeros((50, H, 2)), _real(300), {}, "factor names must match"),
    (_gaussian_paths(50), np.zeros((5, H, F)), {}, "must be \\[time, factors\\]"),
    (np.full((50, H, F), np.nan), _real(300), {}, "non-finite"),
    (_gaussian_paths(50), np.ones((300, F)), {}, "constant"),
    (_gaussian_paths(5), _real(300), {}, "too few sequences"),
    (_gaussian_paths(50), _real(12), {}, "too short"),
    (_gaussian_paths(50), _real(300), {"epochs": 0}, "epochs must be at least 1"),
    (_gaussian_paths(50), _real(300), {"test_fraction": 1.0}, "test_fraction"),
    (_gaussian_paths(50), _real(300), {"learning_rate": -1.0}, "learning_rate"),
    (_gaussian_paths(50), _real(300), {"max_per_class": 2.5}, "max_per_class must be an integer"),
])
def test_bad_inputs(synthetic, real, kwargs, message):
    with pytest.raises(ValueError, match=message):
        discriminative_score(synthetic, real, **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised where CUDA is missing")
def test_asking_for_cuda_without_it_is_an_input_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        discriminative_score(_gaussian_paths(100), _real(300), device="cuda")


# ── issue 15 §5: an exchangeable split, so that an ideal generator scores about 0 ──


def _regime_holdout(seed):
    # A calm holdout whose last fifth is three times as volatile: the split in time of the old score put all of
    # the volatile days in the real test part and none in the real training part.
    rng = np.random.default_rng(seed)
    return rng.standard_normal((750, F)) * np.where(np.arange(750) < 600, 1.0, 3.0)[:, None]


def _holdout_windows(real, n, seed):
    # An ideal generator: windows of the holdout itself, drawn anywhere in it.
    from validation.neural.discriminative import real_windows

    windows = real_windows(real, H)
    return windows[np.random.default_rng(seed + 100).integers(0, len(windows), n)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_windows_of_the_holdout_itself_score_within_the_policys_pass_threshold(seed):
    from validation.outcomes import judge
    from validation.policy_defaults import thresholds_for

    real = _regime_holdout(seed)
    result = discriminative_score(_holdout_windows(real, 500, seed), real, seed=seed, max_per_class=500)
    strictest = thresholds_for(1)["discriminative_score"]["threshold"]
    assert result.value < strictest
    assert judge([result], thresholds_for(1))[0].outcome == "PASS"
    assert result.details["split"]["n_blocks"] == 750 // (2 * H)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_windows_of_the_holdout_scaled_three_times_still_fail(seed):
    from validation.outcomes import judge
    from validation.policy_defaults import thresholds_for

    real = _regime_holdout(seed)
    result = discriminative_score(3 * _holdout_windows(real, 500, seed), real, seed=seed, max_per_class=500)
    assert judge([result], thresholds_for(3))[0].outcome == "FAIL"


def test_no_real_test_window_shares_a_day_with_a_real_training_window():
    from validation.neural.discriminative import split_real_windows

    days = np.arange(403, dtype=float)[:, None]  # each row is its own day number
    train, test, record = split_real_windows(days, H, 0.2, torch.Generator().manual_seed(0))
    assert not set(train[:, :, 0].ravel()) & set(test[:, :, 0].ravel())
    assert record["n_blocks"] == 20 and len(record["test_blocks"]) == 4
    # test blocks are drawn at random, not the last ones: the two sides span the same period
    assert record["test_blocks"] != [16, 17, 18, 19]
    # every window is consecutive days inside one block of 2 × horizon days (the last one takes the remainder)
    for window in np.concatenate([train, test])[:, :, 0]:
        assert np.all(np.diff(window) == 1) and min(window[0] // (2 * H), 19) == min(window[-1] // (2 * H), 19)
