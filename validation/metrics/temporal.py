"""Temporal dependence of scenario paths vs the real holdout (tier ``temporal``).

Scenario paths are short (a horizon of 20–60 days), so a within-path statistic estimated on one
path is useless; every statistic here *pools* the paths:

* **Pooled ACF** (:func:`pooled_acf`). For paths ``x[i, t]`` (``n`` paths of length ``h``) with the
  grand mean ``m`` over all paths, the lag-``k`` autocorrelation is

      rho(k) = [sum_i sum_{t<h-k} (x[i,t]-m)(x[i,t+k]-m) / (n (h-k))] / [sum_i sum_t (x[i,t]-m)^2 / (n h)],

  i.e. every within-path pair at lag ``k`` counts once and no pair straddles two paths. The grand
  mean (not a per-path mean) is used because per-path demeaning biases rho(k) by about -1/h and
  removes the between-path volatility level that the ACF of |r| measures. With ``n = 1`` this is
  exactly ``statsmodels.tsa.stattools.acf(x, adjusted=True)``; the real series is measured with it
  as one long path (Box & Jenkins 1976, §2.1.4).
* **Ljung–Box** (Ljung & Box 1978) and **ARCH-LM** (Engle 1982) are applied *per path* on returns
  and squared returns and summarised as the share of paths rejecting at 5 %; the real series is
  cut into every overlapping window of the same horizon and summarised the same way, so both
  shares have the same (low) power and are comparable. The metric is the absolute difference of
  the two shares. The per-path statistics are vectorised; they are tested to equal
  ``statsmodels.stats.diagnostic.acorr_ljungbox`` / ``het_arch`` path by path. The details also
  give a pooled Box–Pierce statistic ``Q = sum_k N_k rho(k)^2`` with ``N_k = n (h - k)`` pairs at
  lag ``k`` (asymptotically chi-squared with ``L`` degrees of freedom under independence; with
  10⁵ pairs it rejects any departure, so it is reported, not judged) and statsmodels' Ljung–Box
  and ARCH-LM on the whole real series.
* **Leverage** (Bouchaud, Matacz & Potters 2001, "Leverage effect in financial markets: the
  retarded volatility model", PRL 87, 228701): ``corr(r_t, |r_{t+k}|)`` for ``k = 1..10``, pooled
  over within-path pairs like the ACF.

Nothing to test is ``NOT_RUN`` (``MetricResult.skipped``), never PASS: the per-path tests on paths shorter
than ``MIN_TEST_HORIZON``, and any metric of a factor whose synthetic paths or real series are constant (the
ACF, the tests and the leverage correlation are undefined there; a constant path used to count as "does not
reject", which let a constant generator match a real series that rarely rejects).

Every metric's value is an effect size per factor: the mean absolute difference over lags
(ACF, leverage) or the difference in rejection shares (tests). Each has a raw statistic function
``f(synthetic, real) -> array[F]`` that accepts real block-bootstrap paths in place of
``synthetic`` (for :func:`validation.metrics.floor.noise_floors`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats
from statsmodels.stats.diagnostic import acorr_ljungbox, het_arch

from validation.metrics.result import Floor, MetricResult, check_real, check_synthetic

TIER = "temporal"
KINDS = ("returns", "abs", "squared")
MAX_ACF_LAG = 20
MAX_LEVERAGE_LAG = 10
MIN_TEST_HORIZON = 10
MAX_REAL_WINDOWS = 5000
ALPHA = 0.05

#: Default thresholds (used when ``threshold`` is None); a validation policy overrides them.
DEFAULT_THRESHOLDS = {
    "acf_returns": 0.05,
    "acf_abs_returns": 0.05,
    "acf_squared_returns": 0.05,
    "ljung_box_returns": 0.10,
    "ljung_box_squared": 0.10,
    "arch_lm": 0.10,
    "leverage": 0.05,
}

REFERENCES = {
    "acf": "Box & Jenkins (1976) Time Series Analysis; Cont (2001) Quant. Finance 1:223-236",
    "ljung_box": "Ljung & Box (1978) Biometrika 65:297-303",
    "arch_lm": "Engle (1982) Econometrica 50:987-1007",
    "leverage": "Bouchaud, Matacz & Potters (2001) Phys. Rev. Lett. 87:228701",
}


# --------------------------------------------------------------------------- input handling


def _check_pair(synthetic, real, factors: Sequence[str] | None, min_rows: int = 30):
    real = check_real(real, factors, min_rows=min_rows)
    synthetic = check_synthetic(synthetic, real.shape[1])
    return synthetic, real


def _acf_lags(horizon: int) -> int:
    lags = min(MAX_ACF_LAG, horizon - 1)
    if lags < 1:
        raise ValueError(f"a temporal statistic needs paths of at least 2 steps; the horizon is {horizon}")
    return lags


def transform(x: np.ndarray, kind: str) -> np.ndarray:
    if kind == "returns":
        return x
    if kind == "abs":
        return np.abs(x)
    if kind == "squared":
        return x * x
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


# --------------------------------------------------------------------------- pooled estimators


def _constant(x: np.ndarray, axis) -> np.ndarray:
    """Whether ``x`` is exactly constant along ``axis`` (tested on the values, not on a centred sum of squares:
    subtracting a computed mean leaves rounding residues, on which a correlation would read about 1)."""
    return np.ptp(x, axis=axis) == 0


def pooled_acf(paths, nlags: int) -> np.ndarray:
    """Pooled within-path ACF at lags ``1..nlags``: ``[nlags, F]`` (see the module docstring).

    ``paths`` is ``[n, h, F]`` (or ``[n, h]`` for one factor, returning ``[nlags]``).
    """
    x = np.asarray(paths, dtype=np.float64)
    squeeze = x.ndim == 2
    if squeeze:
        x = x[:, :, None]
    if x.ndim != 3:
        raise ValueError(f"paths must be [scenarios, horizon, factors], got shape {x.shape}")
    n, h, _ = x.shape
    if not 1 <= nlags < h:
        raise ValueError(f"nlags must lie in 1..{h - 1} for paths of {h} steps, got {nlags}")
    grand = x.reshape(-1, x.shape[2]).mean(axis=0)
    d = x - grand
    var = (d * d).mean(axis=(0, 1))
    var = np.where(_constant(x, (0, 1)), np.nan, var)  # a constant series has no autocorrelation
    out = np.empty((nlags, x.shape[2]))
    for k in range(1, nlags + 1):
        # einsum sums the lagged products without materialising them (the arrays can be 10⁷ long)
        out[k - 1] = np.einsum("ijk,ijk->k", d[:, :-k], d[:, k:]) / (n * (h - k))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = out / var
    return out[:, 0] if squeeze else out


def pooled_cross_corr(a, b, lag: int) -> np.ndarray:
    """Pooled within-path ``corr(a_t, b_{t+lag})`` per factor (pairs never straddle two paths)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    x = a[:, :-lag].reshape(-1, a.shape[2])
    y = b[:, lag:].reshape(-1, b.shape[2])
    flat = _constant(x, 0) | _constant(y, 0)
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    sxx, syy = (x * x).sum(axis=0), (y * y).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(flat, np.nan, (x * y).sum(axis=0) / np.sqrt(sxx * syy))


