"""Inspecting an uploaded submission packet: refuse what is not a packet before decompressing anything, then
check it file by file against its manifest, its signature and its audit excerpt (the "Verify a packet" page).

Judged from the central directory alone: not a zip; a zip bomb — more than :data:`MAX_ENTRIES` members, more
than :data:`MAX_TOTAL_UNCOMPRESSED` bytes declared, or a member over :data:`MAX_RATIO` times its compressed size
(above :data:`RATIO_FLOOR`). A member cannot inflate past its declared size (``zipfile`` stops at ``file_size``
and checks the CRC), so the declared sizes bound the work. Names that could escape a folder (the verifier's own
``check_member_name``), symbolic links and other non-regular members are refused too.
"""

from __future__ import annotations

import hashlib
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from governance import signing
from reports.packet import verify as verifier

MAX_ENTRIES = 5_000
MAX_TOTAL_UNCOMPRESSED = 512 * 1024 * 1024
MAX_RATIO = 100  # a packet's CSV and JSON compress ~5-20×; Parquet, PDF and PNG hardly at all
RATIO_FLOOR = 1024 * 1024  # small members may compress as well as they like (an all-zeros 1 MiB is ~1 KB)


class Refused(Exception):
    """The upload is not something we verify; ``message`` says why, ``status`` is 400 or 413."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# ── checks on the central directory, before anything is decompressed ─────────────────────────
def check_archive(path: Path) -> None:
    """Raise ``Refused`` for what is not a zip, a zip bomb, unsafe names or links; read the central directory only."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise Refused(f"This is not a zip file ({error}).") from error
    if not infos:
        raise Refused("The zip is empty: a packet holds at least manifest.json and signature.ed25519.")
    if len(infos) > MAX_ENTRIES:
        raise Refused(f"The zip has {len(infos):,} entries; a packet has at most {MAX_ENTRIES:,} "
                      "(refused as a possible zip bomb).")
    total = sum(info.file_size for info in infos)
    if total > MAX_TOTAL_UNCOMPRESSED:
        raise Refused(f"The zip would unpack to {total:,} bytes, over the limit of {MAX_TOTAL_UNCOMPRESSED:,} "
                      "(refused as a zip bomb).")
    for info in infos:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise Refused(f"{info.filename!r} would unpack to {info.file_size:,} bytes from {info.compress_size:,} "
                          f"(over {MAX_RATIO}× compression; refused as a zip bomb).")
        try:
            verifier.check_member_name(info.filename)
        except verifier.UnsafeMemberName as error:
            raise Refused(f"Refused: {error} (a path that could escape the folder it is unzipped into).") from error
        kind = (info.external_attr >> 16) & 0o170000
        if kind == stat.S_IFLNK:
            raise Refused(f"Refused: {info.filename!r} is a symbolic link; a packet holds regular files only.")
        if kind not in (0, stat.S_IFREG):
            raise Refused(f"Refused: {info.filename!r} is not a regular file.")


# ── the result, file by file ──────────────────────────────────────────────────────────────────
@dataclass
class FileRow:
    name: str
    expected_sha256: str = ""
    expected_size: int | None = None
    actual_sha256: str = ""
    actual_size: int | None = None
    status: str = "OK"  # OK, MISMATCH, MISSING, EXTRA
    note: str = ""


@dataclass
class Verification:
    ok: bool = False
    verdict: str = ""  # the shipped verifier's own line (reports/packet/verify.py), what `verify.py` prints
    rows: list[FileRow] = field(default_factory=list)
    signature: str = ""  # "valid", "INVALID", "not checked"
    public_key: str = ""
    trusted: bool = False
    excerpt: str = ""  # the audit excerpt's line, "" when the packet has none
    excerpt_ok: bool | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        return counts


def _digest(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with archive.open(info) as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def verify_packet(path: Path) -> Verification:
    """Every file against manifest.json, the signature, the audit excerpt's chain; and the verifier's verdict.

    ``check_archive`` must have passed first. Uses the shipped verifier's own pieces (``reports.packet.verify``),
    so this page and ``verify.py`` inside the packet agree."""
    result = Verification()
    with zipfile.ZipFile(path) as archive:
        infos = {info.filename: info for info in archive.infolist() if not info.is_dir()}
        try:
            manifest_raw = archive.read(infos[verifier.MANIFEST_NAME]) if verifier.MANIFEST_NAME in infos else None
            signature_raw = archive.read(infos[verifier.SIGNATURE_NAME]) if verifier.SIGNATURE_NAME in infos else None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
            result.problems.append(f"the zip is damaged ({error})")
            manifest_raw = signature_raw = None
        manifest = None
        if manifest_raw is None:
            result.problems.append(f"{verifier.MANIFEST_NAME} is missing: there is nothing to check the files against")
        else:
            try:
                manifest = verifier._load_manifest(manifest_raw)
            except verifier.Mismatch as error:
                result.problems.append(error.message)
        listed: set[str] = set()
        if manifest is not None:
            result.public_key = manifest["public_key"]
            try:
                result.trusted = result.public_key in signing.trusted_public_keys()
            except Exception:  # noqa: BLE001 - a misconfigured key list is said, not a 500
                result.trusted = False
            if signature_raw is None:
                result.signature = "missing"
            else:
                checked = verifier.check_signature(manifest_raw, result.public_key, signature_raw)
                result.signature = {True: "valid", False: "INVALID", None: "not checked"}[checked]
            for entry in manifest["files"]:
                name = entry["name"]
                listed.add(name)
                row = FileRow(name=name, expected_sha256=entry["sha256"], expected_size=entry["size"])
                info = infos.get(name)
                if info is None:
                    row.status, row.note = "MISSING", "listed in manifest.json, not in the zip"
                else:
                    try:
                        row.actual_size, row.actual_sha256 = _digest(archive, info)
                    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
                        row.status, row.note = "MISMATCH", f"damaged in the zip ({error})"
                    else:
                        if (row.actual_size, row.actual_sha256) != (row.expected_size, row.expected_sha256):
                            row.status = "MISMATCH"
                result.rows.append(row)
        for name in sorted(set(infos) - listed - set(verifier.UNLISTED)):
            size, sha = _digest(archive, infos[name])
            result.rows.append(FileRow(name=name, actual_sha256=sha, actual_size=size, status="EXTRA",
                                       note="in the zip, not listed in manifest.json"))
        excerpt = next((r for r in result.rows if r.name == verifier.AUDIT_EXCERPT and r.status == "OK"), None)
        if excerpt is not None:
            try:
                result.excerpt = verifier.check_audit_excerpt(archive.read(infos[verifier.AUDIT_EXCERPT]))
                result.excerpt_ok = True
            except verifier.Mismatch as error:
                result.excerpt, result.excerpt_ok = error.message, False
    official = verifier.verify(str(path))
    result.verdict = official.message
    result.ok = (official.ok and not result.problems and result.signature == "valid"
                 and all(r.status == "OK" for r in result.rows) and result.excerpt_ok is not False)
    return result


# ── the page ──────────────────────────────────────────────────────────────────────────────────
