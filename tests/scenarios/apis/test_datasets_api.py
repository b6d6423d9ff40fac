import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from scenarios.models import Dataset
from tests.scenarios.services.test_datasets import table

pytestmark = pytest.mark.django_db


def upload(frame, name="panel.csv"):
    return SimpleUploadedFile(name, frame.to_csv(index=False).encode(), content_type="text/csv")


def test_upload_list_and_detail(api, developer, auditor):
    response = api(developer).post("/api/v1/datasets/", {"file": upload(table()), "name": "rates-panel",
                                                          "column_kinds": '{"RATE": "rates"}',
                                                          "risk_classes": '{"EQ": "equity", "RATE": "rates"}'},
                                   format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["column_kinds"] == {"EQ": "prices", "RATE": "rates"} and len(body["sha256"]) == 64
    assert api(auditor).get("/api/v1/datasets/").json()["count"] == 1
    assert api(auditor).get(f"/api/v1/datasets/{body['id']}/").json()["name"] == "rates-panel"
    assert api(auditor).get("/api/v1/datasets/999/").status_code == 404


def test_builtin_over_the_api(api, developer):
    response = api(developer).post("/api/v1/datasets/", {"builtin": "credit_yields"}, format="json")
    assert response.status_code == 201 and response.json()["frequency"] == "monthly"


def test_bad_upload_is_400_naming_the_row(api, developer):
    frame = table()
    frame.loc[3, "date"] = frame.loc[2, "date"]
    response = api(developer).post("/api/v1/datasets/", {"file": upload(frame), "name": "x"}, format="multipart")
    assert response.status_code == 400
    assert "row 5: duplicate date" in response.json()["error"]["message"]
    assert not Dataset.objects.exists()


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
