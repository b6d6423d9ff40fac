"""The default economic-coherence rules: applied when a validation run configures none (pure, no Django).

The rules are ``validation.metrics.coherence`` rule dicts derived from what the dataset says each factor
is — its risk class (equity, rates, credit, commodity, fx, volatility, macro, other) and its column kind
(how it becomes an increment, ``scenarios.datasets.increments``: log-returns for ``prices``, differences
for ``levels`` / ``rates``, as is for ``returns``). Every choice is made a priori, from what the quantity
is, never tuned on a model's output; the numbers come from the policy's
``suite_settings["coherence_defaults"]`` (``validation.policy_defaults.SETTINGS``, versioned with the
policy), each with its reason there.

* **Non-negative levels** — a volatility index or a credit spread modelled as a level (column kind
  ``levels``/``rates``, risk class ``volatility``/``credit``) cannot go below zero: VIX is the square root
  of a variance (CBOE VIX white paper), a spread is a compensation for default risk. Its level path is
  ``level0 + cumulative increments``, ``level0`` the level where the scenarios start.
* **A floor for rates** — a rates factor modelled as a level may go negative (CHF, EUR, JPY did) but not
  without bound: ``rates_floor`` (in the dataset's units). A price-modelled factor is positive by
  construction and needs neither rule.
* **No implausible single day** — for every factor of a risk class listed in ``max_daily_move`` and
  modelled as ``prices`` (log-return increments, the units of the settings), no one-day move beyond the
  class's bound. A ``returns`` column holds simple returns: the bound ``m`` in logs becomes ``e^m − 1``,
  the looser of the two sides, so that no move within the log bound is ever flagged. Level-modelled
  factors are skipped: a bound in logs says nothing about a level difference.
* **The sign of co-movement in an equity sell-off** — conditioned on the first equity factor (in the
  set's factor order; modelled as ``prices`` or ``returns`` so that its cumulative move is a return)
  falling by more than ``co_move_min_size`` over the horizon: each volatility factor rises (the leverage
  effect and the volatility feedback: Black 1976; Bekaert & Wu 2000, Rev. Fin. Stud. 13(1)), each credit
  factor widens (a spread or a yield up; a credit *price* down: Collin-Dufresne, Goldstein & Martin 2001,
  J. Finance 56(6)), and each other equity factor falls (equity correlations rise in sell-offs: Longin &
  Solnik 2001, J. Finance 56(2)).

``default_rules`` returns the rules; ``no_default_reason`` says, when there are none, which factors no
rule applies to and why (shown in the not-run row of the coherence tier).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

LEVEL_KINDS = ("levels", "rates")
RETURN_KINDS = ("prices", "returns")
NON_NEGATIVE_CLASSES = ("volatility", "credit")


def _by_factor(values: Mapping[str, str] | Sequence[str], factors: Sequence[str], what: str) -> dict[str, str]:
    """A per-factor mapping from a mapping or a list parallel to ``factors``."""
    if isinstance(values, Mapping):
        return {f: str(values.get(f, "other" if what == "risk class" else "")) for f in factors}
    values = list(values)
    if len(values) != len(factors):
        raise ValueError(f"{len(values)} {what}s for {len(factors)} factors")
    return {f: str(v) for f, v in zip(factors, values, strict=True)}


def _number(settings: Mapping, key: str) -> float | None:
    value = settings.get(key)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"coherence_defaults.{key} must be a number, got {value!r}") from exc
    if not math.isfinite(number):
        raise ValueError(f"coherence_defaults.{key} must be finite")
    return number


def _level0(level0: Mapping[str, float], factor: str) -> float | None:
    value = level0.get(factor)
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def default_rules(factors: Sequence[str], kinds: Mapping[str, str] | Sequence[str],
                  column_kinds: Mapping[str, str] | Sequence[str], level0: Mapping[str, float],
                  settings: Mapping | None) -> list[dict]:
    """The default rule dicts for these factors; ``kinds`` are risk classes, ``level0`` the level of each
    level-modelled factor where the scenarios start (a factor without one gets no level rule)."""
    factors = list(factors)
    risk = _by_factor(kinds, factors, "risk class")
    column = _by_factor(column_kinds, factors, "column kind")
    settings = dict(settings or {})
    rates_floor = _number(settings, "rates_floor")
    min_size = _number(settings, "co_move_min_size")
    if min_size is not None and min_size < 0:
        raise ValueError("coherence_defaults.co_move_min_size must be >= 0")
    daily = settings.get("max_daily_move") or {}
    if not isinstance(daily, Mapping):
        raise ValueError("coherence_defaults.max_daily_move must map risk classes to a bound")
    rules: list[dict] = []
    for f in factors:
        cls, kind, x0 = risk[f], column[f], _level0(level0, f)
        if kind in LEVEL_KINDS and x0 is not None:
            if cls in NON_NEGATIVE_CLASSES:
                what = "a volatility index" if cls == "volatility" else "a credit spread"
                rules.append({"rule": "non_negative", "factor": f, "level0": x0,
                              "name": f"{f} level >= 0 ({what} cannot be negative)"})
            elif cls == "rates" and rates_floor is not None:
                rules.append({"rule": "floor", "factor": f, "level0": x0, "minimum": rates_floor,
                              "name": f"{f} level >= {rates_floor:g} (policy floor for rates)"})
        bound = daily.get(cls)
        if bound is not None and kind in RETURN_KINDS:
            bound = float(bound)
            if not (math.isfinite(bound) and bound > 0):
                raise ValueError(f"coherence_defaults.max_daily_move.{cls} must be > 0, got {bound!r}")
            if kind == "returns":
                bound = math.expm1(bound)
            unit = "log-return" if kind == "prices" else "simple return"
            rules.append({"rule": "max_daily_move", "factor": f, "maximum_abs": bound,
                          "name": f"{f} one-day {unit} within ±{bound:.3g} (largest plausible {cls} day)"})
    equities = [f for f in factors if risk[f] == "equity" and column[f] in RETURN_KINDS]
    if equities and min_size is not None:
        lead = equities[0]
        sell_off = f"{lead} down more than {min_size:g}"
        for f in factors:
            if f == lead:
                continue
            cls = risk[f]
            if cls == "volatility":
                direction, why = "up", "volatility rises"
            elif cls == "credit":
                # a spread or a yield widens; a credit price (a bond index) falls
                direction = "down" if column[f] in RETURN_KINDS else "up"
                why = "credit widens"
            elif cls == "equity":
                direction, why = "down", "equities fall together"
            else:
                continue
            rules.append({"rule": "co_move", "factor_a": lead, "direction_a": "down", "factor_b": f,
                          "direction_b": direction, "min_size": min_size,
                          "name": f"{sell_off} -> {f} {direction} (in a sell-off {why})"})
    return rules


def no_default_reason(factors: Sequence[str], kinds: Mapping[str, str] | Sequence[str],
                      column_kinds: Mapping[str, str] | Sequence[str], level0: Mapping[str, float] | None = None
                      ) -> str:
    """Why no default rule applies, naming each factor with its risk class and column kind."""
    factors = list(factors)
    risk = _by_factor(kinds, factors, "risk class")
    column = _by_factor(column_kinds, factors, "column kind")
    level0 = level0 or {}
    described = []
    for f in factors:
        note = f"{f} ({risk[f]}, {column[f]}"
        if column[f] in LEVEL_KINDS and _level0(level0, f) is None:
            note += ", no starting level"
        described.append(note + ")")
    return f"no default rule applies to {', '.join(described)}; configure rules"
