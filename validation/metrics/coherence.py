"""Economic-coherence rules checked on every scenario (tier ``coherence``).

A scenario set may match every distributional statistic and still contain paths no economist
would accept: equities crashing while credit spreads tighten, yields far below any plausible
floor, a negative VIX. Rules are given as a JSON-able list of dicts and each yields
``coherence_<rule>`` = the share of scenarios violating it (pass when at most ``threshold``,
default 5 %). Compare the Federal Reserve's scenario-design narrative consistency requirements
(12 CFR 252 Appendix A, Policy Statement on the Scenario Design Framework for Stress Testing) and
Breuer, Jandačka, Rheinberger & Summer (2009), "How to find plausible, severe and useful stress
scenarios", Int. J. Central Banking 5(3).

Rules (``factor`` names must be among the scenario factors; levels are ``level0 + cumulative
increments``, so they apply to factors modelled as *level changes*, e.g. yields, spreads, VIX —
a price modelled by log-returns is positive by construction and needs no rule):

* ``{"rule": "co_move", "factor_a": A, "direction_a": "down", "factor_b": B, "direction_b": "up",
  "min_size": s}`` — among scenarios where A's cumulative move over the horizon is in
  ``direction_a`` by more than ``s``, the share where B does not move in ``direction_b`` (e.g.
  equity down by more than 20 % and credit spreads not up). With no conditioning scenario the
  result is informational.
* ``{"rule": "floor", "factor": F, "level0": x0, "minimum": m}`` — the level path must stay at or
  above ``m`` (e.g. a 10-year yield above −1 %).
* ``{"rule": "ceiling", "factor": F, "level0": x0, "maximum": m}`` — at or below ``m``.
* ``{"rule": "non_negative", "factor": F, "level0": x0}`` — a level that cannot go negative (VIX).

An optional ``"name"`` key labels the rule in the results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from validation.metrics.result import Floor, MetricResult, check_synthetic

TIER = "coherence"
REFERENCE = ("Breuer, Jandacka, Rheinberger & Summer (2009) Int. J. Central Banking 5(3); "
             "12 CFR 252 App. A (scenario design framework)")
DEFAULT_THRESHOLD = 0.05
DIRECTIONS = ("up", "down")

_KEYS = {
    "co_move": ({"factor_a", "direction_a", "factor_b", "direction_b"}, {"min_size", "name"}),
    "floor": ({"factor", "level0", "minimum"}, {"name"}),
    "ceiling": ({"factor", "level0", "maximum"}, {"name"}),
    "non_negative": ({"factor", "level0"}, {"name"}),
}


@dataclass(frozen=True)
class Rule:
    kind: str
    spec: dict

    @property
    def label(self) -> str:
        if "name" in self.spec:
            return str(self.spec["name"])
        if self.kind == "co_move":
            s = self.spec
            return f"{s['factor_a']} {s['direction_a']} -> {s['factor_b']} {s['direction_b']}"
        return f"{self.kind}({self.spec['factor']})"


def parse_rules(rules: Sequence[Mapping], factors: Sequence[str]) -> list[Rule]:
    """Validate JSON-able rule dicts against the factor names; raise ``ValueError`` naming the problem."""
    if isinstance(rules, Mapping) or isinstance(rules, str | bytes):
        raise ValueError("rules must be a list of rule dicts")
    parsed = []
    for i, raw in enumerate(rules):
        if not isinstance(raw, Mapping):
            raise ValueError(f"rule {i} must be a dict, got {type(raw).__name__}")
        kind = raw.get("rule")
        if kind not in _KEYS:
            raise ValueError(f"rule {i}: unknown rule {kind!r}; known rules are {sorted(_KEYS)}")
        required, optional = _KEYS[kind]
        spec = {k: v for k, v in raw.items() if k != "rule"}
        missing = sorted(required - set(spec))
        if missing:
            raise ValueError(f"rule {i} ({kind}): missing {missing}")
        extra = sorted(set(spec) - required - optional)
        if extra:
            raise ValueError(f"rule {i} ({kind}): unknown keys {extra}")
        for key in ("factor", "factor_a", "factor_b"):
            if key in spec and spec[key] not in factors:
                raise ValueError(f"rule {i} ({kind}): unknown factor {spec[key]!r}; factors are {list(factors)}")
        for key in ("direction_a", "direction_b"):
            if key in spec and spec[key] not in DIRECTIONS:
                raise ValueError(f"rule {i} ({kind}): {key} must be 'up' or 'down', got {spec[key]!r}")
        for key in ("level0", "minimum", "maximum", "min_size"):
            if key in spec:
                try:
                    spec[key] = float(spec[key])
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"rule {i} ({kind}): {key} must be a number, got {spec[key]!r}") from exc
                if not np.isfinite(spec[key]):
                    raise ValueError(f"rule {i} ({kind}): {key} must be finite")
        if spec.get("min_size", 0.0) < 0:
            raise ValueError(f"rule {i} ({kind}): min_size must be >= 0")
        parsed.append(Rule(kind=kind, spec=spec))
    return parsed


def _signed(moves: np.ndarray, direction: str) -> np.ndarray:
    return moves if direction == "up" else -moves


def evaluate_rule(paths: np.ndarray, factors: Sequence[str], rule: Rule) -> tuple[float, dict]:
    """(share of scenarios violating ``rule``, details). ``nan`` when no scenario is concerned."""
    index = {name: j for j, name in enumerate(factors)}
    s = rule.spec
    if rule.kind == "co_move":
        total = paths.sum(axis=1)
        move_a = _signed(total[:, index[s["factor_a"]]], s["direction_a"])
        move_b = _signed(total[:, index[s["factor_b"]]], s["direction_b"])
        severe = move_a > s.get("min_size", 0.0)
        violating = severe & ~(move_b > 0)
        n_severe = int(severe.sum())
        share = float(violating.sum() / n_severe) if n_severe else float("nan")
        return share, {"conditioning_scenarios": n_severe, "violations": int(violating.sum()),
                       "violating_indices": np.flatnonzero(violating)[:100].tolist()}
    level = s["level0"] + np.cumsum(paths[:, :, index[s["factor"]]], axis=1)
    if rule.kind == "floor":
        violating = level.min(axis=1) < s["minimum"]
        extreme = float(level.min())
    elif rule.kind == "non_negative":
        violating = level.min(axis=1) < 0.0
        extreme = float(level.min())
    else:  # ceiling
        violating = level.max(axis=1) > s["maximum"]
        extreme = float(level.max())
    return float(violating.mean()), {"conditioning_scenarios": int(paths.shape[0]), "violations": int(violating.sum()),
                                     "extreme_level": extreme,
                                     "violating_indices": np.flatnonzero(violating)[:100].tolist()}


def violation_shares(paths, factors: Sequence[str], rules: Sequence[Mapping]) -> np.ndarray:
    """Raw statistic: the violation share of every rule on ``[n, h, F]`` paths (real windows work too)."""
    paths = check_synthetic(paths, len(factors), name="paths")
    return np.array([evaluate_rule(paths, factors, rule)[0] for rule in parse_rules(rules, factors)])


def coherence_metrics(synthetic, real, factors: Sequence[str], *, rules: Sequence[Mapping],
                      threshold: float | None = None, floor: Floor | Sequence[Floor] | None = None
                      ) -> list[MetricResult]:
    """``coherence_<rule>`` per rule: share of scenarios violating it (max ``threshold``, default 0.05).

    ``real`` (``[T, F]`` increments, optional) is cut into every overlapping window of the scenario
    horizon and the same share is reported in ``details["real_violation_share"]`` — a check that
    the rule holds on history at all. ``floor`` is one ``Floor`` or one per rule.
    """
    synthetic = check_synthetic(synthetic, len(factors))
    parsed = parse_rules(rules, factors)
    if not parsed:
        raise ValueError("no coherence rules given")
    floors = [floor] * len(parsed) if floor is None or isinstance(floor, Floor) else list(floor)
    if len(floors) != len(parsed):
        raise ValueError(f"got {len(floors)} noise floors for {len(parsed)} rules")
    windows = None
    if real is not None:
        values = np.asarray(real, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != len(factors):
            raise ValueError(f"real must be [time, {len(factors)} factors], got shape {values.shape}")
        if not np.isfinite(values).all():
            raise ValueError("real has a non-finite value")
        h = synthetic.shape[1]
        if values.shape[0] >= h:
            windows = values[np.arange(values.shape[0] - h + 1)[:, None] + np.arange(h)[None, :]]
    results = []
    for rule, fl in zip(parsed, floors, strict=True):
        share, details = evaluate_rule(synthetic, factors, rule)
        details = {"rule": {"rule": rule.kind, **rule.spec}, "label": rule.label, **details}
        if windows is not None:
            real_share = evaluate_rule(windows, factors, rule)[0]
            details["real_violation_share"] = real_share if np.isfinite(real_share) else None
        informational = not np.isfinite(share)
        if informational:
            details["note"] = "no scenario meets the rule's condition"
        factor = rule.spec.get("factor", rule.spec.get("factor_a"))
        results.append(MetricResult(
            name=f"coherence_{rule.kind}", tier=TIER, value=share,
            threshold=None if informational else (DEFAULT_THRESHOLD if threshold is None else float(threshold)),
            direction="info" if informational else "max", factor=factor, floor=fl, details=details,
            reference=REFERENCE))
    return results
