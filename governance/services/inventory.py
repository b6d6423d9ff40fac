"""The model inventory: registering models and versions, editing them, tier overrides."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import BigIntegerField, Max
from django.db.models.functions import Cast, Substr
from django.utils import timezone

from governance import tiering
from governance.access import is_version_developer, require_any_role
from governance.artifacts import read_bytes
from governance.canonical import jsonable
from governance.errors import Conflict, Forbidden, InvalidInput
from governance.models import AuditChainHead, InventoryModel, ModelVersion
from governance.models.inventory import (
    SEMVER,
    InvolvementRole,
    MaterialityPurpose,
    ModelFamily,
    ModelInvolvement,
    RegulatoryUse,
    VersionStatus,
)
from governance.roles import ADMIN, DEVELOPER, VALIDATOR, has_role
from governance.selectors.inventory import training_runs_producing
from governance.services.audit import audit_record
from governance.services.lineage import lineage_agent_for_user, lineage_entity, lineage_link
from governance.workflow import EDITABLE_STATUSES

MODEL_FIELDS = (
    "name", "purpose", "use_restrictions", "business_line", "family", "vendor", "inputs", "outputs",
    "assumptions", "limitations", "regulatory_uses", "exposure_usd", "materiality_purpose",
    "validation_frequency_months", "last_validated_on", "next_validation_due",
)
VERSION_FIELDS = (
    "engine", "config", "checkpoint_sha256", "checkpoint_uri", "training_run", "dataset_fingerprints",
    "train_start", "train_end", "holdout_start", "holdout_end", "environment", "notes",
)


def model_snapshot(model: InventoryModel) -> dict[str, Any]:
    data = {name: getattr(model, name) for name in MODEL_FIELDS}
    data.update(
        model_id=model.model_id, owner=model.owner_id, status=model.status,
        computed_tier=model.computed_tier, tier_rule_version=model.tier_rule_version,
        tier_override=model.tier_override, tier_override_reason=model.tier_override_reason, tier=model.tier,
        developers=sorted(model.developers.values_list("id", flat=True)) if model.pk else [],
        upstream=sorted(model.upstream.values_list("model_id", flat=True)) if model.pk else [],
    )
    return jsonable(data)


def version_snapshot(version: ModelVersion) -> dict[str, Any]:
    data = {name: getattr(version, name) for name in VERSION_FIELDS}
    data.update(
        model=version.model.model_id, version=version.version, status=version.status,
        validator=version.validator_id, approver=version.approver_id, submitted_by=version.submitted_by_id,
        developers=sorted(version.developers.values_list("id", flat=True)) if version.pk else [],
    )
    return jsonable(data)


def _check_model_fields(fields: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if "family" in fields and fields["family"] not in ModelFamily.values:
        errors["family"] = [f"unknown model family; use one of {', '.join(ModelFamily.values)}"]
    if "materiality_purpose" in fields and fields["materiality_purpose"] not in MaterialityPurpose.values:
        errors["materiality_purpose"] = [f"use one of {', '.join(MaterialityPurpose.values)}"]
    if "regulatory_uses" in fields:
        uses = fields["regulatory_uses"]
        if not isinstance(uses, list) or any(u not in RegulatoryUse.values for u in uses):
            errors["regulatory_uses"] = [f"a list drawn from {', '.join(RegulatoryUse.values)}"]
    if "exposure_usd" in fields:
        try:
            exposure = Decimal(str(fields["exposure_usd"]))
        except ArithmeticError:
            exposure = Decimal("NaN")
        if not exposure.is_finite() or exposure < 0:
            errors["exposure_usd"] = ["a finite, non-negative amount in USD"]
    if "validation_frequency_months" in fields:
        months = fields["validation_frequency_months"]
        if not isinstance(months, int) or not 1 <= months <= 120:
            errors["validation_frequency_months"] = ["between 1 and 120 months"]
    for name in ("name", "purpose", "business_line"):
        if name in fields and not str(fields[name] or "").strip():
            errors[name] = ["this field is required"]
    if errors:
        raise InvalidInput("the model record is not valid", details=errors)


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    days_in_month = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
                     31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return dt.date(year, month, min(day.day, days_in_month))


def next_validation_due(model: InventoryModel) -> dt.date | None:
    if model.last_validated_on is None:
        return None
    return _add_months(model.last_validated_on, model.validation_frequency_months)


def involvement_sync(*, model: InventoryModel, role: str, user_ids, version: ModelVersion | None = None) -> None:
    """Record who holds ``role`` on the model (or one of its versions) now: open a row for each newcomer,
    close the row of each person who left. Rows are never deleted: a former developer stays on record
    (governance.access.independence_conflict reads them)."""
    wanted = {uid for uid in user_ids if uid is not None}
    now = timezone.now()
    current = ModelInvolvement.objects.filter(model=model, version=version, role=role, ended_at__isnull=True)
    held = set(current.values_list("user_id", flat=True))
    current.exclude(user_id__in=wanted).update(ended_at=now)
    ModelInvolvement.objects.bulk_create([
        ModelInvolvement(model=model, version=version, user_id=uid, role=role, started_at=now)
        for uid in sorted(wanted - held)
    ])


def _next_model_id() -> str:
    """The next ``CRU-NNNN``, allocated under the audit chain's head lock.

    Two registrations at once used to read the same maximum and the second failed on the unique id
    (a 500 under 20 concurrent writers, ``python -m bench api_load``). Every registration writes an
    audit event, which locks the chain head row anyway; taking that lock first serialises the
    allocation at no extra contention. The maximum is numeric (``CRU-10000`` sorts before ``CRU-9999``
    as text).
    """
    AuditChainHead.objects.select_for_update().filter(id=1).first()
    last = (InventoryModel.objects.filter(model_id__regex=r"^CRU-[0-9]+$")
            .annotate(number=Cast(Substr("model_id", 5), BigIntegerField()))
            .aggregate(m=Max("number"))["m"])
    return f"CRU-{(last or 0) + 1:04d}"


@transaction.atomic
def model_create(
    *, actor, owner=None, developers=(), upstream=(), **fields: Any
) -> InventoryModel:
    """Register a model. Developers and admins may register; the tier is computed by the rule."""
    require_any_role(actor, DEVELOPER, ADMIN)
    unknown = set(fields) - set(MODEL_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown model fields: {', '.join(sorted(unknown))}")
    required = {"name", "purpose", "business_line", "family", "exposure_usd", "materiality_purpose"}
    missing = sorted(required - {k for k, v in fields.items() if v not in (None, "")})
    if missing:
        raise InvalidInput("the model record is not valid", details={m: ["this field is required"] for m in missing})
    _check_model_fields(fields)
    tier = tiering.compute_tier(Decimal(str(fields["exposure_usd"])), fields["materiality_purpose"])
    fields.setdefault("validation_frequency_months", tiering.REVIEW_FREQUENCY_MONTHS[tier])
    model = InventoryModel(
        model_id=_next_model_id(), owner=owner or actor, created_by=actor, computed_tier=tier,
        tier_rule_version=tiering.RULE_VERSION, **fields,
    )
    model.next_validation_due = next_validation_due(model)
    model.full_clean(exclude=["developers", "upstream"])
    model.save()
    model.developers.set(list(developers) or [actor])
    model.upstream.set(list(upstream))
    involvement_sync(model=model, role=InvolvementRole.OWNER, user_ids=[model.owner_id])
    involvement_sync(model=model, role=InvolvementRole.CREATOR, user_ids=[actor.pk])
    involvement_sync(model=model, role=InvolvementRole.MODEL_DEVELOPER,
                     user_ids=model.developers.values_list("id", flat=True))
    audit_record(actor=actor, action="model.created", object_type="model", object_id=model.model_id,
                 after=model_snapshot(model))
    return model


def _may_edit_model(actor, model: InventoryModel) -> bool:
    if has_role(actor, ADMIN):
        return True
    involved = model.owner_id == actor.pk or model.developers.filter(pk=actor.pk).exists()
    return has_role(actor, DEVELOPER) and involved


def tier_inputs_changed(model: InventoryModel, fields: dict[str, Any]) -> list[str]:
    """The tier inputs (governance.tiering.TIER_INPUTS) in ``fields`` whose value differs from the model's."""
    changed = []
    for name in tiering.TIER_INPUTS:
        if name not in fields:
            continue
        new, old = fields[name], getattr(model, name)
        if name == "exposure_usd":
            new, old = Decimal(str(new)), Decimal(str(old))
        if new != old:
            changed.append(name)
    return changed


