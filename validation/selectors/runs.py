from __future__ import annotations

from django.db.models import Q, QuerySet

from governance.access import require_any_role, visible_versions
from governance.errors import NotFound
from validation.models import ValidationRun


def validation_run_list(*, user) -> QuerySet[ValidationRun]:
    require_any_role(user)
    versions = visible_versions(user)
    return ValidationRun.objects.filter(Q(model_version__in=versions) | Q(model_version__isnull=True)).select_related(
        "scenario_set", "policy", "model_version__model", "created_by")


def validation_run_get(*, user, pk: int) -> ValidationRun:
    run = validation_run_list(user=user).filter(pk=pk).first()
    if run is None:
        raise NotFound(f"validation run {pk} does not exist or is not visible to you")
    return run
