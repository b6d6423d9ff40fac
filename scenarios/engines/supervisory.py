"""Supervisory-path engine: daily market-factor paths consistent with a Fed quarterly scenario.

The Federal Reserve's supervisory scenarios (baseline, severely adverse) are quarterly macro paths
(see :mod:`scenarios.engines.fed_tables`). This engine translates such a path into daily paths of
the platform's market factors in two steps.

1. **Quarterly translation (fit).** Each factor's quarterly aggregate — the sum of its daily
   increments over the calendar quarter (a quarterly log-return for prices, a level change for
   rates) — is regressed by OLS (statsmodels) on quarterly *drivers* built from the Fed's historic
   table over the quarters both cover::

       y_{j,q} = a_j + b_j' x_q + e_{j,q},      Cov(e_q) = Sigma_e

   The drivers follow the factor's risk class: equity ↔ quarterly log change of the Dow Jones Total
   Stock Market Index; volatility ↔ change of the Market Volatility Index; rates ↔ changes of the
   10-year and 3-month Treasury yields; credit ↔ change of the BBB-minus-10-year spread (and of the
   10-year); anything without a direct Fed variable (commodity, fx, macro, other — e.g. oil) ↔ a
   regression on a broad set (equity, VIX, 10-year, BBB spread, real GDP growth). ``Config.driver_map``
   overrides the choice per factor. The OLS slopes calibrate units (percent vs decimal, S&P 500 vs
   Dow Jones), so no unit conversion is hard-coded.

2. **Daily paths (sample).** For a scenario path the quarterly targets are ``a + B x_q`` (plus, by
   default, a draw of the residual ``e ~ N(0, Sigma_e)`` per scenario, the part of the factor the Fed
   variables do not explain). Daily noise is drawn per quarter — Gaussian with the training daily
   covariance, or bootstrapped training days — scaled by the scenario's VIX relative to its mean over
   the fitted quarters, and then corrected within each quarter so that its sum equals the target:

       x_t = z_t - mean(z) + S / d,      t = 1..d

   For i.i.d. Gaussian increments this is exactly the conditional law of the increments given their
   sum (z - mean(z) is independent of mean(z)): the discrete Brownian bridge, i.e. conditional
   simulation of a random walk given its endpoint (Glasserman, *Monte Carlo Methods in Financial
   Engineering*, 2004, §3.1; Karatzas & Shreve, *Brownian Motion and Stochastic Calculus*, §5.6.B).
   For bootstrapped days it is the same linear correction, an approximation.

The horizon is ``quarters × trading_days_per_quarter`` (63 by default) or shorter (truncated; the
last, partial quarter then does not reach its target). The scenario path travels JSON-able in
``Condition.extra["fed_path"]``::

    {"quarters": ["2025 Q1", ...],
     "variables": {"Dow Jones Total Stock Market Index (Level)": [34508.6, ...], ...},
     "jump_off": {"quarter": "2024 Q4", "values": {"Dow Jones Total Stock Market Index (Level)": 58399.3}}}

``jump_off`` (the last actual quarter, needed for the first quarter's changes) is optional when the
fitted Fed history ends in the quarter before the path (the Fed's own convention); see
:func:`fed_path_from_tables`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from scenarios.engines.base import Condition, FittedState, check_sample_args, check_train
from scenarios.engines.fed_tables import FedTable, format_quarter, parse_quarter

ENGINE = "supervisory"

DOW = "Dow Jones Total Stock Market Index (Level)"
VIX = "Market Volatility Index (Level)"
T10 = "10-year Treasury yield"
T5 = "5-year Treasury yield"
T3M = "3-month Treasury rate"
BBB = "BBB corporate yield"
GDP = "Real GDP growth"
UNEMPLOYMENT = "Unemployment rate"
HOUSE = "House Price Index (Level)"
CRE = "Commercial Real Estate Price Index (Level)"
MORTGAGE = "Mortgage rate"

# driver name → (operation, Fed variables). dlog: quarterly log change; diff: quarterly change;
# spread_diff: quarterly change of (first - second); level: the value itself (growth rates).
DRIVERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "equity": ("dlog", (DOW,)),
    "vix": ("diff", (VIX,)),
    "t10": ("diff", (T10,)),
    "t5": ("diff", (T5,)),
    "t3m": ("diff", (T3M,)),
    "bbb_spread": ("spread_diff", (BBB, T10)),
    "bbb": ("diff", (BBB,)),
    "mortgage": ("diff", (MORTGAGE,)),
    "real_gdp": ("level", (GDP,)),
    "unemployment": ("diff", (UNEMPLOYMENT,)),
    "house_prices": ("dlog", (HOUSE,)),
    "cre_prices": ("dlog", (CRE,)),
}
BROAD = ("equity", "vix", "t10", "bbb_spread", "real_gdp")
DEFAULT_DRIVERS: dict[str, tuple[str, ...]] = {
    "equity": ("equity",),
    "volatility": ("vix",),
    "rates": ("t10", "t3m"),
    "credit": ("bbb_spread", "t10"),
}


@dataclass(frozen=True)
class Config:
    trading_days_per_quarter: int = 63
    noise: str = "gaussian"  # "gaussian" (training daily covariance) or "bootstrap" (training days)
    residual_noise: bool = True  # draw the quarterly regression residual per scenario
    vol_from_vix: bool = True  # scale daily noise by the scenario's VIX / its mean over the fit
    driver_map: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (factor, drivers) overrides
    min_quarters: int = 12
    min_quarter_days_fraction: float = 0.8  # drop partial quarters at the sample's edges

    def __post_init__(self) -> None:
        if self.trading_days_per_quarter < 1:
            raise ValueError("trading_days_per_quarter must be >= 1")
        if self.noise not in ("gaussian", "bootstrap"):
            raise ValueError(f"noise must be 'gaussian' or 'bootstrap', got {self.noise!r}")
        for factor, drivers in self.driver_map:
            unknown = [d for d in drivers if d not in DRIVERS]
            if unknown or not drivers:
                raise ValueError(f"driver_map for {factor!r}: unknown or no drivers {unknown}; "
                                 f"use {', '.join(DRIVERS)}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        data = dict(data)
        data["driver_map"] = tuple((f, tuple(d)) for f, d in data.get("driver_map", ()))
        return cls(**data)


# ── drivers ────────────────────────────────────────────────────────────────────────────────
def driver_frame(values: pd.DataFrame, drivers: Sequence[str]) -> pd.DataFrame:
    """Quarterly drivers from Fed variables indexed by consecutive quarters (NaN where not computable)."""
    out = {}
    for name in drivers:
        op, variables = DRIVERS[name]
        missing = [v for v in variables if v not in values.columns]
        if missing:
            out[name] = pd.Series(np.nan, index=values.index)
            continue
        series = values[variables[0]].astype(np.float64)
        if op == "dlog":
            if (series <= 0).any():
                raise ValueError(f"{variables[0]!r} must be positive to take its log change")
            out[name] = np.log(series).diff()
        elif op == "diff":
            out[name] = series.diff()
        elif op == "spread_diff":
            out[name] = (series - values[variables[1]].astype(np.float64)).diff()
        else:
            out[name] = series
    return pd.DataFrame(out, index=values.index)


def _fed_data(fed: FedTable | pd.DataFrame) -> pd.DataFrame:
    data = fed.data if isinstance(fed, FedTable) else fed
    if not isinstance(data, pd.DataFrame) or not isinstance(data.index, pd.PeriodIndex):
        raise ValueError("fed_history must be a FedTable or a DataFrame with a quarterly PeriodIndex")
    data = data.copy()
    data.index = data.index.asfreq("Q")
    if data.index.has_duplicates or not data.index.is_monotonic_increasing:
        raise ValueError("fed_history quarters must be unique and increasing")
    full = pd.period_range(data.index[0], data.index[-1], freq="Q")
    return data.reindex(full)


def _factor_drivers(config: Config, factors: Sequence[str], kinds: Sequence[str] | None) -> list[tuple[str, ...]]:
    overrides = dict(config.driver_map)
    unknown = [f for f in overrides if f not in factors]
    if unknown:
        raise ValueError(f"driver_map names unknown factors {unknown}; factors are {', '.join(factors)}")
    out = []
    for i, factor in enumerate(factors):
        if factor in overrides:
            out.append(tuple(overrides[factor]))
        else:
            kind = kinds[i] if kinds is not None else None
            out.append(DEFAULT_DRIVERS.get(kind or "", BROAD))
    return out


# ── fit ────────────────────────────────────────────────────────────────────────────────────
def quarterly_aggregates(train: np.ndarray, dates: Sequence | pd.DatetimeIndex, factors: Sequence[str],
                         min_days: float = 0.0) -> tuple[pd.DataFrame, pd.Series]:
    """Sum of daily increments per calendar quarter, and the number of days in each."""
    index = pd.DatetimeIndex(pd.to_datetime(dates))
    if len(index) != len(train):
        raise ValueError(f"{len(index)} dates for {len(train)} training rows")
    if not index.is_monotonic_increasing or index.has_duplicates:
        raise ValueError("training dates must be strictly increasing")
    frame = pd.DataFrame(train, columns=list(factors), index=index)
    quarters = index.to_period("Q")
    sums = frame.groupby(quarters).sum()
    counts = frame.groupby(quarters).size()
    keep = counts >= min_days
    return sums[keep], counts[keep]


def fit(train: np.ndarray, factors: Sequence[str], config: Config, kinds: Sequence[str] | None = None,
        dates: Sequence | pd.DatetimeIndex | None = None,
        fed_history: FedTable | pd.DataFrame | None = None) -> FittedState:
    """Fit the quarterly translation (OLS per factor) and the daily noise model.

    ``dates``: the date of each training row (needed to form calendar quarters); ``fed_history``: the
    Fed's historic table (``Scenario Name`` = Actual), domestic (optionally joined with international).
    """
    train = check_train(train, factors)
    factors = list(factors)
    if kinds is not None and len(kinds) != len(factors):
        raise ValueError(f"{len(kinds)} kinds for {len(factors)} factors")
    if dates is None:
        raise ValueError("the supervisory engine needs the date of every training row (dates=...)")
    if fed_history is None:
        raise ValueError("the supervisory engine needs the Fed historic table (fed_history=...)")
    fed = _fed_data(fed_history)
    per_factor = _factor_drivers(config, factors, kinds)
    all_drivers = [d for d in DRIVERS if any(d in fd for fd in per_factor)]
    drivers = driver_frame(fed, all_drivers)

    _, counts_all = quarterly_aggregates(train, dates, factors)
    min_days = config.min_quarter_days_fraction * float(np.median(counts_all))
    sums, _ = quarterly_aggregates(train, dates, factors, min_days=min_days)

    coef = np.zeros((len(factors), 1 + len(all_drivers)))
    mask = np.zeros((len(factors), len(all_drivers)), dtype=bool)
    residuals, variances, report = {}, np.zeros(len(factors)), {}
    for j, factor in enumerate(factors):
        names = list(per_factor[j])
        joined = pd.concat([sums[factor], drivers[names]], axis=1, join="inner").dropna()
        need = max(config.min_quarters, len(names) + 3)
        if len(joined) < need:
            raise ValueError(f"factor {factor!r}: only {len(joined)} quarters where the daily data and the Fed "
                             f"drivers {names} overlap; need {need}")
        result = sm.OLS(joined[factor].to_numpy(), sm.add_constant(joined[names].to_numpy(),
                                                                   has_constant="add")).fit()
        coef[j, 0] = result.params[0]
        for k, name in enumerate(names):
            col = all_drivers.index(name)
            coef[j, 1 + col] = result.params[1 + k]
            mask[j, col] = True
        residuals[factor] = pd.Series(result.resid, index=joined.index)
        variances[j] = float(result.mse_resid)
        report[factor] = {"drivers": names, "nobs": int(result.nobs), "rsquared": float(result.rsquared),
                          "params": [float(p) for p in result.params], "tvalues": [float(t) for t in result.tvalues],
                          "first_quarter": format_quarter(joined.index[0]),
                          "last_quarter": format_quarter(joined.index[-1])}
    common = pd.DataFrame(residuals).dropna()
    scale = np.sqrt(variances)
    if len(factors) > 1 and len(common) >= len(factors) + 2:
        corr = np.atleast_2d(np.corrcoef(common.to_numpy().T))
    else:
        corr = np.eye(len(factors))
    resid_cov = corr * np.outer(scale, scale)

    daily_cov = np.atleast_2d(np.cov(train.T, ddof=1))
    arrays = {"coef": coef, "mask": mask, "resid_cov": resid_cov, "daily_cov": daily_cov,
              "daily_mean": train.mean(axis=0)}
    if config.noise == "bootstrap":
        arrays["train"] = train

    vix_ref = None
    if config.vol_from_vix and VIX in fed.columns:
        fitted_quarters = sums.index.intersection(fed.index)
        vix = fed.loc[fitted_quarters, VIX].dropna()
        if len(vix) and float(vix.mean()) > 0:
            vix_ref = float(vix.mean())

    last = fed.index[-1]
    sources = sorted({v for d in all_drivers for v in DRIVERS[d][1]} | ({VIX} if vix_ref else set()))
    jump_values = {v: float(fed.loc[last, v]) for v in sources
                   if v in fed.columns and math.isfinite(float(fed.loc[last, v]))}
    meta = {"drivers": all_drivers, "regressions": report, "vix_ref": vix_ref,
            "jump_off": {"quarter": format_quarter(last), "values": jump_values},
            "quarters_fitted": len(common)}
    return FittedState(engine=ENGINE, config=asdict(config), factors=factors, arrays=arrays, meta=meta,
                       kinds=list(kinds) if kinds is not None else None)


# ── the scenario path ──────────────────────────────────────────────────────────────────────
def _number(value: Any, where: str) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"fed_path: {where}: {value!r} is not a number")
    if not math.isfinite(float(value)):
        raise ValueError(f"fed_path: {where}: non-finite value {value!r} (use null for 'not available')")
    return float(value)


def validate_fed_path(fed_path: Any) -> tuple[pd.DataFrame, dict | None]:
    """Check a JSON-able scenario path; return its values (quarterly PeriodIndex) and the jump-off."""
    if not isinstance(fed_path, Mapping):
        raise ValueError("fed_path must be a mapping with 'quarters' and 'variables'")
    unknown = set(fed_path) - {"quarters", "variables", "jump_off", "scenario_name"}
    if unknown:
        raise ValueError(f"fed_path: unknown keys {sorted(unknown)}")
    quarters_raw = fed_path.get("quarters")
    if not isinstance(quarters_raw, Sequence) or isinstance(quarters_raw, str) or not quarters_raw:
        raise ValueError("fed_path: 'quarters' must be a non-empty list of 'YYYY Qn' strings")
    quarters = []
    for i, text in enumerate(quarters_raw):
        try:
            quarter = parse_quarter(text if isinstance(text, str) else "")
        except ValueError:
            raise ValueError(f"fed_path: quarters[{i}]: bad quarter {text!r}, expected 'YYYY Qn'") from None
        if quarters and quarter != quarters[-1] + 1:
            raise ValueError(f"fed_path: quarters[{i}] = {text!r} does not follow {format_quarter(quarters[-1])} "
                             f"(quarters must be consecutive, without duplicates)")
        quarters.append(quarter)
    variables = fed_path.get("variables")
    if not isinstance(variables, Mapping) or not variables:
        raise ValueError("fed_path: 'variables' must be a non-empty mapping of variable → list of values")
    columns = {}
    for name, series in variables.items():
        if not isinstance(series, Sequence) or isinstance(series, str) or len(series) != len(quarters):
            raise ValueError(f"fed_path: variable {name!r} needs a list of {len(quarters)} values (one per quarter)")
        columns[str(name)] = [_number(v, f"{name!r}[{i}]") for i, v in enumerate(series)]
    values = pd.DataFrame(columns, index=pd.PeriodIndex(quarters, freq="Q"))
    jump = fed_path.get("jump_off")
    if jump is not None:
        if not isinstance(jump, Mapping) or not isinstance(jump.get("values"), Mapping):
            raise ValueError("fed_path: 'jump_off' must be {'quarter': 'YYYY Qn', 'values': {variable: value}}")
        try:
            jump_quarter = parse_quarter(jump.get("quarter") if isinstance(jump.get("quarter"), str) else "")
        except ValueError:
            raise ValueError(f"fed_path: jump_off quarter {jump.get('quarter')!r} is not 'YYYY Qn'") from None
        if jump_quarter != quarters[0] - 1:
            raise ValueError(f"fed_path: jump_off quarter {format_quarter(jump_quarter)} must be the quarter before "
                             f"{format_quarter(quarters[0])}")
        jump = {"quarter": format_quarter(jump_quarter),
                "values": {str(k): _number(v, f"jump_off {k!r}") for k, v in jump["values"].items()}}
    return values, jump


def fed_path_from_tables(scenario: FedTable, historic: FedTable | None = None,
                         variables: Sequence[str] | None = None) -> dict:
    """The JSON-able ``fed_path`` of a Fed scenario table; the jump-off is the historic table's last
    quarter when it is the quarter before the scenario starts (NaN cells become null)."""
    columns = list(variables) if variables is not None else list(scenario.data.columns)
    path: dict[str, Any] = {
        "scenario_name": scenario.scenario_name,
        "quarters": [format_quarter(q) for q in scenario.data.index],
        "variables": {c: [None if math.isnan(v) else float(v) for v in scenario.data[c]] for c in columns},
    }
    if historic is not None:
        last = historic.data.index[-1]
        if last != scenario.data.index[0] - 1:
            raise ValueError(f"historic table ends {format_quarter(last)}, not the quarter before the scenario "
                             f"starts ({format_quarter(scenario.data.index[0])})")
        row = historic.data.iloc[-1]
        path["jump_off"] = {"quarter": format_quarter(last),
                            "values": {c: float(row[c]) for c in columns if c in row.index and math.isfinite(row[c])}}
    return path


def quarterly_targets(state: FittedState, fed_path: Any) -> tuple[pd.PeriodIndex, np.ndarray]:
    """The translated quarterly targets ``a + B x_q`` of every factor: (quarters, [K, F])."""
    if state.engine != ENGINE:
        raise ValueError(f"state is for engine {state.engine!r}, not {ENGINE!r}")
    values, jump = validate_fed_path(fed_path)
    if jump is None:
        stored = state.meta.get("jump_off") or {}
        if stored.get("quarter") == format_quarter(values.index[0] - 1):
            jump = stored
    drivers = list(state.meta["drivers"])
    needed = sorted({v for d in drivers for v in DRIVERS[d][1]})
    missing = [v for v in needed if v not in values.columns]
    if missing:
        raise ValueError(f"fed_path lacks variables the fitted translation uses: {missing}")
    frame = values[needed]
    if jump is not None:
        row = pd.DataFrame({v: [jump["values"].get(v, math.nan)] for v in needed},
                           index=pd.PeriodIndex([values.index[0] - 1], freq="Q"))
        frame = pd.concat([row, frame])
    x = driver_frame(frame, drivers).loc[values.index]
    mask = state.arrays["mask"].astype(bool)
    used = mask.any(axis=0)
    for k, name in enumerate(drivers):
        if not used[k]:
            continue
        bad = x[name].isna()
        if bad.any():
            quarter = format_quarter(x.index[bad.to_numpy().argmax()])
            hint = "" if jump is not None else " (the first quarter needs 'jump_off' values, or a fit whose Fed " \
                                               "history ends the quarter before the path)"
            raise ValueError(f"fed_path: driver {name!r} ({', '.join(DRIVERS[name][1])}) is not available "
                             f"for {quarter}{hint}")
    coef = state.arrays["coef"]
    design = x.fillna(0.0).to_numpy()
    targets = coef[:, 0][None, :] + design @ (coef[:, 1:] * mask).T
    return values.index, targets


def _factor_matrix(cov: np.ndarray) -> np.ndarray:
    """A matrix L with L L' = cov (eigen-decomposition, robust to a singular covariance)."""
    w, v = np.linalg.eigh((cov + cov.T) / 2.0)
    return v * np.sqrt(np.clip(w, 0.0, None))