def leverage_curve(paths, nlags: int) -> np.ndarray:
    """``corr(r_t, |r_{t+k}|)`` for ``k = 1..nlags`` pooled within paths: ``[nlags, F]``."""
    x = capped_paths(np.asarray(paths, dtype=np.float64))
    if not 1 <= nlags < x.shape[1]:
        raise ValueError(f"nlags must lie in 1..{x.shape[1] - 1} for paths of {x.shape[1]} steps, got {nlags}")
    absolute = np.abs(x)
    return np.stack([pooled_cross_corr(x, absolute, k) for k in range(1, nlags + 1)])


def pooled_box_pierce(paths, nlags: int) -> tuple[np.ndarray, np.ndarray]:
    """Pooled Box–Pierce ``Q = sum_k n (h-k) rho(k)^2`` and its chi-squared(nlags) p-value, per factor."""
    x = np.asarray(paths, dtype=np.float64)
    n, h = x.shape[:2]
    rho = pooled_acf(x, nlags)
    pairs = n * (h - np.arange(1, nlags + 1))
    q = (pairs[:, None] * rho * rho).sum(axis=0)
    return q, stats.chi2.sf(q, nlags)


# --------------------------------------------------------------------------- per-path tests


def path_test_lags(horizon: int, test: str) -> int:
    """Lags of the per-path tests: ``min(10, h // 5)`` for Ljung–Box, ``min(5, h // 5)`` for ARCH-LM."""
    cap = 10 if test == "ljung_box" else 5
    return max(1, min(cap, horizon // 5))


def ljung_box_per_path(paths, nlags: int) -> tuple[np.ndarray, np.ndarray]:
    """Ljung–Box ``Q`` and p-value of every path and factor: two ``[n, F]`` arrays.

    Identical to ``acorr_ljungbox(path, lags=[nlags])`` (per-path mean, ACF normalised by ``h``).
    """
    x = np.asarray(paths, dtype=np.float64)
    h = x.shape[1]
    if not 1 <= nlags < h:
        raise ValueError(f"nlags must lie in 1..{h - 1}, got {nlags}")
    d = x - x.mean(axis=1, keepdims=True)
    c0 = (d * d).sum(axis=1)
    c0 = np.where(_constant(x, 1), np.nan, c0)  # a constant path: the statistic is undefined
    q = np.zeros((x.shape[0], x.shape[2]))
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(1, nlags + 1):
            rho = (d[:, :-k] * d[:, k:]).sum(axis=1) / c0
            q += rho * rho / (h - k)
    q *= h * (h + 2)
    return q, stats.chi2.sf(q, nlags)


def arch_lm_per_path(paths, nlags: int) -> tuple[np.ndarray, np.ndarray]:
    """Engle's ARCH-LM statistic and p-value of every path and factor: two ``[n, F]`` arrays.

    Identical to ``het_arch(path, nlags=nlags)`` path by path: ``(h - p) R^2`` of the OLS of
    ``e_t^2`` on a constant and ``e_{t-1}^2 .. e_{t-p}^2``.
    """
    x = np.asarray(paths, dtype=np.float64)
    n, h, f = x.shape
    p = nlags
    m = h - p
    if m <= p + 1:
        raise ValueError(f"ARCH-LM with {p} lags needs paths longer than {2 * p + 1} steps, got {h}")
    e2 = np.moveaxis(x * x, 2, 1).reshape(n * f, h)  # one row per (path, factor)
    y = e2[:, p:]
    design = np.stack([np.ones_like(y)] + [e2[:, p - j:h - j] for j in range(1, p + 1)], axis=2)
    gram = np.swapaxes(design, 1, 2) @ design
    moment = np.swapaxes(design, 1, 2) @ y[:, :, None]
    try:
        beta = np.linalg.solve(gram, moment)  # normal equations: (p+1)x(p+1) per path, fast
    except np.linalg.LinAlgError:  # a degenerate (e.g. constant) path: the minimum-norm solution
        beta = np.linalg.pinv(design) @ y[:, :, None]
    resid = y - (design @ beta)[:, :, 0]
    sst = ((y - y.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    sst = np.where(_constant(y, 1), np.nan, sst)  # constant squared residuals: R² is undefined
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - (resid * resid).sum(axis=1) / sst
    lm = (m * r2).reshape(n, f)
    return lm, stats.chi2.sf(lm, p)


def real_windows(real: np.ndarray, horizon: int, max_windows: int = MAX_REAL_WINDOWS) -> np.ndarray:
    """Every overlapping ``horizon``-day window of the real series ``[W, horizon, F]`` (strided when many)."""
    count = real.shape[0] - horizon + 1
    if count < 1:
        raise ValueError(f"the real series ({real.shape[0]} days) is shorter than the horizon ({horizon})")
    starts = np.arange(count)
    if count > max_windows:
        starts = np.linspace(0, count - 1, max_windows).round().astype(int)
    return real[starts[:, None] + np.arange(horizon)[None, :]]


# A rejection share or a pooled correlation from 5,000 paths has a standard error below 0.01;
# more paths only cost time (the full suite must fit in seconds on 10⁴ paths × 50 factors).
PATH_CAP = 5000


def capped_paths(x: np.ndarray) -> np.ndarray:
    if x.shape[0] <= PATH_CAP:
        return x
    return x[np.sort(np.random.default_rng(0).choice(x.shape[0], PATH_CAP, replace=False))]


def _path_pvalues(paths, test: str, nlags: int, *, squared: bool = False) -> np.ndarray:
    x = capped_paths(np.asarray(paths, dtype=np.float64))
    if test == "ljung_box":
        _, pvalues = ljung_box_per_path(x * x if squared else x, nlags)
    elif test == "arch_lm":
        _, pvalues = arch_lm_per_path(x - x.reshape(-1, x.shape[2]).mean(axis=0), nlags)
    else:
        raise ValueError(f"test must be 'ljung_box' or 'arch_lm', got {test!r}")
    return pvalues


def _shares(pvalues: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(share of defined paths rejecting at 5 %, number of defined paths) per factor.

    A constant path has an undefined statistic (nan p-value): it is left out, not counted as "does not
    reject" (which would let a constant generator match a real series that rarely rejects); with no defined
    path the share is nan and the metric is not run.
    """
    defined = np.isfinite(pvalues)
    count = defined.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(count > 0, ((pvalues < ALPHA) & defined).sum(axis=0) / np.maximum(count, 1), np.nan)
    return share, count


def rejection_share(paths, test: str, nlags: int, *, squared: bool = False) -> np.ndarray:
    """Share of paths whose per-path test rejects at 5 %, per factor (at most PATH_CAP paths; constant paths,
    whose statistic is undefined, left out; nan when every path is constant)."""
    return _shares(_path_pvalues(paths, test, nlags, squared=squared))[0]


# --------------------------------------------------------------------------- raw statistics


def acf_error(synthetic, real, kind: str = "returns", nlags: int | None = None) -> np.ndarray:
    """Mean over lags ``1..L`` of ``|ACF_syn(k) - ACF_real(k)|`` per factor, ``L = min(20, h - 1)``."""
    synthetic, real = _check_pair(synthetic, real, None)
    lags = nlags or _acf_lags(synthetic.shape[1])
    syn = pooled_acf(transform(synthetic, kind), lags)
    ref = pooled_acf(transform(real, kind)[None], lags)
    return np.abs(syn - ref).mean(axis=0)


def leverage_error(synthetic, real, nlags: int | None = None) -> np.ndarray:
    """Mean over ``k = 1..min(10, h - 1)`` of ``|L_syn(k) - L_real(k)|`` per factor."""
    synthetic, real = _check_pair(synthetic, real, None)
    lags = nlags or min(MAX_LEVERAGE_LAG, _acf_lags(synthetic.shape[1]))
    return np.abs(leverage_curve(synthetic, lags) - leverage_curve(real[None], lags)).mean(axis=0)


def rejection_share_gap(synthetic, real, test: str = "ljung_box", *, squared: bool = False) -> np.ndarray:
    """``|share_syn - share_real|`` of per-path 5 % rejections, per factor (real: its horizon windows)."""
    synthetic, real = _check_pair(synthetic, real, None)
    h = synthetic.shape[1]
    if h < MIN_TEST_HORIZON:
        raise ValueError(f"per-path {test} tests need a horizon of at least {MIN_TEST_HORIZON} steps, got {h}")
    lags = path_test_lags(h, test)
    return np.abs(rejection_share(synthetic, test, lags, squared=squared)
                  - rejection_share(real_windows(real, h), test, lags, squared=squared))


# --------------------------------------------------------------------------- wrappers


def _floors(floor, n: int) -> list[Floor | None]:
    if floor is None or isinstance(floor, Floor):
        return [floor] * n
    floors = list(floor)
    if len(floors) != n:
        raise ValueError(f"got {len(floors)} noise floors for {n} factors")
    return floors


def _threshold(name: str, threshold: float | None) -> float:
    return DEFAULT_THRESHOLDS[name] if threshold is None else float(threshold)


def acf_metrics(synthetic, real, factors: Sequence[str], *, kind: str = "returns", threshold: float | None = None,
                floor: Floor | Sequence[Floor] | None = None) -> list[MetricResult]:
    """``acf_returns`` / ``acf_abs_returns`` / ``acf_squared_returns``: one result per factor."""
    synthetic, real = _check_pair(synthetic, real, factors)
    name = {"returns": "acf_returns", "abs": "acf_abs_returns", "squared": "acf_squared_returns"}.get(kind)
    if name is None:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    lags = _acf_lags(synthetic.shape[1])
    syn = pooled_acf(transform(synthetic, kind), lags)
    ref = pooled_acf(transform(real, kind)[None], lags)
    error = np.abs(syn - ref).mean(axis=0)
    return [_undefined(name, factor, syn[:, j], ref[:, j], REFERENCES["acf"], "an autocorrelation")
            or MetricResult(name=name, tier=TIER, value=float(error[j]), threshold=_threshold(name, threshold),
                            direction="max", factor=factor, floor=fl, reference=REFERENCES["acf"],
                            details={"lags": list(range(1, lags + 1)), "synthetic": syn[:, j].tolist(),
                                     "real": ref[:, j].tolist(), "estimator": "pooled within-path ACF (grand mean)"})
            for j, (factor, fl) in enumerate(zip(factors, _floors(floor, len(factors)), strict=True))]


def _undefined(name: str, factor: str, synthetic: np.ndarray, real: np.ndarray, reference: str,
               what: str) -> MetricResult | None:
    """A NOT_RUN row when a correlation curve is undefined on one side (a constant series), else None."""
    if np.isfinite(synthetic).all() and np.isfinite(real).all():
        return None
    side = "the synthetic paths" if not np.isfinite(synthetic).all() else "the real series"
    return MetricResult.skipped(name=name, tier=TIER, factor=factor, reference=reference,
                                reason=f"{side} of {factor} are constant (after the transform): {what} is undefined, "
                                       "so there is no serial dependence to compare")


def ljung_box_metrics(synthetic, real, factors: Sequence[str], *, squared: bool = False,
                      threshold: float | None = None,
                      floor: Floor | Sequence[Floor] | None = None) -> list[MetricResult]:
    """``ljung_box_returns`` / ``ljung_box_squared``: gap in per-path rejection shares, per factor."""
    return _test_metrics("ljung_box", synthetic, real, factors, squared=squared, threshold=threshold, floor=floor)


def arch_lm_metrics(synthetic, real, factors: Sequence[str], *, threshold: float | None = None,
                    floor: Floor | Sequence[Floor] | None = None) -> list[MetricResult]:
    """``arch_lm``: gap in per-path ARCH-LM rejection shares, per factor."""
    return _test_metrics("arch_lm", synthetic, real, factors, squared=False, threshold=threshold, floor=floor)


def _test_metrics(test, synthetic, real, factors, *, squared, threshold, floor) -> list[MetricResult]:
    synthetic, real = _check_pair(synthetic, real, factors)
    name = "arch_lm" if test == "arch_lm" else ("ljung_box_squared" if squared else "ljung_box_returns")
    h = synthetic.shape[1]
    if h < MIN_TEST_HORIZON:
        reason = f"per-path tests need a horizon of at least {MIN_TEST_HORIZON} steps; the scenarios have {h}"
        return [MetricResult.skipped(name=name, tier=TIER, factor=factor, reference=REFERENCES[test], reason=reason,
                                     details={"skipped": reason})
                for factor in factors]
    lags = path_test_lags(h, test)
    windows = real_windows(real, h)
    syn_share, syn_defined = _shares(_path_pvalues(synthetic, test, lags, squared=squared))
    real_share, real_defined = _shares(_path_pvalues(windows, test, lags, squared=squared))
    pooled_lags = _acf_lags(h)
    demeaned = synthetic - synthetic.reshape(-1, synthetic.shape[2]).mean(axis=0)
    series = demeaned * demeaned if (squared or test == "arch_lm") else synthetic
    q, q_p = pooled_box_pierce(series, pooled_lags)
    results = []
    for j, (factor, fl) in enumerate(zip(factors, _floors(floor, len(factors)), strict=True)):
        if not (syn_defined[j] and real_defined[j]):
            side = "synthetic path" if not syn_defined[j] else f"real {h}-day window"
            results.append(MetricResult.skipped(
                name=name, tier=TIER, factor=factor, reference=REFERENCES[test],
                reason=f"every {side} of {factor} is constant: {test.replace('_', '-')} is undefined on a constant "
                       "series, so there is no serial dependence to compare"))
            continue
        column = real[:, j] - real[:, j].mean()
        if test == "arch_lm":
            full = het_arch(column, nlags=lags, result_object=True)
            real_stat, real_p = float(full.lm), float(full.lmpval)
        else:
            lb = acorr_ljungbox(column * column if squared else real[:, j], lags=[pooled_lags])
            real_stat, real_p = float(lb["lb_stat"].iloc[0]), float(lb["lb_pvalue"].iloc[0])
        results.append(MetricResult(
            name=name, tier=TIER, value=float(abs(syn_share[j] - real_share[j])), threshold=_threshold(name, threshold),
            direction="max", pvalue=None, factor=factor, floor=fl, reference=REFERENCES[test],
            details={"per_path_lags": lags, "alpha": ALPHA, "synthetic_rejection_share": float(syn_share[j]),
                     "real_rejection_share": float(real_share[j]), "real_windows": int(windows.shape[0]),
                     "synthetic_paths_tested": int(syn_defined[j]), "real_windows_tested": int(real_defined[j]),
                     "pooled_lags": pooled_lags,
                     "synthetic_pooled_box_pierce": float(q[j]), "synthetic_pooled_pvalue": float(q_p[j]),
                     "real_full_series_stat": real_stat, "real_full_series_pvalue": real_p}))
    return results


def leverage_metrics(synthetic, real, factors: Sequence[str], *, threshold: float | None = None,
                     floor: Floor | Sequence[Floor] | None = None) -> list[MetricResult]:
    """``leverage``: mean |difference| of corr(r_t, |r_{t+k}|), k = 1..min(10, h-1), per factor."""
    synthetic, real = _check_pair(synthetic, real, factors)
    lags = min(MAX_LEVERAGE_LAG, _acf_lags(synthetic.shape[1]))
    syn = leverage_curve(synthetic, lags)
    ref = leverage_curve(real[None], lags)
    error = np.abs(syn - ref).mean(axis=0)
    return [_undefined("leverage", factor, syn[:, j], ref[:, j], REFERENCES["leverage"], "the leverage correlation")
            or MetricResult(name="leverage", tier=TIER, value=float(error[j]),
                            threshold=_threshold("leverage", threshold), direction="max", factor=factor, floor=fl,
                            reference=REFERENCES["leverage"],
                            details={"lags": list(range(1, lags + 1)), "synthetic": syn[:, j].tolist(),
                                     "real": ref[:, j].tolist()})
            for j, (factor, fl) in enumerate(zip(factors, _floors(floor, len(factors)), strict=True))]


def temporal_metrics(synthetic, real, factors: Sequence[str], *, threshold: float | None = None,
                     floor: Floor | Sequence[Floor] | None = None) -> list[MetricResult]:
    """The whole tier with default thresholds (``threshold``/``floor`` apply to every metric when given)."""
    results: list[MetricResult] = []
    for kind in KINDS:
        results += acf_metrics(synthetic, real, factors, kind=kind, threshold=threshold, floor=floor)
    results += ljung_box_metrics(synthetic, real, factors, threshold=threshold, floor=floor)
    results += ljung_box_metrics(synthetic, real, factors, squared=True, threshold=threshold, floor=floor)
    results += arch_lm_metrics(synthetic, real, factors, threshold=threshold, floor=floor)
    results += leverage_metrics(synthetic, real, factors, threshold=threshold, floor=floor)
    return results
