"""Reads the pages need that no selector offers yet (always scoped through the selectors they start from).

Candidates to move into the apps' selectors: the inventory filter, the two queues, a model's history.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from governance.models import AuditEvent, InventoryModel, ModelVersion
from governance.models.inventory import VersionStatus
from governance.selectors.audit import audit_event_list
from governance.selectors.inventory import model_list, version_list

VALIDATION_QUEUE_STATUSES = (VersionStatus.SUBMITTED, VersionStatus.IN_VALIDATION)


def models_filtered(*, user, status: str = "", tier: str = "", family: str = "", search: str = "",
                    ) -> QuerySet[InventoryModel]:
    models = model_list(user=user)
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
    return models


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
