"""Anti-gaming audit of a conditional generator (tier ``adversarial``).

Clark & Fowler's diffusion stress-scenario paper (§4–5: adversarial robustness and regulatory arbitrage)
warns that conditioning inputs can be crafted to steer a generator towards favourable outcomes, and asks for
post-generation auditing of the scenario distributions and adversarial testing as a check against gaming. This
tier sweeps the condition space on a one-at-a-time grid around the unconditioned model and checks that asking
for more stress never gives a *smaller* book loss:

* ``condition_grid(settings)`` builds the grid: cell 0 is the unconditioned baseline, then each axis
  (``severity``, ``vol_multiplier``, ``equity_move``) with its values from less to more stress. An edge
  ``(i, j)`` says cell ``j`` asks for more stress than cell ``i``: the baseline → the first value of each
  axis that asks for more than the baseline (a vol multiplier of 1 or an equity move of 0 asks for exactly
  the baseline, and equal asks may give equal losses), and consecutive values along each axis.
* ``adversarial_metrics(cells, losses, edges, ...)`` — the service samples every cell with *common random
  numbers*, so an engine that ignores the condition gives identical losses and every edge reads benign:
  ``adversarial_benign_share`` (``max``): share of edges whose more-stressed cell's ``quantile`` loss is not
  strictly greater; ``severity_monotone`` (``max``): the number of consecutive severity cells (mild ≤
  moderate ≤ severe ≤ extreme) whose ``quantile`` loss does not strictly increase; and
  ``adversarial_anomalous_cells`` (``max``): share of cells whose share of paths outside the plausibility
  region (Breuer et al. 2009; ``validation.metrics.plausibility``) exceeds ``outside_bound``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from validation.metrics.result import MetricResult

TIER = "adversarial"
REFERENCE = "Clark & Fowler, diffusion stress-scenario paper, §4-5 (adversarial conditioning audit)"
PLAUSIBILITY_REFERENCE = ("Clark & Fowler, diffusion stress-scenario paper, §4-5; Breuer et al. (2009) IJCB 5(3) "
                          "plausibility region")
AXES = ("severity", "vol_multiplier", "equity_move")
NAMES = ("adversarial_benign_share", "severity_monotone", "adversarial_anomalous_cells")
MINUS = "\u2212"


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _label(axis: str, value: Any) -> str:
    if axis == "severity":
        return str(value)
    if axis == "vol_multiplier":
        return f"vol ×{value:g}"
    return ("equity " + f"{100.0 * value:+g} %").replace("-", MINUS)


def _asks_more_than_baseline(axis: str, value: Any) -> bool:
    if axis == "severity":
        return True
    if axis == "vol_multiplier":
        return value > 1.0
    return value < 0.0


def condition_grid(settings: Mapping[str, Any]) -> tuple[list[dict], list[tuple[int, int]]]:
    """The cells of the one-at-a-time grid and its edges ``(i, j)``, ``j`` asking for more stress than ``i``.

    Each axis's values must be given from less to more stress: distinct severities (in the order the
    engine means them), increasing positive vol multipliers, decreasing equity moves.
    """
    if not isinstance(settings, Mapping):
        raise ValueError("settings must be a mapping {severity, vol_multiplier, equity_move}")
    cells: list[dict] = [{"axis": "baseline", "value": None, "label": "unconditioned", "condition": {}}]
    edges: list[tuple[int, int]] = []
    for axis in AXES:
        values = list(settings.get(axis) or ())
        if axis == "severity":
            if any(not isinstance(v, str) or not v for v in values) or len(set(values)) != len(values):
                raise ValueError(f"severity must be a list of distinct severity names, got {values!r}")
        else:
            values = [_number(v, f"{axis} value") for v in values]
            if axis == "vol_multiplier" and any(v <= 0 for v in values):
                raise ValueError(f"vol_multiplier values must be positive, got {values!r}")
            steps = np.diff(values) if axis == "vol_multiplier" else -np.diff(values)
            if (steps <= 0).any():
                order = "increasing" if axis == "vol_multiplier" else "decreasing (more negative)"
                raise ValueError(f"{axis} values must be strictly {order}, from less to more stress: {values!r}")
        first_more = True
        previous = None
        for value in values:
            index = len(cells)
            cells.append({"axis": axis, "value": value, "label": _label(axis, value), "condition": {axis: value}})
            if first_more and _asks_more_than_baseline(axis, value):
                edges.append((0, index))
                first_more = False
            if previous is not None:
                edges.append((previous, index))
            previous = index
    return cells, edges


def _check(cells, losses, edges, quantile, outside_shares, outside_bound):
    if not isinstance(cells, Sequence):
        raise ValueError("cells must be a list of grid cells")
    if len(losses) != len(cells):
        raise ValueError(f"losses has {len(losses)} entries but there are {len(cells)} cells")
    arrays = []
    for k, loss in enumerate(losses):
        array = np.asarray(loss, dtype=np.float64).reshape(-1)
        if array.size == 0:
            raise ValueError(f"cell {k} has no losses")
        if not np.isfinite(array).all():
            raise ValueError(f"cell {k} has a non-finite loss")
        arrays.append(array)
    checked_edges = []
    for edge in edges:
        i, j = (int(e) for e in edge)
        if not (0 <= i < len(cells) and 0 <= j < len(cells)) or i == j:
            raise ValueError(f"edge {tuple(edge)!r} must join two different cells among 0..{len(cells) - 1}")
        checked_edges.append((i, j))
    q = _number(quantile, "quantile")
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile must lie in (0, 1), got {quantile!r}")
    shares = None
    if outside_shares is not None:
        shares = np.asarray(outside_shares, dtype=np.float64).reshape(-1)
        if shares.size != len(cells):
            raise ValueError(f"outside_shares has {shares.size} entries but there are {len(cells)} cells")
        if not (np.isfinite(shares).all() and (shares >= 0).all() and (shares <= 1).all()):
            raise ValueError("outside_shares must be shares in [0, 1]")
    bound = _number(outside_bound, "outside_bound")
    if not 0.0 <= bound <= 1.0:
        raise ValueError(f"outside_bound must lie in [0, 1], got {outside_bound!r}")
    return arrays, checked_edges, q, shares, bound


def _label_of(cell: Any, k: int) -> str:
    if isinstance(cell, Mapping):
        return str(cell.get("label") or cell.get("axis") or f"cell {k}")
    return f"cell {k}"


def adversarial_metrics(cells: Sequence[Mapping[str, Any]], losses: Sequence[Any],
                        edges: Sequence[tuple[int, int]], *, quantile: float = 0.99,
                        outside_shares: Sequence[float] | None = None,
                        outside_bound: float = 0.05) -> list[MetricResult]:
    """Benign edges, severity-order violations and anomalous cells of the grid (see the module docstring)."""
    arrays, edges, q, shares, bound = _check(cells, losses, edges, quantile, outside_shares, outside_bound)
    if len(cells) < 2:
        reason = f"the grid has {len(cells)} cell(s): nothing to compare"
        return [MetricResult.skipped(name=name, tier=TIER, reason=reason, reference=REFERENCE) for name in NAMES]
    labels = [_label_of(cell, k) for k, cell in enumerate(cells)]
    loss_q = [float(np.quantile(a, q)) for a in arrays]
    per_cell = {labels[k]: loss_q[k] for k in range(len(cells))}
    results = []

    if edges:
        benign = [{"from": labels[i], "to": labels[j], "loss_from": loss_q[i], "loss_to": loss_q[j]}
                  for i, j in edges if not loss_q[j] > loss_q[i]]
        results.append(MetricResult(
            name="adversarial_benign_share", tier=TIER, value=len(benign) / len(edges), threshold=0.0,
            direction="max", reference=REFERENCE,
            details={"quantile": q, "edges": len(edges), "benign": benign, "loss_per_cell": per_cell,
                     "message": (f"{len(benign)} of {len(edges)} steps to more stress give no larger "
                                 f"{q:.0%} book loss")}))
    else:
        results.append(MetricResult.skipped(name="adversarial_benign_share", tier=TIER, reference=REFERENCE,
                                            reason="the grid has no pair of cells asking for more stress"))

    severity = [k for k, cell in enumerate(cells) if isinstance(cell, Mapping) and cell.get("axis") == "severity"]
    if len(severity) >= 2:
        pairs = list(zip(severity[:-1], severity[1:], strict=True))
        violations = [{"from": labels[i], "to": labels[j], "loss_from": loss_q[i], "loss_to": loss_q[j]}
                      for i, j in pairs if not loss_q[j] > loss_q[i]]
        order = " < ".join(labels[k] for k in severity)
        results.append(MetricResult(
            name="severity_monotone", tier=TIER, value=float(len(violations)), threshold=0.0, direction="max",
            reference=REFERENCE,
            details={"quantile": q, "loss_per_severity": {labels[k]: loss_q[k] for k in severity},
                     "violations": violations,
                     "message": (f"{len(violations)} of {len(pairs)} severity steps ({order}) do not raise the "
                                 f"{q:.0%} book loss")}))
    else:
        results.append(MetricResult.skipped(name="severity_monotone", tier=TIER, reference=REFERENCE,
                                            reason=f"the grid has {len(severity)} severity cell(s): no order to test"))

    if shares is None:
        results.append(MetricResult.skipped(name="adversarial_anomalous_cells", tier=TIER,
                                            reference=PLAUSIBILITY_REFERENCE,
                                            reason="no plausibility shares were computed for the grid's cells"))
    else:
        flagged = [{"cell": labels[k], "outside_share": float(shares[k])} for k in range(len(cells))
                   if shares[k] > bound]
        results.append(MetricResult(
            name="adversarial_anomalous_cells", tier=TIER, value=len(flagged) / len(cells), threshold=0.1,
            direction="max", reference=PLAUSIBILITY_REFERENCE,
            details={"outside_bound": bound, "anomalous": flagged,
                     "outside_share_per_cell": {labels[k]: float(shares[k]) for k in range(len(cells))},
                     "message": (f"{len(flagged)} of {len(cells)} conditions put more than {bound:.0%} of their "
                                 "paths outside the plausibility region")}))
    return results


__all__ = ["TIER", "adversarial_metrics", "condition_grid"]
