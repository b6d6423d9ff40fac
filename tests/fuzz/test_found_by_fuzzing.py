"""Requests the schema fuzz (tests/fuzz/test_schemathesis.py) or the issue's probe answered with a 500, replayed
as they were found: each must now be refused with a 4xx in the API's error shape."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

FOUND = [
    # schemathesis, GET /api/v1/audit/events/ as every role: PostgreSQL refuses a UTC offset beyond ±15:59
    # (psycopg InvalidTimeZoneDisplacementValue → DataError → 500)
    "/api/v1/audit/events/?timestamp_before=2176-04-14T03:04:03-22:49",
    "/api/v1/audit/events/?timestamp_after=2020-01-01T00:00:00%2B23:59",
    # issue 16 (Low): a number past 64 bits in a numeric filter or in the page size
    "/api/v1/audit/events/?actor=1e20",
    "/api/v1/versions/?validator=1e20",
    "/api/v1/findings/?version=1e20",
    "/api/v1/models/?limit=99999999999999999999",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", FOUND)
def test_a_request_that_once_made_a_server_error_is_refused_as_bad_input(auditor, url):
    client = APIClient()
    client.force_authenticate(auditor)
    response = client.get(url)
    assert response.status_code == 400, (response.status_code, getattr(response, "data", None))
    assert response.json()["error"]["code"]
