"""Memorisation: are generated paths copies of training windows? (tier ``memorisation``)

Every path is flattened to a vector of ``horizon × F`` increments divided by the training window's
per-factor daily standard deviation, and its Euclidean distance to the nearest *training* window of
the same horizon (every overlapping window of the training series) is computed. The same distance
for the real *holdout* windows — paths the model never saw — is the yardstick: a model that
generalises puts its paths about as far from the training set as new real data is (the
distance-to-closest-record test of synthetic-data privacy, e.g. Yale et al. 2020, "Generation and
evaluation of privacy preserving synthetic health data", Neurocomputing 416:244–255; van Breugel,
Sun, Qian & van der Schaar 2023, "Membership inference attacks against synthetic data through
overfitting detection", AISTATS).

Results:

* ``memorisation_distance_ratio`` = median(synthetic→training) / median(holdout→training); pass
  when at least ``threshold`` (default 0.8).
* ``memorisation_close_share`` = share of synthetic paths closer to training than the 1st
  percentile of holdout→training distances (≈ 0.01 for a model that does not memorise); pass when
  at most 0.05.
* ``memorisation_copies`` = number of synthetic paths within ``copy_tol`` (default 1e-6 in
  standardised units) of a training window; pass when 0. ``details`` list their indices and the
  matched training window's first row.

Nothing to test is ``NOT_RUN`` (``MetricResult.skipped``), never PASS: every metric when the training
window is shorter than the horizon (no window to copy); the two holdout-relative metrics when the holdout
is shorter than the horizon (no yardstick), and the ratio when half the holdout windows coincide with
training windows (a zero denominator).

The nearest neighbour is found by chunked brute force (``|x|² + |y|² − 2 x·y`` through BLAS; a
k-d tree degenerates to brute force in ``horizon × F`` ≈ 60–180 dimensions) and its distance is then
recomputed exactly, so a copy reads 0 up to rounding. Caps: at most ``max_paths`` synthetic paths
and holdout windows (a seeded random subset beyond that) and ``max_train`` training windows (evenly
strided beyond that; copies of skipped windows then go unseen — noted in ``details``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from validation.metrics.result import Floor, MetricResult, check_real, check_synthetic

TIER = "memorisation"
REFERENCE = ("Yale et al. (2020) Neurocomputing 416:244-255; "
             "van Breugel et al. (2023) AISTATS, membership inference via overfitting detection")
DEFAULT_RATIO_THRESHOLD = 0.8
DEFAULT_CLOSE_SHARE_THRESHOLD = 0.05
CLOSE_QUANTILE = 0.01
MAX_PATHS = 20_000
MAX_TRAIN = 50_000
CHUNK_ELEMENTS = 4_000_000  # float64 cells per distance block (~32 MB)


def windows(series: np.ndarray, horizon: int, max_windows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every overlapping ``horizon``-day window ``[W, horizon, F]`` and its first rows (strided past the cap)."""
    count = series.shape[0] - horizon + 1
    if count < 1:
        raise ValueError(f"the series ({series.shape[0]} days) is shorter than the horizon ({horizon})")
    starts = np.arange(count)
    if max_windows is not None and count > max_windows:
        starts = np.linspace(0, count - 1, max_windows).round().astype(int)
    return series[starts[:, None] + np.arange(horizon)[None, :]], starts


