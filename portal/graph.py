"""The lineage subgraph drawn as SVG with Graphviz (``dot``), each node a link to its page.

Labels and URLs are written as quoted DOT strings with every quote and backslash escaped, and
Graphviz escapes them again for SVG/XML, so node labels cannot inject markup. ``dot`` runs as a
subprocess with a fixed argument list and a timeout; when it is missing or too slow the page
shows the HTML list of nodes instead.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from governance.models import LineageEdge, LineageNode

DOT_TIMEOUT_SECONDS = 10
SHAPES = {"entity": ("ellipse", "#fff7d6"), "activity": ("box", "#dde8ff"), "agent": ("house", "#e7f5e1")}


def dot_string(value: str) -> str:
    """A DOT double-quoted string (escString rules: backslash and quote escaped, no newlines)."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")
    return f'"{text}"'


def collapse(nodes: list[LineageNode], edges: list[LineageEdge], kinds: Iterable[str], *, keep: str = ""
             ) -> tuple[list[GraphNode], list[tuple[str, str, str]]]:
    """Nodes and edges to draw, the nodes of each kind in ``kinds`` merged into one node ("12 × worker"):
    edges to and from them go to the merged node, duplicates and self-loops dropped. ``keep`` (the root's
    uid) is never merged."""
    kinds = set(kinds)
    merged: dict[str, list[LineageNode]] = {}
    drawn: list[GraphNode] = []
    uid_of: dict[int, str] = {}
    for node in nodes:
        if node.kind in kinds and node.uid != keep:
            merged.setdefault(node.kind, []).append(node)
            uid_of[node.pk] = f"kind:{node.kind}"
        else:
            uid_of[node.pk] = node.uid
            drawn.append(GraphNode(uid=node.uid, kind=node.kind, label=node.label, sha256=node.sha256,
                                   node_class=node.node_class, node=node))
    for kind, members in merged.items():
        drawn.append(GraphNode(uid=f"kind:{kind}", kind=kind, label=f"{len(members)} × {kind} (collapsed)",
                               sha256="", node_class=members[0].node_class, node=None))
    seen: set[tuple[str, str, str]] = set()
    lines: list[tuple[str, str, str]] = []
    for edge in edges:
        source, target = uid_of.get(edge.source_id), uid_of.get(edge.target_id)
        if source is None or target is None or source == target:
            continue
        key = (source, target, edge.relation)
        if key not in seen:
            seen.add(key)
            lines.append(key)
    return drawn, lines


@dataclass(frozen=True)
class GraphNode:
    uid: str
    kind: str
    label: str
    sha256: str
    node_class: str
    node: LineageNode | None


def dot_source(nodes: Iterable[LineageNode | GraphNode], edges: Iterable[LineageEdge | tuple[str, str, str]], *,
               root: str, href: Callable[[LineageNode | GraphNode], str], matches: Iterable[str] = ()) -> str:
    """DOT for the drawing. Each node gets a stable SVG id (``n_<index>``) and the classes ``kind_<kind>``
    (and ``match`` for the uids in ``matches``), which the page's search and stylesheet use."""
    matches = set(matches)
    lines = ["digraph lineage {", '  graph [rankdir=BT, fontname="Helvetica", bgcolor="transparent"];',
             '  node [fontname="Helvetica", fontsize=10, style=filled];', '  edge [fontname="Helvetica", fontsize=8];']
    for index, node in enumerate(nodes):
        shape, fill = SHAPES.get(node.node_class, ("ellipse", "#ffffff"))
        sha = f"\\nsha256 {node.sha256[:12]}…" if node.sha256 else ""
        label = dot_string(f"{node.kind}: {node.label}")[:-1] + sha + '"'
        width = ", penwidth=3" if node.uid == root else ""
        classes = " ".join(["node_" + ("root" if node.uid == root else "plain"), _css_name(f"kind_{node.kind}"),
                            *(["match"] if node.uid in matches else [])])
        url = href(node)
        link = f"URL={dot_string(url)}, target=\"_top\", " if url else ""
        lines.append(
            f"  {dot_string(node.uid)} [label={label}, shape={shape}, fillcolor={dot_string(fill)}, {link}"
            f"tooltip={dot_string(node.uid)}, id={dot_string(f'n_{index}')}, class={dot_string(classes)}{width}];"
        )
    for edge in edges:
        source, target, relation = edge if isinstance(edge, tuple) else (edge.source.uid, edge.target.uid,
                                                                        edge.relation)
        lines.append(f"  {dot_string(source)} -> {dot_string(target)} [label={dot_string(relation)}];")
    lines.append("}")
    return "\n".join(lines)


def _css_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def render_svg(source: str) -> bytes | None:
    """SVG bytes from DOT source, or None when Graphviz is unavailable or fails."""
    dot = shutil.which("dot") or "/usr/bin/dot"
    try:
        done = subprocess.run([dot, "-Tsvg"], input=source.encode(), capture_output=True,
                              timeout=DOT_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout
