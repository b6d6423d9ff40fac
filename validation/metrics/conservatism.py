"""Agreement and conservatism across the model versions in use (tier ``comparison``).

The industry-practice survey of generative risk models (champion/challenger versions; risk limits set on the
most conservative scenario across the versions in production) reports the supervisory expectation that
AI-generated scenarios be *at least as conservative as traditional approaches across the statistical
measures*; Clark & Fowler's diffusion stress-scenario paper (§4) adds that disagreement among independent
generators may signal manipulation or model inadequacy. Two checks, on losses (positive = a loss) such as
"severe var_99" per version:

* ``version_disagreement`` (per measure of the subject version, ``min``): the subject's value over the
  median of the *other* versions that have that measure (the same definition as the comparison table's
  disagreement flags, ``scenarios.services.comparison``). 1 is the consensus; a value far below 1 is a version
  that sees much less risk than the others for the same condition.
* ``conservatism_vs_benchmark`` (``max``): the share of the measures that both have on which the AI
  champion's loss is below the classical benchmark's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from validation.metrics.result import MetricResult

TIER = "comparison"
REFERENCE = ("Industry practice survey of generative risk models (champion/challenger; at least as conservative "
             "as traditional approaches); Clark & Fowler, diffusion stress-scenario paper, §4 (ensemble disagreement)")
DEFAULT_DISAGREEMENT = 0.5  # tier-2 policy bounds; the policy's values replace them when judged
DEFAULT_SHARE_BELOW = 0.25


def _measures(values: Any, what: str) -> dict[str, float]:
    if not isinstance(values, Mapping):
        raise ValueError(f"{what} must be a mapping {{measure: loss}}")
    out = {}
    for measure, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer) \
                or not math.isfinite(value):
            raise ValueError(f"{what}: measure {measure!r} must be a finite number, got {value!r}")
        out[str(measure)] = float(value)
    return out


def version_disagreement(measures: Mapping[str, Mapping[str, float]], *, subject: str) -> list[MetricResult]:
    """Per measure of ``subject``: its loss over the median loss of the other versions that have the measure."""
    if not isinstance(measures, Mapping) or not measures:
        raise ValueError("measures must be a non-empty mapping {version: {measure: loss}}")
    table = {str(version): _measures(values, f"version {version!r}") for version, values in measures.items()}
    if subject not in table:
        raise ValueError(f"the subject {subject!r} is not among the versions {sorted(table)}")
    if not table[subject]:
        raise ValueError(f"the subject {subject!r} has no measure")
    if len(table) == 1:
        return [MetricResult.skipped(name="version_disagreement", tier=TIER, reference=REFERENCE,
                                     reason=f"{subject} is the only version in use: nothing to compare with")]
    results = []
    for measure, own in table[subject].items():
        values = {version: row[measure] for version, row in table.items() if measure in row}
        if len(values) < 2:
            results.append(MetricResult.skipped(
                name="version_disagreement", tier=TIER, factor=measure, reference=REFERENCE,
                reason=f"no other version has the measure {measure!r}"))
            continue
        median = float(np.median([v for version, v in values.items() if version != subject]))
        lowest = min(values, key=values.get)
        details = {"subject": subject, "values": values, "median": median, "lowest": lowest,
                   "lowest_value": values[lowest]}
        if not median > 0:
            results.append(MetricResult.skipped(
                name="version_disagreement", tier=TIER, factor=measure, reference=REFERENCE, details=details,
                reason=f"the median {measure} of the other versions is not a loss ({median:g}): no ratio"))
            continue
        ratio = own / median
        details["message"] = (f"{subject} {measure} is {own:.4g}, {ratio:.2f}× the median {median:.4g} of the "
                              f"{len(values) - 1} other versions (lowest: {lowest})")
        results.append(MetricResult(name="version_disagreement", tier=TIER, value=ratio,
                                    threshold=DEFAULT_DISAGREEMENT, direction="min", factor=measure,
                                    reference=REFERENCE, details=details))
    return results


def conservatism_vs_benchmark(champion: Mapping[str, float] | None,
                              benchmark: Mapping[str, float] | None) -> MetricResult:
    """The share of the common measures on which the champion's loss is below the benchmark's."""
    if benchmark is None:
        return MetricResult.skipped(name="conservatism_vs_benchmark", tier=TIER, reference=REFERENCE,
                                    reason="no classical benchmark to compare with")
    if champion is None:
        raise ValueError("champion must be a mapping {measure: loss}")
    champion, benchmark = _measures(champion, "champion"), _measures(benchmark, "benchmark")
    common = [m for m in champion if m in benchmark]
    if not common:
        return MetricResult.skipped(name="conservatism_vs_benchmark", tier=TIER, reference=REFERENCE,
                                    reason="the champion and the benchmark have no measure in common")
    below = [{"measure": m, "champion": champion[m], "benchmark": benchmark[m]} for m in common
             if champion[m] < benchmark[m]]
    return MetricResult(
        name="conservatism_vs_benchmark", tier=TIER, value=len(below) / len(common), threshold=DEFAULT_SHARE_BELOW,
        direction="max", reference=REFERENCE,
        details={"measures": len(common), "below": below,
                 "message": (f"the champion is less conservative than the benchmark on {len(below)} of "
                             f"{len(common)} measures")})


__all__ = ["TIER", "conservatism_vs_benchmark", "version_disagreement"]