def nearest(queries: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact Euclidean distance from each query row to its nearest reference row, and that row's index."""
    queries = np.ascontiguousarray(queries, dtype=np.float64)
    reference = np.ascontiguousarray(reference, dtype=np.float64)
    ref_sq = np.einsum("ij,ij->i", reference, reference)
    rows = max(1, CHUNK_ELEMENTS // max(1, reference.shape[0]))
    index = np.empty(queries.shape[0], dtype=np.int64)
    for lo in range(0, queries.shape[0], rows):
        block = queries[lo:lo + rows]
        d2 = ref_sq[None, :] - 2.0 * block @ reference.T  # + |q|^2, constant per row: irrelevant to argmin
        index[lo:lo + rows] = np.argmin(d2, axis=1)
    distance = np.linalg.norm(queries - reference[index], axis=1)
    return distance, index


def _prepare(synthetic, real, training, factors, max_paths, max_train, rng, allow_short_holdout=False):
    training = check_real(training, factors, min_rows=2, name="training")
    f = training.shape[1]
    real = check_real(real, factors, min_rows=2, name="real")
    if real.shape[1] != f:
        raise ValueError(f"real has {real.shape[1]} factors but training has {f}")
    synthetic = check_synthetic(synthetic, f)
    horizon = synthetic.shape[1]
    scale = training.std(axis=0)
    if (scale <= 0).any():
        raise ValueError(f"training factor(s) {np.flatnonzero(scale <= 0).tolist()} are constant: cannot standardise")
    train_windows, train_starts = windows(training, horizon, max_train)
    if real.shape[0] < horizon and allow_short_holdout:
        holdout_windows = np.empty((0, horizon, f))  # no yardstick: the caller reports the ratios as not run
    else:
        holdout_windows, _ = windows(real, horizon)
    n_train_total = training.shape[0] - horizon + 1
    rng = rng if rng is not None else np.random.default_rng(0)
    syn_index = np.arange(synthetic.shape[0])
    if syn_index.size > max_paths:
        syn_index = np.sort(rng.choice(syn_index, size=max_paths, replace=False))
    if holdout_windows.shape[0] > max_paths:
        holdout_windows = holdout_windows[np.sort(rng.choice(holdout_windows.shape[0], max_paths, replace=False))]

    def flat(x):
        return (x / scale).reshape(x.shape[0], horizon * f)

    return (flat(synthetic[syn_index]), syn_index, flat(holdout_windows), flat(train_windows), train_starts,
            {"horizon": horizon, "training_windows": int(train_windows.shape[0]),
             "training_windows_total": int(n_train_total), "holdout_windows": int(holdout_windows.shape[0]),
             "synthetic_paths": int(syn_index.size), "synthetic_paths_total": int(synthetic.shape[0]),
             "training_strided": bool(train_windows.shape[0] < n_train_total)})


def distances(synthetic, real, *, training, max_paths: int = MAX_PATHS, max_train: int = MAX_TRAIN,
              rng: np.random.Generator | None = None) -> dict:
    """Nearest-training-window distances of the synthetic paths and of the holdout windows."""
    syn, syn_index, hold, train, train_starts, info = _prepare(synthetic, real, training, None, max_paths, max_train,
                                                               rng)
    syn_d, syn_nn = nearest(syn, train)
    hold_d, _ = nearest(hold, train)
    return {"synthetic": syn_d, "synthetic_index": syn_index, "synthetic_match_start": train_starts[syn_nn],
            "holdout": hold_d, **info}


def distance_ratio(synthetic, real, *, training, rng: np.random.Generator | None = None) -> float:
    """Raw statistic: median(synthetic→training) / median(holdout→training)."""
    d = distances(synthetic, real, training=training, rng=rng)
    return float(np.median(d["synthetic"]) / np.median(d["holdout"]))


def memorisation_metrics(synthetic, real, factors: Sequence[str], *, training, threshold: float | None = None,
                         floor: Floor | None = None, copy_tol: float = 1e-6, max_paths: int = MAX_PATHS,
                         max_train: int = MAX_TRAIN, rng: np.random.Generator | None = None) -> list[MetricResult]:
    """``memorisation_distance_ratio``, ``memorisation_close_share`` and ``memorisation_copies``.

    ``real`` is the holdout ``[T, F]``, ``training`` the training window ``[T_train, F]``;
    ``threshold`` (default 0.8) and ``floor`` apply to the distance ratio.
    """
    if copy_tol < 0:
        raise ValueError("copy_tol must be >= 0")
    check_real(training, factors, min_rows=2, name="training")
    horizon = check_synthetic(synthetic).shape[1]
    n_train = np.asarray(training).shape[0]
    if n_train < horizon:
        reason = (f"the training window ({n_train} days) is shorter than the scenarios' horizon ({horizon}): there is "
                  "no training window a path could copy")
        return [MetricResult.skipped(name=name, tier=TIER, reason=reason, reference=REFERENCE)
                for name in ("memorisation_distance_ratio", "memorisation_close_share", "memorisation_copies")]
    syn, syn_index, hold, train, train_starts, info = _prepare(synthetic, real, training, factors, max_paths,
                                                               max_train, rng, allow_short_holdout=True)
    syn_d, syn_nn = nearest(syn, train)
    copies = np.flatnonzero(syn_d <= copy_tol)
    common = {**info, "synthetic_median_distance": float(np.median(syn_d)),
              "units": "Euclidean distance of flattened paths standardised by the training daily std"}
    results = []
    if hold.shape[0] == 0:
        reason = (f"the holdout ({np.asarray(real).shape[0]} days) is shorter than the scenarios' horizon ({horizon}): "
                  "no holdout window gives the distance a model that does not memorise would have")
        results += [MetricResult.skipped(name=name, tier=TIER, reason=reason, reference=REFERENCE, details=common)
                    for name in ("memorisation_distance_ratio", "memorisation_close_share")]
    else:
        hold_d, _ = nearest(hold, train)
        hold_median = float(np.median(hold_d))
        common["holdout_median_distance"] = hold_median
        if hold_median > 0:
            results.append(MetricResult(
                name="memorisation_distance_ratio", tier=TIER, value=float(np.median(syn_d) / hold_median),
                threshold=DEFAULT_RATIO_THRESHOLD if threshold is None else float(threshold), direction="min",
                floor=floor, reference=REFERENCE, details=common))
        else:
            results.append(MetricResult.skipped(
                name="memorisation_distance_ratio", tier=TIER, reference=REFERENCE, details=common,
                reason="half the holdout windows coincide with training windows (median distance 0): the holdout "
                       "is no yardstick of a model that does not memorise"))
        cutoff = float(np.quantile(hold_d, CLOSE_QUANTILE))
        results.append(MetricResult(
            name="memorisation_close_share", tier=TIER, value=float(np.mean(syn_d < cutoff)),
            threshold=DEFAULT_CLOSE_SHARE_THRESHOLD, direction="max", reference=REFERENCE,
            details={**common, "holdout_1st_percentile": cutoff, "expected": CLOSE_QUANTILE}))
    results.append(MetricResult(
        name="memorisation_copies", tier=TIER, value=float(copies.size), threshold=0.0, direction="max",
        reference=REFERENCE,
        details={**common, "copy_tol": copy_tol, "copy_share": float(copies.size / syn_d.size),
                 "indices": syn_index[copies][:1000].tolist(),
                 "training_window_starts": train_starts[syn_nn[copies]][:1000].tolist()}))
    return results
