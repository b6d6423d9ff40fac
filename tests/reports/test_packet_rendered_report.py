"""A packet around a report really rendered by ``reports.services.documents`` (not a stand-in PDF),
requested the way an operator would: ``manage.py build_packet --model-version ID`` on a version
that has no report yet (the command renders one first)."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile

import pytest
from django.core.management import call_command

from reports.models import Packet, Report
from reports.services.packets import packet_execute, packet_path, packet_start, packet_verify

pytestmark = pytest.mark.django_db


def test_a_packet_of_a_rendered_report_verifies_and_is_reproducible(documented_version, approver, tmp_path,
                                                                    django_capture_on_commit_callbacks):
    version = documented_version.version
    assert not Report.objects.exists()
    out, err = io.StringIO(), io.StringIO()
    with django_capture_on_commit_callbacks(execute=False):
        call_command("build_packet", "--model-version", str(version.pk), "--out", str(tmp_path / "first.zip"),
                     stdout=out, stderr=err)
    report = Report.objects.get()
    assert report.status == "SUCCEEDED", report.error
    assert f"rendered report {report.pk}" in err.getvalue()
    first = Packet.objects.get()
    assert first.report == report and first.status == "SUCCEEDED"

    with django_capture_on_commit_callbacks(execute=False):
        second = packet_start(actor=approver, report=report)
    packet_execute(second.pk, worker="packet-worker")
    second.refresh_from_db()
    assert second.status == "SUCCEEDED", second.error
    assert packet_path(second).read_bytes() == (tmp_path / "first.zip").read_bytes()

    zip_path = tmp_path / "first.zip"
    assert packet_verify(zip_path).ok
    with zipfile.ZipFile(zip_path) as archive:
        pdf = archive.read("report/report.pdf")
        manifest = json.loads(archive.read("manifest.json"))
        archive.extractall(tmp_path / "unzipped")
    assert hashlib.sha256(pdf).hexdigest() == report.sha256
    assert f"report_render:{report.pk}" in manifest["lineage_ids"]
    done = subprocess.run([sys.executable, "verify.py"], cwd=tmp_path / "unzipped", capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0 and "signature: OK" in done.stdout, done.stdout
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    assert version.model.model_id.encode() in text
