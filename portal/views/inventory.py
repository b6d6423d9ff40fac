"""The model inventory: the list with filters and search, a model's page, a version's page."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from governance.models.inventory import ModelFamily, ModelStatus
from governance.selectors.inventory import model_get, signature_list, version_get, version_list
from portal import charts, queries
from portal.pages import page
from portal.views.review import decision_context, finding_context
from scenarios.services.comparison import LEVELS, MEASURES, comparison_table, measure_name, version_label
from validation.selectors.runs import validation_run_list

PAGE_SIZE = 25


@page()
def home(request):
    return render(request, "portal/home.html", {"roles": sorted(request.roles)})


@page()
def model_list_page(request):
    params = {name: request.GET.get(name, "") for name in ("status", "tier", "family", "q")}
    models = queries.models_filtered(user=request.user, status=params["status"], tier=params["tier"],
                                     family=params["family"], search=params["q"])
    paginator = Paginator(models, PAGE_SIZE)
    return render(request, "portal/inventory.html", {
        "page_obj": paginator.get_page(request.GET.get("page")), "params": params,
        "statuses": ModelStatus.choices, "families": ModelFamily.choices, "tiers": (1, 2, 3),
    })


@page()
def model_page(request, model_id: str):
    model = model_get(user=request.user, model_id=model_id)
    versions = list(version_list(user=request.user).filter(model=model).order_by("-created_at"))
    history = queries.model_history(user=request.user, model=model, versions=versions)[:100]
    return render(request, "portal/model.html", {"model": model, "versions": versions, "history": history,
                                                 "comparison": comparison_display(model=model, user=request.user)})


def _usd(value) -> str:
    return "—" if value is None else f"{value:,.0f} USD"


def comparison_display(*, model, user) -> dict:
    """The champion/challenger table (scenarios.services.comparison) formatted for the page: USD with
    thousands separators, the disagreement flags next to the figure they concern."""
    table = comparison_table(model=model, user=user)
    labels = {f"{kind}_{measure_name(q)}": f"{name} {q * 100:g}%" for q in LEVELS
              for kind, name in (("var", "VaR"), ("es", "ES"))}
    flagged = {(f["condition"], f["version"], f["measure"]): f for f in table["disagreement"] if f["flagged"]}
    rows = []
    for row in table["rows"]:
        cells = []
        for m in MEASURES:
            flag = flagged.get((row["condition"], version_label(row), m))
            cells.append({"text": _usd(row[m]), "flag": flag and f"{flag['ratio']:.0%} of the others' median "
                                                               f"{_usd(flag['median'])}"})
        rows.append(row | {"cells": cells})
    conservative = [
        {"condition": condition,
         "cells": [{"label": labels[m], "text": _usd(best.get(m)), "source": best.get(f"{m}_from")} for m in MEASURES]}
        for condition, best in table["most_conservative"].items()
    ]
    return {"table": table, "rows": rows, "conservative": conservative, "labels": [labels[m] for m in MEASURES],
            "levels": " and ".join(f"{q * 100:g}%" for q in table["levels"]), "flags": len(flagged)}


@page()
def version_page(request, pk: int):
    version = version_get(user=request.user, pk=pk)
    context = {
        "version": version,
        "findings": version.findings.select_related("raised_by", "owner"),
        "evidence": version.evidence.all(),
        "signatures": signature_list(version=version),
        "runs": validation_run_list(user=request.user).filter(model_version=version),
        "history": queries.version_history(user=request.user, version=version)[:100],
    }
    training = getattr(version, "training_run_row", None)
    if training is not None and training.status == "SUCCEEDED":
        context["training_run"] = training
        context["training_charts"] = charts.charts_for("training-run", training)
    context |= finding_context(request.user, version) | decision_context(request.user, version)
    return render(request, "portal/version.html", context)
