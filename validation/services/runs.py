"""Validation runs: start (web), statistical part (cpu queue), neural part (gpu queue), join.

The two parts run independently, each a ``ValidationPart`` row run by the run kernel
(``governance.services.run_state``: lease, heartbeat, retry, reaper); whichever finishes last judges
nothing new (each part judges its own metrics under the run's policy as it stores them) but closes
the run: tier and overall outcomes, the results' SHA-256, evidence pushed to the model version,
lineage and audit.
"""

from __future__ import annotations

import datetime as dt
import socket

import numpy as np
from django.db import transaction

from governance.access import is_version_developer, require_any_role
from governance.canonical import canonical_json, jsonable, sha256_hex
from governance.errors import Conflict, Forbidden, InvalidInput, NotFound
from governance.models import RunStatus
from governance.models.review import EvidenceKind
from governance.roles import ADMIN, DEVELOPER, VALIDATOR, has_role
from governance.services import run_state
from governance.services.audit import audit_record
from governance.services.lineage import lineage_agent, lineage_entity, lineage_link, lineage_record_activity
from governance.services.review import evidence_attach
from scenarios import datasets as checks
from scenarios.models import Portfolio, ScenarioSet
from scenarios.services.runs import load_checkpoint, load_increments
from scenarios.services.scenario_sets import scenario_set_array
from validation import suite
from validation.models import MetricRow, ValidationPart, ValidationRun
from validation.outcomes import finite_json, judge, not_run_tiers, worst
from validation.services import conditioned
from validation.services.parts import PARTS, SKIPPED, part_row
from validation.services.policy import policy_current


def _refuse(actor, scenario_set: ScenarioSet, message: str, **details) -> None:
    # The refusal itself is evidence for an auditor: record it even though nothing else is kept.
    with transaction.atomic():
        audit_record(actor=actor, action="validation_run.refused", object_type="scenario_set",
                     object_id=scenario_set.pk, after=details, reason=message)
    raise Conflict(message, code="holdout_overlaps_training", details=details)


def validation_run_start(
    *, actor, scenario_set: ScenarioSet, tiers: list[str] | None = None, options: dict | None = None,
    train_start: dt.date | None = None, train_end: dt.date | None = None, holdout_start: dt.date | None = None,
    holdout_end: dt.date | None = None, seed: int = 0,
) -> ValidationRun:
    require_any_role(actor, VALIDATOR, DEVELOPER, ADMIN)
    version = scenario_set.model_version
    if version is not None and not (has_role(actor, VALIDATOR) or has_role(actor, ADMIN)
                                    or is_version_developer(actor, version)):
        raise Forbidden("validation runs are started by validators or the version's developers")
    dataset = scenario_set.dataset
    if dataset is None:
        raise InvalidInput("the scenario set is not linked to a dataset: import it with its dataset",
                           details={"scenario_set": ["no dataset"]})
    if version is not None:
        train_start = train_start or version.train_start
        train_end = train_end or version.train_end
        holdout_start = holdout_start or version.holdout_start
        holdout_end = holdout_end or version.holdout_end
    if train_end is None or holdout_start is None:
        raise InvalidInput("give train_end and holdout_start for a scenario set without a model version",
                           details={"holdout_start": ["required"]})
    if holdout_start <= train_end:
        _refuse(actor, scenario_set, f"the holdout ({holdout_start}) must start strictly after the training "
                f"window ends ({train_end})", train_end=str(train_end), holdout_start=str(holdout_start))
    if version is not None and version.train_end and holdout_start <= version.train_end:
        _refuse(actor, scenario_set, f"the holdout ({holdout_start}) overlaps the model's training window "
                f"(to {version.train_end})", train_end=str(version.train_end), holdout_start=str(holdout_start))
    try:
        tiers = suite.check_tiers(tiers, conditioned=conditioned.is_conditioned(scenario_set.condition))
        options = suite.check_options(options or {}, scenario_set.factors)
    except ValueError as error:
        raise InvalidInput(str(error), details={"tiers": [str(error)]}) from error
    if options.get("portfolio") is not None and not Portfolio.objects.filter(pk=options["portfolio"]).exists():
        raise NotFound(f"portfolio {options['portfolio']} does not exist")
    model_tier = version.model.tier if version is not None else 3
    policy = policy_current(model_tier)
    neural = any(t in suite.NEURAL_TIERS for t in tiers)
    with transaction.atomic():
        run = ValidationRun.objects.create(
            scenario_set=scenario_set, model_version=version, dataset=dataset, policy=policy,
            train_start=train_start, train_end=train_end, holdout_start=holdout_start, holdout_end=holdout_end,
            tiers=tiers, options=jsonable(options), seed=seed, created_by=actor,
            parts={"statistical": RunStatus.PENDING, "neural": RunStatus.PENDING if neural else SKIPPED},
        )
        audit_record(actor=actor, action="validation_run.started", object_type="validation_run", object_id=run.pk,
                     after={"scenario_set": scenario_set.pk, "sha256": scenario_set.sha256, "tiers": tiers,
                            "policy": f"tier {policy.model_tier} v{policy.version}",
                            "holdout_start": holdout_start, "train_end": train_end})
        # Each part is a run of the kernel's, enqueued when this transaction commits.
        for name in PARTS:
            if run.parts[name] == RunStatus.PENDING:
                part = ValidationPart.objects.create(run=run, name=name, seed=seed, created_by=actor,
                                                     heartbeat_at=run.created_at)
                run_state.run_enqueue(part)
    return run


