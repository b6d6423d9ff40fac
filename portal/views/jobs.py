"""The job page: one page for every kind of run started from a page (DESIGN §4: long work is a run).

It reads the run row only — status, progress, stage, error — so it answers in milliseconds whatever the
run is doing. It refreshes itself with a meta refresh while the run is unfinished (no JavaScript
needed); where scripts run, ``portal/static/portal/job.js`` polls ``?format=json`` instead and updates
the progress bar in place. The person who started the run (or an admin) may cancel it.
"""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from governance.errors import NotFound
from governance.services import run_state
from portal.jobs import job_for
from portal.pages import page

REFRESH_SECONDS = 3


def _row(request, kind: str, pk: int):
    found = job_for(kind)
    if found is None:
        raise Http404(f"no kind of run is called {kind!r}")
    job, _model = found
    row = job.visible(request.user).filter(pk=pk).first()
    if row is None:
        raise NotFound(f"{job.label.lower()} {pk} does not exist or is not visible to you")
    return job, row


def _state(job, row) -> dict:
    result = job.result(row) if row.status == "SUCCEEDED" or getattr(row, "model_version_id", None) else None
    percent = round(100 * max(0.0, min(1.0, float(row.progress or 0.0))))
    return {"status": row.status, "percent": percent, "finished": row.is_finished,
            "stage": (row.progress_detail or {}).get("stage", ""), "error": row.error,
            "cancel_requested": row.cancel_requested,
            "result": {"label": result[0], "url": result[1]} if result else None}


@page()
def job_page(request, kind: str, pk: int):
    job, row = _row(request, kind, pk)
    state = _state(job, row)
    if request.GET.get("format") == "json":
        return JsonResponse(state)
    may_cancel = not row.is_finished and (row.created_by_id == request.user.pk or "admin" in request.roles)
    return render(request, "portal/job.html", {
        "job": job, "kind": kind, "row": row, "state": state, "refresh": REFRESH_SECONDS, "may_cancel": may_cancel})


@require_POST
@page()
def job_cancel(request, kind: str, pk: int):
    _job, row = _row(request, kind, pk)
    run_state.run_cancel(actor=request.user, run=row)
    return redirect("portal:job", kind=kind, pk=pk)
