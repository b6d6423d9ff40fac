"""Memorisation tier: nearest-neighbour distances pinned to scipy's cKDTree; copies found with their indices."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from validation.metrics.memorisation import distance_ratio, memorisation_metrics, nearest, windows

FACTORS = ["a", "b"]


def ar_garch_like(rng, days):
    vol = np.exp(np.convolve(rng.standard_normal(days + 50) * 0.2, np.ones(50) / 7, "valid")[:days])
    return rng.standard_normal((days, 2)) * vol[:, None] * [0.01, 0.02]


def test_nearest_equals_kdtree():
    rng = np.random.default_rng(0)
    reference, queries = rng.standard_normal((500, 12)), rng.standard_normal((300, 12))
    distance, index = nearest(queries, reference)
    kd_distance, kd_index = cKDTree(reference).query(queries)
    np.testing.assert_allclose(distance, kd_distance, rtol=1e-10)
    np.testing.assert_array_equal(index, kd_index)


def test_windows_are_every_overlapping_horizon():
    series = np.arange(20.0).reshape(10, 2)
    w, starts = windows(series, 4)
    assert w.shape == (7, 4, 2) and starts.tolist() == list(range(7))
    np.testing.assert_array_equal(w[3], series[3:7])


def test_copies_are_flagged_with_indices_and_matches():
    rng = np.random.default_rng(1)
    training, holdout = ar_garch_like(rng, 1500), ar_garch_like(rng, 500)
    synthetic = np.stack([training[s:s + 20] for s in rng.integers(0, 1400, 200)])
    synthetic += rng.standard_normal(synthetic.shape) * 0.01  # fresh-looking paths...
    synthetic[[7, 42]] = [training[100:120], training[900:920]]  # ...and two verbatim copies
    ratio, close, copies = memorisation_metrics(synthetic, holdout, FACTORS, training=training)
    assert copies.name == "memorisation_copies" and copies.value == 2 and copies.passed is False
    assert copies.details["indices"] == [7, 42]
    assert copies.details["training_window_starts"] == [100, 900]
    assert ratio.tier == close.tier == "memorisation"


def test_memorising_model_fails_and_fresh_data_passes():
    rng = np.random.default_rng(2)
    series = ar_garch_like(rng, 4000)
    training, holdout = series[:3000], series[3000:]
    starts = rng.integers(0, training.shape[0] - 30, 400)
    near_copies = np.stack([training[s:s + 30] for s in starts]) * (1 + 0.05 * rng.standard_normal((400, 30, 2)))
    fresh = ar_garch_like(rng, 400 * 30).reshape(400, 30, 2)
    bad_ratio, bad_close, _ = memorisation_metrics(near_copies, holdout, FACTORS, training=training)
    good_ratio, good_close, good_copies = memorisation_metrics(fresh, holdout, FACTORS, training=training)
    assert bad_ratio.value < 0.3 and bad_ratio.passed is False and bad_close.value > 0.9
    assert good_ratio.value == pytest.approx(1.0, abs=0.15) and good_ratio.passed is True
    assert good_close.value < 0.05 and good_copies.value == 0
    assert distance_ratio(fresh, holdout, training=training) == pytest.approx(good_ratio.value)


def test_caps_subsample_and_stride():
    rng = np.random.default_rng(3)
    training, holdout = ar_garch_like(rng, 600), ar_garch_like(rng, 200)
    synthetic = rng.standard_normal((300, 10, 2)) * 0.01
    ratio, _, _ = memorisation_metrics(synthetic, holdout, FACTORS, training=training, max_paths=100, max_train=50)
    assert ratio.details["synthetic_paths"] == 100 and ratio.details["training_windows"] == 50
    assert ratio.details["training_strided"] and ratio.details["holdout_windows"] == 100


def test_bad_input():
    rng = np.random.default_rng(4)
    training, holdout = ar_garch_like(rng, 300), ar_garch_like(rng, 100)
    with pytest.raises(ValueError, match="factor names must match"):
        memorisation_metrics(np.zeros((5, 10, 3)), holdout, FACTORS, training=training)
    short = {r.name: r for r in memorisation_metrics(np.zeros((5, 150, 2)), holdout, FACTORS, training=training)}
    assert short["memorisation_distance_ratio"].not_run and short["memorisation_close_share"].not_run
    assert "shorter than the scenarios' horizon" in short["memorisation_distance_ratio"].not_run
    assert short["memorisation_copies"].passed is True  # the copy check needs no holdout: it still ran
    with pytest.raises(ValueError, match="training has 2 columns but 3 factor names"):
        memorisation_metrics(np.zeros((5, 10, 2)), holdout, ["a", "b", "c"], training=training)
    flat = training.copy()
    flat[:, 1] = 1.0
    with pytest.raises(ValueError, match="constant"):
        memorisation_metrics(np.zeros((5, 10, 2)), holdout, FACTORS, training=flat)
    with pytest.raises(ValueError, match="copy_tol"):
        memorisation_metrics(np.zeros((5, 10, 2)), holdout, FACTORS, training=training, copy_tol=-1)


def test_a_training_window_shorter_than_the_horizon_leaves_nothing_to_test():
    rng = np.random.default_rng(5)
    training, holdout = ar_garch_like(rng, 15), ar_garch_like(rng, 100)
    results = memorisation_metrics(np.ones((5, 20, 2)), holdout, FACTORS, training=training)
    assert [r.name for r in results] == ["memorisation_distance_ratio", "memorisation_close_share",
                                         "memorisation_copies"]
    assert all(r.not_run and r.passed is None for r in results)


def test_copies_of_training_windows_fail_every_memorisation_metric():
    rng = np.random.default_rng(6)
    training, holdout = ar_garch_like(rng, 300), ar_garch_like(rng, 200)
    starts = rng.integers(0, 300 - 10, size=50)
    copies = training[starts[:, None] + np.arange(10)[None, :]]
    results = {r.name: r for r in memorisation_metrics(copies, holdout, FACTORS, training=training)}
    assert results["memorisation_distance_ratio"].value == pytest.approx(0.0, abs=1e-9)
    assert results["memorisation_copies"].value == 50
    assert not any(r.passed for r in results.values())


def test_a_holdout_made_of_training_windows_is_no_yardstick():
    rng = np.random.default_rng(7)
    training = ar_garch_like(rng, 300)
    results = {r.name: r for r in memorisation_metrics(ar_garch_like(rng, 100)[None, :10], training[:100],
                                                       FACTORS, training=training)}
    assert "median distance 0" in results["memorisation_distance_ratio"].not_run
