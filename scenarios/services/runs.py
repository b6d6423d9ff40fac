"""Training and generation runs: start (web process), execute (worker, gpu queue), cancel.

The run mechanics (claim, lease, heartbeat, cancel, fail, retry, audit) are the run kernel's
(``governance.services.run_state``); this module holds what is particular to each kind: the checks
before a run starts and the body that runs on the worker.
"""

from __future__ import annotations

import datetime as dt
import socket
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction

from governance import environment
from governance.access import is_version_developer, require_any_role
from governance.artifacts import read_bytes, store_bytes
from governance.canonical import jsonable
from governance.errors import Conflict, Forbidden, InvalidInput, NotFound
from governance.models import InventoryModel, ModelVersion, RunStatus
from governance.models.inventory import SEMVER, VersionStatus
from governance.roles import ADMIN, DEVELOPER, VALIDATOR, has_role
from governance.services import run_state
from governance.services.audit import audit_record
from governance.services.inventory import version_create
from governance.services.lineage import lineage_agent, lineage_entity, lineage_record_activity
from scenarios import datasets as checks
from scenarios import scenario_files
from scenarios.engines import registry
from scenarios.engines.base import Condition, FittedState
from scenarios.engines.conditions import bounds_for, check_condition, vol_only_bounds
from scenarios.engines.plausibility_filter import (
    FILTER_MAX_SHARE,
    LEVEL_COLUMN_KINDS,
    FilterRejected,
    apply_filter,
    default_filter_rules,
    resolve_rules,
)
from scenarios.engines.supervisory import validate_fed_path
from scenarios.models import Dataset, GenerationRun, Purpose, ScenarioSet, TrainingRun
from scenarios.services.fed import fed_table, fed_table_sha256, supervisory_path

MAX_SCENARIOS = 1_000_000
MAX_HORIZON = 520
# Which version statuses each generation purpose accepts (DESIGN §3.4: use needs an approved version).
PURPOSE_STATUSES = {
    Purpose.USE: (VersionStatus.APPROVED, VersionStatus.IN_USE),
    Purpose.VALIDATION: (VersionStatus.SUBMITTED, VersionStatus.IN_VALIDATION, VersionStatus.VALIDATED,
                         VersionStatus.APPROVED, VersionStatus.IN_USE),
    Purpose.DEVELOPMENT: (VersionStatus.DRAFT, VersionStatus.CHANGES_REQUESTED),
}


def _worker_name() -> str:
    return socket.gethostname()


def load_increments(dataset: Dataset) -> pd.DataFrame:
    return checks.read_canonical(read_bytes(dataset.increments_path, expected_sha256=dataset.increments_sha256))


# ── training ────────────────────────────────────────────────────────────────────────────────
@transaction.atomic
def training_run_start(
    *, actor, model: InventoryModel, version_label: str, dataset: Dataset, engine: str, config: dict | None = None,
    train_start: dt.date | None = None, train_end: dt.date, holdout_start: dt.date, holdout_end: dt.date | None = None,
    seed: int = 0,
) -> TrainingRun:
    require_any_role(actor, DEVELOPER)
    if not (model.developers.filter(pk=actor.pk).exists() or model.owner_id == actor.pk):
        raise Forbidden("only the model's owner or developers may train versions of it")
    if not SEMVER.regex.match(version_label or ""):
        raise InvalidInput("the version label is not a semantic version", details={"version_label": [SEMVER.message]})
    if ModelVersion.objects.filter(model=model, version=version_label).exists() or TrainingRun.objects.filter(
        model=model, version_label=version_label, status__in=[RunStatus.PENDING, RunStatus.RUNNING]
    ).exists():
        raise Conflict(f"{model.model_id} already has (or is training) a version {version_label}",
                       code="duplicate_version")
    try:
        engine_config = registry.make_config(engine, config)
    except ValueError as error:
        raise InvalidInput(str(error), details={"config": [str(error)]}) from error
    index = load_increments(dataset).index
    try:
        train_mask, _ = checks.split_windows(index, train_start=train_start, train_end=train_end,
                                             holdout_start=holdout_start, holdout_end=holdout_end)
    except checks.DatasetError as error:
        raise InvalidInput(str(error), code="invalid_split", details={"holdout_start": [str(error)]}) from error
    if train_mask.sum() < 60:
        raise InvalidInput(f"the training window holds {int(train_mask.sum())} rows; at least 60 are needed",
                           details={"train_end": ["too few training rows"]})
    if not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise InvalidInput("seed must be a non-negative integer", details={"seed": ["0 <= seed < 2**63"]})
    started = run_state.run_start(
        TrainingRun, actor=actor, action="training_run.started",
        audit_after=lambda run: {"model": model.model_id, "version": version_label, "dataset": dataset.pk,
                                 "dataset_sha256": dataset.sha256, "engine": engine, "config": run.config,
                                 "seed": seed, "train_end": train_end, "holdout_start": holdout_start},
        model=model, version_label=version_label, dataset=dataset, engine=engine,
        config=jsonable(registry.config_dict(engine_config)), train_start=train_start, train_end=train_end,
        holdout_start=holdout_start, holdout_end=holdout_end, seed=seed,
    )
    return started.run


