"""Univariate tier: does each factor's synthetic marginal match the real one, day by day and over the horizon?

Every metric is computed per factor on two scopes:

* ``daily`` — synthetic increments pooled over scenarios and steps (``[n * horizon, F]``) against the
  real daily increments ``[T, F]``;
* ``horizon`` — synthetic path sums (``[n, F]``) against the real overlapping ``horizon``-day sums
  (``[T - horizon + 1, F]``). Overlapping sums are serially dependent, so p-values on this scope
  are nominal only; the statistic is judged against its noise floor, which shares the overlap.

Each family comes as a raw statistic ``<family>_statistic(synthetic, real) -> ndarray`` (what
``validation.metrics.floor.noise_floors`` calls with real block-bootstrap paths in place of
``synthetic``) and a wrapper returning ``MetricResult`` objects in the statistic's flattened (C) order,
so a ``floor`` list from ``noise_floors`` lines up with the results one to one.

Subsampling caps (for speed; deterministic: ``rng=None`` means a fixed-seed generator, never a strided
pick, which could alias with the horizon and keep only some steps of each path):

* KS and quantile errors: at most ``KS_CAP`` synthetic rows per scope (the synthetic sampling error is
  then far below the real sample's ``1/sqrt(T)``); KS p-values are asymptotic once ``n_s * n_r`` exceeds
  10⁶ (scipy's exact distribution is slow there, and D itself does not depend on the method);
* Anderson–Darling: at most ``AD_CAP`` synthetic rows per scope (``anderson_ksamp`` is a per-factor
  Python call; the standardised statistic grows with the sample size under an alternative, so the
  floor — computed with the same cap — is the yardstick, not an absolute number);
* moments use every row.

On 10,000 × 20 × 50 the whole tier runs in a few seconds on one core.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from validation.metrics.result import Floor, MetricResult, check_real, check_synthetic, daily, horizon_sums

TIER = "univariate"
SCOPES = ("daily", "horizon")
KS_CAP = 50_000
KS_EXACT_MAX = 1_000_000
AD_CAP = 10_000
MIN_HORIZON_WINDOWS = 20
SUBSAMPLE_SEED = 20240601
QUANTILES = (0.01, 0.05, 0.95, 0.99)
MOMENT_NAMES = ("mean_diff", "vol_rel_diff", "skew_diff", "kurt_diff")

Threshold = float | Mapping[str, float] | None

KS_REFERENCE = ("Smirnov (1948), Ann. Math. Statist. 19(2):279-281; Hodges (1958), Ark. Mat. 3:469-486; "
                "scipy.stats.ks_2samp")
AD_REFERENCE = ("Scholz & Stephens (1987), K-sample Anderson-Darling tests, JASA 82(399):918-924; "
                "scipy.stats.anderson_ksamp (midrank variant)")
MOMENTS_REFERENCE = ("Cont (2001), Empirical properties of asset returns: stylized facts and statistical issues, "
                     "Quant. Finance 1:223-236; moments as scipy.stats.skew / kurtosis (Fisher, biased)")
QUANTILE_REFERENCE = ("Hyndman & Fan (1996), Sample quantiles in statistical packages, Amer. Statist. "
                      "50(4):361-365 (type 7, numpy's default)")


# ---------------------------------------------------------------------------------------------------------------
# Shared helpers (also used by the multivariate tier)


def check_pair(synthetic: Any, real: Any, factors: Sequence[str] | None = None, *,
               min_factors: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Check ``synthetic`` ``[n, horizon, F]`` and ``real`` ``[T, F]`` together; return them as float arrays.

    Raises ``ValueError`` naming the problem: wrong shapes, non-finite values, mismatched factor counts,
    too few real days (30) or overlapping horizon windows (``MIN_HORIZON_WINDOWS``), constant real factors.
    """
    if factors is not None:
        if isinstance(factors, str) or not all(isinstance(f, str) for f in factors):
            raise ValueError("factors must be a sequence of factor names (strings)")
        if len(set(factors)) != len(factors):
            raise ValueError("factors has duplicate names")
    real = check_real(real, factors)
    synthetic = check_synthetic(synthetic, real.shape[1])
    if real.shape[1] < min_factors:
        raise ValueError(f"this metric needs at least {min_factors} factors, got {real.shape[1]}")
    horizon = synthetic.shape[1]
    windows = real.shape[0] - horizon + 1
    if windows < MIN_HORIZON_WINDOWS:
        raise ValueError(f"the real series ({real.shape[0]} days) gives {max(windows, 0)} overlapping {horizon}-day "
                         f"sums; horizon metrics need at least {MIN_HORIZON_WINDOWS}")
    names = list(factors) if factors is not None else [str(i) for i in range(real.shape[1])]
    sd = real.std(axis=0)
    if np.any(sd == 0):
        raise ValueError(f"real factor {names[int(np.argmax(sd == 0))]!r} is constant")
    return synthetic, real


