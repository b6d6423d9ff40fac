"""The auditor reads and never requests (issue 16 §5, Low); ``VersionOutput``'s people are nullable in the schema."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/v1/reports/", "/api/v1/packets/"])
def test_the_auditor_cannot_request_reports_or_packets(version, auditor, api, url):
    body = {"model_version": version.pk} if "reports" in url else {"report": 1}
    response = api(auditor).post(url, body, format="json")
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "missing_role"
    assert api(auditor).get(url).status_code == 200  # reading stays open


def test_an_auditor_who_is_also_a_validator_may_request(version, drive, auditor, api):
    from django.contrib.auth.models import Group

    auditor.groups.add(Group.objects.get(name="validator"))
    drive(version, "submitted")
    response = api(auditor).post("/api/v1/reports/", {"model_version": version.pk}, format="json")
    assert response.status_code != 403, response.content


def test_version_output_declares_its_empty_people_nullable():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    properties = schema["components"]["schemas"]["VersionOutput"]["properties"]
    for name in ("approver", "validator", "submitted_by"):
        assert properties[name]["type"] == "string" and properties[name]["nullable"] is True, name


def test_a_draft_version_is_served_with_null_people_matching_the_schema(version, developer, api):
    body = api(developer).get(f"/api/v1/versions/{version.pk}/").json()
    assert body["approver"] is None and body["validator"] is None and body["submitted_by"] is None