def training_run_execute(run_id: int, *, worker: str | None = None) -> None:
    """The worker's side: claim, fit, store the checkpoint, register the version — or fail cleanly."""
    run_state.run_execute(TrainingRun, run_id, worker=worker or _worker_name(), body=_train,
                          queryset=TrainingRun.objects.select_related("dataset", "model", "created_by"))


def _train(run: TrainingRun, lease: run_state.RunLease) -> None:
    progress, worker = lease.progress, lease.worker
    dataset = run.dataset
    progress(0.05, stage="loading data")
    increments = load_increments(dataset)
    train_mask, _ = checks.split_windows(increments.index, train_start=run.train_start, train_end=run.train_end,
                                         holdout_start=run.holdout_start, holdout_end=run.holdout_end)
    train = increments[train_mask]
    kinds = [dataset.risk_classes.get(f, "other") for f in dataset.factors]
    config = registry.make_config(run.engine, run.config)
    fingerprints = [dataset.sha256]
    fed_history = None
    used_extra = []
    if run.engine in registry.NEEDS_FED_HISTORY:
        edition = (run.config.get("fed_edition") if isinstance(run.config, dict) else None) or "2025"
        fed_history = fed_table(edition, "historic", "domestic")
        sha = fed_table_sha256(fed_history)
        fingerprints.append(sha)
        used_extra.append(lineage_entity(uid=f"fed_table:{sha[:16]}", kind="fed_table", label=fed_history.source,
                                         sha256=sha, actor=run.created_by))
    progress(0.15, stage="fitting", rows=int(len(train)))

    def fit_progress(fraction: float, **detail: Any) -> None:
        # The engine's own 0..1 maps onto 15 %..85 % of the run; cancellation raises from here.
        progress(0.15 + 0.7 * max(0.0, min(1.0, fraction)), **({"stage": "fitting"} | detail))

    state = registry.fit_engine(run.engine, train.to_numpy(), dataset.factors, config, kinds=kinds,
                                dates=train.index, fed_history=fed_history, progress=fit_progress)
    # Everything fitted used the training window only; record it in the state for the reader.
    state.meta = dict(state.meta) | {"train_start": str(train.index.min().date()),
                                     "train_end": str(train.index.max().date()), "dataset_sha256": dataset.sha256,
                                     "preprocessing": {f: dataset.column_kinds[f] for f in dataset.factors}}
    progress(0.85, stage="storing checkpoint")
    blob = state.to_bytes()
    path, sha = store_bytes(blob, suffix=".ckpt")
    env = environment.describe() | {"device": _device_name(), "seed": run.seed, "worker": worker}
    with lease.completing() as done:
        run = done.run
        version = version_create(
            actor=run.created_by, model=run.model, version=run.version_label, engine=run.engine, config=run.config,
            checkpoint_sha256=sha, checkpoint_uri=path, training_run=run.lineage_uid,
            dataset_fingerprints=fingerprints, train_start=train.index.min().date(),
            train_end=run.train_end, holdout_start=run.holdout_start, holdout_end=run.holdout_end, environment=env,
        )
        run.checkpoint_sha256, run.checkpoint_path, run.environment = sha, path, env
        run.model_version = version
        run.loss_curve = list(state.meta.get("loss_curve", []))
        done.succeed(after={"checkpoint_sha256": sha, "model_version": version.pk})
        checkpoint = lineage_entity(uid=f"checkpoint:{sha}", kind="checkpoint", label=f"checkpoint {sha[:12]}",
                                    sha256=sha, actor=run.created_by)
        lineage_record_activity(
            activity_uid=run.lineage_uid, kind="training", label=f"training run {run.pk} ({run.engine})",
            used=[dataset.lineage_uid, f"dataset_increments:{dataset.pk}", *used_extra], generated=[checkpoint],
            agents=[run.created_by, lineage_agent(uid=f"worker:{worker[:80]}", kind="worker", label=worker)],
            object_type="training_run", object_id=run.pk, actor=run.created_by,
            attributes={"engine": run.engine, "seed": run.seed},
        )


