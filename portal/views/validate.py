"""Validator pages (issue 17 §3): generate validation sets, start a validation run, run a stress.

Generation and validation are runs of the run kernel: the page starts one through the app's service and
answers 303 to the job page. A stress is computed by ``scenarios.services.stress.stress_run`` inside the
request: it is vectorised revaluation of stored paths (≈ 60 ms for 10,000 × 20 days × 3 factors), well under
the page budget.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from governance.access import independence_conflict
from governance.errors import ApplicationError, Conflict, Forbidden
from governance.models import ModelVersion
from governance.roles import ADMIN, VALIDATOR, has_role
from governance.selectors.inventory import version_get
from portal.forms_validate import (
    GenerateSetForm,
    StartValidationForm,
    StressForm,
    condition_choices,
    condition_from_choice,
)
from portal.jobs import job_url
from portal.pages import page
from scenarios.models import Portfolio, Purpose, ScenarioSet
from scenarios.selectors.runs import get_or_404, scenario_set_list
from scenarios.services.runs import PURPOSE_STATUSES, generation_run_start
from scenarios.services.stress import stress_run
from validation.models import ValidationRun
from validation.services.runs import validation_run_start


def see_other(url: str) -> HttpResponseRedirect:
    """303: the browser follows with a GET (the POST that started the run is not repeated on reload)."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def apply_error(form, error: ApplicationError) -> list[str]:
    """Put a service's field-keyed details next to the field they name; the rest goes above the form."""
    lines = [error.message]
    details = error.details if isinstance(error.details, dict) else {}
    for name, problems in details.items():
        problems = problems if isinstance(problems, list | tuple) else [problems]
        if name in form.fields:
            for problem in problems:
                form.add_error(name, str(problem))
        else:
            lines.extend(f"{name}: {p}" for p in problems)
    return lines


# ── who may do what (the services decide again; these say why not before a form is shown) ──────────
def generate_refusal(user, version: ModelVersion) -> str:
    if not (has_role(user, VALIDATOR) or has_role(user, ADMIN)):
        return "generating validation sets needs the role validator"
    allowed = PURPOSE_STATUSES[Purpose.VALIDATION]
    if version.status not in allowed:
        return (f"the version is {version.get_status_display()}; validation sets are generated from versions "
                f"that are {', '.join(str(s).replace('_', ' ') for s in allowed)}")
    if not version.checkpoint_sha256:
        return "the version has no stored checkpoint to generate from"
    if not condition_choices(version.engine):
        return "the Federal Reserve's supervisory tables could not be read, and this engine needs one of them"
    return ""


def validation_refusal(user, scenario_set: ScenarioSet) -> str:
    if not (has_role(user, VALIDATOR) or has_role(user, ADMIN)):
        return "starting a validation run needs the role validator"
    version = scenario_set.model_version
    if version is not None and not has_role(user, ADMIN):
        conflict = independence_conflict(user, version)
        if conflict:
            return f"you are {conflict}: validation is started by someone independent of it (segregation of duties)"
    if scenario_set.dataset_id is None:
        return "the scenario set is not linked to a dataset to validate against"
    return ""


def stress_refusal(user, scenario_set: ScenarioSet) -> str:
    if not (has_role(user, VALIDATOR) or has_role(user, ADMIN)):
        return "running a stress from this page needs the role validator"
    return ""


def stress_portfolios(scenario_set: ScenarioSet) -> list[int]:
    factors = set(scenario_set.factors or [])
    return [p.pk for p in Portfolio.objects.only("pk", "factors") if set(p.factors or []) <= factors]


