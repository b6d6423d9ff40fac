"""Plausibility of a scenario set against history and the model's own fit (tier ``plausibility``).

Breuer, Jandačka, Rheinberger & Summer (2009), "How to find plausible, severe and useful stress
scenarios", International Journal of Central Banking 5(3):205–224, measure a scenario's plausibility by its
Mahalanobis distance from the expected risk-factor move under the fitted distribution: the scenarios worth
considering lie inside an ellipsoid ``D²(x) = (x − μ)ᵀ Σ⁻¹ (x − μ) ≤ k²``, and a scenario outside every
plausible ellipsoid is not a stress scenario but an implausible one. Here:

* the **fit** is the mean and covariance of the horizon move (sum of the ``h`` daily increments) of the same
  model's *unconditioned* paths (``reference``). When the reference is shorter than the set (``h2 < h``)
  its ``h2``-day mean and covariance are scaled by ``h / h2`` (a random walk's scaling); when it is longer,
  its first ``h`` days are used. ``details["fit"]`` says which.
* the **radius²** is the larger of the chi-squared quantile ``chi2.ppf(chi2_level, F)`` (the region a
  Gaussian fit calls plausible) and the largest ``D²`` of any real overlapping ``h``-day window of the
  training history under the same fit (what has actually happened is plausible however far it lies).
* ``plausibility_outside_share`` (``max``): the share of the set's paths whose horizon move lies outside
  the region — moves never seen and not plausible under the model.
* ``plausibility_analogue`` (``info``): the set's tail paths (the worst ``tail_share`` by the loss of a
  linear book, ``loss = −weights · move``, at least one) each matched to its nearest real ``h``-day window
  of history in the fit's Mahalanobis metric; the value is the median distance (in the fit's standard
  deviations) to that analogue, and ``details`` name the analogue windows by date — the "closest real
  20-day window" a validator can look up.

``D²`` is computed by a Cholesky solve; a singular covariance (fewer reference paths than factors, or a
factor that does not move) falls back to the Moore–Penrose pseudo-inverse on the covariance's range, and
``details["inverse"]`` says so.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import linalg
from scipy.stats import chi2

from validation.metrics.result import MetricResult, check_real, check_synthetic, horizon_sums

TIER = "plausibility"
REFERENCE = ("Breuer, Jandacka, Rheinberger & Summer (2009), How to find plausible, severe and useful stress "
             "scenarios, IJCB 5(3):205-224")
DEFAULT_OUTSIDE_SHARE = 0.01  # the tier-2 policy bound; the policy's value replaces it when judged
MAX_LISTED = 10
CHUNK_ELEMENTS = 4_000_000  # float64 cells per distance block (~32 MB)
CHOLESKY = "cholesky"


def whitening(cov: Any) -> tuple[np.ndarray, str]:
    """A matrix ``W`` with ``|W (x − μ)|² = D²(x)``, and how it was obtained.

    ``W = L⁻¹`` for the Cholesky factor ``Σ = L Lᵀ``; for a singular ``Σ``, ``W = Λ^{-1/2} Vᵀ`` over the
    eigenvectors whose eigenvalues exceed a relative tolerance (the pseudo-inverse's quadratic form).
    """
    cov = np.atleast_2d(np.asarray(cov, dtype=np.float64))
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"cov must be a square [F, F] matrix, got shape {cov.shape}")
    if not np.isfinite(cov).all():
        raise ValueError("cov has a non-finite entry")
    if not np.allclose(cov, cov.T, rtol=1e-8, atol=1e-12 * max(1.0, float(np.abs(cov).max(initial=0.0)))):
        raise ValueError("cov is not symmetric")
    f = cov.shape[0]
    scale = float(np.abs(np.diag(cov)).max(initial=0.0))
    try:
        lower = linalg.cholesky(cov, lower=True)
        # A numerically singular matrix can still factor; a pivot (a factor's variance left after the others)
        # that is a negligible part of the factor's own variance would explode D², so treat it as singular.
        if (np.diag(lower) ** 2 > 1e-10 * np.diag(cov)).all():
            return linalg.solve_triangular(lower, np.eye(f), lower=True), CHOLESKY
    except linalg.LinAlgError:
        pass
    values, vectors = np.linalg.eigh((cov + cov.T) / 2.0)
    keep = values > max(1e-12 * scale, np.finfo(float).tiny)
    if not keep.any():
        raise ValueError("cov is zero: no direction has any variance")
    method = f"pseudo-inverse (the covariance is singular: rank {int(keep.sum())} of {f})"
    return (vectors[:, keep] / np.sqrt(values[keep])).T, method


def mahalanobis_sq(moves: Any, mean: Any, cov: Any) -> np.ndarray:
    """Squared Mahalanobis distance ``(x − μ)ᵀ Σ⁻¹ (x − μ)`` of each row of ``moves`` ``[n, F]``.

    A singular ``cov`` uses the pseudo-inverse (see ``whitening``, which also says which was used).
    """
    moves = np.asarray(moves, dtype=np.float64)
    if moves.ndim == 1:
        moves = moves[None, :]
    mean = np.asarray(mean, dtype=np.float64).reshape(-1)
    if moves.ndim != 2:
        raise ValueError(f"moves must be [n, F], got shape {moves.shape}")
    if moves.shape[1] != mean.size:
        raise ValueError(f"moves have {moves.shape[1]} factors but mean has {mean.size}")
    if not (np.isfinite(moves).all() and np.isfinite(mean).all()):
        raise ValueError("moves and mean must be finite")
    whiten, _ = whitening(cov)
    if whiten.shape[1] != mean.size:
        raise ValueError(f"cov is {whiten.shape[1]}×{whiten.shape[1]} but mean has {mean.size} factors")
    z = (moves - mean) @ whiten.T
    return np.einsum("ij,ij->i", z, z)


def _date_text(value: Any) -> str:
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return str(value.astype("datetime64[D]"))
    return str(value)


def unconditioned_fit(reference: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Mean and covariance of the reference's ``horizon``-day move, and how they were obtained."""
    h2 = reference.shape[1]
    used = min(h2, horizon)
    totals = reference[:, :used, :].sum(axis=1)
    mean = totals.mean(axis=0)
    cov = np.atleast_2d(np.cov(totals, rowvar=False))
    if used == horizon:
        note = f"{reference.shape[0]:,} reference paths, their first {horizon} days"
        return mean, cov, note
    factor = horizon / used
    note = (f"{reference.shape[0]:,} reference paths of {h2} days, shorter than the set's {horizon}: "
            f"their {h2}-day mean and covariance scaled by {horizon}/{h2}")
    return mean * factor, cov * factor, note


def plausibility_region(mean: Any, cov: Any, history: Any, horizon: int, *, chi2_level: float) -> dict:
    """The region's radius² under the fit ``(mean, cov)`` of the ``horizon``-day move: the larger of the
    chi-squared quantile at ``chi2_level`` and the largest D² of any real overlapping window of ``history``.

    Returns ``{"radius_sq", "chi2_quantile", "historical_max", "worst_window"}`` (``worst_window`` is the first
    history row of the farthest window; ``historical_max`` is -inf and ``worst_window`` None when ``history``
    is shorter than ``horizon``).
    """
    mean = np.asarray(mean, dtype=np.float64).reshape(-1)
    if isinstance(chi2_level, bool) or not isinstance(chi2_level, int | float) or not 0.0 < chi2_level < 1.0:
        raise ValueError(f"chi2_level must lie in (0, 1), got {chi2_level!r}")
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    history = check_real(history, min_rows=1, name="history")
    if history.shape[1] != mean.size:
        raise ValueError(f"history has {history.shape[1]} factors but mean has {mean.size}")
    chi2_quantile = float(chi2.ppf(chi2_level, mean.size))
    if history.shape[0] < horizon:
        return {"radius_sq": chi2_quantile, "chi2_quantile": chi2_quantile, "historical_max": float("-inf"),
                "worst_window": None}
    d2 = mahalanobis_sq(horizon_sums(history, int(horizon)), mean, cov)
    worst = int(np.argmax(d2))
    return {"radius_sq": max(chi2_quantile, float(d2[worst])), "chi2_quantile": chi2_quantile,
            "historical_max": float(d2[worst]), "worst_window": worst}


def _check(synthetic, reference, history, history_dates, factors, chi2_level, tail_share, weights):
    factors = [str(f) for f in factors]
    if not factors:
        raise ValueError("factors is empty")
    f = len(factors)
    synthetic = check_synthetic(synthetic, f)
    reference = check_synthetic(reference, f, name="reference")
    if reference.shape[0] < 2:
        raise ValueError("reference needs at least 2 paths to have a covariance")
    history = check_real(history, factors, min_rows=1, name="history")
    dates = list(history_dates)
    if len(dates) != history.shape[0]:
        raise ValueError(f"history has {history.shape[0]} rows but history_dates has {len(dates)}")
    if isinstance(chi2_level, bool) or not isinstance(chi2_level, int | float) or not 0.0 < chi2_level < 1.0:
        raise ValueError(f"chi2_level must lie in (0, 1), got {chi2_level!r}")
    if isinstance(tail_share, bool) or not isinstance(tail_share, int | float) or not 0.0 < tail_share <= 1.0:
        raise ValueError(f"tail_share must lie in (0, 1], got {tail_share!r}")
    weights = np.asarray(weights if weights is not None else np.ones(f), dtype=np.float64).reshape(-1)
    if weights.size != f:
        raise ValueError(f"weights has {weights.size} entries but there are {f} factors")
    if not np.isfinite(weights).all():
        raise ValueError("weights must be finite")
    return synthetic, reference, history, [_date_text(d) for d in dates], factors, weights


def plausibility_metrics(synthetic: Any, reference: Any, history: Any, history_dates: Sequence[Any],
                         factors: Sequence[str], *, chi2_level: float = 0.9999, tail_share: float = 0.01,
                         weights: Any = None) -> list[MetricResult]:
    """The share of paths outside the plausibility region, and the nearest historical analogue of the tail.

    ``weights`` (``[F]``, default one unit of every factor) is the linear book whose loss picks the tail.
    """
    synthetic, reference, history, dates, factors, weights = _check(
        synthetic, reference, history, history_dates, factors, chi2_level, tail_share, weights)
    n, horizon, f = synthetic.shape
    if history.shape[0] < horizon + 1:
        reason = (f"the history has {history.shape[0]} days, fewer than the {horizon + 1} needed for two "
                  f"overlapping {horizon}-day windows")
        return [MetricResult.skipped(name=name, tier=TIER, reason=reason, reference=REFERENCE)
                for name in ("plausibility_outside_share", "plausibility_analogue")]
    mean, cov, fit_note = unconditioned_fit(reference, horizon)
    whiten, inverse = whitening(cov)
    moves = synthetic.sum(axis=1)
    windows = horizon_sums(history, horizon)  # window k covers history rows k .. k + horizon - 1
    z_set = (moves - mean) @ whiten.T
    z_hist = (windows - mean) @ whiten.T
    d2_set = np.einsum("ij,ij->i", z_set, z_set)
    d2_hist = np.einsum("ij,ij->i", z_hist, z_hist)
    chi2_quantile = float(chi2.ppf(chi2_level, f))
    worst_window = int(np.argmax(d2_hist))
    historical_max = float(d2_hist[worst_window])
    radius_sq = max(chi2_quantile, historical_max)
    outside = d2_set > radius_sq
    common = {"horizon": horizon, "fit": fit_note, "inverse": inverse, "radius_sq": radius_sq,
              "chi2_level": float(chi2_level), "chi2_quantile": chi2_quantile}
    share = MetricResult(
        name="plausibility_outside_share", tier=TIER, value=float(outside.mean()), threshold=DEFAULT_OUTSIDE_SHARE,
        direction="max", reference=REFERENCE,
        details=common | {
            "historical_max": historical_max, "historical_max_start": dates[worst_window],
            "historical_max_end": dates[worst_window + horizon - 1], "history_windows": int(windows.shape[0]),
            "n_outside": int(outside.sum()), "n_paths": int(n),
            "radius_from": "history" if historical_max > chi2_quantile else "chi-squared quantile",
            "message": (f"{int(outside.sum())} of {n} paths ({outside.mean():.1%}) lie outside the plausibility "
                        f"region (D² > {radius_sq:.1f})")})

    losses = -(moves @ weights)
    k = max(1, math.ceil(tail_share * n - 1e-9))
    tail = np.argsort(-losses, kind="stable")[:k]
    # nearest window in the whitened space = nearest in the fit's Mahalanobis metric
    z_tail = z_set[tail]
    nearest = np.empty(k, dtype=np.int64)
    rows = max(1, CHUNK_ELEMENTS // max(1, z_hist.shape[0]))
    for lo in range(0, k, rows):  # |a − b|² = |b|² − 2 a·b + |a|²; the last term does not move the argmin
        nearest[lo:lo + rows] = np.argmin(d2_hist[None, :] - 2.0 * z_tail[lo:lo + rows] @ z_hist.T, axis=1)
    distance = np.linalg.norm(z_tail - z_hist[nearest], axis=1)  # exact, so a copy reads 0
    radius = math.sqrt(radius_sq)
    far = distance > radius
    listed = [{"path": int(p), "loss": float(losses[p]), "analogue_start": dates[int(w)],
               "analogue_end": dates[int(w) + horizon - 1], "distance": float(d)}
              for p, w, d in zip(tail[:MAX_LISTED], nearest[:MAX_LISTED], distance[:MAX_LISTED], strict=True)]
    analogue = MetricResult(
        name="plausibility_analogue", tier=TIER, value=float(np.median(distance)), direction="info",
        reference=REFERENCE,
        details=common | {
            "tail_paths": int(k), "tail_share": float(tail_share), "weights": weights.tolist(),
            "factors": factors, "radius": radius, "share_farther_than_radius": float(far.mean()),
            "analogues": listed,
            "message": (f"the {k} worst paths lie a median {np.median(distance):.2f} sd from their nearest real "
                        f"{horizon}-day window; closest for the worst path: {listed[0]['analogue_start']} to "
                        f"{listed[0]['analogue_end']}")})
    return [share, analogue]


__all__ = ["TIER", "mahalanobis_sq", "plausibility_metrics", "plausibility_region", "unconditioned_fit", "whitening"]