def model_has_versions_past_draft(model: InventoryModel) -> bool:
    return model.versions.exclude(status=VersionStatus.DRAFT).exists()


@transaction.atomic
def model_update(*, actor, model: InventoryModel, developers=None, upstream=None, owner=None,
                 **fields: Any) -> InventoryModel:
    """Edit the inventory record (owner, its developers, or an admin). Re-tiers on materiality.

    ``owner`` transfers ownership (an admin only: the owner is accountable for the model, SR 11-7 §IV);
    the former owner stays on record in ``ModelInvolvement``, so segregation of duties still sees them."""
    require_any_role(actor, DEVELOPER, ADMIN)
    if not _may_edit_model(actor, model):
        raise Forbidden("only the model's owner, its developers or an admin may edit this record")
    unknown = set(fields) - set(MODEL_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown model fields: {', '.join(sorted(unknown))}")
    _check_model_fields(fields)
    model = InventoryModel.objects.select_for_update().get(pk=model.pk)
    if owner is not None and owner.pk != model.owner_id and not has_role(actor, ADMIN):
        raise Forbidden("only an admin may transfer a model's ownership", code="owner_transfer")
    changed_inputs = tier_inputs_changed(model, fields)
    if changed_inputs and model_has_versions_past_draft(model):
        raise Conflict(
            f"{', '.join(changed_inputs)} feed the model's tier and {model.model_id} has versions past draft: "
            f"propose the change with a reason (POST /api/v1/models/{model.model_id}/tier-changes/) "
            f"for a validator or an admin to decide",
            code="tier_change_needs_review", details={name: ["needs a tier change request"] for name in changed_inputs},
        )
    before = model_snapshot(model)
    for name, value in fields.items():
        setattr(model, name, value)
    owner_changed = owner is not None and owner.pk != model.owner_id
    if owner_changed:
        model.owner = owner
    if {"exposure_usd", "materiality_purpose"} & set(fields):
        model.computed_tier = tiering.compute_tier(Decimal(str(model.exposure_usd)), model.materiality_purpose)
        model.tier_rule_version = tiering.RULE_VERSION
    if "next_validation_due" not in fields:
        model.next_validation_due = next_validation_due(model)
    model.full_clean(exclude=["developers", "upstream"])
    model.save()
    if owner_changed:
        involvement_sync(model=model, role=InvolvementRole.OWNER, user_ids=[owner.pk])
    if developers is not None:
        model.developers.set(developers)
        involvement_sync(model=model, role=InvolvementRole.MODEL_DEVELOPER,
                         user_ids=model.developers.values_list("id", flat=True))
    if upstream is not None:
        if any(m.pk == model.pk for m in upstream):
            raise InvalidInput("a model cannot depend on itself", details={"upstream": ["contains this model"]})
        model.upstream.set(upstream)
    after = model_snapshot(model)
    if after != before:
        audit_record(actor=actor, action="model.updated", object_type="model", object_id=model.model_id,
                     before=before, after=after)
    return model


@transaction.atomic
def model_tier_override(*, actor, model: InventoryModel, tier: int | None, reason: str) -> InventoryModel:
    """Override the computed tier (validators and admins: model risk management), with a reason."""
    require_any_role(actor, VALIDATOR, ADMIN)
    if not (reason or "").strip():
        raise InvalidInput("a tier override needs a reason", details={"reason": ["this field is required"]})
    if tier is not None and tier not in (1, 2, 3):
        raise InvalidInput("tier must be 1, 2 or 3 (or null to remove the override)", details={"tier": ["1..3"]})
    model = InventoryModel.objects.select_for_update().get(pk=model.pk)
    before = model_snapshot(model)
    model.tier_override = tier
    model.tier_override_reason = reason.strip() if tier is not None else ""
    model.save(update_fields=["tier_override", "tier_override_reason", "updated_at"])
    audit_record(actor=actor, action="model.tier_overridden" if tier else "model.tier_override_removed",
                 object_type="model", object_id=model.model_id, before=before, after=model_snapshot(model),
                 reason=reason.strip())
    return model


def _check_version_fields(fields: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    sha = fields.get("checkpoint_sha256")
    if sha and (len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha)):
        errors["checkpoint_sha256"] = ["64 lowercase hexadecimal characters"]
    prints = fields.get("dataset_fingerprints")
    if prints is not None and (
        not isinstance(prints, list)
        or any(not isinstance(p, str) or len(p) != 64 for p in prints)
    ):
        errors["dataset_fingerprints"] = ["a list of SHA-256 hex digests"]
    for name in ("config", "environment"):
        if name in fields and not isinstance(fields[name], dict):
            errors[name] = ["a JSON object"]
    train_end, holdout_start = fields.get("train_end"), fields.get("holdout_start")
    if fields.get("train_start") and train_end and fields["train_start"] > train_end:
        errors["train_start"] = ["must not be after train_end"]
    if train_end and holdout_start and holdout_start <= train_end:
        errors["holdout_start"] = ["the holdout must start strictly after the training window ends"]
    if holdout_start and fields.get("holdout_end") and fields["holdout_end"] < holdout_start:
        errors["holdout_end"] = ["must not be before holdout_start"]
    if errors:
        raise InvalidInput("the model version is not valid", details=errors)


CHECKPOINT_SUFFIX = ".ckpt"


def checkpoint_provenance_problem(version: ModelVersion) -> str | None:
    """Why the version's checkpoint is not a stored artefact produced by a training run of its model, or None.

    Checked when a version leaves draft (submit, resubmit): a draft is the developer's workspace, but
    nothing goes to validation naming bytes that no training run of this model made (issue 16 §5).
    The artefact is read back and hashed, so a file altered in the store is refused too.
    """
    sha, model = version.checkpoint_sha256, version.model
    if not sha:
        return "no checkpoint is recorded"
    runs = training_runs_producing(model=model, sha256=sha)
    if not runs:
        return (f"checkpoint {sha[:12]}… was not produced by any training run of {model.model_id}; "
                f"register the version a training run produced")
    if version.training_run and version.training_run not in runs:
        return f"checkpoint {sha[:12]}… was produced by {', '.join(runs)}, not by {version.training_run}"
    # The store's own layout (governance.artifacts.store_bytes); never a path the client chose.
    expected = f"{sha[:2]}/{sha}{CHECKPOINT_SUFFIX}"
    if version.checkpoint_uri != expected:
        return f"checkpoint_uri must be the stored artefact {expected}, not {version.checkpoint_uri or 'empty'}"
    try:
        read_bytes(expected, expected_sha256=sha)
    except OSError as error:  # missing, unreadable or altered bytes
        return f"checkpoint {sha[:12]}… is not readable in the artefact store: {error}"
    return None


def _record_version_lineage(*, actor, version: ModelVersion) -> None:
    node = lineage_entity(
        uid=f"model_version:{version.pk}", kind="model_version", label=str(version),
        object_type="model_version", object_id=str(version.pk), actor=actor,
    )
    lineage_link(source=node, target=lineage_agent_for_user(actor), relation="wasAttributedTo", actor=actor)
    if version.checkpoint_sha256:
        checkpoint = lineage_entity(
            uid=f"checkpoint:{version.checkpoint_sha256}", kind="checkpoint",
            label=f"checkpoint {version.checkpoint_sha256[:12]}", sha256=version.checkpoint_sha256, actor=actor,
        )
        lineage_link(source=node, target=checkpoint, relation="wasDerivedFrom", actor=actor)


@transaction.atomic
def version_create(*, actor, model: InventoryModel, version: str, developers=(), **fields: Any) -> ModelVersion:
    """Register a version of a model (a developer of the model), in draft."""
    require_any_role(actor, DEVELOPER)
    if not (model.developers.filter(pk=actor.pk).exists() or model.owner_id == actor.pk):
        raise Forbidden("only the model's owner or developers may register versions of it")
    unknown = set(fields) - set(VERSION_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown version fields: {', '.join(sorted(unknown))}")
    if not SEMVER.regex.match(version or ""):
        raise InvalidInput("the model version is not valid", details={"version": [SEMVER.message]})
    _check_version_fields(fields)
    if ModelVersion.objects.filter(model=model, version=version).exists():
        raise Conflict(f"{model.model_id} already has a version {version}", code="duplicate_version")
    obj = ModelVersion.objects.create(model=model, version=version, created_by=actor, **fields)
    obj.developers.set(list(developers) or [actor])
    involvement_sync(model=model, version=obj, role=InvolvementRole.CREATOR, user_ids=[actor.pk])
    involvement_sync(model=model, version=obj, role=InvolvementRole.VERSION_DEVELOPER,
                     user_ids=obj.developers.values_list("id", flat=True))
    audit_record(actor=actor, action="version.created", object_type="model_version", object_id=obj.pk,
                 after=version_snapshot(obj))
    _record_version_lineage(actor=actor, version=obj)
    return obj


@transaction.atomic
def version_update(*, actor, version: ModelVersion, developers=None, **fields: Any) -> ModelVersion:
    """Developers edit their own versions while in draft or changes requested."""
    require_any_role(actor, DEVELOPER)
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    if not is_version_developer(actor, version):
        raise Forbidden("only a developer of this version may edit it")
    if version.status not in EDITABLE_STATUSES:
        raise Conflict(
            f"a version in status {version.status} cannot be edited (only in {', '.join(EDITABLE_STATUSES)})",
            code="not_editable",
        )
    unknown = set(fields) - set(VERSION_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown version fields: {', '.join(sorted(unknown))}")
    merged = {name: getattr(version, name) for name in VERSION_FIELDS} | fields
    _check_version_fields(merged)
    before = version_snapshot(version)
    for name, value in fields.items():
        setattr(version, name, value)
    version.save()
    if developers is not None:
        version.developers.set(developers)
        involvement_sync(model=version.model, version=version, role=InvolvementRole.VERSION_DEVELOPER,
                         user_ids=version.developers.values_list("id", flat=True))
    after = version_snapshot(version)
    if after != before:
        audit_record(actor=actor, action="version.updated", object_type="model_version", object_id=version.pk,
                     before=before, after=after)
        if version.checkpoint_sha256 != before["checkpoint_sha256"]:
            _record_version_lineage(actor=actor, version=version)
    return version


def user_by_id(user_id: int):
    User = get_user_model()
    try:
        return User.objects.get(pk=user_id)
    except User.DoesNotExist:
        raise InvalidInput(f"user {user_id} does not exist", details={"user": ["unknown user"]}) from None
