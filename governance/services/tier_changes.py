"""Tier change requests: changing the inputs of a model's tier once it has versions past draft.

The tier (governance.tiering) decides which validation policy a version is held to and how often
the model is re-validated, so a developer dropping a tier-1 model to tier 3 by editing its exposure
is a model-risk decision taken by the people it constrains. Once any version of the model has left
draft, such edits go through this workflow (issue 16 §5):

    proposed ──approve──▶ approved   (the model's tier inputs and tier change now, in the same transaction)
        └──────reject───▶ rejected   (nothing changes)

- propose: the model's owner, one of its developers, or an admin, with a reason (400 without);
- decide: a validator or an admin (403 otherwise), independent of the model
  (governance.access.independence_conflict) and not the proposer, with a reason;
- one pending request per model; a request proposed against values that have since changed is
  refused at decision time (409), so nobody approves a change they did not see.
Every step writes its audit event; the approval also writes ``model.updated`` with the model's
before and after.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from governance import tiering
from governance.access import independence_conflict, require_any_role
from governance.canonical import jsonable
from governance.errors import Conflict, Forbidden, InvalidInput
from governance.models import InventoryModel
from governance.models.inventory import TierChangeRequest, TierChangeStatus
from governance.roles import ADMIN, DEVELOPER, VALIDATOR, has_role
from governance.services.audit import audit_record
from governance.services.inventory import (
    _check_model_fields,
    _may_edit_model,
    model_snapshot,
    next_validation_due,
    tier_inputs_changed,
)

DECISIONS = ("approve", "reject")


def tier_change_snapshot(change: TierChangeRequest) -> dict[str, Any]:
    return jsonable({
        "model": change.model.model_id, "changes": change.changes, "tier_before": change.tier_before,
        "tier_after": change.tier_after, "rule_version": change.rule_version, "reason": change.reason,
        "status": change.status, "proposed_by": change.proposed_by_id, "decided_by": change.decided_by_id,
        "decided_at": change.decided_at, "decision_reason": change.decision_reason,
    })


def _tier_of(exposure_usd, purpose: str) -> int:
    return tiering.compute_tier(Decimal(str(exposure_usd)), purpose)


@transaction.atomic
def tier_change_propose(*, actor, model: InventoryModel, reason: str, **fields: Any) -> TierChangeRequest:
    """Propose new values for the model's tier inputs (``exposure_usd``, ``materiality_purpose``)."""
    require_any_role(actor, DEVELOPER, ADMIN)
    if not _may_edit_model(actor, model):
        raise Forbidden("only the model's owner, its developers or an admin may propose a tier change")
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidInput("a tier change needs a reason", details={"reason": ["this field is required"]})
    unknown = set(fields) - set(tiering.TIER_INPUTS)
    if unknown:
        raise InvalidInput(f"not a tier input: {', '.join(sorted(unknown))}; tier inputs are "
                           f"{', '.join(tiering.TIER_INPUTS)}",
                           details={name: ["not a tier input"] for name in unknown})
    _check_model_fields(fields)
    model = InventoryModel.objects.select_for_update().get(pk=model.pk)
    changed = tier_inputs_changed(model, fields)
    if not changed:
        raise InvalidInput("the proposal changes no tier input; give a new exposure_usd or materiality_purpose",
                           details={name: ["same as the model's current value"] for name in tiering.TIER_INPUTS})
    if TierChangeRequest.objects.filter(model=model, status=TierChangeStatus.PENDING).exists():
        raise Conflict(f"{model.model_id} already has a pending tier change; it must be decided first",
                       code="tier_change_pending")
    new_values = {name: fields.get(name, getattr(model, name)) for name in tiering.TIER_INPUTS}
    try:
        with transaction.atomic():
            change = TierChangeRequest.objects.create(
                model=model, reason=reason, proposed_by=actor, rule_version=tiering.RULE_VERSION,
                changes=jsonable({name: {"before": getattr(model, name), "after": fields[name]} for name in changed}),
                tier_before=model.computed_tier,
                tier_after=_tier_of(new_values["exposure_usd"], new_values["materiality_purpose"]),
            )
    except IntegrityError:  # a concurrent proposal won the one-pending-per-model constraint
        raise Conflict(f"{model.model_id} already has a pending tier change; it must be decided first",
                       code="tier_change_pending") from None
    audit_record(actor=actor, action="tier_change.proposed", object_type="tier_change", object_id=change.pk,
                 after=tier_change_snapshot(change), reason=reason)
    return change


@transaction.atomic
def tier_change_decide(*, actor, change: TierChangeRequest, decision: str, reason: str) -> TierChangeRequest:
    """Approve (the model's tier inputs and computed tier change now) or reject a pending tier change."""
    if not (has_role(actor, VALIDATOR) or has_role(actor, ADMIN)):
        raise Forbidden("deciding a tier change needs the role validator or admin", code="missing_role")
    if decision not in DECISIONS:
        raise InvalidInput(f"decision must be one of {', '.join(DECISIONS)}", details={"decision": list(DECISIONS)})
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidInput("a tier change decision needs a reason", details={"reason": ["this field is required"]})
    change = TierChangeRequest.objects.select_for_update().select_related("model").get(pk=change.pk)
    model = InventoryModel.objects.select_for_update().get(pk=change.model_id)
    if change.status != TierChangeStatus.PENDING:
        raise Conflict(f"tier change {change.pk} is already {change.status}", code="tier_change_decided")
    if change.proposed_by_id == actor.pk:
        raise Forbidden("nobody decides their own tier change", code="segregation_of_duties")
    conflict = independence_conflict(actor, model)
    if conflict:
        raise Forbidden(f"{conflict} cannot decide its tier changes", code="segregation_of_duties")
    before_change = tier_change_snapshot(change)
    if decision == "approve":
        stale = [name for name, values in change.changes.items()
                 if jsonable(getattr(model, name)) != values["before"]]
        if stale:
            raise Conflict(f"{', '.join(stale)} changed since this tier change was proposed; reject it and propose "
                           f"again", code="tier_change_stale",
                           details={name: ["changed since proposed"] for name in stale})
        before_model = model_snapshot(model)
        for name, values in change.changes.items():
            setattr(model, name, Decimal(str(values["after"])) if name == "exposure_usd" else values["after"])
        model.computed_tier = _tier_of(model.exposure_usd, model.materiality_purpose)
        model.tier_rule_version = tiering.RULE_VERSION
        model.next_validation_due = next_validation_due(model)
        model.full_clean(exclude=["developers", "upstream"])
        model.save()
        audit_record(actor=actor, action="model.updated", object_type="model", object_id=model.model_id,
                     before=before_model, after=model_snapshot(model),
                     reason=f"tier change {change.pk} approved: {reason}")
    change.status = TierChangeStatus.APPROVED if decision == "approve" else TierChangeStatus.REJECTED
    change.decided_by, change.decided_at, change.decision_reason = actor, timezone.now(), reason
    change.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    audit_record(actor=actor, action=f"tier_change.{change.status}", object_type="tier_change", object_id=change.pk,
                 before=before_change, after=tier_change_snapshot(change), reason=reason)
    return change
