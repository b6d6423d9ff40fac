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
from governance.models.inventory import InventoryModel, VersionStatus
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


def is_version_developer(user, version: ModelVersion) -> bool:
    """The version's developers: its creator, its listed developers and the model's developers
    (the strict reading of segregation of duties: anyone who built the model is not independent)."""
    return (
        version.created_by_id == user.pk
        or version.developers.filter(pk=user.pk).exists()
        or version.model.developers.filter(pk=user.pk).exists()
    )