def sample_paths(state: FittedState, n: int, horizon: int, condition: Condition | None,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Daily paths [n, horizon, F] and the per-scenario quarterly targets [n, K, F] they sum to.

    Every complete quarter ``k`` of path ``i`` satisfies ``paths[i, k*d:(k+1)*d].sum(0) == targets[i, k]``
    (up to floating-point rounding); a last partial quarter (horizon not a multiple of d) does not.
    The condition's volatility multiplier (explicit or from its severity) scales the within-quarter noise
    only; the quarterly moves come from the Fed path, so explicit ``targets`` are refused.
    """
    check_sample_args(n, horizon)
    if condition is None or "fed_path" not in condition.extra:
        raise ValueError("the supervisory engine needs condition.extra['fed_path'] (a quarterly scenario path)")
    if condition.targets:
        raise ValueError("the supervisory engine takes its targets from the Fed path; drop the explicit targets")
    config = Config.from_dict(state.config)
    d = config.trading_days_per_quarter
    quarters, mean_targets = quarterly_targets(state, condition.extra["fed_path"])
    total = len(quarters) * d
    if horizon > total:
        raise ValueError(f"horizon {horizon} exceeds the scenario's {len(quarters)} quarters × {d} trading days "
                         f"= {total}")
    k = -(-horizon // d)
    f = len(state.factors)
    targets = np.broadcast_to(mean_targets[None, :k], (n, k, f)).copy()
    if config.residual_noise:
        targets += rng.standard_normal((n, k, f)) @ _factor_matrix(state.arrays["resid_cov"]).T

    scale = np.full(k, condition.effective_vol_multiplier)
    vix_ref = state.meta.get("vix_ref")
    path_values, _ = validate_fed_path(condition.extra["fed_path"])
    if config.vol_from_vix and vix_ref and VIX in path_values.columns:
        vix = path_values[VIX].to_numpy()[:k]
        scale *= np.where(np.isfinite(vix), vix / vix_ref, 1.0)
    if config.noise == "gaussian":
        noise = rng.standard_normal((n, k, d, f)) @ _factor_matrix(state.arrays["daily_cov"]).T
    else:
        train = state.arrays["train"]
        noise = train[rng.integers(0, len(train), size=(n, k, d))] - state.arrays["daily_mean"]
    noise *= scale[None, :, None, None]
    # Brownian-bridge correction: remove each quarter's own mean, add the target's (Glasserman 2004, §3.1).
    paths = noise - noise.mean(axis=2, keepdims=True) + targets[:, :, None, :] / d
    return paths.reshape(n, k * d, f)[:, :horizon], targets


def sample(state: FittedState, n: int, horizon: int, condition: Condition | None,
           rng: np.random.Generator) -> np.ndarray:
    return sample_paths(state, n, horizon, condition, rng)[0]
