"""Auditor pages: lineage browser (SVG and list), audit log with filters and chain status, downloads, runs."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client

from governance.models import AuditEvent
from governance.services.lineage import lineage_entity
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_lineage_from_packet_down_to_dataset_and_downloads(packeted, auditor, make_user):
    client = _client(auditor)
    packet, report = packeted.packet, packeted.report
    dataset = packeted.training_run.dataset
    page = client.get(f"/lineage/packet:{packet.pk}/?direction=up&depth=12").content.decode()
    # The graph is drawn (inline SVG from Graphviz) and the same nodes are listed as HTML, with SHA-256.
    assert "<svg" in page and 'class="graph"' in page
    assert f"/lineage/dataset:{dataset.pk}/" in page
    assert dataset.sha256 in page and packet.sha256 in page
    assert f"/lineage/report:{report.pk}/" in page
    # Walking down from the dataset reaches the packet again.
    down = client.get(f"/lineage/dataset:{dataset.pk}/?direction=down&depth=12").content.decode()
    assert f"packet:{packet.pk}" in down

    pdf = client.get(f"/documents/reports/{report.pk}.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    body = b"".join(pdf.streaming_content)
    assert body.startswith(b"%PDF-") and len(body) == report.size_bytes
    assert "attachment" in pdf["Content-Disposition"]
    zipped = client.get(f"/documents/packets/{packet.pk}.zip")
    assert zipped.status_code == 200 and zipped["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(b"".join(zipped.streaming_content))).namelist()
    assert "manifest.json" in names

    listing = client.get("/documents/").content.decode()
    assert f"/documents/reports/{report.pk}.pdf" in listing and f"/documents/packets/{packet.pk}.zip" in listing
    # A developer of another model sees neither the files nor their listing.
    stranger = _client(make_user("dev2", "developer"))
    assert stranger.get(f"/documents/reports/{report.pk}.pdf").status_code == 404
    assert stranger.get(f"/documents/packets/{packet.pk}.zip").status_code == 404
    assert f"/documents/reports/{report.pk}.pdf" not in stranger.get("/documents/").content.decode()


def test_lineage_labels_cannot_inject_markup(auditor):
    from django.db import transaction

    with transaction.atomic():
        lineage_entity(uid="dataset:900", kind="dataset", label='<script>alert("x")</script> & "quoted"',
                       actor=auditor)
    page = _client(auditor).get("/lineage/dataset:900/").content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page  # in the SVG and in the table, escaped


def test_lineage_list_works_without_graphviz(auditor, monkeypatch):
    from django.db import transaction

    from portal import graph

    with transaction.atomic():
        lineage_entity(uid="dataset:901", kind="dataset", label="plain", sha256="a" * 64, actor=auditor)
    monkeypatch.setattr(graph.shutil, "which", lambda name: "/nonexistent/dot")
    page = _client(auditor).get("/lineage/dataset:901/").content.decode()
    assert "<svg" not in page and "The graph drawing is not available" in page
    assert "a" * 64 in page


def test_audit_log_filters_pages_and_chain_status(under_validation, validator, auditor, developer):
    from governance.services.workflow import version_transition

    version_transition(actor=validator, version=under_validation.version, action="validate", password=PASSWORD,
                       reason="holdout fine")
    client = _client(auditor)
    page = client.get("/audit/").content.decode()
    assert "Chain verified" in page
    total = AuditEvent.objects.count()
    assert f"{total} events" in page and "page 1 of" in page
    filtered = client.get("/audit/", {"action_prefix": "version.", "object_type": "model_version"}).content.decode()
    actions = set(AuditEvent.objects.filter(action__startswith="version.").values_list("action", flat=True))
    assert actions == {"version.created", "version.submit", "version.start_validation", "version.validate"}
    for action in actions:
        assert f"<td>{action}</td>" in filtered
    assert "<td>finding.raised</td>" not in filtered and "<td>lineage.node_created</td>" not in filtered
    mine = client.get("/audit/", {"actor_username": "val", "action_prefix": "signature."}).content.decode()
    assert "1 event," in mine
    # Developers read only their own events (as in the API).
    dev_page = _client(developer).get("/audit/").content.decode()
    assert "<td>val</td>" not in dev_page and "<td>dev</td>" in dev_page
    # The time range as the form's datetime-local inputs send it (UTC, minutes).
    future = client.get("/audit/", {"timestamp_after": "2999-01-01T00:00"}).content.decode()
    assert "0 events" in future and "No event matches." in future
    past = client.get("/audit/", {"timestamp_before": "2999-01-01T00:00",
                                  "timestamp_after": "2000-01-01T00:00"}).content.decode()
    assert f"{total} events" in past
    second = client.get("/audit/", {"page": 2}).content.decode()
    assert "page 2 of" in second


def test_audit_log_shows_a_broken_chain(under_validation, auditor):
    from django.db import connection

    event = AuditEvent.objects.order_by("seq")[3]
    with connection.cursor() as cursor:  # what an attacker with raw access would do
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE governance_auditevent SET reason = 'rewritten' WHERE id = %s", [event.pk])
    page = _client(auditor).get("/audit/").content.decode()
    assert "Chain broken" in page and f"at event #{event.seq}" in page


def test_runs_page_lists_runs_and_refreshes_while_active(under_validation, validator):
    from scenarios.models import TrainingRun

    client = _client(validator)
    page = client.get("/runs/").content.decode()
    assert "Training" in page and "Validation" in page and "Generation" in page
    assert 'http-equiv="refresh"' not in page  # everything finished
    TrainingRun.objects.filter(pk=under_validation.training_run.pk).update(status="RUNNING", progress=0.4)
    page = client.get("/runs/").content.decode()
    assert '<noscript><meta http-equiv="refresh"' in page and 'value="40"' in page
    partial = client.get("/runs/?partial=1").content.decode()
    assert partial.lstrip().startswith("<div") and "<html" not in partial


def test_lineage_drawing_leaves_agents_out_unless_asked(under_validation, auditor):
    client = _client(auditor)
    uid = f"model_version:{under_validation.version.pk}"
    plain = client.get(f"/lineage/{uid}/?direction=up&depth=3").content.decode()
    drawn = plain.split('<div class="graph"', 1)[1].split("</div>", 1)[0]
    assert "user: dev" not in drawn and "checkpoint" in drawn
    assert "user:" in plain.split("<table", 1)[1]  # the list keeps the people
    with_agents = client.get(f"/lineage/{uid}/?direction=up&depth=3&agents=1").content.decode()
    assert "user: dev" in with_agents.split('<div class="graph"', 1)[1].split("</div>", 1)[0]
