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
