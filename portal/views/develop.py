"""Developer pages (issue 17 §2): register a model, start a training run, submit or resubmit a version.

Views are thin: the inventory service registers (and tiers) a model, ``training_run_start`` starts the run
on the run kernel (the page answers 303 to the job page), ``version_transition`` signs the submission.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from governance.access import is_version_developer
from governance.errors import ApplicationError, Conflict, Forbidden, InvalidInput
from governance.models import Finding, InventoryModel, ModelVersion
from governance.models.inventory import VersionStatus
from governance.models.review import OPEN_FINDING_STATUSES
from governance.roles import ADMIN, DEVELOPER, has_role
from governance.selectors.inventory import model_get, signature_list, version_get
from governance.services.inventory import model_create
from governance.services.workflow import version_transition
from governance.workflow import find_transition
from portal.forms_develop import (
    DEFAULT_ENGINE,
    ModelRegisterForm,
    SubmitForm,
    TrainingForm,
    engine_choices,
    initial_from_training,
    next_version_label,
    tier_matrix,
)
from portal.pages import error_page, page
from scenarios.engines.registry import DEEP_ENGINES, ENGINE_MODULES
from scenarios.selectors.datasets import dataset_list
from scenarios.services.runs import training_run_start

# What a developer submits from, and the workflow action that takes it to "submitted".
SUBMIT_ACTIONS = {VersionStatus.DRAFT: "submit", VersionStatus.CHANGES_REQUESTED: "resubmit"}


def see_other(url: str) -> HttpResponseRedirect:
    """303: the browser follows with a GET, so reloading the next page never repeats the POST."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _place_errors(form, error: ApplicationError) -> list[str]:
    """A service's field-keyed details next to their field; the message (and the rest) above the form."""
    lines = [error.message]
    details = error.details if isinstance(error.details, dict) else {}
    for name, problems in details.items():
        for problem in problems if isinstance(problems, list | tuple) else [problems]:
            if name in form.fields:
                form.add_error(name, str(problem))
            else:
                lines.append(f"{name}: {problem}")
    return lines


# ── who may do what (the services decide again; these say why not before a form is shown) ──────────
def register_refusal(user) -> str:
    if not (has_role(user, DEVELOPER) or has_role(user, ADMIN)):
        return "registering a model needs the role developer or admin"
    return ""


def train_refusal(user, model: InventoryModel) -> str:
    if not has_role(user, DEVELOPER):
        return "training needs the role developer"
    if not (model.owner_id == user.pk or model.developers.filter(pk=user.pk).exists()):
        return f"only the owner or developers of {model.model_id} may train versions of it"
    return ""


def submit_refusal(user, version: ModelVersion) -> str:
    """'' when ``user`` may submit (or resubmit) ``version`` now; else why not."""
    if not has_role(user, DEVELOPER):
        return "submitting a version for validation needs the role developer"
    if version.status not in SUBMIT_ACTIONS:
        return (f"the version is {version.get_status_display()}: only a draft is submitted, and a version with "
                f"changes requested is resubmitted")
    if not is_version_developer(user, version):
        return "only a developer of this version may submit it"
    if not version.checkpoint_sha256:
        return "the version has no stored checkpoint to submit"
    return ""


# ── register a model ────────────────────────────────────────────────────────────────────────
@page(DEVELOPER, ADMIN)
def model_register(request):
    form = ModelRegisterForm(request.POST or None)
    errors: list[str] = []
    preview = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            preview = form.tier_preview()
            if "preview" in request.POST:
                status = 200  # only the tier was asked for: nothing is written
            else:
                try:
                    model = model_create(actor=request.user, **form.service_fields())
                except (InvalidInput, Conflict) as error:
                    errors = _place_errors(form, error)
                else:
                    messages.success(request, f"Registered {model.model_id} {model.name}: risk tier {model.tier} "
                                              f"({model.tier_rule_version}).")
                    return see_other(reverse("portal:model", args=[model.model_id]))
    return render(request, "portal/develop/register.html",
                  {"form": form, "errors": errors, "preview": preview, "matrix": tier_matrix()}, status=status)


