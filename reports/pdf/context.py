"""Everything the documentation PDF prints, gathered from the platform's own records.

Nothing here is typed by hand: every value comes from a governance, scenarios or validation row
(or is computed from one), so the document is a view of the records at render time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.db.models import Model, Q

from governance.models import (
    AuditChainHead,
    AuditCheckpoint,
    AuditEvent,
    Evidence,
    Finding,
    LineageEdge,
    LineageNode,
    ModelVersion,
    Signature,
)
from governance.selectors.lineage import lineage_subgraph
from scenarios.models import Dataset, ScenarioSet, StressResult, TrainingRun
from validation.models import ValidationRun

# NOT_RUN (a tier or metric that tested nothing) ranks below PASS: it is never evidence of a pass.
OUTCOME_ORDER = {"FAIL": 3, "WARN": 2, "PASS": 1, "NOT_RUN": 0, "INFO": -1, "": -1, None: -1}
OUTCOMES = ("PASS", "WARN", "FAIL", "NOT_RUN", "INFO")
# The tiers that judge a cited set as used (issue 15 §1-§3), shown per set in the scenarios section.
SET_TIERS = ("conformance", "plausibility", "coherence", "adversarial")
AUDIT_EXCERPT_LIMIT = 60
LINEAGE_DEPTH = 8
LINEAGE_NODE_LIMIT = 80


def show(value: Any) -> str:
    """A field value as text for a table cell (lists/dicts as compact JSON, None as '—')."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return str(value)