def load_inputs(run: ValidationRun, *, replay: bool = True, day_ahead: bool = True,
                synthetic: np.ndarray | None = None) -> suite.Inputs:
    """The suite's inputs; a conditional model's unconditioned set is judged on its holdout replay
    (``validation.services.replay``) unless ``replay`` is False; ``synthetic``: use these paths as the set's."""
    from validation.services.replay import holdout_replay

    increments = load_increments(run.dataset)
    train_mask, holdout_mask = checks.split_windows(
        increments.index, train_start=run.train_start, train_end=run.train_end,
        holdout_start=run.holdout_start, holdout_end=run.holdout_end)
    factors = list(run.scenario_set.factors)
    frame = increments[factors]
    forecast = comparator = None
    replayed = holdout_replay(run, frame, holdout_mask, day_ahead=day_ahead) if replay else None
    if replayed is not None:
        synthetic, forecast, comparator = replayed
    elif synthetic is None:
        synthetic = scenario_set_array(run.scenario_set)
    inputs = suite.Inputs(synthetic=synthetic, train=frame[train_mask].to_numpy(),
                          holdout=frame[holdout_mask].to_numpy(), factors=factors,
                          kinds=[run.dataset.risk_classes.get(f, "other") for f in factors], history=frame,
                          train_end=run.train_end, options=run.options, day_ahead=forecast, comparator=comparator,
                          settings=run.policy.suite_settings or {},
                          train_dates=conditioned.train_dates(frame.index[train_mask]),
                          filter_report=getattr(run.scenario_set, "filter_report", None) or None)
    return _issue15_inputs(run, inputs)


