"""Family-wise control of false FAILs across the factors of one metric (pure; issue 15 §5).

A 20-factor validation judges ~725 rows. Each per-factor row is a test of size about 5 %: a metric
with a real-vs-real noise floor passes inside the floor's 90 % band, so a perfect generator leaves
it on the wrong side 5 % of the time. Judged row by row, a correct model with 20 factors collects
about one spurious non-PASS per metric, 7 times as many as with 3 factors. The rule below keeps
the chance that a correct model gets *any* false FAIL in a metric's family at most ``alpha``,
whatever the number of factors.

**Family.** The tested rows (not ``NOT_RUN``, not ``INFO``) that share a metric name and carry a
factor; a family of one row is left as it is (a single test already has size ``row_size``).

**Rule (Holm 1979, step-down Bonferroni).** Every row of a family gets a p-value:

* a row with a noise floor (5 %, 50 %, 95 % points of the real-vs-real statistic): the floor is
  read as a normal law — centre the median, one-sided spread ``(95 % point − median) / z(0.95)``
  (``(median − 5 % point)`` for a ``min`` metric, on ``|value|`` for an ``abs_max`` one) — and the
  p-value is the chance of a value at least as far out. At ``alpha = row_size = 0.05`` and one row
  this is exactly the floor's 90 % band, so single rows judge as before;
* else a row with its own ``pvalue`` (a likelihood-ratio or binomial test): that p-value.

Holm's procedure at level ``alpha`` over the family's p-values then says which rows are
significant at the family level (the family-wise error rate is at most ``alpha`` for any
dependence between factors). A WARN or FAIL row that Holm does *not* reject is consistent with
noise at the family level: a WARN becomes PASS, a FAIL becomes WARN — never PASS, because a value
beyond the policy's warn bound is a material deviation that a person must look at, even when the
data cannot tell it from noise. Rows that Holm rejects keep their verdict.

**Rows with no noise model** (no floor, no p-value; e.g. the per-factor stylized facts, which are
0/1): a binomial count test. Under a correct model each row fails with probability at most
``row_size``; when the family's ``k`` FAIL rows out of ``m`` are not surprising
(``P(Bin(m, row_size) >= k) > alpha``) they become WARN (never PASS); more failures than chance
explains keep every FAIL.

What was done is written into each non-PASS row's ``details["familywise"]`` (family size, p-value,
Holm-adjusted p-value, whether rejected, the outcome before and after). The rule and its parameters
are the policy's ``suite_settings["familywise"]``; a policy without that key is judged row by row,
exactly as before.

References: S. Holm (1979), "A simple sequentially rejective multiple test procedure",
Scandinavian Journal of Statistics 6:65–70; Y. Hochberg & A. C. Tamhane (1987), *Multiple
Comparison Procedures*, ch. 2 (family-wise error rate).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import stats

from validation.metrics.result import MetricResult

METHODS = ("holm",)
SCOPE = "factors within a metric"
DEFAULTS = {"method": "holm", "alpha": 0.05, "row_size": 0.05, "scope": SCOPE}


@dataclass(frozen=True)
class Config:
    alpha: float
    row_size: float


def check_config(settings: Mapping[str, Any] | None) -> Config | None:
    """The family-wise settings of a policy, or None when the policy states none (judge row by row)."""
    if not settings:
        return None
    if not isinstance(settings, Mapping):
        raise ValueError(f"familywise settings must be a mapping, got {settings!r}")
    method = settings.get("method", "holm")
    if method not in METHODS:
        raise ValueError(f"familywise method must be one of {', '.join(METHODS)}, got {method!r}")
    scope = settings.get("scope", SCOPE)
    if scope != SCOPE:
        raise ValueError(f"familywise scope must be {SCOPE!r}, got {scope!r}")
    values = {}
    for key in ("alpha", "row_size"):
        value = settings.get(key, DEFAULTS[key])
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 0.5:
            raise ValueError(f"familywise {key} must be a number in (0, 0.5), got {value!r}")
        values[key] = float(value)
    return Config(**values)


def floor_pvalue(result: MetricResult, row_size: float = 0.05) -> float | None:
    """One-sided p-value of ``result.value`` under its noise floor read as a normal law (None: no floor).

    The floor's 95 % point (5 % point for a ``min`` metric) is ``z(1 - row_size)`` spreads from the
    median, so a value on the band's edge has p-value ``row_size``.
    """
    floor, value = result.floor, result.value
    if floor is None or not all(math.isfinite(x) for x in (floor.low, floor.median, floor.high)):
        return None
    if not math.isfinite(value):
        return 0.0
    z_edge = stats.norm.ppf(1.0 - row_size)
    if result.direction == "max":
        excess, spread = value - floor.median, floor.high - floor.median
    elif result.direction == "min":
        excess, spread = floor.median - value, floor.median - floor.low
    elif result.direction == "abs_max":
        centre = abs(floor.median)
        excess, spread = abs(value) - centre, max(abs(floor.low), abs(floor.high)) - centre
    else:
        return None
    if spread <= 0:
        return 0.0 if excess > 0 else 1.0
    return float(stats.norm.sf(z_edge * excess / spread))


def holm_adjusted(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979): reject row i at level a iff adjusted[i] <= a."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted_sorted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(adjusted_sorted, 1.0)
    return adjusted


SOFTER = {"WARN": "PASS", "FAIL": "WARN"}


def adjust(rows: Sequence[tuple[MetricResult, str]], settings: Mapping[str, Any] | None
           ) -> list[tuple[MetricResult, str]]:
    """The rows' (result, outcome) pairs after family-wise control (see the module docstring).

    ``rows`` are the judge's per-row verdicts in order; the same order comes back. Without
    settings the rows come back unchanged.
    """
    config = check_config(settings)
    rows = list(rows)
    if config is None:
        return rows
    families: dict[str, list[int]] = {}
    for i, (result, outcome) in enumerate(rows):
        if result.factor is not None and outcome in ("PASS", "WARN", "FAIL"):
            families.setdefault(result.name, []).append(i)
    for name, members in families.items():
        m = len(members)
        if m < 2 or all(rows[i][1] == "PASS" for i in members):
            continue
        pvalues = {}
        for i in members:
            result = rows[i][0]
            p = floor_pvalue(result, config.row_size)
            if p is None and result.pvalue is not None and math.isfinite(result.pvalue):
                p = float(result.pvalue)
            if p is not None:
                pvalues[i] = p
        adjusted = dict(zip(pvalues, holm_adjusted(list(pvalues.values())), strict=True)) if pvalues else {}
        untested = [i for i in members if i not in pvalues]
        failing = sum(rows[i][1] == "FAIL" for i in untested)
        count_p = float(stats.binom.sf(failing - 1, len(untested), config.row_size)) if failing else 1.0
        for i in members:
            result, outcome = rows[i]
            if outcome == "PASS":
                continue
            record: dict[str, Any] = {"method": "holm", "alpha": config.alpha, "scope": SCOPE, "family": name,
                                      "size": m, "before": outcome}
            if i in pvalues:
                record |= {"pvalue": pvalues[i], "adjusted_pvalue": float(adjusted[i]),
                           "pvalue_from": "noise floor (normal)" if result.floor is not None else "the metric's test"}
                explained = adjusted[i] > config.alpha
            else:
                record |= {"method": "binomial count", "row_size": config.row_size, "failing": failing,
                           "without_noise_model": len(untested), "count_pvalue": count_p}
                explained = outcome == "FAIL" and count_p > config.alpha
            after = SOFTER[outcome] if explained else outcome
            record |= {"significant": not explained, "after": after}
            rows[i] = (replace(result, details=dict(result.details or {}) | {"familywise": record}), after)
    return rows
