"""Writing lineage: idempotency, identity conflicts, legal relations, one audit event per change."""

from __future__ import annotations

import pytest

from governance.errors import Conflict, InvalidInput, NotFound
from governance.models import AuditEvent, LineageEdge, LineageNode
from governance.services.lineage import (
    lineage_activity,
    lineage_agent,
    lineage_agent_for_user,
    lineage_entity,
    lineage_link,
    lineage_record_activity,
)
from tests.governance.lineage.conftest import ALL_NAMES, digest

pytestmark = pytest.mark.django_db

SHA = digest("x")


def events_since(seq: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=seq).order_by("seq"))


def last_seq() -> int:
    event = AuditEvent.objects.order_by("-seq").first()
    return event.seq if event else 0


def test_the_chain_writes_one_audit_event_per_node_and_edge(chain):
    assert LineageNode.objects.count() == len(ALL_NAMES) == 15
    assert LineageEdge.objects.count() == 20
    lineage = AuditEvent.objects.filter(action__startswith="lineage.")
    assert lineage.filter(action="lineage.node_created", object_type="lineage_node").count() == 15
    assert lineage.filter(action="lineage.edge_created", object_type="lineage_edge").count() == 20
    assert lineage.count() == 35
    created = lineage.get(action="lineage.node_created", object_id="dataset:1")
    assert created.actor_username == "dev"
    assert created.after["sha256"] == digest("dataset")
    assert created.after["attributes"] == {"rows": 5030, "source": "arch.data"}
    edge = LineageEdge.objects.get(source=chain.nodes["training"], target=chain.nodes["dataset"])
    assert lineage.get(object_id=str(edge.pk)).after == {
        "source": "training:1", "target": "dataset:1", "relation": "used", "attributes": {},
    }


def test_entity_is_idempotent_and_audited_once(developer):
    seq = last_seq()
    first = lineage_entity(uid="dataset:9", kind="dataset", label="VIX", sha256=SHA, object_type="scenarios.dataset",
                           object_id=9, attributes={"rows": 3}, actor=developer)
    again = lineage_entity(uid="dataset:9", kind="dataset", label="VIX", sha256=SHA, object_type="scenarios.dataset",
                           object_id="9", attributes={"rows": 3}, actor=developer)
    by_reference = lineage_entity(uid="dataset:9", kind="dataset", label="VIX")  # no hash stated: no claim made
    assert first.pk == again.pk == by_reference.pk
    assert first.node_class == "entity" and first.object_id == "9"
    assert [(e.action, e.object_type, e.object_id) for e in events_since(seq)] == [
        ("lineage.node_created", "lineage_node", "dataset:9"),
    ]


def test_a_changed_sha256_is_a_conflict_and_writes_nothing():
    lineage_entity(uid="checkpoint:5", kind="checkpoint", label="weights", sha256=SHA)
    seq = last_seq()
    with pytest.raises(Conflict) as raised:
        lineage_entity(uid="checkpoint:5", kind="checkpoint", label="weights", sha256=digest("other"))
    assert raised.value.status_code == 409
    assert raised.value.details["sha256"] == {"recorded": SHA, "given": digest("other")}
    assert LineageNode.objects.get(uid="checkpoint:5").sha256 == SHA
    assert events_since(seq) == []


def test_bytes_cannot_be_attached_after_the_fact():
    lineage_entity(uid="report:5", kind="report", label="pdf")
    with pytest.raises(Conflict):
        lineage_entity(uid="report:5", kind="report", label="pdf", sha256=SHA)


@pytest.mark.parametrize(
    ("call", "clash"),
    [
        (lambda: lineage_activity(uid="dataset:7", kind="dataset", label="d"), "node_class"),
        (lambda: lineage_entity(uid="dataset:7", kind="checkpoint", label="d"), "kind"),
        (lambda: lineage_entity(uid="dataset:7", kind="dataset", label="d", object_type="scenarios.dataset",
                                object_id=8), "object"),
    ],
)
def test_identity_of_a_node_never_changes(call, clash):
    lineage_entity(uid="dataset:7", kind="dataset", label="d", object_type="scenarios.dataset", object_id=7)
    with pytest.raises(Conflict) as raised:
        call()
    assert clash in raised.value.details


