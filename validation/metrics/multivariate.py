"""Multivariate tier: does the joint distribution of the factors match — correlations, whole-sample distances, tails?

Scopes as in the univariate tier: ``daily`` (synthetic increments pooled over scenarios and steps vs the
real daily increments) and ``horizon`` (synthetic path sums vs the real overlapping horizon sums). The
sample distances (energy, MMD) are computed on factors standardised by the *real* sample's mean and
standard deviation of the same scope, so that no factor dominates the Euclidean norm by its units.

Each family comes as a raw statistic ``<family>_statistic(synthetic, real) -> ndarray`` (for
``validation.metrics.floor.noise_floors``) and a wrapper returning ``MetricResult`` objects in the
statistic's flattened order, so a ``floor`` list lines up with the results one to one.

Subsampling caps (deterministic: ``rng=None`` means a fixed-seed generator):

* energy distance: ``ENERGY_CAP`` rows per sample (pairwise distances are O(n·m·F) time and O(n·m) memory);
* MMD: ``MMD_CAP`` rows per sample (the pooled kernel matrix is reused by every permutation);
* tail dependence: ``TAIL_CAP`` synthetic rows (ranks of every factor);
* correlation uses every row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from validation.metrics.result import Floor, MetricResult
from validation.metrics.univariate import SCOPES, Threshold, build_results, check_pair, scopes, subsample

TIER = "multivariate"
ENERGY_CAP = 2_000
MMD_CAP = 1_000
MMD_PERMUTATIONS = 200
TAIL_CAP = 50_000
TAIL_Q = 0.05
MIN_TAIL_POINTS = 5

CORR_REFERENCE = "Frobenius norm of the Pearson correlation-matrix difference (e.g. Cont 2001, Quant. Finance 1:223)"
ENERGY_REFERENCE = ("Székely & Rizzo (2013), Energy statistics: a class of statistics based on distances, "
                    "J. Statist. Plann. Inference 143(8):1249-1272 (V-statistic, exponent 1)")
MMD_REFERENCE = ("Gretton, Borgwardt, Rasch, Schölkopf & Smola (2012), A kernel two-sample test, JMLR 13:723-773 "
                 "(unbiased MMD²_u, Lemma 6; RBF kernel, median heuristic; permutation p-value as in "
                 "Phipson & Smyth 2010)")
TAIL_REFERENCE = ("Joe (1997), Multivariate Models and Dependence Concepts, §2.1.10; empirical estimator as in "
                  "Schmidt & Stadtmüller (2006), Scand. J. Statist. 33(2):307-335")


def _standardised(synthetic: np.ndarray, real: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for scope, (x, y) in scopes(synthetic, real).items():
        mean, sd = y.mean(axis=0), y.std(axis=0, ddof=1)
        out[scope] = ((x - mean) / sd, (y - mean) / sd)
    return out


def _pair_names(factors: Sequence[str]) -> list[tuple[int, int, str]]:
    return [(i, j, f"{factors[i]}~{factors[j]}") for i in range(len(factors)) for j in range(i + 1, len(factors))]


# ---------------------------------------------------------------------------------------------------------------
# Correlation-matrix error


def _corr(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        # A constant synthetic factor has no correlation: NaN, which fails the metric.
        return np.corrcoef(x, rowvar=False)


def _corr_table(synthetic: np.ndarray, real: np.ndarray) -> tuple[np.ndarray, list[dict]]:
    values, details = np.empty(2), []
    for s, (x, y) in enumerate(scopes(synthetic, real).values()):
        diff = _corr(x) - _corr(y)
        values[s] = np.linalg.norm(diff, ord="fro")
        details.append({"diff": diff})
    return values, details


def correlation_error_statistic(synthetic: Any, real: Any) -> np.ndarray:
    """``||Corr(synthetic) - Corr(real)||_F``, shape ``[2]``: daily, horizon sums."""
    synthetic, real = check_pair(synthetic, real, min_factors=2)
    return _corr_table(synthetic, real)[0]


def correlation_error(synthetic: Any, real: Any, factors: Sequence[str], *, threshold: Threshold = None,
                      floor: Sequence[Floor | None] | None = None) -> list[MetricResult]:
    """``corr_frobenius_daily``, ``corr_frobenius_horizon``: Frobenius norm of the Pearson correlation-matrix
    difference (both triangles, so each off-diagonal error counts twice). ``details`` holds the largest
    absolute element error and its factor pair. Direction ``max``. Reference: see ``CORR_REFERENCE``."""
    synthetic, real = check_pair(synthetic, real, factors, min_factors=2)
    values, raw = _corr_table(synthetic, real)
    details = []
    for scope, item in zip(SCOPES, raw, strict=True):
        diff = np.abs(item["diff"])
        if np.isfinite(diff).all():
            i, j = np.unravel_index(int(np.argmax(diff)), diff.shape)
            details.append({"scope": scope, "max_abs_error": float(diff[i, j]),
                            "worst_pair": [factors[i], factors[j]]})
        else:
            details.append({"scope": scope, "max_abs_error": None, "worst_pair": None,
                            "note": "a synthetic factor is constant: its correlations are undefined"})
    return build_results(tier=TIER, names=[f"corr_frobenius_{s}" for s in SCOPES], values=values,
                         factors=[None, None], direction="max", reference=CORR_REFERENCE, threshold=threshold,
                         floor=floor, details=details)


# ---------------------------------------------------------------------------------------------------------------
# Energy distance


def _sq_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances via the Gram identity |a|² + |b|² - 2 a·b (BLAS; clipped at 0)."""
    sq = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * (a @ b.T)
    np.maximum(sq, 0.0, out=sq)
    return sq