# ── pages ─────────────────────────────────────────────────────────────────────────────────────
def _version_sets(user, version: ModelVersion) -> list[dict]:
    sets = list(scenario_set_list(user=user).filter(model_version=version).order_by("-pk"))
    runs: dict[int, ValidationRun] = {}
    for run in ValidationRun.objects.filter(scenario_set__in=sets).order_by("created_at", "pk"):
        runs[run.scenario_set_id] = run  # the latest wins
    return [{"set": s, "run": runs.get(s.pk), "validation_refusal": validation_refusal(user, s),
             "stress_refusal": stress_refusal(user, s)} for s in sets]


@page(VALIDATOR, ADMIN)
def generate(request, pk: int):
    version = version_get(user=request.user, pk=pk)
    refusal = generate_refusal(request.user, version)
    form = GenerateSetForm(request.POST or None, engine=version.engine)
    errors: list[str] = []
    status = 200
    if refusal and request.method == "POST":
        raise Conflict(f"cannot generate validation sets: {refusal}")
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                run = generation_run_start(
                    actor=request.user, model_version=version, n_scenarios=data["n_scenarios"],
                    horizon=data["horizon"], condition=condition_from_choice(data["condition"]), seed=data["seed"],
                    purpose=Purpose.VALIDATION)
            except ApplicationError as error:
                errors, status = apply_error(form, error), error.status_code
            else:
                messages.success(request, f"Generation run {run.pk} started for {version}.")
                return see_other(job_url(run))
    return render(request, "portal/validate/generate.html", {
        "version": version, "form": None if refusal else form, "refusal": refusal, "errors": errors,
        "sets": _version_sets(request.user, version)}, status=status)


@page(VALIDATOR, ADMIN)
def start_validation(request, pk: int):
    scenario_set = get_or_404(scenario_set_list(user=request.user), pk, "scenario set")
    refusal = validation_refusal(request.user, scenario_set)
    if refusal:
        raise Forbidden(f"You cannot start validation of scenario set {scenario_set.pk}: {refusal}.")
    form = StartValidationForm(request.POST or None)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                run = validation_run_start(actor=request.user, scenario_set=scenario_set,
                                           tiers=data["tiers"] or None, seed=data["seed"])
            except ApplicationError as error:
                errors, status = apply_error(form, error), error.status_code
            else:
                messages.success(request, f"Validation run {run.pk} started on scenario set {scenario_set.pk}.")
                return see_other(job_url(run))
    return render(request, "portal/validate/start_validation.html", {
        "scenario_set": scenario_set, "version": scenario_set.model_version, "form": form, "errors": errors},
        status=status)


@page(VALIDATOR, ADMIN)
def stress(request, pk: int):
    scenario_set = get_or_404(scenario_set_list(user=request.user), pk, "scenario set")
    refusal = stress_refusal(request.user, scenario_set)
    if refusal:
        raise Forbidden(f"You cannot run a stress on scenario set {scenario_set.pk}: {refusal}.")
    portfolios = Portfolio.objects.filter(pk__in=stress_portfolios(scenario_set)).order_by("name", "-version")
    form = StressForm(request.POST or None, portfolios=portfolios)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = stress_run(actor=request.user, scenario_set=scenario_set, portfolio=data["portfolio"],
                                    levels=data["levels"], k=data["k"])
            except ApplicationError as error:
                errors, status = apply_error(form, error), error.status_code
            else:
                messages.success(request, f"Stress {result.pk} of {data['portfolio']} on scenario set "
                                          f"{scenario_set.pk} recorded.")
                run = (ValidationRun.objects.filter(scenario_set=scenario_set).order_by("-created_at", "-pk")
                       .first())
                if run is not None:
                    return see_other(reverse("portal:validation_run", args=[run.pk]))
                if scenario_set.model_version_id:
                    return see_other(reverse("portal:version", args=[scenario_set.model_version_id])
                                     + "#scenario-sets")
                return see_other(reverse("portal:runs"))
    return render(request, "portal/validate/stress.html", {
        "scenario_set": scenario_set, "version": scenario_set.model_version, "form": form, "errors": errors,
        "no_portfolio": not portfolios.exists()}, status=status)

