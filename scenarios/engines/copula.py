"""GARCH-EVT-copula engine: GJR-GARCH-t filtered margins with EVT tails, joined by a copula.

Model (McNeil & Frey 2000 for the margins, see ``garch_evt``; the copula step as in
McNeil, Frey & Embrechts, *Quantitative Risk Management*, 2015, ch. 7):

* margins: each factor is filtered by a GJR-GARCH(1,1)-t; its standardised residuals get a
  semi-parametric law (empirical body, generalised Pareto tails beyond ``tail_quantile``);
* dependence: a copula fitted to the pseudo-observations U = rank / (T + 1) of the standardised
  residuals (Genest, Ghoudi & Rivest 1995, the canonical maximum-likelihood / rank approach):

  - ``"gaussian"``: correlation of the normal scores Phi^-1(U) (van der Waerden scores);
  - ``"student_t"``: correlation from Kendall's tau, rho = sin(pi tau / 2), then the degrees of
    freedom nu by profile maximum likelihood over nu with rho fixed (Lindskog, McNeil & Schmock
    2003; Demarta & McNeil 2005, §5);
  - ``"vine"``: a regular vine (Dissmann et al. 2013 tree selection) fitted by pyvinecopulib.

Sampling: innovations for n x horizon days are drawn from the copula, mapped through the
semi-parametric quantile functions (standardised to mean 0, variance 1) and fed to the GJR
recursion started at the one-step-ahead conditional variance h_{T+1}.

Fast path (Gaussian / t): the latent vector is Y = L Z (one Cholesky factor L, computed once) or
Y = L Z / sqrt(W / nu) with W ~ chi2(nu); each coordinate's map y -> F_j^-1(G(y)) (G the
latent N(0,1) or t_nu CDF) is monotone and one-dimensional, so it is tabulated once per call on a
uniform grid covering the latent quantiles [1e-6, 1 - 1e-6] and applied by linear interpolation
with index arithmetic (no binary search, no special functions in the hot loop); the rare points
outside the grid are evaluated exactly. Work is done in row chunks that fit in cache.

Starting variance (``Config.start_variance``): ``"last"`` (default) starts every path at
h_{T+1}, scenarios conditional on the end of the training window; ``"historical"`` starts each
path at the one-step-ahead variance of a uniformly drawn in-sample day (the same day for all
factors), an unconditional generator whose one-day margins mix over volatility regimes and so
reproduce the unconditional fat tails (filtered historical simulation, Barone-Adesi et al. 1999).

Conditioning (``Config.stress_vol``), with m = the condition's effective volatility multiplier:

* ``"persistent"`` (default): the starting variance h_{T+1} *and* omega are multiplied by m^2.
  The GJR recursion is homogeneous of degree one in (omega, h), so every day's conditional
  volatility is exactly m times the unstressed one (the severity's definition), while the
  conditional mean mu is left alone.
* ``"decaying"``: only h_{T+1} is multiplied by m^2: a volatility shock on day one that decays
  back to the long-run level with GARCH persistence alpha + gamma/2 + beta.
* ``"generic"``: ``base.apply_condition`` (scale deviations from the per-step mean).

Targets (explicit or severity-implied equity drawdowns) are then applied with
``base.apply_condition`` (a drift so that the median cumulative move hits the target).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize, special, stats

from scenarios.engines import garch_evt
from scenarios.engines.base import Condition, FittedState, apply_condition, check_sample_args, check_train

ENGINE = "garch_evt_copula"
FAMILIES = ("gaussian", "student_t", "vine")
STRESS_VOL = ("persistent", "decaying", "generic")
START_VARIANCE = ("last", "historical")
MIN_ROWS = 100
_TABLE_TAIL = 1e-6  # latent quantile where the interpolation table stops; beyond it: exact evaluation
_U_CLIP = 1e-12


@dataclass(frozen=True)
class Config:
    family: str = "gaussian"
    tail_quantile: float = 0.1
    nu_bounds: tuple[float, float] = (2.05, 100.0)
    vine_families: tuple[str, ...] = ("gaussian", "student", "clayton", "gumbel", "frank", "joe")
    vine_trunc_lvl: int | None = None
    stress_vol: str = "persistent"
    start_variance: str = "last"
    table_size: int = 16384
    chunk_rows: int = 4096
    # "gjr_garch": filter each factor (volatility clustering, multi-day paths); "none": a static copula
    # on the raw increments (iid days) — the like-for-like comparison with plain copula libraries.
    volatility_filter: str = "gjr_garch"
    # Refit the GJR filter under E[((a + g 1[z<0]) z^2 + b)^2] <= this bound when the free fit exceeds it,
    # so paths have a finite kurtosis (garch_evt.fourth_moment_factor); None: the free fit.
    max_fourth_moment_factor: float | None = None

    def __post_init__(self) -> None:
        bound = self.max_fourth_moment_factor
        if bound is not None and not (isinstance(bound, int | float) and 0.0 < bound < 1.0):
            raise ValueError(f"max_fourth_moment_factor must lie in (0, 1) or be null, got {bound!r}")
        if self.volatility_filter not in ("gjr_garch", "none"):
            raise ValueError(f"volatility_filter must be 'gjr_garch' or 'none', got {self.volatility_filter!r}")
        if self.family not in FAMILIES:
            raise ValueError(f"unknown copula family {self.family!r}; use one of {', '.join(FAMILIES)}")
        if not (0.0 < self.tail_quantile < 0.5):
            raise ValueError(f"tail_quantile must lie in (0, 0.5), got {self.tail_quantile}")
        low, high = self.nu_bounds
        if not (2.0 < low < high):
            raise ValueError(f"nu_bounds must satisfy 2 < low < high, got {self.nu_bounds}")
        if self.stress_vol not in STRESS_VOL:
            raise ValueError(f"unknown stress_vol {self.stress_vol!r}; use one of {', '.join(STRESS_VOL)}")
        if self.start_variance not in START_VARIANCE:
            raise ValueError(f"unknown start_variance {self.start_variance!r}; use one of {', '.join(START_VARIANCE)}")
        if self.vine_trunc_lvl is not None and self.vine_trunc_lvl < 1:
            raise ValueError("vine_trunc_lvl must be >= 1 or None")
        if self.table_size < 256 or self.chunk_rows < 1:
            raise ValueError("table_size must be >= 256 and chunk_rows >= 1")
        if self.family == "vine":
            import pyvinecopulib as pv

            unknown = [name for name in self.vine_families if not hasattr(pv.BicopFamily, name)]
            if unknown or not self.vine_families:
                raise ValueError(f"unknown or empty vine families {unknown or list(self.vine_families)}")

    @classmethod
    def from_dict(cls, data: dict) -> Config:
        data = dict(data)
        data["nu_bounds"] = tuple(data.get("nu_bounds", (2.05, 100.0)))
        data["vine_families"] = tuple(data.get("vine_families", cls.vine_families))
        return cls(**data)


# ── copula fitting ─────────────────────────────────────────────────────────────────────────
def pseudo_observations(x: np.ndarray) -> np.ndarray:
    """Column-wise ranks / (T + 1) (average ranks for ties), in (0, 1)."""
    x = np.asarray(x, dtype=np.float64)
    return stats.rankdata(x, axis=0) / (x.shape[0] + 1)


def nearest_correlation(matrix: np.ndarray, floor: float = 1e-8) -> np.ndarray:
    """Symmetric, eigenvalues clipped at ``floor``, rescaled to unit diagonal (a cheap PD repair)."""
    sym = (matrix + matrix.T) / 2
    values, vectors = np.linalg.eigh(sym)
    fixed = (vectors * np.maximum(values, floor)) @ vectors.T
    d = np.sqrt(np.diag(fixed))
    out = fixed / np.outer(d, d)
    np.fill_diagonal(out, 1.0)
    return out


def fit_gaussian_copula(u: np.ndarray) -> np.ndarray:
    """Correlation of the normal scores (the Gaussian copula's rank-based MLE surrogate)."""
    scores = special.ndtri(np.clip(u, _U_CLIP, 1 - _U_CLIP))
    return nearest_correlation(np.atleast_2d(np.corrcoef(scores, rowvar=False)))


def kendall_tau_matrix(u: np.ndarray) -> np.ndarray:
    n_factors = u.shape[1]
    tau = np.eye(n_factors)
    for i in range(n_factors):
        for j in range(i + 1, n_factors):
            tau[i, j] = tau[j, i] = stats.kendalltau(u[:, i], u[:, j]).statistic
    return tau


def t_copula_loglik(u: np.ndarray, corr: np.ndarray, nu: float) -> float:
    """Log-likelihood of the t copula (Demarta & McNeil 2005, eq. 5) at pseudo-observations u."""
    d = u.shape[1]
    x = special.stdtrit(nu, np.clip(u, _U_CLIP, 1 - _U_CLIP))
    chol = np.linalg.cholesky(corr)
    solved = np.linalg.solve(chol, x.T)
    quad = np.sum(solved * solved, axis=0)
    logdet = 2.0 * np.sum(np.log(np.diag(chol)))
    joint = (special.gammaln((nu + d) / 2) - special.gammaln(nu / 2) - d / 2 * np.log(nu * np.pi) - logdet / 2
             - (nu + d) / 2 * np.log1p(quad / nu))
    margins = stats.t.logpdf(x, df=nu).sum(axis=1)
    return float(np.sum(joint - margins))


def fit_t_copula(u: np.ndarray, nu_bounds: tuple[float, float] = (2.05, 100.0)) -> tuple[np.ndarray, float]:
    """rho = sin(pi tau / 2) from Kendall's tau, then nu by 1-D profile MLE on log nu."""
    corr = nearest_correlation(np.sin(np.pi * kendall_tau_matrix(u) / 2))
    result = optimize.minimize_scalar(lambda log_nu: -t_copula_loglik(u, corr, float(np.exp(log_nu))),
                                      bounds=(np.log(nu_bounds[0]), np.log(nu_bounds[1])), method="bounded",
                                      options={"xatol": 1e-4})
    return corr, float(np.exp(result.x))


def fit_vine_copula(u: np.ndarray, config: Config) -> str:
    import pyvinecopulib as pv

    kwargs = {"family_set": [getattr(pv.BicopFamily, name) for name in config.vine_families], "num_threads": 1}
    if config.vine_trunc_lvl is not None:
        kwargs["trunc_lvl"] = int(config.vine_trunc_lvl)
    vine = pv.Vinecop.from_data(np.asfortranarray(np.clip(u, _U_CLIP, 1 - _U_CLIP)),
                                controls=pv.FitControlsVinecop(**kwargs))
    return str(vine.to_json())


# ── fit ────────────────────────────────────────────────────────────────────────────────────
def _no_filter(x: np.ndarray) -> garch_evt.GarchFit:
    """The identity filter as GJR parameters: constant unit variance (ω = 1, α = γ = β = 0) in scaled
    units, so sampling runs the same recursion and yields iid days with the raw margins."""
    std = float(x.std())
    if not std > 0:
        raise ValueError("input is constant")
    scale = 1.0 / std
    mu = float(x.mean() * scale)
    params = np.array([mu, 1.0, 0.0, 0.0, 0.0, np.inf])
    return garch_evt.GarchFit(params=params, scale=scale, h_next=1.0, std_resid=x * scale - mu,
                              convergence_flag=0, h=np.ones_like(x))


def fit(train: np.ndarray, factors: Sequence[str], config: Config, kinds: Sequence[str] | None = None) -> FittedState:
    if not isinstance(config, Config):
        raise ValueError(f"config must be a copula.Config, got {type(config).__name__}")
    array = check_train(train, factors, min_rows=MIN_ROWS)
    if kinds is not None and len(kinds) != len(factors):
        raise ValueError(f"{len(kinds)} kinds but {len(factors)} factors")
    n_factors = array.shape[1]
    params = np.empty((n_factors, 6))
    scales, h_next = np.empty(n_factors), np.empty(n_factors)
    resid, h_hist = np.empty_like(array), np.empty_like(array)
    tails, moments = np.empty((n_factors, 8)), np.empty((n_factors, 2))
    flags = []
    for j in range(n_factors):
        try:
            garch = (garch_evt.fit_gjr_garch(array[:, j], max_fourth_moment_factor=config.max_fourth_moment_factor)
                     if config.volatility_filter == "gjr_garch"
                     else _no_filter(array[:, j]))
            margin = garch_evt.fit_margin(garch.std_resid, config.tail_quantile)
        except ValueError as error:
            raise ValueError(f"factor {factors[j]!r}: {error}") from error
        params[j], scales[j], h_next[j], resid[:, j] = garch.params, garch.scale, garch.h_next, garch.std_resid
        flags.append(garch.convergence_flag)
        h_hist[:, j] = np.append(garch.h[1:], garch.h_next)
        tails[j] = margin.to_array()
        moments[j] = garch_evt.margin_moments(margin)
    knots = np.sort(resid, axis=0).T.copy()
    u = pseudo_observations(resid)
    arrays = {"garch_params": params, "scale": scales, "h_next": h_next, "margin_knots": knots,
              "margin_tails": tails, "innovation_moments": moments, "h_hist": h_hist}
    meta: dict = {"garch_convergence_flags": flags, "n_train": int(array.shape[0]),
                  "garch_param_names": list(garch_evt.PARAM_NAMES)}
    if config.family == "gaussian":
        arrays["corr"] = fit_gaussian_copula(u)
    elif config.family == "student_t":
        arrays["corr"], nu = fit_t_copula(u, config.nu_bounds)
        arrays["nu"] = np.array([nu])
        meta["nu"] = nu
    else:
        meta["vine_json"] = fit_vine_copula(u, config)
    config_dict = asdict(config)
    config_dict["nu_bounds"] = list(config.nu_bounds)
    config_dict["vine_families"] = list(config.vine_families)
    return FittedState(engine=ENGINE, config=config_dict, factors=list(factors), arrays=arrays, meta=meta,
                       kinds=list(kinds) if kinds is not None else None)


# ── sampling ───────────────────────────────────────────────────────────────────────────────
def margins_from_state(state: FittedState) -> list[garch_evt.SemiParametricMargin]:
    return [garch_evt.SemiParametricMargin.from_array(knots, row)
            for knots, row in zip(state.arrays["margin_knots"], state.arrays["margin_tails"], strict=True)]


def _latent_cdf(y: np.ndarray, nu: float | None) -> np.ndarray:
    return special.ndtr(y) if nu is None else special.stdtr(nu, y)


def _exact_innovations(y: np.ndarray, nu: float | None, margins, moments: np.ndarray, columns: np.ndarray):
    """Exact y -> (F_j^-1(G(y)) - m_j) / s_j for scattered points (column index per point)."""
    u = np.clip(_latent_cdf(y, nu), _U_CLIP, 1 - _U_CLIP)
    out = np.empty_like(y)
    for j in np.unique(columns):
        pick = columns == j
        out[pick] = (garch_evt.margin_ppf(margins[j], u[pick]) - moments[j, 0]) / moments[j, 1]
    return out


class _Table:
    """Per-factor lookup of y -> standardised innovation on a uniform latent grid.

    Stored interleaved as [F * size, 2] = (value at node, slope to the next node), so one gather
    fetches both; the grid covers the latent quantiles [_TABLE_TAIL, 1 - _TABLE_TAIL].
    """

    def __init__(self, margins, moments: np.ndarray, nu: float | None, size: int) -> None:
        edge = -float(special.ndtri(_TABLE_TAIL) if nu is None else special.stdtrit(nu, _TABLE_TAIL))
        self.lo, self.size = -edge, size
        self.step = 2 * edge / (size - 1)
        grid = self.lo + self.step * np.arange(size)
        u = np.clip(_latent_cdf(grid, nu), _U_CLIP, 1 - _U_CLIP)
        values = np.stack([(garch_evt.margin_ppf(m, u) - moments[j, 0]) / moments[j, 1]
                           for j, m in enumerate(margins)])  # [F, size]
        slopes = np.diff(values, axis=1, append=values[:, -1:])
        self.table = np.stack([values.ravel(), slopes.ravel()], axis=1)
        self.offsets = np.arange(len(margins), dtype=np.intp) * size
        self.nu, self.margins, self.moments = nu, margins, moments

    def apply(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Transform y [m, F] in place; return (rows, cols, latent values) of the points outside
        the grid, which the caller evaluates exactly with ``exact``."""
        pos = y - self.lo
        pos *= 1.0 / self.step
        if pos.min() < 0 or pos.max() > self.size - 1:  # two cheap reductions; most chunks skip this
            outside_rows, outside_cols = np.nonzero((pos < 0) | (pos > self.size - 1))
        else:
            outside_rows = outside_cols = np.empty(0, dtype=np.intp)
        latent = y[outside_rows, outside_cols]
        np.clip(pos, 0, self.size - 1, out=pos)
        index = pos.astype(np.intp)
        np.minimum(index, self.size - 2, out=index)
        pos -= index
        index += self.offsets
        gathered = self.table.take(index, axis=0)
        np.multiply(gathered[..., 1], pos, out=y)
        y += gathered[..., 0]
        return outside_rows, outside_cols, latent

    def exact(self, latent: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return _exact_innovations(latent, self.nu, self.margins, self.moments, cols)


def _innovations(state: FittedState, config: Config, rows: int, rng: np.random.Generator) -> np.ndarray:
    """[rows, F] standardised innovations drawn from the fitted copula and margins."""
    margins = margins_from_state(state)
    moments = state.arrays["innovation_moments"]
    n_factors = len(margins)
    out = np.empty((rows, n_factors))
    chunk = config.chunk_rows
    if config.family == "vine":
        import pyvinecopulib as pv

        vine = pv.Vinecop.from_json(state.meta["vine_json"])
        for start in range(0, rows, chunk):
            stop = min(start + chunk, rows)
            u = np.clip(vine.inverse_rosenblatt(np.asfortranarray(rng.random((stop - start, n_factors)))),
                        _U_CLIP, 1 - _U_CLIP)
            for j, margin in enumerate(margins):
                out[start:stop, j] = (garch_evt.margin_ppf(margin, u[:, j]) - moments[j, 0]) / moments[j, 1]
        return out
    nu = float(state.arrays["nu"][0]) if config.family == "student_t" else None
    chol_t = np.ascontiguousarray(np.linalg.cholesky(state.arrays["corr"]).T)
    table = _Table(margins, moments, nu, config.table_size)
    z = np.empty((chunk, n_factors))
    outside_rows, outside_cols, outside_latent = [], [], []
    for start in range(0, rows, chunk):
        stop = min(start + chunk, rows)
        block = z[: stop - start]
        rng.standard_normal(out=block)
        y = out[start:stop]
        np.matmul(block, chol_t, out=y)
        if nu is not None:
            y *= np.sqrt(nu / rng.chisquare(nu, size=stop - start))[:, None]
        r, c, latent = table.apply(y)
        if r.size:
            outside_rows.append(r + start)
            outside_cols.append(c)
            outside_latent.append(latent)
    if outside_rows:  # the rare far-tail points, evaluated exactly in one pass
        r, c = np.concatenate(outside_rows), np.concatenate(outside_cols)
        out[r, c] = table.exact(np.concatenate(outside_latent), c)
    return out


def sample(state: FittedState, n: int, horizon: int, condition: Condition | None,
           rng: np.random.Generator) -> np.ndarray:
    """Scenarios [n, horizon, F] of increments in the training data's units."""
    if not isinstance(state, FittedState) or state.engine != ENGINE:
        raise ValueError(f"state is not a {ENGINE} state")
    check_sample_args(n, horizon)
    if condition is not None and not isinstance(condition, Condition):
        raise ValueError(f"condition must be a Condition or None, got {type(condition).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    config = Config.from_dict(state.config)
    n_factors = len(state.factors)
    innovations = _innovations(state, config, int(n) * int(horizon), rng).reshape(n, horizon, n_factors)
    params = state.arrays["garch_params"].copy()
    if config.start_variance == "historical":
        # One in-sample day per path, all factors together (keeps the cross-section of volatility).
        h_start = state.arrays["h_hist"][rng.integers(0, state.arrays["h_hist"].shape[0], size=n)]
    else:
        h_start = state.arrays["h_next"].copy()
    mult = condition.effective_vol_multiplier if condition is not None else 1.0
    if config.stress_vol in ("persistent", "decaying"):
        h_start *= mult**2
        if config.stress_vol == "persistent":
            params[:, 1] *= mult**2
    scale = state.arrays["scale"]
    if horizon == 1:  # in place, two passes: no second [n, 1, F] buffer
        paths = innovations
        paths *= (np.sqrt(h_start) / scale).reshape(-1, 1, n_factors)
        paths += params[:, 0] / scale
    else:
        paths = garch_evt.simulate_gjr(params, h_start, innovations)
        paths /= scale
    if condition is None:
        return paths
    if config.stress_vol == "generic":
        return apply_condition(paths, condition, state.factors, state.kinds)
    targets_only = Condition(severity=condition.severity, vol_multiplier=1.0, targets=condition.targets,
                             extra=condition.extra)
    return apply_condition(paths, targets_only, state.factors, state.kinds)
