"""Runs: training, generation, validation, report and packet runs with their status and progress.

Every run the reader may see (the API's selectors), newest first, paginated with counts per kind
(issue 17: the page used to stop at 50 rows per kind without saying so). The page refreshes itself
(a meta refresh, so it needs no JavaScript) while any run listed is unfinished; where scripts run,
``portal/static/portal/runs.js`` swaps in fresh rows instead.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import CharField, Value
from django.shortcuts import render
from django.urls import reverse

from portal.pages import page
from reports.selectors import visible_packets, visible_reports
from scenarios.selectors.runs import generation_run_list, training_run_list
from validation.outcomes import not_run_tiers
from validation.selectors.runs import validation_run_list

PAGE_SIZE = 50
REFRESH_SECONDS = 5
KINDS = ("Training", "Generation", "Validation", "Report", "Packet")


def _querysets(user) -> dict:
    return {
        "Training": training_run_list(user=user),
        "Generation": generation_run_list(user=user),
        "Validation": validation_run_list(user=user),
        "Report": visible_reports(user),
        "Packet": visible_packets(user),
    }


def _link(kind: str, run) -> str:
    # Every row here comes from the reader's selector, and its version is visible with it: the
    # version link never 404s (one visibility rule for the row and the link).
    if kind == "Validation":
        return reverse("portal:validation_run", args=[run.pk])
    if kind == "Report" and run.status == "SUCCEEDED":
        return reverse("portal:report_pdf", args=[run.pk])
    if kind == "Packet" and run.status == "SUCCEEDED":
        return reverse("portal:packet_zip", args=[run.pk])
    version_id = getattr(run, "model_version_id", None)
    return reverse("portal:version", args=[version_id]) if version_id else ""


def _row(kind: str, run) -> dict:
    outcome = getattr(run, "outcome", "") if kind == "Validation" else ""
    return {"kind": kind, "run": run, "link": _link(kind, run), "outcome": outcome,
            "not_run": not_run_tiers(run.tier_outcomes or {}) if outcome else [],
            "percent": round(100 * max(0.0, min(1.0, run.progress or 0.0))),
            "stage": (run.progress_detail or {}).get("stage", "")}


def run_page(user, *, kind: str = "", number=None, page_size: int = PAGE_SIZE):
    """One page of the runs ``user`` may see (of one kind, or all), newest first; and the counts per kind.

    The ids of the page come from one UNION query over the kinds (kind, pk, created_at), so the
    count and the order are exact however many runs there are; then one query per kind on the page.
    """
    querysets = _querysets(user)
    counts = {k: qs.count() for k, qs in querysets.items()}
    chosen = [kind] if kind in querysets else list(KINDS)
    keys = [querysets[k].order_by().annotate(run_kind=Value(k, output_field=CharField()))
            .values_list("run_kind", "pk", "created_at") for k in chosen]
    union = keys[0].union(*keys[1:], all=True) if len(keys) > 1 else keys[0]
    paginator = Paginator(union.order_by("-created_at", "-pk"), page_size)
    page_obj = paginator.get_page(number)
    wanted: dict[str, list[int]] = {}
    for run_kind, pk, _ in page_obj.object_list:
        wanted.setdefault(run_kind, []).append(pk)
    loaded = {(k, obj.pk): obj for k, pks in wanted.items() for obj in querysets[k].filter(pk__in=pks)}
    rows = [_row(k, loaded[(k, pk)]) for k, pk, _ in page_obj.object_list if (k, pk) in loaded]
    return page_obj, rows, counts


@page()
def runs_page(request):
    kind = request.GET.get("kind", "")
    if kind not in KINDS:
        kind = ""
    page_obj, rows, counts = run_page(request.user, kind=kind, number=request.GET.get("page"))
    active = any(not r["run"].is_finished for r in rows)
    template = "portal/runs_table.html" if request.GET.get("partial") == "1" else "portal/runs.html"
    query = f"kind={kind}" if kind else ""
    return render(request, template, {
        "rows": rows, "active": active, "refresh": REFRESH_SECONDS, "page_obj": page_obj, "query": query,
        "counts": counts, "total": sum(counts.values()), "kind": kind, "kinds": KINDS,
    })
