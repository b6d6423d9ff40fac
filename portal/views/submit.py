"""The submission preparer's pages (issue 17 §5): generate documentation, build a submission packet.

Who may: the roles that may ask the platform to produce something, ``governance.roles.REQUESTER_ROLES``
(developer, validator, approver, admin). The auditor reads every report and packet and downloads them, but
requests nothing (read-only, as the API: ``reports/apis.py``). A developer builds packets of their own
versions only (``reports.services.packets.require_packet_access``). Both start a run on the run kernel and
answer 303 to the job page; the result is downloaded from ``portal:report_pdf`` / ``portal:packet_zip``.
"""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from governance.access import is_version_developer
from governance.errors import ApplicationError, Forbidden
from governance.models import ModelVersion, RunStatus
from governance.roles import DEVELOPER, REQUESTER_ROLES, user_roles
from governance.selectors.inventory import version_get
from portal.forms_submit import DocumentationForm, PacketForm
from portal.pages import form_errors, page
from reports.selectors import visible_packets, visible_reports
from reports.services.documents import report_start
from reports.services.packets import packet_start
from scenarios.selectors.runs import scenario_set_list

LISTED = 20  # reports and packets listed per version (newest first); the documents page lists them all


def see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def request_refusal(user) -> str:
    """Why ``user`` may not request documents at all ('' when they may)."""
    if not user_roles(user) & set(REQUESTER_ROLES):
        return ("generating documentation or packets needs the role " + ", ".join(REQUESTER_ROLES[:-1])
                + f" or {REQUESTER_ROLES[-1]}; the auditor's role is read-only")
    return ""


def packet_refusal(user, version: ModelVersion) -> str:
    refusal = request_refusal(user)
    if refusal:
        return refusal
    held = user_roles(user) & set(REQUESTER_ROLES)
    if held == {DEVELOPER} and not is_version_developer(user, version):
        return "a developer builds packets of their own versions only"
    return ""


def documentation_form(user, version: ModelVersion, data=None) -> DocumentationForm:
    return DocumentationForm(data, version=version,
                             sets=scenario_set_list(user=user).filter(model_version=version))


def packet_form(user, version: ModelVersion, data=None) -> PacketForm:
    finished = visible_reports(user).filter(model_version=version, status=RunStatus.SUCCEEDED).order_by("-pk")
    return PacketForm(data, reports=finished)


def documents_context(user, version: ModelVersion, *, doc_form=None, pkt_form=None, doc_errors=(),
                      packet_errors=()) -> dict:
    """What ``templates/portal/submit/_version_documents.html`` shows (also through its template tag)."""
    refusal = request_refusal(user)
    pkt_refusal = packet_refusal(user, version)
    pkt_form = pkt_form if pkt_form is not None else (None if pkt_refusal else packet_form(user, version))
    return {
        "version": version,
        "reports": list(visible_reports(user).filter(model_version=version).order_by("-pk")[:LISTED]),
        "packets": list(visible_packets(user).filter(model_version=version).order_by("-pk")[:LISTED]),
        "request_refusal": refusal,
        "packet_refusal": pkt_refusal,
        "doc_form": None if refusal else (doc_form or documentation_form(user, version)),
        "packet_form": pkt_form,
        "has_finished_report": bool(pkt_form is not None and pkt_form.fields["report"].queryset.exists()),
        "doc_errors": list(doc_errors), "packet_errors": list(packet_errors),
    }


def _prepare_page(request, version, status=200, **kwargs):
    return render(request, "portal/submit/prepare.html",
                  {"version": version, "docs": documents_context(request.user, version, **kwargs)}, status=status)


@page()
def submission_page(request, pk: int):
    """The version's documents and the two requests, on a page of their own (the version page includes the same)."""
    return _prepare_page(request, version_get(user=request.user, pk=pk))


@require_POST
@page(*REQUESTER_ROLES)
def documentation_generate(request, pk: int):
    version = version_get(user=request.user, pk=pk)
    form = documentation_form(request.user, version, request.POST)
    errors: list[str] = []
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            report = report_start(actor=request.user, model_version=version,
                                  scenario_sets=list(data["scenario_sets"]),
                                  validation_runs=list(data["validation_runs"]))
        except ApplicationError as error:
            errors, status = form_errors(error), error.status_code
        else:
            return see_other(reverse("portal:job", kwargs={"kind": "report", "pk": report.pk}))
    return _prepare_page(request, version, status=status, doc_form=form, doc_errors=errors)


@require_POST
@page(*REQUESTER_ROLES)
def packet_build(request, pk: int):
    version = version_get(user=request.user, pk=pk)
    refusal = packet_refusal(request.user, version)
    if refusal:
        raise Forbidden(refusal, code="not_allowed")
    form = packet_form(request.user, version, request.POST)
    errors: list[str] = []
    status = 400
    if form.is_valid():
        try:
            packet = packet_start(actor=request.user, report=form.cleaned_data["report"])
        except ApplicationError as error:
            errors, status = form_errors(error), error.status_code
        else:
            return see_other(reverse("portal:job", kwargs={"kind": "packet", "pk": packet.pk}))
    return _prepare_page(request, version, status=status, pkt_form=form, packet_errors=errors)
