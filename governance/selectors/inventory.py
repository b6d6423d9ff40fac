"""Reads of the inventory, versions, findings, evidence and signatures, scoped to the reader."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.access import visible_models, visible_versions
from governance.errors import NotFound
from governance.models import AuditEvent, Evidence, Finding, InventoryModel, ModelVersion, Signature
from governance.models.inventory import TierChangeRequest


def model_list(*, user) -> QuerySet[InventoryModel]:
    return visible_models(user).select_related("owner").prefetch_related("developers", "upstream")


def model_get(*, user, model_id: str) -> InventoryModel:
    model = model_list(user=user).filter(model_id=model_id).first()
    if model is None:
        raise NotFound(f"model {model_id} does not exist")
    return model


def version_list(*, user) -> QuerySet[ModelVersion]:
    return visible_versions(user).select_related("model", "created_by", "validator", "approver", "submitted_by")


def version_get(*, user, pk: int) -> ModelVersion:
    version = version_list(user=user).filter(pk=pk).first()
    if version is None:
        raise NotFound(f"model version {pk} does not exist or is not visible to you")
    return version


def finding_list(*, user) -> QuerySet[Finding]:
    return Finding.objects.filter(version__in=visible_versions(user)).select_related(
        "version__model", "raised_by", "owner"
    )


def finding_get(*, user, pk: int) -> Finding:
    finding = finding_list(user=user).filter(pk=pk).first()
    if finding is None:
        raise NotFound(f"finding {pk} does not exist or is not visible to you")
    return finding


def evidence_list(*, user) -> QuerySet[Evidence]:
    return Evidence.objects.filter(version__in=visible_versions(user)).select_related("version__model")


def signature_list(*, version: ModelVersion) -> QuerySet[Signature]:
    return version.signatures.select_related("signer").order_by("signed_at", "id")


def training_runs_producing(*, model: InventoryModel, sha256: str) -> list[str]:
    """The training runs of ``model`` that produced a checkpoint with this SHA-256, as ``training_run:<id>``.

    Read from the audit trail, the fact the run kernel pushes down to governance: a training run's
    ``training_run.started`` event names its model, its ``training_run.succeeded`` event the checkpoint
    it stored. The trail is hash-chained and append-only, so neither can be written after the fact
    by the API, unlike a version's own ``checkpoint_sha256``/``training_run`` fields.
    """
    if not sha256:
        return []
    produced = AuditEvent.objects.filter(
        object_type="training_run", action="training_run.succeeded", after__checkpoint_sha256=sha256,
    ).values_list("object_id", flat=True)
    runs = AuditEvent.objects.filter(
        object_type="training_run", action="training_run.started", after__model=model.model_id,
        object_id__in=list(produced),
    ).values_list("object_id", flat=True)
    return [f"training_run:{run}" for run in sorted(set(runs), key=int)]


def tier_change_list(*, user) -> QuerySet[TierChangeRequest]:
    """Tier change requests are visible with their model (every role sees the inventory)."""
    return TierChangeRequest.objects.filter(model__in=visible_models(user)).select_related(
        "model", "proposed_by", "decided_by")


def tier_change_get(*, user, pk: int) -> TierChangeRequest:
    change = tier_change_list(user=user).filter(pk=pk).first()
    if change is None:
        raise NotFound(f"tier change {pk} does not exist")
    return change
