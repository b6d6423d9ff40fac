"""The parser process of a dataset import: reads an uploaded table under a memory limit.

Run as ``python -m scenarios.dataset_sandbox`` by ``scenarios.services.dataset_imports``. It reads a
JSON job from stdin, lowers its own address-space limit (``RLIMIT_AS``, setrlimit(2)) and CPU-time
limit (``RLIMIT_CPU``) *before* importing pandas/pyarrow or touching the file, then parses and
checks the table with ``scenarios.datasets`` (pure) and writes into the job's ``out_dir``:
``canonical.parquet``, ``increments.parquet`` and ``result.json``
(``{"ok": true, "summary": {...}, "peak_rss_bytes": n}`` or ``{"ok": false, "error": "...", "kind": "..."}``).

Whatever the file does to this process — exhaust its memory, crash the parser — the worker that
started it only sees a failed import. Pure: no Django, no project apps but ``scenarios.datasets``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path


def _limit(kind: int, value: int | None) -> None:
    if not value:
        return
    soft, hard = resource.getrlimit(kind)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(kind, (value, hard))


def _peak_rss_bytes() -> int:
    # VmHWM starts afresh at exec; ru_maxrss would still count the parent's pages from before the fork.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _write_result(out_dir: Path, result: dict) -> None:
    (out_dir / "result.json").write_text(json.dumps(result))


def run(job: dict) -> dict:
    _limit(resource.RLIMIT_AS, job.get("memory_bytes"))
    _limit(resource.RLIMIT_CPU, job.get("cpu_seconds"))
    from scenarios import datasets as checks  # imports pandas/pyarrow under the limit

    out_dir = Path(job["out_dir"])
    filename = job["filename"]
    options = job.get("options", {})
    try:
        limits = checks.TableLimits(**job["limits"])
        raw = checks.read_table_file(job["path"], filename=filename, limits=limits,
                                     date_column=options.get("date_column", "date"))
        prepared = checks.prepare_table(raw, **options)
    except MemoryError:
        return {"ok": False, "kind": "memory",
                "error": f"{filename} needs more memory to parse than the import limit of "
                         f"{job.get('memory_bytes', 0) // 2**20:,} MiB allows"}
    except checks.DatasetError as error:
        return {"ok": False, "kind": "invalid", "error": str(error)}
    except Exception as error:  # noqa: BLE001 - a hostile file may raise anything from the parsers
        return {"ok": False, "kind": "unreadable",
                "error": f"{filename} could not be read: {type(error).__name__}: {str(error)[:500]}"}
    (out_dir / "canonical.parquet").write_bytes(prepared.canonical)
    (out_dir / "increments.parquet").write_bytes(prepared.increments)
    return {"ok": True, "summary": prepared.summary()}


def main() -> int:
    job = json.loads(sys.stdin.read())
    out_dir = Path(job["out_dir"])
    try:
        result = run(job)
    except MemoryError:
        result = {"ok": False, "kind": "memory",
                  "error": f"{job.get('filename')} needs more memory to parse than the import limit of "
                           f"{job.get('memory_bytes', 0) // 2**20:,} MiB allows"}
    result["peak_rss_bytes"] = _peak_rss_bytes()
    _write_result(out_dir, result)
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: nothing left to flush, and it is slow after a large parse


if __name__ == "__main__":
    main()
