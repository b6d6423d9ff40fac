"""The report service: permissions, the render task on a real worker, and failures that store nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from governance.artifacts import artifact_root
from governance.errors import Forbidden, InvalidInput, NotFound
from governance.models import AuditEvent, Evidence, LineageNode
from governance.services.inventory import model_create, version_create
from reports.models import Report
from reports.services.documents import report_execute, report_pdf_path, report_start
from tests.workers import running_worker, wait_until


def _version(developer, name="Doc model"):
    model = model_create(actor=developer, name=name, purpose="documentation test", business_line="Markets",
                         family="copula", exposure_usd=Decimal("1000000"), materiality_purpose="informational")
    return version_create(actor=developer, model=model, version="1.0.0")


def _pdfs() -> set:
    return {p.name for p in artifact_root().rglob("*.pdf")}


@pytest.mark.django_db
def test_roles_visibility_and_options_are_checked(developer, validator, approver, make_user,
                                                  django_capture_on_commit_callbacks):
    version = _version(developer)  # a draft: validators do not see drafts
    with pytest.raises(Forbidden):
        report_start(actor=make_user("nobody"), model_version=version)
    with pytest.raises(NotFound):
        report_start(actor=validator, model_version=version)
    with pytest.raises(InvalidInput, match="unknown report options"):
        report_start(actor=approver, model_version=version, options={"colour": 1})
    with pytest.raises(InvalidInput, match="positive integer"):
        report_start(actor=approver, model_version=version, options={"max_pages": 0})
    assert not Report.objects.exists()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = report_start(actor=developer, model_version=version)
    assert len(callbacks) == 1 and report.status == "PENDING"
    event = AuditEvent.objects.get(action="report.requested", object_id=str(report.pk))
    assert event.actor_username == developer.username


@pytest.mark.django_db
def test_a_render_over_its_limits_fails_with_a_clear_message_and_stores_nothing(
        developer, approver, django_capture_on_commit_callbacks):
    version = _version(developer)
    before = _pdfs()
    with django_capture_on_commit_callbacks(execute=False):
        report = report_start(actor=approver, model_version=version, options={"max_pages": 2})
    report_execute(report.pk, worker="test-worker")
    report.refresh_from_db()
    assert report.status == "FAILED"
    assert report.error.startswith("pdf: RenderError: the report has") and "limit of 2" in report.error
    assert report.storage_path == "" and report.sha256 == "" and report.pages is None
    assert _pdfs() == before
    assert not LineageNode.objects.filter(uid=f"report:{report.pk}").exists()
    assert not Evidence.objects.filter(source=f"report:{report.pk}").exists()
    assert AuditEvent.objects.filter(action="report.failed", object_id=str(report.pk)).exists()
    assert not AuditEvent.objects.filter(action="report.rendered", object_id=str(report.pk)).exists()
    with pytest.raises(NotFound):
        report_pdf_path(report)
    report_execute(report.pk, worker="again")  # a finished run is not claimed twice
    report.refresh_from_db()
    assert report.attempts == 1


@pytest.mark.django_db
def test_a_broken_environment_fails_the_stage_that_needs_it(developer, approver, monkeypatch,
                                                              django_capture_on_commit_callbacks):
    from reports.pdf import lineage

    version = _version(developer)
    monkeypatch.setattr(lineage, "DOT", "/nonexistent/dot")  # Graphviz missing: a broken environment
    with django_capture_on_commit_callbacks(execute=False):
        report = report_start(actor=approver, model_version=version)
    report_execute(report.pk, worker="test-worker")
    report.refresh_from_db()
    assert report.status == "FAILED"
    assert report.error.startswith("lineage_diagram: LineageDiagramError: Graphviz dot could not draw")
    assert report.storage_path == ""


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_render_task_runs_on_a_cpu_worker(developer, approver, through_redis):
    version = _version(developer, name="Worker model")
    with running_worker(through_redis, "cpu", timeout=120):
        report = report_start(actor=approver, model_version=version)
        wait_until(lambda: Report.objects.get(pk=report.pk).is_finished, timeout=240, interval=0.5)
    report.refresh_from_db()
    assert report.status == "SUCCEEDED", report.error
    assert report.worker.startswith("test-") and report.pages >= 9
    path = report_pdf_path(report)
    assert path.read_bytes().startswith(b"%PDF-") and path.stat().st_size == report.size_bytes
    assert AuditEvent.objects.filter(action="report.rendered", object_id=str(report.pk)).exists()
    assert LineageNode.objects.get(uid=f"report:{report.pk}").sha256 == report.sha256
    evidence = Evidence.objects.get(version=version, source=f"report:{report.pk}")
    assert evidence.kind == "report" and evidence.sha256 == report.sha256


@pytest.mark.django_db
def test_a_corrupted_scenario_file_fails_the_report_and_stores_nothing(developer, validator, approver, real_dataset,
                                                                       django_capture_on_commit_callbacks):
    import numpy as np

    from scenarios import scenario_files
    from scenarios.services.scenario_sets import scenario_set_import
    from tests.fixtures_reports import record_validation

    version = _version(developer)
    paths = np.random.default_rng(0).normal(size=(50, 5, 2))
    scenario_set = scenario_set_import(actor=validator, data=scenario_files.canonical_bytes(paths, ["A", "B"]),
                                       filename="small.parquet", name="small set")
    # only a validated set can be cited (issue 15): its validation is recorded, then its file is corrupted
    record_validation(scenario_set, actor=validator, dataset=real_dataset, version=version, rows=[
        {"tier": "coherence", "name": "coherence_floor", "factor": "A", "value": 0.0, "threshold": 0.0,
         "outcome": "PASS"}])
    stored = artifact_root() / scenario_set.storage_path
    stored.write_bytes(stored.read_bytes()[:-10] + b"0123456789")  # flip the tail: bytes no longer match
    before = _pdfs()
    with django_capture_on_commit_callbacks(execute=False):
        report = report_start(actor=approver, model_version=version, scenario_sets=[scenario_set])
    report_execute(report.pk, worker="test-worker")
    report.refresh_from_db()
    assert report.status == "FAILED"
    assert report.error.startswith("load_scenarios: OSError:") and "SHA-256" in report.error
    assert report.storage_path == "" and _pdfs() == before
    assert not LineageNode.objects.filter(uid=f"report:{report.pk}").exists()


@pytest.mark.django_db
def test_a_cancelled_report_stops_between_stages(developer, approver, django_capture_on_commit_callbacks):
    version = _version(developer)
    with django_capture_on_commit_callbacks(execute=False):
        report = report_start(actor=approver, model_version=version)
    Report.objects.filter(pk=report.pk).update(cancel_requested=True)
    report_execute(report.pk, worker="test-worker")
    report.refresh_from_db()
    assert report.status == "CANCELLED" and report.storage_path == ""
