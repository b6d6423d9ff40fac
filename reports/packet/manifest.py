"""``manifest.json``: what the packet holds, hashed, in canonical JSON (the bytes the signature covers).

Canonical here means: keys sorted, no insignificant whitespace, UTF-8, no NaN/Infinity — the same
rules as ``governance.canonical`` (restated with the standard library so this stays Django-free).
The manifest lists every file of the packet except itself and ``signature.ed25519``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from reports.packet.verify import FORMAT, FORMAT_VERSION, MANIFEST_NAME, SIGNATURE_NAME, check_member_name


def canonical_bytes(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def file_entries(files: Mapping[str, bytes]) -> list[dict[str, Any]]:
    """``[{name, sha256, size}]`` sorted by name."""
    entries = []
    for name in sorted(files):
        check_member_name(name)
        if name in (MANIFEST_NAME, SIGNATURE_NAME):
            raise ValueError(f"{name} cannot list itself")
        entries.append({"name": name, "sha256": hashlib.sha256(files[name]).hexdigest(), "size": len(files[name])})
    return entries


def build_manifest(*, files: Mapping[str, bytes], lineage_ids: Iterable[str], public_key_hex: str,
                   subject: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest document; ``subject`` says what the packet documents (model, version, report)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "subject": dict(subject),
        "files": file_entries(files),
        "lineage_ids": sorted(set(lineage_ids)),
        "public_key": public_key_hex,
        "signature": {"algorithm": "Ed25519", "file": SIGNATURE_NAME, "over": f"the bytes of {MANIFEST_NAME}",
                      "encoding": "128 lowercase hex characters and a newline"},
    }


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    return canonical_bytes(manifest)


def signature_text(signature_hex: str) -> bytes:
    """The bytes of ``signature.ed25519``: the hex signature and one newline."""
    if len(signature_hex) != 128 or signature_hex != signature_hex.lower():
        raise ValueError("an Ed25519 signature is 128 lowercase hex characters")
    return (signature_hex + "\n").encode("ascii")