def test_label_and_attributes_may_be_refined_with_an_audit_event():
    lineage_agent(uid="worker:w1", kind="worker", label="w1", attributes={"queue": "gpu"})
    seq = last_seq()
    node = lineage_agent(uid="worker:w1", kind="worker", label="w1 (H100)", attributes={"device": "cuda"})
    assert node.label == "w1 (H100)" and node.attributes == {"queue": "gpu", "device": "cuda"}
    [event] = events_since(seq)
    assert event.action == "lineage.node_updated"
    assert event.before["label"] == "w1" and event.after["label"] == "w1 (H100)"
    assert event.after["attributes"] == {"device": "cuda", "queue": "gpu"}
    lineage_agent(uid="worker:w1", kind="worker", label="w1 (H100)", attributes={"device": "cuda"})
    assert len(events_since(seq)) == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sha256": "AB" * 32}, "sha256"),
        ({"sha256": "ab" * 31}, "sha256"),
        ({"sha256": "zz" * 32}, "sha256"),
        ({"uid": "dataset"}, "uid"),
        ({"uid": "dataset:1/2"}, "uid"),
        ({"uid": "Dataset:1"}, "uid"),
        ({"uid": "dataset: 1"}, "uid"),
        ({"uid": "dataset:" + "1" * 100}, "uid"),
        ({"kind": "Data Set"}, "kind"),
        ({"label": "  "}, "label"),
        ({"attributes": {"bad key": 1}}, "attributes"),
        ({"attributes": {"sha256": "x"}}, "attributes"),
        ({"attributes": {"x": float("nan")}}, "attributes"),
        ({"attributes": {"x": object()}}, "attributes"),
        ({"attributes": ["x"]}, "attributes"),
        ({"object_type": "scenarios.dataset"}, "object_type"),
    ],
)
def test_invalid_entities_are_refused(kwargs, field):
    arguments = {"uid": "dataset:1", "kind": "dataset", "label": "d", **kwargs}
    with pytest.raises(InvalidInput) as raised:
        lineage_entity(**arguments)
    assert field in raised.value.details
    assert not LineageNode.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="lineage.").exists()


def test_agent_for_user(developer):
    agent = lineage_agent_for_user(developer)
    assert (agent.uid, agent.node_class, agent.kind, agent.label) == (f"user:{developer.pk}", "agent", "user", "dev")
    assert (agent.object_type, agent.object_id) == ("auth.user", str(developer.pk))
    assert lineage_agent_for_user(user=developer).pk == agent.pk


LEGAL = {
    "used": ("activity", "entity"),
    "wasGeneratedBy": ("entity", "activity"),
    "wasDerivedFrom": ("entity", "entity"),
    "wasAssociatedWith": ("activity", "agent"),
    "wasAttributedTo": ("entity", "agent"),
    "wasInformedBy": ("activity", "activity"),
}


@pytest.fixture
def one_of_each():
    return {
        "entity": [lineage_entity(uid="dataset:1", kind="dataset", label="a"),
                   lineage_entity(uid="dataset:2", kind="dataset", label="b")],
        "activity": [lineage_activity(uid="training:1", kind="training", label="a"),
                     lineage_activity(uid="training:2", kind="training", label="b")],
        "agent": [lineage_agent(uid="worker:a", kind="worker", label="a"),
                  lineage_agent(uid="worker:b", kind="worker", label="b")],
    }


