"""Building a submission packet around a rendered report: contents, lineage, audit, determinism, access."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from governance import signing
from governance.artifacts import read_bytes
from governance.errors import Conflict, Forbidden, NotFound
from governance.models import AuditEvent, LineageEdge, LineageNode
from governance.services.audit import event_hash
from reports.models import Packet
from reports.services.packets import packet_execute, packet_path, packet_start, packet_verify
from scenarios import scenario_files
from tests.reports.packet_support import make_report

pytestmark = pytest.mark.django_db


def build(actor, report, capture) -> Packet:
    with capture(execute=False):
        packet = packet_start(actor=actor, report=report)
    packet_execute(packet.pk, worker="packet-worker")
    packet.refresh_from_db()
    assert packet.status == "SUCCEEDED", packet.error
    return packet


def members(packet) -> dict[str, bytes]:
    with zipfile.ZipFile(packet_path(packet)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_packet_holds_every_record_of_the_report_and_verifies(documented_version, approver,
                                                                 django_capture_on_commit_callbacks):
    doc = documented_version
    report = make_report(doc, actor=doc.version.created_by)
    packet = build(approver, report, django_capture_on_commit_callbacks)
    files = members(packet)
    s, v, st = doc.scenario_set.pk, doc.validation_run.pk, doc.stress.pk
    assert set(files) == {
        "README.txt", "verify.py", "manifest.json", "signature.ed25519", "report/report.pdf",
        "lineage/prov.json", "audit/excerpt.json",
        f"scenario_sets/{s}/scenarios.parquet", f"scenario_sets/{s}/scenarios.csv",
        f"scenario_sets/{s}/scenario_set.json",
        f"validation/{v}/results.json", f"validation/{v}/metrics.csv",
        f"stress/{st}/result.json", f"stress/{st}/pnl.parquet",
        "comparison/champion_challenger.csv", "comparison/most_conservative.csv",
    }
    # The files are the platform's own bytes: the stored scenario set and PDF hash to their recorded SHA-256.
    import hashlib

    assert hashlib.sha256(files[f"scenario_sets/{s}/scenarios.parquet"]).hexdigest() == doc.scenario_set.sha256
    assert hashlib.sha256(files["report/report.pdf"]).hexdigest() == report.sha256
    array, factors = scenario_files.read_canonical(read_bytes(doc.scenario_set.storage_path))
    assert files[f"scenario_sets/{s}/scenarios.csv"] == scenario_files.to_csv_bytes(array, factors)
    assert json.loads(files[f"validation/{v}/results.json"])["outcome"] == doc.validation_run.outcome
    metrics_csv = files[f"validation/{v}/metrics.csv"].decode().splitlines()
    assert metrics_csv[0] == "tier,name,factor,value,pvalue,threshold,warn,direction,outcome"
    assert len(metrics_csv) - 1 == doc.validation_run.metrics.count()
    assert json.loads(files[f"stress/{st}/result.json"])["risk"] == doc.stress.risk

    manifest = json.loads(files["manifest.json"])
    assert manifest["public_key"] == signing.platform_public_key_hex()
    assert signing.verify_signature(manifest["public_key"], files["manifest.json"],
                                    files["signature.ed25519"].decode().strip())
    listed = {entry["name"]: entry for entry in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json", "signature.ed25519"}
    assert all(entry["size"] == len(files[name]) for name, entry in listed.items())
    assert packet.files == manifest["files"]
    for uid in (report.lineage_uid, doc.scenario_set.lineage_uid, f"validation_result:{v}", doc.stress.lineage_uid,
                f"model_version:{doc.version.pk}", f"dataset:{doc.scenario_set.dataset_id}"):
        assert uid in manifest["lineage_ids"], uid
    assert packet.lineage_uid not in manifest["lineage_ids"]

    prov = json.loads(files["lineage/prov.json"])
    assert "crucible:report_" + str(report.pk) in prov["entity"]
    assert any(node.endswith(f"scenario_set_{s}") for node in prov["entity"])

    excerpt = json.loads(files["audit/excerpt.json"])
    actions = [event["action"] for event in excerpt["events"]]
    assert {"report.rendered", "generation_run.succeeded", "validation_run.succeeded", "stress_result.created",
            "version.approve", "signature.created", "finding.raised", "lineage.node_created",
            "lineage.edge_created"} <= set(actions), sorted(set(actions))
    assert not any(action.startswith("packet.") for action in actions)
    about = {(event["object_type"], event["object_id"]) for event in excerpt["events"]}
    assert {("lineage_node", report.lineage_uid), ("report", str(report.pk)),
            ("model_version", str(doc.version.pk)), ("validation_run", str(v))} <= about
    for event in excerpt["events"]:
        payload = {key: event[key] for key in ("seq", "timestamp", "actor_id", "actor_username", "action",
                                               "object_type", "object_id", "before", "after", "reason")}
        assert event_hash(payload, event["prev_hash"]) == event["hash"]
        assert AuditEvent.objects.get(seq=event["seq"]).hash == event["hash"]
    assert excerpt["chain_head"]["seq"] == excerpt["cutoff_seq"] >= excerpt["events"][-1]["seq"]
    checkpoint = excerpt["checkpoint"]  # the approval signed one
    assert checkpoint is not None and checkpoint["seq"] <= excerpt["cutoff_seq"]
    assert signing.verify_signature(checkpoint["public_key"], checkpoint["signed_message"], checkpoint["signature"])

    check = packet_verify(packet_path(packet))
    assert check.ok and check.signature_checked, check.message

    # audit and lineage of the packet itself
    trail = list(AuditEvent.objects.filter(object_type="packet", object_id=str(packet.pk))
                 .values_list("action", flat=True))
    assert trail == ["packet.requested", "packet.built"]
    node = LineageNode.objects.get(uid=packet.lineage_uid)
    assert node.sha256 == packet.sha256
    assert LineageEdge.objects.filter(source=node, target__uid=f"packet_build:{packet.pk}",
                                      relation="wasGeneratedBy").exists()
    assert LineageEdge.objects.filter(source__uid=f"packet_build:{packet.pk}", target__uid=report.lineage_uid,
                                      relation="used").exists()


def test_a_packet_built_twice_from_the_same_report_is_byte_identical(documented_version, approver, validator,
                                                                      django_capture_on_commit_callbacks):
    report = make_report(documented_version, actor=validator)
    first = build(approver, report, django_capture_on_commit_callbacks)
    second = build(validator, report, django_capture_on_commit_callbacks)
    assert first.pk != second.pk
    assert packet_path(first).read_bytes() == packet_path(second).read_bytes()
    assert first.sha256 == second.sha256 and first.manifest_sha256 == second.manifest_sha256
    infos = zipfile.ZipFile(io.BytesIO(packet_path(first).read_bytes())).infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert {i.extra for i in infos} == {b""}


def test_packet_start_needs_a_finished_report_and_a_role(documented_version, approver, make_user,
                                                         django_capture_on_commit_callbacks):
    report = make_report(documented_version, actor=approver)
    report.status = "RUNNING"
    report.save(update_fields=["status"])
    with pytest.raises(Conflict):
        packet_start(actor=approver, report=report)
    report.status = "SUCCEEDED"
    report.save(update_fields=["status"])
    with pytest.raises(Forbidden):
        packet_start(actor=make_user("nobody"), report=report)
    with pytest.raises(NotFound):  # a developer of nothing in this model cannot see the version
        packet_start(actor=make_user("other-dev", "developer"), report=report)
    assert not Packet.objects.exists()


def test_a_packet_fails_cleanly_when_the_stored_pdf_was_altered(documented_version, approver, settings,
                                                                django_capture_on_commit_callbacks):
    from pathlib import Path

    report = make_report(documented_version, actor=approver)
    stored = Path(settings.ARTIFACT_ROOT) / report.storage_path
    original = stored.read_bytes()
    stored.write_bytes(original + b"%tampered")
    try:
        with django_capture_on_commit_callbacks(execute=False):
            packet = packet_start(actor=approver, report=report)
        packet_execute(packet.pk, worker="packet-worker")
    finally:
        stored.write_bytes(original)  # the content-addressed store is shared by the session's tests
    packet.refresh_from_db()
    assert packet.status == "FAILED" and "SHA-256" in packet.error
    assert AuditEvent.objects.filter(object_type="packet", object_id=str(packet.pk), action="packet.failed").exists()
