"""Who may see and change which governance objects (object-level permissions).

- auditors, admins and approvers see every model version; auditors change nothing;
- validators see every version that has left draft (the validation queue is shared);
- developers see the versions they develop, and the non-draft versions of models they develop.
The inventory itself (model records) is visible to every role.
Objects a user may not see are answered with 404, so their existence does not leak.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from governance.errors import Forbidden
from governance.models import ModelVersion
from governance.models.inventory import InventoryModel, ModelInvolvement, VersionStatus
from governance.roles import ADMIN, APPROVER, AUDITOR, DEVELOPER, VALIDATOR, user_roles


def require_any_role(user, *roles: str) -> set[str]:
    held = user_roles(user)
    if not held & set(roles or (ADMIN, APPROVER, AUDITOR, DEVELOPER, VALIDATOR)):
        wanted = " or ".join(roles) if roles else "a platform role"
        raise Forbidden(f"this needs the role {wanted}", code="missing_role")
    return held


def visible_models(user) -> QuerySet[InventoryModel]:
    require_any_role(user)
    return InventoryModel.objects.all()


def sees_every_version(user) -> bool:
    """Auditors, admins and approvers see every version (and so every run, report and lineage node)."""
    return bool(require_any_role(user) & {AUDITOR, ADMIN, APPROVER})


def visible_versions(user, base: QuerySet[ModelVersion] | None = None) -> QuerySet[ModelVersion]:
    held = require_any_role(user)
    qs = base if base is not None else ModelVersion.objects.all()
    if held & {AUDITOR, ADMIN, APPROVER}:
        return qs
    condition = Q(pk__in=[])
    if VALIDATOR in held:
        condition |= ~Q(status=VersionStatus.DRAFT)
    if DEVELOPER in held:
        condition |= Q(developers=user) | Q(created_by=user)
        condition |= Q(model__developers=user) & ~Q(status=VersionStatus.DRAFT)
    return qs.filter(condition).distinct()


def version_scoped(user, queryset: QuerySet, *, version_field: str = "model_version",
                   versionless: str = "hidden", creator_field: str = "created_by") -> QuerySet:
    """Rows that belong to a model version, narrowed to those whose version ``user`` may see.

    The one visibility rule for everything that exposes a version — training, generation and
    validation runs, scenario sets, reports, packets (and, through the same ``visible_versions``,
    lineage): whoever gets 404 on the version gets 404 on them. ``versionless`` says who sees a row
    with no version: ``"creator"`` — work that will become a version (a training run before it
    registers one) is a draft of its creator's: the creator and those who see every version;
    ``"all"`` — rows that are not about any version (an imported scenario set); ``"hidden"`` — nobody
    but those who see every version.
    """
    if sees_every_version(user):
        return queryset
    condition = Q(**{f"{version_field}__in": visible_versions(user)})
    if versionless == "all":
        condition |= Q(**{f"{version_field}__isnull": True})
    elif versionless == "creator":
        condition |= Q(**{f"{version_field}__isnull": True, creator_field: user})
    return queryset.filter(condition)


def is_version_developer(user, version: ModelVersion) -> bool:
    """The version's developers: its creator, its listed developers and the model's developers
    (the strict reading of segregation of duties: anyone who built the model is not independent)."""
    return (
        version.created_by_id == user.pk
        or version.developers.filter(pk=user.pk).exists()
        or version.model.developers.filter(pk=user.pk).exists()
    )


def independence_conflict(user, subject: ModelVersion | InventoryModel) -> str | None:
    """Why ``user`` is not independent of ``subject`` (a version, or a model) — who they are to it, as
    a noun phrase a message can start with ("the owner of this model") — or None: THE
    segregation-of-duties rule.

    Every check that needs someone independent of a model's development — starting validation,
    the validator's decision, approval and rejection, e-signatures on those, findings, version
    roles, decisions on tier changes — asks this function and nothing else (issue 16 §5). Not
    independent of any version of a model: its owner and registrant, anyone who develops or created
    any version of it, and anyone who ever did (``ModelInvolvement`` keeps them after they leave),
    whatever roles they hold now. SR 11-7 ("effective challenge ... by staff who are not responsible
    for development") is about the person, so a later change of groups or developer lists does not
    restore independence.
    """
    if user is None or user.pk is None:
        return None
    model = subject.model if isinstance(subject, ModelVersion) else subject
    if isinstance(subject, ModelVersion) and is_version_developer(user, subject):
        return "a developer of this version"
    if (model.developers.filter(pk=user.pk).exists()
            or ModelVersion.objects.filter(model_id=model.pk).filter(Q(created_by=user) | Q(developers=user)).exists()):
        return "a developer of this model"
    if model.owner_id == user.pk:
        return "the owner of this model"
    if model.created_by_id == user.pk:
        return "the person who registered this model"
    past = ModelInvolvement.objects.filter(model_id=model.pk, user=user).order_by("-started_at", "-id").first()
    if past is not None:
        until = f" (until {past.ended_at:%Y-%m-%d})" if past.ended_at else ""
        what = {"version_developer": "developer of a version", "model_developer": "developer"}.get(past.role, past.role)
        return f"a former {what} of this model{until}"
    return None
