"""No N+1 queries: a list costs the same number of queries with 2 rows as with 20 (issue 16 §7)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.apis_load import rows
from tests.apis_load.endpoints import ENDPOINTS, list_views

pytestmark = pytest.mark.django_db


def _get(client, url: str) -> tuple[int, int]:
    """(queries, rows listed) of one GET of the whole list."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"limit": 100})
    assert response.status_code == 200, response.content[:500]
    return len(queries), len(response.json()["results"])


def test_the_endpoint_table_lists_every_list_endpoint_under_the_api():
    assert {endpoint.route for endpoint in ENDPOINTS} == set(list_views())


@pytest.mark.parametrize("reader", ["auditor", "developer"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_a_list_costs_as_many_queries_with_20_rows_as_with_2(endpoint, reader, developer, api):
    world = rows.make_world(developer)
    client = api(getattr(world, reader))
    endpoint.add(world, 2)
    queries_2, listed_2 = _get(client, endpoint.url(world))
    endpoint.add(world, 18)
    queries_20, listed_20 = _get(client, endpoint.url(world))
    if reader == "auditor":  # reads every row (a developer: those of the versions they develop)
        assert listed_20 >= listed_2 + 18, (listed_2, listed_20)
    assert queries_20 == queries_2, f"{endpoint.id}: {queries_2} queries for {listed_2} rows, " \
                                    f"{queries_20} for {listed_20}"
