"""``manage.py build_packet`` and ``manage.py verify_packet`` end to end."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command

from governance.models import AuditEvent
from reports.models import Packet
from tests.reports.packet_support import make_report

pytestmark = pytest.mark.django_db


def run(name: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_build_then_verify(documented_version, approver, auditor, validator, tmp_path):
    report = make_report(documented_version, actor=validator)
    status, out, err = run("build_packet", "--report", str(report.pk), "--out", str(tmp_path))
    assert status == 0, out
    packet = Packet.objects.get()
    assert f"acting as {approver.username}" in err  # no --actor: the first admin, else approver (not the auditor)
    target = tmp_path / f"packet-{packet.pk}.zip"
    assert f"path             {target}" in out
    assert f"sha256           {packet.sha256}" in out and f"manifest sha256  {packet.manifest_sha256}" in out
    assert hashlib.sha256(target.read_bytes()).hexdigest() == packet.sha256
    assert AuditEvent.objects.filter(object_type="packet", object_id=str(packet.pk),
                                     actor_username=approver.username, action="packet.built").exists()
    status, out, _ = run("verify_packet", str(target))
    assert status == 0 and "OK: " in out and "trusts" in out, out

    # --model-version takes the version's latest rendered report; --actor chooses who acts.
    status, out, err = run("build_packet", "--model-version", str(documented_version.version.pk),
                           "--actor", validator.username)
    assert status == 0, out
    second = Packet.objects.order_by("-pk").first()
    assert second.report_id == report.pk and second.created_by == validator and second.sha256 == packet.sha256
    assert "acting as" not in err


def test_a_packet_signed_with_a_key_the_platform_does_not_trust_fails(documented_version, approver, tmp_path,
                                                                        monkeypatch):
    report = make_report(documented_version, actor=approver)
    assert run("build_packet", "--report", str(report.pk), "--out", str(tmp_path / "p.zip"))[0] == 0
    from governance import signing

    monkeypatch.setenv(signing.KEY_ENV, "11" * 32)  # the platform's key was rotated; the old one is not listed
    status, out, _ = run("verify_packet", str(tmp_path / "p.zip"))
    assert status == 1 and "does not trust" in out, out


def test_bad_input_is_a_clear_error(documented_version, approver, make_user, tmp_path):
    assert run("build_packet", "--report", "999999")[0] == 1
    status, out, _ = run("build_packet", "--report", "999999")
    assert "not found" in out
    status, out, _ = run("build_packet", "--model-version", "999999")
    assert status != 0 and "not found" in out
    status, out, _ = run("build_packet", "--report", "1", "--actor", "nobody-here")
    assert status != 0 and "no active user 'nobody-here'" in out
    status, out, _ = run("build_packet", "--report", "1", "--actor", make_user("plain").username)
    assert status != 0 and "role" in out
    with pytest.raises(CommandError):
        call_command("build_packet")  # one of --report / --model-version is required
    assert run("verify_packet", str(tmp_path / "missing.zip"))[0] == 2
    assert not Packet.objects.exists()
