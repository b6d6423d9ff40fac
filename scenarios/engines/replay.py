"""Out-of-sample re-conditioning of engines with a GJR-GARCH layer (the validation's holdout replay).

A conditional generator's scenarios depend on the volatility state it starts from. Compared with a
multi-year holdout, one scenario set started from the end of the training window (or from in-sample
states) is the wrong comparator: the holdout's days were drawn from *its own* sequence of volatility
states. The standard out-of-sample protocol for conditional models (parameters estimated once on the
training window and frozen; the filter updated with realised data, as in Christoffersen 1998 and
McNeil & Frey 2000, "Estimation of tail-related risk measures for heteroscedastic financial time
series", J. Empirical Finance 7:271-300) gives:

* ``day_ahead_variances``: the frozen GJR filter run through the data after the training window:
  each day's one-step-ahead variance uses realised data up to the day before only;
* ``reconditioned``: the fitted state with its in-sample starting states replaced by given states
  (every path starts from one of them, drawn uniformly); the parameters, margins and networks are
  untouched, so sampling the result is the same model, started where the holdout actually was;
* ``day_one_innovations``: the engine's own standardised day-one innovations (sampled from a unit
  variance start), so the day-ahead P&L distribution of day ``t`` is ``mean + sigma_t * innovation``
  (location-scale in the filter: exact for every engine here, whose networks produce standardised
  scores independent of the variance state).

Engines without a volatility layer (historical, factor Monte Carlo, hypothetical, supervisory) have
no state to re-condition: ``supports`` is False and the validation compares their set as generated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scenarios.engines.base import FittedState

# engine -> (array of starting variances, config key that selects the start, its "draw a state" value)
_DEEP = ("sandwich.h_history", None, None)
STATE_LAYOUT = {
    "garch_evt_copula": ("h_hist", "start_variance", "historical"),
    "diffusion": _DEEP, "vae": _DEEP, "lstm_transformer": _DEEP,
    "timegan": ("sandwich.h_history", "start", "historical"),
    "wgan_gp": ("sandwich.h_history", "start_variance", "historical"),
}
_FILTER = {"garch_evt_copula": ("garch_params", "scale", "h_next")}
_SANDWICH = ("sandwich.params", "sandwich.scale", "sandwich.h_next")


def supports(state: FittedState) -> bool:
    return state.engine in STATE_LAYOUT and STATE_LAYOUT[state.engine][0] in state.arrays


def _filter_arrays(state: FittedState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    names = _FILTER.get(state.engine, _SANDWICH)
    params, scale, h_next = (np.asarray(state.arrays[name], dtype=np.float64) for name in names)
    return params, scale, h_next


def day_ahead_variances(state: FittedState, after: np.ndarray) -> np.ndarray:
    """[T, F] variance (scaled units) of each day of ``after`` given the realised data before it.

    ``after`` is [T, F] of increments in the training data's units, in time order, starting on the
    first day after the training window. Row 0 is the fitted ``h_next``; row t applies the GJR
    recursion h_{t} = omega + (alpha + gamma 1{e<0}) e_{t-1}^2 + beta h_{t-1}, e = x * scale - mu.
    """
    if not supports(state):
        raise ValueError(f"engine {state.engine} has no volatility filter to re-condition")
    after = np.asarray(after, dtype=np.float64)
    params, scale, h_next = _filter_arrays(state)
    if after.ndim != 2 or after.shape[1] != params.shape[0]:
        raise ValueError(f"expected [T, {params.shape[0]}] increments after the training window, got {after.shape}")
    if not np.isfinite(after).all():
        raise ValueError("the increments after the training window have missing or non-finite values")
    mu, omega, alpha, gamma, beta = (params[:, k] for k in range(5))
    h = np.empty_like(after)
    current = h_next.copy()
    for t in range(after.shape[0]):
        h[t] = current
        eps = after[t] * scale - mu
        current = omega + (alpha + gamma * (eps < 0)) * eps * eps + beta * current
    return h


def reconditioned(state: FittedState, start_variances: np.ndarray) -> FittedState:
    """The same fitted model whose paths start from ``start_variances`` [m, F] (scaled units)."""
    if not supports(state):
        raise ValueError(f"engine {state.engine} has no volatility filter to re-condition")
    array_name, key, value = STATE_LAYOUT[state.engine]
    start_variances = np.asarray(start_variances, dtype=np.float64)
    expected = np.asarray(state.arrays[array_name]).shape[1]
    if start_variances.ndim != 2 or start_variances.shape[1] != expected or start_variances.shape[0] < 1:
        raise ValueError(f"start variances must be [m >= 1, {expected}], got {start_variances.shape}")
    if not (np.isfinite(start_variances).all() and (start_variances > 0).all()):
        raise ValueError("start variances must be finite and positive")
    config = dict(state.config) | ({key: value} if key else {})
    return dataclasses.replace(state, config=config, arrays=dict(state.arrays) | {array_name: start_variances})


def scaled_mean_and_scale(state: FittedState) -> tuple[np.ndarray, np.ndarray]:
    """(conditional mean in the data's units [F], scale [F]) of the filter."""
    params, scale, _ = _filter_arrays(state)
    return params[:, 0] / scale, scale


def day_one_innovations(unit_paths: np.ndarray, state: FittedState) -> np.ndarray:
    """Standardised day-one innovations [n, F] from paths sampled from a unit-variance start."""
    mean, scale = scaled_mean_and_scale(state)
    return (np.asarray(unit_paths)[:, 0, :] - mean) * scale


def unit_start(state: FittedState) -> FittedState:
    n_factors = len(state.factors)
    return reconditioned(state, np.ones((1, n_factors)))


def holdout_positions(dates: Sequence, holdout_start, holdout_end) -> np.ndarray:
    """Positions of the holdout's days among ``dates`` (the days after the training window)."""
    dates = np.asarray(dates)
    mask = dates >= np.datetime64(holdout_start)
    if holdout_end is not None:
        mask &= dates <= np.datetime64(holdout_end)
    return np.flatnonzero(mask)


@dataclass(frozen=True)
class Replay:
    paths: np.ndarray  # [n, horizon, F] started from the filter states of the holdout days
    start_variances: np.ndarray  # [T_holdout, F] scaled units
    mean: np.ndarray  # [F] conditional mean, data units
    sigma: np.ndarray  # [T_holdout, F] day-ahead volatility, data units
    innovations: np.ndarray | None  # [n, F] standardised day-one innovations (None: not asked for)


def holdout_replay(state: FittedState, after: np.ndarray, positions: np.ndarray, *, n: int, horizon: int,
                   seed: int, day_ahead: bool = True) -> Replay:
    """The replay of ``state`` over the holdout days ``positions`` of ``after`` (see the module docstring),
    sampled with ``seed`` (paths) and ``seed + 1`` (day-one innovations)."""
    from scenarios.engines import registry

    starts = day_ahead_variances(state, after)[np.asarray(positions)]
    paths = registry.sample_engine(reconditioned(state, starts), n=n, horizon=horizon, condition=None, seed=seed)
    if not np.isfinite(paths).all():
        raise ValueError(f"the {state.engine} holdout replay produced non-finite increments")
    mean, scale = scaled_mean_and_scale(state)
    innovations = None
    if day_ahead:
        unit = registry.sample_engine(unit_start(state), n=n, horizon=1, condition=None, seed=seed + 1)
        innovations = day_one_innovations(unit, state)
    return Replay(paths=paths, start_variances=starts, mean=mean, sigma=np.sqrt(starts) / scale,
                  innovations=innovations)
