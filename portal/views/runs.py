"""Runs: training, generation, validation, report and packet runs with their status and progress.

The page refreshes itself (a meta refresh, so it needs no JavaScript) while any run listed is
unfinished; where scripts run, ``portal/static/portal/runs.js`` swaps in fresh rows instead.
"""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse

from portal.pages import page
from reports.selectors import visible_packets, visible_reports
from scenarios.selectors.runs import generation_run_list, training_run_list
from validation.outcomes import not_run_tiers
from validation.selectors.runs import validation_run_list

LIMIT = 50
REFRESH_SECONDS = 5


def _link(kind: str, run) -> str:
    if kind == "Validation":
        return reverse("portal:validation_run", args=[run.pk])
    if kind == "Report" and run.status == "SUCCEEDED":
        return reverse("portal:report_pdf", args=[run.pk])
    if kind == "Packet" and run.status == "SUCCEEDED":
        return reverse("portal:packet_zip", args=[run.pk])
    version_id = getattr(run, "model_version_id", None)
    return reverse("portal:version", args=[version_id]) if version_id else ""


def run_rows(user) -> list[dict]:
    """The latest runs of each kind the user may see (the API's selectors), newest first."""
    groups = [
        ("Training", training_run_list(user=user)),
        ("Generation", generation_run_list(user=user)),
        ("Validation", validation_run_list(user=user)),
        ("Report", visible_reports(user)),
        ("Packet", visible_packets(user)),
    ]
    rows = []
    for kind, queryset in groups:
        for run in queryset.order_by("-created_at")[:LIMIT]:
            outcome = getattr(run, "outcome", "") if kind == "Validation" else ""
            rows.append({"kind": kind, "run": run, "link": _link(kind, run), "outcome": outcome,
                         "not_run": not_run_tiers(run.tier_outcomes or {}) if outcome else [],
                         "percent": round(100 * max(0.0, min(1.0, run.progress or 0.0))),
                         "stage": (run.progress_detail or {}).get("stage", "")})
    rows.sort(key=lambda r: r["run"].created_at, reverse=True)
    return rows


@page()
def runs_page(request):
    rows = run_rows(request.user)
    active = any(not r["run"].is_finished for r in rows)
    template = "portal/runs_table.html" if request.GET.get("partial") == "1" else "portal/runs.html"
    return render(request, template, {"rows": rows, "active": active, "refresh": REFRESH_SECONDS})
