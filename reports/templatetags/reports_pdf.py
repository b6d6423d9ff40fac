"""Number formatting for the documentation PDF. Every filter returns plain text (autoescaped)."""

from __future__ import annotations

import json
import math

from django import template

register = template.Library()


def _number(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@register.filter
def money(value) -> str:
    number = _number(value)
    return "—" if number is None else f"{number:,.0f}" if abs(number) >= 100 else f"{number:,.4g}"


@register.filter
def num(value) -> str:
    number = _number(value)
    return "—" if number is None else f"{number:.4g}"


@register.filter
def sci(value) -> str:
    number = _number(value)
    return "—" if number is None else f"{number:.3e}"


@register.filter
def pct(value) -> str:
    number = _number(value)
    return "—" if number is None else f"{100 * number:g} %"


@register.filter
def json_text(value) -> str:
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


register.filter("json", json_text)


@register.filter
def top_moves(moves, count: int = 5) -> str:
    """The largest cumulative factor moves of a scenario, as text."""
    if not isinstance(moves, dict):
        return "—"
    items = sorted(((k, _number(v)) for k, v in moves.items()), key=lambda kv: -abs(kv[1] or 0.0))[:count]
    return "; ".join(f"{k} {v:+.4f}" for k, v in items if v is not None)


@register.simple_tag
def evt_value(evt, level, key) -> str:
    """VaR or ES of the EVT/GPD tail at ``level`` (text), or why there is none."""
    if not isinstance(evt, dict):
        return "—"
    if evt.get("error"):
        return "n/a"
    for m in evt.get("measures") or []:
        if _number(m.get("level")) is not None and abs(float(m["level"]) - float(level)) < 1e-12:
            return money(m.get(key))
    return "—"
