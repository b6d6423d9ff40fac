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


def fit_gjr_garch(x: np.ndarray) -> GarchFit:
    """Fit GJR-GARCH(1,1) with Student-t innovations and a constant mean to a 1-D series."""
    from arch import arch_model

    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"GARCH input must be 1-D, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("GARCH input has non-finite values")
    std = float(x.std())
    if not std > 0:
        raise ValueError("GARCH input is constant; a volatility model cannot be fitted")
    scale = 1.0 / std
    model = arch_model(x * scale, mean="Constant", vol="GARCH", p=1, o=1, q=1, dist="t", rescale=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.fit(disp="off", show_warning=False)
    values = result.params
    params = np.array([values["mu"], values["omega"], values["alpha[1]"], values["gamma[1]"], values["beta[1]"],
                       values["nu"]], dtype=np.float64)
    h = np.asarray(result.conditional_volatility, dtype=np.float64) ** 2
    eps = x * scale - params[0]
    mu, omega, alpha, gamma, beta, _ = params
    h_next = float(omega + (alpha + gamma * (eps[-1] < 0)) * eps[-1] ** 2 + beta * h[-1])
    return GarchFit(params=params, scale=scale, h_next=h_next, std_resid=eps / np.sqrt(h),
                    convergence_flag=int(result.convergence_flag), h=h)


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
