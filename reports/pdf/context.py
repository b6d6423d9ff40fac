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

OUTCOME_ORDER = {"FAIL": 3, "WARN": 2, "PASS": 1, "INFO": 0, "": 0, None: 0}
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


def _validation(run: ValidationRun) -> dict:
    tiers: dict[str, list] = {}
    for row in run.metrics.all():
        tiers.setdefault(row.tier, []).append(row)
    return {"obj": run, "policy": str(run.policy), "tiers": [
        {"name": name, "outcome": (run.tier_outcomes or {}).get(name, worst_outcome(r.outcome for r in rows)),
         "metrics": rows, "counts": {o: sum(r.outcome == o for r in rows) for o in ("PASS", "WARN", "FAIL", "INFO")}}
        for name, rows in tiers.items()]}


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
    }
