#!/usr/bin/env python3
"""Offline verifier of a Crucible submission packet — Python standard library only.

Usage, inside the unzipped packet (or naming the packet's folder or its .zip):

    python verify.py              # checks the folder this file is in
    python verify.py PACKET.zip   # or a folder

What it checks, in order, stopping at the first problem:
1. every name in the packet is a plain relative path inside it (no "..", no absolute paths,
   no backslashes, no drive letters, no links) — names that could escape the folder are refused;
2. ``signature.ed25519`` is a valid Ed25519 signature (RFC 8032) of the exact bytes of
   ``manifest.json`` under the public key written in the manifest. This uses the ``cryptography``
   package when it can be imported; when it cannot, the verifier says plainly that the signature
   was NOT checked and goes on with the file hashes;
3. every file listed in ``manifest.json`` is present with the listed size and SHA-256;
4. no file is present that the manifest does not list.

Exit status: 0 when the packet is intact, 1 when anything does not match (the message names the
first file that does not), 2 when the input cannot be read as a packet at all (no such path, not
a folder or a zip).

Compare the printed public key with the one the platform publishes: anyone can sign a manifest
with a key of their own, so a valid signature means "signed by the holder of this key".
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and sys.path and not (getattr(sys.flags, "safe_path", False) or sys.flags.isolated):
    # Run as a script, Python puts this file's folder — the packet — first on the import path. Take it
    # off before importing anything, so a file slipped into the packet (json.py, hashlib.py,
    # cryptography/...) can never run in place of the standard library.
    sys.path.pop(0)

import hashlib  # noqa: E402 - after the import path is made safe
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import stat  # noqa: E402
import zipfile  # noqa: E402
import zlib  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

FORMAT = "crucible-submission-packet"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "signature.ed25519"
UNLISTED = (MANIFEST_NAME, SIGNATURE_NAME)  # the two files the manifest cannot list

EXIT_OK, EXIT_MISMATCH, EXIT_UNUSABLE = 0, 1, 2

_COMPONENT = re.compile(r"^[A-Za-z0-9._-]+$")
_DRIVE = re.compile(r"^[A-Za-z]:")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SIGNATURE_TEXT = re.compile(r"^[0-9a-f]{128}\n$")
_CHUNK = 1 << 20


class UnsafeMemberName(ValueError):
    """A name that could land outside the packet's folder, or is not a plain relative path."""


def check_member_name(name: str) -> str:
    """Return ``name`` if it is a safe relative POSIX path, else raise ``UnsafeMemberName``.

    Refused: empty names, absolute paths, backslashes, drive letters (``C:``), ``.``/``..`` or
    empty components, and characters outside ``[A-Za-z0-9._-]`` in a component.
    """
    if not isinstance(name, str) or not name:
        raise UnsafeMemberName("empty member name")
    if "\\" in name:
        raise UnsafeMemberName(f"member name {name!r} contains a backslash")
    if name.startswith("/"):
        raise UnsafeMemberName(f"member name {name!r} is an absolute path")
    if _DRIVE.match(name):
        raise UnsafeMemberName(f"member name {name!r} starts with a drive letter")
    for part in name.split("/"):
        if part in ("", ".", ".."):
            raise UnsafeMemberName(f"member name {name!r} has an empty, '.' or '..' component")
        if not _COMPONENT.match(part):
            raise UnsafeMemberName(f"member name {name!r} has characters outside A-Z a-z 0-9 . _ -")
    return name


@dataclass
class Result:
    ok: bool
    message: str
    file: str | None = None
    unusable: bool = False
    signature_checked: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.ok:
            return EXIT_OK
        return EXIT_UNUSABLE if self.unusable else EXIT_MISMATCH


class Unusable(Exception):
    """The input is not a folder or a zip we can read."""


class Mismatch(Exception):
    def __init__(self, file: str | None, message: str):
        super().__init__(message)
        self.file = file
        self.message = message


# --- where the files come from: a folder or a zip -----------------------------------------


