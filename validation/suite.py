"""The multi-tier validation suite: which metrics each tier runs, on which data, with which floors.

Django-free (numpy/pandas and the pure metric packages) so the web app, the Celery workers and
``manage.py validate_scenarios`` run exactly the same code. The neural tier lives in
``validation.neural`` (torch) and is imported only when that tier runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from validation.metrics import coherence, crisis, memorisation, multivariate, stylized, temporal, univariate
from validation.metrics.backtest import DayAhead, var_backtest
from validation.metrics.floor import noise_floors
from validation.metrics.result import MetricResult

TIERS = ("univariate", "multivariate", "temporal", "stylized_facts", "discriminative", "memorisation",
         "risk_backtest", "crisis", "coherence")
NEURAL_TIERS = ("discriminative",)
STATISTICAL_TIERS = tuple(t for t in TIERS if t not in NEURAL_TIERS)
# The statistics that get a real-vs-real noise floor by default (cheap enough to resample).
DEFAULT_FLOOR = {"resamples": 20, "paths": 500,
                 "families": ["ks", "moments", "quantile_errors", "correlation_error", "acf"]}


@dataclass
class Inputs:
    synthetic: np.ndarray  # [n, horizon, F]
    train: np.ndarray  # [T_train, F] training-window increments
    holdout: np.ndarray  # [T_holdout, F]
    factors: list[str]
    kinds: list[str]  # risk class per factor (equity, rates, credit, ...)
    history: pd.DataFrame | None = None  # dated increments of the whole dataset (crisis windows)
    train_end: dt.date | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    # A conditional model's day-ahead forecasts over the holdout (rolling backtest), and how
    # ``synthetic`` was obtained when it is not the scenario set as generated (the holdout replay).
    day_ahead: DayAhead | None = None
    comparator: Mapping[str, Any] | None = None


def check_tiers(tiers: Sequence[str] | None) -> list[str]:
    if not tiers:
        return list(TIERS)
    unknown = [t for t in tiers if t not in TIERS]
    if unknown:
        raise ValueError(f"unknown tier(s) {', '.join(unknown)}; the suite has {', '.join(TIERS)}")
    return [t for t in TIERS if t in tiers]


def check_options(options: Mapping[str, Any], factors: Sequence[str]) -> dict:
    """``portfolio_weights`` (factor → weight) for backtests and crisis losses; ``coherence_rules``."""
    options = dict(options or {})
    unknown = set(options) - {"portfolio_weights", "coherence_rules", "var_level"}
    if unknown:
        raise ValueError(f"unknown options: {', '.join(sorted(unknown))}")
    weights = options.get("portfolio_weights")
    if weights is not None:
        if not isinstance(weights, Mapping) or not weights:
            raise ValueError("portfolio_weights must map factor names to weights")
        missing = [f for f in weights if f not in factors]
        if missing:
            raise ValueError(f"portfolio_weights names unknown factors: {', '.join(missing)}")
        if any(not isinstance(w, int | float) or not np.isfinite(w) for w in weights.values()):
            raise ValueError("portfolio weights must be finite numbers")
    rules = options.get("coherence_rules")
    if rules is not None:
        coherence.parse_rules(rules, list(factors))
    level = options.get("var_level", 0.99)
    if not isinstance(level, int | float) or not 0.5 < level < 1:
        raise ValueError("var_level must lie in (0.5, 1)")
    return options


def reference_weights(inputs: Inputs) -> np.ndarray:
    """The reference portfolio: the given weights, else long one unit of every equity factor (or of all)."""
    given = inputs.options.get("portfolio_weights")
    if given:
        return np.array([float(given.get(f, 0.0)) for f in inputs.factors])
    equity = np.array([k == "equity" for k in inputs.kinds], dtype=float)
    return equity if equity.any() else np.ones(len(inputs.factors))


def _floors(inputs: Inputs, statistic, rng, config) -> list:
    n_paths = min(int(config.get("paths", 500)), inputs.synthetic.shape[0])
    return noise_floors(statistic, inputs.train, inputs.holdout, horizon=inputs.synthetic.shape[1],
                        n_paths=n_paths, resamples=int(config.get("resamples", 20)), rng=rng)


def statistical(inputs: Inputs, tiers: Sequence[str], *, rng: np.random.Generator,
                floor_config: Mapping[str, Any] | None = None) -> list[MetricResult]:
    config = DEFAULT_FLOOR | dict(floor_config or {})
    families = set(config.get("families", []))
    syn, real, factors = inputs.synthetic, inputs.holdout, inputs.factors
    results: list[MetricResult] = []
    if inputs.comparator:
        results.append(MetricResult(name="holdout_comparator", tier=next(iter(tiers)), value=float(syn.shape[0]),
                                    direction="info", details=dict(inputs.comparator)))
    if "univariate" in tiers:
        floors = {name: _floors(inputs, stat, rng, config) for name, (stat, _) in univariate.STATISTICS.items()
                  if name in families}
        results += univariate.run_univariate(syn, real, factors, floors=floors, rng=rng,
                                             matched_paths=min(int(config.get("paths", 500)), syn.shape[0]))
    if "multivariate" in tiers and len(factors) > 1:
        floors = {name: _floors(inputs, stat, rng, config) for name, (stat, _) in multivariate.STATISTICS.items()
                  if name in families}
        results += multivariate.run_multivariate(syn, real, factors, floors=floors, rng=rng)
    if "temporal" in tiers and syn.shape[1] >= 3:
        for kind in temporal.KINDS:
            floor = (_floors(inputs, lambda s, r, kind=kind: temporal.acf_error(s, r, kind), rng, config)
                     if "acf" in families else None)
            results += temporal.acf_metrics(syn, real, factors, kind=kind, floor=floor)
        results += temporal.ljung_box_metrics(syn, real, factors)
        results += temporal.ljung_box_metrics(syn, real, factors, squared=True)
        results += temporal.arch_lm_metrics(syn, real, factors)
        results += temporal.leverage_metrics(syn, real, factors)
    if "stylized_facts" in tiers and syn.shape[1] >= 3:
        equity = [f for f, k in zip(factors, inputs.kinds, strict=True) if k == "equity"] or None
        results += stylized.stylized_metrics(syn, real, factors, equity_factors=equity)
    if "memorisation" in tiers:
        results += memorisation.memorisation_metrics(syn, real, factors, training=inputs.train, rng=rng)
    if "risk_backtest" in tiers:
        level = float(inputs.options.get("var_level", 0.99))
        results += var_backtest(syn, real, reference_weights(inputs), level=level, rng=rng,
                                day_ahead=inputs.day_ahead)
    if "crisis" in tiers and inputs.history is not None:
        # Only crises after the training window: what the model never saw.
        after = inputs.history[inputs.history.index > pd.Timestamp(inputs.train_end)] if inputs.train_end else None
        windows = {name: window for name, window in crisis.CRISIS_WINDOWS.items()
                   if inputs.train_end is None or pd.Timestamp(window[0]) > pd.Timestamp(inputs.train_end)}
        results += crisis.crisis_metrics(syn, after if after is not None else inputs.history, factors,
                                         windows=windows, weights=reference_weights(inputs))
    if "coherence" in tiers:
        rules = inputs.options.get("coherence_rules") or []
        if rules:
            results += coherence.coherence_metrics(syn, real, factors, rules=rules)
        else:
            results.append(MetricResult(name="coherence_rules", tier="coherence", value=0.0, direction="info",
                                        details={"note": "no economic-coherence rules were configured"}))
    return results


def neural(inputs: Inputs, tiers: Sequence[str], *, seed: int) -> list[MetricResult]:
    if "discriminative" not in tiers:
        return []
    from validation.neural.discriminative import discriminative_score
    from validation.neural.predictive import predictive_score

    results = [discriminative_score(inputs.synthetic, inputs.holdout, seed=seed)]
    if inputs.synthetic.shape[1] >= 2:
        results.append(predictive_score(inputs.synthetic, inputs.holdout, seed=seed))
    return results
