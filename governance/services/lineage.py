"""Writing lineage: the services that create things record what they used, made and who did it.

Edges are written when the thing is created, never reconstructed later. Every write is
idempotent (a task delivered twice records its lineage once) and every new node or edge, or a
change to one, writes one audit event in the same transaction; a repeat with identical data
writes nothing.

What a node *is* never changes: its class, its kind, its bytes (``sha256``) and, once recorded,
the object it stands for. Asking for an existing uid with different values there raises
``Conflict``. Its description (label, attributes) may be refined: a different label replaces the
old one and new attribute keys/values are merged in, each such change audited as
``lineage.node_updated``.

uids look like ``<kind>:<id>`` (``dataset:12``, ``worker:celery@gpu-1``): a lower-case prefix, a
colon, then letters, digits and ``. _ @ + : = ~ -``; at most 100 characters. No ``/`` (each
node has a URL) and no spaces. ``governance.prov`` maps them one-to-one onto PROV qualified names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction

from governance.canonical import jsonable
from governance.errors import Conflict, InvalidInput, NotFound
from governance.models import LineageEdge, LineageNode
from governance.models.lineage import NodeClass, Relation
from governance.services.audit import audit_record

UID_RE = re.compile(r"^[a-z][a-z0-9_]*:[A-Za-z0-9._@+:=~-]+$")
KIND_RE = re.compile(r"^[a-z][a-z0-9_]*$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# Attribute keys become PROV qualified names (crucible:<key>), so they keep to a safe alphabet.
ATTRIBUTE_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Serialised as their own PROV attributes (see governance.prov); an attribute may not shadow them.
RESERVED_ATTRIBUTE_KEYS = frozenset({"uid", "sha256", "object_type", "object_id"})

_FIELD_LIMITS = {
    field: LineageNode._meta.get_field(field).max_length
    for field in ("uid", "kind", "label", "object_type", "object_id")
}
_ATTRIBUTE_KEY_MAX = 64
# A node's audit events name it by uid, and an audit event's object_id holds at most 100 characters.
_FIELD_LIMITS["uid"] = min(_FIELD_LIMITS["uid"], 100)

# Which node classes each relation may join, in PROV direction (source → target).
RELATION_CLASSES: dict[str, tuple[str, str]] = {
    Relation.USED: (NodeClass.ACTIVITY, NodeClass.ENTITY),
    Relation.WAS_GENERATED_BY: (NodeClass.ENTITY, NodeClass.ACTIVITY),
    Relation.WAS_DERIVED_FROM: (NodeClass.ENTITY, NodeClass.ENTITY),
    Relation.WAS_ASSOCIATED_WITH: (NodeClass.ACTIVITY, NodeClass.AGENT),
    Relation.WAS_ATTRIBUTED_TO: (NodeClass.ENTITY, NodeClass.AGENT),
    Relation.WAS_INFORMED_BY: (NodeClass.ACTIVITY, NodeClass.ACTIVITY),
}

NodeRef = LineageNode | str


# --- validation ---------------------------------------------------------------------------------

def _check_length(field: str, value: str) -> None:
    limit = _FIELD_LIMITS[field]
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters.", details={field: value[:limit] + "..."})


def _check_uid(uid: Any) -> str:
    if not isinstance(uid, str) or not UID_RE.match(uid):
        raise InvalidInput(
            "A lineage uid is '<kind>:<id>': a lower-case prefix, a colon, then letters, digits or . _ @ + : = ~ -",
            details={"uid": uid if isinstance(uid, str) else repr(uid)},
        )
    _check_length("uid", uid)
    return uid


def _check_kind(kind: Any) -> str:
    if not isinstance(kind, str) or not KIND_RE.match(kind):
        raise InvalidInput("A lineage kind is lower-case letters, digits and '_', starting with a letter.",
                           details={"kind": kind if isinstance(kind, str) else repr(kind)})
    _check_length("kind", kind)
    return kind


def _check_label(label: Any) -> str:
    if not isinstance(label, str) or not label.strip():
        raise InvalidInput("A lineage node needs a non-empty label.", details={"label": label})
    _check_length("label", label)
    return label


def _check_sha256(sha256: Any) -> str:
    if sha256 in ("", None):
        return ""
    if not isinstance(sha256, str) or not SHA256_RE.match(sha256):
        raise InvalidInput("sha256 must be 64 lower-case hexadecimal characters.", details={"sha256": sha256})
    return sha256


def _check_object_ref(object_type: Any, object_id: Any) -> tuple[str, str]:
    object_type = "" if object_type is None else str(object_type)
    object_id = "" if object_id is None else str(object_id)
    if bool(object_type) != bool(object_id):
        raise InvalidInput("object_type and object_id are given together or not at all.",
                           details={"object_type": object_type, "object_id": object_id})
    _check_length("object_type", object_type)
    _check_length("object_id", object_id)
    return object_type, object_id


def _check_attributes(attributes: Any) -> dict[str, Any]:
    if attributes is None:
        return {}
    if not isinstance(attributes, Mapping):
        raise InvalidInput("attributes must be a JSON object.", details={"attributes": repr(attributes)})
    for key in attributes:
        if (not isinstance(key, str) or not ATTRIBUTE_KEY_RE.match(key) or len(key) > _ATTRIBUTE_KEY_MAX
                or key in RESERVED_ATTRIBUTE_KEYS):
            raise InvalidInput(
                "Attribute keys are letters, digits and '_', start with a letter, are at most "
                f"{_ATTRIBUTE_KEY_MAX} characters and are none of {sorted(RESERVED_ATTRIBUTE_KEYS)}.",
                details={"attributes": repr(key)},
            )
    try:
        return jsonable(dict(attributes))
    except (TypeError, ValueError) as exc:  # not JSON, or NaN/Infinity
        raise InvalidInput(f"attributes are not valid JSON: {exc}", details={"attributes": str(exc)}) from exc


# --- nodes --------------------------------------------------------------------------------------

def _node_state(node: LineageNode) -> dict[str, Any]:
    return {
        "uid": node.uid, "node_class": node.node_class, "kind": node.kind, "label": node.label,
        "sha256": node.sha256, "object_type": node.object_type, "object_id": node.object_id,
        "attributes": node.attributes,
    }


def _node_get_or_create(
    *, uid: str, node_class: str, kind: str, label: str, sha256: str = "", object_type: str = "",
    object_id: str = "", attributes: dict[str, Any], actor,
) -> LineageNode:
    node = LineageNode.objects.select_for_update().filter(uid=uid).first()
    if node is None:
        try:
            with transaction.atomic():  # a savepoint: a concurrent creator may win the unique uid
                node = LineageNode.objects.create(
                    uid=uid, node_class=node_class, kind=kind, label=label, sha256=sha256,
                    object_type=object_type, object_id=object_id, attributes=attributes,
                )
        except IntegrityError:
            node = LineageNode.objects.select_for_update().get(uid=uid)
        else:
            audit_record(actor=actor, action="lineage.node_created", object_type="lineage_node", object_id=uid,
                         after=_node_state(node))
            return node

    # The identity of a node never changes.
    clashes = {}
    if node.node_class != node_class:
        clashes["node_class"] = {"recorded": node.node_class, "given": node_class}
    if node.kind != kind:
        clashes["kind"] = {"recorded": node.kind, "given": kind}
    if sha256 and node.sha256 != sha256:
        clashes["sha256"] = {"recorded": node.sha256, "given": sha256}
    if object_type and node.object_type and (node.object_type, node.object_id) != (object_type, object_id):
        clashes["object"] = {"recorded": [node.object_type, node.object_id], "given": [object_type, object_id]}
    if clashes:
        raise Conflict(f"Lineage node '{uid}' is already recorded with different identity.",
                       code="lineage_conflict", details=clashes)

    before = _node_state(node)
    changed = []
    if node.label != label:
        node.label = label
        changed.append("label")
    if object_type and not node.object_type:
        node.object_type, node.object_id = object_type, object_id
        changed += ["object_type", "object_id"]
    merged = {**node.attributes, **attributes}
    if merged != node.attributes:
        node.attributes = merged
        changed.append("attributes")
    if changed:
        node.save(update_fields=changed)
        audit_record(actor=actor, action="lineage.node_updated", object_type="lineage_node", object_id=uid,
                     before=before, after=_node_state(node))
    return node


@transaction.atomic
def lineage_entity(
    *,
    uid: str,
    kind: str,
    label: str,
    sha256: str = "",
    object_type: str = "",
    object_id: str | int = "",
    attributes: Mapping[str, Any] | None = None,
    actor=None,
) -> LineageNode:
    """Record (or find) an entity: a thing with bytes — a dataset, checkpoint, scenario set, report...

    ``sha256`` is the hash of its canonical bytes; an existing entity recorded with other bytes
    raises ``Conflict``: an entity's bytes never change, a changed thing is a new entity.
    """
    object_type, object_id = _check_object_ref(object_type, object_id)
    return _node_get_or_create(
        uid=_check_uid(uid), node_class=NodeClass.ENTITY, kind=_check_kind(kind), label=_check_label(label),
        sha256=_check_sha256(sha256), object_type=object_type, object_id=object_id,
        attributes=_check_attributes(attributes), actor=actor,
    )


@transaction.atomic
def lineage_activity(
    *,
    uid: str,
    kind: str,
    label: str,
    object_type: str = "",
    object_id: str | int = "",
    attributes: Mapping[str, Any] | None = None,
    actor=None,
) -> LineageNode:
    """Record (or find) an activity: a training, generation, validation or rendering run."""
    object_type, object_id = _check_object_ref(object_type, object_id)
    return _node_get_or_create(
        uid=_check_uid(uid), node_class=NodeClass.ACTIVITY, kind=_check_kind(kind), label=_check_label(label),
        object_type=object_type, object_id=object_id, attributes=_check_attributes(attributes), actor=actor,
    )


@transaction.atomic
def lineage_agent(
    *,
    uid: str,
    kind: str,
    label: str,
    object_type: str = "",
    object_id: str | int = "",
    attributes: Mapping[str, Any] | None = None,
    actor=None,
) -> LineageNode:
    """Record (or find) an agent: a person or a worker that bears responsibility for an activity."""
    object_type, object_id = _check_object_ref(object_type, object_id)
    return _node_get_or_create(
        uid=_check_uid(uid), node_class=NodeClass.AGENT, kind=_check_kind(kind), label=_check_label(label),
        object_type=object_type, object_id=object_id, attributes=_check_attributes(attributes), actor=actor,
    )


@transaction.atomic
def lineage_agent_for_user(user, *, actor=None) -> LineageNode:
    """The agent standing for a platform user: uid ``user:<id>``, kind ``user``, label the username."""
    if user is None or getattr(user, "pk", None) is None:
        raise InvalidInput("A lineage agent needs a saved user.", details={"user": repr(user)})
    return lineage_agent(uid=f"user:{user.pk}", kind="user", label=user.get_username(),
                         object_type="auth.user", object_id=user.pk, actor=actor)


# --- edges --------------------------------------------------------------------------------------

def _resolve(ref: Any, role: str) -> LineageNode:
    if isinstance(ref, LineageNode):
        if ref.pk is None:
            raise InvalidInput(f"The {role} node is not saved.", details={role: ref.uid})
        return ref
    if isinstance(ref, str):
        node = LineageNode.objects.filter(uid=ref).first()
        if node is None:
            raise NotFound(f"No lineage node '{ref}'.", details={role: ref})
        return node
    raise InvalidInput(f"The {role} must be a lineage node or its uid.", details={role: repr(ref)})


def _edge_state(edge: LineageEdge, source: LineageNode, target: LineageNode) -> dict[str, Any]:
    return {"source": source.uid, "target": target.uid, "relation": edge.relation, "attributes": edge.attributes}


@transaction.atomic
def lineage_link(
    *,
    source: NodeRef,
    target: NodeRef,
    relation: str,
    attributes: Mapping[str, Any] | None = None,
    actor=None,
) -> LineageEdge:
    """Record (or find) one PROV relation, pointing from the later node to what it came from.

    ``used``: activity → entity; ``wasGeneratedBy``: entity → activity; ``wasDerivedFrom``:
    entity → entity; ``wasAssociatedWith``: activity → agent; ``wasAttributedTo``: entity →
    agent; ``wasInformedBy``: activity → activity. Anything else is ``InvalidInput``.
    """
    if relation not in RELATION_CLASSES:
        raise InvalidInput(f"Unknown lineage relation '{relation}'.",
                           details={"relation": relation, "allowed": sorted(RELATION_CLASSES)})
    attributes = _check_attributes(attributes)
    source_node, target_node = _resolve(source, "source"), _resolve(target, "target")
    if source_node.pk == target_node.pk:
        raise InvalidInput("A lineage node cannot be related to itself.",
                           details={"source": source_node.uid, "target": target_node.uid})
    source_class, target_class = RELATION_CLASSES[relation]
    if (source_node.node_class, target_node.node_class) != (source_class, target_class):
        raise InvalidInput(
            f"'{relation}' relates an {source_class} to an {target_class}, "
            f"not an {source_node.node_class} to an {target_node.node_class}.",
            details={"relation": relation, "source": source_node.uid, "source_class": source_node.node_class,
                     "target": target_node.uid, "target_class": target_node.node_class},
        )

    lookup = {"source": source_node, "target": target_node, "relation": relation}
    edge = LineageEdge.objects.select_for_update().filter(**lookup).first()
    if edge is None:
        try:
            with transaction.atomic():
                edge = LineageEdge.objects.create(**lookup, attributes=attributes)
        except IntegrityError:
            edge = LineageEdge.objects.select_for_update().get(**lookup)
        else:
            audit_record(actor=actor, action="lineage.edge_created", object_type="lineage_edge", object_id=edge.pk,
                         after=_edge_state(edge, source_node, target_node))
            return edge

    merged = {**edge.attributes, **attributes}
    if merged != edge.attributes:
        before = _edge_state(edge, source_node, target_node)
        edge.attributes = merged
        edge.save(update_fields=["attributes"])
        audit_record(actor=actor, action="lineage.edge_updated", object_type="lineage_edge", object_id=edge.pk,
                     before=before, after=_edge_state(edge, source_node, target_node))
    return edge


def _agent_ref(ref: Any, actor) -> NodeRef:
    """An agent may be given as a node, a uid or a platform user."""
    if isinstance(ref, LineageNode | str):
        return ref
    if hasattr(ref, "get_username"):
        return lineage_agent_for_user(ref, actor=actor)
    raise InvalidInput("An agent must be a lineage node, its uid or a user.", details={"agents": repr(ref)})


@transaction.atomic
def lineage_record_activity(
    *,
    activity_uid: str,
    kind: str,
    label: str,
    used: Iterable[NodeRef] = (),
    generated: Iterable[NodeRef] = (),
    agents: Iterable[Any] = (),
    informed_by: Iterable[NodeRef] = (),
    object_type: str = "",
    object_id: str | int = "",
    attributes: Mapping[str, Any] | None = None,
    actor=None,
) -> LineageNode:
    """Record one activity with everything it touched, in one transaction.

    Writes the activity node, then ``activity used entity`` for each of ``used``,
    ``entity wasGeneratedBy activity`` for each of ``generated``, ``activity wasAssociatedWith
    agent`` for each of ``agents`` (nodes, uids or users) and ``activity wasInformedBy other``
    for each of ``informed_by``. The entities and agents given as uids must already exist.
    This is what a training, generation, validation run or a report render calls.
    """
    activity = lineage_activity(uid=activity_uid, kind=kind, label=label, object_type=object_type,
                                object_id=object_id, attributes=attributes, actor=actor)
    for entity in used:
        lineage_link(source=activity, target=entity, relation=Relation.USED, actor=actor)
    for entity in generated:
        lineage_link(source=entity, target=activity, relation=Relation.WAS_GENERATED_BY, actor=actor)
    for agent in agents:
        lineage_link(source=activity, target=_agent_ref(agent, actor), relation=Relation.WAS_ASSOCIATED_WITH,
                     actor=actor)
    for informant in informed_by:
        lineage_link(source=activity, target=informant, relation=Relation.WAS_INFORMED_BY, actor=actor)
    return activity
