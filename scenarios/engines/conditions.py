"""Condition bounds: the range of conditions an engine was trained for, and the check of a request against it.

An engine is fitted on one training window and conditioned by the generic mechanism of
``base.apply_condition`` (or a native conditional model) up to the severity levels of
``base.SEVERITY_LEVELS``. A request far outside that range — a "severe" scenario *calmer* than
history (``vol_multiplier`` 0.1), an equity *rally* of +50 % asked of a stress severity, a target move
ten times anything in the training data — is extrapolation the model was never built or trained for,
and its output would be a number without evidence behind it (seed 001 §4–5: conditioning must not be
gamed). The bounds are stated a priori:

* ``vol_multiplier`` in ``[1.0, 3.0]``: 1.0 is history itself; 3.0 is the "extreme" severity level,
  the largest the engines are built for (``SEVERITY_LEVELS["extreme"].vol_multiplier``). An engine
  module may declare its own ``CONDITION_VOL_RANGE = (lo, hi)`` to override this.
* a target move of factor ``f`` over ``d`` days within ``hi_vol × [min(0, m_lo), max(0, m_hi)]``, where
  ``m_lo``/``m_hi`` are the smallest and largest realised sums of ``f``'s increments over any ``d``
  consecutive training rows: never beyond 3× the worst (best) ``d``-day move the model has seen. (The
  range always contains 0: "no move" is never out of range.) Where the training data hold fewer than
  ``d`` rows the longest window is scaled with ``sqrt(d / T)`` (random-walk scaling, as
  ``base.condition_targets`` rescales targets to the horizon).
* with a severity, an equity target must be a drawdown (``move <= 0``), and an explicit
  ``vol_multiplier`` below the severity's own level contradicts the severity word.

Supervisory conditions (``extra["fed_path"]``) are checked by the supervisory engine against its
own translation; here only their volatility multiplier is bounded.

Pure: numpy only, no Django, no I/O.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from scenarios.engines.base import SEVERITIES, SEVERITY_LEVELS, Condition

# 1.0 = the training history; 3.0 = the "extreme" severity level (base.SEVERITY_LEVELS).
DEFAULT_VOL_RANGE: tuple[float, float] = (1.0, SEVERITY_LEVELS["extreme"].vol_multiplier)

# Deep engines import torch at module level; the web process that checks a request must not. A deep
# engine that states its own range declares it here as well as in its module.
_DEEP_VOL_RANGES: dict[str, tuple[float, float]] = {}


def engine_vol_range(engine: str) -> tuple[float, float]:
    """The engine module's ``CONDITION_VOL_RANGE`` when it declares one, else ``DEFAULT_VOL_RANGE``."""
    from scenarios.engines import registry

    if engine in registry.DEEP_ENGINES:
        module = sys.modules.get(registry.ENGINE_MODULES[engine])
        declared = getattr(module, "CONDITION_VOL_RANGE", None) if module else None
        return tuple(declared) if declared else _DEEP_VOL_RANGES.get(engine, DEFAULT_VOL_RANGE)
    try:
        module = registry.engine_module(engine)
    except ValueError:
        return DEFAULT_VOL_RANGE
    declared = getattr(module, "CONDITION_VOL_RANGE", None)
    return (float(declared[0]), float(declared[1])) if declared else DEFAULT_VOL_RANGE


