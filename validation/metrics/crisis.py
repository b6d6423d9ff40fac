"""Historical crisis windows vs the generated scenarios (tier ``crisis``).

For each named crisis window ``(start, end)`` covered by the real data:

* ``crisis_wasserstein`` (per factor): the 1-Wasserstein distance (``scipy.stats.wasserstein_distance``;
  Villani 2009, *Optimal Transport*, §6) between all generated daily increments and the realised
  daily increments inside the window. ``details`` also give it divided by the window's standard
  deviation (scale-free). Informational unless a policy supplies a threshold.
* ``crisis_loss_quantile``: the realised loss of a reference portfolio (weights ``w``; loss over the
  horizon ``-w · sum of increments``) over the crisis's *worst* ``horizon``-day window, located in
  the generated loss distribution as a mid-rank empirical CDF. A value near 1 means the generator
  does not reach the crisis: by default it passes when the crisis loss is not beyond the 99th
  percentile of generated losses (cf. Breuer & Csiszár 2013 on plausible-severe scenarios; Basel
  Committee 2018, *Stress testing principles*, principle 6). A window shorter than the horizon uses
  its whole-window loss (noted in ``details``).

A window that the data does not cover entirely (or in which it has fewer than two days) is
reported as ``crisis_window_skipped``, a ``MetricResult.skipped`` row (judged ``NOT_RUN``, never PASS),
never as an error. So is a call with no window at all (e.g. no named crisis after the training cut-off:
``crisis_windows_none``) and, for the loss quantile, a reference portfolio with no exposure (all weights
zero: every loss is 0 and the quantile would sit at 0.5 whatever the scenarios).

``real`` is a pandas ``DataFrame`` indexed by dates with the factors among its columns (duck-typed:
this package does not import pandas) or a ``[T, F]`` array with ``dates`` given separately; it is
the full real history, not the holdout, since crises rarely fall inside a holdout window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import wasserstein_distance

from validation.metrics.result import Floor, MetricResult, check_real, check_synthetic, daily, horizon_sums

WASSERSTEIN_CAP = 50_000

TIER = "crisis"
REFERENCE = ("Villani (2009) Optimal Transport, ch. 6; BCBS (2018) Stress testing principles; "
             "Breuer & Csiszar (2013) Math. Finance 23:701-725")
DEFAULT_QUANTILE_THRESHOLD = 0.99

#: Named crisis windows (inclusive). Only those the data covers are evaluated.
CRISIS_WINDOWS: dict[str, tuple[str, str]] = {
    "black_monday_1987": ("1987-10-01", "1987-12-31"),
    "ltcm_1998": ("1998-07-17", "1998-10-08"),
    "dotcom_2000": ("2000-03-10", "2000-05-31"),
    "september_11_2001": ("2001-09-10", "2001-10-31"),
    "gfc_2008": ("2008-09-15", "2009-03-31"),
    "euro_debt_2011": ("2011-07-22", "2011-10-03"),
    "china_oil_2015": ("2015-08-10", "2016-02-11"),
    "volmageddon_2018": ("2018-01-26", "2018-04-02"),
    "q4_2018": ("2018-10-01", "2018-12-24"),
    "covid_2020": ("2020-02-19", "2020-04-30"),
}


def _dates(values, n_rows: int) -> np.ndarray:
    try:
        dates = np.asarray(values, dtype="datetime64[D]")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"dates could not be read as calendar dates: {exc}") from exc
    if dates.ndim != 1 or dates.shape[0] != n_rows:
        raise ValueError(f"got {dates.shape[0] if dates.ndim == 1 else dates.shape} dates for {n_rows} rows")
    if np.isnat(dates).any():
        raise ValueError(f"dates contain a missing value at row {int(np.argmax(np.isnat(dates)))}")
    if n_rows > 1 and not (np.diff(dates) > np.timedelta64(0, "D")).all():
        row = int(np.argmin(np.diff(dates) > np.timedelta64(0, "D"))) + 1
        raise ValueError(f"dates must be strictly increasing; row {row} ({dates[row]}) is not after the previous one")
    return dates


def real_with_dates(real, factors: Sequence[str], dates=None) -> tuple[np.ndarray, np.ndarray]:
    """``(values [T, F], dates [T] datetime64[D])`` from a dated frame or from an array plus ``dates``."""
    if hasattr(real, "columns") and hasattr(real, "index"):
        missing = [f for f in factors if f not in list(real.columns)]
        if missing:
            raise ValueError(f"the real data has no column for factors {missing}; it has {list(real.columns)}")
        values = np.asarray(real[list(factors)].to_numpy(), dtype=np.float64)
        raw_dates = real.index if dates is None else dates
    else:
        if dates is None:
            raise ValueError("the real data is an array: pass its dates (one per row) as dates=")
        values = real
        raw_dates = dates
    values = check_real(values, factors, min_rows=2)
    return values, _dates(raw_dates, values.shape[0])


def _windows(windows: Mapping[str, tuple] | None) -> dict[str, tuple[np.datetime64, np.datetime64]]:
    out = {}
    for name, bounds in (CRISIS_WINDOWS if windows is None else windows).items():
        try:
            start, end = (np.datetime64(str(b)[:10], "D") for b in bounds)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"crisis window {name!r} must be (start, end) dates, got {bounds!r}") from exc
        if end < start:
            raise ValueError(f"crisis window {name!r} ends ({end}) before it starts ({start})")
        out[str(name)] = (start, end)
    return out


def _weights(weights, n_factors: int) -> np.ndarray:
    if weights is None:
        return np.full(n_factors, 1.0 / n_factors)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape[0] != n_factors:
        raise ValueError(f"got {w.shape[0]} portfolio weights for {n_factors} factors")
    if not np.isfinite(w).all():
        raise ValueError("portfolio weights must be finite")
    return w


def capped_daily(synthetic: np.ndarray) -> np.ndarray:
    """Pooled generated days, at most WASSERSTEIN_CAP of them (a fixed-seed subsample).

    A crisis window has tens of days; 50,000 generated days estimate the distribution far more
    precisely than that, and sorting 10⁶ values per factor and window was the tier's whole cost.
    """
    pooled = daily(synthetic)
    if pooled.shape[0] > WASSERSTEIN_CAP:
        pooled = pooled[np.random.default_rng(0).choice(pooled.shape[0], WASSERSTEIN_CAP, replace=False)]
    return pooled


def crisis_wasserstein(synthetic, window_increments) -> np.ndarray:
    """Raw statistic: W1 between generated and crisis-window daily increments, per factor."""
    synthetic = check_synthetic(synthetic)
    window = check_real(window_increments, min_rows=2, name="crisis window")
    if window.shape[1] != synthetic.shape[2]:
        raise ValueError(f"synthetic has {synthetic.shape[2]} factors but the crisis window has {window.shape[1]}")
    pooled = capped_daily(synthetic)
    return np.array([wasserstein_distance(pooled[:, j], window[:, j]) for j in range(window.shape[1])])


def worst_window_loss(window_increments: np.ndarray, weights: np.ndarray, horizon: int) -> tuple[float, int, int]:
    """(loss, first row, length) of the worst ``horizon``-day loss ``-w · sum`` inside the window."""
    if window_increments.shape[0] < horizon:
        return float(-(window_increments.sum(axis=0) @ weights)), 0, int(window_increments.shape[0])
    losses = -(horizon_sums(window_increments, horizon) @ weights)
    start = int(np.argmax(losses))
    return float(losses[start]), start, horizon


def loss_quantile(generated_losses: np.ndarray, loss: float) -> float:
    """Mid-rank empirical CDF of ``loss`` among ``generated_losses``."""
    generated_losses = np.asarray(generated_losses, dtype=np.float64)
    below = np.count_nonzero(generated_losses < loss)
    ties = np.count_nonzero(generated_losses == loss)
    return float((below + 0.5 * ties) / generated_losses.size)


def crisis_loss_quantile(synthetic, window_increments, weights=None) -> float:
    """Raw statistic: quantile of the crisis's worst horizon-day portfolio loss among generated losses."""
    synthetic = check_synthetic(synthetic)
    window = check_real(window_increments, min_rows=2, name="crisis window")
    w = _weights(weights, synthetic.shape[2])
    realised, _, _ = worst_window_loss(window, w, synthetic.shape[1])
    return loss_quantile(-(synthetic.sum(axis=1) @ w), realised)