@pytest.mark.parametrize("relation", sorted(LEGAL))
def test_each_relation_joins_exactly_its_node_classes(one_of_each, relation):
    for source_class in ("entity", "activity", "agent"):
        for target_class in ("entity", "activity", "agent"):
            source, target = one_of_each[source_class][0], one_of_each[target_class][1]
            if LEGAL[relation] == (source_class, target_class):
                edge = lineage_link(source=source, target=target.uid, relation=relation)
                assert (edge.source_id, edge.target_id, edge.relation) == (source.pk, target.pk, relation)
            else:
                with pytest.raises(InvalidInput) as raised:
                    lineage_link(source=source, target=target, relation=relation)
                assert raised.value.details["source_class"] == source_class
    assert LineageEdge.objects.count() == 1


def test_link_is_idempotent_and_refuses_self_loops_and_unknowns(one_of_each):
    a, b = one_of_each["entity"]
    seq = last_seq()
    edge = lineage_link(source=a, target=b, relation="wasDerivedFrom")
    assert lineage_link(source="dataset:1", target="dataset:2", relation="wasDerivedFrom").pk == edge.pk
    assert [e.action for e in events_since(seq)] == ["lineage.edge_created"]
    with pytest.raises(InvalidInput, match="itself"):
        lineage_link(source=a, target="dataset:1", relation="wasDerivedFrom")
    with pytest.raises(InvalidInput) as raised:
        lineage_link(source=a, target=b, relation="wasQuotedFrom")
    assert raised.value.details["relation"] == "wasQuotedFrom"
    with pytest.raises(NotFound):
        lineage_link(source=a, target="dataset:404", relation="wasDerivedFrom")
    with pytest.raises(InvalidInput):
        lineage_link(source=a, target=42, relation="wasDerivedFrom")
    assert LineageEdge.objects.count() == 1
    assert len(events_since(seq)) == 1


def test_record_activity_writes_node_and_edges_once(developer):
    lineage_entity(uid="model_version:3", kind="model_version", label="mv")
    lineage_entity(uid="dataset:3", kind="dataset", label="holdout", sha256=SHA)
    lineage_entity(uid="scenario_set:3", kind="scenario_set", label="s", sha256=digest("s"))
    worker = lineage_agent(uid="worker:gpu-3", kind="worker", label="gpu-3")
    seq = last_seq()

    def record():
        return lineage_record_activity(
            activity_uid="generation:3", kind="generation", label="gen", used=["model_version:3", "dataset:3"],
            generated=["scenario_set:3"], agents=[developer, worker], attributes={"seed": 3}, actor=developer,
        )

    activity = record()
    events = events_since(seq)
    # the activity and the developer's agent; 2 used + 1 generated + 2 associations
    assert sorted((e.action, e.object_type) for e in events) == (
        [("lineage.edge_created", "lineage_edge")] * 5 + [("lineage.node_created", "lineage_node")] * 2
    )
    assert events[0].object_id == "generation:3"
    assert {e.object_id for e in events if e.action == "lineage.node_created"} == {
        "generation:3", f"user:{developer.pk}",
    }
    assert all(e.actor_username == "dev" for e in events)
    assert sorted(activity.out_edges.values_list("relation", "target__uid")) == sorted([
        ("used", "model_version:3"), ("used", "dataset:3"),
        ("wasAssociatedWith", f"user:{developer.pk}"), ("wasAssociatedWith", "worker:gpu-3"),
    ])
    assert list(activity.in_edges.values_list("relation", "source__uid")) == [("wasGeneratedBy", "scenario_set:3")]

    assert record().pk == activity.pk  # a task delivered twice records its lineage once
    assert len(events_since(seq)) == 7


def test_record_activity_is_all_or_nothing():
    lineage_entity(uid="dataset:4", kind="dataset", label="d")
    lineage_agent(uid="worker:w4", kind="worker", label="w4")
    seq = last_seq()
    with pytest.raises(InvalidInput):  # an agent given where an entity was generated
        lineage_record_activity(activity_uid="training:4", kind="training", label="t", used=["dataset:4"],
                                generated=["worker:w4"])
    assert not LineageNode.objects.filter(uid="training:4").exists()
    assert not LineageEdge.objects.exists()
    assert events_since(seq) == []
