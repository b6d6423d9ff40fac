"""Per-factor margins: GJR-GARCH(1,1)-t filtering plus a semi-parametric (EVT) innovation law.

The two-step "filtered historical simulation with EVT tails" of McNeil & Frey (2000):

1. Each factor's increments are filtered with a GJR-GARCH(1,1) model with Student-t innovations
   (Glosten, Jagannathan & Runkle 1993), fitted by ``arch`` (Sheppard, ``arch_model(vol="GARCH",
   p=1, o=1, q=1, dist="t")``)::

       r_t = mu + eps_t,  eps_t = sqrt(h_t) z_t,
       h_{t+1} = omega + (alpha + gamma 1[eps_t < 0]) eps_t^2 + beta h_t.

   The optimiser is badly conditioned on raw daily increments (variances ~1e-4), so every
   factor is multiplied by ``scale = 1 / std(x)`` before fitting (the scaled series has unit
   variance, the range arch's own ``rescale`` heuristic aims for; for daily equity returns this
   is roughly the textbook x100). Parameters are kept in scaled units; paths are divided by
   ``scale`` on the way out.

2. The standardised residuals z_t = eps_t / sqrt(h_t) get a semi-parametric distribution: the
   (linearly interpolated) empirical CDF in the body and generalised Pareto tails beyond the
   ``q`` / ``1 - q`` quantiles (Pickands-Balkema-de Haan; McNeil & Frey 2000, §2.3; fitted by
   maximum likelihood with ``scipy.stats.genpareto`` on the exceedances, location fixed at 0).

Multi-day paths run the GJR recursion forward from the one-step-ahead conditional variance
h_{T+1}, with innovations z = (F^-1(u) - m) / s, where u comes from the copula, F^-1 is the
semi-parametric quantile function and (m, s) are that law's mean and standard deviation, so the
GARCH innovation has mean 0 and variance 1 as the model requires.

Pure numpy/scipy/arch: no Django, no I/O.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

PARAM_NAMES = ("mu", "omega", "alpha", "gamma", "beta", "nu")
MIN_EXCEEDANCES = 5
# Midpoint quantile grid for the innovation law's mean / variance (a deterministic quadrature).
_MOMENT_GRID = (np.arange(200_000) + 0.5) / 200_000


# ── semi-parametric margin ─────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class SemiParametricMargin:
    """Empirical body + GPD tails (McNeil & Frey 2000).

    knots_x: sorted sample; knot i has probability (i + 1) / (T + 1) (Weibull plotting positions),
    the body CDF interpolates linearly between knots. p_lo / p_hi: tail probabilities at the
    thresholds lo / hi. xi_*, beta_*: GPD shape and scale of the exceedances below lo / above hi.
    """

    knots_x: np.ndarray
    p_lo: float
    p_hi: float
    lo: float
    hi: float
    xi_lo: float
    beta_lo: float
    xi_hi: float
    beta_hi: float

    @property
    def knots_p(self) -> np.ndarray:
        size = self.knots_x.shape[0]
        return np.arange(1, size + 1, dtype=np.float64) / (size + 1)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return margin_cdf(self, x)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return margin_ppf(self, u)

    def to_array(self) -> np.ndarray:
        """The 8 scalars as one row (knots are stored separately)."""
        return np.array([self.p_lo, self.p_hi, self.lo, self.hi, self.xi_lo, self.beta_lo, self.xi_hi, self.beta_hi])

    @classmethod
    def from_array(cls, knots_x: np.ndarray, row: np.ndarray) -> SemiParametricMargin:
        p_lo, p_hi, lo, hi, xi_lo, beta_lo, xi_hi, beta_hi = (float(v) for v in row)
        return cls(np.asarray(knots_x, dtype=np.float64), p_lo, p_hi, lo, hi, xi_lo, beta_lo, xi_hi, beta_hi)


def _gpd_sf(y: np.ndarray, xi: float, beta: float) -> np.ndarray:
    """GPD survival function for y >= 0 (closed form, Embrechts et al. 1997, eq. 3.4.9)."""
    if abs(xi) < 1e-12:
        return np.exp(-y / beta)
    base = np.maximum(1.0 + xi * y / beta, 0.0)
    with np.errstate(divide="ignore"):
        return base ** (-1.0 / xi)


def _gpd_isf(q: np.ndarray, xi: float, beta: float) -> np.ndarray:
    """Inverse GPD survival function: y with sf(y) = q, q in (0, 1]."""
    if abs(xi) < 1e-12:
        return -beta * np.log(q)
    return beta / xi * (q ** (-xi) - 1.0)


def fit_gpd(exceedances: np.ndarray) -> tuple[float, float]:
    """ML fit of a GPD (location 0) to positive exceedances; returns (xi, beta)."""
    exceedances = np.asarray(exceedances, dtype=np.float64)
    if exceedances.ndim != 1 or exceedances.size < MIN_EXCEEDANCES:
        raise ValueError(f"need at least {MIN_EXCEEDANCES} tail exceedances for a GPD fit, got {exceedances.size}")
    if not np.all(np.isfinite(exceedances)) or np.any(exceedances < 0):
        raise ValueError("GPD exceedances must be finite and non-negative")
    if np.ptp(exceedances) == 0:
        raise ValueError("GPD exceedances are all equal; the tail is degenerate")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        xi, _, beta = stats.genpareto.fit(exceedances, floc=0.0)
    return float(xi), float(beta)


def fit_margin(z: np.ndarray, tail_quantile: float = 0.1) -> SemiParametricMargin:
    """Fit the semi-parametric law to a 1-D sample (standardised residuals)."""
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 1:
        raise ValueError(f"margin sample must be 1-D, got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("margin sample has non-finite values")
    if not (0.0 < tail_quantile < 0.5):
        raise ValueError(f"tail_quantile must lie in (0, 0.5), got {tail_quantile}")
    knots_x = np.sort(z)
    knots_p = np.arange(1, z.size + 1, dtype=np.float64) / (z.size + 1)
    if tail_quantile <= knots_p[0]:
        raise ValueError(f"tail_quantile {tail_quantile} is below the smallest plotting position of {z.size} rows")
    p_lo, p_hi = float(tail_quantile), float(1.0 - tail_quantile)
    lo, hi = float(np.interp(p_lo, knots_p, knots_x)), float(np.interp(p_hi, knots_p, knots_x))
    xi_lo, beta_lo = fit_gpd(lo - knots_x[knots_x < lo])
    xi_hi, beta_hi = fit_gpd(knots_x[knots_x > hi] - hi)
    return SemiParametricMargin(knots_x, p_lo, p_hi, lo, hi, xi_lo, beta_lo, xi_hi, beta_hi)


def margin_cdf(margin: SemiParametricMargin, x: np.ndarray) -> np.ndarray:
    """Vectorised CDF: GPD below lo, interpolated ECDF on [lo, hi], GPD above hi."""
    x = np.asarray(x, dtype=np.float64)
    out = np.interp(x, margin.knots_x, margin.knots_p)
    low, high = x < margin.lo, x > margin.hi
    if low.any():
        out[low] = margin.p_lo * _gpd_sf(margin.lo - x[low], margin.xi_lo, margin.beta_lo)
    if high.any():
        out[high] = 1.0 - (1.0 - margin.p_hi) * _gpd_sf(x[high] - margin.hi, margin.xi_hi, margin.beta_hi)
    return out


def margin_ppf(margin: SemiParametricMargin, u: np.ndarray) -> np.ndarray:
    """Vectorised quantile function, the inverse of ``margin_cdf`` on (0, 1)."""
    u = np.asarray(u, dtype=np.float64)
    out = np.interp(u, margin.knots_p, margin.knots_x)
    low, high = u < margin.p_lo, u > margin.p_hi
    if low.any():
        out[low] = margin.lo - _gpd_isf(u[low] / margin.p_lo, margin.xi_lo, margin.beta_lo)
    if high.any():
        out[high] = margin.hi + _gpd_isf((1.0 - u[high]) / (1.0 - margin.p_hi), margin.xi_hi, margin.beta_hi)
    return out


def margin_moments(margin: SemiParametricMargin) -> tuple[float, float]:
    """Mean and standard deviation of the law by midpoint quadrature over its quantile function.

    The grid stops at probability 2.5e-6 from either end, so a GPD tail with xi >= 0.5 (infinite
    variance) still gives a finite, usable scale.
    """
    values = margin_ppf(margin, _MOMENT_GRID)
    return float(values.mean()), float(values.std())


# ── GJR-GARCH(1,1)-t ───────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class GarchFit:
    """One factor's filter. ``params`` in scaled units, order PARAM_NAMES."""

    params: np.ndarray
    scale: float
    h_next: float
    std_resid: np.ndarray
    convergence_flag: int
    h: np.ndarray  # in-sample conditional variances h_1..h_T (scaled units)


