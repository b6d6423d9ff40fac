"""Lineage as W3C PROV-JSON (https://www.w3.org/submissions/prov-json/).

A pure function of (nodes, edges): no database access, and the same subgraph always gives the
same bytes (``prov_json_bytes``), because a signed submission packet carries them.

Qualified names. A uid ``<prefix>:<rest>`` becomes ``crucible:<prefix>_<escaped rest>``, where
the rest keeps ``A-Z a-z 0-9 -`` and writes every other character as ``.`` plus two upper-case
hex digits (``.40`` for ``@``, ``.5F`` for ``_``, ``.3A`` for ``:``, ``.2E`` for ``.``). The
prefix has no ``:`` and the escaped rest has no ``_``, so the last ``_`` splits them again and
the mapping is one-to-one; the result starts with a letter and uses only ``A-Z a-z 0-9 _ . -``,
a valid local part in PROV-N and an XML NCName (PROV-XML) alike:
``dataset:12`` → ``crucible:dataset_12``, ``worker:celery@gpu-1`` → ``crucible:worker_celery.40gpu-1``.

Attribute values: strings, integers, booleans and finite floats are written as JSON literals;
anything else (null, lists, objects) as its canonical JSON text typed ``crucible:json``, because
a bare JSON array means "several values" in PROV-JSON.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from governance.canonical import canonical_json

if TYPE_CHECKING:  # only for annotations: this module never touches the database
    from governance.models import LineageEdge, LineageNode

CRUCIBLE_PREFIX = "crucible"
CRUCIBLE_NAMESPACE = "urn:crucible:prov:"
PREFIXES = {
    CRUCIBLE_PREFIX: CRUCIBLE_NAMESPACE,
    "prov": "http://www.w3.org/ns/prov#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

# PROV-JSON key of each relation → (its source role, its target role), in the edge's direction.
RELATION_ROLES: dict[str, tuple[str, str]] = {
    "used": ("prov:activity", "prov:entity"),
    "wasGeneratedBy": ("prov:entity", "prov:activity"),
    "wasDerivedFrom": ("prov:generatedEntity", "prov:usedEntity"),
    "wasAssociatedWith": ("prov:activity", "prov:agent"),
    "wasAttributedTo": ("prov:entity", "prov:agent"),
    "wasInformedBy": ("prov:informed", "prov:informant"),
}
NODE_SECTIONS = {"entity": "entity", "activity": "activity", "agent": "agent"}
# PROV's own agent types, added beside the kind where one fits.
AGENT_TYPES = {"user": "prov:Person", "worker": "prov:SoftwareAgent"}

_PREFIX_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_PLAIN = re.compile(r"[A-Za-z0-9-]")


def qualified_name(uid: str) -> str:
    """The PROV qualified name for a lineage uid (see the module docstring); one-to-one."""
    prefix, sep, rest = uid.partition(":")
    if not sep or not rest or not _PREFIX_RE.match(prefix):
        raise ValueError(f"not a lineage uid: {uid!r}")
    escaped = "".join(ch if _PLAIN.fullmatch(ch) else "".join(f".{b:02X}" for b in ch.encode("utf-8"))
                      for ch in rest)
    return f"{CRUCIBLE_PREFIX}:{prefix}_{escaped}"


def _qname_literal(name: str) -> dict[str, str]:
    return {"$": name, "type": "xsd:QName"}


def _value(value: Any) -> Any:
    if isinstance(value, str | bool | int | float):
        # canonical_json refuses NaN/Infinity; the attributes were checked on the way in.
        return value
    return {"$": canonical_json(value), "type": f"{CRUCIBLE_PREFIX}:json"}


def _attributes(attributes: dict[str, Any] | None) -> dict[str, Any]:
    return {f"{CRUCIBLE_PREFIX}:{key}": _value(attributes[key]) for key in sorted(attributes or {})}


def _node_record(node: LineageNode) -> dict[str, Any]:
    types = [_qname_literal(f"{CRUCIBLE_PREFIX}:{node.kind}")]
    if node.node_class == "agent" and node.kind in AGENT_TYPES:
        types.insert(0, _qname_literal(AGENT_TYPES[node.kind]))
    record: dict[str, Any] = {
        "prov:label": node.label,
        "prov:type": types[0] if len(types) == 1 else types,
        f"{CRUCIBLE_PREFIX}:uid": node.uid,
    }
    if node.sha256:
        record[f"{CRUCIBLE_PREFIX}:sha256"] = node.sha256
    if node.object_type:
        record[f"{CRUCIBLE_PREFIX}:object_type"] = node.object_type
        record[f"{CRUCIBLE_PREFIX}:object_id"] = node.object_id
    record.update(_attributes(node.attributes))
    return dict(sorted(record.items()))


def prov_document(nodes: Iterable[LineageNode], edges: Iterable[LineageEdge]) -> dict[str, Any]:
    """The PROV-JSON document (a dict, keys in sorted order) for these nodes and edges.

    Every edge must join two of the given nodes (by primary key); relation records are keyed
    ``_:e<edge id>``, so an edge keeps its blank-node id in every subgraph that holds it.
    """
    by_pk: dict[Any, LineageNode] = {}
    names: dict[str, str] = {}
    sections: dict[str, dict[str, Any]] = {}
    for node in nodes:
        name = qualified_name(node.uid)
        if names.setdefault(name, node.uid) != node.uid:  # unreachable while qualified_name is one-to-one
            raise ValueError(f"qualified name {name} stands for both {names[name]!r} and {node.uid!r}")
        if node.node_class not in NODE_SECTIONS:
            raise ValueError(f"unknown node class {node.node_class!r} for {node.uid!r}")
        by_pk[node.pk] = node
        sections.setdefault(NODE_SECTIONS[node.node_class], {})[name] = _node_record(node)

    for edge in edges:
        if edge.relation not in RELATION_ROLES:
            raise ValueError(f"unknown relation {edge.relation!r}")
        source, target = by_pk.get(edge.source_id), by_pk.get(edge.target_id)
        if source is None or target is None:
            raise ValueError(f"edge {edge.pk} joins a node outside the given nodes")
        source_role, target_role = RELATION_ROLES[edge.relation]
        record = {source_role: qualified_name(source.uid), target_role: qualified_name(target.uid)}
        record.update(_attributes(edge.attributes))
        sections.setdefault(str(edge.relation), {})[f"_:e{edge.pk}"] = dict(sorted(record.items()))

    document: dict[str, Any] = {"prefix": dict(sorted(PREFIXES.items()))}
    for key in sorted(sections):
        document[key] = dict(sorted(sections[key].items()))
    return dict(sorted(document.items()))


def prov_json_bytes(nodes: Iterable[LineageNode], edges: Iterable[LineageEdge]) -> bytes:
    """The document as canonical JSON bytes (sorted keys, no whitespace, UTF-8): what gets signed."""
    return canonical_json(prov_document(nodes, edges)).encode("utf-8")
