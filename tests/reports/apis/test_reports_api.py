"""Reports API: the role matrix (who sees, requests and downloads reports and packets), 4xx never 500."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from reports.models import Packet, Report
from reports.services.packets import packet_execute, packet_verify
from tests.reports.packet_support import make_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(developer, validator, approver, auditor, make_user):
    return {
        "developer": developer,  # develops the documented model
        "validator": validator,
        "approver": approver,
        "auditor": auditor,
        "admin": make_user("adm", "admin"),
        "other developer": make_user("dev2", "developer"),  # develops nothing here: sees nothing
        "no role": make_user("plain"),
    }


ALLOWED = ["developer", "validator", "approver", "auditor", "admin"]
# The auditor reads everything and requests nothing (issue 16 §5: "read-only" means no writes).
REQUESTERS = [who for who in ALLOWED if who != "auditor"]


def test_the_role_matrix_of_reports_and_packets(documented_version, people, api, tmp_path,
                                                django_capture_on_commit_callbacks):
    report = make_report(documented_version, actor=people["validator"])
    base = "/api/v1"

    # reading reports
    for who in ALLOWED:
        client = api(people[who])
        listed = client.get(f"{base}/reports/")
        assert listed.status_code == 200 and [r["id"] for r in listed.json()["results"]] == [report.pk], who
        assert client.get(f"{base}/reports/{report.pk}/").json()["sha256"] == report.sha256
        pdf = client.get(f"{base}/reports/{report.pk}/pdf/")
        assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf", who
        assert hashlib.sha256(pdf.content).hexdigest() == report.sha256
    outsider = api(people["other developer"])
    assert outsider.get(f"{base}/reports/").json()["results"] == []
    for url in (f"{base}/reports/{report.pk}/", f"{base}/reports/{report.pk}/pdf/"):
        assert outsider.get(url).status_code == 404
        assert api(people["no role"]).get(url).status_code == 403
        assert api().get(url).status_code in (401, 403)
    assert api(people["no role"]).get(f"{base}/reports/").status_code == 403

    # requesting packets
    packets = {}
    for who in REQUESTERS:
        with django_capture_on_commit_callbacks(execute=False):
            answer = api(people[who]).post(f"{base}/packets/", {"report": report.pk}, format="json")
        assert answer.status_code == 202, (who, answer.json())
        assert answer.json()["status"] == "PENDING"
        packets[who] = answer.json()["id"]
    refused = api(people["auditor"]).post(f"{base}/packets/", {"report": report.pk}, format="json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "missing_role"
    assert outsider.post(f"{base}/packets/", {"report": report.pk}, format="json").status_code == 404
    assert api(people["no role"]).post(f"{base}/packets/", {"report": report.pk}, format="json").status_code == 403
    assert Packet.objects.count() == len(REQUESTERS)

    # a packet not built yet cannot be downloaded; once built, every allowed role (the auditor too) can
    first = packets["validator"]
    assert api(people["auditor"]).get(f"{base}/packets/{first}/download/").status_code == 409
    packet_execute(first, worker="api-test")
    packet = Packet.objects.get(pk=first)
    assert packet.status == "SUCCEEDED", packet.error
    for who in ALLOWED:
        client = api(people[who])
        detail = client.get(f"{base}/packets/{first}/").json()
        assert detail["status"] == "SUCCEEDED" and detail["manifest_sha256"] == packet.manifest_sha256
        assert {f["name"] for f in detail["files"]} >= {"report/report.pdf", "verify.py", "lineage/prov.json"}
        assert {p["id"] for p in client.get(f"{base}/packets/").json()["results"]} == set(packets.values())
        download = client.get(f"{base}/packets/{first}/download/")
        assert download.status_code == 200 and download["Content-Type"] == "application/zip", who
        body = b"".join(download.streaming_content)
        assert hashlib.sha256(body).hexdigest() == packet.sha256
    saved = tmp_path / "downloaded.zip"
    saved.write_bytes(body)
    assert packet_verify(saved).ok
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(body)).namelist()
    for url in (f"{base}/packets/{first}/", f"{base}/packets/{first}/download/"):
        assert outsider.get(url).status_code == 404
        assert api(people["no role"]).get(url).status_code == 403
    assert outsider.get(f"{base}/packets/").json()["results"] == []


def test_bad_requests_answer_4xx(documented_version, people, api, django_capture_on_commit_callbacks):
    report = make_report(documented_version, actor=people["validator"])
    requester, base = api(people["validator"]), "/api/v1"
    for body in ({}, {"report": "seven"}, {"report": -1}, {"report": None}):
        answer = requester.post(f"{base}/packets/", body, format="json")
        assert answer.status_code == 400, (body, answer.content)
        assert "error" in answer.json()
    assert requester.post(f"{base}/packets/", {"report": 999_999}, format="json").status_code == 404
    assert requester.get(f"{base}/packets/999999/").status_code == 404
    assert requester.get(f"{base}/packets/999999/download/").status_code == 404
    assert requester.get(f"{base}/reports/999999/pdf/").status_code == 404
    Report.objects.filter(pk=report.pk).update(status="RUNNING")
    answer = requester.post(f"{base}/packets/", {"report": report.pk}, format="json")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "report_not_ready"
    assert requester.get(f"{base}/reports/{report.pk}/pdf/").status_code == 409
    for body in ({}, {"model_version": "x"}, {"model_version": documented_version.version.pk, "seed": -1},
                 {"model_version": documented_version.version.pk, "scenario_sets": ["a"]}):
        assert requester.post(f"{base}/reports/", body, format="json").status_code == 400, body
    assert requester.post(f"{base}/reports/", {"model_version": 999_999}, format="json").status_code == 404
    assert requester.post(f"{base}/reports/", {"model_version": documented_version.version.pk,
                                             "scenario_sets": [999_999]}, format="json").status_code == 404


def test_requesting_a_report_through_the_api(documented_version, people, api, django_capture_on_commit_callbacks):
    version = documented_version.version
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = api(people["approver"]).post("/api/v1/reports/", {"model_version": version.pk}, format="json")
    assert answer.status_code == 202, answer.json()
    body = answer.json()
    assert body["status"] == "PENDING" and body["model_version"] == version.pk
    assert body["scenario_sets"] == [documented_version.scenario_set.pk]
    assert body["validation_runs"] == [documented_version.validation_run.pk]
    assert len(callbacks) == 1  # render_report enqueued on commit
    assert api(people["other developer"]).post("/api/v1/reports/", {"model_version": version.pk},
                                               format="json").status_code == 404
    assert api(people["no role"]).post("/api/v1/reports/", {"model_version": version.pk},
                                       format="json").status_code == 403
