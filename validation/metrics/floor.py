"""Real-vs-real noise floors: how large is a statistic when *real* data is compared with real data?

A synthetic statistic is judged against this floor rather than against a p-value (with 10⁵
synthetic draws every p-value rejects). The floor of a statistic ``stat(synthetic, holdout)`` is
its distribution over ``stat(B_r, holdout)``, where each ``B_r`` is a block-bootstrap set of real
paths drawn from the *training* window with the synthetic set's horizon (moving blocks of
consecutive days keep volatility clustering and cross-correlation). So the floor measures what a
perfect model of the training period would score on the holdout — sampling noise plus the
training-to-holdout regime difference — and a synthetic value inside its 90 % band passes.

**The training window is itself one finite sample.** A generator that learnt the *process* behind the
training window (rather than copying the window) differs from the window by that window's own sampling
error. Paths drawn from the one observed window leave that error out, so the floor was too narrow: an
ideal Gaussian VAR(1) with 20 factors was falsely FAILed in 7.9 % of metric families (stated size 5 %,
``python -m bench judge_calibration``). Each resample therefore first redraws the training window
itself — a moving-block bootstrap of the same length (Künsch 1989; Efron & Tibshirani 1993, §8.6),
blocks of ``max(horizon, ceil(T^(1/3)))`` days (Hall, Horowitz & Jing 1995: block length of order
``T^(1/3)`` for variance estimation; at least the horizon so that a horizon path is rarely spliced) —
and then draws the paths from that redrawn window: the bootstrap analogue of "a new training window
from the same process". ``resample_reference=False`` keeps the one-window floor.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from validation.metrics.result import Floor, block_bootstrap, block_bootstrap_paths


def reference_paths(reference: np.ndarray, n_paths: int, horizon: int, rng: np.random.Generator, *,
                    resample_reference: bool = True) -> np.ndarray:
    """``n_paths`` real paths of ``horizon`` days from a block-bootstrap redraw of ``reference`` (see above)."""
    if resample_reference:
        length = reference.shape[0]
        block = min(length, max(horizon, int(np.ceil(length ** (1 / 3)))))
        reference = block_bootstrap(reference, length, block, rng)
    return block_bootstrap_paths(reference, n_paths, horizon, rng)


def _method(n_paths: int, horizon: int, resamples: int, resample_reference: bool) -> str:
    redraw = "block-bootstrap redraws of the training window" if resample_reference else "the training window"
    return f"paths (n={n_paths}, horizon={horizon}) from {redraw} vs holdout, {resamples} resamples"


def noise_floor(
    statistic: Callable[[np.ndarray, np.ndarray], float],
    reference: np.ndarray,
    real: np.ndarray,
    *,
    horizon: int,
    n_paths: int = 500,
    resamples: int = 20,
    rng: np.random.Generator,
    resample_reference: bool = True,
) -> Floor:
    """5 %, 50 % and 95 % points of ``statistic(real paths from reference, real)`` over resamples."""
    if resamples < 5:
        raise ValueError("a noise floor needs at least 5 resamples")
    values = np.array([statistic(reference_paths(reference, n_paths, horizon, rng,
                                                 resample_reference=resample_reference), real)
                       for _ in range(resamples)], dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("the statistic was not finite on any real-vs-real resample")
    low, median, high = np.quantile(values, [0.05, 0.5, 0.95])
    return Floor(low=float(low), median=float(median), high=float(high), n=int(values.size),
                 method=_method(n_paths, horizon, resamples, resample_reference))


def noise_floors(
    statistic: Callable[[np.ndarray, np.ndarray], np.ndarray],
    reference: np.ndarray,
    real: np.ndarray,
    *,
    horizon: int,
    n_paths: int = 500,
    resamples: int = 20,
    rng: np.random.Generator,
    resample_reference: bool = True,
) -> list[Floor]:
    """The same for a vector-valued statistic (one value per factor or per lag)."""
    if resamples < 5:
        raise ValueError("a noise floor needs at least 5 resamples")
    samples = np.array([np.asarray(statistic(reference_paths(reference, n_paths, horizon, rng,
                                                             resample_reference=resample_reference), real),
                                   dtype=np.float64) for _ in range(resamples)])
    floors = []
    for column in samples.reshape(resamples, -1).T:
        column = column[np.isfinite(column)]
        low, median, high = np.quantile(column, [0.05, 0.5, 0.95]) if column.size else (np.nan,) * 3
        floors.append(Floor(low=float(low), median=float(median), high=float(high), n=int(column.size),
                            method=_method(n_paths, horizon, resamples, resample_reference)))
    return floors