def _device_name() -> str:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"


def load_checkpoint(version: ModelVersion) -> FittedState:
    if not version.checkpoint_uri or not version.checkpoint_sha256:
        raise Conflict(f"{version} has no stored checkpoint", code="no_checkpoint")
    try:
        return FittedState.from_bytes(read_bytes(version.checkpoint_uri, expected_sha256=version.checkpoint_sha256))
    except OSError as error:
        raise Conflict(str(error), code="checkpoint_unreadable") from error


# ── generation ──────────────────────────────────────────────────────────────────────────────
def _check_purpose(actor, version: ModelVersion, purpose: str) -> None:
    if purpose not in PURPOSE_STATUSES:
        raise InvalidInput(f"purpose must be one of {', '.join(PURPOSE_STATUSES)}", details={"purpose": [purpose]})
    if version.status not in PURPOSE_STATUSES[purpose]:
        allowed = ", ".join(PURPOSE_STATUSES[purpose])
        raise Conflict(f"{version} is {version.status}: generating for {purpose} needs a version that is {allowed}",
                       code="version_not_usable")
    if purpose == Purpose.DEVELOPMENT and not is_version_developer(actor, version):
        raise Forbidden("only a developer of this version may generate from it while in development")
    if purpose == Purpose.VALIDATION and not (has_role(actor, VALIDATOR) or has_role(actor, ADMIN)
                                              or is_version_developer(actor, version)):
        raise Forbidden("validation scenario sets are generated by validators or the version's developers")


def parse_condition(condition: dict | None) -> dict:
    """Validate a condition and resolve a supervisory request into the recorded quarterly path."""
    data = dict(condition or {})
    supervisory = data.pop("supervisory", None)
    extra = dict(data.get("extra") or {})
    if supervisory is not None:
        if not isinstance(supervisory, dict) or "scenario" not in supervisory:
            raise InvalidInput('supervisory needs {"edition": "2025", "scenario": "severely_adverse"}',
                               details={"condition": ["bad supervisory"]})
        extra["fed_path"], extra["fed_source"] = supervisory_path(str(supervisory.get("edition", "2025")),
                                                                  supervisory["scenario"])
    if "fed_path" in extra:
        try:
            validate_fed_path(extra["fed_path"])
        except ValueError as error:
            raise InvalidInput(f"invalid supervisory path: {error}", details={"condition": [str(error)]}) from error
    data["extra"] = extra
    try:
        return jsonable(Condition.from_dict(data).to_dict())
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"invalid condition: {error}", details={"condition": [str(error)]}) from error


def _training_of(version: ModelVersion) -> TrainingRun | None:
    return getattr(version, "training_run_row", None)


def _training_increments(training: TrainingRun) -> pd.DataFrame:
    """The increments the version was fitted on: the training run's window of its dataset (as ``_train`` reads it)."""
    increments = load_increments(training.dataset)
    train_mask, _ = checks.split_windows(increments.index, train_start=training.train_start,
                                         train_end=training.train_end, holdout_start=training.holdout_start,
                                         holdout_end=training.holdout_end)
    return increments[train_mask]


def _is_conditioned(parsed: dict) -> bool:
    return bool(parsed.get("severity") or parsed.get("vol_multiplier") is not None or parsed.get("targets")
                or (parsed.get("extra") or {}).get("fed_path"))