class FolderSource:
    def __init__(self, root: str):
        self.root = os.path.realpath(root)

    def names(self) -> list[str]:
        found = []
        for directory, subdirs, files in os.walk(self.root, followlinks=False):
            for entry in sorted(subdirs + files):
                full = os.path.join(directory, entry)
                relative = os.path.relpath(full, self.root).replace(os.sep, "/")
                mode = os.lstat(full).st_mode
                if stat.S_ISLNK(mode):
                    raise Mismatch(relative, f"{relative}: links are not allowed in a packet")
                if stat.S_ISREG(mode):
                    found.append(relative)
                elif not stat.S_ISDIR(mode):
                    raise Mismatch(relative, f"{relative}: not a regular file")
        return sorted(found)

    def _path(self, name: str) -> str:
        check_member_name(name)
        path = os.path.realpath(os.path.join(self.root, *name.split("/")))
        if os.path.commonpath([path, self.root]) != self.root:  # belt and braces after the name check
            raise UnsafeMemberName(f"member name {name!r} escapes the packet folder")
        return path

    def exists(self, name: str) -> bool:
        return os.path.isfile(self._path(name)) and not os.path.islink(self._path(name))

    def read(self, name: str) -> bytes:
        with open(self._path(name), "rb") as handle:
            return handle.read()

    def digest(self, name: str) -> tuple[int, str]:
        digest, size = hashlib.sha256(), 0
        with open(self._path(name), "rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
        return size, digest.hexdigest()

    def close(self) -> None:
        pass


class ZipSource:
    def __init__(self, path: str):
        try:
            self.archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as error:
            raise Unusable(f"{path} is not a readable zip file ({error})") from error
        self.infos: dict[str, zipfile.ZipInfo] = {}

    def names(self) -> list[str]:
        for info in self.archive.infolist():
            name = info.filename
            check_member_name(name)
            if name in self.infos:
                raise Mismatch(name, f"{name}: appears twice in the zip")
            kind = (info.external_attr >> 16) & 0o170000
            if kind not in (0, stat.S_IFREG):
                raise Mismatch(name, f"{name}: not a regular file in the zip (link or device)")
            self.infos[name] = info
        return sorted(self.infos)

    def exists(self, name: str) -> bool:
        return name in self.infos

    def read(self, name: str) -> bytes:
        try:
            return self.archive.read(self.infos[name])
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as error:
            raise Mismatch(name, f"{name}: damaged in the zip ({error})") from error

    def digest(self, name: str) -> tuple[int, str]:
        digest, size = hashlib.sha256(), 0
        try:
            with self.archive.open(self.infos[name]) as handle:
                for chunk in iter(lambda: handle.read(_CHUNK), b""):
                    digest.update(chunk)
                    size += len(chunk)
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as error:
            raise Mismatch(name, f"{name}: damaged in the zip ({error})") from error
        return size, digest.hexdigest()

    def close(self) -> None:
        self.archive.close()


def open_source(path: str) -> FolderSource | ZipSource:
    if os.path.isdir(path):
        return FolderSource(path)
    if os.path.isfile(path):
        return ZipSource(path)
    raise Unusable(f"{path}: no such folder or zip file")


# --- the checks ------------------------------------------------------------------------------


def check_signature(manifest_bytes: bytes, public_key_hex: str, signature_text: bytes) -> bool | None:
    """True/False when checked; None when ``cryptography`` cannot be imported (not checked)."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        return None
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(signature_text.decode("ascii").strip()), manifest_bytes)
    except (InvalidSignature, ValueError):
        return False
    return True


AUDIT_EXCERPT = "audit/excerpt.json"
# The fields an audit event's hash covers, in the platform's chain rule (governance.services.audit).
AUDIT_HASHED_FIELDS = ("seq", "timestamp", "actor_id", "actor_username", "action", "object_type", "object_id",
                       "before", "after", "reason")


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def check_audit_excerpt(raw: bytes) -> str:
    """Recompute every event's hash, SHA-256(canonical JSON of its fields + prev_hash), and check the
    checkpoint's signature (with ``cryptography``); raise ``Mismatch`` naming the excerpt if one fails."""
    try:
        excerpt = json.loads(raw.decode("utf-8"))
        events = excerpt["events"]
        for event in events:
            payload = {name: event[name] for name in AUDIT_HASHED_FIELDS}
            digest = hashlib.sha256((_canonical(payload) + event["prev_hash"]).encode("utf-8")).hexdigest()
            if digest != event["hash"]:
                raise Mismatch(AUDIT_EXCERPT, f"{AUDIT_EXCERPT}: event {event['seq']} does not hash to its "
                                              "recorded hash")
            if event["seq"] == excerpt["chain_head"]["seq"] and event["hash"] != excerpt["chain_head"]["hash"]:
                raise Mismatch(AUDIT_EXCERPT, f"{AUDIT_EXCERPT}: the chain head is not the hash of its event")
        checkpoint = excerpt.get("checkpoint")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise Mismatch(AUDIT_EXCERPT, f"{AUDIT_EXCERPT}: malformed ({error!r:.200})") from error
    note = f"audit excerpt: {len(events)} event hashes recomputed OK"
    if not checkpoint:
        return note + "; no signed checkpoint precedes it"
    checked = check_signature(str(checkpoint.get("signed_message", "")).encode("utf-8"),
                              str(checkpoint.get("public_key", "")),
                              (str(checkpoint.get("signature", "")) + "\n").encode("ascii", errors="replace"))
    if checked is False:
        raise Mismatch(AUDIT_EXCERPT, f"{AUDIT_EXCERPT}: the checkpoint signature does not verify")
    state = "OK" if checked else "NOT checked (no cryptography)"
    return note + f"; checkpoint at seq {checkpoint.get('seq')} signature {state}"


def _load_manifest(raw: bytes) -> dict:
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise Mismatch(MANIFEST_NAME, f"{MANIFEST_NAME}: not valid JSON ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise Mismatch(MANIFEST_NAME, f"{MANIFEST_NAME}: not a {FORMAT} manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise Mismatch(MANIFEST_NAME, f"{MANIFEST_NAME}: format version {manifest.get('format_version')!r}, "
                                      f"this verifier reads version {FORMAT_VERSION}")
    files = manifest.get("files")
    if not isinstance(files, list):
        raise Mismatch(MANIFEST_NAME, f"{MANIFEST_NAME}: 'files' is not a list")
    seen = set()
    for entry in files:
        if not (isinstance(entry, dict) and isinstance(entry.get("name"), str)
                and isinstance(entry.get("sha256"), str) and _HEX64.match(entry["sha256"])
                and isinstance(entry.get("size"), int) and not isinstance(entry.get("size"), bool)
                and entry["size"] >= 0):
            raise Mismatch(MANIFEST_NAME, f"{MANIFEST_NAME}: malformed file entry {entry!r:.200}")
        try:
            check_member_name(entry["name"])
        except UnsafeMemberName as error:
            raise Mismatch(MANIFEST_NAME, f"{MANIFEST_NAME}: refused: {error}") from error
        if entry["name"] in UNLISTED or entry["name"] in seen:
            raise Mismatch(MANIFEST_NAME, f"{MANIFEST_NAME}: {entry['name']} listed twice or not listable")
        seen.add(entry["name"])
    if not isinstance(manifest.get("public_key"), str) or not _HEX64.match(manifest["public_key"]):
        raise Mismatch(MANIFEST_NAME, f"{MANIFEST_NAME}: 'public_key' is not 64 lowercase hex characters")
    return manifest


def _run_checks(source, result: Result) -> None:
    try:
        present = source.names()
    except UnsafeMemberName as error:
        raise Mismatch(None, f"refused: {error}") from error
    for name in UNLISTED:
        if name not in present:
            raise Mismatch(name, f"{name}: missing (removed)")
    manifest_raw = source.read(MANIFEST_NAME)
    manifest = _load_manifest(manifest_raw)
    signature_raw = source.read(SIGNATURE_NAME)
    if not _SIGNATURE_TEXT.match(signature_raw.decode("ascii", errors="replace")):
        raise Mismatch(SIGNATURE_NAME, f"{SIGNATURE_NAME}: not 128 lowercase hex characters and a newline")
    public_key = manifest["public_key"]
    result.notes.append(f"public key: {public_key} (sha256:{hashlib.sha256(bytes.fromhex(public_key)).hexdigest()})")
    checked = check_signature(manifest_raw, public_key, signature_raw)
    if checked is None:
        result.notes.append("WARNING: the signature was NOT checked: the Python package 'cryptography' cannot be "
                            "imported here. Only the file hashes were checked; install cryptography to check "
                            f"that {SIGNATURE_NAME} signs {MANIFEST_NAME}.")
    elif not checked:
        raise Mismatch(SIGNATURE_NAME, f"{SIGNATURE_NAME}: not a valid Ed25519 signature of {MANIFEST_NAME} under "
                                       "its public key (one of the two was changed)")
    else:
        result.signature_checked = True
        result.notes.append(f"signature: OK (Ed25519 over {MANIFEST_NAME}, checked with cryptography)")

    listed = [entry["name"] for entry in manifest["files"]]
    for entry in manifest["files"]:
        name = entry["name"]
        if not source.exists(name):
            raise Mismatch(name, f"{name}: listed in {MANIFEST_NAME} but missing (removed)")
        size, digest = source.digest(name)
        if size != entry["size"] or digest != entry["sha256"]:
            raise Mismatch(name, f"{name}: does not match {MANIFEST_NAME} (size {size} vs {entry['size']}, "
                                 f"SHA-256 {digest} vs {entry['sha256']})")
    extra = sorted(set(present) - set(listed) - set(UNLISTED))
    if extra:
        raise Mismatch(extra[0], f"{extra[0]}: not listed in {MANIFEST_NAME} (added)")
    if AUDIT_EXCERPT in listed:
        result.notes.append(check_audit_excerpt(source.read(AUDIT_EXCERPT)))
    result.ok = True
    result.message = f"OK: {len(listed)} files match {MANIFEST_NAME}" + (
        "" if result.signature_checked else " (signature NOT checked)")


def verify(path: str) -> Result:
    """Check the packet at ``path`` (a folder or a .zip) and say what was found."""
    result = Result(ok=False, message="")
    try:
        source = open_source(os.fspath(path))
    except Unusable as error:
        result.message, result.unusable = f"UNUSABLE: {error}", True
        return result
    try:
        _run_checks(source, result)
    except Mismatch as mismatch:
        result.ok, result.file = False, mismatch.file
        result.message = f"FAILED: {mismatch.message}"
    except UnsafeMemberName as error:
        result.ok, result.message = False, f"FAILED: refused: {error}"
    except OSError as error:
        result.ok, result.message = False, f"FAILED: could not read the packet: {error}"
    finally:
        source.close()
    return result


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and args[0] in ("-h", "--help")):
        print(__doc__)
        return EXIT_UNUSABLE if len(args) > 1 else EXIT_OK
    path = args[0] if args else os.path.dirname(os.path.abspath(__file__))
    result = verify(path)
    for note in result.notes:
        print(note)
    print(result.message)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
