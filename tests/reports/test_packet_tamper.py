"""Tamper tests: one byte flipped in each kind of file, a file added, a file removed — caught by the
``verify_packet`` command and by ``python verify.py`` inside the unzipped packet (with and without
``cryptography``); names that would escape the folder refused when writing and when verifying."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from reports.packet import manifest as manifest_module
from reports.packet.zipwrite import UnsafeMemberName, deterministic_zip
from tests.conftest import TEST_SEED_HEX

pytestmark = pytest.mark.django_db

# One packet for the whole module: built once (~15 s), its bytes reused by every check.
_CACHE: dict[str, bytes] = {}


@pytest.fixture
def packet_zip(request, tmp_path) -> Path:
    if "zip" not in _CACHE:
        capture = request.getfixturevalue("django_capture_on_commit_callbacks")
        documented = request.getfixturevalue("documented_version")
        approver = request.getfixturevalue("approver")
        from reports.services.packets import packet_execute, packet_path, packet_start
        from tests.reports.packet_support import make_report

        report = make_report(documented, actor=approver)
        with capture(execute=False):
            packet = packet_start(actor=approver, report=report)
        packet_execute(packet.pk, worker="packet-worker")
        packet.refresh_from_db()
        assert packet.status == "SUCCEEDED", packet.error
        _CACHE["zip"] = packet_path(packet).read_bytes()
    path = tmp_path / "packet.zip"
    path.write_bytes(_CACHE["zip"])
    return path


@pytest.fixture
def unzipped(packet_zip, tmp_path) -> Path:
    folder = tmp_path / "packet"
    with zipfile.ZipFile(packet_zip) as archive:
        archive.extractall(folder)
    return folder


def command(path) -> tuple[int, str]:
    """Run ``manage.py verify_packet PATH`` in-process: (exit status, everything it printed)."""
    from io import StringIO

    out = StringIO()
    try:
        call_command("verify_packet", str(path), stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def run_verify_py(folder: Path, *python_flags: str) -> tuple[int, str]:
    """``python verify.py`` in the unzipped folder, as a recipient would run it."""
    done = subprocess.run([sys.executable, *python_flags, "verify.py"], cwd=folder, capture_output=True, text=True,
                          timeout=120, check=False)
    return done.returncode, done.stdout + done.stderr


NO_CRYPTOGRAPHY = ("-I", "-S")  # isolated, no site-packages: the venv's cryptography cannot be imported


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def the_file(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, (pattern, found)
    return found[0]


def test_an_intact_packet_verifies_as_zip_and_folder(packet_zip, unzipped):
    assert command(packet_zip)[0] == 0
    status, out = command(unzipped)
    assert status == 0 and "OK: " in out and "signature: OK" in out and "trusts" in out
    status, out = run_verify_py(unzipped)
    assert status == 0 and "signature: OK" in out, out
    done = subprocess.run([sys.executable, str(unzipped / "verify.py"), str(packet_zip)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0 and "OK: " in done.stdout, done.stdout


def test_without_cryptography_verify_py_says_the_signature_was_not_checked(unzipped):
    probe = subprocess.run([sys.executable, *NO_CRYPTOGRAPHY, "-c", "import cryptography"], capture_output=True,
                           check=False)
    assert probe.returncode != 0, "this python can still import cryptography"
    status, out = run_verify_py(unzipped, *NO_CRYPTOGRAPHY)
    assert status == 0, out
    assert "signature was NOT checked" in out and "signature NOT checked" in out
    flip_one_byte(the_file(unzipped, "report/report.pdf"))
    status, out = run_verify_py(unzipped, *NO_CRYPTOGRAPHY)
    assert status == 1 and "FAILED: report/report.pdf" in out, out


KINDS = [
    "report/report.pdf",
    "scenario_sets/*/scenarios.parquet",
    "scenario_sets/*/scenarios.csv",
    "scenario_sets/*/scenario_set.json",
    "validation/*/results.json",
    "validation/*/metrics.csv",
    "stress/*/result.json",
    "stress/*/pnl.parquet",
    "lineage/prov.json",
    "audit/excerpt.json",
    "README.txt",
    "verify.py",
]


@pytest.mark.parametrize("pattern", KINDS)
def test_one_flipped_byte_in_any_file_is_caught_and_named(unzipped, pattern):
    target = the_file(unzipped, pattern)
    name = target.relative_to(unzipped).as_posix()
    pristine = unzipped.parent / "pristine-verify.py"
    shutil.copyfile(unzipped / "verify.py", pristine)  # the recipient's own copy, when verify.py is the target
    flip_one_byte(target)
    status, out = command(unzipped)
    assert status == 1 and f"FAILED: {name}:" in out, out
    if name == "verify.py":
        done = subprocess.run([sys.executable, str(pristine), str(unzipped)], capture_output=True, text=True,
                              timeout=120, check=False)
        status, out = done.returncode, done.stdout
    else:
        status, out = run_verify_py(unzipped)
    assert status == 1 and f"FAILED: {name}:" in out, out


@pytest.mark.parametrize("name", ["manifest.json", "signature.ed25519"])
def test_a_flipped_byte_in_the_manifest_or_signature_breaks_the_signature(unzipped, name):
    if name == "manifest.json":
        # A change that keeps the manifest valid JSON (a hash digit), so it is the signature that catches it;
        # a byte flipped at a fixed offset could land on a quote and be caught, less tellingly, as bad JSON.
        text = (unzipped / name).read_text()
        at = re.search(r'"[0-9a-f]{64}"', text).start() + 10
        (unzipped / name).write_text(text[:at] + ("0" if text[at] != "0" else "1") + text[at + 1:])
    else:
        flip_one_byte(unzipped / name)
    for status, out in (command(unzipped), run_verify_py(unzipped)):
        assert status == 1 and "FAILED: signature.ed25519:" in out, out


def test_an_added_file_is_caught(unzipped):
    (unzipped / "validation" / "extra.csv").write_text("a,b\n1,2\n")
    for status, out in (command(unzipped), run_verify_py(unzipped)):
        assert status == 1 and "FAILED: validation/extra.csv: not listed in manifest.json (added)" in out, out


@pytest.mark.parametrize("pattern", ["report/report.pdf", "audit/excerpt.json", "signature.ed25519"])
def test_a_removed_file_is_caught(unzipped, pattern):
    target = the_file(unzipped, pattern)
    name = target.relative_to(unzipped).as_posix()
    target.unlink()
    for status, out in (command(unzipped), run_verify_py(unzipped)):
        assert status == 1 and f"FAILED: {name}:" in out and "missing (removed)" in out, out


def test_a_flipped_byte_inside_the_zip_is_caught(packet_zip):
    with zipfile.ZipFile(packet_zip) as archive:
        info = archive.getinfo("report/report.pdf")
    data = bytearray(packet_zip.read_bytes())
    # Local header: 30 fixed bytes + name + extra; then the member's compressed bytes.
    data[info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 2] ^= 0x01
    packet_zip.write_bytes(bytes(data))
    status, out = command(packet_zip)
    assert status == 1 and "FAILED: report/report.pdf:" in out, out


def test_unusable_input_exits_2(tmp_path):
    assert command(tmp_path / "nothing-here.zip")[0] == 2
    (tmp_path / "not-a-zip.zip").write_bytes(b"hello")
    assert command(tmp_path / "not-a-zip.zip")[0] == 2


# ── zip slip ────────────────────────────────────────────────────────────────────────────────
EVIL_NAMES = ["../evil.txt", "a/../../evil.txt", "/etc/evil.txt", "a\\..\\evil.txt", "C:evil.txt", "c:/evil.txt",
              "a//b.txt", "./a.txt", ""]


@pytest.mark.parametrize("name", EVIL_NAMES)
def test_the_writer_refuses_names_that_escape(name):
    with pytest.raises(UnsafeMemberName):
        deterministic_zip({"ok.txt": b"x", name: b"y"})


@pytest.mark.parametrize("name", [n for n in EVIL_NAMES if n])
def test_the_verifier_refuses_zip_members_that_escape(packet_zip, tmp_path, name):
    with zipfile.ZipFile(packet_zip, "a") as archive:
        archive.writestr(zipfile.ZipInfo(name), b"escaped")
    status, out = command(packet_zip)
    assert status == 1 and "refused" in out, out
    done = subprocess.run([sys.executable, "-m", "reports.packet.verify", str(packet_zip)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 1 and "refused" in done.stdout
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()


def test_the_verifier_refuses_a_signed_manifest_that_names_a_file_outside(unzipped, tmp_path):
    """Even a correctly signed manifest may not make the verifier read outside the packet's folder."""
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"secret")
    manifest = json.loads((unzipped / "manifest.json").read_bytes())
    manifest["files"].append({"name": "../outside.txt", "sha256": hashlib.sha256(b"secret").hexdigest(), "size": 6})
    raw = manifest_module.manifest_bytes(manifest)
    from governance import signing

    key = signing.load_private_key(TEST_SEED_HEX)
    (unzipped / "manifest.json").write_bytes(raw)
    (unzipped / "signature.ed25519").write_bytes(manifest_module.signature_text(signing.sign_bytes(raw, key=key)))
    for status, out in (command(unzipped), run_verify_py(unzipped)):
        assert status == 1 and "refused" in out and "../outside.txt" in out, out


