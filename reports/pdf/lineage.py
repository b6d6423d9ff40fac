"""The lineage diagram: the PROV graph of the documented objects drawn by Graphviz ``dot`` as SVG.

Labels are user text (model names, dataset names): they go into the DOT source as quoted strings with
``"`` and ``\\`` escaped, and Graphviz XML-escapes them in the SVG, so they stay text. No URL/href
attributes are emitted, so the SVG references nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

DOT = shutil.which("dot") or "/usr/bin/dot"
SHAPES = {"entity": ("ellipse", "#fff7d6"), "activity": ("box", "#dbe9f6"), "agent": ("house", "#e8e8e8")}


class LineageDiagramError(Exception):
    pass


def _quote(text: str) -> str:
    cleaned = "".join(ch if ch.isprintable() else " " for ch in str(text))[:60]
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_source(nodes: Sequence, edges: Sequence) -> str:
    lines = ["digraph lineage {", "  rankdir=RL;", '  node [fontname="Helvetica", fontsize=9, style=filled];',
             '  edge [fontname="Helvetica", fontsize=7, color="#777777"];']
    for node in nodes:
        shape, colour = SHAPES.get(node.node_class, ("ellipse", "#ffffff"))
        label = f"{node.kind}: {node.label}"
        lines.append(f"  n{int(node.pk)} [label={_quote(label)}, shape={shape}, fillcolor=\"{colour}\"];")
    for edge in edges:
        lines.append(f"  n{int(edge.source_id)} -> n{int(edge.target_id)} [label={_quote(edge.relation)}];")
    lines.append("}")
    return "\n".join(lines)


def lineage_svg(nodes: Sequence, edges: Sequence, *, timeout: float = 30.0) -> bytes:
    """SVG bytes of the graph (``dot -Tsvg``); raises LineageDiagramError if Graphviz fails."""
    try:
        done = subprocess.run([DOT, "-Tsvg"], input=dot_source(nodes, edges).encode("utf-8"),
                              capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise LineageDiagramError(f"Graphviz dot could not draw the lineage diagram: {error}") from error
    if done.returncode != 0:
        raise LineageDiagramError(f"Graphviz dot failed: {done.stderr.decode('utf-8', 'replace')[:300]}")
    return done.stdout