def scopes(synthetic: np.ndarray, real: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"daily": (synthetic increments, real increments), "horizon": (synthetic sums, real overlapping sums)}``."""
    return {"daily": (daily(synthetic), real),
            "horizon": (synthetic.sum(axis=1), horizon_sums(real, synthetic.shape[1]))}


def subsample(x: np.ndarray, cap: int, rng: np.random.Generator | None) -> np.ndarray:
    """At most ``cap`` rows of ``x``, drawn without replacement (fixed seed when ``rng`` is None), in order."""
    if x.shape[0] <= cap:
        return x
    generator = rng if rng is not None else np.random.default_rng(SUBSAMPLE_SEED)
    index = np.sort(generator.choice(x.shape[0], size=cap, replace=False))
    return x[index]


def build_results(*, tier: str, names: Sequence[str], values: np.ndarray, factors: Sequence[str | None],
                  direction: str, reference: str, threshold: Threshold = None,
                  floor: Sequence[Floor | None] | None = None, pvalues: np.ndarray | None = None,
                  details: Sequence[dict] | None = None) -> list[MetricResult]:
    """One ``MetricResult`` per value, thresholds looked up by metric name, floors aligned by position."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    count = values.size
    if not (len(names) == len(factors) == count):
        raise ValueError("internal: names, factors and values differ in length")
    if floor is None:
        floors: list[Floor | None] = [None] * count
    else:
        floors = list(floor)
        if len(floors) != count:
            raise ValueError(f"floor has {len(floors)} entries but the metric has {count} values (one per result, "
                             "in the statistic's order)")
        if not all(f is None or isinstance(f, Floor) for f in floors):
            raise ValueError("floor entries must be Floor objects (or None)")
    if threshold is not None and not isinstance(threshold, Mapping):
        threshold = float(threshold)
        if not np.isfinite(threshold):
            raise ValueError("threshold must be finite")
    pvals = None if pvalues is None else np.asarray(pvalues, dtype=np.float64).reshape(-1)
    results = []
    for i in range(count):
        limit = threshold.get(names[i]) if isinstance(threshold, Mapping) else threshold
        results.append(MetricResult(
            name=names[i], tier=tier, value=float(values[i]),
            threshold=None if limit is None else float(limit), direction=direction,
            pvalue=None if pvals is None or not np.isfinite(pvals[i]) else float(pvals[i]),
            factor=factors[i], floor=floors[i],
            details=dict(details[i]) if details is not None else {}, reference=reference))
    return results


def nominal_horizon_pvalues(p: np.ndarray, details: list[dict]) -> np.ndarray:
    """The test's p-values with the horizon scope's moved into ``details["nominal_pvalue"]`` (row 1 -> NaN).

    The horizon scope compares synthetic sums with the holdout's *overlapping* ``h``-day sums: a
    two-sample test reads them as ``T - h + 1`` independent draws when they hold about ``T / h``, so
    its p-value is far too small (a correct generator "failed" ad_horizon at p = 0.001 in 3 of 3
    seeds, ``python -m bench judge_calibration``). It is kept for information only; the row is judged
    on its noise floor or threshold, and the family-wise rule counts it as a row without a test.
    """
    p = np.array(p, dtype=np.float64)
    n_f = p.shape[1]
    for f in range(n_f):
        details[n_f + f]["nominal_pvalue"] = float(p[1, f])
        details[n_f + f]["pvalue_note"] = "overlapping real windows: the test's p-value assumes independent samples"
    p[1] = np.nan
    return p


