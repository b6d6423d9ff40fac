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
    """CSS class for PASS/WARN/FAIL/NOT_RUN/INFO/NA (the word is always printed too: colour is not the message);
    NOT_RUN — a tier or metric that tested nothing — is grey (``outcome-not-run``)."""
    return f"outcome outcome-{(outcome or 'na').lower().replace('_', '-')}"


@register.filter
def outcome_label(outcome: str) -> str:
    """The outcome as a person reads it: ``NOT_RUN`` → ``NOT RUN``."""
    return (outcome or "").replace("_", " ")


@register.simple_tag
def not_run_tiers(run) -> list[dict]:
    """The tiers of a validation run that tested nothing, each with why (``reports.pdf.context.not_run_tiers``)."""
    from reports.pdf.context import not_run_tiers as tiers

    return tiers(run) if run is not None and run.tier_outcomes else []


@register.filter
def metric_message(row) -> str:
    """A metric row's message, or why it was not run ("" when it has neither)."""
    details = getattr(row, "details", None) or {}
    return str(details.get("message") or details.get("not_run") or "")


@register.simple_tag
def version_scenario_sets(version) -> list[dict]:
    """The scenario sets of a version as its page lists them: each with its latest SUCCEEDED validation run
    (None: not validated, cannot be cited), the out-of-training-range mark and the plausibility filter line.
    The version itself was fetched through the visibility selector; its sets are visible with it."""
    from reports.pdf.context import filter_line
    from scenarios.models import ScenarioSet
    from validation.models import ValidationRun

    sets = list(ScenarioSet.objects.filter(model_version=version).order_by("pk"))
    runs: dict[int, ValidationRun] = {}
    for run in (ValidationRun.objects.filter(scenario_set__in=sets, status="SUCCEEDED")
                .order_by("created_at", "pk")):
        runs[run.scenario_set_id] = run  # the latest wins
    return [{"set": s, "run": runs.get(s.pk),
             "out_of_range": bool(getattr(s, "out_of_training_range", False)),
             "out_of_range_reason": getattr(s, "out_of_range_reason", "") or "",
             "filter_line": filter_line(getattr(s, "filter_report", None) or {})} for s in sets]


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
