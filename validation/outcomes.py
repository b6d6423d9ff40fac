"""From metric results to PASS / WARN / FAIL under a policy (pure).

A metric passes when its value lies inside its real-vs-real noise floor's 90 % band or within the
policy's threshold (``MetricResult.passed``). A metric that does not pass is WARN while within the
policy's ``warn`` bound and FAIL beyond it; a metric whose WARN band depends on the data carries its own
bound in ``details["warn_bound"]`` (the Basel traffic light's yellow zone, whose last count depends on the
holdout's length), used when the policy sets none. Informational metrics are INFO. A metric that had
nothing to test (``MetricResult.not_run``) is NOT_RUN — never PASS.

A tier of the suite is FAIL if any of its metrics fails, else WARN if any warns, else PASS if at least one
metric passed; a tier whose rows are all INFO or NOT_RUN tested nothing and is NOT_RUN. The run's outcome
is the worst over the tiers that ran; a run in which no tier ran is NOT_RUN (and never evidence of a pass).

When the policy's suite settings state a ``familywise`` rule, the per-factor rows of one metric are judged
as a family (``validation.familywise``: Holm across factors, so that a correct model does not collect more
FAILs because it has more factors; a FAIL is at most softened to WARN, never to PASS). Without it, every row
is judged on its own, as policies before version 4 were.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from validation import familywise
from validation.metrics.result import MetricResult

ORDER = {"NOT_RUN": -1, "INFO": -1, "PASS": 0, "WARN": 1, "FAIL": 2}
NOT_RUN = "NOT_RUN"


@dataclass(frozen=True)
class Judged:
    result: MetricResult
    outcome: str
    threshold: float | None
    warn: float | None


def _within(value: float, bound: float, direction: str) -> bool:
    if direction == "max":
        return value <= bound
    if direction == "min":
        return value >= bound
    return abs(value) <= bound


def judge(results: Sequence[MetricResult], thresholds: Mapping[str, Mapping[str, float]],
          settings: Mapping | None = None) -> list[Judged]:
    """Each result's outcome under ``thresholds``; ``settings`` (a policy's ``suite_settings``) may add
    family-wise control across factors (its ``"familywise"`` entry; absent: row by row)."""
    judged = []
    for result in results:
        policy = thresholds.get(result.name, {})
        threshold = policy.get("threshold", result.threshold)
        warn = policy.get("warn", result.details.get("warn_bound") if result.details else None)
        applied = result.with_threshold(threshold)
        passed = applied.passed
        if applied.not_run:
            outcome = NOT_RUN
        elif passed is None:
            outcome = "INFO"
        elif passed:
            outcome = "PASS"
        elif warn is not None and _within(applied.value, warn, applied.direction):
            outcome = "WARN"
        else:
            outcome = "FAIL"
        judged.append(Judged(result=applied, outcome=outcome, threshold=threshold, warn=warn))
    rule = (settings or {}).get("familywise")
    if not rule:
        return judged
    adjusted = familywise.adjust([(j.result, j.outcome) for j in judged], rule)
    return [replace(j, result=result, outcome=outcome) for j, (result, outcome) in zip(judged, adjusted, strict=True)]


def worst(outcomes) -> str:
    """FAIL > WARN > PASS over what was tested; ``NOT_RUN`` when nothing was (only INFO/NOT_RUN, or none)."""
    tested = [o for o in outcomes if ORDER[o] >= 0]
    if not tested:
        return NOT_RUN
    return max(tested, key=lambda o: ORDER[o])


def not_run_tiers(tier_outcomes: Mapping[str, str]) -> list[str]:
    """The tiers that tested nothing (to be named next to the run's outcome)."""
    return sorted(tier for tier, outcome in tier_outcomes.items() if outcome == NOT_RUN)


def summarise(judged: Sequence[Judged]) -> tuple[dict[str, str], str]:
    tiers: dict[str, list[str]] = {}
    for item in judged:
        tiers.setdefault(item.result.tier, []).append(item.outcome)
    tier_outcomes = {tier: worst(values) for tier, values in sorted(tiers.items())}
    return tier_outcomes, worst(tier_outcomes.values())


def finite_json(value):
    """The value with numpy scalars/arrays as Python and non-finite floats as None (JSON has no inf)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    return value
