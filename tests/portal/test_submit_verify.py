"""The "Verify a packet" page (issue 17 §5): file-by-file result of an uploaded packet, and every bad upload refused
with a message, nothing written (no database row, no file left in the upload folder)."""

from __future__ import annotations

import io
import json
import os
import stat
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from governance import signing
from governance.models import AuditEvent
from portal.views.submit_verify import upload_dir
from reports.models import Packet, Report
from reports.packet import manifest as packet_manifest

pytestmark = pytest.mark.django_db
URL = "/packets/verify/"


def signed_members(files: dict[str, bytes]) -> dict[str, bytes]:
    """A packet's members: ``files``, their manifest, and its Ed25519 signature with the platform key."""
    manifest = packet_manifest.build_manifest(files=files, lineage_ids=[], subject={"model": "TEST"},
                                              public_key_hex=signing.platform_public_key_hex())
    raw = packet_manifest.manifest_bytes(manifest)
    return {**files, "manifest.json": raw, "signature.ed25519": packet_manifest.signature_text(signing.sign_bytes(raw))}


def zip_bytes(members: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


FILES = {"report/report.pdf": b"%PDF-1.7 pretend\n", "scenario_sets/1/scenarios.csv": b"date,spx\n2026-01-02,0.01\n",
         "README.txt": b"read me\n"}


def signed_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(URL)  # the CSRF cookie
    return client


def upload(client: Client, data: bytes, name: str = "packet.zip"):
    token = client.cookies["csrftoken"].value
    return client.post(URL, {"packet": SimpleUploadedFile(name, data, content_type="application/zip"),
                             "csrfmiddlewaretoken": token})


def nothing_written(before: int) -> None:
    assert AuditEvent.objects.count() == before
    assert Report.objects.count() == 0 and Packet.objects.count() == 0
    assert list(upload_dir().iterdir()) == []


@pytest.fixture(autouse=True)
def empty_upload_dir():
    for leftover in upload_dir().iterdir():
        leftover.unlink()


def test_any_signed_in_user_sees_the_upload_form_and_anonymous_people_are_sent_to_sign_in(users):
    for user in users.values():
        response = signed_in(user).get(URL)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'enctype="multipart/form-data"' in html and 'name="packet"' in html
        assert '<label for="id_packet">' in html
    response = Client().get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_intact_packet_shows_every_file_ok_and_a_valid_trusted_signature(auditor):
    before = AuditEvent.objects.count()
    response = upload(signed_in(auditor), zip_bytes(signed_members(FILES)))
    assert response.status_code == 200
    html = response.content.decode()
    result = response.context["result"]
    assert result.ok and result.signature == "valid" and result.trusted
    assert [(r.name, r.status) for r in result.rows] == [(n, "OK") for n in sorted(FILES)]
    for name in FILES:
        assert f"<code>{name}</code>" in html
    assert "intact" in html and "NOT intact" not in html and "a key this platform trusts" in html
    nothing_written(before)


def test_a_tampered_missing_or_added_file_is_named_with_its_expected_and_actual_sha256(auditor):
    members = signed_members(FILES)
    members["scenario_sets/1/scenarios.csv"] = b"date,spx\n2026-01-02,0.99\n"  # changed after signing
    del members["README.txt"]  # removed
    members["extra.txt"] = b"slipped in\n"  # added
    response = upload(signed_in(auditor), zip_bytes(members))
    assert response.status_code == 200
    result = response.context["result"]
    statuses = {r.name: r.status for r in result.rows}
    assert statuses == {"report/report.pdf": "OK", "scenario_sets/1/scenarios.csv": "MISMATCH",
                        "README.txt": "MISSING", "extra.txt": "EXTRA"}
    changed = next(r for r in result.rows if r.status == "MISMATCH")
    assert changed.actual_sha256 and changed.actual_sha256 != changed.expected_sha256
    html = response.content.decode()
    assert changed.expected_sha256 in html and changed.actual_sha256 in html
    assert "NOT intact" in html and "MISMATCH" in html and "MISSING" in html and "EXTRA" in html
    assert not result.ok and result.verdict.startswith("FAILED")


def test_a_manifest_changed_after_signing_shows_an_invalid_signature(auditor):
    members = signed_members(FILES)
    manifest = json.loads(members["manifest.json"])
    manifest["subject"] = {"model": "OTHER"}
    members["manifest.json"] = packet_manifest.manifest_bytes(manifest)
    response = upload(signed_in(auditor), zip_bytes(members))
    assert response.status_code == 200
    assert response.context["result"].signature == "INVALID"
    assert "INVALID" in response.content.decode()


@pytest.mark.parametrize(("data", "message"), [
    (b"this is not a zip at all", "This is not a zip file"),
    (b"PK\x03\x04 truncated", "This is not a zip file"),
])
def test_an_upload_that_is_not_a_zip_is_refused_with_a_message_and_nothing_written(auditor, data, message):
    before = AuditEvent.objects.count()
    response = upload(signed_in(auditor), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["result"] is None
    nothing_written(before)


def test_a_zip_bomb_is_refused_from_its_central_directory_before_anything_is_unpacked(auditor, monkeypatch):
    from portal.views import submit_verify

    bomb = zip_bytes(signed_members({"big.bin": b"\0" * (20 * 1024 * 1024)}))  # 20 MiB of zeros → ~20 KB
    assert len(bomb) < 100_000
    unpacked = []
    monkeypatch.setattr(submit_verify, "verify_packet", lambda path: unpacked.append(path))
    before = AuditEvent.objects.count()
    response = upload(signed_in(auditor), bomb)
    assert response.status_code == 400
    assert "zip bomb" in response.content.decode()
    assert unpacked == []
    nothing_written(before)


def test_a_zip_declaring_too_much_in_total_or_too_many_entries_is_refused(auditor, monkeypatch):
    from reports.services import packet_inspection as submit_verify

    monkeypatch.setattr(submit_verify, "MAX_TOTAL_UNCOMPRESSED", 1000)
    response = upload(signed_in(auditor), zip_bytes(signed_members({"a.txt": b"x" * 900, "b.txt": b"y" * 900})))
    assert response.status_code == 400 and "would unpack to" in response.content.decode()
    monkeypatch.setattr(submit_verify, "MAX_TOTAL_UNCOMPRESSED", 10**9)
    monkeypatch.setattr(submit_verify, "MAX_ENTRIES", 3)
    response = upload(signed_in(auditor), zip_bytes(signed_members({"a.txt": b"a", "b.txt": b"b"})))
    assert response.status_code == 400 and "entries" in response.content.decode()


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd", "C:/windows/evil.txt", "a/../../evil.txt",
                                  "dir\\evil.txt"])
