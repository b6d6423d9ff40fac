"""The multi-tier validation suite: which metrics each tier runs, on which data, with which floors.

Django-free (numpy/pandas and the pure metric packages) so the web app, the Celery workers and
``manage.py validate_scenarios`` run exactly the same code. The neural tier lives in
``validation.neural`` (torch) and is imported only when that tier runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from validation.metrics import coherence, crisis, memorisation, multivariate, stylized, temporal, univariate
from validation.metrics.backtest import DayAhead, var_backtest
from validation.metrics.floor import noise_floors
from validation.metrics.result import MetricResult

TIERS = ("univariate", "multivariate", "temporal", "stylized_facts", "discriminative", "memorisation",
         "risk_backtest", "crisis", "coherence", "conformance", "plausibility", "adversarial", "comparison")
NEURAL_TIERS = ("discriminative",)
# A conditioned set is a stress set: it is not meant to look like the holdout, so by default it is judged on
# what the condition asked for, on plausibility under the model's unconditioned fit, on coherence, on the
# anti-gaming audit and on agreement with the other versions in use (issue 15 §1, §3, §4).
CONDITIONED_TIERS = ("coherence", "conformance", "plausibility", "adversarial", "comparison")
# An unconditioned set gets every tier but conformance and plausibility (nothing was asked; its own fit is the
# plausibility reference) and the adversarial audit (a conditioning audit: it runs with the conditioned sets, or
# when asked for).
UNCONDITIONED_TIERS = tuple(t for t in TIERS if t not in ("conformance", "plausibility", "adversarial"))
NOT_RUN_REASONS = {
    "discriminative": "the neural scores need at least two days per path",
    "multivariate": "one factor: no dependence to compare",
    "temporal": "paths shorter than 3 days: no serial dependence to test",
    "stylized_facts": "paths shorter than 3 days: no stylized fact to test",
    "crisis": "no dated history was given",
}
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
    # Issue 15: what the services prepare for the new tiers (None: that tier has nothing to test).
    settings: Mapping[str, Any] = field(default_factory=dict)  # the policy's suite_settings
    reference: np.ndarray | None = None  # the model's unconditioned paths [m, h, F] (or real windows)
    reference_note: str = ""
    asked: Mapping[str, Any] | None = None  # what the condition asked for (conformance)
    train_dates: Sequence[str] | None = None  # ISO dates of ``train`` rows (historical analogues)
    adversarial: Mapping[str, Any] | None = None  # {"cells", "losses", "edges", "outside_shares"} or {"skip": why}
    comparison: Mapping[str, Any] | None = None  # {"measures", "subject", "champion", "benchmark"} or {"skip"}
    coherence: Mapping[str, Any] | None = None  # {"rules", "option_checks", "parity_tolerance", "source"}
    filter_report: Mapping[str, Any] | None = None  # the generation's plausibility filter, if one ran


def check_tiers(tiers: Sequence[str] | None, *, conditioned: bool = False) -> list[str]:
    if not tiers:
        return list(CONDITIONED_TIERS if conditioned else UNCONDITIONED_TIERS)
    unknown = [t for t in tiers if t not in TIERS]
    if unknown:
        raise ValueError(f"unknown tier(s) {', '.join(unknown)}; the suite has {', '.join(TIERS)}")
    return [t for t in TIERS if t in tiers]


def check_options(options: Mapping[str, Any], factors: Sequence[str]) -> dict:
    """``portfolio_weights`` (factor → weight) for backtests and crisis losses; ``coherence_rules``."""
    options = dict(options or {})
    unknown = set(options) - {"portfolio_weights", "coherence_rules", "var_level", "portfolio"}
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
        if not any(weights.values()):
            raise ValueError("portfolio_weights are all zero: the reference portfolio has no P&L")
    rules = options.get("coherence_rules")
    if rules is not None:
        coherence.parse_rules(rules, list(factors))
    portfolio = options.get("portfolio")
    if portfolio is not None and (isinstance(portfolio, bool) or not isinstance(portfolio, int) or portfolio < 1):
        raise ValueError("portfolio must be the id of a portfolio (a positive integer)")
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
        equity = [f for f, k in zip(factors, inputs.kinds, strict=True) if k == "equity"]
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
        results += _coherence(inputs)
    if "conformance" in tiers:
        results += _conformance(inputs)
    if "plausibility" in tiers:
        results += _plausibility(inputs)
    if "adversarial" in tiers:
        results += _adversarial(inputs)
    if "comparison" in tiers:
        results += _comparison(inputs)
    return with_not_run_tiers(results, [t for t in tiers if t not in NEURAL_TIERS])


def with_not_run_tiers(results: list[MetricResult], tiers: Sequence[str]) -> list[MetricResult]:
    """A requested tier that produced no row tested nothing: say so with a NOT_RUN row, never silence."""
    produced = {r.tier for r in results}
    for tier in tiers:
        if tier not in produced:
            results.append(MetricResult.skipped(name=f"{tier}_tier", tier=tier,
                                                reason=NOT_RUN_REASONS.get(tier, "nothing to test for this set")))
    return results


def _coherence(inputs: Inputs) -> list[MetricResult]:
    spec = dict(inputs.coherence or {})
    configured = inputs.options.get("coherence_rules")
    rules = configured if configured else spec.get("rules") or []
    results = coherence.coherence_tier(inputs.synthetic, inputs.holdout, inputs.factors, rules=rules,
                                       option_checks=spec.get("option_checks"),
                                       parity_tolerance=float(spec.get("parity_tolerance", 0.001)),
                                       reason=spec.get("note") or None)
    if inputs.filter_report:
        report = inputs.filter_report
        share = float(report.get("share", 0.0))
        results.append(MetricResult(
            name="filter_removed_share", tier="coherence", value=share, threshold=float(report.get("max_share", 0.05)),
            direction="max", details={"drawn": report.get("drawn"), "removed": report.get("removed"),
                                      "reasons": report.get("reasons"), "message": (
                f"the plausibility filter removed {report.get('removed')} of {report.get('drawn')} paths "
                f"({share:.1%})")},
            reference="seed 001 §4 (soft constraints)"))
    return results


def _conformance(inputs: Inputs) -> list[MetricResult]:
    from validation.metrics import conformance

    if inputs.asked is None or inputs.reference is None:
        return [MetricResult.skipped(name="conformance_vol_ratio", tier="conformance",
                                     reason="the set is unconditioned: nothing to conform to")]
    return conformance.conformance_metrics(inputs.synthetic, inputs.reference, inputs.factors, asked=inputs.asked)


def _plausibility(inputs: Inputs) -> list[MetricResult]:
    from validation.metrics import plausibility

    if inputs.reference is None:
        return [MetricResult.skipped(name="plausibility_outside_share", tier="plausibility",
                                     reason="no unconditioned reference of the model could be drawn")]
    settings = dict(inputs.settings.get("plausibility") or {})
    dates = inputs.train_dates if inputs.train_dates is not None else [str(i) for i in range(len(inputs.train))]
    results = plausibility.plausibility_metrics(
        inputs.synthetic, inputs.reference, inputs.train, dates, inputs.factors,
        chi2_level=float(settings.get("chi2_level", 0.9999)), tail_share=float(settings.get("tail_share", 0.01)),
        weights=reference_weights(inputs))
    if inputs.reference_note:
        results = [replace(r, details=dict(r.details) | {"reference": inputs.reference_note}) for r in results]
    return results


def _adversarial(inputs: Inputs) -> list[MetricResult]:
    from validation.metrics import adversarial

    spec = inputs.adversarial
    if not spec or "skip" in spec:
        reason = (spec or {}).get("skip") or "the model could not be sampled over a grid of conditions"
        return [MetricResult.skipped(name="adversarial_benign_share", tier="adversarial", reason=reason)]
    settings = dict(inputs.settings.get("adversarial") or {})
    return adversarial.adversarial_metrics(spec["cells"], spec["losses"], spec["edges"],
                                           quantile=float(settings.get("quantile", 0.99)),
                                           outside_shares=spec.get("outside_shares"),
                                           outside_bound=float(spec.get("outside_bound", 0.05)))


def _comparison(inputs: Inputs) -> list[MetricResult]:
    from validation.metrics import conservatism

    spec = inputs.comparison
    if not spec or "skip" in spec:
        reason = (spec or {}).get("skip") or "no stress results of other versions in use to compare with"
        return [MetricResult.skipped(name="version_disagreement", tier="comparison", reason=reason)]
    results = conservatism.version_disagreement(spec["measures"], subject=spec["subject"])
    if spec.get("benchmark") is not None:
        results.append(conservatism.conservatism_vs_benchmark(spec["champion"], spec["benchmark"]))
    else:
        results.append(MetricResult.skipped(name="conservatism_vs_benchmark", tier="comparison",
                                            reason=spec.get("benchmark_skip") or "no classical benchmark in use"))
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