@dataclass(frozen=True)
class ConditionBounds:
    """What an engine was trained for. ``moves[days][factor] = (lo, hi)``: allowed cumulative move over
    ``days`` (in the factor's increment units); ``severities``: the severity words whose level lies in the
    vol range."""

    engine: str
    vol_multiplier: tuple[float, float]
    horizon: int
    moves: Mapping[int, Mapping[str, tuple[float, float]]] = field(default_factory=dict)
    severities: tuple[str, ...] = SEVERITIES
    train_rows: int = 0

    def move_range(self, factor: str, days: int) -> tuple[float, float] | None:
        """Allowed move of ``factor`` over ``days``; from the horizon window with ``sqrt(days/horizon)``
        scaling when that window was not computed; ``None`` when nothing is known about the factor."""
        if days in self.moves and factor in self.moves[days]:
            return self.moves[days][factor]
        base = self.moves.get(self.horizon, {}).get(factor)
        if base is None:
            return None
        scale = float(np.sqrt(days / self.horizon))
        return base[0] * scale, base[1] * scale

    def to_dict(self) -> dict:
        return {"engine": self.engine, "vol_multiplier": list(self.vol_multiplier), "horizon": self.horizon,
                "moves": {str(d): {f: list(r) for f, r in ranges.items()} for d, ranges in self.moves.items()},
                "severities": list(self.severities), "train_rows": self.train_rows}


@dataclass(frozen=True)
class Breach:
    """One part of a condition outside its bound: ``message`` names the bound."""

    field: str
    value: float | str
    bound: str
    message: str

    def to_dict(self) -> dict:
        return {"field": self.field, "value": self.value, "bound": self.bound, "message": self.message}


def _fmt(x: float) -> str:
    # 1.0 reads "1.0", not "1": a multiplier is a decimal number to the person reading the message
    return f"{x:.1f}" if round(x, 1) == x else f"{x:.4g}"


def _range_text(lo: float, hi: float) -> str:
    return f"{_fmt(lo)}–{_fmt(hi)}"  # an en dash, as a person writes a range