# ── start a training run ────────────────────────────────────────────────────────────────────
@page(DEVELOPER, ADMIN)
def train(request, model_id: str):
    model = model_get(user=request.user, model_id=model_id)
    refusal = train_refusal(request.user, model)
    if refusal:
        return error_page(request, Forbidden(f"You cannot train {model.model_id}: {refusal}."))
    datasets = dataset_list(user=request.user).order_by("-created_at")
    labels = list(model.versions.values_list("version", flat=True)) + list(
        model.training_runs.values_list("version_label", flat=True))
    source = request.POST if request.method == "POST" else request.GET
    engine = source.get("engine") or DEFAULT_ENGINE
    initial = {"version_label": next_version_label(labels)}
    copied_from = None
    if request.method == "GET" and request.GET.get("from"):
        copied_from = _training_to_copy(request.user, model, request.GET["from"])
        if copied_from is not None:
            initial |= initial_from_training(copied_from)
            engine = request.GET.get("engine") or copied_from.engine
    if request.method == "GET" and "dataset" not in initial and datasets:
        initial |= _default_windows(datasets[0])
    form = TrainingForm(request.POST if request.method == "POST" else None, engine=engine, datasets=datasets,
                        initial=initial)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if engine not in ENGINE_MODULES:
            form.add_error(None, f"unknown engine {engine!r}; choose one of the list")
        if form.is_valid():
            data = form.cleaned_data
            try:
                run = training_run_start(
                    actor=request.user, model=model, version_label=data["version_label"], dataset=data["dataset"],
                    engine=form.engine_name, config=form.config(), train_start=data["train_start"],
                    train_end=data["train_end"], holdout_start=data["holdout_start"],
                    holdout_end=data["holdout_end"], seed=data["seed"])
            except (InvalidInput, Conflict) as error:
                errors = form.apply_service_error(error)
            else:
                return see_other(reverse("portal:job", kwargs={"kind": "training_run", "pk": run.pk}))
    context = {"model": model, "form": form, "errors": errors, "engine": form.engine_name,
               "engines": engine_choices(), "deep": form.engine_name in DEEP_ENGINES, "copied_from": copied_from,
               "has_datasets": datasets.exists()}
    return render(request, "portal/develop/train.html", context, status=status)


def _training_to_copy(user, model: InventoryModel, version_pk: str):
    """The training run of one of ``model``'s versions the user may see (None when there is none)."""
    from scenarios.selectors.runs import training_run_list

    if not str(version_pk).isdigit():
        return None
    return training_run_list(user=user).filter(model=model, model_version_id=int(version_pk)).first()


def _default_windows(dataset) -> dict:
    """A first suggestion: the last fifth of the dataset's calendar span is the holdout."""
    import datetime as dt

    span = (dataset.end_date - dataset.start_date).days
    if span < 10:
        return {"dataset": dataset.pk}
    train_end = dataset.start_date + dt.timedelta(days=int(span * 0.8))
    return {"dataset": dataset.pk, "train_end": train_end, "holdout_start": train_end + dt.timedelta(days=1)}


# ── submit / resubmit ───────────────────────────────────────────────────────────────────────
@page(DEVELOPER, ADMIN)
def submit(request, pk: int):
    version = version_get(user=request.user, pk=pk)
    refusal = submit_refusal(request.user, version)
    if refusal:
        error = Conflict if has_role(request.user, DEVELOPER) and version.status not in SUBMIT_ACTIONS else Forbidden
        return error_page(request, error(f"You cannot submit {version} now: {refusal}."))
    action = SUBMIT_ACTIONS[version.status]
    transition = find_transition(action, version.status)
    form = SubmitForm(request.POST or None)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                version = version_transition(actor=request.user, version=version, action=action,
                                             password=form.cleaned_data["password"],
                                             reason=form.cleaned_data["reason"])
            except Forbidden as error:
                if error.code != "signature_refused":
                    raise
                form.add_error("password", error.message)
            except (InvalidInput, Conflict) as error:
                errors = _place_errors(form, error)
                status = error.status_code
            else:
                messages.success(request, f"{version}: {action} signed; status is now "
                                          f"{version.get_status_display()}. A validator will pick it up.")
                return see_other(reverse("portal:version", args=[version.pk]))
    context = {"version": version, "action": action, "transition": transition, "form": form, "errors": errors,
               "open_findings": Finding.objects.filter(version=version, status__in=OPEN_FINDING_STATUSES)
               .select_related("raised_by", "owner").order_by("due_date", "pk"),
               "change_requests": signature_list(version=version).filter(action="request_changes")}
    return render(request, "portal/develop/submit.html", context, status=status)
