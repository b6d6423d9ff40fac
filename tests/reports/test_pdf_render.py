"""The documentation PDF rendered from a real governed run, read back with pdftotext."""

from __future__ import annotations

import re
import subprocess

import pytest

from governance.models import AuditChainHead, AuditEvent, LineageEdge, LineageNode
from governance.services.checkpoints import audit_checkpoint_create
from reports.models import Report
from reports.services.documents import SECTIONS, report_execute, report_pdf_path, report_start

pytestmark = pytest.mark.django_db

PDFTOTEXT = "/usr/bin/pdftotext"


def pdf_text(path) -> str:
    done = subprocess.run([PDFTOTEXT, str(path), "-"], capture_output=True, check=True, timeout=60)
    return done.stdout.decode("utf-8")


def squeeze(text: str) -> str:
    return " ".join(text.split())


def render(actor, version, django_capture_on_commit_callbacks, **kwargs) -> Report:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = report_start(actor=actor, model_version=version, **kwargs)
    assert len(callbacks) == 1  # the render task is enqueued on commit
    report_execute(report.pk, worker="test-worker")
    report.refresh_from_db()
    return report


def test_documentation_pdf_holds_every_section_and_key_figure(documented_version, auditor, approver,
                                                              django_capture_on_commit_callbacks):
    version = documented_version.version
    checkpoint = audit_checkpoint_create(actor=auditor, reason="before the documentation render")
    report = render(approver, version, django_capture_on_commit_callbacks)
    assert report.status == "SUCCEEDED", report.error
    assert report.sections == list(SECTIONS)
    path = report_pdf_path(report)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) == report.size_bytes and report.pages >= 9
    text = pdf_text(path)
    flat = squeeze(text)
    positions = [flat.find(title) for title in SECTIONS]
    assert all(p >= 0 for p in positions), [t for t, p in zip(SECTIONS, positions, strict=True) if p < 0]
    assert positions == sorted(positions)  # in order
    model = version.model
    assert model.model_id in flat
    assert f"Version {version.version}" in flat
    assert f"Tier {model.tier}" in flat
    var99 = next(m for m in documented_version.stress.risk["historical"] if m["level"] == 0.99)
    assert f"{var99['var']:,.0f}" in flat
    dataset = documented_version.training_run.dataset
    assert dataset.sha256[:16] in text.replace("\n", "")
    # the chain head printed is the head at render time: a real event after the request, before the render
    nospace = "".join(text.split())
    match = re.search(r"Auditchainhead#(\d+)([0-9a-f]{64})", nospace)
    assert match, "chain head not printed"
    seq, printed = int(match[1]), match[2]
    requested = AuditEvent.objects.get(action="report.requested", object_id=str(report.pk))
    rendered = AuditEvent.objects.get(action="report.rendered", object_id=str(report.pk))
    assert requested.seq <= seq < rendered.seq
    assert AuditEvent.objects.get(seq=seq).hash == printed
    assert AuditChainHead.objects.get(pk=1).seq >= rendered.seq
    # the last checkpoint: its signed head, signature and public key
    assert checkpoint.signature in nospace and checkpoint.public_key in nospace and checkpoint.head_hash in nospace
    assert "SR 26-2" in flat and "outside its scope" in flat
    # the copula's validation was judged on its holdout replay, and the PDF says so with the replay's hash
    replay = documented_version.validation_run.metrics.get(name="holdout_comparator").details
    assert "holdout replay: parameters frozen at the training window" in flat
    assert replay["replay_sha256"] in nospace
    # table cells wrap (and may hyphenate) long words: compare without spaces and hyphens
    assert documented_version.finding.title.replace(" ", "").replace("-", "") in nospace.replace("-", "")
    for signature in version.signatures.all():
        assert signature.record_sha256[:24] in nospace and signature.signer_username in flat
    # the SHAP residual recorded and printed
    assert report.shap["additivity_residual"] < 1e-6 * max(1.0, abs(report.shap["stress_results"][
        str(documented_version.stress.pk)]["mean_loss"]))
    assert f"{report.shap['additivity_residual']:.3e}" in flat
    # lineage and audit of the render itself
    node = LineageNode.objects.get(uid=f"report:{report.pk}")
    assert node.sha256 == report.sha256
    activity = LineageNode.objects.get(uid=f"report_render:{report.pk}")
    used = set(LineageEdge.objects.filter(source=activity, relation="used").values_list("target__uid", flat=True))
    assert {documented_version.scenario_set.lineage_uid, documented_version.stress.lineage_uid,
            f"validation_result:{documented_version.validation_run.pk}"} <= used
    assert AuditEvent.objects.filter(action="report.requested", object_id=str(report.pk)).exists()
    assert set(report.timings) >= {"context", "shap", "pdf", "total"}, report.timings