# ---------------------------------------------------------------------------------------------------------------
# Kolmogorov-Smirnov


def _ks(synthetic: np.ndarray, real: np.ndarray, rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
    d = np.empty((2, real.shape[1]))
    p = np.empty((2, real.shape[1]))
    for s, (x, y) in enumerate(scopes(synthetic, real).values()):
        x = subsample(x, KS_CAP, rng)
        method = "auto" if x.shape[0] * y.shape[0] <= KS_EXACT_MAX else "asymp"
        result = stats.ks_2samp(x, y, axis=0, method=method)
        d[s], p[s] = result.statistic, result.pvalue
    return d, p


def ks_statistic(synthetic: Any, real: Any, *, rng: np.random.Generator | None = None) -> np.ndarray:
    """Two-sample KS D per factor, shape ``[2, F]``: row 0 daily, row 1 horizon sums.

    Smirnov (1948); scipy.stats.ks_2samp. Synthetic rows capped at ``KS_CAP`` per scope.
    """
    synthetic, real = check_pair(synthetic, real)
    return _ks(synthetic, real, rng)[0]


def ks(synthetic: Any, real: Any, factors: Sequence[str], *, threshold: Threshold = None,
       floor: Sequence[Floor | None] | None = None, rng: np.random.Generator | None = None) -> list[MetricResult]:
    """``ks_daily`` (one per factor) then ``ks_horizon``: the two-sample Kolmogorov-Smirnov statistic D.

    D = sup_x |F_synthetic(x) - F_real(x)| is judged (direction ``max``); scipy's asymptotic/exact p-value
    is kept in ``pvalue`` for the daily scope, in ``details["nominal_pvalue"]`` only for the horizon
    scope, whose real sums overlap (see ``nominal_horizon_pvalues``).
    References: Smirnov (1948); Hodges (1958); scipy.stats.ks_2samp.
    """
    synthetic, real = check_pair(synthetic, real, factors)
    d, p = _ks(synthetic, real, rng)
    n_f = real.shape[1]
    details = [{"scope": scope, "n_synthetic": int(min(x.shape[0], KS_CAP)), "n_real": int(y.shape[0])}
               for scope, (x, y) in scopes(synthetic, real).items() for _ in range(n_f)]
    return build_results(tier=TIER, names=[f"ks_{s}" for s in SCOPES for _ in range(n_f)], values=d,
                         factors=list(factors) * 2, direction="max", reference=KS_REFERENCE,
                         threshold=threshold, floor=floor, pvalues=nominal_horizon_pvalues(p, details),
                         details=details)


# ---------------------------------------------------------------------------------------------------------------
# Anderson-Darling k-sample


def _ad(synthetic: np.ndarray, real: np.ndarray, rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
    a = np.empty((2, real.shape[1]))
    p = np.empty((2, real.shape[1]))
    with warnings.catch_warnings():
        # anderson_ksamp interpolates p-values only inside [0.001, 0.25] and warns when it clips them.
        warnings.filterwarnings("ignore", message=r"p-value (floored|capped)", category=UserWarning)
        for s, (x, y) in enumerate(scopes(synthetic, real).values()):
            x = subsample(x, AD_CAP, rng)
            for f in range(real.shape[1]):
                result = stats.anderson_ksamp([x[:, f], y[:, f]], variant="midrank")
                a[s, f], p[s, f] = result.statistic, result.pvalue
    return a, p


def anderson_darling_statistic(synthetic: Any, real: Any, *, rng: np.random.Generator | None = None) -> np.ndarray:
    """Standardised k-sample Anderson-Darling statistic per factor, shape ``[2, F]`` (daily, horizon).

    Scholz & Stephens (1987); scipy.stats.anderson_ksamp (midrank). Synthetic rows capped at ``AD_CAP``.
    """
    synthetic, real = check_pair(synthetic, real)
    return _ad(synthetic, real, rng)[0]


def anderson_darling(synthetic: Any, real: Any, factors: Sequence[str], *, threshold: Threshold = None,
                     floor: Sequence[Floor | None] | None = None,
                     rng: np.random.Generator | None = None) -> list[MetricResult]:
    """``ad_daily`` then ``ad_horizon`` per factor: the standardised k-sample Anderson-Darling statistic.

    More weight in the tails than KS. ``pvalue`` is scipy's interpolated value, clipped to [0.001, 0.25],
    for the daily scope; on the horizon scope it is nominal (``nominal_horizon_pvalues``).
    References: Scholz & Stephens (1987), JASA 82(399):918-924; scipy.stats.anderson_ksamp.
    """
    synthetic, real = check_pair(synthetic, real, factors)
    a, p = _ad(synthetic, real, rng)
    n_f = real.shape[1]
    details = [{"scope": scope, "n_synthetic": int(min(x.shape[0], AD_CAP)), "n_real": int(y.shape[0])}
               for scope, (x, y) in scopes(synthetic, real).items() for _ in range(n_f)]
    return build_results(tier=TIER, names=[f"ad_{s}" for s in SCOPES for _ in range(n_f)], values=a,
                         factors=list(factors) * 2, direction="max", reference=AD_REFERENCE,
                         threshold=threshold, floor=floor, pvalues=nominal_horizon_pvalues(p, details),
                         details=details)


# ---------------------------------------------------------------------------------------------------------------
# Moments


def _moments(x: np.ndarray) -> np.ndarray:
    """``[4, F]``: mean, standard deviation (ddof=1), skewness, excess kurtosis (Fisher, biased).

    The biased central-moment estimators g1 = m3 / m2^1.5 and g2 = m4 / m2^2 - 3, as scipy.stats.skew and
    scipy.stats.kurtosis compute them (tested against them), in one pass of einsum for speed.
    """
    n = x.shape[0]
    mean = x.mean(axis=0)
    xc = x - mean
    xc2 = xc * xc
    m2 = xc2.sum(axis=0) / n
    m3 = np.einsum("ij,ij->j", xc2, xc) / n
    m4 = np.einsum("ij,ij->j", xc2, xc2) / n
    with np.errstate(all="ignore"):
        # A constant synthetic factor has undefined skew/kurtosis: NaN, which fails the metric.
        flat = m2 <= (np.finfo(np.float64).eps * np.abs(mean)) ** 2
        skew = np.where(flat, np.nan, m3 / m2**1.5)
        kurt = np.where(flat, np.nan, m4 / m2**2 - 3.0)
        return np.vstack([mean, np.sqrt(m2 * n / (n - 1)), skew, kurt])


def _moment_table(synthetic: np.ndarray, real: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    diffs, syn, rea = np.empty((2, 4, real.shape[1])), np.empty((2, 4, real.shape[1])), np.empty((2, 4, real.shape[1]))
    for s, (x, y) in enumerate(scopes(synthetic, real).values()):
        ms, mr = _moments(x), _moments(y)
        syn[s], rea[s] = ms, mr
        diffs[s] = [(ms[0] - mr[0]) / mr[1], ms[1] / mr[1] - 1.0, ms[2] - mr[2], ms[3] - mr[3]]
    return diffs, syn, rea


def moments_statistic(synthetic: Any, real: Any) -> np.ndarray:
    """Moment differences, shape ``[2, 4, F]``: scope (daily, horizon) × (mean, vol, skew, kurt) × factor.

    mean: (mean_s - mean_r) / vol_r; vol: vol_s / vol_r - 1; skew and excess kurtosis: plain differences.
    """
    synthetic, real = check_pair(synthetic, real)
    return _moment_table(synthetic, real)[0]


def _matched_higher_moments(synthetic: np.ndarray, real: np.ndarray, paths: int) -> tuple[np.ndarray, int]:
    """Skew and kurtosis differences ``[2, 2, F]`` (scope × (skew, kurt) × factor): the median over disjoint
    subsamples of ``paths`` synthetic paths, and how many subsamples."""
    k = synthetic.shape[0] // paths
    tables = np.stack([_moment_table(synthetic[i * paths:(i + 1) * paths], real)[0][:, 2:] for i in range(k)])
    return np.median(tables, axis=0), k


def moments(synthetic: Any, real: Any, factors: Sequence[str], *, threshold: Threshold = None,
            floor: Sequence[Floor | None] | None = None, matched_paths: int | None = None) -> list[MetricResult]:
    """``mean_diff``, ``vol_rel_diff``, ``skew_diff``, ``kurt_diff`` with suffix ``_daily`` then ``_horizon``.

    Order: scope, then moment, then factor (the flattened ``moments_statistic``). ``mean_diff`` is the mean
    difference in units of the real volatility (so one threshold fits every factor), ``vol_rel_diff`` the
    relative volatility error, ``skew_diff`` / ``kurt_diff`` plain differences of sample skewness and
    Fisher excess kurtosis. Direction ``abs_max``. The raw synthetic and real moments sit in ``details``.
    A ``threshold`` mapping keyed by metric name is the natural form here.
    Reference: Cont (2001), Quant. Finance 1:223-236 (the stylised facts these moments check).

    ``matched_paths`` (the noise floor's path count): skewness and kurtosis are compared at the floor's
    sample size — the median over disjoint subsamples of that many synthetic paths. Their estimators
    depend on the sample size for heavy tails (a sample kurtosis grows with n when the fourth moment is
    barely finite), so a floor drawn at 500 paths only judges a value computed at 500 paths; the
    full-sample value stays in ``details``. Mean and volatility (consistent, n-free) use every path.
    """
    synthetic, real = check_pair(synthetic, real, factors)
    diffs, syn, rea = _moment_table(synthetic, real)
    full = diffs.copy()
    subsamples = 0
    if matched_paths is not None and synthetic.shape[0] >= 2 * int(matched_paths):
        diffs[:, 2:], subsamples = _matched_higher_moments(synthetic, real, int(matched_paths))
    labels = ("mean", "vol", "skew", "kurt")
    names, facs, details = [], [], []
    for s, scope in enumerate(SCOPES):
        for m, moment in enumerate(MOMENT_NAMES):
            for f, factor in enumerate(factors):
                names.append(f"{moment}_{scope}")
                facs.append(factor)
                detail = {"scope": scope, "moment": labels[m], "synthetic": float(syn[s, m, f]),
                          "real": float(rea[s, m, f]), "real_vol": float(rea[s, 1, f])}
                if subsamples and m >= 2:
                    detail |= {"matched_paths": int(matched_paths), "subsamples": subsamples,
                               "full_sample_value": float(full[s, m, f])}
                details.append(detail)
    return build_results(tier=TIER, names=names, values=diffs, factors=facs, direction="abs_max",
                         reference=MOMENTS_REFERENCE, threshold=threshold, floor=floor, details=details)


# ---------------------------------------------------------------------------------------------------------------
# Quantile errors


def _quantile_table(synthetic: np.ndarray, real: np.ndarray,
                    rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n_f = real.shape[1]
    err, qs, qr, vol = (np.empty((2, len(QUANTILES), n_f)), np.empty((2, len(QUANTILES), n_f)),
                        np.empty((2, len(QUANTILES), n_f)), np.empty((2, n_f)))
    for s, (x, y) in enumerate(scopes(synthetic, real).values()):
        qs[s] = np.quantile(subsample(x, KS_CAP, rng), QUANTILES, axis=0)
        qr[s] = np.quantile(y, QUANTILES, axis=0)
        vol[s] = y.std(axis=0, ddof=1)
        err[s] = np.abs(qs[s] - qr[s]) / vol[s]
    return err, qs, qr, vol


def quantile_errors_statistic(synthetic: Any, real: Any, *, rng: np.random.Generator | None = None) -> np.ndarray:
    """|q_s(p) - q_r(p)| / vol_r for p in ``QUANTILES``, shape ``[2, 4, F]`` (scope × quantile × factor).

    Synthetic rows capped at ``KS_CAP`` per scope.
    """
    synthetic, real = check_pair(synthetic, real)
    return _quantile_table(synthetic, real, rng)[0]


def quantile_errors(synthetic: Any, real: Any, factors: Sequence[str], *, threshold: Threshold = None,
                    floor: Sequence[Floor | None] | None = None,
                    rng: np.random.Generator | None = None) -> list[MetricResult]:
    """``q01_err``, ``q05_err``, ``q95_err``, ``q99_err`` with suffix ``_daily`` then ``_horizon``, per factor.

    Absolute error of the synthetic quantile against the real one, in units of the real volatility of the
    same scope (direction ``max``). Quantiles are numpy's linear (type 7) estimator.
    Reference: Hyndman & Fan (1996), Amer. Statist. 50(4):361-365.
    """
    synthetic, real = check_pair(synthetic, real, factors)
    err, qs, qr, vol = _quantile_table(synthetic, real, rng)
    names, facs, details = [], [], []
    for s, scope in enumerate(SCOPES):
        for k, p in enumerate(QUANTILES):
            for f, factor in enumerate(factors):
                names.append(f"q{round(p * 100):02d}_err_{scope}")
                facs.append(factor)
                details.append({"scope": scope, "quantile": p, "synthetic": float(qs[s, k, f]),
                                "real": float(qr[s, k, f]), "real_vol": float(vol[s, f])})
    return build_results(tier=TIER, names=names, values=err, factors=facs, direction="max",
                         reference=QUANTILE_REFERENCE, threshold=threshold, floor=floor, details=details)


# ---------------------------------------------------------------------------------------------------------------
# The tier

#: family -> (raw statistic for noise floors, wrapper). ``noise_floors(STATISTICS[k][0], ...)`` gives the
#: ``floor`` list for ``STATISTICS[k][1]``.
STATISTICS: dict[str, tuple[Callable[..., np.ndarray], Callable[..., list[MetricResult]]]] = {
    "ks": (ks_statistic, ks),
    "anderson_darling": (anderson_darling_statistic, anderson_darling),
    "moments": (moments_statistic, moments),
    "quantile_errors": (quantile_errors_statistic, quantile_errors),
}


def run_univariate(synthetic: Any, real: Any, factors: Sequence[str], *,
                   thresholds: Mapping[str, float] | None = None,
                   floors: Mapping[str, Sequence[Floor | None]] | None = None,
                   rng: np.random.Generator | None = None, matched_paths: int | None = None) -> list[MetricResult]:
    """Every univariate metric. ``thresholds`` by metric name (e.g. ``"ks_daily"``); ``floors`` by family
    (a key of ``STATISTICS``), each aligned with that family's results; ``matched_paths``: see ``moments``."""
    synthetic, real = check_pair(synthetic, real, factors)
    floors = dict(floors or {})
    unknown = set(floors) - set(STATISTICS)
    if unknown:
        raise ValueError(f"floors has unknown families {sorted(unknown)}; expected keys of {sorted(STATISTICS)}")
    thresholds = dict(thresholds or {})
    return [*ks(synthetic, real, factors, threshold=thresholds, floor=floors.get("ks"), rng=rng),
            *anderson_darling(synthetic, real, factors, threshold=thresholds, floor=floors.get("anderson_darling"),
                              rng=rng),
            *moments(synthetic, real, factors, threshold=thresholds, floor=floors.get("moments"),
                     matched_paths=matched_paths if floors.get("moments") else None),
            *quantile_errors(synthetic, real, factors, threshold=thresholds, floor=floors.get("quantile_errors"),
                              rng=rng)]
