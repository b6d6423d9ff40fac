"""Validation runs side by side (issue 17 §6): metric by metric, overlaid fan charts and loss distributions.

Nothing is drawn with matplotlib in the request: the charts are inline SVG built from stored numbers.
Fan charts need per-step quantiles of a scenario set: its figure-set task stores them with its charts
(``FigureSet.summary``); for a set drawn before that they are computed from its stored Parquet and cached by
SHA-256. Measured on this machine (read + verify + quantiles): 2,000 ×
20 × 3 values ≈ 57 ms, the demo's 10,000 × 20 × 3 ≈ 220 ms, 10,000 × 60 × 5 ≈ 1.4 s. So only sets up to
``FAN_MAX_VALUES`` are read in a request; for larger ones the page shows the set's stored fan chart
PNGs (drawn by the figure-set task, ``portal.charts``) side by side instead. Loss distributions are the
stress results' stored summaries (histogram and quantiles), read as they are.
"""

from __future__ import annotations

import logging

import numpy as np
from django.core.cache import cache
from django.shortcuts import render

from governance.errors import InvalidInput
from portal.pages import page
from reports.models import FigureSet, FigureSubject
from reports.services.figure_sets import FAN_QUANTILES, fan_quantiles_of
from scenarios.models import StressResult
from validation.models import MetricRow
from validation.selectors.runs import validation_run_list

log = logging.getLogger(__name__)

MIN_RUNS, MAX_RUNS = 2, 4
FAN_MAX_VALUES = 150_000  # n × horizon × factors read in a request at most (< 100 ms measured)
CACHE_SECONDS = 24 * 3600
COLOURS = ("#1f4e8c", "#c0392b", "#16803c", "#8e44ad")
WIDTH, HEIGHT, PAD = 560, 260, 40


def parse_ids(values: list[str]) -> list[int]:
    ids: list[int] = []
    for value in values:
        if not value.strip().isdigit():
            raise InvalidInput(f"run ids are whole numbers, not {value[:20]!r}", details={"ids": [value[:20]]})
        if int(value) not in ids:
            ids.append(int(value))
    if not MIN_RUNS <= len(ids) <= MAX_RUNS:
        raise InvalidInput(f"pick from {MIN_RUNS} to {MAX_RUNS} validation runs to compare (got {len(ids)})",
                           details={"ids": [f"{MIN_RUNS} to {MAX_RUNS} runs"]})
    return ids


def metric_table(runs) -> list[dict]:
    """One row per metric (tier, name, factor) present in any run: per run outcome, statistic and
    threshold, and the statistic's difference from the first run (the baseline)."""
    by_run: dict[int, dict[tuple, MetricRow]] = {r.pk: {} for r in runs}
    for row in MetricRow.objects.filter(run__in=runs).order_by("tier", "name", "factor", "pk"):
        by_run[row.run_id].setdefault((row.tier, row.name, row.factor), row)
    keys = sorted({key for rows in by_run.values() for key in rows})
    base = runs[0].pk
    table = []
    for key in keys:
        cells = []
        baseline = by_run[base].get(key)
        for run in runs:
            row = by_run[run.pk].get(key)
            delta = None
            if run.pk != base and row is not None and baseline is not None \
                    and row.value is not None and baseline.value is not None:
                delta = row.value - baseline.value
            cells.append({"row": row, "delta": delta})
        outcomes = {c["row"].outcome for c in cells if c["row"] is not None}
        table.append({"tier": key[0], "name": key[1], "factor": key[2], "cells": cells,
                      "differs": len(outcomes) > 1})
    return table


