"""Steps from validation to the verified packet: validation, review, report, packet, verification."""

from __future__ import annotations

import datetime as dt

from governance.roles import APPROVER, DEVELOPER, VALIDATOR
from pipelines.context import Context, await_run
from pipelines.settings import PipelineError
from pipelines.steps_setup import validated_roles


def _policy_outcomes(run) -> dict:
    """The run's metrics judged under each tier's current policy (the model's own tier governs)."""
    from validation.metrics.result import Floor, MetricResult
    from validation.outcomes import judge, worst
    from validation.services.policy import policy_current

    results = []
    for row in run.metrics.all():
        floor = Floor(**{k: row.floor[k] for k in ("low", "median", "high", "n", "method")}) if row.floor else None
        # row.threshold is the bound applied when the run was judged: the policy's, or the metric's own
        # (tests with a fixed critical value), which every tier's policy keeps.
        results.append(MetricResult(name=row.name, tier=row.tier, value=row.value if row.value is not None
                                    else float("nan"), threshold=row.threshold, direction=row.direction,
                                    pvalue=row.pvalue, factor=row.factor or None, floor=floor))
    outcomes = {}
    for tier in (1, 2, 3):
        policy = policy_current(tier)
        judged = judge(results, policy.thresholds, settings=policy.suite_settings or None)
        fails = sorted({f"{j.result.tier}:{j.result.name}" + (f"[{j.result.factor}]" if j.result.factor else "")
                        for j in judged if j.outcome == "FAIL"})
        outcomes[str(tier)] = {"outcome": worst(j.outcome for j in judged), "fails": fails}
    return outcomes


def _run_summary(run) -> dict:
    from validation.outcomes import not_run_tiers

    return {"id": run.pk, "outcome": run.outcome, "tier_outcomes": run.tier_outcomes,
            "not_run_tiers": not_run_tiers(run.tier_outcomes), "results_sha256": run.results_sha256}


def step_validation(context: Context) -> str:
    """Every set that feeds a stress figure is validated: each version's unconditioned set against the holdout,
    and its conditioned sets (and the Fed translation) for conformance, plausibility, coherence, the
    adversarial audit and agreement across versions (issue 15)."""
    from validation.services.runs import validation_run_start

    validator = context.users[VALIDATOR]
    options = {"portfolio": context.portfolio.pk} if context.portfolio is not None else {}
    jobs = [(role, "unconditioned") for role in validated_roles(context)]
    jobs += [key for key in context.sets if key[1] != "unconditioned" and key[0] != "crisis"]
    for i, (role, name) in enumerate(jobs):
        context.tick(i / len(jobs), f"validating {role} {name} v{context.versions[role].version}")
        tiers = list(context.config.validation_tiers or []) or None if name == "unconditioned" else None
        run = validation_run_start(actor=validator, scenario_set=context.sets[(role, name)], tiers=tiers,
                                   options=options, seed=context.config.seed)
        run = await_run(context, run, what=f"validation run {run.pk} ({role} {name})", queue="cpu",
                        lo=i / len(jobs), hi=(i + 1) / len(jobs))
        if name == "unconditioned":
            context.validation_runs[role] = run
        else:
            context.set_validations[(role, name)] = run
    context.summary["validation"] = {
        role: {"id": run.pk, "outcome": run.outcome, "model_tier": context.model.tier,
               "policy": f"tier {run.policy.model_tier} v{run.policy.version}", "tier_outcomes": run.tier_outcomes,
               "holdout": [str(run.holdout_start), str(run.holdout_end) if run.holdout_end else None],
               "results_sha256": run.results_sha256, "outcome_per_policy_tier": _policy_outcomes(run),
               "not_run_tiers": _run_summary(run)["not_run_tiers"],
               "conditioned": {name: _run_summary(r) for (r_role, name), r in context.set_validations.items()
                               if r_role == role}}
        for role, run in context.validation_runs.items()}
    context.summary["conditioned_validation"] = {f"{role}/{name}": _run_summary(run)
                                                 for (role, name), run in context.set_validations.items()}
    return "; ".join([f"{role} {run.outcome}" for role, run in context.validation_runs.items()]
                     + [f"{role} {name} {run.outcome}" for (role, name), run in context.set_validations.items()])


