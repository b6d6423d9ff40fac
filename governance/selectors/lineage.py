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

from governance.errors import InvalidInput, NotFound
from governance.models import LineageEdge, LineageNode
from governance.models.lineage import NodeClass

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
