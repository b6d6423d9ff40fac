"""The model inventory: the list with filters and search, a model's page, a version's page, home.

Issue 17 §6/§8: the list filters by tier, status, owner and "due for re-validation"; the model page
has a version timeline (status changes read from the audit trail) and picks validation runs to
compare; the version page has an artefact browser (every stored thing with its SHA-256 and its
lineage node); home shows each role its pending work.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from governance.models import LineageNode
from governance.models.inventory import ModelFamily, ModelStatus
from governance.selectors.inventory import model_get, signature_list, version_get, version_list
from portal import charts, queries
from portal.pages import page
from portal.views.review import decision_context, finding_context
from reports.selectors import visible_packets, visible_reports
from scenarios.models import Dataset, StressResult
from scenarios.selectors.runs import scenario_set_list
from scenarios.services.comparison import LEVELS, MEASURES, comparison_table, measure_name, version_label
from validation.selectors.runs import validation_run_list

PAGE_SIZE = 25
# The other areas' partials (issue 17): included where they exist, so the pages work without them.
MODEL_PARTIALS = ("portal/develop/_model_actions.html",)
VERSION_PARTIALS = ("portal/develop/_version_actions.html", "portal/validate/_version_actions.html",
                    "portal/submit/_version_documents.html")


def existing_templates(names) -> list[str]:
    found = []
    for name in names:
        try:
            get_template(name)
        except TemplateDoesNotExist:
            continue
        found.append(name)
    return found


@page()
def home(request):
    roles = request.roles
    drafts = []
    if "developer" in roles:
        drafts = list(queries.own_versions(user=request.user).filter(
            status__in=("draft", "changes_requested")).order_by("-updated_at")[:10])
    return render(request, "portal/home.html", {
        "roles": sorted(roles), "work": queries.home_counts(user=request.user, roles=roles), "drafts": drafts,
    })


@page()
def model_list_page(request):
    params = {name: request.GET.get(name, "") for name in ("status", "tier", "family", "q", "owner", "due", "mine")}
    models = queries.models_filtered(user=request.user, status=params["status"], tier=params["tier"],
                                     family=params["family"], search=params["q"], owner=params["owner"],
                                     due=params["due"] == "1", mine=params["mine"] == "1")
    paginator = Paginator(models, PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    owners = (get_user_model().objects.filter(owned_models__isnull=False).distinct()
              .order_by("username").values_list("username", flat=True))
    return render(request, "portal/inventory.html", {
        "page_obj": paginator.get_page(request.GET.get("page")), "params": params, "query": query.urlencode(),
        "statuses": ModelStatus.choices, "families": ModelFamily.choices, "tiers": (1, 2, 3),
        "owners": list(owners), "notice_days": queries.REVALIDATION_NOTICE_DAYS,
    })


@page()
def model_page(request, model_id: str):
    model = model_get(user=request.user, model_id=model_id)
    versions = list(version_list(user=request.user).filter(model=model).order_by("-created_at"))
    history = queries.model_history(user=request.user, model=model, versions=versions)[:100]
    runs = (validation_run_list(user=request.user).filter(model_version__in=[v.pk for v in versions])
            .order_by("-created_at")[:100])
    return render(request, "portal/model.html", {
        "model": model, "versions": versions, "history": history,
        "timeline": queries.version_timeline(user=request.user, model=model, versions=versions),
        "compare_runs": runs, "partials": existing_templates(MODEL_PARTIALS),
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


def version_artefacts(*, user, version) -> list[dict]:
    """Everything stored for ``version`` that the reader may see: kind, name, SHA-256, a download or
    page, and its lineage node (only where that node exists)."""
    items: list[dict] = []
    training = getattr(version, "training_run_row", None)
    datasets = {}
    if training is not None:
        datasets[training.dataset.pk] = training.dataset
    fingerprints = [sha for sha in (version.dataset_fingerprints or []) if isinstance(sha, str)]
    if fingerprints:
        datasets.update({d.pk: d for d in Dataset.objects.filter(sha256__in=fingerprints)})
    for dataset in sorted(datasets.values(), key=lambda d: d.pk):
        items.append({"kind": "Dataset", "name": str(dataset), "sha256": dataset.sha256, "uid": dataset.lineage_uid,
                      "detail": f"{len(dataset.factors or [])} factors" if hasattr(dataset, "factors") else ""})
    if version.checkpoint_sha256:
        items.append({"kind": "Training checkpoint", "sha256": version.checkpoint_sha256,
                      "name": f"training run {training.pk} ({training.engine})" if training else version.engine,
                      "uid": f"checkpoint:{version.checkpoint_sha256}"})
    sets = list(scenario_set_list(user=user).filter(model_version=version).order_by("pk"))
    for scenario_set in sets:
        items.append({"kind": "Scenario set", "name": f"{scenario_set.name} ({scenario_set.purpose})",
                      "sha256": scenario_set.sha256, "uid": scenario_set.lineage_uid,
                      "detail": f"{scenario_set.n_scenarios} × {scenario_set.horizon}"})
    for stress in StressResult.objects.filter(scenario_set__in=sets).select_related("portfolio").order_by("pk"):
        items.append({"kind": "Stress result (P&L)", "name": f"stress {stress.pk} on {stress.portfolio.name}",
                      "sha256": stress.pnl_sha256, "uid": stress.lineage_uid})
    for run in validation_run_list(user=user).filter(model_version=version).order_by("pk"):
        items.append({"kind": "Validation results", "name": f"validation run {run.pk} ({run.status}"
                      f"{' ' + run.outcome if run.outcome else ''})", "sha256": run.results_sha256,
                      "uid": f"validation_result:{run.pk}", "url": _url("portal:validation_run", run.pk)})
    for report in visible_reports(user).filter(model_version=version).order_by("pk"):
        items.append({"kind": "Documentation PDF", "name": f"report {report.pk} ({report.status})",
                      "sha256": report.sha256, "uid": report.lineage_uid,
                      "url": _url("portal:report_pdf", report.pk) if report.status == "SUCCEEDED" else ""})
    for packet in visible_packets(user).filter(model_version=version).order_by("pk"):
        items.append({"kind": "Submission packet", "name": f"packet {packet.pk} ({packet.status})",
                      "sha256": packet.sha256, "uid": packet.lineage_uid,
                      "url": _url("portal:packet_zip", packet.pk) if packet.status == "SUCCEEDED" else ""})
    known = set(LineageNode.objects.filter(uid__in=[i["uid"] for i in items]).values_list("uid", flat=True))
    for item in items:
        item.setdefault("url", "")
        item.setdefault("detail", "")
        item["lineage"] = item["uid"] if item["uid"] in known else ""
    return items


def _url(name: str, pk: int) -> str:
    from django.urls import reverse

    return reverse(name, args=[pk])


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
        "artefacts": version_artefacts(user=request.user, version=version),
        "partials": existing_templates(VERSION_PARTIALS),
    }
    training = getattr(version, "training_run_row", None)
    if training is not None and training.status == "SUCCEEDED":
        context["training_run"] = training
        context["training_charts"] = charts.charts_for("training-run", training)
    context |= finding_context(request.user, version) | decision_context(request.user, version)
    return render(request, "portal/version.html", context)
