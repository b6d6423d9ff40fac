"""Validation policies: versioned thresholds per model tier, changed only by admins (audited)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from governance.access import require_any_role
from governance.canonical import jsonable
from governance.errors import InvalidInput, NotFound
from governance.roles import ADMIN
from governance.services.audit import audit_record
from validation.models import ValidationPolicy


def policy_current(model_tier: int) -> ValidationPolicy:
    policy = ValidationPolicy.objects.filter(model_tier=model_tier).order_by("-version").first()
    if policy is None:
        raise NotFound(f"no validation policy for tier {model_tier}: run 'python manage.py migrate'")
    return policy


def _check_thresholds(thresholds) -> dict:
    if not isinstance(thresholds, dict) or not thresholds:
        raise InvalidInput("thresholds must be an object of metric name → {threshold, warn}")
    errors = {}
    for name, entry in thresholds.items():
        if not isinstance(entry, dict) or set(entry) - {"threshold", "warn"}:
            errors[name] = ["an object with 'threshold' and optionally 'warn'"]
            continue
        for key, value in entry.items():
            if not isinstance(value, int | float) or value != value or value in (float("inf"), float("-inf")):
                errors[name] = [f"{key} must be a finite number"]
    if errors:
        raise InvalidInput("invalid thresholds", details=errors)
    return jsonable(thresholds)


@transaction.atomic
def policy_update(*, actor, model_tier: int, thresholds: dict, note: str = "",
                  noise_floor: dict | None = None) -> ValidationPolicy:
    """A new version of a tier's policy: the previous thresholds with the given ones replaced."""
    require_any_role(actor, ADMIN)
    if model_tier not in (1, 2, 3):
        raise InvalidInput("model tier must be 1, 2 or 3", details={"model_tier": [str(model_tier)]})
    if not (note or "").strip():
        raise InvalidInput("say why the policy changes", details={"note": ["required"]})
    current = policy_current(model_tier)
    merged = dict(current.thresholds) | _check_thresholds(thresholds)
    version = ValidationPolicy.objects.filter(model_tier=model_tier).aggregate(v=Max("version"))["v"] + 1
    policy = ValidationPolicy.objects.create(model_tier=model_tier, version=version, thresholds=merged,
                                             noise_floor=noise_floor or current.noise_floor,
                                             suite_settings=current.suite_settings, note=note.strip(),
                                             created_by=actor)
    audit_record(actor=actor, action="validation_policy.updated", object_type="validation_policy",
                 object_id=policy.pk, before={"version": current.version, "thresholds": current.thresholds},
                 after={"version": version, "thresholds": merged}, reason=note.strip())
    return policy