def _self_sq_distances(a: np.ndarray) -> np.ndarray:
    sq = _sq_distances(a, a)
    np.fill_diagonal(sq, 0.0)
    return sq


def energy_distance_samples(x: Any, y: Any) -> float:
    """Squared energy distance between samples ``x`` ``[n, d]`` and ``y`` ``[m, d]`` (V-statistic, exponent 1).

    E(X, Y) = 2 E|X - Y| - E|X - X'| - E|Y - Y'|, with every expectation replaced by the mean over all
    pairs (including i = j, which contributes 0): Székely & Rizzo (2013), eq. (2.1)-(2.2); this is
    ``dcor.energy_distance`` with its default V-statistic.

    Relation to scipy: ``scipy.stats.energy_distance(u, v)`` (1-D only) is
    ``sqrt(2 ∫ (F_u - F_v)²) = sqrt(E(u, v))``, so for 1-D samples this function returns the *square* of scipy's
    value (Székely & Rizzo 2013, Proposition 1: 2∫(F - G)² = E(X, Y) in one dimension).
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if y.ndim == 1:
        y = y[:, None]
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"energy distance needs [n, d] and [m, d] samples, got {x.shape} and {y.shape}")
    if x.shape[0] < 1 or y.shape[0] < 1:
        raise ValueError("energy distance needs non-empty samples")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("energy distance needs finite samples")
    xy = np.sqrt(_sq_distances(x, y)).mean()
    xx = np.sqrt(_self_sq_distances(x)).mean()
    yy = np.sqrt(_self_sq_distances(y)).mean()
    return float(2.0 * xy - xx - yy)


def _energy(synthetic: np.ndarray, real: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    return np.array([energy_distance_samples(subsample(x, ENERGY_CAP, rng), subsample(y, ENERGY_CAP, rng))
                     for x, y in _standardised(synthetic, real).values()])


def energy_distance_statistic(synthetic: Any, real: Any, *, rng: np.random.Generator | None = None) -> np.ndarray:
    """Squared energy distance on real-standardised factors, shape ``[2]`` (daily, horizon); rows capped at
    ``ENERGY_CAP`` per sample. Székely & Rizzo (2013)."""
    synthetic, real = check_pair(synthetic, real)
    return _energy(synthetic, real, rng)


def energy_distance(synthetic: Any, real: Any, factors: Sequence[str], *, threshold: Threshold = None,
                    floor: Sequence[Floor | None] | None = None,
                    rng: np.random.Generator | None = None) -> list[MetricResult]:
    """``energy_distance_daily``, ``energy_distance_horizon``: the squared energy distance (V-statistic,
    exponent 1) between the synthetic and real samples of all factors jointly, each factor standardised by
    the real mean and volatility of that scope. Zero iff the distributions agree; direction ``max``.
    Reference: Székely & Rizzo (2013), J. Statist. Plann. Inference 143(8):1249-1272."""
    synthetic, real = check_pair(synthetic, real, factors)
    values = _energy(synthetic, real, rng)
    details = [{"scope": scope, "n_synthetic": int(min(x.shape[0], ENERGY_CAP)),
                "n_real": int(min(y.shape[0], ENERGY_CAP)), "standardised_by": "real mean and volatility"}
               for scope, (x, y) in scopes(synthetic, real).items()]
    return build_results(tier=TIER, names=[f"energy_distance_{s}" for s in SCOPES], values=values,
                         factors=[None, None], direction="max", reference=ENERGY_REFERENCE, threshold=threshold,
                         floor=floor, details=details)


# ---------------------------------------------------------------------------------------------------------------
# MMD


def median_bandwidth(z: np.ndarray) -> float:
    """Median heuristic: the median Euclidean distance over distinct pairs of the pooled sample ``z``
    (Gretton et al. 2012, §8). Falls back to 1 when every point coincides."""
    sq = _self_sq_distances(z)
    upper = sq[np.triu_indices(z.shape[0], k=1)]
    sigma = float(np.sqrt(np.median(upper))) if upper.size else 0.0
    return sigma if sigma > 0 else 1.0


def mmd2_unbiased(x: Any, y: Any, *, permutations: int = 0, rng: np.random.Generator | None = None,
                  bandwidth: float | None = None) -> tuple[float, float | None, float]:
    """Unbiased MMD²_u (Gretton et al. 2012, Lemma 6) with an RBF kernel k(a, b) = exp(-|a - b|² / (2σ²)).

    MMD²_u = Σ_{i≠j} k(x_i, x_j) / (m(m-1)) + Σ_{i≠j} k(y_i, y_j) / (n(n-1)) - 2 Σ_{i,j} k(x_i, y_j) / (mn).
    σ defaults to the median heuristic on the pooled sample. With ``permutations`` = B > 0, the p-value is
    (1 + #{b : MMD²_u(b) >= observed}) / (B + 1) (Phipson & Smyth 2010), where permutation b draws
    ``perm = rng.permutation(m + n)`` and relabels pooled rows ``perm[:m]`` as X and ``perm[m:]`` as Y.
    Returns ``(mmd2, pvalue or None, sigma)``.
    """
    x, y = np.atleast_2d(np.asarray(x, dtype=np.float64)), np.atleast_2d(np.asarray(y, dtype=np.float64))
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"MMD needs samples with the same dimension, got {x.shape} and {y.shape}")
    m, n = x.shape[0], y.shape[0]
    if m < 2 or n < 2:
        raise ValueError(f"the unbiased MMD needs at least 2 points per sample, got {m} and {n}")
    if permutations < 0:
        raise ValueError("permutations must be >= 0")
    z = np.vstack([x, y])
    sigma = median_bandwidth(z) if bandwidth is None else float(bandwidth)
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError("the RBF bandwidth must be positive and finite")
    kernel = np.exp(-_self_sq_distances(z) / (2.0 * sigma * sigma))
    row_sums = kernel.sum(axis=1)
    total = row_sums.sum()

    def mmd2(labels: np.ndarray) -> np.ndarray:
        # labels: [N, B] 0/1 indicators of X membership; block sums from one matrix product.
        s_xx_all = np.einsum("ib,ib->b", labels, kernel @ labels)
        s_x_row = labels.T @ row_sums
        s_xy = s_x_row - s_xx_all
        s_yy = total - 2.0 * s_x_row + s_xx_all
        # The diagonal of an RBF kernel is 1: subtract m (resp. n) for the i ≠ j sums.
        return (s_xx_all - m) / (m * (m - 1)) + (s_yy - n) / (n * (n - 1)) - 2.0 * s_xy / (m * n)

    observed_labels = np.zeros((m + n, 1))
    observed_labels[:m] = 1.0
    observed = float(mmd2(observed_labels)[0])
    if permutations == 0:
        return observed, None, sigma
    generator = rng if rng is not None else np.random.default_rng(0)
    labels = np.zeros((m + n, permutations))
    for b in range(permutations):
        labels[generator.permutation(m + n)[:m], b] = 1.0
    null = mmd2(labels)
    # Tolerance so that a permutation equal to the observed labelling counts despite rounding.
    exceed = int(np.sum(null >= observed - 1e-12 * max(1.0, abs(observed))))
    return observed, (1 + exceed) / (permutations + 1), sigma


def _mmd(synthetic: np.ndarray, real: np.ndarray, rng: np.random.Generator | None,
         permutations: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values, pvalues, sigmas = np.empty(2), np.full(2, np.nan), np.empty(2)
    for s, (x, y) in enumerate(_standardised(synthetic, real).values()):
        value, p, sigma = mmd2_unbiased(subsample(x, MMD_CAP, rng), subsample(y, MMD_CAP, rng),
                                        permutations=permutations, rng=rng)
        values[s], sigmas[s] = value, sigma
        if p is not None:
            pvalues[s] = p
    return values, pvalues, sigmas


def mmd_statistic(synthetic: Any, real: Any, *, rng: np.random.Generator | None = None) -> np.ndarray:
    """Unbiased MMD² (RBF, median heuristic) on real-standardised factors, shape ``[2]`` (daily, horizon);
    no permutations. Gretton et al. (2012)."""
    synthetic, real = check_pair(synthetic, real)
    return _mmd(synthetic, real, rng, 0)[0]


def mmd(synthetic: Any, real: Any, factors: Sequence[str], *, threshold: Threshold = None,
        floor: Sequence[Floor | None] | None = None, permutations: int = MMD_PERMUTATIONS,
        rng: np.random.Generator | None = None) -> list[MetricResult]:
    """``mmd2_daily``, ``mmd2_horizon``: unbiased MMD²_u with an RBF kernel whose bandwidth is the median
    pooled distance, on real-standardised factors, with a ``permutations``-fold permutation p-value in
    ``pvalue``. MMD²_u can be slightly negative when the samples agree. Direction ``max``.
    Reference: Gretton et al. (2012), JMLR 13:723-773."""
    synthetic, real = check_pair(synthetic, real, factors)
    if not isinstance(permutations, int) or permutations < 1:
        raise ValueError("permutations must be a positive integer")
    values, pvalues, sigmas = _mmd(synthetic, real, rng, permutations)
    details = [{"scope": scope, "bandwidth": float(sigmas[s]), "permutations": permutations,
                "n_synthetic": int(min(x.shape[0], MMD_CAP)), "n_real": int(min(y.shape[0], MMD_CAP))}
               for s, (scope, (x, y)) in enumerate(scopes(synthetic, real).items())]
    return build_results(tier=TIER, names=[f"mmd2_{s}" for s in SCOPES], values=values, factors=[None, None],
                         direction="max", reference=MMD_REFERENCE, threshold=threshold, floor=floor,
                         pvalues=pvalues, details=details)


# ---------------------------------------------------------------------------------------------------------------
# Tail dependence


def tail_dependence_matrix(x: Any, q: float = TAIL_Q) -> tuple[np.ndarray, np.ndarray]:
    """Empirical lower and upper tail-dependence coefficients for every factor pair of ``x`` ``[n, F]``.

    With pseudo-observations U = rank / (n + 1) (average ranks for ties):
    λ_L(i, j) = P(U_i ≤ q, U_j ≤ q) / q and λ_U(i, j) = P(U_i > 1 - q, U_j > 1 - q) / q, probabilities
    replaced by sample frequencies. Returns ``(lower, upper)``, each ``[F, F]``.
    """
    x = np.asarray(x, dtype=np.float64)
    u = stats.rankdata(x, axis=0) / (x.shape[0] + 1)
    low = (u <= q).astype(np.float64)
    high = (u > 1.0 - q).astype(np.float64)
    n = x.shape[0]
    return low.T @ low / (n * q), high.T @ high / (n * q)


def _check_q(q: float) -> float:
    q = float(q)
    if not 0 < q < 0.5:
        raise ValueError(f"the tail quantile q must lie in (0, 0.5), got {q}")
    return q


def _tail(synthetic: np.ndarray, real: np.ndarray, q: float,
          rng: np.random.Generator | None) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    if real.shape[0] * q < MIN_TAIL_POINTS:
        raise ValueError(f"the real series has {real.shape[0]} observations: tail dependence at q={q} needs at "
                         f"least {int(np.ceil(MIN_TAIL_POINTS / q))} ({MIN_TAIL_POINTS} points in each tail)")
    x = subsample(synthetic.reshape(-1, synthetic.shape[2]), TAIL_CAP, rng)
    ls, us = tail_dependence_matrix(x, q)
    lr, ur = tail_dependence_matrix(real, q)
    iu = np.triu_indices(real.shape[1], k=1)
    values = np.array([np.max(np.abs(ls - lr)[iu]), np.max(np.abs(us - ur)[iu])])
    return values, (ls, lr, us, ur)


def tail_dependence_statistic(synthetic: Any, real: Any, *, q: float = TAIL_Q,
                              rng: np.random.Generator | None = None) -> np.ndarray:
    """Max over factor pairs of |λ_synthetic - λ_real|, shape ``[2]``: lower tail, upper tail (daily scope)."""
    q = _check_q(q)
    synthetic, real = check_pair(synthetic, real, min_factors=2)
    return _tail(synthetic, real, q, rng)[0]


def tail_dependence(synthetic: Any, real: Any, factors: Sequence[str], *, threshold: Threshold = None,
                    floor: Sequence[Floor | None] | None = None, q: float = TAIL_Q,
                    rng: np.random.Generator | None = None) -> list[MetricResult]:
    """``tail_dep_lower``, ``tail_dep_upper``: the largest absolute difference, over factor pairs, between the
    synthetic and real empirical tail-dependence coefficients at quantile ``q`` (default 0.05), on daily
    increments (overlapping horizon sums leave too few, too dependent tail points). ``details["pairs"]``
    maps ``"a~b"`` to ``{"synthetic", "real", "diff"}``. Direction ``max``. A holdout with fewer than
    ``MIN_TAIL_POINTS`` observations in each tail gives ``NOT_RUN`` rows (``MetricResult.skipped``): the
    empirical coefficient is then 0 or 1/(nq) steps, not an estimate. References: Joe (1997);
    Schmidt & Stadtmüller (2006)."""
    q = _check_q(q)
    synthetic, real = check_pair(synthetic, real, factors, min_factors=2)
    if real.shape[0] * q < MIN_TAIL_POINTS:
        reason = (f"the holdout has {real.shape[0]} days: tail dependence at q={q} needs at least "
                  f"{int(np.ceil(MIN_TAIL_POINTS / q))} ({MIN_TAIL_POINTS} points in each tail)")
        return [MetricResult.skipped(name=name, tier=TIER, reason=reason, reference=TAIL_REFERENCE,
                                     details={"scope": "daily", "q": q, "n_real": int(real.shape[0])})
                for name in ("tail_dep_lower", "tail_dep_upper")]
    values, (ls, lr, us, ur) = _tail(synthetic, real, q, rng)
    details = []
    for tail, (syn, rea) in (("lower", (ls, lr)), ("upper", (us, ur))):
        pairs = {name: {"synthetic": float(syn[i, j]), "real": float(rea[i, j]),
                        "diff": float(syn[i, j] - rea[i, j])} for i, j, name in _pair_names(factors)}
        worst = max(pairs, key=lambda k: abs(pairs[k]["diff"]))
        details.append({"scope": "daily", "tail": tail, "q": q, "worst_pair": worst, "pairs": pairs})
    return build_results(tier=TIER, names=["tail_dep_lower", "tail_dep_upper"], values=values,
                         factors=[None, None], direction="max", reference=TAIL_REFERENCE, threshold=threshold,
                         floor=floor, details=details)


# ---------------------------------------------------------------------------------------------------------------
# The tier

#: family -> (raw statistic for noise floors, wrapper).
STATISTICS: dict[str, tuple[Callable[..., np.ndarray], Callable[..., list[MetricResult]]]] = {
    "correlation_error": (correlation_error_statistic, correlation_error),
    "energy_distance": (energy_distance_statistic, energy_distance),
    "mmd": (mmd_statistic, mmd),
    "tail_dependence": (tail_dependence_statistic, tail_dependence),
}


def run_multivariate(synthetic: Any, real: Any, factors: Sequence[str], *,
                     thresholds: Mapping[str, float] | None = None,
                     floors: Mapping[str, Sequence[Floor | None]] | None = None,
                     permutations: int = MMD_PERMUTATIONS,
                     rng: np.random.Generator | None = None) -> list[MetricResult]:
    """Every multivariate metric. ``thresholds`` by metric name (e.g. ``"mmd2_daily"``); ``floors`` by family
    (a key of ``STATISTICS``), each aligned with that family's results."""
    synthetic, real = check_pair(synthetic, real, factors, min_factors=2)
    floors = dict(floors or {})
    unknown = set(floors) - set(STATISTICS)
    if unknown:
        raise ValueError(f"floors has unknown families {sorted(unknown)}; expected keys of {sorted(STATISTICS)}")
    thresholds = dict(thresholds or {})
    return [*correlation_error(synthetic, real, factors, threshold=thresholds, floor=floors.get("correlation_error")),
            *energy_distance(synthetic, real, factors, threshold=thresholds, floor=floors.get("energy_distance"),
                             rng=rng),
            *mmd(synthetic, real, factors, threshold=thresholds, floor=floors.get("mmd"), permutations=permutations,
                 rng=rng),
            *tail_dependence(synthetic, real, factors, threshold=thresholds, floor=floors.get("tail_dependence"),
                             rng=rng)]
