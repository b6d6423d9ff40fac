"""Reading lineage: one node, the subgraph around it, the nodes standing for an object.

Edges point from the later node to what it came from (PROV's direction), so walking "up"
follows edges forward (source → target) towards the sources a thing came from, and walking
"down" follows them backward (target → source) towards everything derived from it. "both" is
the union of the two walks — ancestors and descendants — not the undirected neighbourhood
(which would pull in siblings: every other report rendered from the same validation result).
"""

from __future__ import annotations

from typing import Literal

import django_filters
from django.db.models import Q, QuerySet

from governance.access import require_any_role, sees_every_version, visible_versions
from governance.errors import InvalidInput, NotFound
from governance.models import LineageEdge, LineageNode, ModelVersion
from governance.models.lineage import NodeClass, Relation

Direction = Literal["up", "down", "both"]
DIRECTIONS: tuple[str, ...] = ("up", "down", "both")
MIN_DEPTH = 1
MAX_DEPTH = 50


def lineage_node_get(uid: str) -> LineageNode:
    node = LineageNode.objects.filter(uid=uid).first()
    if node is None:
        raise NotFound(f"No lineage node '{uid}'.", details={"uid": uid})
    return node


def lineage_nodes_for_object(object_type: str, object_id: str | int) -> QuerySet[LineageNode]:
    return LineageNode.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("id")


def check_subgraph_params(direction: str, depth: int) -> None:
    if direction not in DIRECTIONS:
        raise InvalidInput(f"direction must be one of {', '.join(DIRECTIONS)}.", details={"direction": direction})
    if isinstance(depth, bool) or not isinstance(depth, int) or not MIN_DEPTH <= depth <= MAX_DEPTH:
        raise InvalidInput(f"depth must be an integer from {MIN_DEPTH} to {MAX_DEPTH}.", details={"depth": depth})


def lineage_subgraph(
    *, uid: str, direction: Direction, depth: int
) -> tuple[list[LineageNode], list[LineageEdge]]:
    """The nodes within ``depth`` hops of ``uid`` walking ``direction``, and the edges walked.

    Breadth-first with one query per level (both directions share it), however wide the level.
    A node is expanded at most once per direction, so cycles end the walk instead of looping.
    Nodes come back in creation order (id), edges likewise; the root is always included.
    Edges returned carry their ``source`` and ``target`` already loaded.
    """
    check_subgraph_params(direction, depth)
    root = lineage_node_get(uid)
    nodes: dict[int, LineageNode] = {root.pk: root}
    edges: dict[int, LineageEdge] = {}
    walk_up, walk_down = direction in ("up", "both"), direction in ("down", "both")
    up_seen, down_seen = {root.pk}, {root.pk}
    up_frontier = {root.pk} if walk_up else set()
    down_frontier = {root.pk} if walk_down else set()

    for _ in range(depth):
        if not up_frontier and not down_frontier:
            break
        condition = Q(pk__in=[])
        if up_frontier:
            condition |= Q(source_id__in=up_frontier)
        if down_frontier:
            condition |= Q(target_id__in=down_frontier)
        next_up: set[int] = set()
        next_down: set[int] = set()
        for edge in LineageEdge.objects.filter(condition).select_related("source", "target"):
            edges.setdefault(edge.pk, edge)
            if edge.source_id in up_frontier and edge.target_id not in up_seen:
                up_seen.add(edge.target_id)
                next_up.add(edge.target_id)
                nodes.setdefault(edge.target_id, edge.target)
            if edge.target_id in down_frontier and edge.source_id not in down_seen:
                down_seen.add(edge.source_id)
                next_down.add(edge.source_id)
                nodes.setdefault(edge.source_id, edge.source)
        up_frontier, down_frontier = next_up, next_down

    return [nodes[pk] for pk in sorted(nodes)], [edges[pk] for pk in sorted(edges)]


class LineageNodeFilter(django_filters.FilterSet):
    kind = django_filters.CharFilter(field_name="kind")
    node_class = django_filters.ChoiceFilter(field_name="node_class", choices=NodeClass.choices)
    object_type = django_filters.CharFilter(field_name="object_type")
    object_id = django_filters.CharFilter(field_name="object_id")
    sha256 = django_filters.CharFilter(field_name="sha256")

    class Meta:
        model = LineageNode
        fields = ["kind", "node_class", "object_type", "object_id", "sha256"]


def lineage_node_list() -> QuerySet[LineageNode]:
    """All nodes in creation order; the API narrows them with ``LineageNodeFilter``."""
    return LineageNode.objects.order_by("id")


# ── visibility (issue 16 §5): lineage follows the visibility of the version ─────────────────────
VERSION_KIND = "model_version"