def fan_quantiles(scenario_set) -> dict | None:
    """Per-step quantiles of the cumulative paths of every factor: {factor: [[q per step] per quantile]}.

    Read from the set's figure set (its task stores them beside the charts); for a set drawn before that,
    computed here only when the set is small (``FAN_MAX_VALUES``), cached by SHA-256."""
    stored = (FigureSet.objects.filter(subject_kind=FigureSubject.SCENARIO_SET, subject_id=scenario_set.pk,
                                       status="SUCCEEDED").values_list("summary", flat=True).first() or {})
    if stored.get("fan") and tuple(stored.get("quantiles", ())) == FAN_QUANTILES:
        return stored["fan"]
    if scenario_set.n_scenarios * scenario_set.horizon * max(1, len(scenario_set.factors or [])) > FAN_MAX_VALUES:
        return None
    key = f"portal:fan:{scenario_set.sha256}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        result = fan_quantiles_of(scenario_set)
    except Exception:  # noqa: BLE001 - a missing or damaged file must not take the page down
        log.exception("reading scenario set %s for a fan chart failed", scenario_set.pk)
        return None
    cache.set(key, result, CACHE_SECONDS)
    return result


def stored_fans(runs) -> list[dict]:
    """For runs whose set is too large to read here: the set's stored fan chart PNGs (never drawn here)."""
    from portal import charts

    found = charts.charts_for_many("scenario-set", [run.scenario_set for run in runs])
    out = []
    for run in runs:
        state = found[run.scenario_set_id]
        out.append({"run": run, "state": state,
                    "charts": [c for c in state.charts if c.name.startswith("fan")] if state.state == "ready" else []})
    return out


def _scale(lo: float, hi: float, out_lo: float, out_hi: float):
    span = (hi - lo) or 1.0
    return lambda v: out_lo + (v - lo) / span * (out_hi - out_lo)


def _ticks(lo: float, hi: float, to_y) -> list[dict]:
    return [{"y": round(to_y(v), 1), "label": f"{v:.3g}"} for v in np.linspace(lo, hi, 5)]


def fan_chart(runs, fans: dict[int, dict | None], factor: str) -> dict | None:
    """Overlaid 5–95 % bands, 25–75 % bands and medians of one factor, one colour per run."""
    series = [(i, run, fans[run.pk][factor]) for i, run in enumerate(runs)
              if fans.get(run.pk) and factor in fans[run.pk]]
    if not series:
        return None
    horizon = max(len(qs[0]) for _, _, qs in series)
    lo = min(min(qs[0]) for _, _, qs in series)
    hi = max(max(qs[-1]) for _, _, qs in series)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    to_x = _scale(0, max(1, horizon), PAD, WIDTH - 10)
    to_y = _scale(lo, hi, HEIGHT - 25, 10)
    shapes = []
    for i, run, qs in series:
        steps = range(len(qs[0]))

        def band(low, high, qs=qs, steps=steps):
            upper = [f"{to_x(s + 1):.1f},{to_y(qs[high][s]):.1f}" for s in steps]
            lower = [f"{to_x(s + 1):.1f},{to_y(qs[low][s]):.1f}" for s in reversed(steps)]
            return " ".join([f"{to_x(0):.1f},{to_y(0):.1f}", *upper, *lower])

        shapes.append({"run": run, "colour": COLOURS[i % len(COLOURS)], "outer": band(0, 4), "inner": band(1, 3),
                       "median": " ".join([f"{to_x(0):.1f},{to_y(0):.1f}"]
                                          + [f"{to_x(s + 1):.1f},{to_y(qs[2][s]):.1f}" for s in steps])})
    return {"factor": factor, "shapes": shapes, "width": WIDTH, "height": HEIGHT, "pad": PAD,
            "ticks": _ticks(lo, hi, to_y), "zero": round(to_y(0), 1), "horizon": horizon,
            "x_end": round(to_x(horizon), 1)}


