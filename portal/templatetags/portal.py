"""Small template helpers for the portal's pages (display only; no rules)."""

from __future__ import annotations

from django import template

from governance.roles import user_roles as _user_roles

register = template.Library()


@register.simple_tag
def user_roles(user) -> set[str]:
    return _user_roles(user)


@register.filter
def outcome_class(outcome: str) -> str:
    """CSS class for PASS/WARN/FAIL/INFO/NA (the word is always printed too: colour is not the message)."""
    return f"outcome outcome-{(outcome or 'na').lower()}"


@register.filter
def short_sha(value: str) -> str:
    return value[:12] if value else ""


@register.filter
def number(value, digits: int = 4):
    """A float to ``digits`` significant figures; anything else as it is."""
    if isinstance(value, bool) or value is None:
        return "—" if value is None else value
    if isinstance(value, int | float):
        return f"{value:.{int(digits)}g}"
    return value