def realised_move_range(train: np.ndarray, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-factor (min, max) of the sums of ``days`` consecutive rows of ``train`` ``[T, F]``.

    With fewer than ``days`` rows the full-sample sum stands for the longest window, scaled by
    ``sqrt(days / T)``."""
    values = np.asarray(train, dtype=np.float64)
    rows = values.shape[0]
    window = min(int(days), rows)
    cumulative = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
    sums = cumulative[window:] - cumulative[:-window]
    scale = float(np.sqrt(days / window)) if days > rows else 1.0
    return sums.min(axis=0) * scale, sums.max(axis=0) * scale


def bounds_for(engine: str, train: np.ndarray, factors: Sequence[str], kinds: Sequence[str] | None, horizon: int,
               *, windows: Sequence[int] = (), vol_range: tuple[float, float] | None = None) -> ConditionBounds:
    """The bounds of ``engine`` fitted on ``train`` ``[T, F]`` increments, for moves over ``horizon`` days and
    over every extra window length in ``windows`` (e.g. the days of a request's targets).

    ``kinds`` is accepted for symmetry with the engines (the bounds themselves are per factor)."""
    values = np.asarray(train, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(factors):
        raise ValueError(f"train must be [time, {len(factors)} factors], got shape {values.shape}")
    if values.shape[0] < 1 or not np.isfinite(values).all():
        raise ValueError("train must hold at least one row of finite values")
    if kinds is not None and len(kinds) != len(factors):
        raise ValueError(f"{len(kinds)} kinds for {len(factors)} factors")
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    lo_vol, hi_vol = vol_range if vol_range is not None else engine_vol_range(engine)
    if not 0 < lo_vol <= hi_vol:
        raise ValueError(f"bad vol range {lo_vol}–{hi_vol}")
    moves: dict[int, dict[str, tuple[float, float]]] = {}
    for days in sorted({int(horizon), *(int(d) for d in windows)}):
        if days < 1:
            raise ValueError(f"window lengths must be >= 1 day, got {days}")
        low, high = realised_move_range(values, days)
        moves[days] = {f: (float(hi_vol * min(0.0, lo)), float(hi_vol * max(0.0, hi)))
                       for f, lo, hi in zip(factors, low, high, strict=True)}
    severities = tuple(s for s in SEVERITIES if lo_vol <= SEVERITY_LEVELS[s].vol_multiplier <= hi_vol)
    return ConditionBounds(engine=engine, vol_multiplier=(float(lo_vol), float(hi_vol)), horizon=int(horizon),
                           moves=moves, severities=severities, train_rows=int(values.shape[0]))


def vol_only_bounds(engine: str, horizon: int, *, vol_range: tuple[float, float] | None = None) -> ConditionBounds:
    """Bounds without training data to measure moves against: volatility multiplier and severity only."""
    lo_vol, hi_vol = vol_range if vol_range is not None else engine_vol_range(engine)
    severities = tuple(s for s in SEVERITIES if lo_vol <= SEVERITY_LEVELS[s].vol_multiplier <= hi_vol)
    return ConditionBounds(engine=engine, vol_multiplier=(float(lo_vol), float(hi_vol)), horizon=int(horizon),
                           severities=severities)


def check_condition(condition: Condition | None, bounds: ConditionBounds, factors: Sequence[str],
                    kinds: Sequence[str] | None, horizon: int) -> list[Breach]:
    """Every part of ``condition`` outside ``bounds``; empty for an unconditioned request."""
    if condition is None:
        return []
    breaches: list[Breach] = []
    lo_vol, hi_vol = bounds.vol_multiplier
    vol_text = _range_text(lo_vol, hi_vol)
    severity = condition.severity
    if condition.vol_multiplier is not None:
        vol = float(condition.vol_multiplier)
        if vol < lo_vol or vol > hi_vol:
            side = "below" if vol < lo_vol else "above"
            breaches.append(Breach("vol_multiplier", vol, f"vol_multiplier {vol_text}",
                                   f"vol_multiplier {_fmt(vol)} is {side} the trained range {vol_text} "
                                   f"of engine {bounds.engine}"))
        if severity is not None and vol < SEVERITY_LEVELS[severity].vol_multiplier:
            level = SEVERITY_LEVELS[severity].vol_multiplier
            breaches.append(Breach("vol_multiplier", vol, f"{severity} vol_multiplier >= {_fmt(level)}",
                                   f"vol_multiplier {_fmt(vol)} is below the {severity} level {_fmt(level)}: "
                                   f"a {severity} request cannot be calmer than its own severity"))
    if severity is not None and severity not in bounds.severities:
        breaches.append(Breach("severity", severity, f"severities {', '.join(bounds.severities) or 'none'}",
                               f"severity {severity} (vol {_fmt(SEVERITY_LEVELS[severity].vol_multiplier)}) is "
                               f"outside the trained range {vol_text} of engine {bounds.engine}"))
    if "fed_path" in (condition.extra or {}):
        return breaches  # the supervisory engine checks its own translation
    kind_of = dict(zip(factors, kinds, strict=True)) if kinds is not None else {}
    for i, target in enumerate(condition.targets):
        name = f"targets[{i}]"
        if target.factor not in factors:
            breaches.append(Breach(f"{name}.factor", target.factor, "known factors",
                                   f"target names unknown factor {target.factor!r}; factors are "
                                   f"{', '.join(factors)}"))
            continue
        if severity is not None and kind_of.get(target.factor) == "equity" and target.move > 0:
            breaches.append(Breach(f"{name}.move", float(target.move), "equity move <= 0 under a severity",
                                   f"equity target {target.factor} {target.move:+.4g} over {target.days} days is a "
                                   f"rally: under severity {severity} an equity target must be a drawdown (<= 0)"))
        allowed = bounds.move_range(target.factor, int(target.days))
        if allowed is None:
            continue
        lo, hi = allowed
        if not lo <= target.move <= hi:
            text = _range_text(lo, hi)
            breaches.append(Breach(f"{name}.move", float(target.move), f"{target.factor} {target.days}-day move {text}",
                                   f"target {target.factor} {target.move:+.4g} over {target.days} days is outside "
                                   f"the trained range {text} ({_fmt(hi_vol)}× the largest {target.days}-day moves "
                                   f"in {bounds.train_rows} training rows)"))
    return breaches
