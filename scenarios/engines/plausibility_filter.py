"""Soft constraints during generation: an optional filter after sampling that removes implausible paths.

Seed 001 §4 ("soft constraints"): a generator may be followed by a filter that drops paths breaking
economic rules a model cannot learn reliably from a finite history (a negative VIX, a 60 % one-day
equity fall). A filter is evidence only when it is small and reported: it records how many paths it
removed and why, and it refuses to remove more than ``FILTER_MAX_SHARE`` of a set — a filter that
removes 40 % of a set hides a broken model (Breuer, Jandačka, Rheinberger & Summer 2009, "How to find
plausible, severe and useful stress scenarios", Int. J. Central Banking 5(3): plausibility is a
property of the model, not something to patch path by path).

Rules are the JSON language of ``validation/metrics/coherence.py`` (its docstring), restricted to the
per-path rules (``co_move`` is a statement about the set, not about one path):

* ``{"rule": "non_negative", "factor": F}`` — the level ``level0 + cumsum(increments)`` stays >= 0;
* ``{"rule": "floor", "factor": F, "minimum": m}`` / ``{"rule": "ceiling", "factor": F, "maximum": m}``;
* ``{"rule": "max_daily_move", "factor": F, "maximum_abs": m}`` — no one-day increment beyond ``±m``.

The level rules take ``level0`` from the rule itself or from the ``level0`` mapping (the factor's level
at the end of the training window). An optional ``"name"`` labels a rule. The copy here (scenarios may
not import validation) keeps the coherence module's labels, so a reason reads the same in both places.

Pure: numpy only, no Django, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

# The policy's ``filter_max_share`` (validation/policy_defaults.py, SETTINGS["filter_max_share"] = 0.05).
FILTER_MAX_SHARE = 0.05

# A priori largest plausible one-day log move per risk class, copied from validation/policy_defaults.py
# SETTINGS["coherence_defaults"]["max_daily_move"]: the S&P 500's worst day (19 Oct 1987, log -0.229) rounded
# up; oil's largest daily moves (1991, 2020) about -0.4 in logs; FX pegs breaking (CHF 15 Jan 2015, ~0.17).
DEFAULT_MAX_DAILY_MOVE = {"equity": 0.25, "commodity": 0.5, "fx": 0.2}
# Risk classes whose level cannot be negative (a vol index, a credit spread).
NON_NEGATIVE_KINDS = ("volatility", "credit")
# Column kinds modelled as level changes (scenarios.datasets.increments): the level rules apply to them.
LEVEL_COLUMN_KINDS = ("levels", "rates")

_KEYS = {
    "non_negative": ({"factor"}, {"level0", "name"}),
    "floor": ({"factor", "minimum"}, {"level0", "name"}),
    "ceiling": ({"factor", "maximum"}, {"level0", "name"}),
    "max_daily_move": ({"factor", "maximum_abs"}, {"name"}),
}
LEVEL_RULES = ("non_negative", "floor", "ceiling")


class FilterRejected(ValueError):
    """The filter would remove more than the allowed share: the set must not be stored."""

    def __init__(self, message: str, report: dict):
        super().__init__(message)
        self.report = report


def rule_label(rule: Mapping) -> str:
    return str(rule["name"]) if "name" in rule else f"{rule['rule']}({rule['factor']})"


def resolve_rules(rules: Sequence[Mapping], factors: Sequence[str], level0: Mapping[str, float]) -> list[dict]:
    """Checked rules with numbers as floats and ``level0`` filled in for the level rules.

    Raises ``ValueError`` naming the rule and the problem."""
    if isinstance(rules, Mapping) or isinstance(rules, str | bytes) or not isinstance(rules, Sequence):
        raise ValueError("rules must be a list of rule objects")
    out = []
    for i, raw in enumerate(rules):
        if not isinstance(raw, Mapping):
            raise ValueError(f"rule {i} must be an object, got {type(raw).__name__}")
        kind = raw.get("rule")
        if kind not in _KEYS:
            raise ValueError(f"rule {i}: unknown rule {kind!r}; the filter knows {', '.join(sorted(_KEYS))}")
        required, optional = _KEYS[kind]
        spec = dict(raw)
        del spec["rule"]
        missing = sorted(required - set(spec))
        if missing:
            raise ValueError(f"rule {i} ({kind}): missing {', '.join(missing)}")
        unknown = sorted(set(spec) - required - optional)
        if unknown:
            raise ValueError(f"rule {i} ({kind}): unknown keys {', '.join(unknown)}")
        if spec["factor"] not in factors:
            raise ValueError(f"rule {i} ({kind}): unknown factor {spec['factor']!r}; factors are {', '.join(factors)}")
        if kind in LEVEL_RULES and "level0" not in spec:
            if spec["factor"] not in level0:
                raise ValueError(f"rule {i} ({kind}): no starting level for {spec['factor']!r} (a level rule needs "
                                 "a factor modelled as level changes)")
            spec["level0"] = level0[spec["factor"]]
        for key in ("level0", "minimum", "maximum", "maximum_abs"):
            if key in spec:
                value = spec[key]
                if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
                    raise ValueError(f"rule {i} ({kind}): {key} must be a number, got {value!r}")
                if not np.isfinite(value):
                    raise ValueError(f"rule {i} ({kind}): {key} must be finite")
                spec[key] = float(value)
        if kind == "max_daily_move" and spec["maximum_abs"] <= 0:
            raise ValueError(f"rule {i} ({kind}): maximum_abs must be > 0")
        if "name" in spec:
            spec["name"] = str(spec["name"])
        out.append({"rule": kind, **spec})
    return out


def violations(paths: np.ndarray, factors: Sequence[str], rule: Mapping) -> np.ndarray:
    """Boolean ``[n]``: which paths break one resolved rule."""
    j = list(factors).index(rule["factor"])
    column = paths[:, :, j]
    if rule["rule"] == "max_daily_move":
        return (np.abs(column) > rule["maximum_abs"]).any(axis=1)
    level = rule["level0"] + np.cumsum(column, axis=1)
    if rule["rule"] == "non_negative":
        return (level < 0.0).any(axis=1)
    if rule["rule"] == "floor":
        return (level < rule["minimum"]).any(axis=1)
    return (level > rule["maximum"]).any(axis=1)


def filter_paths(paths, factors: Sequence[str], rules: Sequence[Mapping], level0: Mapping[str, float]
                 ) -> tuple[np.ndarray, dict[str, int]]:
    """``(kept_mask [n], reasons)``: a path is kept when it breaks no rule; ``reasons[label]`` counts the paths
    breaking each rule (a path breaking two rules counts in both)."""
    values = np.asarray(paths, dtype=np.float64)
    if values.ndim != 3 or values.shape[2] != len(factors):
        raise ValueError(f"paths must be [n, horizon, {len(factors)} factors], got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError("paths hold a non-finite value")
    kept = np.ones(values.shape[0], dtype=bool)
    reasons: dict[str, int] = {}
    for rule in resolve_rules(rules, factors, level0):
        bad = violations(values, factors, rule)
        label = rule_label(rule)
        reasons[label] = reasons.get(label, 0) + int(bad.sum())
        kept &= ~bad
    return kept, reasons


def default_filter_rules(factors: Sequence[str], kinds: Sequence[str] | None, column_kinds: Mapping[str, str],
                         level0: Mapping[str, float]) -> list[dict]:
    """A priori rules: ``non_negative`` for level factors of risk class volatility/credit, ``max_daily_move`` with
    ``DEFAULT_MAX_DAILY_MOVE`` for factors modelled as log-returns/returns of those risk classes (the bounds are
    one-day log moves, so they do not apply to level changes)."""
    kinds = list(kinds) if kinds is not None else ["other"] * len(factors)
    if len(kinds) != len(factors):
        raise ValueError(f"{len(kinds)} kinds for {len(factors)} factors")
    rules: list[dict] = []
    for factor, kind in zip(factors, kinds, strict=True):
        column_kind = column_kinds.get(factor)
        if column_kind in LEVEL_COLUMN_KINDS:
            if kind in NON_NEGATIVE_KINDS and factor in level0:
                rules.append({"rule": "non_negative", "factor": factor, "level0": float(level0[factor])})
        elif kind in DEFAULT_MAX_DAILY_MOVE:
            rules.append({"rule": "max_daily_move", "factor": factor, "maximum_abs": DEFAULT_MAX_DAILY_MOVE[kind]})
    return rules


def apply_filter(paths, factors: Sequence[str], rules: Sequence[Mapping], level0: Mapping[str, float] | None = None,
                 *, max_share: float = FILTER_MAX_SHARE) -> tuple[np.ndarray, dict]:
    """``(kept paths, report)``; raises ``FilterRejected`` (with the report) when more than ``max_share`` of the
    paths would be removed. The report: rules, drawn, removed, kept, share, reasons, max_share."""
    values = np.asarray(paths, dtype=np.float64)
    resolved = resolve_rules(rules, factors, level0 or {})
    kept, reasons = filter_paths(values, factors, resolved, level0 or {})
    drawn = int(values.shape[0])
    removed = int(drawn - kept.sum())
    share = removed / drawn if drawn else 0.0
    report = {"rules": resolved, "drawn": drawn, "removed": removed, "kept": drawn - removed, "share": share,
              "reasons": reasons, "max_share": float(max_share)}
    if share > max_share:
        listed = "; ".join(f"{label}: {count:,}" for label, count in reasons.items() if count)
        raise FilterRejected(f"the plausibility filter would remove {100 * share:.1f} % of the paths ({listed}), "
                             f"more than the {100 * max_share:g} % a policy allows: the model is broken, not the "
                             "paths", report)
    return values[kept], report
