"""Reads of runs and scenario sets, scoped to what the reader may see (governance.access)."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.access import version_scoped
from governance.errors import NotFound
from scenarios.models import GenerationRun, ScenarioSet, TrainingRun


def training_run_list(*, user) -> QuerySet[TrainingRun]:
    """A training run shows its version's config and checkpoint: visible with that version; before it
    has one, to its creator (and those who see every version)."""
    return version_scoped(user, TrainingRun.objects.all(), versionless="creator").select_related(
        "model", "dataset", "created_by", "model_version")


def generation_run_list(*, user) -> QuerySet[GenerationRun]:
    return version_scoped(user, GenerationRun.objects.all()).select_related("model_version__model", "created_by")


def scenario_set_list(*, user) -> QuerySet[ScenarioSet]:
    """Scenario sets of a version are visible with it; imported sets (no version) to every role."""
    return version_scoped(user, ScenarioSet.objects.all(), versionless="all").select_related(
        "model_version__model", "dataset", "created_by")


def get_or_404(queryset: QuerySet, pk: int, label: str):
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"{label} {pk} does not exist or is not visible to you")
    return obj
