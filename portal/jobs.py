"""What the job page knows of each kind of run: who may see one, what to call it, where its result is.

Visibility is the API's own selector per kind (DESIGN §4: one rule per object kind); a kind registered
with the run kernel but not listed here (a later kind) is visible to its creator and to those who see
every version, and has no result link until it is listed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.urls import reverse

from governance.access import sees_every_version
from governance.services import run_state
from reports.selectors import visible_packets, visible_reports
from reports.services.figure_sets import subject_model, visible_figure_sets
from scenarios.selectors.dataset_imports import dataset_import_list
from scenarios.selectors.runs import generation_run_list, training_run_list
from validation.selectors.runs import validation_run_list


@dataclass(frozen=True)
class Job:
    label: str
    visible: Callable[[object], QuerySet]
    result: Callable[[object], tuple[str, str] | None] = lambda row: None


def _version(row) -> tuple[str, str] | None:
    if getattr(row, "model_version_id", None):
        return "Open the model version", reverse("portal:version", args=[row.model_version_id])
    return None


def _generated(row) -> tuple[str, str] | None:
    scenario_set = getattr(row, "scenario_set", None) if row.status == "SUCCEEDED" else None
    if scenario_set is not None:
        return f"Open scenario set {scenario_set.pk} on its version", (
            reverse("portal:version", args=[row.model_version_id]) + "#scenario-sets")
    return _version(row)


def _imported(row) -> tuple[str, str] | None:
    if row.dataset_id:
        uid = f"dataset:{row.dataset_id}"
        return f"Dataset {row.dataset_id} in lineage", reverse("portal:lineage_node", args=[uid])
    return None


def _charted(row) -> tuple[str, str] | None:
    """Charts are shown on their subject's page: a validation run's own, else the subject's version."""
    if row.subject_kind == "validation-run":
        return "Open the validation run", reverse("portal:validation_run", args=[row.subject_id])
    subject = subject_model(row.subject_kind).objects.filter(pk=row.subject_id).first()
    version_id = getattr(subject, "model_version_id", None) or getattr(
        getattr(subject, "scenario_set", None), "model_version_id", None)
    return ("Open the model version", reverse("portal:version", args=[version_id])) if version_id else None


JOBS: dict[str, Job] = {
    "training_run": Job("Training run", lambda user: training_run_list(user=user), _version),
    "generation_run": Job("Generation run", lambda user: generation_run_list(user=user), _generated),
    "validation_run": Job("Validation run", lambda user: validation_run_list(user=user),
                          lambda row: ("Open the validation results", reverse("portal:validation_run", args=[row.pk]))),
    "report": Job("Documentation PDF", visible_reports,
                  lambda row: ("Download the PDF", reverse("portal:report_pdf", args=[row.pk]))
                  if row.status == "SUCCEEDED" else None),
    "packet": Job("Submission packet", visible_packets,
                  lambda row: ("Download the packet", reverse("portal:packet_zip", args=[row.pk]))
                  if row.status == "SUCCEEDED" else None),
    "figure_set": Job("Charts", visible_figure_sets, _charted),
    "dataset_import": Job("Dataset import", lambda user: dataset_import_list(user=user), _imported),
}


# Parts of an aggregate run are shown on their parent's page, not as jobs of their own.
INTERNAL = frozenset({"validation_part"})


def job_for(kind: str) -> tuple[Job, type] | None:
    """The job description and table of a registered, user-facing run kind (None: no such kind)."""
    if kind in INTERNAL:
        return None
    for registered in run_state.run_kinds():
        if registered.object_type == kind:
            model = registered.model
            job = JOBS.get(kind) or Job(kind.replace("_", " ").capitalize(), lambda user, m=model: _fallback(user, m))
            return job, model
    return None


def _fallback(user, model) -> QuerySet:
    rows = model.objects.all()
    return rows if sees_every_version(user) else rows.filter(Q(created_by=user))


def job_url(started) -> str:
    """The job page of a started run (a ``RunStarted`` or a run row)."""
    kind = getattr(started, "kind", None)
    if not isinstance(kind, str):
        kind = run_state.run_kind_of(started).object_type
    return reverse("portal:job", kwargs={"kind": kind, "pk": getattr(started, "id", None) or started.pk})