def condition_bounds_check(*, version: ModelVersion, state: FittedState, condition: dict, horizon: int
                           ) -> tuple[dict, list[dict]]:
    """(the bounds checked, as JSON; the breaches) of a parsed condition against what the version was trained on.

    Unconditioned requests are never out of range. A version without a training run of its own (nothing to
    measure the moves against) is bounded on its volatility multiplier and severity only."""
    if not _is_conditioned(condition):
        return {}, []
    parsed = Condition.from_dict(condition)
    training = _training_of(version)
    factors, kinds = list(state.factors), state.kinds
    windows = sorted({int(t.days) for t in parsed.targets})
    train = _training_increments(training) if training is not None else None
    if train is not None and set(factors) <= set(train.columns) and len(train):
        bounds = bounds_for(state.engine, train[factors].to_numpy(), factors, kinds, horizon, windows=windows)
    else:
        # Nothing to measure moves against: the volatility multiplier and severity are still bounded.
        bounds = vol_only_bounds(state.engine, horizon)
    breaches = [b.to_dict() for b in check_condition(parsed, bounds, factors, kinds, horizon)]
    return jsonable(bounds.to_dict()), breaches


def _level0(version: ModelVersion, factors: list[str]) -> dict[str, float]:
    """Each level factor's level at the end of the version's training window (the start of every path)."""
    training = _training_of(version)
    if training is None:
        return {}
    dataset = training.dataset
    level_factors = [f for f in factors if dataset.column_kinds.get(f) in LEVEL_COLUMN_KINDS]
    if not level_factors:
        return {}
    table = checks.read_canonical(read_bytes(dataset.storage_path, expected_sha256=dataset.sha256))
    table = table[table.index <= pd.Timestamp(training.train_end)]
    if table.empty:
        return {}
    last = table.iloc[-1]
    return {f: float(last[f]) for f in level_factors if f in table.columns and np.isfinite(last[f])}


def parse_plausibility_filter(spec: dict | None, *, version: ModelVersion, state: FittedState) -> dict:
    """``{"rules": [...]}`` or ``{"default": true}`` → ``{"default": bool, "rules": [resolved rules]}``; ``{}`` for
    no filter. Raises ``InvalidInput`` naming the problem."""
    if spec is None or spec == {}:
        return {}
    if not isinstance(spec, dict):
        raise InvalidInput('plausibility_filter must be {"rules": [...]} or {"default": true}',
                           details={"plausibility_filter": ["not an object"]})
    unknown = sorted(set(spec) - {"rules", "default"})
    if unknown:
        raise InvalidInput(f"plausibility_filter: unknown keys {', '.join(unknown)}; use rules or default",
                           details={"plausibility_filter": [f"unknown keys {unknown}"]})
    default = spec.get("default", False)
    if not isinstance(default, bool):
        raise InvalidInput("plausibility_filter.default must be true or false",
                           details={"plausibility_filter": ["default is not a boolean"]})
    if default and "rules" in spec:
        raise InvalidInput("plausibility_filter: give either rules or default, not both",
                           details={"plausibility_filter": ["both rules and default"]})
    if not default and "rules" not in spec:
        return {}
    factors = list(state.factors)
    level0 = _level0(version, factors)
    if default:
        training = _training_of(version)
        column_kinds = training.dataset.column_kinds if training is not None else {}
        rules = default_filter_rules(factors, state.kinds, column_kinds, level0)
    else:
        rules = spec["rules"]
        if not isinstance(rules, list) or not rules:
            raise InvalidInput("plausibility_filter.rules must be a non-empty list of rules",
                               details={"plausibility_filter": ["rules is not a non-empty list"]})
    try:
        resolved = resolve_rules(rules, factors, level0)
    except ValueError as error:
        raise InvalidInput(f"plausibility_filter: {error}", details={"plausibility_filter": [str(error)]}) from error
    return jsonable({"default": default, "rules": resolved})


