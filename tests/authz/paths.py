"""The API's operations as the OpenAPI schema lists them, and the seeded objects their path parameters name."""

from __future__ import annotations

import json
import re
from functools import cache

HTTP_METHODS = ("get", "put", "post", "patch", "delete")


@cache
def openapi_document() -> dict:
    """The schema drf-spectacular serves at /api/v1/schema/, generated in-process (no request, no permission
    check on the schema view: whether that view is public is a deployment decision, not the fuzz's)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document, renderer_context={}))


def schema_operations() -> list[tuple[str, str]]:
    """Every (METHOD, path template) in the schema, sorted."""
    return sorted((method.upper(), path) for path, item in openapi_document()["paths"].items()
                  for method in item if method in HTTP_METHODS)


# Which seeded object a path parameter names, by the collection the path starts with (first match wins).
_OBJECT_BY_PREFIX = (
    ("/api/v1/models/", "model"),
    ("/api/v1/versions/", "version"),
    ("/api/v1/findings/", "finding"),
    ("/api/v1/datasets/", "dataset"),
    ("/api/v1/dataset-imports/", "dataset_import"),
    ("/api/v1/training-runs/", "training_run"),
    ("/api/v1/generation-runs/", "generation_run"),
    ("/api/v1/scenario-sets/", "scenario_set"),
    ("/api/v1/validation-runs/", "validation_run"),
    ("/api/v1/stress-results/", "stress"),
    ("/api/v1/portfolios/", "portfolio"),
    ("/api/v1/reports/", "report"),
    ("/api/v1/packets/", "packet"),
    ("/api/v1/audit/checkpoints/", "checkpoint"),
    ("/api/v1/audit/events/", "audit_event"),
    ("/api/v1/lineage/", "lineage"),
    ("/api/v1/tier-changes/", "tier_change"),
)
PARAMETER = re.compile(r"\{(\w+)\}")


def path_parameters(world, template: str, *, version: str = "version") -> dict[str, str]:
    """The path parameters that make ``template`` name a seeded object (``version``: which seeded version,
    "version" (approved) or "draft")."""
    names = PARAMETER.findall(template)
    if not names:
        return {}
    kind = next((k for prefix, k in _OBJECT_BY_PREFIX if template.startswith(prefix)), None)
    values: dict[str, str] = {}
    for name in names:
        if name == "model_id":
            values[name] = world.model.model_id
        elif name == "action":
            values[name] = "remediate"
        elif name == "seq":
            values[name] = str(world.audit_seq)
        elif name == "uid":
            values[name] = world.lineage_uid
        elif kind == "version":
            values[name] = str(getattr(world, version).pk)
        elif kind is not None and getattr(world, kind, None) is not None:
            values[name] = str(getattr(world, kind).pk)
        else:
            raise KeyError(f"no seeded object for {{{name}}} in {template}: add one to tests/authz/paths.py")
    return values


def fill(template: str, values: dict[str, str]) -> str:
    return PARAMETER.sub(lambda m: values[m.group(1)], template)
