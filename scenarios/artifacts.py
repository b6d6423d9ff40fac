"""The content-addressed artefact store: bytes are written once under their SHA-256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings


def artifact_root() -> Path:
    root = Path(settings.ARTIFACT_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    return root


def store_bytes(data: bytes, *, suffix: str) -> tuple[str, str]:
    """Write ``data`` as ``<sha[:2]>/<sha><suffix>`` atomically; returns (relative path, sha256)."""
    digest = hashlib.sha256(data).hexdigest()
    relative = f"{digest[:2]}/{digest}{suffix}"
    target = artifact_root() / relative
    if target.exists():
        return relative, digest
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target then rename: a reader never sees a half-written artefact.
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return relative, digest


def read_bytes(relative: str, *, expected_sha256: str | None = None) -> bytes:
    path = artifact_root() / relative
    data = path.read_bytes()
    if expected_sha256 is not None and hashlib.sha256(data).hexdigest() != expected_sha256:
        raise OSError(f"artefact {relative} does not match its recorded SHA-256 (corrupted or altered)")
    return data