def lineage_hidden_node_ids(user) -> set[int]:
    """The lineage nodes ``user`` may not see, from the one version rule (governance.access.visible_versions).

    Hidden: the node of a version the user cannot see; everything derived from it (its generation
    runs, scenario sets, validation runs, reports, packets: walking "down"); and what exists only for
    it — its checkpoint and the training activity that generated the checkpoint — unless a version
    the user can see derives from the same checkpoint. Shared sources (datasets, Fed tables, people,
    workers) are never hidden: they are not about one version.
    """
    require_any_role(user)
    if sees_every_version(user):
        return set()
    version_nodes = dict(LineageNode.objects.filter(kind=VERSION_KIND).values_list("pk", "object_id"))
    ids = {int(oid) for oid in version_nodes.values() if str(oid).isdigit()}
    # A node whose version does not exist (written by hand, or a version since removed) hides nothing.
    invisible = {str(pk) for pk in ModelVersion.objects.filter(pk__in=ids).exclude(
        pk__in=visible_versions(user).values("pk")).values_list("pk", flat=True)}
    hidden_roots = {pk for pk, object_id in version_nodes.items() if object_id in invisible}
    if not hidden_roots:
        return set()
    visible_roots = set(version_nodes) - hidden_roots
    hidden, frontier = set(hidden_roots), set(hidden_roots)
    while frontier:  # descendants: the sources of edges pointing at the frontier
        derived = set(LineageEdge.objects.filter(target_id__in=frontier).values_list("source_id", flat=True))
        frontier = derived - hidden - visible_roots
        hidden |= frontier
    # What also derives from a version the user sees stays visible (a report of a visible version that cites a
    # hidden draft's set): the rule is the version's, as on the API and the pages. The walk never passes through
    # a hidden version, so what exists only by way of one stays hidden.
    reachable, frontier = set(visible_roots), set(visible_roots)
    while frontier:
        derived = set(LineageEdge.objects.filter(target_id__in=frontier).values_list("source_id", flat=True))
        frontier = derived - reachable - hidden_roots
        reachable |= frontier
    hidden -= reachable
    # The checkpoints the hidden versions derive from, unless a visible version derives from them too.
    checkpoints = set(LineageEdge.objects.filter(
        source_id__in=hidden_roots, relation=Relation.WAS_DERIVED_FROM, target__kind="checkpoint",
    ).values_list("target_id", flat=True))
    shared = set(LineageEdge.objects.filter(
        source_id__in=visible_roots, relation=Relation.WAS_DERIVED_FROM, target_id__in=checkpoints,
    ).values_list("target_id", flat=True))
    private = checkpoints - shared
    hidden |= private
    # The training activities that generated only private checkpoints.
    generated = LineageEdge.objects.filter(
        relation=Relation.WAS_GENERATED_BY, target__kind="training", source_id__in=checkpoints,
    ).values_list("target_id", "source_id")
    trainings: dict[int, set[int]] = {}
    for training, checkpoint in generated:
        trainings.setdefault(training, set()).add(checkpoint)
    hidden |= {training for training, outputs in trainings.items() if outputs <= private}
    return hidden


def lineage_node_get_for(*, user, uid: str) -> LineageNode:
    """``lineage_node_get`` for a reader: a node they may not see is answered as not existing."""
    node = lineage_node_get(uid)
    if node.pk in lineage_hidden_node_ids(user):
        raise NotFound(f"No lineage node '{uid}'.", details={"uid": uid})
    return node


def lineage_subgraph_for(
    *, user, uid: str, direction: Direction, depth: int
) -> tuple[list[LineageNode], list[LineageEdge]]:
    """``lineage_subgraph`` as ``user`` may see it: 404 for a hidden root, hidden nodes and their edges left out.

    The walk does not pass through hidden nodes either, so nothing is reached only by way of them.
    """
    check_subgraph_params(direction, depth)
    hidden = lineage_hidden_node_ids(user)
    root = lineage_node_get(uid)
    if root.pk in hidden:
        raise NotFound(f"No lineage node '{uid}'.", details={"uid": uid})
    nodes, edges = lineage_subgraph(uid=uid, direction=direction, depth=depth)
    if not hidden:
        return nodes, edges
    kept_edges = [e for e in edges if e.source_id not in hidden and e.target_id not in hidden]
    reached, frontier = {root.pk}, {root.pk}
    while frontier:  # what is still connected to the root without a hidden node on the way
        following = set()
        for edge in kept_edges:
            if edge.source_id in frontier and edge.target_id not in reached:
                following.add(edge.target_id)
            if edge.target_id in frontier and edge.source_id not in reached:
                following.add(edge.source_id)
        reached |= following
        frontier = following
    return ([n for n in nodes if n.pk in reached],
            [e for e in kept_edges if e.source_id in reached and e.target_id in reached])


def lineage_node_list_for(*, user) -> QuerySet[LineageNode]:
    """``lineage_node_list`` without the nodes ``user`` may not see."""
    hidden = lineage_hidden_node_ids(user)
    nodes = lineage_node_list()
    return nodes.exclude(pk__in=hidden) if hidden else nodes
