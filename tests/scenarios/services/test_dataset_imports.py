"""Dataset imports as runs: start (PENDING, file owned), execute in a memory-limited parser, finish."""

from __future__ import annotations

import io
import resource

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from governance.artifacts import artifact_root
from governance.errors import Forbidden, InvalidInput
from governance.models import AuditEvent, LineageNode
from scenarios.models import Dataset
from scenarios.models.dataset import DatasetImport
from scenarios.services.dataset_imports import (
    UploadTooLarge,
    dataset_import_execute,
    dataset_import_start,
    stage_upload,
)
from tests.scenarios.services.test_datasets import table

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path):
    settings.CRUCIBLE_UPLOAD_DIR = tmp_path / "uploads"
    return settings.CRUCIBLE_UPLOAD_DIR


def staged_csv(frame=None, name="panel.csv"):
    return stage_upload(io.BytesIO((table() if frame is None else frame).to_csv(index=False).encode()),
                        filename=name)


def test_an_import_owns_its_file_then_a_worker_turns_it_into_a_dataset(developer, uploads,
                                                                       django_capture_on_commit_callbacks):
    staged = staged_csv()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        row = dataset_import_start(actor=developer, staged=staged, name="panel", column_kinds={"RATE": "rates"})
    assert len(callbacks) == 1  # enqueued after commit, not run in the request
    assert row.status == "PENDING" and not staged.path.exists()
    owned = uploads / row.staging_path.rsplit("/", 1)[-1]
    assert owned.is_file() and row.file_format == "csv" and row.size_bytes == staged.size

    dataset_import_execute(row.pk, worker="w1")
    row.refresh_from_db()
    assert row.status == "SUCCEEDED", row.error
    assert row.dataset.column_kinds == {"EQ": "prices", "RATE": "rates"} and row.dataset.created_by == developer
    assert row.staging_path == "" and not owned.exists()
    assert row.progress_detail["parser_peak_rss_bytes"] > 0
    node = LineageNode.objects.get(uid=f"dataset:{row.dataset.pk}")
    assert node.attributes["upload_sha256"] == row.upload_sha256
    actions = list(AuditEvent.objects.filter(object_type="dataset_import", object_id=str(row.pk))
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["dataset_import.started", "dataset_import.succeeded"]

    dataset_import_execute(row.pk, worker="w2")  # a duplicate delivery does nothing
    assert Dataset.objects.count() == 1


def test_a_failed_import_stores_nothing_but_its_row(developer, uploads, django_capture_on_commit_callbacks):
    before = set(artifact_root().rglob("*"))
    frame = table()
    frame = frame.astype({"EQ": object})
    frame.loc[7, "EQ"] = "abc"
    with django_capture_on_commit_callbacks(execute=False):
        row = dataset_import_start(actor=developer, staged=staged_csv(frame), name="bad")
    dataset_import_execute(row.pk, worker="w")
    row.refresh_from_db()
    assert row.status == "FAILED" and row.error == "row 9, column 'EQ': 'abc' is not a number"
    assert not Dataset.objects.exists() and set(artifact_root().rglob("*")) == before
    assert list(uploads.iterdir()) == []


def test_the_parser_runs_under_a_memory_limit_that_leaves_the_worker_alone(developer, uploads, settings,
                                                                         django_capture_on_commit_callbacks):
    # 1.8 KB on disk: one 4 MiB string, dictionary-encoded, on 200,000 rows — 800 GB once decoded,
    # while its footer declares a few MB and passes every metadata cap.
    n = 200_000
    dates = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)),
                                           pa.array(["2020-01-01" + " " * 4 * 2**20]))
    buffer = io.BytesIO()
    pq.write_table(pa.table({"date": dates, "X": np.ones(n)}), buffer, store_schema=False, compression="zstd")
    assert buffer.tell() < 10_000
    buffer.seek(0)
    settings.CRUCIBLE_DATASET_IMPORT_MEMORY_BYTES = 1024 * 2**20
    with django_capture_on_commit_callbacks(execute=False):
        row = dataset_import_start(actor=developer, staged=stage_upload(buffer, filename="strings.parquet"),
                                   name="bomb")
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    dataset_import_execute(row.pk, worker="w")
    row.refresh_from_db()
    assert row.status == "FAILED"
    assert row.error == "strings.parquet needs more memory to parse than the import limit of 1,024 MiB allows"
    # The parse happened in the child: this (the worker's) process did not grow by the bomb.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 200 * 1024  # KiB
    assert not Dataset.objects.exists() and list(uploads.iterdir()) == []


def test_start_refuses_what_it_can_see_without_parsing(developer, validator, settings):
    with pytest.raises(Forbidden, match="developer or admin"):
        dataset_import_start(actor=validator, staged=staged_csv(), name="x")
    with pytest.raises(InvalidInput, match="needs the user who makes it"):
        dataset_import_start(actor=None, staged=staged_csv(), name="x")
    with pytest.raises(InvalidInput, match="1–100 characters"):
        dataset_import_start(actor=developer, staged=staged_csv(), name=" ")
    with pytest.raises(InvalidInput, match="only .csv and .parquet"):
        stage_upload(io.BytesIO(b"PK"), filename="book.xlsx")
    settings.CRUCIBLE_MAX_DATASET_BYTES = 100
    with pytest.raises(UploadTooLarge, match="the limit for a dataset upload is 100 bytes") as error:
        staged_csv()
    assert error.value.status_code == 413
    assert not DatasetImport.objects.exists()


def test_an_import_whose_file_vanished_fails_with_a_reason(developer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        row = dataset_import_start(actor=developer, staged=staged_csv(), name="gone")
    from pathlib import Path

    Path(row.staging_path).unlink()
    dataset_import_execute(row.pk, worker="w")
    row.refresh_from_db()
    assert row.status == "FAILED" and "no longer on disk" in row.error


def test_the_reaper_sweeps_uploads_no_unfinished_import_holds(uploads, developer):
    """A request that died after streaming its file but before its import row existed left the file for ever."""
    import os
    import time

    from governance.services.run_state import run_reap_stale
    from scenarios.services.dataset_imports import upload_dir

    directory = upload_dir()
    orphan, fresh, held = directory / "receiving-orphan.csv", directory / "receiving-fresh.csv", directory / "held.csv"
    for path in (orphan, fresh, held):
        path.write_text("date,x\n")
    an_hour_ago = time.time() - 3600
    os.utime(orphan, (an_hour_ago, an_hour_ago))
    os.utime(held, (an_hour_ago, an_hour_ago))
    DatasetImport.objects.create(created_by=developer, name="held", filename="held.csv", file_format="csv",
                                 size_bytes=7, upload_sha256="0" * 64, seed=0, staging_path=str(held))
    report = run_reap_stale()
    assert report.swept["uploads"] == ["receiving-orphan.csv"]
    assert not orphan.exists() and fresh.exists() and held.exists()  # young, or held by a PENDING import