def crisis_metrics(synthetic, real, factors: Sequence[str], *, dates=None, windows: Mapping[str, tuple] | None = None,
                   weights: Sequence[float] | None = None, threshold: float | None = None,
                   floor: Floor | None = None) -> list[MetricResult]:
    """``crisis_wasserstein`` (per window and factor), ``crisis_loss_quantile`` (per window) and
    ``crisis_window_skipped`` (NOT_RUN) for windows the data does not cover; ``crisis_windows_none`` (NOT_RUN)
    when ``windows`` is empty.

    ``threshold`` applies to the loss quantile (default 0.99) and ``floor`` to it likewise;
    ``weights`` default to an equally weighted portfolio of the factors.
    """
    values, day = real_with_dates(real, factors, dates)
    synthetic = check_synthetic(synthetic, values.shape[1])
    w = _weights(weights, values.shape[1])
    horizon = synthetic.shape[1]
    pooled = capped_daily(synthetic)
    generated = -(synthetic.sum(axis=1) @ w)
    results = []
    named = _windows(windows)
    if not named:
        return [MetricResult.skipped(
            name="crisis_windows_none", tier=TIER, reference=REFERENCE,
            reason=f"no named crisis window to test against (the data runs from {day[0]} to {day[-1]}; only crises "
                   "after the training cut-off count)")]
    for name, (start, end) in named.items():
        base = {"window": name, "start": str(start), "end": str(end)}
        mask = (day >= start) & (day <= end)
        if day[0] > start or day[-1] < end or mask.sum() < 2:
            reason = (f"the data ({day[0]} to {day[-1]}) does not cover the window" if day[0] > start or day[-1] < end
                      else f"the data has {int(mask.sum())} day(s) inside the window")
            results.append(MetricResult.skipped(name="crisis_window_skipped", tier=TIER, reference=REFERENCE,
                                                reason=f"crisis {name} ({start} to {end}): {reason}",
                                                details={**base, "reason": reason}))
            continue
        window = values[mask]
        base["days"] = int(window.shape[0])
        for j, factor in enumerate(factors):
            distance = wasserstein_distance(pooled[:, j], window[:, j])
            scale = float(window[:, j].std())
            results.append(MetricResult(
                name="crisis_wasserstein", tier=TIER, value=float(distance), direction="max", factor=factor,
                reference=REFERENCE,
                details={**base, "scaled_by_window_std": float(distance / scale) if scale > 0 else None,
                         "window_mean": float(window[:, j].mean()), "window_std": scale,
                         "synthetic_mean": float(pooled[:, j].mean()), "synthetic_std": float(pooled[:, j].std())}))
        if not np.any(w):
            results.append(MetricResult.skipped(
                name="crisis_loss_quantile", tier=TIER, reference=REFERENCE, details={**base, "weights": w.tolist()},
                reason=f"crisis {name}: the reference portfolio has no exposure (every weight is zero), so it has no "
                       "loss to place among the scenarios"))
            continue
        realised, offset, length = worst_window_loss(window, w, horizon)
        results.append(MetricResult(
            name="crisis_loss_quantile", tier=TIER, value=loss_quantile(generated, realised),
            threshold=DEFAULT_QUANTILE_THRESHOLD if threshold is None else float(threshold), direction="max",
            floor=floor, reference=REFERENCE,
            details={**base, "weights": w.tolist(), "realised_loss": realised,
                     "worst_window_start": str(day[mask][offset]), "worst_window_days": length,
                     "shorter_than_horizon": length < horizon, "horizon": horizon,
                     "generated_loss_quantiles": dict(zip(("q50", "q95", "q99", "max"),
                                                          np.quantile(generated, [0.5, 0.95, 0.99, 1.0]).tolist(),
                                                          strict=True))}))
    return results