def _issue15_inputs(run: ValidationRun, inputs: suite.Inputs) -> suite.Inputs:
    """Reference draw, what was asked, the adversarial grid, the comparison and the coherence rules — each
    prepared only when its tier runs (they sample the model)."""
    from validation.services.coherence_inputs import coherence_inputs

    tiers, scenario_set = set(run.tiers), run.scenario_set
    version = scenario_set.model_version
    # the checkpoint is read only for the tiers that sample the model
    needs_model = bool(tiers & {"conformance", "plausibility", "adversarial"})
    state = load_checkpoint(version) if needs_model and version is not None and version.checkpoint_uri else None
    horizon = inputs.synthetic.shape[1]
    if tiers & {"conformance", "plausibility"}:
        n = min(conditioned.REFERENCE_PATHS, max(scenario_set.n_scenarios, 200))
        inputs.reference, inputs.reference_note = conditioned.reference_paths(
            state, inputs.train, n=n, horizon=horizon, seed=run.seed)
        inputs.asked = conditioned.asked_of(scenario_set.condition, state, inputs.factors, inputs.kinds, horizon)
    if "adversarial" in tiers:
        policy_settings = run.policy.suite_settings or {}
        settings = dict(policy_settings.get("adversarial") or {})
        if not settings:
            inputs.adversarial = {"skip": "the policy defines no adversarial grid (a policy before version 4)"}
        else:
            settings.setdefault("chi2_level", (policy_settings.get("plausibility") or {}).get("chi2_level", 0.9999))
            inputs.adversarial = conditioned.adversarial_grid(state, inputs.factors, inputs.kinds, horizon=horizon,
                                                              weights=suite.reference_weights(inputs),
                                                              settings=settings, seed=run.seed, train=inputs.train)
            # a cell is anomalous where its share outside the region is beyond the policy's own WARN bound for
            # a set (plausibility_outside_share), so the audit and the tier read the region alike
            bound = (run.policy.thresholds.get("plausibility_outside_share") or {}).get("warn")
            if bound is not None and "cells" in inputs.adversarial:
                inputs.adversarial["outside_bound"] = float(bound)
    if "comparison" in tiers:
        inputs.comparison = conditioned.comparison_inputs(version, scenario_set.condition)
    if "coherence" in tiers:
        inputs.coherence = coherence_inputs(run, inputs.synthetic)
    return inputs


