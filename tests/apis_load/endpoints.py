"""Every list endpoint under /api/v1/, with how to fill it and its numeric query parameters (issue 16 §7).

One table for the N+1 tests and the parameter tests; ``list_routes()`` reads the URL configuration so a
new list endpoint that is missing here fails a test instead of going unchecked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import URLResolver, get_resolver
from rest_framework.generics import ListAPIView

from tests.apis_load import rows


@dataclass(frozen=True)
class ListEndpoint:
    route: str  # as in the URL configuration
    add: Callable[[rows.World, int], None]
    numeric: tuple[str, ...] = ()  # numeric query parameters besides limit and offset

    def url(self, world: rows.World) -> str:
        path = "/" + self.route.replace("<str:model_id>", world.model.model_id).replace("<int:pk>",
                                                                                        str(world.version.pk))
        return path

    @property
    def id(self) -> str:
        return self.route.removeprefix("api/v1/").rstrip("/").replace("<str:model_id>", "M").replace("<int:pk>", "V")


ENDPOINTS = [
    ListEndpoint("api/v1/models/", rows.add_models, ("tier",)),
    ListEndpoint("api/v1/models/<str:model_id>/versions/", rows.add_versions, ("validator",)),
    ListEndpoint("api/v1/models/<str:model_id>/tier-changes/", rows.add_tier_changes),
    ListEndpoint("api/v1/versions/", rows.add_versions, ("validator",)),
    ListEndpoint("api/v1/versions/<int:pk>/findings/", rows.add_version_findings, ("version", "owner")),
    ListEndpoint("api/v1/versions/<int:pk>/evidence/", rows.add_version_evidence, ("version",)),
    ListEndpoint("api/v1/findings/", rows.add_findings, ("version", "owner")),
    ListEndpoint("api/v1/evidence/", rows.add_evidence, ("version",)),
    ListEndpoint("api/v1/audit/events/", rows.add_audit_events, ("actor", "seq_min", "seq_max")),
    ListEndpoint("api/v1/audit/checkpoints/", rows.add_checkpoints),
    ListEndpoint("api/v1/lineage/", rows.add_lineage_nodes),
    ListEndpoint("api/v1/datasets/", rows.add_datasets),
    ListEndpoint("api/v1/dataset-imports/", rows.add_dataset_imports),
    ListEndpoint("api/v1/training-runs/", rows.add_training_runs, ("dataset",)),
    ListEndpoint("api/v1/generation-runs/", rows.add_generation_runs, ("model_version",)),
    ListEndpoint("api/v1/scenario-sets/", rows.add_scenario_sets, ("model_version", "dataset")),
    ListEndpoint("api/v1/portfolios/", rows.add_portfolios),
    ListEndpoint("api/v1/stress-results/", rows.add_stress_results),
    ListEndpoint("api/v1/validation-runs/", rows.add_validation_runs, ("model_version", "scenario_set")),
    ListEndpoint("api/v1/validation-policies/", rows.add_policies, ("model_tier",)),
    ListEndpoint("api/v1/reports/", rows.add_reports, ("model_version",)),
    ListEndpoint("api/v1/packets/", rows.add_packets, ("model_version", "report")),
]


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.callback


def list_views() -> dict[str, type]:
    """Route -> view class of every list view (a DRF ListAPIView) under /api/v1/."""
    found = {}
    for route, callback in _walk(get_resolver().url_patterns):
        view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if route.startswith("api/v1/") and view is not None and issubclass(view, ListAPIView):
            found[route] = view
    return found