def test_the_verifier_refuses_links_in_the_folder(unzipped, tmp_path):
    (tmp_path / "target.txt").write_text("x")
    (unzipped / "audit" / "link.txt").symlink_to(tmp_path / "target.txt")
    for status, out in (command(unzipped), run_verify_py(unzipped)):
        assert status == 1 and "audit/link.txt: links are not allowed" in out, out


@pytest.mark.parametrize("module", ["json.py", "hashlib.py", "zipfile.py"])
def test_a_module_slipped_into_the_packet_never_runs_in_place_of_the_standard_library(unzipped, module):
    marker = unzipped.parent / "pwned"
    (unzipped / module).write_text(f"open({str(marker)!r}, 'w').write('ran')\nraise SystemExit(0)\n")
    status, out = run_verify_py(unzipped)
    assert not marker.exists()
    assert status == 1 and f"FAILED: {module}: not listed in manifest.json (added)" in out, out


def resign(folder: Path, name: str, data: bytes) -> None:
    """Replace ``name`` and re-sign the manifest with the platform key, as only the platform could."""
    from governance import signing

    (folder / name).write_bytes(data)
    manifest = json.loads((folder / "manifest.json").read_bytes())
    for entry in manifest["files"]:
        if entry["name"] == name:
            entry["sha256"], entry["size"] = hashlib.sha256(data).hexdigest(), len(data)
    raw = manifest_module.manifest_bytes(manifest)
    (folder / "manifest.json").write_bytes(raw)
    key = signing.load_private_key(TEST_SEED_HEX)
    (folder / "signature.ed25519").write_bytes(manifest_module.signature_text(signing.sign_bytes(raw, key=key)))


def test_the_audit_excerpt_is_rechecked_event_by_event(unzipped):
    status, out = run_verify_py(unzipped)
    assert status == 0 and "event hashes recomputed OK" in out and "signature OK" in out, out
    excerpt = json.loads((unzipped / "audit" / "excerpt.json").read_bytes())
    excerpt["events"][0]["reason"] += " (edited)"  # a consistent manifest cannot hide an edited event
    resign(unzipped, "audit/excerpt.json", json.dumps(excerpt).encode())
    for status, out in (command(unzipped), run_verify_py(unzipped)):
        assert status == 1 and "FAILED: audit/excerpt.json: event" in out and "does not hash" in out, out