@transaction.atomic
def generation_run_start(
    *, actor, model_version: ModelVersion, n_scenarios: int, horizon: int, condition: dict | None = None,
    seed: int = 0, purpose: str = Purpose.USE, out_of_range_reason: str = "",
    plausibility_filter: dict | None = None,
) -> GenerationRun:
    """Start a generation run. A condition outside the range the engine was trained for (``engines.conditions``)
    is refused unless a developer of the version gives ``out_of_range_reason`` (audited; the set is marked).
    ``plausibility_filter`` (``{"rules": [...]}`` or ``{"default": true}``) removes violating paths after sampling
    and fails the run when it would remove more than ``FILTER_MAX_SHARE``."""
    require_any_role(actor, DEVELOPER, VALIDATOR, ADMIN)
    _check_purpose(actor, model_version, purpose)
    if not 1 <= n_scenarios <= MAX_SCENARIOS:
        raise InvalidInput(f"n_scenarios must be 1..{MAX_SCENARIOS:,}", details={"n_scenarios": [str(n_scenarios)]})
    if not 1 <= horizon <= MAX_HORIZON:
        raise InvalidInput(f"horizon must be 1..{MAX_HORIZON} days", details={"horizon": [str(horizon)]})
    state = load_checkpoint(model_version)  # refuse now, not on the worker, when the checkpoint is missing
    parsed = parse_condition(condition)
    reason = (out_of_range_reason or "").strip() if isinstance(out_of_range_reason, str) else None
    if reason is None:
        raise InvalidInput("out_of_range_reason must be text", details={"out_of_range_reason": ["not a string"]})
    if reason and not is_version_developer(actor, model_version):
        raise Forbidden("only a developer of this version may generate outside its trained condition range")
    bounds, breaches = condition_bounds_check(version=model_version, state=state, condition=parsed, horizon=horizon)
    unknown = [b["message"] for b in breaches if b["field"].endswith(".factor")]
    if unknown:  # not a range question: no reason can make an unknown factor generable
        raise InvalidInput(f"invalid condition: {'; '.join(unknown)}", details={"condition": unknown})
    messages = [b["message"] for b in breaches]
    if breaches and not reason:
        raise InvalidInput(f"the condition is outside the range engine {state.engine} was trained for: "
                           + "; ".join(messages) + " (a developer may proceed with out_of_range_reason)",
                           code="condition_out_of_range", details={"condition": messages})
    filter_spec = parse_plausibility_filter(plausibility_filter, version=model_version, state=state)
    run = run_state.run_start(
        GenerationRun, actor=actor, action="generation_run.started",
        audit_after={"model_version": model_version.pk, "purpose": purpose, "n": n_scenarios, "horizon": horizon,
                     "seed": seed, "condition": {k: v for k, v in parsed.items() if k != "extra"},
                     "plausibility_filter": filter_spec},
        model_version=model_version, purpose=purpose, n_scenarios=n_scenarios, horizon=horizon, condition=parsed,
        seed=seed, out_of_range_reason=reason if breaches else "",
        condition_bounds={"bounds": bounds, "breaches": breaches} if bounds else {},
        plausibility_filter=filter_spec,
    ).run
    if breaches:  # same transaction (this function is atomic): committed, and enqueued, with the run
        audit_record(actor=actor, action="generation_run.out_of_training_range", object_type="generation_run",
                     object_id=run.pk, after={"reason": reason, "breaches": breaches, "bounds": bounds})
    return run


def generation_run_execute(run_id: int, *, worker: str | None = None) -> None:
    run_state.run_execute(GenerationRun, run_id, worker=worker or _worker_name(), body=_generate,
                          queryset=GenerationRun.objects.select_related("model_version__model", "created_by"))


def generation_draw(run: GenerationRun, state: FittedState | None = None) -> tuple[np.ndarray, FittedState, dict]:
    """(paths, state, filter report) of a generation run: sample its version's checkpoint with the recorded seed,
    condition and size, then apply its recorded plausibility filter (``{}`` report when it has none).

    Raises ``FilterRejected`` when the filter would remove more than ``FILTER_MAX_SHARE`` of the paths."""
    state = state if state is not None else load_checkpoint(run.model_version)
    condition = Condition.from_dict(run.condition) if run.condition else None
    paths = registry.sample_engine(state, n=run.n_scenarios, horizon=run.horizon, condition=condition, seed=run.seed)
    if paths.shape != (run.n_scenarios, run.horizon, len(state.factors)) or not np.isfinite(paths).all():
        raise RuntimeError(f"engine {state.engine} returned {paths.shape} or non-finite values")
    report: dict = {}
    if run.plausibility_filter:
        paths, report = apply_filter(paths, state.factors, run.plausibility_filter.get("rules", []),
                                     max_share=FILTER_MAX_SHARE)
        report = jsonable(report | {"default": bool(run.plausibility_filter.get("default"))})
    return paths, state, report


