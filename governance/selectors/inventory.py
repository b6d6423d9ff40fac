"""Reads of the inventory, versions, findings, evidence and signatures, scoped to the reader."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.access import visible_models, visible_versions
from governance.errors import NotFound
from governance.models import Evidence, Finding, InventoryModel, ModelVersion, Signature


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
