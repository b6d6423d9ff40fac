"""The content-addressed artefact store: bytes are written once under their SHA-256.

Part of the run kernel (DESIGN §2): a run that is killed and retried writes the same bytes to the
same path, so a retry never leaves a second copy; a write killed half-way leaves only a ``.tmp-*``
file beside its target, which ``artifact_sweep_temp`` (called by the reaper) removes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

from django.conf import settings

TEMP_PREFIX = ".tmp-"


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
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=TEMP_PREFIX)
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


def artifact_sweep_temp(*, older_than_seconds: float) -> list[str]:
    """Remove half-written temporary files (a writer killed before its rename) older than the given age;
    returns their paths relative to the store. A live writer's file is younger than a lease."""
    root = artifact_root()
    cutoff = time.time() - older_than_seconds
    removed = []
    for path in root.glob(f"*/{TEMP_PREFIX}*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(str(path.relative_to(root)))
        except FileNotFoundError:  # another sweeper got there first
            continue
    return sorted(removed)
