"""A dataset import through Redis on a real worker process listening on the cpu queue only."""

from __future__ import annotations

import io

import pytest

from governance.models.runs import RunStatus
from scenarios.models.dataset import DatasetImport
from scenarios.services.dataset_imports import dataset_import_start, stage_upload
from tests.scenarios.services.test_datasets import table
from tests.workers import running_worker, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_an_upload_is_parsed_by_a_cpu_queue_worker(through_redis, developer, settings, tmp_path):
    settings.CRUCIBLE_UPLOAD_DIR = tmp_path / "uploads"
    good = stage_upload(io.BytesIO(table().to_csv(index=False).encode()), filename="panel.csv")
    bad_frame = table()
    bad_frame.loc[10, "date"] = "5138-01-01"
    bad = stage_upload(io.BytesIO(bad_frame.to_csv(index=False).encode()), filename="bad.csv")
    with running_worker(through_redis, "cpu", extra_env={"CRUCIBLE_UPLOAD_DIR": str(settings.CRUCIBLE_UPLOAD_DIR)}):
        ok = dataset_import_start(actor=developer, staged=good, name="panel")
        refused = dataset_import_start(actor=developer, staged=bad, name="bad")
        finished = [RunStatus.SUCCEEDED, RunStatus.FAILED]
        ok = wait_until(lambda: DatasetImport.objects.filter(pk=ok.pk, status__in=finished).first(), timeout=120)
        refused = wait_until(lambda: DatasetImport.objects.filter(pk=refused.pk, status__in=finished).first(),
                             timeout=120)
    assert ok.status == RunStatus.SUCCEEDED, ok.error
    assert ok.worker.startswith("test-") and ok.dataset.n_rows == 80 and ok.dataset.created_by == developer
    assert refused.status == RunStatus.FAILED
    assert refused.error.startswith("row 12, column 'date': date 5138-01-01 is outside the accepted range")
    assert list(settings.CRUCIBLE_UPLOAD_DIR.iterdir()) == []
