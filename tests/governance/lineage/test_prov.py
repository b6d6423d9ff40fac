"""PROV-JSON: checked against an independent reader (the ``prov`` package), byte-for-byte stable."""

from __future__ import annotations

import json
import random
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prov.model import ProvDocument

from governance.prov import CRUCIBLE_NAMESPACE, prov_document, prov_json_bytes, qualified_name
from governance.selectors.lineage import lineage_subgraph
from governance.services.lineage import UID_RE, lineage_entity, lineage_link

pytestmark = pytest.mark.django_db

# An XML NCName restricted to ASCII: what PROV-XML needs of a local name (PROV-N accepts these too).
NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def parse(document: dict | bytes) -> ProvDocument:
    content = document if isinstance(document, bytes) else json.dumps(document)
    return ProvDocument.deserialize(content=content, format="json")


def record_counts(doc: ProvDocument) -> Counter:
    return Counter(type(record).__name__ for record in doc.get_records())


def test_the_whole_chain_parses_back_with_every_record(chain):
    nodes, edges = lineage_subgraph(uid="packet:1", direction="up", depth=50)
    doc = parse(prov_json_bytes(nodes, edges))
    assert record_counts(doc) == {
        "ProvEntity": 7, "ProvActivity": 4, "ProvAgent": 4,
        "ProvUsage": 5, "ProvGeneration": 4, "ProvDerivation": 2, "ProvAssociation": 7,
        "ProvAttribution": 1, "ProvCommunication": 1,
    }
    dataset = doc.get_record("crucible:dataset_1")[0]
    attributes = {str(name): value for name, value in dataset.attributes}
    assert attributes["prov:label"] == "S&P 500 / WTI daily 1999-2018"
    assert str(attributes["prov:type"]) == "crucible:dataset"
    assert attributes["crucible:uid"] == "dataset:1"
    assert attributes["crucible:sha256"] == chain.nodes["dataset"].sha256
    assert attributes["crucible:rows"] == 5030
    assert dataset.identifier.uri == CRUCIBLE_NAMESPACE + "dataset_1"

    worker = doc.get_record("crucible:worker_celery.40gpu-1")[0]
    assert sorted(str(t) for t in worker.get_asserted_types()) == ["crucible:worker", "prov:SoftwareAgent"]
    person = doc.get_record(qualified_name(chain.uid("dev")))[0]
    assert "prov:Person" in {str(t) for t in person.get_asserted_types()}

    usages = {(str(r.args[0]), str(r.args[1])) for r in doc.get_records() if type(r).__name__ == "ProvUsage"}
    assert ("crucible:training_1", "crucible:dataset_1") in usages
    [informed] = [r for r in doc.get_records() if type(r).__name__ == "ProvCommunication"]
    assert (str(informed.args[0]), str(informed.args[1])) == ("crucible:rendering_1", "crucible:validation_1")
    [derived] = [r for r in doc.get_records()
                 if type(r).__name__ == "ProvDerivation" and str(r.args[0]) == "crucible:packet_1"]
    assert str(derived.args[1]) == "crucible:report_1"


def test_a_partial_subgraph_counts(chain):
    nodes, edges = lineage_subgraph(uid="scenario_set:1", direction="both", depth=1)
    document = prov_document(nodes, edges)
    assert set(document) == {"prefix", "entity", "activity", "used", "wasGeneratedBy"}
    assert sorted(document["entity"]) == ["crucible:scenario_set_1"]
    assert sorted(document["activity"]) == ["crucible:generation_1", "crucible:validation_1"]
    assert record_counts(parse(document)) == {"ProvEntity": 1, "ProvActivity": 2, "ProvUsage": 1,
                                              "ProvGeneration": 1}


