"""Dataset imports: an upload parsed by a worker in a memory-limited process (issue 16 §4).

``dataset_import_start`` records the received file as a ``DatasetImport`` row (PENDING) and
enqueues ``scenarios.import_tasks.import_dataset`` after commit; the API answers 202 with the
import's URL. ``dataset_import_execute`` is the worker's side, through the run kernel
(``governance.services.run_state.run_execute``: lease, heartbeat, cancel, fail, audit): it runs
``scenarios.dataset_sandbox`` in a child process whose address space is capped with
``setrlimit(RLIMIT_AS)`` (and CPU time with ``RLIMIT_CPU``, wall time with a timeout), and stores
the checked table through ``dataset_store_prepared``. Whatever the file is, the import ends
SUCCEEDED with a dataset or FAILED with a message naming the row/column or the limit; nothing but
the import row is stored for a failed one, and the uploaded file is deleted either way.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction

from governance.errors import InvalidInput
from governance.models.runs import FINISHED_STATUSES, RunStatus
from governance.services import run_state
from governance.services.audit import audit_record
from scenarios import datasets as checks
from scenarios.models import Dataset
from scenarios.models.dataset import DatasetImport
from scenarios.services.datasets import check_name_and_kind, dataset_error, dataset_store_prepared, require_importer

CHUNK_BYTES = 1024 * 1024
HEARTBEAT_SECONDS = 5.0


class UploadTooLarge(InvalidInput):
    """The upload is over ``CRUCIBLE_MAX_DATASET_BYTES`` (HTTP 413, Payload Too Large)."""

    status_code = 413
    default_code = "too_large"


@dataclass(frozen=True)
class StagedFile:
    """A received upload on disk in the upload directory, not yet owned by an import."""

    path: Path
    filename: str
    size: int
    sha256: str

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def upload_dir() -> Path:
    directory = Path(settings.CRUCIBLE_UPLOAD_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def upload_sweep(older_than_seconds: float) -> list[str]:
    """Remove files of the upload directory no unfinished import holds, older than the horizon: uploads whose
    request died before their import row was written (the row is what deletes its file when it finishes)."""
    directory = upload_dir()
    held = {Path(p).name for p in DatasetImport.objects.exclude(status__in=FINISHED_STATUSES)
            .exclude(staging_path="").values_list("staging_path", flat=True)}
    cutoff = time.time() - older_than_seconds
    removed = []
    for path in directory.iterdir():
        if path.is_file() and path.name not in held and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return sorted(removed)


def max_upload_bytes() -> int:
    return int(settings.CRUCIBLE_MAX_DATASET_BYTES)


def too_large(filename: str, size: int | None = None) -> UploadTooLarge:
    limit = max_upload_bytes()
    what = f"is {size:,} bytes" if size is not None else "exceeds the limit"
    return UploadTooLarge(f"{Path(filename).name} {what}; the limit for a dataset upload is {limit:,} bytes",
                          details={"file": [f"at most {limit:,} bytes"]})


def table_limits() -> checks.TableLimits:
    return checks.TableLimits(
        max_bytes=max_upload_bytes(), max_rows=settings.CRUCIBLE_MAX_DATASET_ROWS,
        max_columns=settings.CRUCIBLE_MAX_DATASET_COLUMNS, max_cells=settings.CRUCIBLE_MAX_DATASET_CELLS,
        max_uncompressed_bytes=settings.CRUCIBLE_MAX_DATASET_UNCOMPRESSED_BYTES,
        max_footer_bytes=settings.CRUCIBLE_MAX_PARQUET_FOOTER_BYTES,
    )


def check_filename(filename: str) -> str:
    """The file's format from its name; refuses anything but CSV and Parquet before it is read."""
    try:
        return checks.table_format(filename)
    except checks.DatasetError as error:
        raise InvalidInput(str(error), code="unsupported_format", details={"file": [str(error)]}) from error


def new_staging_file(filename: str) -> tuple[int, Path]:
    suffix = Path(filename).suffix.lower()[:16]
    fd, path = tempfile.mkstemp(dir=upload_dir(), prefix="receiving-", suffix=suffix)
    return fd, Path(path)