def step_review(context: Context) -> str:
    """Findings from the metrics that did not pass; validate/approve what passed, request changes otherwise."""
    from governance.models.review import Severity
    from governance.services.review import finding_raise
    from governance.services.workflow import version_transition

    validator, approver, developer = context.users[VALIDATOR], context.users[APPROVER], context.users[DEVELOPER]
    due = dt.date.today() + dt.timedelta(days=180)
    for role, run in context.validation_runs.items():
        version = context.versions[role]
        conditioned = [r for (r_role, _), r in context.set_validations.items() if r_role == role]
        failing = [m for r in (run, *conditioned)
                   for m in r.metrics.filter(outcome__in=["FAIL", "WARN"]).order_by("-outcome", "tier", "name")]
        if failing:
            shown = ", ".join(f"{m.tier}:{m.name}{f'[{m.factor}]' if m.factor else ''} {m.outcome}"
                              for m in failing[:8])
            severity = Severity.MEDIUM if run.outcome == "FAIL" else Severity.LOW
            title = f"{len(failing)} validation metrics outside the tier-{run.policy.model_tier} policy"
            description = (f"Validation run {run.pk} against the holdout {run.holdout_start} → {run.holdout_end}: "
                           f"{shown}{' …' if len(failing) > 8 else ''}.")
        else:
            severity, title = Severity.LOW, "Holdout shorter than one full volatility cycle"
            description = (f"All metrics passed on {run.holdout_start} → {run.holdout_end}; re-validate when a "
                           f"stressed period is available outside the training window.")
        context.findings.append(finding_raise(actor=validator, version=version, title=title, description=description,
                                              severity=severity, owner=developer, due_date=due))
        runs = (run, *conditioned)
        decision = "validate" if all(r.outcome in ("PASS", "WARN") for r in runs) else "request_changes"
        reason = ("; ".join(f"{role}: validation run {r.pk} ({r.scenario_set.name}) {r.outcome}" for r in runs)
                  + f" under the tier-{run.policy.model_tier} policy"
                  + ("" if decision == "validate" else "; see the findings"))
        version = version_transition(actor=validator, version=version, action=decision, password=context.password,
                                     reason=reason)
        # The crisis version is a check on the method (trained to 2007, judged on 2008-09): validated,
        # never approved for use.
        if decision == "validate" and role != "crisis":
            version = version_transition(actor=approver, version=version, action="approve",
                                         password=context.password, reason=f"{role} approved for stress testing")
            version = version_transition(actor=approver, version=version, action="put_in_use",
                                         reason=f"{role} in use for the regulatory stress submission")
        context.versions[role] = version
        if version.status == "in_use":
            version = _assign_role(context, role, version)
            context.versions[role] = version
        context.decisions[role] = {"validator": decision, "status": version.status,
                                   "signatures": [f"{s.signer_username}: {s.meaning}"
                                                  for s in version.signatures.order_by("signed_at", "id")]}
    context.summary["review"] = {"findings": [{"id": f.pk, "version": f.version_id, "title": f.title,
                                               "severity": f.severity} for f in context.findings],
                                 "decisions": context.decisions}
    from scenarios.services.comparison import comparison_table

    # The governed comparison (roles set above): what the model page, the API, the PDF and the packet show.
    context.summary["comparison"] = comparison_table(model=context.model, portfolio=context.portfolio)
    approved = [role for role in (s.role for s in context.config.engines)
                if context.versions[role].status in ("approved", "in_use")]
    context.subject = context.versions[approved[0] if approved else context.config.engines[0].role]
    return "; ".join(f"{role} → {d['status']}" for role, d in context.decisions.items())


def _assign_role(context: Context, role: str, version):
    """The champion is the AI version; a classical version in use is the benchmark the champion must match (seed
    003: AI scenarios at least as conservative as the traditional method)."""
    from governance.services.workflow import version_role_set
    from scenarios.engines.registry import DEEP_ENGINES

    inventory_role = "champion" if role == "champion" else (
        "challenger" if version.engine in DEEP_ENGINES else "benchmark")
    return version_role_set(actor=context.users[APPROVER], version=version, role=inventory_role,
                            reason=f"demo: {role} of the stress-scenario model ({version.engine})")


def cited_sets(context: Context) -> list:
    """The sets whose figures the report shows: every validated set but the crisis check's."""
    runs = [*context.validation_runs.items(), *context.set_validations.items()]
    return [run.scenario_set for key, run in runs if (key if isinstance(key, str) else key[0]) != "crisis"]


def step_report(context: Context) -> str:
    if not context.config.render:
        return "skipped"
    try:
        from reports.services.documents import report_pdf_path, report_start
    except ImportError as error:
        raise PipelineError(f"the report renderer is not installed: {error}") from error
    actor = context.users[VALIDATOR]
    version = context.subject
    from scenarios.models import StressResult

    sets = cited_sets(context)
    report = report_start(actor=actor, model_version=version, scenario_sets=sets,
                          stress_results=list(StressResult.objects.filter(scenario_set__in=sets)),
                          seed=context.config.seed)
    context.report = await_run(context, report, what=f"report {report.pk}", queue="cpu")
    path = report_pdf_path(context.report)
    context.summary["report"] = {"id": context.report.pk, "version": version.version, "path": str(path),
                                 "sha256": context.report.sha256, "pages": context.report.pages,
                                 "sections": context.report.sections}
    return f"{context.report.pages} pages, sha256 {context.report.sha256[:12]}…"


def step_packet(context: Context) -> str:
    if not context.config.render:
        return "skipped"
    try:
        from reports.services.packets import packet_path, packet_start
    except ImportError as error:
        raise PipelineError(f"the packet builder is not installed: {error}") from error
    packet = packet_start(actor=context.users[VALIDATOR], report=context.report)
    context.packet = await_run(context, packet, what=f"packet {packet.pk}", queue="cpu")
    path = packet_path(context.packet)
    context.summary["packet"] = {"id": context.packet.pk, "path": str(path), "sha256": context.packet.sha256,
                                 "manifest_sha256": context.packet.manifest_sha256,
                                 "files": len(context.packet.files or [])}
    return f"{len(context.packet.files or [])} files, sha256 {context.packet.sha256[:12]}…"


def step_verify(context: Context) -> str:
    from governance.audit_verify import verify_audit_chain

    messages = []
    if context.packet is not None:
        from reports.services.packets import packet_path, packet_verify

        check = packet_verify(packet_path(context.packet))
        context.summary["packet"] |= {"verified": bool(check.ok), "verify_message": check.message,
                                      "verify_file": check.file}
        if not check.ok:
            raise PipelineError(f"the packet does not verify: {check.message}")
        messages.append(f"packet OK ({check.message})")
    audit = verify_audit_chain()
    context.summary["audit"] = {"ok": audit.ok, "events": audit.n_events, "head_seq": audit.head_seq,
                                "head_hash": audit.head_hash, "checkpoints": audit.n_checkpoints,
                                "reason": audit.reason}
    if not audit.ok:
        raise PipelineError(f"the audit chain does not verify: {audit.reason}")
    messages.append(f"audit chain OK, {audit.n_events:,} events, head {audit.head_hash[:16]}…")
    return "; ".join(messages)
