"""Multivariate tier: energy distance vs a brute-force double loop and scipy (1-D), MMD vs a naive
implementation, correlation and tail dependence by hand; bad inputs; pass logic."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
from scipy import stats

from validation.metrics import multivariate as mv
from validation.metrics.floor import noise_floors
from validation.metrics.result import Floor, horizon_sums

FACTORS = ["equity", "rates", "credit"]


def _data(seed=0, n=60, horizon=5, t=200):
    rng = np.random.default_rng(seed)
    cov = np.array([[1.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 1.0]])
    synthetic = rng.multivariate_normal(np.zeros(3), cov, size=(n, horizon)) * 0.01
    real = rng.multivariate_normal(np.zeros(3), cov, size=t) * 0.01 + rng.standard_t(3, size=(t, 3)) * 0.002
    return synthetic, real


def _brute_energy(x, y):
    def mean_dist(a, b):
        return sum(math.dist(p, q) for p in a for q in b) / (len(a) * len(b))
    return 2 * mean_dist(x, y) - mean_dist(x, x) - mean_dist(y, y)


def test_energy_distance_matches_brute_force_double_loop():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3))
    y = rng.normal(0.5, 1.5, size=(30, 3))
    assert mv.energy_distance_samples(x, y) == pytest.approx(_brute_energy(x.tolist(), y.tolist()), rel=1e-9)
    assert mv.energy_distance_samples(x, x) == pytest.approx(0.0, abs=1e-9)


def test_energy_distance_is_scipys_value_squared_in_one_dimension():
    rng = np.random.default_rng(2)
    u, v = rng.normal(size=80), rng.standard_t(3, size=50) + 0.3
    assert mv.energy_distance_samples(u, v) == pytest.approx(stats.energy_distance(u, v) ** 2, rel=1e-9)


def test_energy_distance_statistic_standardises_by_real():
    synthetic, real = _data()
    values = mv.energy_distance_statistic(synthetic, real)
    x, y = synthetic.reshape(-1, 3), real
    mean, sd = y.mean(axis=0), y.std(axis=0, ddof=1)
    assert values[0] == pytest.approx(mv.energy_distance_samples((x - mean) / sd, (y - mean) / sd), rel=1e-12)
    s, r = synthetic.sum(axis=1), horizon_sums(real, 5)
    mean, sd = r.mean(axis=0), r.std(axis=0, ddof=1)
    assert values[1] == pytest.approx(mv.energy_distance_samples((s - mean) / sd, (r - mean) / sd), rel=1e-12)
    results = mv.energy_distance(synthetic, real, FACTORS)
    assert [r.name for r in results] == ["energy_distance_daily", "energy_distance_horizon"]
    assert [r.value for r in results] == pytest.approx(values.tolist())


def _naive_mmd2(x, y, sigma):
    def k(a, b):
        return math.exp(-sum((p - q) ** 2 for p, q in zip(a, b, strict=True)) / (2 * sigma * sigma))
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(a, b) for a in x for b in y) / (m * n)
    return xx + yy - 2 * xy


def _naive_median_distance(z):
    return float(np.median([math.dist(p, q) for p, q in itertools.combinations(z, 2)]))


def test_mmd_matches_naive_implementation_including_permutation_pvalue():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(25, 2))
    y = rng.normal(0.4, 1.0, size=(20, 2))
    z = np.vstack([x, y]).tolist()
    sigma = _naive_median_distance(z)
    value, pvalue, bandwidth = mv.mmd2_unbiased(x, y, permutations=50, rng=np.random.default_rng(11))
    assert bandwidth == pytest.approx(sigma, rel=1e-9)
    assert value == pytest.approx(_naive_mmd2(x.tolist(), y.tolist(), sigma), rel=1e-9)
    # Naive permutation test with the documented scheme and the same generator.
    generator = np.random.default_rng(11)
    pooled = np.vstack([x, y])
    null = []
    for _ in range(50):
        perm = generator.permutation(45)
        null.append(_naive_mmd2(pooled[perm[:25]].tolist(), pooled[perm[25:]].tolist(), sigma))
    expected = (1 + sum(v >= value - 1e-12 for v in null)) / 51
    assert pvalue == pytest.approx(expected)


def test_mmd_separates_shifted_from_identical_distributions():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(150, 3))
    same, _, _ = mv.mmd2_unbiased(x, rng.normal(size=(150, 3)), permutations=0)
    shifted, p_shifted, _ = mv.mmd2_unbiased(x, rng.normal(0.7, 1, size=(150, 3)), permutations=99,
                                             rng=np.random.default_rng(0))
    assert shifted > same
    assert abs(same) < 0.02
    assert p_shifted == pytest.approx(0.01)
    results = mv.mmd(*_data(), FACTORS, rng=np.random.default_rng(0), permutations=20)
    assert [r.name for r in results] == ["mmd2_daily", "mmd2_horizon"]
    assert all(0 < r.pvalue <= 1 for r in results)
    assert results[0].details["permutations"] == 20


def test_correlation_error_by_hand():
    synthetic, real = _data(5)
    results = mv.correlation_error(synthetic, real, FACTORS)
    assert [r.name for r in results] == ["corr_frobenius_daily", "corr_frobenius_horizon"]
    diff = np.corrcoef(synthetic.reshape(-1, 3).T) - np.corrcoef(real.T)
    assert results[0].value == pytest.approx(np.sqrt((diff**2).sum()))
    i, j = np.unravel_index(np.argmax(np.abs(diff)), diff.shape)
    assert results[0].details["worst_pair"] == [FACTORS[i], FACTORS[j]]
    diff_h = np.corrcoef(synthetic.sum(axis=1).T) - np.corrcoef(horizon_sums(real, 5).T)
    assert results[1].value == pytest.approx(np.linalg.norm(diff_h))


def _naive_tail(x, q):
    n, f = x.shape
    u = np.column_stack([stats.rankdata(x[:, k]) for k in range(f)]) / (n + 1)
    lower, upper = np.eye(f), np.eye(f)
    for a, b in itertools.permutations(range(f), 2):
        lower[a, b] = np.mean((u[:, a] <= q) & (u[:, b] <= q)) / q
        upper[a, b] = np.mean((u[:, a] > 1 - q) & (u[:, b] > 1 - q)) / q
    return lower, upper


def test_tail_dependence_matches_naive_and_known_cases():
    rng = np.random.default_rng(6)
    x = rng.standard_t(3, size=(400, 3))
    x[:, 1] += x[:, 0]
    lower, upper = mv.tail_dependence_matrix(x, 0.05)
    naive_lower, naive_upper = _naive_tail(x, 0.05)
    np.testing.assert_allclose(lower[~np.eye(3, dtype=bool)], naive_lower[~np.eye(3, dtype=bool)])
    np.testing.assert_allclose(upper[~np.eye(3, dtype=bool)], naive_upper[~np.eye(3, dtype=bool)])
    comonotone = np.column_stack([np.arange(1000.0), np.arange(1000.0) ** 3])
    low, up = mv.tail_dependence_matrix(comonotone, 0.05)
    assert low[0, 1] == pytest.approx(1.0) and up[0, 1] == pytest.approx(1.0)
    countermonotone = np.column_stack([np.arange(1000.0), -np.arange(1000.0)])
    assert mv.tail_dependence_matrix(countermonotone, 0.05)[0][0, 1] == 0.0


def test_tail_dependence_results_report_max_difference_and_pairs():
    synthetic, real = _data(7, n=100, t=400)
    results = mv.tail_dependence(synthetic, real, FACTORS)
    assert [r.name for r in results] == ["tail_dep_lower", "tail_dep_upper"]
    ls, us = mv.tail_dependence_matrix(synthetic.reshape(-1, 3), 0.05)
    lr, ur = mv.tail_dependence_matrix(real, 0.05)
    pairs = results[0].details["pairs"]
    assert set(pairs) == {"equity~rates", "equity~credit", "rates~credit"}
    assert pairs["equity~credit"]["synthetic"] == pytest.approx(ls[0, 2])
    assert pairs["equity~credit"]["real"] == pytest.approx(lr[0, 2])
    iu = np.triu_indices(3, k=1)
    assert results[0].value == pytest.approx(np.abs(ls - lr)[iu].max())
    assert results[1].value == pytest.approx(np.abs(us - ur)[iu].max())
    assert results[0].value == pytest.approx(max(abs(p["diff"]) for p in pairs.values()))


def test_threshold_and_floor_drive_passed():
    synthetic, real = _data(8)
    assert all(r.passed for r in mv.correlation_error(synthetic, real, FACTORS, threshold=10.0))
    assert not any(r.passed for r in mv.correlation_error(synthetic, real, FACTORS, threshold=0.0))
    floor = Floor(low=0.0, median=1.0, high=10.0, n=20, method="test")
    assert all(r.passed for r in mv.correlation_error(synthetic, real, FACTORS, floor=[floor, floor]))
    training, holdout = real[:100], real[100:]
    floors = noise_floors(mv.energy_distance_statistic, training, holdout, horizon=5, n_paths=40, resamples=5,
                          rng=np.random.default_rng(0))
    results = mv.energy_distance(synthetic, holdout, FACTORS, floor=floors)
    assert [r.floor for r in results] == floors
    with pytest.raises(ValueError, match="floor has 1 entries but the metric has 2"):
        mv.mmd(synthetic, real, FACTORS, floor=[floor])


@pytest.mark.parametrize(("call", "message"), [
    (lambda s, r: mv.correlation_error(s[:, :, :1], r[:, :1], ["x"]), "at least 2 factors"),
    (lambda s, r: mv.tail_dependence(s, r, FACTORS, q=0.7), r"q must lie in \(0, 0.5\)"),
    (lambda s, r: mv.tail_dependence_statistic(s, r[:60]), "tail dependence at q=0.05 needs at least 100"),
    (lambda s, r: mv.energy_distance(s, r, ["a", "b"]), "3 columns but 2 factor names"),
    (lambda s, r: mv.mmd(s[:, :, :2], r, FACTORS), "synthetic has 2 factors but the real data has 3"),
    (lambda s, r: mv.mmd(s, r, FACTORS, permutations=0), "permutations must be a positive integer"),
    (lambda s, r: mv.energy_distance_samples(s[:, 0], r[:, :2]), r"\[n, d\] and \[m, d\]"),
    (lambda s, r: mv.mmd2_unbiased(r[:1], r), "at least 2 points per sample"),
])
def test_bad_inputs_name_the_problem(call, message):
    synthetic, real = _data()
    with pytest.raises(ValueError, match=message):
        call(synthetic, real)


def test_nan_is_rejected_with_its_location():
    synthetic, real = _data()
    synthetic[0, 3, 2] = np.nan
    with pytest.raises(ValueError, match=r"\[0, 3, 2\]"):
        mv.run_multivariate(synthetic, real, FACTORS)


def test_run_multivariate_is_complete_deterministic_and_fast():
    rng = np.random.default_rng(9)
    factors = [f"f{i}" for i in range(8)]
    synthetic = rng.standard_normal((1500, 10, 8))
    real = rng.standard_t(5, size=(500, 8))
    start = time.perf_counter()
    results = mv.run_multivariate(synthetic, real, factors, thresholds={"mmd2_daily": 1.0}, permutations=50)
    elapsed = time.perf_counter() - start
    assert [r.name for r in results] == ["corr_frobenius_daily", "corr_frobenius_horizon", "energy_distance_daily",
                                         "energy_distance_horizon", "mmd2_daily", "mmd2_horizon", "tail_dep_lower",
                                         "tail_dep_upper"]
    assert {r.tier for r in results} == {"multivariate"}
    assert results[4].passed is True
    again = mv.run_multivariate(synthetic, real, factors, thresholds={"mmd2_daily": 1.0}, permutations=50)
    assert [r.value for r in results] == [r.value for r in again]
    assert all(isinstance(r.to_dict(), dict) for r in results)
    assert elapsed < 60  # a sanity bound, not a benchmark (see bench/)


def test_tail_dependence_on_a_holdout_with_too_few_tail_points_is_not_run_never_pass():
    synthetic, real = _data()
    results = mv.tail_dependence(synthetic, real[:60], FACTORS)
    assert [r.name for r in results] == ["tail_dep_lower", "tail_dep_upper"]
    assert all(r.not_run and r.passed is None for r in results)
    assert "needs at least 100" in results[0].not_run


def test_tail_dependence_fails_a_comonotone_set_against_independent_factors():
    rng = np.random.default_rng(11)
    real = rng.standard_normal((400, 3))
    common = rng.standard_normal((300, 5, 1))
    synthetic = np.repeat(common, 3, axis=2)  # every factor the same: lambda = 1 for every pair
    results = mv.tail_dependence(synthetic, real, FACTORS, threshold=0.3)
    assert all(r.value > 0.8 and r.passed is False for r in results)
