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
    return {"choices": choices, "signing": any(c.needs_signature for c in allowed),
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
    # Per version: validation outcome per test tier (evidence), open findings by severity, the champion/challenger
    # comparison and one decision link per action, the action preselected (issue 17 §4).
    from portal.views.submit_approvals import approval_rows

    versions = queries.versions_awaiting_approval(user=request.user).select_related("model", "validator")
    return render(request, "portal/approval_queue.html", {"rows": approval_rows(request.user, versions)})


#: outcomes a reviewer must look at: shown by default, the rest behind "Show all N metrics"
ATTENTION = ("WARN", "FAIL")


def _money(value, currency: str) -> str:
    """A loss with thousands separators and its currency (cents only below a thousand)."""
    if value is None:
        return "—"
    amount = float(value)
    return f"{amount:,.2f} {currency}" if abs(amount) < 1000 else f"{amount:,.0f} {currency}"


def _stress_view(stress, stress_charts) -> dict:
    currency = str((stress.portfolio.positions or {}).get("currency") or "USD")
    return {"stress": stress, "charts": stress_charts, "currency": currency,
            "measures": [{"level": m.get("level"), "var": _money(m.get("var"), currency),
                          "es": _money(m.get("es"), currency), "n": m.get("n")}
                         for m in (stress.risk or {}).get("historical") or []],
            "worst": [{"rank": w.get("rank"), "index": w.get("index"), "loss": _money(w.get("loss"), currency),
                       "factor_moves": w.get("factor_moves") or {}} for w in stress.worst or []]}


@page()
def validation_run_page(request, pk: int):
    """Summary first (outcome per test tier), then the WARN/FAIL metrics (all with ``?all=1``), then the stored
    charts. Reads rows only: charts are drawn by their own run (``reports.services.figure_sets``)."""
    from validation.metric_notes import note_for

    run = validation_run_get(user=request.user, pk=pk)
    metrics = list(run.metrics.all())
    show_all = request.GET.get("all") == "1"
    tiers: dict[str, dict] = {}
    for metric in metrics:
        tier = tiers.setdefault(metric.tier, {"name": metric.tier, "outcome": run.tier_outcomes.get(metric.tier, ""),
                                              "counts": {}, "rows": []})
        tier["counts"][metric.outcome] = tier["counts"].get(metric.outcome, 0) + 1
        if show_all or metric.outcome in ATTENTION:
            metric.note = note_for(metric.name)
            tier["rows"].append(metric)
    for name, outcome in (run.tier_outcomes or {}).items():
        tiers.setdefault(name, {"name": name, "outcome": outcome, "counts": {}, "rows": []})
    finished = run.status == "SUCCEEDED"
    stresses = list(StressResult.objects.filter(scenario_set=run.scenario_set).select_related("portfolio")
                    .order_by("pk"))
    stress_charts = charts.charts_for_many("stress", stresses)
    attention = sum(1 for m in metrics if m.outcome in ATTENTION)
    context = {
        "run": run, "tiers": list(tiers.values()), "show_all": show_all, "total_metrics": len(metrics),
        "attention_metrics": attention, "shown_metrics": len(metrics) if show_all else attention,
        "run_charts": charts.charts_for("validation-run", run) if finished else None,
        "set_charts": charts.charts_for("scenario-set", run.scenario_set),
        "stresses": [_stress_view(s, stress_charts[s.pk]) for s in stresses],
        "version": run.model_version,
    }
    if run.model_version is not None:
        context |= finding_context(request.user, run.model_version) | decision_context(request.user,
                                                                                       run.model_version)
        # Only decisions that are signed belong in the signing form here; starting validation signs nothing
        # and is offered on the version's page.
        context["signed_decisions"] = any(c.allowed and c.needs_signature for c in context["choices"])
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
    """A stored chart's bytes (drawn by its run, never here): an unknown kind, object or name is a 404 at
    once. The bytes of a name never change, so they are cached for a year and their SHA-256 is the ETag."""
    if kind not in FIGURE_OWNERS:
        raise Http404("no such chart")
    FIGURE_OWNERS[kind](request.user, pk)  # 404 unless the user may see the object
    stored = charts.chart_file(kind, pk, name)
    if stored is None:
        raise Http404("no such chart")
    png, sha256 = stored
    etag = f'"{sha256}"'
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(png, content_type="image/png")
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=31536000, immutable"
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
    # ``?action=approve`` (the queue's "Approve" link) preselects that action when the user may take it.
    wanted = request.GET.get("action", "")
    initial = {"action": wanted} if any(c.allowed and c.transition.action == wanted for c in choices) else {}
    form = DecisionForm(request.POST or None, choices=choices, initial=initial)
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
