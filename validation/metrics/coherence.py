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
  rule tested nothing: not run.
* ``{"rule": "floor", "factor": F, "level0": x0, "minimum": m}`` — the level path must stay at or
  above ``m`` (e.g. a 10-year yield above −1 %).
* ``{"rule": "ceiling", "factor": F, "level0": x0, "maximum": m}`` — at or below ``m``.
* ``{"rule": "non_negative", "factor": F, "level0": x0}`` — a level that cannot go negative (VIX).
* ``{"rule": "max_daily_move", "factor": F, "maximum_abs": m}`` — no one-day increment beyond ``±m``
  (in the increment's own units: a log-return for a price, a level change otherwise), e.g. an equity
  index never moved more than about 0.23 in logs in a day (19 Oct 1987).

An optional ``"name"`` key labels the rule in the results. A ``co_move`` rule with no scenario in its
conditioning event tested nothing and is reported as not run (``MetricResult.skipped``), never as a pass.

Options (``option_no_arbitrage_metrics``): for an option-bearing book, the option positions revalued on
every scenario must respect the static no-arbitrage relations that hold whatever the model — a
non-negative value, put–call parity ``C − P = S·e^{−qT} − K·e^{−rT}`` (Hull, *Options, Futures, and
Other Derivatives*, 11th ed., ch. 11) and a call non-increasing / a put non-decreasing in the strike
(Merton 1973, "Theory of rational option pricing", Bell J. Econ. 4(1):141–183, theorems 2–3).
``coherence_tier`` is the suite's entry point: the rule rows and the option rows, or one not-run row
saying why nothing could be tested.
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
    "max_daily_move": ({"factor", "maximum_abs"}, {"name"}),
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
        for key in ("level0", "minimum", "maximum", "min_size", "maximum_abs"):
            if key in spec:
                try:
                    spec[key] = float(spec[key])
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"rule {i} ({kind}): {key} must be a number, got {spec[key]!r}") from exc
                if not np.isfinite(spec[key]):
                    raise ValueError(f"rule {i} ({kind}): {key} must be finite")
        if spec.get("min_size", 0.0) < 0:
            raise ValueError(f"rule {i} ({kind}): min_size must be >= 0")
        if spec.get("maximum_abs", 1.0) <= 0:
            raise ValueError(f"rule {i} ({kind}): maximum_abs must be > 0")
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
    if rule.kind == "max_daily_move":
        moves = np.abs(paths[:, :, index[s["factor"]]])
        violating = (moves > s["maximum_abs"]).any(axis=1)
        return float(violating.mean()), {"conditioning_scenarios": int(paths.shape[0]),
                                         "violations": int(violating.sum()), "largest_abs_move": float(moves.max()),
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
        # a co-move rule is about a pair: name both so rows of one leading factor stay distinct
        factor = rule.spec.get("factor") or f"{rule.spec['factor_a']}->{rule.spec['factor_b']}"
        if not np.isfinite(share):
            s = rule.spec
            reason = (f"no scenario has {s['factor_a']} {s['direction_a']} by more than {s.get('min_size', 0.0):g} "
                      f"over the horizon: the rule '{rule.label}' had nothing to test")
            results.append(MetricResult.skipped(name=f"coherence_{rule.kind}", tier=TIER, reason=reason,
                                                factor=factor, details=details, reference=REFERENCE))
            continue
        results.append(MetricResult(
            name=f"coherence_{rule.kind}", tier=TIER, value=share,
            threshold=DEFAULT_THRESHOLD if threshold is None else float(threshold),
            direction="max", factor=factor, floor=fl, details=details, reference=REFERENCE))
    return results


# ── options on the revalued book ───────────────────────────────────────────────────────────────
OPTION_REFERENCE = ("Hull, Options, Futures, and Other Derivatives, 11th ed., ch. 11 (put-call parity); "
                    "Merton (1973) Bell J. Econ. 4(1):141-183 (bounds, monotone in strike)")
OPTION_KEYS = ("values", "call", "put", "spot", "values_up", "values_down")
# Round-off allowance of the revaluation (value = P&L + price at inception, in float64): relative to the
# strike, far below any economic amount; an arbitrage is a violation beyond it.
ROUND_OFF = 1e-9


def _check_option(i: int, check: Mapping) -> dict:
    if not isinstance(check, Mapping):
        raise ValueError(f"option check {i} must be a dict, got {type(check).__name__}")
    missing = [k for k in ("position", *OPTION_KEYS, "strike", "discount", "option_type") if k not in check]
    if missing:
        raise ValueError(f"option check {i}: missing {missing}")
    label = f"option check {i} ({check['position']})"
    if check["option_type"] not in ("call", "put"):
        raise ValueError(f"{label}: option_type must be 'call' or 'put', got {check['option_type']!r}")
    out = {"position": str(check["position"]), "option_type": check["option_type"]}
    n = None
    for key in (*OPTION_KEYS, "discount", "dividend_discount"):
        if key == "dividend_discount" and key not in check:
            out[key] = np.ones(n)
            continue
        array = np.asarray(check[key], dtype=np.float64)
        if key in ("discount", "dividend_discount") and array.ndim == 0:
            array = np.full(n, float(array))
        if array.ndim != 1 or array.size == 0:
            raise ValueError(f"{label}: {key} must be a non-empty 1-D array of per-scenario values")
        if n is None:
            n = array.size
        elif array.size != n:
            raise ValueError(f"{label}: {key} has {array.size} values, {OPTION_KEYS[0]} has {n}")
        if not np.isfinite(array).all():
            raise ValueError(f"{label}: {key} has a non-finite value")
        out[key] = array
    try:
        out["strike"] = float(check["strike"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{label}: strike must be a number, got {check['strike']!r}") from exc
    if not (np.isfinite(out["strike"]) and out["strike"] > 0):
        raise ValueError(f"{label}: strike must be > 0")
    if (out["spot"] <= 0).any() or (out["discount"] <= 0).any() or (out["dividend_discount"] <= 0).any():
        raise ValueError(f"{label}: spot and discount factors must be > 0")
    return out


def _option_row(name: str, violating: np.ndarray, position: str, details: dict) -> MetricResult:
    return MetricResult(
        name=name, tier=TIER, value=float(violating.mean()), threshold=0.0, direction="max", factor=position,
        details={"position": position, "scenarios": int(violating.size), "violations": int(violating.sum()),
                 "violating_indices": np.flatnonzero(violating)[:100].tolist(), **details},
        reference=OPTION_REFERENCE)


def option_no_arbitrage_metrics(checks: Sequence[Mapping], *, parity_tolerance: float = 0.001) -> list[MetricResult]:
    """Static no-arbitrage on the options of a book revalued on every scenario; three rows per position.

    Each check is ``{"position", "option_type", "strike", "values" [n] (the position's option, one unit),
    "call" [n], "put" [n] (call and put at the same strike and expiry), "spot" [n], "discount"
    (e^{-rT}: a number or [n]), optional "dividend_discount" (e^{-qT}, default 1), "values_up" [n] /
    "values_down" [n] (the same option at strike × 1.01 / × 0.99)}``.

    * ``coherence_option_non_negative``: share of scenarios with a negative value (an option is a right,
      never an obligation: c ≥ 0, p ≥ 0; Merton 1973 theorem 1).
    * ``coherence_put_call_parity``: share with |C − P − (S e^{−qT} − K e^{−rT})| > ``parity_tolerance`` × S
      (Hull ch. 11, eq. 11.6–11.7 with a dividend yield, §17.4).
    * ``coherence_strike_monotone``: share where a call's value rises with the strike, or a put's falls
      (Merton 1973 theorems 2–3; beyond a round-off of ``1e-9 × K``).
    """
    if isinstance(checks, Mapping) or isinstance(checks, str | bytes):
        raise ValueError("option checks must be a list of dicts")
    tolerance = float(parity_tolerance)
    if not (np.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"parity_tolerance must be a finite number >= 0, got {parity_tolerance!r}")
    results = []
    for i, raw in enumerate(checks):
        c = _check_option(i, raw)
        eps = ROUND_OFF * c["strike"]
        position, values = c["position"], c["values"]
        negative = values < -eps
        results.append(_option_row("coherence_option_non_negative", negative, position,
                                   {"option_type": c["option_type"], "min_value": float(values.min())}))
        forward = c["spot"] * c["dividend_discount"] - c["strike"] * c["discount"]
        gap = np.abs(c["call"] - c["put"] - forward)
        broken = gap > tolerance * c["spot"]
        results.append(_option_row("coherence_put_call_parity", broken, position,
                                   {"tolerance_share_of_spot": tolerance,
                                    "max_gap_share_of_spot": float((gap / c["spot"]).max())}))
        if c["option_type"] == "call":  # C(K·1.01) ≤ C(K) ≤ C(K·0.99)
            wrong = (c["values_up"] > values + eps) | (c["values_down"] < values - eps)
        else:  # P(K·0.99) ≤ P(K) ≤ P(K·1.01)
            wrong = (c["values_up"] < values - eps) | (c["values_down"] > values + eps)
        results.append(_option_row("coherence_strike_monotone", wrong, position,
                                   {"option_type": c["option_type"], "strike_bump": 0.01}))
    return results


def coherence_tier(synthetic, real, factors: Sequence[str], *, rules: Sequence[Mapping] | None,
                   option_checks: Sequence[Mapping] | None = None, parity_tolerance: float = 0.001,
                   reason: str | None = None) -> list[MetricResult]:
    """The coherence tier: a row per rule (``coherence_metrics``) and three per option position
    (``option_no_arbitrage_metrics``). With no rule and no option to test, one not-run row
    ``coherence_rules`` saying why (``reason``, e.g. which factors no default rule applies to)."""
    rules = list(rules or [])
    results = coherence_metrics(synthetic, real, factors, rules=rules) if rules else []
    if option_checks:
        results += option_no_arbitrage_metrics(option_checks, parity_tolerance=parity_tolerance)
    if not results:
        results.append(MetricResult.skipped(
            name="coherence_rules", tier=TIER, reference=REFERENCE,
            reason=reason or "no coherence rule is configured or applies by default, and the book holds no "
                             "option: nothing to test; configure rules"))
    return results
