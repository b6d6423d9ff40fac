"""The job page: progress of any run started from a page, visible by the kind's own rule, cancellable by its starter."""

from __future__ import annotations

import pytest
from django.test import Client

from governance.models import AuditEvent, RunStatus
from portal.jobs import job_url
from scenarios.models.dataset import DatasetImport
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def pending_import(developer):
    return DatasetImport.objects.create(created_by=developer, name="upload", filename="x.csv", file_format="csv",
                                        size_bytes=10, upload_sha256="0" * 64, seed=0, progress=0.25,
                                        progress_detail={"stage": "parsing"})


def test_the_starter_sees_the_status_progress_and_stage_of_a_pending_run(developer, pending_import):
    response = _client(developer).get(job_url(pending_import))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Dataset import" in body and "Pending" in body and "25 %" in body and "parsing" in body
    assert 'http-equiv="refresh"' in body  # refreshes itself without JavaScript while unfinished
    assert "Cancel this run" in body


def test_the_json_view_gives_the_state_the_script_polls(developer, pending_import):
    state = _client(developer).get(job_url(pending_import) + "?format=json").json()
    assert state == {"status": "PENDING", "percent": 25, "finished": False, "stage": "parsing", "error": "",
                     "cancel_requested": False, "result": None}


def test_a_finished_run_links_its_result_and_stops_refreshing(developer, pending_import, real_dataset):
    pending_import.status = RunStatus.SUCCEEDED
    pending_import.dataset = real_dataset
    pending_import.progress = 1.0
    pending_import.save()
    body = _client(developer).get(job_url(pending_import)).content.decode()
    assert f"/lineage/dataset:{real_dataset.pk}/" in body
    assert 'http-equiv="refresh"' not in body and "Cancel this run" not in body


def test_a_run_the_reader_may_not_see_is_a_404(make_user, pending_import):
    stranger = make_user("other-developer", "developer")
    assert _client(stranger).get(job_url(pending_import)).status_code == 404


def test_unknown_kinds_and_internal_parts_are_404(developer):
    client = _client(developer)
    assert client.get("/jobs/no_such_kind/1/").status_code == 404
    assert client.get("/jobs/validation_part/1/").status_code == 404


def test_the_starter_cancels_a_pending_run_and_it_is_audited(developer, pending_import):
    response = _client(developer).post(f"{job_url(pending_import)}cancel/")
    assert response.status_code == 302
    pending_import.refresh_from_db()
    assert pending_import.status == RunStatus.CANCELLED
    assert AuditEvent.objects.filter(object_type="dataset_import", object_id=str(pending_import.pk),
                                     action="dataset_import.cancel_requested").exists()


def test_someone_else_who_can_see_the_run_cannot_cancel_it(auditor, pending_import):
    client = _client(auditor)
    assert client.get(job_url(pending_import)).status_code == 200
    assert "Cancel this run" not in client.get(job_url(pending_import)).content.decode()
    assert client.post(f"{job_url(pending_import)}cancel/").status_code == 403
    pending_import.refresh_from_db()
    assert pending_import.status == RunStatus.PENDING


def test_signed_out_visitors_are_sent_to_sign_in(client, pending_import):
    response = client.get(job_url(pending_import))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