def stage_upload(handle: IO[bytes], *, filename: str, declared_size: int | None = None) -> StagedFile:
    """Copy a file-like object into the upload directory, refusing it once it passes the limit."""
    check_filename(filename)
    limit = max_upload_bytes()
    if declared_size is not None and declared_size > limit:
        raise too_large(filename, declared_size)
    fd, path = new_staging_file(filename)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := handle.read(CHUNK_BYTES):
                size += len(chunk)
                if size > limit:
                    raise too_large(filename)
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StagedFile(path=path, filename=Path(filename).name, size=size, sha256=digest.hexdigest())


# ── start ───────────────────────────────────────────────────────────────────────────────────
@transaction.atomic
def dataset_import_start(
    *, actor, staged: StagedFile, name: str, kind: str = "prices", column_kinds: dict | None = None,
    risk_classes: dict | None = None, date_column: str = "date", nan_policy: str = "reject", ffill_limit: int = 5,
    min_rows: int = checks.DEFAULT_MIN_ROWS, description: str = "", enqueue: bool = True,
) -> DatasetImport:
    """Take ownership of a received file and queue its parsing; returns the PENDING import."""
    require_importer(actor)
    name = check_name_and_kind(name, kind)
    file_format = check_filename(staged.filename)
    if nan_policy not in checks.NAN_POLICIES:
        raise InvalidInput(f"nan_policy must be one of {', '.join(checks.NAN_POLICIES)}",
                           details={"nan_policy": [nan_policy]})
    if not 1 <= int(ffill_limit) <= 100 or int(min_rows) < 2:
        raise InvalidInput("ffill_limit must be 1..100 and min_rows at least 2",
                           details={"ffill_limit": [ffill_limit], "min_rows": [min_rows]})
    if staged.size > max_upload_bytes():
        raise too_large(staged.filename, staged.size)
    options = {"date_column": date_column, "kind": kind, "column_kinds": dict(column_kinds or {}),
               "risk_classes": dict(risk_classes or {}), "nan_policy": nan_policy, "ffill_limit": int(ffill_limit),
               "min_rows": int(min_rows)}
    owned = upload_dir() / f"import-{secrets.token_hex(12)}{Path(staged.filename).suffix.lower()[:16]}"
    os.replace(staged.path, owned)
    try:
        row = DatasetImport.objects.create(
            name=name, filename=staged.filename[:255], file_format=file_format, size_bytes=staged.size,
            upload_sha256=staged.sha256, staging_path=str(owned), options=options | {"description": description},
            seed=0, created_by=actor,
        )
        audit_record(actor=actor, action="dataset_import.started", object_type="dataset_import", object_id=row.pk,
                     after={"name": name, "filename": row.filename, "size_bytes": staged.size,
                            "upload_sha256": staged.sha256, "options": options})
        if enqueue:
            run_state.run_enqueue(row)
    except BaseException:
        owned.unlink(missing_ok=True)
        raise
    return row


# ── execute (the worker's side) ─────────────────────────────────────────────────────────────
def _worker_name() -> str:
    return socket.gethostname()


def _sandbox_env() -> dict[str, str]:
    # The parser needs no secrets (no DATABASE_URL, no SECRET_KEY): only the interpreter's paths.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(settings.BASE_DIR),
           "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "MALLOC_ARENA_MAX": "2", "OMP_NUM_THREADS": "1"}
    return env


