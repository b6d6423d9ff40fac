"""Reads the pages need that no selector offers yet (always scoped through the selectors they start from).

Candidates to move into the apps' selectors: the inventory filter, the two queues, a model's history.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from governance.models import AuditEvent, InventoryModel, ModelVersion
from governance.models.inventory import ModelStatus, VersionStatus
from governance.models.review import OPEN_FINDING_STATUSES
from governance.selectors.audit import audit_event_list
from governance.selectors.inventory import finding_list, model_list, version_list

VALIDATION_QUEUE_STATUSES = (VersionStatus.SUBMITTED, VersionStatus.IN_VALIDATION)


def models_filtered(*, user, status: str = "", tier: str = "", family: str = "", search: str = "",
                    owner: str = "", due: bool = False, mine: bool = False) -> QuerySet[InventoryModel]:
    models = model_list(user=user)
    if owner:
        models = models.filter(owner__username=owner)
    if due:
        models = models.filter(revalidation_due_q()).exclude(status=ModelStatus.RETIRED)
    if mine:
        models = models.filter(Q(owner=user) | Q(developers=user) | Q(versions__created_by=user)
                               | Q(versions__developers=user)).distinct()
    if status:
        models = models.filter(status=status)
    if tier.isdigit():
        # The effective tier is the override when there is one, else the computed tier.
        level = int(tier)
        models = models.filter(Q(tier_override=level) | Q(tier_override__isnull=True, computed_tier=level))
    if family:
        models = models.filter(family=family)
    if search.strip():
        term = search.strip()
        models = models.filter(Q(model_id__icontains=term) | Q(name__icontains=term)
                               | Q(business_line__icontains=term) | Q(purpose__icontains=term))
    return models.order_by("model_id")


def versions_awaiting_validation(*, user) -> QuerySet[ModelVersion]:
    return version_list(user=user).filter(status__in=VALIDATION_QUEUE_STATUSES).order_by("updated_at")


def versions_awaiting_approval(*, user) -> QuerySet[ModelVersion]:
    return version_list(user=user).filter(status=VersionStatus.VALIDATED).order_by("updated_at")


def model_history(*, user, model: InventoryModel, versions) -> QuerySet[AuditEvent]:
    """Audit events of the model record and of the given (visible) versions, newest first."""
    version_ids = [str(v.pk) for v in versions]
    return audit_event_list(user=user).filter(
        Q(object_type="model", object_id=model.model_id)
        | Q(object_type="model_version", object_id__in=version_ids)
    ).order_by("-seq")


def version_history(*, user, version: ModelVersion) -> QuerySet[AuditEvent]:
    finding_ids = [str(pk) for pk in version.findings.values_list("pk", flat=True)]
    signature_ids = [str(pk) for pk in version.signatures.values_list("pk", flat=True)]
    return audit_event_list(user=user).filter(
        Q(object_type="model_version", object_id=str(version.pk))
        | Q(object_type="finding", object_id__in=finding_ids)
        | Q(object_type="signature", object_id__in=signature_ids)
    ).order_by("-seq")


# ── issue 17 §6/§8: inventory filters, timeline, home counts ──────────────────────────────────────

# "Due for re-validation": the next periodic validation falls within this many days, or has passed.
# The cadence itself is governance's (tiering.REVIEW_FREQUENCY_MONTHS per tier, stored per model as
# validation_frequency_months; next_validation_due = last validation + cadence): SR 11-7 expects every
# model to be reviewed "at least annually" (tier 1 here), less material ones less often. The notice
# window gives the validation function a quarter to plan the work before the date passes.
REVALIDATION_NOTICE_DAYS = 90
# "Findings due": open findings whose due date is within this many days, or past.
FINDINGS_DUE_DAYS = 14


def revalidation_due_q(today: dt.date | None = None) -> Q:
    today = today or dt.date.today()
    return Q(next_validation_due__isnull=False,
             next_validation_due__lte=today + dt.timedelta(days=REVALIDATION_NOTICE_DAYS))


def models_due_for_revalidation(*, user, today: dt.date | None = None) -> QuerySet[InventoryModel]:
    return model_list(user=user).filter(revalidation_due_q(today)).exclude(status=ModelStatus.RETIRED)


def findings_due(*, user, today: dt.date | None = None):
    today = today or dt.date.today()
    return finding_list(user=user).filter(status__in=OPEN_FINDING_STATUSES,
                                          due_date__lte=today + dt.timedelta(days=FINDINGS_DUE_DAYS))


def own_versions(*, user) -> QuerySet[ModelVersion]:
    """Versions the user develops (created or listed as a developer of the version or of its model)."""
    return version_list(user=user).filter(
        Q(created_by=user) | Q(developers=user) | Q(model__developers=user)).distinct()


def home_counts(*, user, roles: set[str]) -> list[dict]:
    """The pending work of ``user``, one count query per item, for the roles they hold."""
    from django.urls import reverse

    from governance import roles as r

    items = []
    if roles & {r.VALIDATOR, r.ADMIN}:
        items.append({"key": "to_validate", "label": "Versions to validate",
                      "count": versions_awaiting_validation(user=user).count(),
                      "url": reverse("portal:validation_queue")})
    if roles & {r.APPROVER, r.ADMIN}:
        items.append({"key": "to_approve", "label": "Versions to approve",
                      "count": versions_awaiting_approval(user=user).count(),
                      "url": reverse("portal:approval_queue")})
    if roles & {r.DEVELOPER}:
        items.append({"key": "drafts", "label": "Your draft versions",
                      "count": own_versions(user=user).filter(status=VersionStatus.DRAFT).count(),
                      "url": reverse("portal:inventory") + "?mine=1"})
        items.append({"key": "changes_requested", "label": "Your versions with changes requested",
                      "count": own_versions(user=user).filter(status=VersionStatus.CHANGES_REQUESTED).count(),
                      "url": reverse("portal:inventory") + "?mine=1"})
    items.append({"key": "findings_due", "label": f"Open findings due within {FINDINGS_DUE_DAYS} days or overdue",
                  "count": findings_due(user=user).count(), "url": _findings_url()})
    items.append({"key": "revalidations_due",
                  "label": f"Models due for re-validation within {REVALIDATION_NOTICE_DAYS} days or overdue",
                  "count": models_due_for_revalidation(user=user).count(),
                  "url": reverse("portal:inventory") + "?due=1"})
    return items


def _findings_url() -> str:
    from django.urls import NoReverseMatch, reverse

    for name in ("portal:findings", "portal:findings_register"):
        try:
            # Open findings, the soonest due first: the ones counted lead the register.
            return reverse(name) + "?status=open_any&sort=due"
        except NoReverseMatch:
            continue
    return reverse("portal:audit") + "?action_prefix=finding."


def version_timeline(*, user, model: InventoryModel, versions) -> list[dict]:
    """The status history of the model's visible versions from the audit trail, oldest first: every
    event that changed a version's status (``before.status`` → ``after.status``) or created it."""
    events = version_events(user=user, versions=versions)
    by_pk = {str(v.pk): v for v in versions}
    timeline = []
    for event in events:
        before = (event.before or {}).get("status") if isinstance(event.before, dict) else None
        after = (event.after or {}).get("status") if isinstance(event.after, dict) else None
        if after is None or (before == after and event.action != "version.created"):
            continue
        timeline.append({"event": event, "version": by_pk.get(event.object_id), "from": before or "", "to": after})
    return timeline


def version_events(*, user, versions) -> QuerySet[AuditEvent]:
    version_ids = [str(v.pk) for v in versions]
    return audit_event_list(user=user).filter(object_type="model_version", object_id__in=version_ids).order_by("seq")
