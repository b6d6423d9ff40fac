"""Starting the drawing of a result's charts from a page ("Draw charts", for results that have none).

Charts are drawn by a run (``reports.services.figure_sets``), never in a request: the button starts it
and answers 303 to the job page. Anyone with a platform role who may see the result may start it.
"""

from __future__ import annotations

from django.http import Http404, HttpResponseRedirect
from django.views.decorators.http import require_POST

from portal.jobs import job_url
from portal.pages import page
from reports.services.figure_sets import SUBJECTS, figure_set_start, subject_get


@require_POST
@page()
def figure_draw(request, kind: str, pk: int):
    if kind not in SUBJECTS:
        raise Http404("no such kind of chart")
    subject = subject_get(request.user, kind, pk)
    started = figure_set_start(actor=request.user, subject_kind=kind, subject=subject)
    response = HttpResponseRedirect(job_url(started))
    response.status_code = 303  # the browser follows with a GET: a reload does not post again
    return response
