import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from scenarios.models import Dataset
from tests.scenarios.services.test_datasets import table

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def isolated_uploads(settings, tmp_path):
    settings.CRUCIBLE_UPLOAD_DIR = tmp_path / "uploads"
    return settings.CRUCIBLE_UPLOAD_DIR


def upload(frame, name="panel.csv"):
    return SimpleUploadedFile(name, frame.to_csv(index=False).encode(), content_type="text/csv")


def test_upload_list_and_detail(api, developer, auditor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api(developer).post("/api/v1/datasets/", {"file": upload(table()), "name": "rates-panel",
                                                              "column_kinds": '{"RATE": "rates"}',
                                                              "risk_classes": '{"EQ": "equity", "RATE": "rates"}'},
                                       format="multipart")
        # Accepted, not parsed: the import is queued for a worker after commit.
        assert response.status_code == 202, response.content
        accepted = response.json()
        assert accepted["status"] == "PENDING" and accepted["dataset"] is None
        assert accepted["url"] == f"/api/v1/dataset-imports/{accepted['id']}/" == response["Location"]
    assert len(callbacks) == 1
    done = api(developer).get(accepted["url"]).json()
    assert done["status"] == "SUCCEEDED" and done["progress"] == 1.0, done
    assert done["dataset_url"] == f"/api/v1/datasets/{done['dataset']}/"
    body = api(developer).get(done["dataset_url"]).json()
    assert body["column_kinds"] == {"EQ": "prices", "RATE": "rates"} and len(body["sha256"]) == 64
    assert api(auditor).get("/api/v1/datasets/").json()["count"] == 1
    assert api(auditor).get(f"/api/v1/datasets/{body['id']}/").json()["name"] == "rates-panel"
    assert api(auditor).get("/api/v1/datasets/999/").status_code == 404


def test_builtin_over_the_api(api, developer):
    response = api(developer).post("/api/v1/datasets/", {"builtin": "credit_yields"}, format="json")
    assert response.status_code == 201 and response.json()["frequency"] == "monthly"


def test_bad_upload_ends_its_import_failed_naming_the_row(api, developer, django_capture_on_commit_callbacks,
                                                          isolated_uploads):
    frame = table()
    frame.loc[3, "date"] = frame.loc[2, "date"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api(developer).post("/api/v1/datasets/", {"file": upload(frame), "name": "x"},
                                       format="multipart")
    assert response.status_code == 202
    failed = api(developer).get(response.json()["url"]).json()
    assert failed["status"] == "FAILED" and "row 5: duplicate date" in failed["error"]
    assert not Dataset.objects.exists()
    assert list(isolated_uploads.iterdir()) == []  # the received file is gone too


def test_upload_input_errors(api, developer, validator):
    assert api(developer).post("/api/v1/datasets/", {"name": "x"}, format="multipart").status_code == 400
    nameless = api(developer).post("/api/v1/datasets/", {"file": upload(table())}, format="multipart")
    assert nameless.status_code == 400 and "name" in nameless.json()["error"]["details"]
    bad_json = api(developer).post("/api/v1/datasets/", {"file": upload(table()), "name": "x",
                                                         "column_kinds": "{not json"}, format="multipart")
    assert bad_json.status_code == 400
    wrong_type = SimpleUploadedFile("x.xlsx", io.BytesIO(b"PK..").read())
    assert api(developer).post("/api/v1/datasets/", {"file": wrong_type, "name": "x"},
                               format="multipart").status_code == 400
    assert api(validator).post("/api/v1/datasets/", {"file": upload(table()), "name": "x"},
                               format="multipart").status_code == 403
