"""Real-vs-real noise floors: how large is a statistic when *real* data is compared with real data?

A synthetic statistic is judged against this floor rather than against a p-value (with 10⁵
synthetic draws every p-value rejects). The floor of a statistic ``stat(synthetic, holdout)`` is
its distribution over ``stat(B_r, holdout)``, where each ``B_r`` is a block-bootstrap set of real
paths drawn from the *training* window with the synthetic set's horizon (moving blocks of
consecutive days keep volatility clustering and cross-correlation). So the floor measures what a
perfect model of the training period would score on the holdout — sampling noise plus the
training-to-holdout regime difference — and a synthetic value inside its 90 % band passes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from validation.metrics.result import Floor, block_bootstrap_paths


def noise_floor(
    statistic: Callable[[np.ndarray, np.ndarray], float],
    reference: np.ndarray,
    real: np.ndarray,
    *,
    horizon: int,
    n_paths: int = 500,
    resamples: int = 20,
    rng: np.random.Generator,
) -> Floor:
    """5 %, 50 % and 95 % points of ``statistic(real paths from reference, real)`` over resamples."""
    if resamples < 5:
        raise ValueError("a noise floor needs at least 5 resamples")
    values = np.array([statistic(block_bootstrap_paths(reference, n_paths, horizon, rng), real)
                       for _ in range(resamples)], dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("the statistic was not finite on any real-vs-real resample")
    low, median, high = np.quantile(values, [0.05, 0.5, 0.95])
    return Floor(low=float(low), median=float(median), high=float(high), n=int(values.size),
                 method=f"training-window paths (n={n_paths}, horizon={horizon}) vs holdout, {resamples} resamples")


def noise_floors(
    statistic: Callable[[np.ndarray, np.ndarray], np.ndarray],
    reference: np.ndarray,
    real: np.ndarray,
    *,
    horizon: int,
    n_paths: int = 500,
    resamples: int = 20,
    rng: np.random.Generator,
) -> list[Floor]:
    """The same for a vector-valued statistic (one value per factor or per lag)."""
    samples = np.array([np.asarray(statistic(block_bootstrap_paths(reference, n_paths, horizon, rng), real),
                                   dtype=np.float64) for _ in range(resamples)])
    floors = []
    for column in samples.reshape(resamples, -1).T:
        column = column[np.isfinite(column)]
        low, median, high = np.quantile(column, [0.05, 0.5, 0.95]) if column.size else (np.nan,) * 3
        floors.append(Floor(low=float(low), median=float(median), high=float(high), n=int(column.size),
                            method=f"training-window paths (n={n_paths}, horizon={horizon}) vs holdout, "
                                   f"{resamples} resamples"))
    return floors
