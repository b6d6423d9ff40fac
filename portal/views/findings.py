"""The findings register across models, and one finding with its history and the actions open to the reader.

Remediation is recorded by the finding's owner or a developer of the version; closing (validator) and
accepting the risk (approver) are e-signed: the password is re-entered and checked under the one lock-out
policy of every password door (``governance.services.login_guard.signature_password_check``), a refusal is
audited like a refused version signature, and the signature is audited with the finding's transition in one
transaction.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from governance.access import independence_conflict, is_version_developer, visible_models
from governance.errors import ApplicationError, Forbidden
from governance.models import Finding
from governance.models.review import OPEN_FINDING_STATUSES
from governance.roles import ADMIN, APPROVER, DEVELOPER, VALIDATOR, has_role
from governance.selectors.audit import audit_event_list
from governance.selectors.inventory import finding_get, finding_list
from governance.services.review import finding_accept_risk, finding_close, finding_remediate
from portal.forms_validate import FindingFilterForm, RemediateForm, ResolveForm
from portal.pages import page
from portal.views.validate import apply_error, see_other

PAGE_SIZE = 25
SIGNATURE_MEANINGS = {"close": "closed as independent validator", "accept_risk": "risk accepted as approver"}
ACTION_LABELS = {"close": "close", "accept_risk": "accept risk"}


# ── the register ──────────────────────────────────────────────────────────────────────────────
def findings_filtered(*, user, severity: str = "", status: str = "", model=None, owner=None, assignee=None,
                      overdue: bool = False, sort: str = "due", today: dt.date | None = None) -> QuerySet[Finding]:
    """The visible findings matching the filters; ``overdue``: due before ``today`` and still open."""
    findings = finding_list(user=user).select_related("version__model__owner")
    if severity:
        findings = findings.filter(severity=severity)
    if status == "open_any":
        findings = findings.filter(status__in=OPEN_FINDING_STATUSES)
    elif status:
        findings = findings.filter(status=status)
    if model is not None:
        findings = findings.filter(version__model=model)
    if owner is not None:
        findings = findings.filter(version__model__owner=owner)
    if assignee is not None:
        findings = findings.filter(owner=assignee)
    if overdue:
        findings = findings.filter(due_date__lt=today or timezone.localdate(), status__in=OPEN_FINDING_STATUSES)
    order = ("-due_date", "-pk") if sort == "-due" else ("due_date", "pk")
    return findings.order_by(*order)


@page()
def register(request):
    visible = finding_list(user=request.user)
    models = visible_models(request.user).filter(
        pk__in=visible.values("version__model")).order_by("model_id")
    users = get_user_model().objects.order_by("username")
    form = FindingFilterForm(request.GET or None, models=models,
                             owners=users.filter(pk__in=visible.values("version__model__owner")),
                             assignees=users.filter(pk__in=visible.values("owner")))
    status = 200
    if form.is_bound and not form.is_valid():
        findings, status = Finding.objects.none(), 400
    else:
        data = form.cleaned_data if form.is_bound else {}
        findings = findings_filtered(user=request.user, **{k: v for k, v in data.items() if v not in ("", None)})
    paginator = Paginator(findings, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "portal/validate/findings.html", {
        "form": form, "page_obj": page_obj, "query": query.urlencode(), "today": timezone.localdate(),
        "open_statuses": OPEN_FINDING_STATUSES}, status=status)


# ── one finding ───────────────────────────────────────────────────────────────────────────────
def remediate_refusal(user, finding: Finding) -> str:
    if not (has_role(user, DEVELOPER) or has_role(user, VALIDATOR) or has_role(user, APPROVER)
            or has_role(user, ADMIN)):
        return "recording remediation needs a platform role that works on models"
    if not (finding.owner_id == user.pk or is_version_developer(user, finding.version)):
        return "only the finding's owner or a developer of the version records remediation"
    if not finding.is_open:
        return f"the finding is {finding.get_status_display().lower()}"
    return ""


def resolve_refusals(user, finding: Finding) -> dict[str, str]:
    """Per resolving action, why ``user`` may not take it ('' when they may)."""
    refusals = {}
    for action, role in (("close", VALIDATOR), ("accept_risk", APPROVER)):
        if not has_role(user, role):
            refusals[action] = f"needs the role {role}"
            continue
        conflict = independence_conflict(user, finding.version)
        if conflict:
            refusals[action] = f"you are {conflict} (segregation of duties)"
        elif not finding.is_open:
            refusals[action] = f"the finding is {finding.get_status_display().lower()}"
        else:
            refusals[action] = ""
    return refusals


def _context(request, finding: Finding, *, remediate_form=None, resolve_form=None, errors=()) -> dict:
    remediate = remediate_refusal(request.user, finding)
    refusals = resolve_refusals(request.user, finding)
    allowed = [a for a, why in refusals.items() if not why]
    history = audit_event_list(user=request.user).filter(
        object_type="finding", object_id=str(finding.pk)).order_by("-seq")[:100]
    return {
        "finding": finding, "version": finding.version, "history": history, "errors": list(errors),
        "overdue": finding.is_open and finding.due_date < timezone.localdate(),
        "remediate_refusal": remediate,
        "remediate_form": None if remediate else remediate_form or RemediateForm(),
        "resolve_refusals": [(ACTION_LABELS[a], why) for a, why in refusals.items()],
        "resolve_form": (resolve_form or ResolveForm(actions=allowed)) if allowed else None,
        "meanings": [(ACTION_LABELS[a], SIGNATURE_MEANINGS[a]) for a in allowed],
    }


@page()
def detail(request, pk: int):
    finding = finding_get(user=request.user, pk=pk)
    return render(request, "portal/validate/finding.html", _context(request, finding))


@require_POST
@page()
def remediate(request, pk: int):
    finding = finding_get(user=request.user, pk=pk)
    refusal = remediate_refusal(request.user, finding)
    if refusal:
        raise Forbidden(f"You cannot record remediation of finding #{finding.pk}: {refusal}.")
    form = RemediateForm(request.POST)
    errors: list[str] = []
    status = 400
    if form.is_valid():
        try:
            finding = finding_remediate(actor=request.user, finding=finding,
                                        remediation_notes=form.cleaned_data["remediation_notes"])
        except ApplicationError as error:
            errors, status = apply_error(form, error), error.status_code
        else:
            messages.success(request, f"Remediation of finding #{finding.pk} recorded; a validator verifies it.")
            return see_other(reverse("portal:finding", args=[finding.pk]))
    return render(request, "portal/validate/finding.html",
                  _context(request, finding, remediate_form=form, errors=errors), status=status)


def finding_resolve_signed(*, actor, finding: Finding, action: str, resolution: str, password: str) -> Finding:
    """Close or accept the risk of a finding: the services sign (password re-entry) and audit a refusal."""
    service = {"close": finding_close, "accept_risk": finding_accept_risk}[action]
    return service(actor=actor, finding=finding, resolution=resolution, password=password)


@require_POST
@page()
def resolve(request, pk: int):
    finding = finding_get(user=request.user, pk=pk)
    refusals = resolve_refusals(request.user, finding)
    allowed = [a for a, why in refusals.items() if not why]
    if not allowed:
        reasons = "; ".join(f"{a.replace('_', ' ')}: {why}" for a, why in refusals.items())
        raise Forbidden(f"You cannot close finding #{finding.pk} or accept its risk ({reasons}).")
    form = ResolveForm(request.POST, actions=allowed)
    errors: list[str] = []
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            finding = finding_resolve_signed(actor=request.user, finding=finding, action=data["action"],
                                             resolution=data["resolution"], password=data["password"])
        except ApplicationError as error:
            errors, status = apply_error(form, error), error.status_code
            finding.refresh_from_db()
        else:
            messages.success(request, f"Finding #{finding.pk}: {SIGNATURE_MEANINGS[data['action']]}; "
                                      f"status is now {finding.get_status_display()}.")
            return see_other(reverse("portal:finding", args=[finding.pk]))
    return render(request, "portal/validate/finding.html",
                  _context(request, finding, resolve_form=form, errors=errors), status=status)

