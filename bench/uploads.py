"""Hostile uploads (issue 16 §4): time and memory until each is refused.

Cases, each through the real WSGI handler (the body streamed from a file on disk, as a server would)
in a throw-away SQLite database and upload directory, tasks in-process (no broker):

* ``no_role_csv`` — a 198 MB CSV posted by a signed-in user with no role: 403, and how many bytes of
  the body the server read (0 expected) and how much the process grew;
* ``developer_csv`` — the same CSV from a developer: 202, then the import parsed in the memory-limited
  child until refused by the row cap;
* ``parquet_50m`` — a ~0.5 MB Parquet of 50 M dictionary/delta-encoded rows from a developer: 202,
  then refused from its footer.

Figures: wall seconds until the answer (the import runs in-process before it here), growth of this
process's peak RSS (MB) over the case, the parser child's peak RSS (MB), the final import status and
error. Before issue 16 the Parquet took 43 s and 5.4 GB RSS, the no-role CSV 23 s and 954 MB, then 403.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np


def _django(var_dir: str) -> None:
    os.environ["CRUCIBLE_VAR_DIR"] = var_dir
    os.environ["ARTIFACT_ROOT"] = os.path.join(var_dir, "artifacts")
    os.environ["CRUCIBLE_UPLOAD_DIR"] = os.path.join(var_dir, "uploads")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["CRUCIBLE_TASKS"] = "inline"  # the bench drives the tasks in this process
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.conf import settings

    if settings.configured and getattr(settings, "VAR_DIR", None) and str(settings.VAR_DIR) != var_dir:
        raise RuntimeError("the uploads bench needs its own Django settings: run it in a fresh process")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _csv(path: Path, megabytes: int) -> None:
    line = b"2020-01-01,101.25,2.5\n"
    block = line * (1024 * 1024 // len(line))
    with open(path, "wb") as out:
        out.write(b"date,EQ,RATE\n")
        for _ in range(megabytes):
            out.write(block)


def _parquet(path: Path, rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("date", pa.timestamp("ns")), ("X", pa.float64())])
    with pq.ParquetWriter(path, schema, use_dictionary=["X"], column_encoding={"date": "DELTA_BINARY_PACKED"},
                          compression="zstd") as writer:
        step = 1_000_000
        for start in range(0, rows, step):
            n = min(step, rows - start)
            days = np.datetime64("1990-01-01", "ns").astype(np.int64) + np.arange(start, start + n)
            writer.write_table(pa.table({"date": days.view("datetime64[ns]"), "X": np.ones(n)}, schema=schema))


def _multipart(file_path: Path, body_path: Path, filename: str, name: str) -> str:
    boundary = uuid.uuid4().hex
    with open(body_path, "wb") as out, open(file_path, "rb") as source:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n{name}\r\n'.encode())
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                  "Content-Type: application/octet-stream\r\n\r\n".encode())
        while chunk := source.read(1 << 20):
            out.write(chunk)
        out.write(f"\r\n--{boundary}--\r\n".encode())
    return boundary


class _CountingInput:
    def __init__(self, handle) -> None:
        self.handle, self.bytes_read = handle, 0

    def read(self, *args):
        data = self.handle.read(*args)
        self.bytes_read += len(data)
        return data

    def readline(self, *args):
        data = self.handle.readline(*args)
        self.bytes_read += len(data)
        return data


def _post(body_path: Path, boundary: str, token: str) -> dict:
    import json

    from django.core.handlers.wsgi import WSGIHandler

    size = body_path.stat().st_size
    status: list[str] = []
    with open(body_path, "rb") as handle:
        stream = _CountingInput(handle)
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/datasets/", "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
            "wsgi.input": stream, "wsgi.errors": sys.stderr, "wsgi.multithread": False,
            "wsgi.multiprocess": False, "wsgi.run_once": False,
            "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}", "CONTENT_LENGTH": str(size),
            "HTTP_AUTHORIZATION": f"Token {token}",
        }
        peak_before, start = _peak_mb(), time.perf_counter()
        response = WSGIHandler()(environ, lambda s, headers, exc_info=None: status.append(s))
        body = b"".join(response)
        seconds = time.perf_counter() - start
    answer = json.loads(body or b"{}")
    return {"http_status": int(status[0].split()[0]), "seconds_to_answer": round(seconds, 2),
            "body_mb": round(size / 2**20, 1), "body_bytes_read": stream.bytes_read,
            "process_peak_rss_growth_mb": round(_peak_mb() - peak_before, 1), "answer": answer}


def _import_outcome(case: dict) -> dict:
    from scenarios.models.dataset import DatasetImport

    answer = case.pop("answer")
    if case["http_status"] != 202:
        case["error"] = answer.get("error", {}).get("message")
        return case
    row = DatasetImport.objects.get(pk=answer["id"])
    peak = (row.progress_detail or {}).get("parser_peak_rss_bytes")
    case.update(import_status=row.status, import_error=row.error[:200],
                parser_peak_rss_mb=round(peak / 2**20, 1) if peak else None)
    return case


def bench_uploads(quick: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="crucible-bench-uploads-") as var_dir:
        _django(var_dir)
        from django.contrib.auth.models import Group, User
        from rest_framework.authtoken.models import Token

        nobody = User.objects.create_user(username="bench-nobody")
        developer = User.objects.create_user(username="bench-dev")
        developer.groups.add(Group.objects.get(name="developer"))
        tokens = {u.username: Token.objects.create(user=u).key for u in (nobody, developer)}

        work = Path(var_dir) / "bench"
        work.mkdir()
        csv_mb = 20 if quick else 198
        rows = 5_000_000 if quick else 50_000_000
        csv, parquet = work / "big.csv", work / "bomb.parquet"
        _csv(csv, csv_mb)
        _parquet(parquet, rows)
        results: dict = {"baseline_peak_rss_mb": round(_peak_mb(), 1),
                         "parquet_file_kb": round(parquet.stat().st_size / 1024, 1), "parquet_rows": rows}
        body = work / "body"
        warm = work / "warm.csv"
        warm.write_bytes(b"date,X\n2020-01-01,1\n")
        boundary = _multipart(warm, body, "warm.csv", "warm")
        _post(body, boundary, tokens["bench-nobody"])  # first request: URLconf, DRF, apps import
        results["baseline_peak_rss_mb"] = round(_peak_mb(), 1)
        boundary = _multipart(csv, body, "big.csv", "big")
        results["no_role_csv"] = _import_outcome(_post(body, boundary, tokens["bench-nobody"]))
        results["developer_csv"] = _import_outcome(_post(body, boundary, tokens["bench-dev"]))
        boundary = _multipart(parquet, body, "bomb.parquet", "bomb")
        results["parquet_50m"] = _import_outcome(_post(body, boundary, tokens["bench-dev"]))
        return results


BENCHMARKS = {"uploads": bench_uploads}
