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

from governance.models import LineageEdge, LineageNode

DOT_TIMEOUT_SECONDS = 10
SHAPES = {"entity": ("ellipse", "#fff7d6"), "activity": ("box", "#dde8ff"), "agent": ("house", "#e7f5e1")}


def dot_string(value: str) -> str:
    """A DOT double-quoted string (escString rules: backslash and quote escaped, no newlines)."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")
    return f'"{text}"'


def dot_source(nodes: Iterable[LineageNode], edges: Iterable[LineageEdge], *, root: str,
               href: Callable[[LineageNode], str]) -> str:
    lines = ["digraph lineage {", '  graph [rankdir=BT, fontname="Helvetica", bgcolor="transparent"];',
             '  node [fontname="Helvetica", fontsize=10, style=filled];', '  edge [fontname="Helvetica", fontsize=8];']
    for node in nodes:
        shape, fill = SHAPES.get(node.node_class, ("ellipse", "#ffffff"))
        sha = f"\\nsha256 {node.sha256[:12]}…" if node.sha256 else ""
        label = dot_string(f"{node.kind}: {node.label}")[:-1] + sha + '"'
        width = ", penwidth=3" if node.uid == root else ""
        lines.append(
            f"  {dot_string(node.uid)} [label={label}, shape={shape}, fillcolor={dot_string(fill)}, "
            f"URL={dot_string(href(node))}, tooltip={dot_string(node.uid)}, target=\"_top\"{width}];"
        )
    for edge in edges:
        lines.append(f"  {dot_string(edge.source.uid)} -> {dot_string(edge.target.uid)} "
                     f"[label={dot_string(edge.relation)}];")
    lines.append("}")
    return "\n".join(lines)


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