def test_document_shape(chain):
    nodes, edges = lineage_subgraph(uid="checkpoint:1", direction="up", depth=1)
    edge = edges[0]
    assert prov_document(nodes, edges) == {
        "prefix": {"crucible": CRUCIBLE_NAMESPACE, "prov": "http://www.w3.org/ns/prov#",
                   "xsd": "http://www.w3.org/2001/XMLSchema#"},
        "entity": {"crucible:checkpoint_1": {
            "crucible:sha256": chain.nodes["checkpoint"].sha256, "crucible:uid": "checkpoint:1",
            "prov:label": "diffusion weights", "prov:type": {"$": "crucible:checkpoint", "type": "xsd:QName"},
        }},
        "activity": {"crucible:training_1": {
            "crucible:device": "cpu", "crucible:seed": 7,
            "crucible:train_window": {"$": '["1999-01-04","2014-12-31"]', "type": "crucible:json"},
            "crucible:uid": "training:1", "prov:label": "train diffusion on 1999-2014",
            "prov:type": {"$": "crucible:training", "type": "xsd:QName"},
        }},
        "wasGeneratedBy": {f"_:e{edge.pk}": {"prov:activity": "crucible:training_1",
                                             "prov:entity": "crucible:checkpoint_1"}},
    }


def test_same_subgraph_same_bytes_whatever_the_order(chain, django_assert_num_queries):
    nodes, edges = lineage_subgraph(uid="packet:1", direction="up", depth=50)
    again_nodes, again_edges = lineage_subgraph(uid="packet:1", direction="up", depth=50)
    shuffled_nodes, shuffled_edges = list(again_nodes), list(again_edges)
    random.Random(5).shuffle(shuffled_nodes)
    random.Random(6).shuffle(shuffled_edges)
    with django_assert_num_queries(0):  # a pure function of its arguments
        first = prov_json_bytes(nodes, edges)
        second = prov_json_bytes(nodes, edges)
        third = prov_json_bytes(shuffled_nodes, shuffled_edges)
    assert first == second == third
    assert first == json.dumps(json.loads(first), sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False).encode("utf-8")


def test_edge_attributes_and_awkward_values_round_trip(db):
    a = lineage_entity(uid="dataset:a_b", kind="dataset", label="ünïcode", attributes={
        "none": None, "nested": {"k": [1, 2]}, "flag": True, "ratio": 0.25, "text": "[1, 2]",
    })
    b = lineage_entity(uid="dataset:a:b", kind="dataset", label="b")
    lineage_link(source=a, target=b, relation="wasDerivedFrom", attributes={"step": "resample"})
    nodes, edges = lineage_subgraph(uid="dataset:a_b", direction="up", depth=1)
    document = prov_document(nodes, edges)
    record = document["entity"]["crucible:dataset_a.5Fb"]
    assert record["crucible:none"] == {"$": "null", "type": "crucible:json"}
    assert record["crucible:nested"] == {"$": '{"k":[1,2]}', "type": "crucible:json"}
    assert record["crucible:text"] == "[1, 2]"  # a string stays a string
    assert "crucible:dataset_a.3Ab" in document["entity"]
    [relation] = document["wasDerivedFrom"].values()
    assert relation["crucible:step"] == "resample"
    doc = parse(prov_json_bytes(nodes, edges))
    assert record_counts(doc) == {"ProvEntity": 2, "ProvDerivation": 1}
    parsed = {str(k): v for k, v in doc.get_record("crucible:dataset_a.5Fb")[0].attributes}
    assert parsed["crucible:flag"] is True and parsed["crucible:ratio"] == 0.25
    assert parsed["prov:label"] == "ünïcode"


def test_an_edge_outside_the_nodes_is_refused(chain):
    nodes, edges = lineage_subgraph(uid="packet:1", direction="up", depth=2)
    with pytest.raises(ValueError, match="outside"):
        prov_document(nodes[:1], edges)


@pytest.mark.parametrize(("uid", "name"), [
    ("dataset:12", "crucible:dataset_12"),
    ("scenario_set:3", "crucible:scenario_set_3"),
    ("user:7", "crucible:user_7"),
    ("worker:celery@gpu-1.local", "crucible:worker_celery.40gpu-1.2Elocal"),
    ("checkpoint:" + "ab" * 32, "crucible:checkpoint_" + "ab" * 32),
])
def test_qualified_names(uid, name):
    assert qualified_name(uid) == name


UIDS = st.from_regex(UID_RE, fullmatch=True).filter(lambda uid: len(uid) <= 100)


@settings(max_examples=100, deadline=None)
@given(st.lists(UIDS, min_size=2, max_size=6, unique=True))
def test_qualified_names_are_one_to_one_and_valid_local_names(uids):
    names = [qualified_name(uid) for uid in uids]
    assert len(set(names)) == len(names)
    for name in names:
        prefix, local = name.split(":", 1)
        assert prefix == "crucible" and NCNAME.match(local) and not local.endswith(".")
