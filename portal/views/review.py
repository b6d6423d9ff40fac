"""Validator and approver pages: the queues, a validation run, raising findings, signed decisions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from governance.access import independence_conflict
from governance.errors import ApplicationError
from governance.models import ModelVersion
from governance.models.inventory import VersionStatus
from governance.roles import ADMIN, APPROVER, VALIDATOR, has_role
from governance.selectors.inventory import version_get
from governance.services.review import finding_raise
from governance.services.workflow import version_transition
from portal import charts, queries
from portal.decisions import decision_choices
from portal.forms import DecisionForm, FindingForm
from portal.pages import form_errors, page
from scenarios.models import StressResult
from scenarios.selectors.runs import get_or_404, scenario_set_list, training_run_list
from validation.selectors.runs import validation_run_get, validation_run_list


def _finding_owners(version: ModelVersion):
    model = version.model
    ids = {model.owner_id, version.created_by_id, *model.developers.values_list("pk", flat=True),
           *version.developers.values_list("pk", flat=True)}
    return get_user_model().objects.filter(pk__in=ids).order_by("username")


def finding_refusal(user, version: ModelVersion) -> str:
    """Why ``user`` may not raise a finding on ``version`` ('' when they may); the service re-checks."""
    if not has_role(user, VALIDATOR):
        return "raising findings needs the role validator"
    conflict = independence_conflict(user, version)
    if conflict:
        return f"{conflict} cannot raise validation findings on it (segregation of duties)"
    if version.status == VersionStatus.DRAFT:
        return "findings are raised on versions submitted for validation, not on drafts"
    return ""


def finding_context(user, version: ModelVersion, form: FindingForm | None = None) -> dict:
    refusal = finding_refusal(user, version)
    return {"finding_refusal": refusal,
            "finding_form": None if refusal else form or FindingForm(owners=_finding_owners(version))}


def decision_context(user, version: ModelVersion, form: DecisionForm | None = None) -> dict:
    choices = decision_choices(user, version)
    allowed = [c for c in choices if c.allowed]
    return {"choices": choices,
            "decision_form": (form or DecisionForm(choices=choices)) if allowed else None}


def _next_url(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


@page(VALIDATOR, ADMIN)
def validation_queue(request):
    versions = queries.versions_awaiting_validation(user=request.user)
    runs = validation_run_list(user=request.user).filter(
        model_version__status__in=queries.VALIDATION_QUEUE_STATUSES).order_by("-created_at")
    return render(request, "portal/validation_queue.html", {"versions": versions, "runs": runs})


@page(APPROVER, ADMIN)
def approval_queue(request):
    versions = queries.versions_awaiting_approval(user=request.user)
    rows = [(v, decision_choices(request.user, v)) for v in versions]
    return render(request, "portal/approval_queue.html", {"rows": rows})


@page()
def validation_run_page(request, pk: int):
    run = validation_run_get(user=request.user, pk=pk)
    metrics = list(run.metrics.all())
    tiers = {}
    for metric in metrics:
        tiers.setdefault(metric.tier, []).append(metric)
    finished = run.status == "SUCCEEDED"
    stresses = list(StressResult.objects.filter(scenario_set=run.scenario_set).select_related("portfolio"))
    context = {
        "run": run, "tiers": [(tier, run.tier_outcomes.get(tier, ""), rows) for tier, rows in tiers.items()],
        "run_charts": charts.charts_for("validation-run", run) if finished else None,
        "set_charts": charts.charts_for("scenario-set", run.scenario_set),
        "stresses": [(s, charts.charts_for("stress", s)) for s in stresses],
        "version": run.model_version,
    }
    if run.model_version is not None:
        context |= finding_context(request.user, run.model_version) | decision_context(request.user,
                                                                                       run.model_version)
    return render(request, "portal/validation_run.html", context)


FIGURE_OWNERS = {
    "validation-run": lambda user, pk: validation_run_get(user=user, pk=pk),
    "scenario-set": lambda user, pk: get_or_404(scenario_set_list(user=user), pk, "scenario set"),
    "training-run": lambda user, pk: get_or_404(training_run_list(user=user), pk, "training run"),
    "stress": lambda user, pk: get_or_404(
        StressResult.objects.filter(scenario_set__in=scenario_set_list(user=user)), pk, "stress result"),
}


@page()
def figure_png(request, kind: str, pk: int, name: str):
    if kind not in FIGURE_OWNERS:
        raise Http404("no such chart")
    obj = FIGURE_OWNERS[kind](request.user, pk)
    png = charts.chart_png(kind, obj, name)
    if png is None:
        raise Http404("no such chart")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
@page(VALIDATOR)
def finding_new(request, pk: int):
    version = version_get(user=request.user, pk=pk)
    form = FindingForm(request.POST, owners=_finding_owners(version))
    errors: list[str] = []
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            finding = finding_raise(actor=request.user, version=version, title=data["title"],
                                    description=data["description"], severity=data["severity"],
                                    owner=data["owner"], due_date=data["due_date"])
        except ApplicationError as error:
            errors, status = form_errors(error), error.status_code
        else:
            messages.success(request, f"Finding #{finding.pk} raised: {finding.title}")
            return redirect(_next_url(request, version_url(version)))
    return render(request, "portal/finding_new.html",
                  {"version": version, "errors": errors, "next": request.POST.get("next", "")}
                  | finding_context(request.user, version, form), status=status)


@page()
def decision(request, pk: int):
    version = version_get(user=request.user, pk=pk)
    choices = decision_choices(request.user, version)
    form = DecisionForm(request.POST or None, choices=choices)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                version = version_transition(actor=request.user, version=version, action=data["action"],
                                             password=data["password"], reason=data["reason"])
            except ApplicationError as error:
                errors, status = form_errors(error), error.status_code
            else:
                messages.success(request, f"{version}: {data['action'].replace('_', ' ')} recorded; "
                                          f"status is now {version.get_status_display()}.")
                return redirect(_next_url(request, version_url(version)))
    return render(request, "portal/decision.html",
                  {"version": version, "errors": errors, "next": request.POST.get("next", "") if request.POST else ""}
                  | decision_context(request.user, version, form), status=status)


def version_url(version: ModelVersion) -> str:
    from django.urls import reverse

    return reverse("portal:version", args=[version.pk])
