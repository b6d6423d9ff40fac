"""Reading lineage: breadth-first subgraphs, one query per level, exact node sets, cycle safety."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.errors import InvalidInput, NotFound
from governance.selectors.lineage import lineage_node_get, lineage_nodes_for_object, lineage_subgraph
from governance.services.lineage import lineage_activity, lineage_entity, lineage_link, lineage_record_activity
from tests.governance.lineage.conftest import ALL_NAMES

pytestmark = pytest.mark.django_db


def walk(uid: str, direction: str, depth: int) -> tuple[set[str], set[tuple[str, str, str]]]:
    nodes, edges = lineage_subgraph(uid=uid, direction=direction, depth=depth)
    uids = [node.uid for node in nodes]
    keys = [(edge.source.uid, edge.relation, edge.target.uid) for edge in edges]
    assert len(uids) == len(set(uids)) and len(keys) == len(set(keys)), "no duplicates"
    assert {u for key in keys for u in (key[0], key[2])} <= set(uids), "every edge joins returned nodes"
    return set(uids), set(keys)


# Walking up from the packet: what each level adds.
UP_FROM_PACKET = [
    {"packet"},
    {"report"},
    {"rendering"},
    {"validation_result", "validation", "cpu_worker"},
    {"scenario_set", "dataset", "val"},
    {"generation"},
    {"model_version", "dev", "gpu_worker"},
    {"checkpoint"},
    {"training"},
]


def test_up_from_the_packet_level_by_level(chain):
    for depth in range(1, len(UP_FROM_PACKET) + 1):
        expected = set().union(*UP_FROM_PACKET[: depth + 1])
        uids, _ = walk("packet:1", "up", depth)
        assert uids == chain.uids(*expected), depth


def test_up_to_the_sources_reaches_every_node_and_edge(chain):
    uids, edges = walk("packet:1", "up", 50)
    assert uids == chain.uids(*ALL_NAMES)
    assert len(edges) == 20
    assert ("training:1", "used", "dataset:1") in edges
    assert ("model_version:1", "wasDerivedFrom", "checkpoint:1") in edges


def test_up_from_the_checkpoint(chain):
    uids, edges = walk("checkpoint:1", "up", 1)
    assert uids == chain.uids("checkpoint", "training")
    assert edges == {("checkpoint:1", "wasGeneratedBy", "training:1")}
    uids, _ = walk("checkpoint:1", "up", 2)
    assert uids == chain.uids("checkpoint", "training", "dataset", "dev", "gpu_worker")


DOWN_FROM_DATASET = [
    (1, {"dataset", "training", "validation"}),
    (2, {"dataset", "training", "validation", "checkpoint", "validation_result", "rendering"}),
    (3, {"dataset", "training", "validation", "checkpoint", "validation_result", "rendering", "model_version",
         "report"}),
    (4, {"dataset", "training", "validation", "checkpoint", "validation_result", "rendering", "model_version",
         "report", "generation", "packet"}),
    (5, {"dataset", "training", "validation", "checkpoint", "validation_result", "rendering", "model_version",
         "report", "generation", "packet", "scenario_set"}),
]


def test_down_from_the_dataset_level_by_level(chain):
    for depth, expected in DOWN_FROM_DATASET:
        uids, _ = walk("dataset:1", "down", depth)
        assert uids == chain.uids(*expected), depth


def test_down_never_reaches_agents_or_sources(chain):
    uids, edges = walk("dataset:1", "down", 50)
    assert uids == chain.uids(*(set(ALL_NAMES) - {"dev", "val", "gpu_worker", "cpu_worker"}))
    assert all(relation != "wasAssociatedWith" for _, relation, _ in edges)
    uids, _ = walk("packet:1", "down", 50)
    assert uids == {"packet:1"}


def test_down_from_an_agent_finds_what_it_did(chain):
    uids, _ = walk(chain.uid("dev"), "down", 1)
    assert uids == chain.uids("dev", "training", "model_version", "generation")


def test_both_is_ancestors_and_descendants_not_siblings(chain):
    uids, edges = walk("scenario_set:1", "both", 1)
    assert uids == chain.uids("scenario_set", "generation", "validation")
    assert edges == {("scenario_set:1", "wasGeneratedBy", "generation:1"), ("validation:1", "used", "scenario_set:1")}
    uids, _ = walk("scenario_set:1", "both", 2)
    # up: the model version and generation's agents; down: the result and the rendering informed by validation.
    # Not the dataset: validation used it too, but it is neither an ancestor nor a descendant of the scenarios.
    assert uids == chain.uids("scenario_set", "generation", "validation", "model_version", "dev", "gpu_worker",
                              "validation_result", "rendering")
    up, _ = walk("scenario_set:1", "up", 50)
    down, _ = walk("scenario_set:1", "down", 50)
    both, _ = walk("scenario_set:1", "both", 50)
    assert both == up | down
    assert chain.uid("dataset") in up  # through the training run, as an ancestor


def test_one_query_per_level_however_wide(db):
    entities = [lineage_entity(uid=f"dataset:{i}", kind="dataset", label=f"d{i}") for i in range(25)]
    for i, entity in enumerate(entities):
        lineage_link(source=entity, target=lineage_entity(uid=f"raw:{i}", kind="raw", label=f"r{i}"),
                     relation="wasDerivedFrom")
    lineage_record_activity(activity_uid="training:1", kind="training", label="t", used=entities)
    with CaptureQueriesContext(connection) as queries:
        nodes, edges = lineage_subgraph(uid="training:1", direction="up", depth=50)
    assert len(nodes) == 51 and len(edges) == 50
    # the root, level 1 (25 datasets), level 2 (25 raws), level 3 (nothing further): 4 queries, not 51
    assert len(queries) == 4


def test_query_count_on_the_chain(chain):
    with CaptureQueriesContext(connection) as queries:
        lineage_subgraph(uid="packet:1", direction="up", depth=50)
    assert len(queries) == 1 + len(UP_FROM_PACKET)  # root + one per level, the last one finding nothing new
    with CaptureQueriesContext(connection) as queries:
        lineage_subgraph(uid="packet:1", direction="up", depth=3)
    assert len(queries) == 1 + 3


def test_cycles_are_walked_safely(db):
    a = lineage_entity(uid="entity:a", kind="entity", label="a")
    b = lineage_entity(uid="entity:b", kind="entity", label="b")
    c = lineage_entity(uid="entity:c", kind="entity", label="c")
    lineage_link(source=a, target=b, relation="wasDerivedFrom")
    lineage_link(source=b, target=c, relation="wasDerivedFrom")
    lineage_link(source=c, target=a, relation="wasDerivedFrom")
    x, y = lineage_activity(uid="run:x", kind="run", label="x"), lineage_activity(uid="run:y", kind="run", label="y")
    lineage_link(source=x, target=y, relation="wasInformedBy")
    lineage_link(source=y, target=x, relation="wasInformedBy")
    lineage_link(source=x, target=a, relation="used")
    for direction in ("up", "down", "both"):
        uids, edges = walk("entity:a", direction, 50)
        expected = {"entity:a", "entity:b", "entity:c"} | ({"run:x", "run:y"} if direction != "up" else set())
        assert uids == expected, direction
    uids, edges = walk("run:x", "up", 50)
    assert uids == {"run:x", "run:y", "entity:a", "entity:b", "entity:c"}
    assert len(edges) == 6
    uids, _ = walk("entity:a", "up", 1)
    assert uids == {"entity:a", "entity:b"}


@pytest.mark.parametrize(("direction", "depth", "field"), [
    ("sideways", 3, "direction"), ("up", 0, "depth"), ("up", 51, "depth"), ("up", "3", "depth"),
    ("down", True, "depth"),
])
def test_bad_parameters(lone_packet, direction, depth, field):
    with pytest.raises(InvalidInput) as raised:
        lineage_subgraph(uid="packet:1", direction=direction, depth=depth)
    assert field in raised.value.details


def test_node_get_and_for_object(chain):
    assert lineage_node_get("dataset:1").pk == chain.nodes["dataset"].pk
    with pytest.raises(NotFound):
        lineage_node_get("dataset:404")
    with pytest.raises(NotFound):
        lineage_subgraph(uid="dataset:404", direction="up", depth=1)
    assert [n.uid for n in lineage_nodes_for_object("scenarios.dataset", 1)] == ["dataset:1"]
    assert [n.uid for n in lineage_nodes_for_object("governance.modelversion", "1")] == ["model_version:1"]
    assert list(lineage_nodes_for_object("scenarios.dataset", 2)) == []


def test_a_node_of_a_visible_version_stays_visible_though_it_also_cites_a_hidden_draft(
        make_version, developer, make_user):
    """The report of a submitted version that cites a draft's scenario set: the validator sees the report (as on
    the API and the pages), not the draft's set; what exists only by way of the draft stays hidden."""
    from governance.models.inventory import VersionStatus
    from governance.selectors.lineage import lineage_hidden_node_ids
    from governance.services.lineage import lineage_entity, lineage_link

    submitted = make_version("1.0.0")
    submitted.status = VersionStatus.SUBMITTED
    submitted.save(update_fields=["status"])
    draft = make_version("2.0.0")
    validator = make_user("val2", "validator")

    def entity(uid):
        return lineage_entity(uid=uid, kind=uid.split(":")[0], label=uid, sha256="a" * 64, actor=developer)

    draft_set, report = entity("scenario_set:9001"), entity("report:9001")
    draft_only = entity("stress_result:9001")
    lineage_link(source=draft_set, target=f"model_version:{draft.pk}", relation="wasDerivedFrom", actor=developer)
    lineage_link(source=draft_only, target=draft_set, relation="wasDerivedFrom", actor=developer)
    lineage_link(source=report, target=f"model_version:{submitted.pk}", relation="wasDerivedFrom", actor=developer)
    lineage_link(source=report, target=draft_set, relation="wasDerivedFrom", actor=developer)
    hidden = lineage_hidden_node_ids(validator)
    assert report.pk not in hidden
    assert {draft_set.pk, draft_only.pk} <= hidden
