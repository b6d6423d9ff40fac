"""Figures of runs, scenario sets and stress results (PNG bytes), shared by the PDF and the web pages.

Each function reads the stored artefacts of one row and draws the charts of reports.pdf.charts.
``Figure.data`` carries the numbers a chart shows (counts, exceedances, peak-to-trough) for captions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reports.pdf import charts
from scenarios.engines import revaluation
from scenarios.models import ScenarioSet, StressResult, TrainingRun
from scenarios.services.runs import load_increments
from scenarios.services.scenario_sets import scenario_set_array

#: factors drawn per small-multiple chart family (the first ones of the set, in its order)
MAX_FACTOR_PANELS = 18


@dataclass(frozen=True)
class Figure:
    name: str
    title: str
    png: bytes
    caption: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def _paged(name: str, title: str, pngs: list[bytes], caption: str = "") -> list[Figure]:
    return [Figure(f"{name}_{i + 1}", title if len(pngs) == 1 else f"{title} ({i + 1}/{len(pngs)})", png, caption)
            for i, png in enumerate(pngs)]


def training_run_figures(training_run: TrainingRun) -> list[Figure]:
    return [Figure("training_curve", f"Training curve — {training_run.engine}",
                   charts.training_curve(training_run.loss_curve or []),
                   caption=f"{len(training_run.loss_curve or [])} recorded steps")]


def _history(scenario_set: ScenarioSet) -> tuple[np.ndarray, list[str]]:
    """The dataset's increments the set is compared with: the training window of its version when known."""
    if scenario_set.dataset is None:
        return np.zeros((0, len(scenario_set.factors))), []
    frame = load_increments(scenario_set.dataset)
    version = scenario_set.model_version
    if version is not None and version.train_end:
        frame = frame[frame.index <= np.datetime64(version.train_end)]
    factors = [f for f in scenario_set.factors if f in frame.columns]
    return frame[factors].to_numpy(dtype=np.float64), factors


def _weights(scenario_set: ScenarioSet) -> np.ndarray:
    classes = (scenario_set.dataset.risk_classes if scenario_set.dataset else {}) or {}
    equity = np.array([classes.get(f) == "equity" for f in scenario_set.factors], dtype=float)
    return equity if equity.any() else np.ones(len(scenario_set.factors))


def scenario_set_figures(scenario_set: ScenarioSet, *, paths: np.ndarray | None = None,
                         max_panels: int = MAX_FACTOR_PANELS) -> list[Figure]:
    paths = scenario_set_array(scenario_set) if paths is None else paths
    factors = list(scenario_set.factors)
    history, hist_factors = _history(scenario_set)
    shown = factors[:max_panels]
    figures: list[Figure] = []
    if hist_factors == factors and history.shape[0] > paths.shape[1]:
        idx = [factors.index(f) for f in shown]
        caption = (f"{len(shown)} of {len(factors)} factors shown" if len(shown) < len(factors) else "")
        figures += _paged("fan", f"Fan charts — {scenario_set.name}",
                          charts.fan_charts(paths[:, :, idx], history[:, idx], shown), caption)
        png, counts = charts.severity_mix(paths, history, _weights(scenario_set))
        figures.append(Figure("severity_mix", "Severity mix", png,
                              caption=", ".join(f"{k}: {v}" for k, v in counts.items()), data={"counts": counts}))
    else:
        figures += _paged("fan", f"Fan charts — {scenario_set.name} (no dataset history to compare)",
                          charts.fan_charts(paths[:, :, :len(shown)], np.zeros((0, len(shown))), shown))
    fed_path = ((scenario_set.condition or {}).get("extra") or {}).get("fed_path")
    if fed_path:
        png, rows = charts.supervisory_comparison(fed_path, paths, factors)
        figures.append(Figure("supervisory", "Supervisory scenario comparison", png, data={"peak_to_trough": rows}))
    return figures


#: scenarios pooled for the distribution charts (histograms, QQ, |r| ACF, correlations): 2,000 × horizon
#: daily rows is plenty for a chart, and keeps 10,000-scenario sets cheap; the VaR line uses every scenario.
CHART_SCENARIOS = 2000


def _validation_inputs(run, synthetic: np.ndarray | None):
    """What the run judged: its holdout replay when it has one (recomputed, deterministic), else the set."""
    from validation.services.runs import load_inputs

    replayed = run.metrics.filter(name="holdout_comparator").exists()
    return load_inputs(run, replay=replayed, day_ahead=False, synthetic=None if replayed else synthetic)


