"""Auditor pages: the lineage browser, the audit log with its chain verification, downloads."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe

from governance.audit_verify import verify_audit_chain
from governance.errors import ApplicationError, InvalidInput
from governance.selectors.audit import AuditEventFilter, audit_checkpoint_last, audit_event_list
from governance.selectors.lineage import DIRECTIONS, MAX_DEPTH, lineage_node_get_for, lineage_subgraph_for
from portal import graph, links
from portal.pages import page
from reports.selectors import packet_get, report_get, visible_packets, visible_reports

AUDIT_PAGE_SIZE = 50
START_KINDS = ("packet", "report", "scenario_set", "model_version", "dataset", "validation_result")


@page()
def lineage_start(request):
    uid = request.GET.get("uid", "").strip()
    if uid:
        return redirect(links.lineage_url(uid, request.GET.get("direction", "both"), 3))
    return render(request, "portal/lineage_start.html", {"examples": START_KINDS})


def _depth(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DEPTH:
        raise InvalidInput(f"depth must be a whole number from 1 to {MAX_DEPTH}")
    return int(raw)


@page()
def lineage_node(request, uid: str):
    direction = request.GET.get("direction", "both")
    if direction not in DIRECTIONS:
        raise InvalidInput(f"direction must be one of {', '.join(DIRECTIONS)}")
    depth = _depth(request.GET.get("depth", "3"))
    # The reader's view of the graph: the one version visibility rule (issue 16 §5), 404 for a hidden root.
    root = lineage_node_get_for(user=request.user, uid=uid)
    nodes, edges = lineage_subgraph_for(user=request.user, uid=uid, direction=direction, depth=depth)
    # People and workers (PROV agents) join nearly every activity; drawn, they crowd out the data
    # flow, so the drawing leaves them out unless asked (the list below always has them).
    agents = request.GET.get("agents") == "1"
    drawn = [n for n in nodes if agents or n.node_class != "agent" or n.pk == root.pk]
    drawn_pks = {n.pk for n in drawn}
    svg = graph.render_svg(graph.dot_source(
        drawn, [e for e in edges if e.source_id in drawn_pks and e.target_id in drawn_pks], root=root.uid,
        href=lambda n: links.lineage_url(n.uid, direction, depth)))
    if svg is not None:
        # Graphviz escapes every label and URL for XML; the XML prologue and DOCTYPE are dropped to inline it.
        text = svg.decode("utf-8", errors="replace")
        svg = mark_safe(text[text.find("<svg"):])  # noqa: S308 - Graphviz output from escaped DOT input
    by_pk = {n.pk: n for n in nodes}
    rows = []
    for node in nodes:
        rows.append({
            "node": node,
            "walk": links.lineage_url(node.uid, direction, depth),
            "page": links.object_url(node.object_type, node.object_id),
            "uses": [by_pk[e.target_id] for e in edges if e.source_id == node.pk and e.target_id in by_pk],
            "used_by": [by_pk[e.source_id] for e in edges if e.target_id == node.pk and e.source_id in by_pk],
        })
    return render(request, "portal/lineage.html", {
        "root": root, "rows": rows, "edges": edges, "svg": svg, "direction": direction, "depth": depth,
        "directions": DIRECTIONS, "agents": agents, "root_page": links.object_url(root.object_type, root.object_id),
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
    return render(request, "portal/audit.html", {
        "page_obj": page_obj, "params": request.GET, "query": query.urlencode(),
        "verification": verify_audit_chain(), "checkpoint": audit_checkpoint_last(),
        "rows": [(event, links.object_url(event.object_type, event.object_id)) for event in page_obj],
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