def _parse_in_sandbox(row: DatasetImport, out_dir: Path, lease: run_state.RunLease) -> dict:
    """Run the parser child; heartbeat while it works; translate its end into a result dict."""
    memory = int(settings.CRUCIBLE_DATASET_IMPORT_MEMORY_BYTES)
    timeout = int(settings.CRUCIBLE_DATASET_IMPORT_TIMEOUT_SECONDS)
    options = {k: v for k, v in row.options.items() if k != "description"}
    job = {"path": row.staging_path, "filename": row.filename, "out_dir": str(out_dir), "options": options,
           "limits": asdict(table_limits()), "memory_bytes": memory, "cpu_seconds": timeout}
    stderr_path = out_dir / "stderr.txt"
    with open(stderr_path, "wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "scenarios.dataset_sandbox"], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=stderr, cwd=settings.BASE_DIR, env=_sandbox_env(),
        )
        try:
            child.stdin.write(json.dumps(job).encode())
            child.stdin.close()
            deadline = time.monotonic() + timeout
            while True:
                try:
                    child.wait(timeout=HEARTBEAT_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    if time.monotonic() > deadline:
                        raise InvalidInput(f"parsing {row.filename} took longer than the import limit of "
                                           f"{timeout} s", code="import_timeout") from None
                    lease(0.1, stage="parsing")  # raises when cancelled or taken over: the child is killed
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    result_path = out_dir / "result.json"
    if result_path.exists():
        return json.loads(result_path.read_text())
    tail = stderr_path.read_text(errors="replace")[-300:].strip()
    if child.returncode < 0:
        # Killed by a signal: the kernel's answer to a process past its RLIMIT_CPU (SIGXCPU/SIGKILL)
        # or one the allocator could not recover from.
        return {"ok": False, "kind": "crashed",
                "error": f"the parser of {row.filename} was stopped by signal {-child.returncode} (memory limit "
                         f"{memory // 2**20:,} MiB, CPU limit {timeout} s)"}
    return {"ok": False, "kind": "crashed",
            "error": f"the parser of {row.filename} ended without a result (exit {child.returncode}): {tail}"}


def dataset_import_execute(import_id: int, *, worker: str | None = None) -> None:
    """Claim, parse in the sandbox, store — or end FAILED with the reason. Deletes the upload at the end.

    ``RunBusy`` (a live worker holds the import) propagates: the task retries after the lease."""
    run_state.run_execute(DatasetImport, import_id, worker=worker or _worker_name(), body=_body,
                          queryset=DatasetImport.objects.select_related("created_by"))
    row = DatasetImport.objects.filter(pk=import_id).first()
    if row is not None and row.is_finished and row.staging_path:
        Path(row.staging_path).unlink(missing_ok=True)
        DatasetImport.objects.filter(pk=row.pk).update(staging_path="")


def _body(row: DatasetImport, lease: run_state.RunLease) -> None:
    lease(0.05, stage="parsing")
    if not row.staging_path or not Path(row.staging_path).is_file():
        raise InvalidInput(f"the uploaded file of import {row.pk} is no longer on disk; upload it again",
                           code="upload_missing")
    with tempfile.TemporaryDirectory(dir=upload_dir(), prefix="parse-") as out:
        out_dir = Path(out)
        result = _parse_in_sandbox(row, out_dir, lease)
        lease(0.7, stage="parsed", parser_peak_rss_bytes=result.get("peak_rss_bytes"))  # kept if it fails
        if not result.get("ok"):
            raise dataset_error(result.get("error") or "the file could not be parsed")
        prepared = checks.PreparedTable(canonical=(out_dir / "canonical.parquet").read_bytes(),
                                        increments=(out_dir / "increments.parquet").read_bytes(),
                                        **result["summary"])
    peak = result.get("peak_rss_bytes")
    lease(0.8, stage="storing", parser_peak_rss_bytes=peak)
    options = row.options
    with lease.completing() as done:
        dataset = dataset_store_prepared(
            actor=row.created_by, name=row.name, source=f"upload:{row.filename}"[:200], prepared=prepared,
            nan_policy=options["nan_policy"], ffill_limit=options["ffill_limit"], min_rows=options["min_rows"],
            description=options.get("description", ""),
            provenance={"upload_sha256": row.upload_sha256, "dataset_import": row.pk},
        )
        done.run.dataset = dataset
        done.run.progress_detail = {"stage": "done", "parser_peak_rss_bytes": peak}
        done.succeed(after={"dataset": dataset.pk, "sha256": dataset.sha256})


# ── synchronous path (management command, programmatic callers) ─────────────────────────────
def dataset_import_now(*, actor, handle: IO[bytes], filename: str, size: int | None = None,
                       **options: Any) -> Dataset:
    """Stage, start and execute in this process (the parser still runs in its limited child)."""
    require_importer(actor)
    staged = stage_upload(handle, filename=filename, declared_size=size)
    try:
        row = dataset_import_start(actor=actor, staged=staged, enqueue=False, **options)
    except BaseException:
        staged.discard()
        raise
    dataset_import_execute(row.pk)
    row.refresh_from_db()
    if row.status != RunStatus.SUCCEEDED or row.dataset is None:
        raise InvalidInput(row.error, code="invalid_dataset", details={"dataset": [row.error],
                                                                       "dataset_import": row.pk})
    return row.dataset