def test_a_path_traversal_entry_is_refused_with_a_message(auditor, name):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", b"{}")
        archive.writestr(zipfile.ZipInfo(name), b"escape")
    before = AuditEvent.objects.count()
    response = upload(signed_in(auditor), buffer.getvalue())
    assert response.status_code == 400
    html = response.content.decode()
    assert "Refused" in html and "escape the folder" in html
    nothing_written(before)


def test_a_symbolic_link_entry_is_refused(auditor):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("report/report.pdf")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, b"/etc/passwd")
    response = upload(signed_in(auditor), buffer.getvalue())
    assert response.status_code == 400
    assert "symbolic link" in response.content.decode()


def test_an_upload_over_the_size_cap_is_refused_before_it_is_kept(auditor, settings):
    settings.CRUCIBLE_MAX_PACKET_UPLOAD_BYTES = 100 * 1024
    before = AuditEvent.objects.count()
    data = zip_bytes(signed_members({"big.bin": bytes(range(256)) * 2048}), compression=zipfile.ZIP_STORED)
    assert len(data) > 512 * 1024
    response = upload(signed_in(auditor), data)
    assert response.status_code == 413
    assert "larger than the limit of 102,400 bytes" in response.content.decode()
    nothing_written(before)


def test_an_oversize_body_is_refused_while_streaming_when_its_declared_length_is_small(settings):
    """A body longer than it says (or sent without a length) is cut off by the byte count, not the header,
    and the part already written is deleted."""
    from django.core.files.uploadhandler import StopFutureHandlers

    from portal.views.submit_verify import PacketUploadHandler, Refused

    settings.CRUCIBLE_MAX_PACKET_UPLOAD_BYTES = 1024
    handler = PacketUploadHandler()
    assert handler.handle_raw_input(None, {}, 10, b"x") is None  # a small declared length passes
    with pytest.raises(StopFutureHandlers):
        handler.new_file("packet", "p.zip", "application/zip", None)
    assert len(list(upload_dir().iterdir())) == 1
    with pytest.raises(Refused):
        for start in range(0, 5000, 512):
            handler.receive_data_chunk(b"x" * 512, start)
    assert handler.received <= 1024 + 512
    assert list(upload_dir().iterdir()) == []


def test_a_form_without_a_file_shows_the_field_error(auditor):
    client = signed_in(auditor)
    response = client.post(URL, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_the_upload_needs_the_csrf_token(auditor):
    client = signed_in(auditor)
    response = client.post(URL, {"packet": SimpleUploadedFile("p.zip", zip_bytes(signed_members(FILES)))})
    assert response.status_code == 403
    assert list(upload_dir().iterdir()) == []


def test_verifying_a_50_mb_packet_inline_takes_well_under_a_second_of_hashing(tmp_path):
    """The measurement behind verifying in the request (no run): hash a 50 MB stored packet. Printed, not timed
    as an assertion beyond a generous bound (DESIGN §4: benchmarks are not timed assertions)."""
    from reports.services.packet_inspection import check_archive, verify_packet

    members = signed_members({"scenario_sets/1/scenarios.parquet": os.urandom(50 * 1024 * 1024)})
    path = tmp_path / "big.zip"
    path.write_bytes(zip_bytes(members, compression=zipfile.ZIP_STORED))
    start = time.perf_counter()
    check_archive(path)
    result = verify_packet(path)
    seconds = time.perf_counter() - start
    print(f"verify 50 MB packet: {seconds:.3f} s")
    assert result.ok
    assert seconds < 10