def field_rows(obj: Model, exclude: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Every concrete field of a row (and its many-to-many fields) as (label, text)."""
    skip = set(exclude)
    rows = []
    for field in obj._meta.concrete_fields:
        if field.name in skip:
            continue
        value = getattr(obj, field.name)
        if field.choices:
            value = f"{value} ({getattr(obj, f'get_{field.name}_display')()})" if value else value
        rows.append((str(field.verbose_name), show(value if not isinstance(value, Model) else str(value))))
    for field in obj._meta.many_to_many:
        if field.name in skip:
            continue
        rows.append((str(field.verbose_name), show([str(o) for o in getattr(obj, field.name).all()])))
    return rows


def worst_outcome(outcomes: Iterable[str | None]) -> str:
    values = [o for o in outcomes if o]
    return max(values, key=lambda o: OUTCOME_ORDER.get(o, 0)) if values else "NA"


def _dataset(dataset: Dataset, role: str) -> dict:
    return {"obj": dataset, "role": role, "label": str(dataset), "factors": ", ".join(dataset.factors),
            "kinds": show(dataset.column_kinds), "risk_classes": show(dataset.risk_classes),
            "quality_checks": list((dataset.quality or {}).get("checks", [])),
            "quality": {k: v for k, v in (dataset.quality or {}).items() if k != "checks"}}


def not_run_tiers(run: ValidationRun, rows: Iterable | None = None) -> list[dict]:
    """The tiers of ``run`` that tested nothing, each with why (its rows' ``details["not_run"]``):
    ``[{"tier": "coherence", "reason": "no rule applies", "text": "coherence not run: no rule applies"}]``."""
    outcomes = run.tier_outcomes or {}
    names = sorted(t for t, o in outcomes.items() if o == "NOT_RUN")
    rows = list(run.metrics.all() if rows is None else rows)
    out = []
    for tier in names:
        reasons = list(dict.fromkeys(str((r.details or {}).get("not_run")) for r in rows
                                     if r.tier == tier and (r.details or {}).get("not_run")))
        reason = "; ".join(reasons[:3]) or "nothing to test"
        out.append({"tier": tier, "reason": reason, "text": f"{tier} not run: {reason}"})
    return out


def _not_run_by_tier(validations: list[dict]) -> dict[str, list[int]]:
    by_tier: dict[str, list[int]] = {}
    for v in validations:
        for t in v["not_run"]:
            by_tier.setdefault(t["tier"], []).append(v["obj"].pk)
    return by_tier


def row_message(row) -> str:
    """What a person reads next to a metric row: its message, or why it was not run."""
    details = row.details or {}
    return str(details.get("message") or details.get("not_run") or "")


def _validation(run: ValidationRun) -> dict:
    tiers: dict[str, list] = {}
    rows = list(run.metrics.all())
    for row in rows:
        tiers.setdefault(row.tier, []).append(row)
    return {"obj": run, "policy": str(run.policy), "not_run": not_run_tiers(run, rows), "tiers": [
        {"name": name, "outcome": (run.tier_outcomes or {}).get(name, worst_outcome(r.outcome for r in rows)),
         "metrics": [{"row": r, "message": row_message(r)} for r in rows],
         "counts": {o: sum(r.outcome == o for r in rows) for o in OUTCOMES}}
        for name, rows in tiers.items()]}


def filter_line(report: dict | None) -> str:
    """``plausibility filter removed N of M paths (x %): reasons`` for a set's filter report; "" without one."""
    if not report:
        return ""
    drawn, removed = report.get("drawn"), report.get("removed")
    share = report.get("share")
    if share is None and drawn:
        share = (removed or 0) / drawn
    reasons = "; ".join(f"{label} {count}" for label, count in sorted((report.get("reasons") or {}).items()))
    text = f"plausibility filter removed {removed} of {drawn} paths ({100 * float(share or 0.0):.1f} %)"
    if report.get("max_share") is not None:
        text += f", policy maximum {100 * float(report['max_share']):.1f} %"
    return f"{text}: {reasons or 'no reason recorded'}"


def _set_run(scenario_set: ScenarioSet, runs: list[ValidationRun]) -> ValidationRun | None:
    """The validation run that stands for a cited set: the latest documented one, else its latest SUCCEEDED."""
    documented = [r for r in runs if r.scenario_set_id == scenario_set.pk]
    if documented:
        return max(documented, key=lambda r: (r.created_at, r.pk))
    return (ValidationRun.objects.filter(scenario_set=scenario_set, status="SUCCEEDED")
            .select_related("policy").order_by("-created_at", "-pk").first())


def set_validation(scenario_set: ScenarioSet, runs: list[ValidationRun]) -> dict:
    """One cited set as the PDF shows it: its validation run's outcome, the tiers not run, and its
    conformance, plausibility, coherence and adversarial rows; the out-of-range mark and the filter line."""
    run = _set_run(scenario_set, runs)
    tiers = []
    if run is not None:
        rows = list(run.metrics.all())
        for tier in SET_TIERS:
            picked = [r for r in rows if r.tier == tier]
            if not picked and tier == "adversarial":
                continue
            tiers.append({"name": tier, "outcome": (run.tier_outcomes or {}).get(tier) or (
                worst_outcome(r.outcome for r in picked) if picked else "not requested"),
                "rows": [{"row": r, "message": row_message(r)} for r in picked]})
    return {
        "set": scenario_set, "run": run, "outcome": (run.outcome or "—") if run is not None else "not validated",
        "not_run": not_run_tiers(run) if run is not None else [],
        "tiers": tiers,
        "out_of_range": bool(getattr(scenario_set, "out_of_training_range", False)),
        "out_of_range_reason": getattr(scenario_set, "out_of_range_reason", "") or "",
        "breaches": _breaches(getattr(scenario_set, "condition_bounds", None)),
        "filter_line": filter_line(getattr(scenario_set, "filter_report", None) or {}),
    }


def _breaches(bounds) -> list[str]:
    """The bounds a set's condition breached, as recorded at generation (``condition_bounds["breaches"]``)."""
    breaches = (bounds or {}).get("breaches") if isinstance(bounds, dict) else None
    return [str(b.get("message") or b) if isinstance(b, dict) else str(b) for b in breaches or []]


def coherence_rules_applied(runs: Iterable[ValidationRun]) -> list[dict]:
    """The coherence rules the documented runs applied (one line per distinct rule label), with the sets."""
    seen: dict[str, dict] = {}
    for run in runs:
        for row in run.metrics.filter(tier="coherence"):
            details = row.details or {}
            label = details.get("label")
            if not label:
                continue
            rule = details.get("rule") or {}
            entry = seen.setdefault(str(label), {"label": str(label), "rule": str(rule.get("rule", row.name))
                                                 if isinstance(rule, dict) else str(rule), "sets": []})
            name = run.scenario_set.name
            if name not in entry["sets"]:
                entry["sets"].append(name)
    return list(seen.values())


def familywise_line(settings: dict | None) -> str:
    """The policy's family-wise control across factors in one readable line ("" when the policy has none)."""
    value = (settings or {}).get("familywise")
    if not value:
        return ""
    if isinstance(value, dict):
        method, description = value.get("method"), value.get("description")
        rest = {k: v for k, v in value.items() if k not in ("method", "description")}
        parts = [str(p) for p in (method, description) if p]
        if rest:
            parts.append(", ".join(f"{k} {show(v)}" for k, v in sorted(rest.items())))
        return "; ".join(parts)
    return show(value)


def _policies(runs: Iterable[ValidationRun]) -> list:
    found = {}
    for run in runs:
        if run.policy_id not in found:
            found[run.policy_id] = run.policy
    return [found[k] for k in sorted(found)]


def _usd(value) -> str:
    if value is None or isinstance(value, bool):
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    return f"{number:,.0f} USD"


COMPARISON_MEASURES = ("var_99", "es_99", "var_995", "es_995")
MEASURE_LABELS = {"var_99": "VaR 99%", "es_99": "ES 99%", "var_995": "VaR 99.5%", "es_995": "ES 99.5%"}


def comparison(version: ModelVersion, runs: Iterable[ValidationRun] = ()) -> dict:
    """The champion/challenger table of the version's model (``scenarios.services.comparison``), formatted
    for print: VaR/ES in USD with thousands separators, the most conservative figure per condition with its
    source, the disagreement flags, and the comparison-tier rows of the documented runs."""
    try:
        from scenarios.services.comparison import comparison_table
    except ImportError:  # the comparison service is not installed: the section says so
        table = None
    else:
        table = comparison_table(model=version.model, include=[version])
    return format_comparison(table, runs)


def format_comparison(table: dict | None, runs: Iterable[ValidationRun] = ()) -> dict:
    tier_rows = []
    for run in runs:
        for row in run.metrics.filter(tier="comparison").order_by("name", "factor", "pk"):
            tier_rows.append({"run": run, "row": row, "message": row_message(row)})
    if table is None:
        return {"available": False, "table": None, "rows": [], "conservative": [], "flags": [],
                "tier_rows": tier_rows, "labels": [MEASURE_LABELS[m] for m in COMPARISON_MEASURES]}
    rows = [row | {"cells": [_usd(row.get(m)) for m in COMPARISON_MEASURES]} for row in table.get("rows", [])]
    conservative = [{"condition": condition, "cells": [
        {"label": MEASURE_LABELS[m], "text": _usd(best.get(m)), "source": best.get(f"{m}_from") or "—"}
        for m in COMPARISON_MEASURES]} for condition, best in (table.get("most_conservative") or {}).items()]
    flags = [f | {"label": MEASURE_LABELS.get(f["measure"], f["measure"]), "value_text": _usd(f.get("value")),
                  "median_text": _usd(f.get("median")),
                  "ratio_text": "—" if f.get("ratio") is None else f"{100 * float(f['ratio']):.0f} %"}
             for f in table.get("disagreement", []) if f.get("flagged")]
    return {"available": True, "table": table, "rows": rows, "conservative": conservative, "flags": flags,
            "tier_rows": tier_rows, "labels": [MEASURE_LABELS[m] for m in COMPARISON_MEASURES],
            "band": table.get("band"), "portfolio": table.get("portfolio")}


def _stress(stress: StressResult) -> dict:
    historical = list((stress.risk or {}).get("historical") or [])
    evt = (stress.risk or {}).get("evt_gpd") or {}
    return {"obj": stress, "portfolio": stress.portfolio, "historical": historical, "evt": evt,
            "evt_measures": list(evt.get("measures") or []) if isinstance(evt, dict) else [],
            "worst": list(stress.worst or []), "distribution": stress.distribution or {},
            "positions": list((stress.portfolio.positions or {}).get("positions", []))}


def _audit_objects(version: ModelVersion, scenario_sets, validation_runs, stress_results, findings) -> Q:
    pairs = [("model_version", [version.pk]), ("model", [version.model_id]),
             ("scenario_set", [s.pk for s in scenario_sets]), ("validation_run", [r.pk for r in validation_runs]),
             ("stress_result", [s.pk for s in stress_results]), ("finding", [f.pk for f in findings])]
    training = TrainingRun.objects.filter(model_version=version).values_list("pk", flat=True)
    pairs.append(("training_run", list(training)))
    query = Q(pk__in=[])
    for object_type, ids in pairs:
        if ids:
            query |= Q(object_type=object_type, object_id__in=[str(i) for i in ids])
    return query


def _lineage(roots: list[str]) -> tuple[list[LineageNode], list[LineageEdge]]:
    nodes: dict[int, LineageNode] = {}
    edges: dict[int, LineageEdge] = {}
    for uid in roots:
        if not LineageNode.objects.filter(uid=uid).exists():
            continue
        found, walked = lineage_subgraph(uid=uid, direction="up", depth=LINEAGE_DEPTH)
        nodes.update({n.pk: n for n in found})
        edges.update({e.pk: e for e in walked})
    kept = dict(sorted(nodes.items())[:LINEAGE_NODE_LIMIT])
    return list(kept.values()), [e for _, e in sorted(edges.items())
                                 if e.source_id in kept and e.target_id in kept]


def gather(*, version: ModelVersion, scenario_sets: list[ScenarioSet], validation_runs: list[ValidationRun],
           stress_results: list[StressResult], generated_at: dt.datetime, report_uid: str = "") -> dict[str, Any]:
    """The template context of the documentation PDF (reports/pdf/report.html)."""
    model = version.model
    training = TrainingRun.objects.filter(model_version=version).select_related("dataset").first()
    datasets: dict[int, dict] = {}
    if training is not None:
        datasets[training.dataset_id] = _dataset(training.dataset, "training and holdout")
    for item in [*scenario_sets, *validation_runs]:
        dataset = item.dataset
        if dataset is not None and dataset.pk not in datasets:
            datasets[dataset.pk] = _dataset(dataset, "validation holdout" if isinstance(item, ValidationRun)
                                            else "scenario reference")
    validations = [_validation(run) for run in validation_runs]
    stresses = [_stress(s) for s in stress_results]
    findings = list(Finding.objects.filter(version=version).select_related("raised_by", "owner").order_by("created_at"))
    signatures = list(Signature.objects.filter(version=version).order_by("signed_at", "id"))
    evidence = list(Evidence.objects.filter(version=version).order_by("created_at"))
    audit_query = _audit_objects(version, scenario_sets, validation_runs, stress_results, findings)
    audit_total = AuditEvent.objects.filter(audit_query).count()
    audit = list(AuditEvent.objects.filter(audit_query).order_by("-seq")[:AUDIT_EXCERPT_LIMIT])[::-1]
    head = AuditChainHead.objects.filter(pk=1).first()
    checkpoint = AuditCheckpoint.objects.order_by("-seq", "-id").first()
    roots = [f"model_version:{version.pk}", *[s.lineage_uid for s in scenario_sets],
             *[r.lineage_uid for r in validation_runs], *[s.lineage_uid for s in stress_results]]
    nodes, edges = _lineage(roots)
    first = stresses[0] if stresses else None
    key_stress = []
    if first:
        for m in first["historical"]:
            key_stress.append({"level": m.get("level"), "var": m.get("var"), "es": m.get("es")})
    return {
        "report_uid": report_uid, "generated_at": generated_at, "model": model, "version": version,
        "tier": model.tier, "model_rows": field_rows(model), "version_rows": field_rows(version),
        "regulatory_uses": ", ".join(str(u) for u in (model.regulatory_uses or [])) or "—",
        "overall_outcome": worst_outcome(r.outcome for r in validation_runs),
        "key_stress": key_stress, "key_stress_portfolio": str(first["portfolio"]) if first else "",
        "training": training, "training_config": show(training.config) if training else "—",
        "environment_rows": sorted((str(k), show(v)) for k, v in ((training.environment if training else None)
                                                                   or version.environment or {}).items()),
        "datasets": list(datasets.values()), "scenario_sets": scenario_sets,
        "validations": validations, "stresses": stresses, "findings": findings, "signatures": signatures,
        "evidence": evidence, "audit": audit, "audit_total": audit_total, "chain_head": head,
        "checkpoint": checkpoint, "lineage_nodes": nodes, "lineage_edges": edges,
        "limitations": model.limitations, "assumptions": model.assumptions,
        # each tier that tested nothing in some cited run, with those runs (it may have run in the others)
        "overall_not_run": [f"{tier} in run{'s' if len(ids) > 1 else ''} {', '.join(map(str, ids))}"
                            for tier, ids in sorted(_not_run_by_tier(validations).items())],
        "set_validations": [set_validation(s, validation_runs) for s in scenario_sets],
        "coherence_rules": coherence_rules_applied(validation_runs),
        "policies": [{"policy": p, "coherence_defaults": sorted(((p.suite_settings or {}).get(
            "coherence_defaults") or {}).items()), "familywise": familywise_line(p.suite_settings)}
            for p in _policies(validation_runs)],
        "comparison": comparison(version, validation_runs),
    }
