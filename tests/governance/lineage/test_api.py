"""The lineage API: subgraph JSON, PROV-JSON, node search; roles, 401/403/404/400 in the error shape."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator
from prov.model import ProvDocument

from governance import roles
from governance.apis import lineage as lineage_api
from governance.prov import prov_document
from governance.selectors.lineage import lineage_subgraph
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

BASE = "/api/v1/lineage/"


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


@pytest.mark.parametrize("role", roles.ALL_ROLES)
def test_every_role_may_read(lone_packet, make_user, api, role):
    client = api(make_user(f"reader-{role}", role))
    assert client.get(f"{BASE}packet:1/").status_code == 200
    assert client.get(f"{BASE}packet:1/prov/").status_code == 200
    assert client.get(BASE).status_code == 200


@pytest.mark.parametrize("url", [f"{BASE}packet:1/", f"{BASE}packet:1/prov/", BASE])
def test_no_role_is_forbidden_and_anonymous_is_unauthenticated(lone_packet, make_user, api, url):
    assert_error(api(make_user("nobody")).get(url), 403, "missing_role")
    assert_error(api().get(url), 401, "not_authenticated")


def test_subgraph_defaults_to_three_levels_up(chain, auditor, api):
    response = api(auditor).get(f"{BASE}packet:1/")
    assert response.status_code == 200
    body = response.json()
    assert (body["root"], body["direction"], body["depth"]) == ("packet:1", "up", 3)
    assert {n["uid"] for n in body["nodes"]} == chain.uids(
        "packet", "report", "rendering", "validation_result", "validation", "cpu_worker")
    assert {(e["source"], e["relation"], e["target"]) for e in body["edges"]} == {
        ("packet:1", "wasDerivedFrom", "report:1"),
        ("report:1", "wasGeneratedBy", "rendering:1"),
        ("rendering:1", "used", "validation_result:1"),
        ("rendering:1", "wasAssociatedWith", "worker:celery@cpu-1"),
        ("rendering:1", "wasInformedBy", "validation:1"),
    }
    assert all(set(e) == {"source", "target", "relation"} for e in body["edges"])
    packet = next(n for n in body["nodes"] if n["uid"] == "packet:1")
    assert packet == {
        "uid": "packet:1", "node_class": "entity", "kind": "packet", "label": "submission packet",
        "sha256": chain.nodes["packet"].sha256, "object_type": "", "object_id": "", "attributes": {},
    }


def test_subgraph_direction_and_depth(chain, developer, api):
    body = api(developer).get(f"{BASE}dataset:1/", {"direction": "down", "depth": 1}).json()
    assert {n["uid"] for n in body["nodes"]} == {"dataset:1", "training:1", "validation:1"}
    assert (body["direction"], body["depth"]) == ("down", 1)
    body = api(developer).get(f"{BASE}scenario_set:1/?direction=both&depth=1").json()
    assert {n["uid"] for n in body["nodes"]} == {"scenario_set:1", "generation:1", "validation:1"}
    dataset = next(n for n in api(developer).get(f"{BASE}dataset:1/").json()["nodes"] if n["uid"] == "dataset:1")
    assert dataset["object_type"] == "scenarios.dataset" and dataset["object_id"] == "1"
    assert dataset["attributes"] == {"rows": 5030, "source": "arch.data"}


def test_uids_with_colons_and_at_signs_route(chain, auditor, api):
    client = api(auditor)
    assert client.get(f"{BASE}worker:celery@gpu-1/").json()["root"] == "worker:celery@gpu-1"
    assert client.get(f"{BASE}dataset%3A1/").json()["root"] == "dataset:1"


def test_a_slash_never_reaches_a_view(lone_packet, auditor, api):
    assert api(auditor).get(f"{BASE}packet:1/").status_code == 200
    assert_error(api(auditor).get(f"{BASE}packet:1/extra/"), 404)
    assert_error(api(auditor).get(f"{BASE}packet%2F1/"), 404)


@pytest.mark.parametrize("suffix", ["", "prov/"])
def test_unknown_uid_is_404(lone_packet, auditor, api, suffix):
    error = assert_error(api(auditor).get(f"{BASE}dataset:404/{suffix}"), 404, "not_found")
    assert error["details"] == {"uid": "dataset:404"}


@pytest.mark.parametrize("suffix", ["", "prov/"])
@pytest.mark.parametrize(("query", "parameter"), [
    ({"direction": "sideways"}, "direction"),
    ({"depth": 0}, "depth"),
    ({"depth": 51}, "depth"),
    ({"depth": "three"}, "depth"),
    ({"depth": "2.5"}, "depth"),
])
def test_bad_parameters_are_400_naming_the_parameter(lone_packet, auditor, api, suffix, query, parameter):
    error = assert_error(api(auditor).get(f"{BASE}packet:1/{suffix}", query), 400, "invalid")
    assert set(error["details"]) == {parameter}
    assert parameter in error["message"]


def test_depth_bounds_are_accepted(chain, auditor, api):
    assert api(auditor).get(f"{BASE}packet:1/?depth=&direction=").json()["depth"] == 3  # empty means default
    assert api(auditor).get(f"{BASE}packet:1/", {"depth": 1}).status_code == 200
    assert len(api(auditor).get(f"{BASE}packet:1/", {"depth": 50}).json()["nodes"]) == 15


def test_prov_endpoint_is_the_prov_json_document(chain, validator, api):
    response = api(validator).get(f"{BASE}packet:1/prov/", {"depth": 50})
    assert response.status_code == 200
    body = response.json()
    nodes, edges = lineage_subgraph(uid="packet:1", direction="up", depth=50)
    assert body == prov_document(nodes, edges)
    doc = ProvDocument.deserialize(content=json.dumps(body), format="json")
    assert len(doc.get_records()) == 15 + 20
    again = api(validator).get(f"{BASE}packet:1/prov/", {"depth": 50})
    assert again.content == response.content


def test_node_list_filters_and_paginates(chain, auditor, api):
    client = api(auditor)
    body = client.get(BASE, {"kind": "dataset"}).json()
    assert body["count"] == 1 and [n["uid"] for n in body["results"]] == ["dataset:1"]
    body = client.get(BASE, {"object_type": "scenarios.dataset", "object_id": "1"}).json()
    assert [n["uid"] for n in body["results"]] == ["dataset:1"]
    body = client.get(BASE, {"node_class": "agent"}).json()
    assert {n["uid"] for n in body["results"]} == chain.uids("dev", "val", "gpu_worker", "cpu_worker")
    page = client.get(BASE, {"limit": 4, "offset": 4}).json()
    assert page["count"] == 15 and len(page["results"]) == 4 and page["next"] and page["previous"]
    assert set(page["results"][0]) == {"uid", "node_class", "kind", "label", "sha256", "object_type", "object_id",
                                       "attributes"}
    assert client.get(BASE, {"kind": "nothing"}).json()["count"] == 0
    error = assert_error(client.get(BASE, {"node_class": "vegetable"}), 400, "invalid")
    assert "node_class" in error["details"]


def test_openapi_schema_documents_the_endpoints():
    # Only this module's endpoints, under the prefix governance.urls is spliced into.
    generator = SchemaGenerator(patterns=[path("api/v1/", include(lineage_api.urlpatterns))])
    schema = generator.get_schema(request=None, public=True)
    paths = schema["paths"]
    # component names are global to the schema: ours are prefixed so they never collide with another app's
    assert set(schema["components"]["schemas"]) == {
        "LineageErrorBody", "LineageErrorOutput", "LineageEdgeOutput", "LineageNodeOutput",
        "LineageSubgraphOutput", "PaginatedLineageNodeOutputList",
    }
    subgraph = paths["/api/v1/lineage/{uid}/"]["get"]
    assert subgraph["operationId"] == "lineage_subgraph"
    assert {p["name"] for p in subgraph["parameters"]} == {"uid", "direction", "depth"}
    assert {"200", "400", "401", "403", "404"} <= set(subgraph["responses"])
    assert paths["/api/v1/lineage/{uid}/prov/"]["get"]["operationId"] == "lineage_prov"
    listing = paths["/api/v1/lineage/"]["get"]
    assert {"kind", "object_type", "object_id", "limit", "offset"} <= {p["name"] for p in listing["parameters"]}


def test_admin_is_read_only(chain, client):
    User.objects.create_superuser("root", password=PASSWORD)
    client.login(username="root", password=PASSWORD)
    for model in ("lineagenode", "lineageedge"):
        assert client.get(f"/admin/governance/{model}/").status_code == 200
        assert client.get(f"/admin/governance/{model}/add/").status_code == 403
    node = chain.nodes["dataset"]
    page = client.get(f"/admin/governance/lineagenode/{node.pk}/change/")
    assert page.status_code == 200 and b"dataset:1" in page.content and b'name="_save"' not in page.content
    assert client.post(f"/admin/governance/lineagenode/{node.pk}/delete/").status_code == 403
