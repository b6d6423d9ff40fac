"""Charts on the pages: read from the stored figure sets, never drawn here (DESIGN §4: a page only reads).

A result's charts are drawn by a task (``reports.services.figure_sets``) when the result is produced, and
stored as content-addressed PNGs. ``charts_for`` gives a page what there is — the charts, or where their
drawing stands (pending or running with the job's link, failed with the error, or not drawn yet, with a
button to start it); ``chart_file`` gives the figure view the stored bytes of one chart. Both are one
indexed query: no figure module is imported and nothing is drawn, so an unknown chart is a 404 at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse

from governance.artifacts import read_bytes
from governance.models import RunStatus
from reports.models import FigureSet

KINDS = ("validation-run", "scenario-set", "stress", "training-run")

READY, PENDING, RUNNING, FAILED, NONE = "ready", "pending", "running", "failed", "none"
_STATES = {RunStatus.SUCCEEDED: READY, RunStatus.PENDING: PENDING, RunStatus.RUNNING: RUNNING,
           RunStatus.FAILED: FAILED, RunStatus.CANCELLED: FAILED}


@dataclass(frozen=True)
class Chart:
    kind: str
    pk: int
    name: str
    title: str
    caption: str = ""
    sha256: str = ""


@dataclass(frozen=True)
class Charts:
    """The charts of one object, or where their drawing stands (``state``: ready/pending/running/failed/none)."""

    kind: str
    pk: int
    state: str
    charts: list[Chart] = field(default_factory=list)
    error: str = ""
    job_url: str = ""
    progress: float = 0.0

    def __iter__(self):
        return iter(self.charts)

    def __len__(self) -> int:
        return len(self.charts)

    @property
    def draw_url(self) -> str:
        return reverse("portal:figure_draw", kwargs={"kind": self.kind, "pk": self.pk})

    @property
    def may_draw(self) -> bool:
        """Not drawn, or the drawing failed: a person may start it (again)."""
        return self.state in (NONE, FAILED)


def _state_of(kind: str, pk: int, figure_set: FigureSet | None) -> Charts:
    if figure_set is None:
        return Charts(kind, pk, NONE)
    state = _STATES.get(figure_set.status, NONE)
    if state == READY:
        return Charts(kind, pk, READY, [Chart(kind, pk, f["name"], f.get("title", ""), f.get("caption", ""),
                                               f.get("sha256", "")) for f in figure_set.figures or []])
    job = reverse("portal:job", kwargs={"kind": "figure_set", "pk": figure_set.pk})
    return Charts(kind, pk, state, error=figure_set.error if state == FAILED else "", job_url=job,
                  progress=float(figure_set.progress or 0.0))


def charts_for(kind: str, obj) -> Charts:
    """The stored charts of ``obj`` (a ``kind`` in ``KINDS``), or where their drawing stands."""
    figure_set = (FigureSet.objects.only("pk", "status", "figures", "error", "progress")
                  .filter(subject_kind=kind, subject_id=obj.pk).first())
    return _state_of(kind, obj.pk, figure_set)


def charts_for_many(kind: str, objects) -> dict[int, Charts]:
    """``charts_for`` of several objects of one kind in one query (a page listing stress results)."""
    objects = list(objects)
    sets = {s.subject_id: s for s in FigureSet.objects.only("pk", "status", "figures", "error", "progress",
                                                             "subject_id")
            .filter(subject_kind=kind, subject_id__in=[o.pk for o in objects])}
    return {o.pk: _state_of(kind, o.pk, sets.get(o.pk)) for o in objects}


def chart_file(kind: str, pk: int, name: str) -> tuple[bytes, str] | None:
    """The stored PNG of one chart and its SHA-256; None when the object has no such drawn chart."""
    if kind not in KINDS:
        return None
    figure_set = (FigureSet.objects.only("pk", "figures")
                  .filter(subject_kind=kind, subject_id=pk, status=RunStatus.SUCCEEDED).first())
    entry = figure_set.figure(name) if figure_set is not None else None
    if entry is None:
        return None
    try:
        return read_bytes(entry["path"], expected_sha256=entry["sha256"]), entry["sha256"]
    except OSError:  # missing or altered on disk: not served; drawing it again replaces the record
        return None
