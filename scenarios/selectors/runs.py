"""Reads of runs and scenario sets, scoped to what the reader may see (governance.access)."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.access import require_any_role, visible_versions
from governance.errors import NotFound
from scenarios.models import GenerationRun, ScenarioSet, TrainingRun


def training_run_list(*, user) -> QuerySet[TrainingRun]:
    require_any_role(user)
    return TrainingRun.objects.select_related("model", "dataset", "created_by", "model_version")


def generation_run_list(*, user) -> QuerySet[GenerationRun]:
    return GenerationRun.objects.filter(model_version__in=visible_versions(user)).select_related(
        "model_version__model", "created_by")


def scenario_set_list(*, user) -> QuerySet[ScenarioSet]:
    require_any_role(user)
    versions = visible_versions(user)
    from django.db.models import Q

    return ScenarioSet.objects.filter(Q(model_version__in=versions) | Q(model_version__isnull=True)).select_related(
        "model_version__model", "dataset", "created_by")


def get_or_404(queryset: QuerySet, pk: int, label: str):
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"{label} {pk} does not exist or is not visible to you")
    return obj