def validation_part_execute(run_id: int, part: str, *, worker: str | None = None) -> None:
    """The worker's side of one part (the kernel claims it; ``RunBusy`` reaches the task, which retries)."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}")
    row = part_row(run_id, part)
    if row is None:
        return
    run_state.run_execute(ValidationPart, row.pk, worker=worker or socket.gethostname(), body=_execute_part)


def _execute_part(row: ValidationPart, lease: run_state.RunLease) -> None:
    part = row.name
    run = ValidationRun.objects.select_related("policy", "scenario_set", "dataset").get(pk=row.run_id)
    if run.is_finished:
        raise Conflict(f"validation run {run.pk} already ended {run.status}: {run.error}", code="run_finished")
    lease.progress(0.05, stage="loading inputs")
    inputs = load_inputs(run, day_ahead=part == "statistical")
    lease.progress(0.3, stage=f"{part} tiers")
    rng = np.random.default_rng(np.random.SeedSequence([run.seed, PARTS.index(part)]))
    if part == "statistical":
        results = suite.statistical(inputs, run.tiers, rng=rng, floor_config=run.policy.noise_floor)
    else:
        results = suite.neural(inputs, run.tiers, seed=run.seed)
    judged = judge(results, run.policy.thresholds, settings=run.policy.suite_settings or None)
    lease.progress(0.9, stage="storing")
    _store_part(lease, run.pk, part, judged)


def _store_part(lease: run_state.RunLease, run_id: int, part: str, judged) -> None:
    # The part's success is the run's business: the run's own events (succeeded, failed) are the audit.
    with lease.completing() as done:
        run = ValidationRun.objects.select_for_update().get(pk=run_id)
        if run.is_finished:
            raise Conflict(f"validation run {run.pk} already ended {run.status}: {run.error}", code="run_finished")
        rows = []
        for item in judged:
            data = item.result.to_dict()
            rows.append(MetricRow(
                run=run, tier=item.result.tier, name=item.result.name, factor=item.result.factor or "",
                value=data["value"], pvalue=data["pvalue"], threshold=item.threshold, warn_threshold=item.warn,
                direction=item.result.direction, floor=data["floor"], outcome=item.outcome,
                details=jsonable(finite_json(data["details"])), reference=item.result.reference[:300]))
        MetricRow.objects.bulk_create(rows)
        done.succeed(audit=False)  # the kernel's hook marks the part done in run.parts
        run.refresh_from_db()
        if all(v in (RunStatus.SUCCEEDED, SKIPPED) for v in run.parts.values()):
            _finalise(run, lease.worker)


def results_document(run: ValidationRun) -> dict:
    """Every metric of the run as one canonical document (hashed, exported in packets)."""
    rows = run.metrics.order_by("tier", "name", "factor", "id")
    return jsonable({
        "validation_run": run.pk, "scenario_set_sha256": run.scenario_set.sha256,
        "policy": {"model_tier": run.policy.model_tier, "version": run.policy.version},
        "holdout": [run.holdout_start, run.holdout_end], "train_end": run.train_end,
        "tier_outcomes": run.tier_outcomes, "outcome": run.outcome,
        "metrics": [{"tier": r.tier, "name": r.name, "factor": r.factor, "value": r.value, "pvalue": r.pvalue,
                     "threshold": r.threshold, "warn": r.warn_threshold, "direction": r.direction,
                     "floor": r.floor, "outcome": r.outcome, "details": r.details} for r in rows],
    })


def _holdout_entity(run: ValidationRun):
    """The holdout window as an entity of its own (its bytes hashed), derived from the dataset."""
    increments = load_increments(run.dataset)
    _, mask = checks.split_windows(increments.index, train_start=run.train_start, train_end=run.train_end,
                                   holdout_start=run.holdout_start, holdout_end=run.holdout_end)
    window = increments[mask]
    sha = sha256_hex(checks.canonical_parquet(window))
    start, end = window.index.min().date(), window.index.max().date()
    entity = lineage_entity(uid=f"holdout:{run.dataset.pk}-{start}-{end}", kind="holdout",
                            label=f"holdout {start} → {end} of {run.dataset}", sha256=sha, object_type="dataset",
                            object_id=run.dataset.pk, actor=run.created_by,
                            attributes={"start": str(start), "end": str(end), "rows": int(len(window))})
    lineage_link(source=entity, target=run.dataset.lineage_uid, relation="wasDerivedFrom", actor=run.created_by)
    return entity


def _finalise(run: ValidationRun, worker: str) -> None:
    tiers: dict[str, list[str]] = {}
    for tier, outcome in run.metrics.values_list("tier", "outcome"):
        tiers.setdefault(tier, []).append(outcome)
    run.tier_outcomes = {tier: worst(values) for tier, values in sorted(tiers.items())}
    run.outcome = worst(run.tier_outcomes.values())
    not_run = not_run_tiers(run.tier_outcomes)
    run.results_sha256 = sha256_hex(canonical_json(results_document(run) | {"outcome": run.outcome,
                                                                             "tier_outcomes": run.tier_outcomes}))
    run_state.finish(run, status=RunStatus.SUCCEEDED)
    audit_record(actor=run.created_by, action="validation_run.succeeded", object_type="validation_run",
                 object_id=run.pk, after={"outcome": run.outcome, "tier_outcomes": run.tier_outcomes,
                                          "not_run_tiers": not_run, "results_sha256": run.results_sha256})
    holdout = _holdout_entity(run)
    result = lineage_entity(uid=f"validation_result:{run.pk}", kind="validation_result",
                            label=f"validation result {run.pk} ({run.outcome})", sha256=run.results_sha256,
                            object_type="validation_run", object_id=run.pk, actor=run.created_by)
    lineage_record_activity(
        activity_uid=run.lineage_uid, kind="validation", label=f"validation run {run.pk}",
        used=[run.scenario_set.lineage_uid, holdout], generated=[result],
        agents=[run.created_by, lineage_agent(uid=f"worker:{worker[:80]}", kind="worker", label=worker)],
        object_type="validation_run", object_id=run.pk, actor=run.created_by,
        attributes={"holdout_start": str(run.holdout_start), "policy_version": run.policy.version},
    )
    if run.model_version is not None:
        evidence_attach(actor=run.created_by, version=run.model_version, kind=EvidenceKind.VALIDATION_RUN,
                        source=run.lineage_uid, outcome=run.outcome,
                        summary={"tier_outcomes": run.tier_outcomes, "not_run_tiers": not_run,
                                 "scenario_set": run.scenario_set.pk,
                                 "policy": f"tier {run.policy.model_tier} v{run.policy.version}"},
                        sha256=run.results_sha256)
