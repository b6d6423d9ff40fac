"""A SUCCEEDED ``Report`` row made directly (a small real PDF), for packet tests that do not need
the documentation renderer: the same M2M links, lineage and audit events ``report_execute`` records."""

from __future__ import annotations

import html

from django.utils import timezone

from governance.artifacts import store_bytes
from governance.models import RunStatus
from governance.services.audit import audit_record
from governance.services.lineage import lineage_entity, lineage_record_activity
from reports.models import Report


def tiny_pdf(title: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=f"<h1>{html.escape(title)}</h1><p>Model documentation (test).</p>").write_pdf()


def make_report(documented, *, actor) -> Report:
    """A SUCCEEDED report of ``documented`` (the ``documented_version`` fixture's namespace)."""
    return make_report_for(documented.version, actor=actor, scenario_sets=[documented.scenario_set],
                           validation_runs=[documented.validation_run], stress_results=[documented.stress])


def make_report_for(version, *, actor, scenario_sets=(), validation_runs=(), stress_results=()) -> Report:
    """A SUCCEEDED report of ``version`` documenting exactly these records."""
    pdf = tiny_pdf(f"Documentation of {version}")
    path, sha = store_bytes(pdf, suffix=".pdf")
    report = Report.objects.create(model_version=version, seed=0, created_by=actor, status=RunStatus.PENDING)
    audit_record(actor=actor, action="report.requested", object_type="report", object_id=report.pk,
                 after={"model_version": version.pk})
    report.scenario_sets.set(scenario_sets)
    report.validation_runs.set(validation_runs)
    report.stress_results.set(stress_results)
    report.status, report.sha256, report.size_bytes, report.storage_path = RunStatus.SUCCEEDED, sha, len(pdf), path
    report.pages, report.sections, report.progress = 1, ["Documentation"], 1.0
    report.started_at = report.finished_at = timezone.now()
    report.save()
    entity = lineage_entity(uid=report.lineage_uid, kind="report", label=f"report {report.pk}", sha256=sha,
                            object_type="report", object_id=report.pk, actor=actor)
    lineage_record_activity(
        activity_uid=f"report_render:{report.pk}", kind="report_render", label=f"report render {report.pk}",
        used=[*(s.lineage_uid for s in scenario_sets), *(f"validation_result:{r.pk}" for r in validation_runs),
              *(s.lineage_uid for s in stress_results)],
        generated=[entity], agents=[actor], object_type="report", object_id=report.pk, actor=actor)
    audit_record(actor=actor, action="report.rendered", object_type="report", object_id=report.pk,
                 after={"sha256": sha, "pages": 1})
    return report
