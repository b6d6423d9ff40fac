"""What the validator may do on a version page (``templates/portal/validate/_version_actions.html``)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def validate_version_actions(context, version) -> dict:
    """``{"generate": bool, "sets": [{"set", "validate", "stress"}], "open_findings": int}`` for the signed-in user.

    Empty lists and False for anyone who may do nothing here (the partial then shows nothing)."""
    from governance.roles import ADMIN, VALIDATOR, has_role
    from portal.views.validate import generate_refusal, stress_refusal, validation_refusal
    from scenarios.selectors.runs import scenario_set_list

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not (has_role(user, VALIDATOR) or has_role(user, ADMIN)):
        return {"generate": False, "generate_refusal": "", "sets": []}
    sets = []
    for scenario_set in scenario_set_list(user=user).filter(model_version=version).order_by("-pk"):
        may_validate = not validation_refusal(user, scenario_set)
        may_stress = not stress_refusal(user, scenario_set)
        if may_validate or may_stress:
            sets.append({"set": scenario_set, "validate": may_validate, "stress": may_stress})
    refusal = generate_refusal(user, version)
    return {"generate": not refusal, "generate_refusal": refusal, "sets": sets}


@register.filter
def condition_label(condition) -> str:
    """A scenario set's condition in words ("unconditioned" when nothing was asked, as stored by the service)."""
    condition = condition if isinstance(condition, dict) else {}
    extra = condition.get("extra") or {}
    parts = []
    if extra.get("fed_path"):
        source = extra.get("fed_source") or {}
        parts.append(f"Fed supervisory path ({source.get('file', 'recorded')})")
    if condition.get("severity"):
        parts.append(f"severity {condition['severity']}")
    if condition.get("vol_multiplier") is not None:
        parts.append(f"volatility × {condition['vol_multiplier']}")
    targets = condition.get("targets") or []
    if targets:
        parts.append(f"{len(targets)} target move{'s' if len(targets) != 1 else ''}")
    return "; ".join(parts) or "unconditioned"