def generation_sample(run: GenerationRun, state: FittedState | None = None) -> tuple[np.ndarray, FittedState]:
    """The paths a generation run stores: drawn from its version's checkpoint with its recorded seed, condition
    and size, and filtered by its recorded plausibility filter — shared by the worker (``_generate``) and
    ``manage.py reproduce``, so both run one code path."""
    paths, state, _ = generation_draw(run, state)
    return paths, state


def _generate(run: GenerationRun, lease: run_state.RunLease) -> None:
    from scenarios.services.comparison import condition_label

    worker = lease.worker
    version = run.model_version
    lease.progress(0.05, stage="loading checkpoint")
    state = load_checkpoint(version)
    lease.progress(0.1, stage="sampling")
    try:
        paths, state, filter_report = generation_draw(run, state)
    except FilterRejected as rejected:
        # Recorded on the run (the kernel then ends it FAILED with this message); no scenario set is stored.
        report = jsonable(rejected.report)
        GenerationRun.objects.filter(pk=run.pk, attempts=lease.attempt).update(filter_report=report)
        raise InvalidInput(str(rejected), code="filter_rejected", details={"filter_report": report}) from rejected
    lease.progress(0.8, stage="storing")
    blob = scenario_files.canonical_bytes(paths, state.factors)
    path, sha = store_bytes(blob, suffix=".parquet")
    training = getattr(version, "training_run_row", None)
    with lease.completing() as done:
        run = done.run
        scenario_set = ScenarioSet.objects.create(
            generation_run=run, model_version=version, dataset=training.dataset if training else None,
            name=f"{version.model.model_id} v{version.version} {condition_label(run.condition)}",
            source=run.lineage_uid, purpose=run.purpose, engine=state.engine, engine_config=state.config,
            condition=run.condition, seed=run.seed, factors=state.factors, n_scenarios=int(paths.shape[0]),
            horizon=run.horizon, sha256=sha, size_bytes=len(blob), storage_path=path, created_by=run.created_by,
            out_of_training_range=bool(run.out_of_range_reason), out_of_range_reason=run.out_of_range_reason,
            condition_bounds=run.condition_bounds, filter_report=filter_report,
        )
        run.filter_report = filter_report
        done.succeed(after={"scenario_set": scenario_set.pk, "sha256": sha, "n_scenarios": scenario_set.n_scenarios,
                            "filter_removed": filter_report.get("removed", 0)})
        entity = lineage_entity(uid=scenario_set.lineage_uid, kind="scenario_set", label=scenario_set.name,
                                sha256=sha, object_type="scenario_set", object_id=scenario_set.pk,
                                actor=run.created_by)
        lineage_record_activity(
            activity_uid=run.lineage_uid, kind="generation", label=f"generation run {run.pk}",
            used=[f"checkpoint:{version.checkpoint_sha256}", f"model_version:{version.pk}"], generated=[entity],
            agents=[run.created_by, lineage_agent(uid=f"worker:{worker[:80]}", kind="worker", label=worker)],
            object_type="generation_run", object_id=run.pk, actor=run.created_by,
            attributes={"seed": run.seed, "n": run.n_scenarios, "horizon": run.horizon, "purpose": run.purpose,
                        "filter_removed": filter_report.get("removed", 0),
                        "out_of_training_range": scenario_set.out_of_training_range},
        )


# ── cancellation ────────────────────────────────────────────────────────────────────────────
def run_cancel(*, actor, run) -> Any:
    """Cancel a training or generation run (the kernel's ``run_cancel``: PENDING at once, RUNNING at its next
    progress report; the person who started it or an admin)."""
    return run_state.run_cancel(actor=actor, run=run)


def run_get(model_cls, pk: int):
    run = model_cls.objects.filter(pk=pk).first()
    if run is None:
        raise NotFound(f"{model_cls._meta.verbose_name} {pk} does not exist")
    return run