def validation_run_figures(run, *, synthetic: np.ndarray | None = None,
                           max_panels: int = MAX_FACTOR_PANELS) -> list[Figure]:
    from validation import suite

    inputs = _validation_inputs(run, synthetic)
    syn_all, real, factors = inputs.synthetic, inputs.holdout, inputs.factors
    syn = syn_all[:CHART_SCENARIOS]
    k = min(len(factors), max_panels)
    shown = factors[:k]
    notes = []
    if k < len(factors):
        notes.append(f"{k} of {len(factors)} factors shown")
    if syn.shape[0] < syn_all.shape[0]:
        notes.append(f"first {syn.shape[0]:,} of {syn_all.shape[0]:,} scenarios pooled")
    caption = "; ".join(notes)
    figures = _paged("overlay", "Distribution overlays: daily increments", charts.distribution_overlays(
        syn[:, :, :k], real[:, :k], shown), caption)
    figures += _paged("qq", "QQ plots: synthetic vs holdout", charts.qq_plots(syn[:, :, :k], real[:, :k], shown),
                      caption)
    if syn.shape[1] >= 3:
        figures.append(Figure("acf_abs", "ACF of |r|: synthetic vs holdout", charts.acf_abs(syn, real, factors),
                              caption=caption))
    figures.append(Figure("correlation", "Correlation of daily increments",
                          charts.correlation_heatmaps(syn, real, factors), caption=caption))
    level = float((run.options or {}).get("var_level", 0.99))
    backtest = run.metrics.filter(name="var_exceedance_rate").first()
    var_by_day = (backtest.details or {}).get("var_by_day") if backtest is not None else None
    png, summary = charts.var_exceedances(syn_all, real, suite.reference_weights(inputs), level=level,
                                          var_by_day=var_by_day)
    figures.append(Figure("var_exceedance", "VaR exceedances on the holdout", png, data=summary,
                          caption=f"{summary['exceedances']} exceedances in {summary['days']} days "
                                  f"(expected {summary['expected']:.1f})"))
    return figures


def stress_result_figures(stress: StressResult, *, explanation=None, explain: bool = True,
                          paths: np.ndarray | None = None, max_waterfalls: int = 5) -> list[Figure]:
    """Loss distribution with VaR/ES; with SHAP (computed here unless given, or skipped with
    ``explain=False``) the global importance and one waterfall per worst scenario."""
    pnl = _stored_pnl(stress)
    measures = [m for m in (stress.risk or {}).get("historical") or []]
    figures = [Figure("loss_distribution", "Loss distribution with VaR and ES",
                      charts.loss_distribution(-pnl, measures))]
    if explanation is None and explain:
        explanation = explain_stress(stress, paths=paths, max_worst=max_waterfalls)
    if explanation is not None:
        figures.append(Figure("shap_global", "SHAP global importance (mean |φ| per factor)",
                              charts.shap_global(explanation.ranked())))
        worst = list(zip(explanation.worst_index, explanation.worst_loss, explanation.worst_values, strict=True))
        for rank, (index, loss, values) in enumerate(worst[:max_waterfalls]):
            figures.append(Figure(f"shap_waterfall_{rank + 1}", f"SHAP waterfall — worst scenario #{rank + 1}",
                                  charts.shap_waterfall(explanation.factors, values, explanation.base_value, loss,
                                                        f"scenario {index}"),
                                  data={"index": index, "loss": loss}))
    return figures


def _stored_pnl(stress: StressResult) -> np.ndarray:
    import io

    import pyarrow.parquet as pq

    from governance.artifacts import read_bytes

    table = pq.read_table(io.BytesIO(read_bytes(stress.pnl_path, expected_sha256=stress.pnl_sha256)))
    step = table.column("step").to_numpy()
    pnl = table.column("pnl").to_numpy()
    return pnl[step == step.max()]


def explain_stress(stress: StressResult, *, paths: np.ndarray | None = None, settings=None, max_worst: int = 5):
    """SHAP explanation of a stress result's losses (reports.pdf.explain) on its scenario set and book."""
    from reports.pdf.explain import explain_losses

    paths = scenario_set_array(stress.scenario_set) if paths is None else paths
    book = revaluation.Portfolio.from_dict(stress.portfolio.positions)
    worst = [int(w["index"]) for w in (stress.worst or [])][:max_worst]
    return explain_losses(paths, stress.scenario_set.factors, book, worst_index=worst, settings=settings,
                          losses=-_stored_pnl(stress))


__all__ = ["Figure", "explain_stress", "scenario_set_figures", "stress_result_figures",
           "training_run_figures", "validation_run_figures"]
