"""Uploads are safe by construction (issue 16 §4): authorised before the body is read, size-capped while
streaming, parsed by a worker; the API answers 202 with the import's URL."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import multipartparser
from django.test import client as django_test_client
from rest_framework.test import APIClient

from governance.models import AuditEvent
from scenarios.models import Dataset
from scenarios.models.dataset import DatasetImport
from tests.conftest import PASSWORD
from tests.scenarios.services.test_datasets import table

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path):
    settings.CRUCIBLE_UPLOAD_DIR = tmp_path / "uploads"
    return settings.CRUCIBLE_UPLOAD_DIR


@pytest.fixture
def body_reads(monkeypatch):
    """Bytes of the request body the server read (the test client's wsgi.input), and parser calls."""
    seen = {"bytes": 0, "parses": 0}
    read, readline, parse = (django_test_client.FakePayload.read, django_test_client.FakePayload.readline,
                             multipartparser.MultiPartParser.parse)

    def counting_read(self, *args, **kwargs):
        data = read(self, *args, **kwargs)
        seen["bytes"] += len(data)
        return data

    def counting_readline(self, *args, **kwargs):
        data = readline(self, *args, **kwargs)
        seen["bytes"] += len(data)
        return data

    def counting_parse(self, *args, **kwargs):
        seen["parses"] += 1
        return parse(self, *args, **kwargs)

    monkeypatch.setattr(django_test_client.FakePayload, "read", counting_read)
    monkeypatch.setattr(django_test_client.FakePayload, "readline", counting_readline)
    monkeypatch.setattr(multipartparser.MultiPartParser, "parse", counting_parse)
    return seen


def big_csv(megabytes: int = 8) -> SimpleUploadedFile:
    line = b"2020-01-01,1.0,2.0\n"
    return SimpleUploadedFile("big.csv", b"date,A,B\n" + line * (megabytes * 2**20 // len(line)),
                              content_type="text/csv")


def small_csv() -> SimpleUploadedFile:
    return SimpleUploadedFile("panel.csv", table().to_csv(index=False).encode(), content_type="text/csv")


@pytest.fixture
def nobody(make_user):
    return make_user("nobody")  # signed in, no role


def test_a_user_without_a_role_is_refused_before_the_body_is_read(api, nobody, validator, body_reads, uploads):
    for user in (nobody, validator):
        response = api(user).post("/api/v1/datasets/", {"file": big_csv(), "name": "x"}, format="multipart")
        assert response.status_code == 403, response.content
        assert response.json()["error"]["code"] == "missing_role"
        assert "developer or admin" in response.json()["error"]["message"]
    assert body_reads == {"bytes": 0, "parses": 0}
    assert not DatasetImport.objects.exists() and not (uploads.exists() and any(uploads.iterdir()))


def test_a_session_without_a_role_is_refused_before_its_csrf_check_reads_the_body(nobody, developer, body_reads,
                                                                                 django_capture_on_commit_callbacks):
    # With a session, DRF's CSRF check reads request.POST, i.e. parses a multipart body, before any
    # permission class runs: the upload handler's own check must refuse first.
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=nobody.username, password=PASSWORD)
    token = "a" * 32
    client.cookies["csrftoken"] = token
    response = client.post("/api/v1/datasets/", {"file": big_csv(), "name": "x"}, format="multipart",
                           HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "missing_role"
    assert body_reads["bytes"] == 0

    # The same door with a role: the body is read, the import accepted.
    client.login(username=developer.username, password=PASSWORD)
    client.cookies["csrftoken"] = token
    with django_capture_on_commit_callbacks(execute=False):
        accepted = client.post("/api/v1/datasets/", {"file": small_csv(), "name": "ok"}, format="multipart",
                               HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 202, accepted.content
    assert body_reads["bytes"] > 0


def test_a_declared_length_over_the_limit_is_refused_unread(api, developer, body_reads, settings, uploads):
    settings.CRUCIBLE_MAX_DATASET_BYTES = 1024 * 1024
    response = api(developer).post("/api/v1/datasets/", {"file": big_csv(4), "name": "x"}, format="multipart")
    assert response.status_code == 413, response.content
    assert response.json()["error"]["code"] == "too_large"
    assert "the limit for a dataset upload is 1,048,576 bytes" in response.json()["error"]["message"]
    assert body_reads["bytes"] == 0
    assert not DatasetImport.objects.exists()


def test_an_upload_is_cut_off_as_soon_as_it_passes_the_limit(api, developer, body_reads, settings, uploads,
                                                           monkeypatch):
    # Take the Content-Length check out of the way: the count while streaming must stop it on its own
    # (a chunked body, or a length that lies).
    monkeypatch.setattr("scenarios.upload_handlers.FORM_ALLOWANCE_BYTES", 10**12)
    settings.CRUCIBLE_MAX_DATASET_BYTES = 100_000
    file = big_csv(8)
    response = api(developer).post("/api/v1/datasets/", {"file": file, "name": "x"}, format="multipart")
    assert response.status_code == 413, response.content
    assert "big.csv exceeds the limit; the limit for a dataset upload is 100,000 bytes" in \
        response.json()["error"]["message"]
    assert body_reads["bytes"] < 2 * 2**20 < file.size  # stopped within a chunk or two of the limit
    assert list(uploads.iterdir()) == []  # the partial file is deleted
    assert not DatasetImport.objects.exists()


def test_a_json_body_over_the_form_limit_is_413(api, developer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = api(developer).post("/api/v1/datasets/", {"builtin": "vix", "description": "x" * 5_000},
                                   format="json")
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    assert not Dataset.objects.exists()


def test_form_fields_over_their_limit_are_413_not_500(api, developer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = api(developer).post("/api/v1/datasets/", {"file": small_csv(), "name": "x",
                                                          "description": "y" * 5_000}, format="multipart")
    assert response.status_code == 413, response.content
    assert not DatasetImport.objects.exists()


def test_the_fifty_million_row_parquet_is_accepted_then_failed_from_its_footer(api, developer, tmp_path, uploads,
                                                                               django_capture_on_commit_callbacks):
    path = tmp_path / "bomb.parquet"
    schema = pa.schema([("date", pa.timestamp("ns")), ("X", pa.float64())])
    with pq.ParquetWriter(path, schema, use_dictionary=["X"], column_encoding={"date": "DELTA_BINARY_PACKED"},
                          compression="zstd") as writer:
        for start in range(0, 50_000_000, 5_000_000):
            days = np.datetime64("1990-01-01", "ns").astype(np.int64) + np.arange(start, start + 5_000_000)
            writer.write_table(pa.table({"date": days.view("datetime64[ns]"), "X": np.ones(5_000_000)},
                                        schema=schema))
    assert path.stat().st_size < 1_000_000
    upload = SimpleUploadedFile("bomb.parquet", path.read_bytes(), content_type="application/octet-stream")
    with django_capture_on_commit_callbacks(execute=True):
        response = api(developer).post("/api/v1/datasets/", {"file": upload, "name": "bomb"}, format="multipart")
    assert response.status_code == 202, response.content
    row = api(developer).get(response.json()["url"]).json()
    assert row["status"] == "FAILED"
    assert row["error"] == "bomb.parquet has 50,000,000 rows; the limit is 1,000,000"
    assert not Dataset.objects.exists() and list(uploads.iterdir()) == []
    assert AuditEvent.objects.filter(action="dataset_import.failed", object_id=str(row["id"])).exists()


def test_imports_are_seen_by_their_importer_admins_and_auditors_only(api, developer, make_user, auditor,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(developer).post("/api/v1/datasets/", {"file": small_csv(), "name": "mine"},
                                       format="multipart")
    url = response.json()["url"]
    other = make_user("dev2", "developer")
    assert api(other).get(url).status_code == 404
    assert api(other).get("/api/v1/dataset-imports/").json()["count"] == 0
    assert api(auditor).get(url).json()["status"] == "SUCCEEDED"
    listed = api(developer).get("/api/v1/dataset-imports/", {"status": "SUCCEEDED"}).json()
    assert listed["count"] == 1 and listed["results"][0]["dataset"]
    assert api(developer).get("/api/v1/dataset-imports/99999/").status_code == 404


def test_an_upload_records_the_bytes_it_received(api, developer, django_capture_on_commit_callbacks):
    import hashlib

    payload = table().to_csv(index=False).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(developer).post("/api/v1/datasets/", {
            "file": SimpleUploadedFile("p.csv", payload), "name": "p", "risk_classes": json.dumps({"EQ": "equity"})},
            format="multipart")
    row = DatasetImport.objects.get(pk=response.json()["id"])
    assert row.upload_sha256 == hashlib.sha256(payload).hexdigest() and row.size_bytes == len(payload)
    started = AuditEvent.objects.get(action="dataset_import.started", object_id=str(row.pk))
    assert started.after["upload_sha256"] == row.upload_sha256
    dataset = row.dataset
    assert dataset.created_by == developer and dataset.risk_classes["EQ"] == "equity"
    frame = pd.read_csv(io.BytesIO(payload))
    assert dataset.n_rows == len(frame)
