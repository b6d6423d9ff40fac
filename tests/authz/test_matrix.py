"""The authorization matrix, generated from the one table in ``tests/authz/matrix.py``: every operation of the
OpenAPI schema, as every principal, on the seeded world, answers the status the table says."""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.authz.matrix import AUDITOR_WRITES_ALLOWED, MATRIX, expected_status
from tests.authz.paths import fill, path_parameters, schema_operations
from tests.authz.requests import DRAFT_PATHS, request_for
from tests.authz.world import ANONYMOUS, AUDITOR, PRINCIPALS, world  # noqa: F401  (the module-scoped seed)

OPERATIONS = schema_operations()
DISCOVER = os.environ.get("CRUCIBLE_AUTHZ_DISCOVER", "") == "1"


def test_every_operation_in_the_schema_has_a_row_in_the_matrix_and_every_row_is_in_the_schema():
    in_schema, in_table = set(OPERATIONS), set(MATRIX)
    missing, stale = sorted(in_schema - in_table), sorted(in_table - in_schema)
    assert not missing, f"operations without a row in tests/authz/matrix.py: {missing}"
    assert not stale, f"rows for operations the schema no longer has: {stale}"


def test_every_row_of_the_matrix_names_every_principal():
    for operation, row in MATRIX.items():
        assert len(row) == len(PRINCIPALS), f"{operation}: {len(row)} statuses for {len(PRINCIPALS)} principals"


def test_the_matrix_says_the_auditor_is_read_only():
    writes = {op: row for op, row in MATRIX.items() if op[0] != "GET" and op not in AUDITOR_WRITES_ALLOWED}
    allowed = sorted(op for op, row in writes.items() if row[PRINCIPALS.index(AUDITOR)] < 400)
    assert writes and not allowed, f"the auditor may write: {allowed}"


def send(seeded, principal: str, method: str, template: str):
    version = "draft" if (method, template) in DRAFT_PATHS else "version"
    url = fill(template, path_parameters(seeded, template, version=version))
    body, fmt = request_for(seeded, principal, method, template)
    client = APIClient()
    if principal != ANONYMOUS:
        client.credentials(HTTP_AUTHORIZATION=f"Token {seeded.tokens[principal]}")
    if method == "GET":
        return client.get(url)
    return getattr(client, method.lower())(url, body, format=fmt)


@pytest.mark.django_db
@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_the_operation_answers_the_principal_with_the_status_the_matrix_says(world, principal, method, path):  # noqa: F811
    cache.clear()  # throttles and lockouts count per test, not across the matrix
    response = send(world, principal, method, path)
    if DISCOVER:
        print(f"AUTHZ\t{method}\t{path}\t{principal}\t{response.status_code}")
    expected = expected_status(method, path, principal)
    assert response.status_code == expected, (
        f"{method} {path} as {principal}: expected {expected}, got {response.status_code}: "
        f"{getattr(response, 'data', None) if response.status_code != 200 else ''}")
