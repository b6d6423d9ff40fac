"""What the approval queue shows of each version (issue 17 §4): the validation outcome per test tier from the
evidence rows, the open findings by severity, the champion/challenger comparison, one decision link per action.

Reads only (evidence, findings, stored stress results); ``approval_queue`` in ``portal.views.review`` renders it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.urls import reverse

from governance.models import ModelVersion
from governance.models.review import OPEN_FINDING_STATUSES, EvidenceKind, Severity
from portal.decisions import decision_choices
from scenarios.services.comparison import LEVELS, MEASURES, comparison_table, measure_name, version_label

_VALIDATION_SOURCE = re.compile(r"^validation_run:(\d+)$")
# The actions the queue offers a button for, in the order an approver reads them.
ACTION_LABELS = {"approve": "Approve", "reject": "Reject", "request_changes": "Request changes",
                 "put_in_use": "Put in use", "retire": "Retire"}


def _usd(value) -> str:
    return "—" if value is None else f"{value:,.0f} USD"


@dataclass
class ApprovalRow:
    version: ModelVersion
    evidence: list[dict] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    severities: list[dict] = field(default_factory=list)
    open_findings: list = field(default_factory=list)
    comparison: dict = field(default_factory=dict)
    actions: list[dict] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


def _evidence(version: ModelVersion) -> tuple[list[dict], list[str]]:
    rows, tiers = [], []
    for item in version.evidence.filter(kind=EvidenceKind.VALIDATION_RUN).order_by("created_at", "pk"):
        summary = item.summary if isinstance(item.summary, dict) else {}
        outcomes = summary.get("tier_outcomes") if isinstance(summary.get("tier_outcomes"), dict) else {}
        for tier in outcomes:
            if tier not in tiers:
                tiers.append(tier)
        match = _VALIDATION_SOURCE.match(item.source)
        rows.append({"evidence": item, "outcomes": outcomes, "scenario_set": summary.get("scenario_set"),
                     "policy": summary.get("policy", ""), "not_run": summary.get("not_run_tiers") or [],
                     "url": reverse("portal:validation_run", args=[int(match.group(1))]) if match else ""})
    for row in rows:
        row["cells"] = [row["outcomes"].get(tier, "") for tier in tiers]
    return rows, tiers


def _comparison(version: ModelVersion, user) -> dict:
    table = comparison_table(model=version.model, user=user, include=[version])
    labels = [f"{name} {q * 100:g}%" for q in LEVELS for name in ("VaR", "ES")]
    order = [f"{kind}_{measure_name(q)}" for q in LEVELS for kind in ("var", "es")]
    assert set(order) == set(MEASURES)
    rows = [{"condition": r["condition"], "version": r["version"], "version_id": r["version_id"],
             "role": r["role"], "engine": r["engine"], "candidate": r["version_id"] == version.pk,
             "cells": [_usd(r[m]) for m in order], "validated": r["validated"],
             "validation_outcome": r["validation_outcome"]} for r in table["rows"]]
    mine = {version_label(r) for r in table["rows"] if r["version_id"] == version.pk}
    return {"portfolio": table["portfolio"], "labels": labels, "rows": rows,
            "flags": [f for f in table["disagreement"] if f["flagged"] and f["version"] in mine]}


def approval_rows(user, versions) -> list[ApprovalRow]:
    out = []
    for version in versions:
        row = ApprovalRow(version=version)
        row.evidence, row.tiers = _evidence(version)
        open_findings = list(version.findings.filter(status__in=OPEN_FINDING_STATUSES).order_by("pk"))
        row.open_findings = open_findings
        row.severities = [{"severity": value, "label": label,
                           "count": sum(1 for f in open_findings if f.severity == value)}
                          for value, label in Severity.choices]
        row.comparison = _comparison(version, user)
        for choice in decision_choices(user, version):
            action = choice.transition.action
            label = ACTION_LABELS.get(action, action.replace("_", " ").capitalize())
            if choice.allowed:
                row.actions.append({"action": action, "label": label,
                                    "url": f"{reverse('portal:decision', args=[version.pk])}?action={action}"})
            else:
                row.refusals.append(f"{label}: {choice.reason}")
        out.append(row)
    return out
