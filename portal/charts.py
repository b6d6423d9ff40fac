"""Charts on the pages: the report's figures (``reports.services.figures``), cached once drawn.

The figures of a finished run, scenario set or stress result never change, so each PNG is drawn
once and kept in the cache for the page's <img> requests. Without the figures module, or when
drawing fails, the page says "charts not available" instead of failing.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass

from django.core.cache import cache

log = logging.getLogger(__name__)
CACHE_SECONDS = 3600

# kind in the URL → the figures function that draws that object's charts.
FUNCTIONS = {
    "validation-run": "validation_run_figures",
    "scenario-set": "scenario_set_figures",
    "stress": "stress_result_figures",
    "training-run": "training_run_figures",
}
# The SHAP explanation of a stress result takes seconds of model evaluations: the page shows the
# loss distribution, the documentation PDF carries the SHAP charts.
OPTIONS = {"stress": {"explain": False}}


@dataclass(frozen=True)
class Chart:
    kind: str
    pk: int
    name: str
    title: str
    caption: str = ""


def _module():
    try:
        return importlib.import_module("reports.services.figures")
    except ImportError:
        return None


def _key(kind: str, pk: int, name: str = "") -> str:
    return f"portal:figure:{kind}:{pk}:{name}"


def charts_for(kind: str, obj) -> list[Chart] | None:
    """The charts of ``obj`` (drawing and caching them); None when charts are not available."""
    cached = cache.get(_key(kind, obj.pk))
    if cached is not None:
        return [Chart(kind, obj.pk, *entry) for entry in cached]
    module = _module()
    function = getattr(module, FUNCTIONS[kind], None) if module else None
    if function is None:
        return None
    try:
        figures = function(obj, **OPTIONS.get(kind, {}))
    except Exception:  # noqa: BLE001 - a chart that cannot be drawn must not take the page down
        log.exception("drawing %s figures for %s failed", kind, obj.pk)
        return None
    index = []
    for figure in figures:
        cache.set(_key(kind, obj.pk, figure.name), figure.png, CACHE_SECONDS)
        index.append((figure.name, figure.title, getattr(figure, "caption", "") or ""))
    cache.set(_key(kind, obj.pk), index, CACHE_SECONDS)
    return [Chart(kind, obj.pk, *entry) for entry in index]


def chart_png(kind: str, obj, name: str) -> bytes | None:
    png = cache.get(_key(kind, obj.pk, name))
    if png is not None:
        return png
    cache.delete(_key(kind, obj.pk))
    charts_for(kind, obj)
    return cache.get(_key(kind, obj.pk, name))
