"""Auditor pages: the lineage browser, the audit log with its chain verification, downloads."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe

from governance.audit_verify import verify_audit_chain
from governance.errors import ApplicationError, InvalidInput
from governance.selectors.audit import AuditEventFilter, audit_checkpoint_last, audit_event_list
from governance.selectors.lineage import (
    DIRECTIONS,
    MAX_DEPTH,
    lineage_node_get_for,
    lineage_node_list_for,
    lineage_subgraph_for,
)
from portal import graph, links
from portal.pages import page
from reports.selectors import packet_get, report_get, visible_packets, visible_reports

AUDIT_PAGE_SIZE = 50
START_KINDS = ("packet", "report", "scenario_set", "model_version", "dataset", "validation_result")
PICK_PER_KIND = 100
# Where a walk starts from when the reader does not say: from a packet or a report, up (towards the
# sources) far enough to reach the dataset. Measured on the demo's flow (tests/portal/
# test_explore_versions.py): packet → packet build → report → render → validation result → validation →
# holdout → dataset is 7 hops; the training path (… validation → scenario set → generation → model
# version → checkpoint → training → dataset) is 11. 12 shows both. From a dataset: down (what was
# made of it); from anything else: both ways a few hops.
DEFAULT_WALKS = {"packet": ("up", 12), "report": ("up", 12), "validation_result": ("up", 10),
                 "scenario_set": ("up", 8), "model_version": ("both", 4), "dataset": ("down", 3)}
DEFAULT_WALK = ("both", 3)
SHA_PREFIX_MIN = 6


def default_walk(kind: str) -> tuple[str, int]:
    return DEFAULT_WALKS.get(kind, DEFAULT_WALK)


def node_matches(node, term: str) -> bool:
    """A node matches a search term by its uid or label (any part, any case) or by a SHA-256 prefix."""
    term = term.strip().lower()
    if not term:
        return False
    if len(term) >= SHA_PREFIX_MIN and node.sha256 and node.sha256.lower().startswith(term):
        return True
    return term in node.uid.lower() or term in (node.label or "").lower()


@page()
def lineage_start(request):
    uid = request.GET.get("uid", "").strip()
    if uid:
        node = lineage_node_get_for(user=request.user, uid=uid)
        direction, depth = default_walk(node.kind)
        direction = request.GET.get("direction") or direction
        if direction not in DIRECTIONS:
            raise InvalidInput(f"direction must be one of {', '.join(DIRECTIONS)}")
        return redirect(links.lineage_url(node.uid, direction, depth))
    term = request.GET.get("q", "").strip()[:100]
    entities = lineage_node_list_for(user=request.user).filter(node_class="entity")
    found = []
    if term:
        condition = Q(uid__icontains=term) | Q(label__icontains=term)
        if len(term) >= SHA_PREFIX_MIN:
            condition |= Q(sha256__istartswith=term)
        found = list(entities.filter(condition).order_by("-id")[:50])
    groups: dict[str, list] = {}
    for node in entities.order_by("kind", "-id").only("uid", "kind", "label", "sha256"):
        members = groups.setdefault(node.kind, [])
        if len(members) < PICK_PER_KIND:
            members.append(node)
    ordered = sorted(groups.items(), key=lambda item: (item[0] not in START_KINDS,
                                                       START_KINDS.index(item[0]) if item[0] in START_KINDS else 0,
                                                       item[0]))
    return render(request, "portal/lineage_start.html", {
        "examples": START_KINDS, "groups": ordered, "term": term, "found": found, "searched": bool(term),
        "walks": [(kind, *default_walk(kind)) for kind in START_KINDS],
    })


def _depth(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DEPTH:
        raise InvalidInput(f"depth must be a whole number from 1 to {MAX_DEPTH}")
    return int(raw)


@page()
def lineage_node(request, uid: str):
    # The reader's view of the graph: the one version visibility rule (issue 16 §5), 404 for a hidden root.
    root = lineage_node_get_for(user=request.user, uid=uid)
    default_direction, default_depth = default_walk(root.kind)
    direction = request.GET.get("direction") or default_direction
    if direction not in DIRECTIONS:
        raise InvalidInput(f"direction must be one of {', '.join(DIRECTIONS)}")
    depth = _depth(request.GET.get("depth") or str(default_depth))
    nodes, edges = lineage_subgraph_for(user=request.user, uid=uid, direction=direction, depth=depth)
    # People and workers (PROV agents) join nearly every activity; drawn, they crowd out the data
    # flow, so the drawing leaves them out unless asked (the list below always has them).
    agents = request.GET.get("agents") == "1"
    term = request.GET.get("find", "").strip()[:100]
    kinds = sorted({n.kind for n in nodes})
    collapsed = [k for k in request.GET.getlist("collapse") if k in kinds]
    drawn = [n for n in nodes if agents or n.node_class != "agent" or n.pk == root.pk]
    drawn_pks = {n.pk for n in drawn}
    matches = [n for n in nodes if node_matches(n, term)] if term else []
    visible = links.Links(request.user)

    def href(node) -> str:
        return links.lineage_url(node.uid, direction, depth) if getattr(node, "node", True) is not None else ""

    shown, lines = graph.collapse(drawn, [e for e in edges if e.source_id in drawn_pks and e.target_id in drawn_pks],
                                  collapsed, keep=root.uid)
    svg = graph.render_svg(graph.dot_source(shown, lines, root=root.uid, href=href,
                                            matches={n.uid for n in matches}))
    if svg is not None:
        # Graphviz escapes every label and URL for XML; the XML prologue and DOCTYPE are dropped to inline it.
        text = svg.decode("utf-8", errors="replace")
        svg = mark_safe(text[text.find("<svg"):])  # noqa: S308 - Graphviz output from escaped DOT input
    by_pk = {n.pk: n for n in nodes}
    match_pks = {n.pk for n in matches}
    rows = []
    for node in nodes:
        rows.append({
            "node": node, "match": node.pk in match_pks,
            "walk": links.lineage_url(node.uid, direction, depth),
            "page": visible.url(node.object_type, node.object_id),
            "uses": [by_pk[e.target_id] for e in edges if e.source_id == node.pk and e.target_id in by_pk],
            "used_by": [by_pk[e.source_id] for e in edges if e.target_id == node.pk and e.source_id in by_pk],
        })
    return render(request, "portal/lineage.html", {
        "root": root, "rows": rows, "edges": edges, "svg": svg, "direction": direction, "depth": depth,
        "directions": DIRECTIONS, "agents": agents, "root_page": visible.url(root.object_type, root.object_id),
        "term": term, "matches": matches, "kinds": kinds, "collapsed": collapsed, "drawn_count": len(shown),
        "max_depth": MAX_DEPTH,
    })


@page()
def audit_log(request):
    events = audit_event_list(user=request.user)
    filters = AuditEventFilter(request.GET, queryset=events)
    if not filters.is_valid():
        raise InvalidInput("the filters are not valid: " + "; ".join(
            f"{name}: {' '.join(problems)}" for name, problems in filters.errors.items()))
    paginator = Paginator(filters.qs.order_by("-seq"), AUDIT_PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    # Links only to what the reader may open: validators read the whole trail, drafts included,
    # but a draft version's page is 404 for them (the one visibility rule).
    visible = links.Links(request.user)
    return render(request, "portal/audit.html", {
        "page_obj": page_obj, "params": request.GET, "query": query.urlencode(),
        "verification": verify_audit_chain(), "checkpoint": audit_checkpoint_last(),
        "rows": [(event, visible.url(event.object_type, event.object_id)) for event in page_obj],
    })


@page()
def documents(request):
    return render(request, "portal/documents.html", {
        "reports": visible_reports(request.user)[:200], "packets": visible_packets(request.user)[:200],
    })


def _file_response(obj, path_function_name: str, content_type: str):
    from importlib import import_module

    if obj.status != "SUCCEEDED" or not obj.storage_path:
        raise Http404("this file has not been produced (yet)")
    module = "reports.services.documents" if path_function_name == "report_pdf_path" else "reports.services.packets"
    try:
        path = getattr(import_module(module), path_function_name)(obj)
    except (ImportError, AttributeError) as error:
        raise Http404("downloads are not available") from error
    except ApplicationError:
        raise
    if not path.is_file():
        raise Http404("the stored file is missing")
    return FileResponse(path.open("rb"), as_attachment=True, filename=links.download_name(obj),
                        content_type=content_type)


@page()
def report_pdf(request, pk: int):
    return _file_response(report_get(request.user, pk), "report_pdf_path", "application/pdf")


@page()
def packet_zip(request, pk: int):
    return _file_response(packet_get(request.user, pk), "packet_path", "application/zip")