def loss_chart(runs) -> dict | None:
    """The stored loss distributions of each run's scenario set (its latest stress result, on the
    portfolio all the runs share where there is one), as overlaid density step lines."""
    stresses = {}
    for run in runs:
        results = list(StressResult.objects.filter(scenario_set_id=run.scenario_set_id)
                       .select_related("portfolio").order_by("-created_at"))
        stresses[run.pk] = results
    common = set.intersection(*[{s.portfolio_id for s in results} for results in stresses.values()]) \
        if all(stresses.values()) else set()
    picked = []
    for i, run in enumerate(runs):
        results = stresses[run.pk]
        choice = next((s for s in results if s.portfolio_id in common), results[0] if results else None)
        dist = (choice.distribution or {}) if choice else {}
        edges, counts = dist.get("bin_edges") or [], dist.get("counts") or []
        if choice is None or len(edges) != len(counts) + 1 or not counts:
            continue
        picked.append((i, run, choice, edges, counts))
    if not picked:
        return None
    lo = min(e[0] for *_, e, _ in picked)
    hi = max(e[-1] for *_, e, _ in picked)
    densities = []
    for *_, edges, counts in picked:
        total = sum(counts) or 1
        densities.append([c / total / ((edges[k + 1] - edges[k]) or 1.0) for k, c in enumerate(counts)])
    top = max(max(d) for d in densities) or 1.0
    to_x = _scale(lo, hi, PAD, WIDTH - 10)
    to_y = _scale(0, top, HEIGHT - 25, 10)
    lines = []
    for (i, run, stress, edges, _counts), density in zip(picked, densities, strict=True):
        points = [f"{to_x(edges[0]):.1f},{to_y(0):.1f}"]
        for k, d in enumerate(density):
            points += [f"{to_x(edges[k]):.1f},{to_y(d):.1f}", f"{to_x(edges[k + 1]):.1f},{to_y(d):.1f}"]
        points.append(f"{to_x(edges[-1]):.1f},{to_y(0):.1f}")
        quantiles = (stress.distribution or {}).get("quantiles") or {}
        lines.append({"run": run, "stress": stress, "colour": COLOURS[i % len(COLOURS)], "points": " ".join(points),
                      "q99": quantiles.get("0.99")})
    x_ticks = [{"x": round(to_x(v), 1), "label": f"{v:,.0f}"} for v in np.linspace(lo, hi, 5)]
    return {"lines": lines, "width": WIDTH, "height": HEIGHT, "pad": PAD, "x_ticks": x_ticks,
            "base": round(to_y(0), 1), "common": bool(common)}


@page()
def compare_runs(request):
    ids = parse_ids(request.GET.getlist("ids"))
    found = {r.pk: r for r in validation_run_list(user=request.user).filter(pk__in=ids)
             .select_related("scenario_set", "model_version__model")}
    missing = [i for i in ids if i not in found]
    if missing:
        from governance.errors import NotFound

        raise NotFound(f"validation run {missing[0]} does not exist or is not visible to you")
    runs = [found[i] for i in ids]
    fans = {run.pk: fan_quantiles(run.scenario_set) for run in runs}
    stored = stored_fans([run for run in runs if fans[run.pk] is None])
    for item in stored:
        item["index"] = runs.index(item["run"]) + 1
    factors = []
    for run in runs:
        for name in run.scenario_set.factors or []:
            if str(name) not in factors:
                factors.append(str(name))
    factor = request.GET.get("factor") or (factors[0] if factors else "")
    if factors and factor not in factors:
        raise InvalidInput(f"factor must be one of {', '.join(factors)}", details={"factor": [factor[:40]]})
    table = metric_table(runs)
    only_differences = request.GET.get("differences") == "1"
    return render(request, "portal/explore/compare.html", {
        "runs": runs, "colours": COLOURS, "table": [r for r in table if r["differs"]] if only_differences else table,
        "metric_count": len(table), "differing": sum(1 for r in table if r["differs"]),
        "only_differences": only_differences, "fan": fan_chart(runs, fans, factor) if factor else None,
        "stored_fans": stored, "factors": factors, "factor": factor,
        "loss": loss_chart(runs), "ids": ids, "max_runs": MAX_RUNS,
    })