def fourth_moment_factor(params: np.ndarray) -> float:
    """kappa = E[((alpha + gamma 1[z<0]) z^2 + beta)^2] under the fitted standardised Student-t law.

    The GJR-GARCH(1,1) process has a finite fourth moment iff kappa < 1 (Ling & McAleer 2002,
    "Stationarity and the existence of moments of a family of GARCH processes", J. Econometrics
    106:109-117; for symmetric z: E[1[z<0] z^2] = 1/2, E[1[z<0] z^4] = E[z^4]/2, and the
    standardised t has E[z^4] = 3 (nu - 2) / (nu - 4), infinite for nu <= 4). With kappa >= 1 the
    simulated paths have no kurtosis: a sample kurtosis of many multi-day paths grows without bound.
    """
    _, _, alpha, gamma, beta, nu = (float(v) for v in params)
    m4 = 3.0 * (nu - 2.0) / (nu - 4.0) if nu > 4.0 else np.inf
    return beta * beta + 2.0 * beta * (alpha + gamma / 2.0) + (alpha * alpha + alpha * gamma + gamma * gamma / 2.0) * m4


def fit_gjr_garch(x: np.ndarray, *, max_fourth_moment_factor: float | None = None) -> GarchFit:
    """Fit GJR-GARCH(1,1) with Student-t innovations and a constant mean to a 1-D series.

    ``max_fourth_moment_factor`` (e.g. 0.99): when the maximum-likelihood estimate has
    ``fourth_moment_factor >= `` that bound, the likelihood is maximised again under the constraint
    ``fourth_moment_factor(params) <= bound`` (SLSQP on arch's log-likelihood with the parameters
    fixed), so the fitted process has a finite fourth moment.
    """
    from arch import arch_model

    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"GARCH input must be 1-D, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("GARCH input has non-finite values")
    std = float(x.std())
    if not std > 0:
        raise ValueError("GARCH input is constant; a volatility model cannot be fitted")
    if max_fourth_moment_factor is not None and not 0.0 < max_fourth_moment_factor < 1.0:
        raise ValueError(f"max_fourth_moment_factor must lie in (0, 1), got {max_fourth_moment_factor}")
    scale = 1.0 / std
    model = arch_model(x * scale, mean="Constant", vol="GARCH", p=1, o=1, q=1, dist="t", rescale=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.fit(disp="off", show_warning=False)
        values = result.params
        params = np.array([values["mu"], values["omega"], values["alpha[1]"], values["gamma[1]"],
                           values["beta[1]"], values["nu"]], dtype=np.float64)
        flag = int(result.convergence_flag)
        if max_fourth_moment_factor is not None and fourth_moment_factor(params) > max_fourth_moment_factor:
            params, flag = _constrained_fit(model, params, max_fourth_moment_factor)
            result = model.fix(params)
    h = np.asarray(result.conditional_volatility, dtype=np.float64) ** 2
    eps = x * scale - params[0]
    mu, omega, alpha, gamma, beta, _ = params
    h_next = float(omega + (alpha + gamma * (eps[-1] < 0)) * eps[-1] ** 2 + beta * h[-1])
    return GarchFit(params=params, scale=scale, h_next=h_next, std_resid=eps / np.sqrt(h),
                    convergence_flag=flag, h=h)


def _constrained_fit(model, start: np.ndarray, bound: float) -> tuple[np.ndarray, int]:
    """Maximum likelihood subject to ``fourth_moment_factor <= bound`` (and nu > 4, where it is finite).

    Start: the free estimate with its shock loadings (alpha, gamma) shrunk by the largest factor that
    meets the bound, beta raised to keep the persistence alpha + gamma/2 + beta (so the unconditional
    variance is unchanged); then SLSQP. The better feasible point of the two is returned.
    """
    from scipy import optimize

    base = start.copy()
    base[5] = max(base[5], 5.0)
    persistence = base[2] + base[3] / 2 + base[4]

    def shrunk(lam: float) -> np.ndarray:
        p = base.copy()
        p[2:4] = base[2:4] * lam
        p[4] = persistence - p[2] - p[3] / 2
        return p

    lo, hi = 0.0, 1.0  # bisection on the shrink factor: kappa is increasing in it along this path
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if fourth_moment_factor(shrunk(mid)) <= bound else (lo, mid)
    first = shrunk(lo)

    def nll(p: np.ndarray) -> float:
        return -float(model.fix(p).loglikelihood)

    bounds = [(None, None), (1e-10, None), (0.0, 1.0), (0.0, 1.0), (0.0, 1.0), (4.05, 500.0)]
    candidates = [(nll(first), first, 0)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        slsqp = optimize.minimize(nll, first, method="SLSQP", bounds=bounds, options={"maxiter": 300, "ftol": 1e-10},
                                  constraints=[{"type": "ineq", "fun": lambda p: bound - fourth_moment_factor(p)},
                                               {"type": "ineq", "fun": lambda p: 0.999999 - (p[2] + p[3] / 2 + p[4])}])
        # SLSQP's line search can stall on this likelihood; the trust-region method is the fallback.
        trust = optimize.minimize(nll, first, method="trust-constr", bounds=bounds, options={"maxiter": 2000},
                                  constraints=[optimize.NonlinearConstraint(fourth_moment_factor, -np.inf, bound)])
    for out in (slsqp, trust):
        params = np.asarray(out.x, dtype=np.float64)
        if np.isfinite(params).all() and fourth_moment_factor(params) <= bound * (1 + 1e-6):
            candidates.append((nll(params), params, 0 if out.success else int(out.status) or 1))
    _, params, flag = min(candidates, key=lambda c: c[0])
    return params, flag


def simulate_gjr(params: np.ndarray, h_start: np.ndarray, innovations: np.ndarray) -> np.ndarray:
    """Run the GJR-GARCH recursion forward (scaled units).

    params: [F, 6] (PARAM_NAMES order); h_start: [F] or [n, F] first-day conditional variance;
    innovations: [n, horizon, F] with mean 0, variance 1. Returns increments [n, horizon, F].
    """
    params = np.asarray(params, dtype=np.float64)
    mu, omega, alpha, gamma, beta = (params[:, k] for k in range(5))
    n, horizon, n_factors = innovations.shape
    out = np.empty_like(innovations, dtype=np.float64)
    h = np.broadcast_to(np.asarray(h_start, dtype=np.float64), (n, n_factors)).copy()
    for t in range(horizon):
        eps = np.sqrt(h) * innovations[:, t, :]
        out[:, t, :] = mu + eps
        if t + 1 < horizon:
            h = omega + (alpha + gamma * (eps < 0)) * eps * eps + beta * h
    return out
