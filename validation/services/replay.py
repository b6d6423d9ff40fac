"""The holdout replay of a conditional model (``scenarios.engines.replay``) for one validation run.

An unconditioned scenario set of an engine with a volatility filter starts every path from the end of
the training window (or from in-sample states). Judged against a multi-year holdout it mostly
measures how the holdout's volatility regime differs from that starting point. The validation
therefore judges such a version on its *holdout replay*: the same model (parameters, margins and
networks frozen at the training window), its filter run through the realised data after the window,
every path started from the filter's state on a uniformly drawn holdout day — and backtests its VaR
day by day with forecasts that use data up to the day before only. Nothing of the holdout enters the
parameters. Sets that are conditioned, or whose engine has no filter, are judged as generated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance.canonical import sha256_hex
from scenarios.engines import replay
from scenarios.services.runs import load_checkpoint
from validation.metrics.backtest import DayAhead

METHOD = ("holdout replay: parameters frozen at the training window; paths start from the GJR filter's state "
          "on a uniformly drawn holdout day, filtered with realised data up to the day before")


def unconditioned(condition) -> bool:
    """No severity, target, volatility multiplier or extra (how an unconditioned set stores its condition)."""
    condition = condition or {}
    return (not condition.get("severity") and not condition.get("targets") and not condition.get("extra")
            and condition.get("vol_multiplier") in (None, 1, 1.0))


def holdout_replay(run, frame: pd.DataFrame, holdout_mask: np.ndarray, *, day_ahead: bool = True):
    """(paths, DayAhead or None, comparator details) for ``run``, or None when it is judged as generated."""
    scenario_set = run.scenario_set
    version = scenario_set.model_version
    if version is None or not unconditioned(scenario_set.condition) or not version.checkpoint_uri:
        return None
    state = load_checkpoint(version)
    if not replay.supports(state) or list(state.factors) != list(scenario_set.factors):
        return None
    train_end = version.train_end or run.train_end
    after_mask = frame.index > pd.Timestamp(train_end)
    if run.holdout_end is not None:
        after_mask &= frame.index <= pd.Timestamp(run.holdout_end)
    after = frame.loc[after_mask, list(state.factors)]
    positions = replay.holdout_positions(after.index.to_numpy(), pd.Timestamp(run.holdout_start),
                                         pd.Timestamp(run.holdout_end) if run.holdout_end else None)
    if positions.size != int(holdout_mask.sum()):
        raise ValueError("the holdout's days are not the days after the training window it was filtered on")
    replayed = replay.holdout_replay(state, after.to_numpy(), positions, n=scenario_set.n_scenarios,
                                     horizon=scenario_set.horizon, seed=run.seed, day_ahead=day_ahead)
    paths = replayed.paths
    comparator = {"method": METHOD, "engine": state.engine, "scenarios": int(paths.shape[0]),
                  "horizon": int(paths.shape[1]), "start_days": int(positions.size),
                  "filtered_days": int(after.shape[0]), "seed": int(run.seed),
                  "replay_sha256": sha256_hex(np.ascontiguousarray(paths, dtype=np.float64).tobytes()),
                  "scenario_set_sha256": scenario_set.sha256}
    forecast = None
    if day_ahead:
        forecast = DayAhead(mean=replayed.mean, sigma=replayed.sigma, innovations=replayed.innovations,
                            method="rolling day-ahead: " + METHOD.split(": ", 1)[1])
    return paths, forecast, comparator
