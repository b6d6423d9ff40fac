"""Bad numbers in a list's query string are a 400 naming the parameter, never a 500; pages are capped
(issue 16 §7 and the Low findings: ``?version=1e20`` → OverflowError, ``?limit=99999999999999999999`` → 500)."""

from __future__ import annotations

import pytest
from django_filters import filters
from django_filters.fields import RangeField
from django_filters.rest_framework import DjangoFilterBackend

from config.pagination import MAX_LIMIT
from governance.api_filters import IntegerRangeField
from tests.apis_load import rows
from tests.apis_load.endpoints import ENDPOINTS, list_views

pytestmark = pytest.mark.django_db

BAD_NUMBERS = ["1e20", "-1", "abc", "99999999999999999999"]
NUMERIC_PARAMETERS = [(endpoint, name) for endpoint in ENDPOINTS for name in endpoint.numeric]


@pytest.fixture
def world(developer):
    return rows.make_world(developer)


def _numeric_query_parameters(view) -> set[str]:
    """The numeric query parameters a list view's filter set declares (a range filter: name_min, name_max)."""
    filterset_class = getattr(view, "filterset_class", None)
    if filterset_class is None and getattr(view, "filterset_fields", None):
        model = view.serializer_class.Meta.model
        filterset_class = DjangoFilterBackend().get_filterset_class(view(), model.objects.none())
    if filterset_class is None:
        return set()
    names = set()
    for name, declared in filterset_class.base_filters.items():
        if isinstance(declared, filters.RangeFilter) and declared.field_class in (RangeField, IntegerRangeField):
            names |= {f"{name}_min", f"{name}_max"}  # (date ranges: name_after / name_before)
        elif isinstance(declared, filters.NumberFilter | filters.ModelChoiceFilter):
            names.add(name)
    return names


def _assert_400_naming(response, name: str) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert name in error["details"] or name.rsplit("_", 1)[0] in error["details"], error


def test_the_table_names_every_numeric_query_parameter_of_every_list_endpoint():
    views = list_views()
    for endpoint in ENDPOINTS:
        assert set(endpoint.numeric) == _numeric_query_parameters(views[endpoint.route]), endpoint.route


@pytest.mark.parametrize("value", BAD_NUMBERS)
@pytest.mark.parametrize(("endpoint", "name"), NUMERIC_PARAMETERS, ids=lambda x: getattr(x, "id", x))
def test_a_bad_number_in_a_filter_is_a_400_naming_the_parameter(endpoint, name, value, world, api):
    response = api(world.auditor).get(endpoint.url(world), {name: value})
    _assert_400_naming(response, name)


@pytest.mark.parametrize("value", ["99999999999999999999", "1e20", "-1", "0", "abc", str(MAX_LIMIT + 1), "2.5"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_a_limit_that_is_not_a_whole_number_from_1_to_the_cap_is_a_400(endpoint, value, world, api):
    _assert_400_naming(api(world.auditor).get(endpoint.url(world), {"limit": value}), "limit")


@pytest.mark.parametrize("value", ["99999999999999999999", "1e20", "-1", "abc"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_an_offset_that_is_not_a_whole_number_in_range_is_a_400(endpoint, value, world, api):
    _assert_400_naming(api(world.auditor).get(endpoint.url(world), {"offset": value}), "offset")


def test_a_page_holds_at_most_the_cap_and_says_where_the_next_one_is(world, api):
    rows.add_audit_events(world, 3)
    client = api(world.auditor)
    page = client.get("/api/v1/audit/events/", {"limit": 2, "offset": 1}).json()
    assert len(page["results"]) == 2
    assert page["count"] >= 4 and "offset=3" in page["next"]
    assert client.get("/api/v1/audit/events/", {"limit": MAX_LIMIT}).status_code == 200
    assert len(client.get("/api/v1/audit/events/").json()["results"]) == min(50, page["count"])


def test_good_numeric_filters_still_filter(world, api):
    rows.add_versions(world, 2)
    client = api(world.auditor)
    version = world.version
    listed = client.get("/api/v1/versions/", {"validator": version.validator_id}).json()["results"]
    assert [row["id"] for row in listed] == [version.pk]
    tier = world.model.tier
    models = client.get("/api/v1/models/", {"tier": tier}).json()["results"]
    assert world.model.model_id in {row["model_id"] for row in models}
    assert client.get("/api/v1/models/", {"tier": 4 - tier if tier != 2 else 1}).json()["count"] >= 0
    events = client.get("/api/v1/audit/events/", {"seq_min": 2, "seq_max": 3}).json()["results"]
    assert [event["seq"] for event in events] == [2, 3]
    policies = client.get("/api/v1/validation-policies/", {"model_tier": 2}).json()["results"]
    assert policies and {row["model_tier"] for row in policies} == {2}
