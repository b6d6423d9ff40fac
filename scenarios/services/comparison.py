"""The champion/challenger comparison: every version in use × condition × VaR/ES, as a first-class result.

Built only from stored ``StressResult`` rows (``scenarios.services.stress.stress_run``), so the table the
API, the model page, the PDF and the packet show is the one a reader can trace back to its stress results.
It replaces the console-only ``pipelines.stress.champion_challenger`` and keeps its measure names
(``var_99``, ``es_99``, ``var_995``, ``es_995``, from ``StressResult.risk["historical"]``).

* **Versions**: those of the model that are approved or in use, or hold a role (champion, challenger,
  benchmark; ``governance.services.workflow.version_role_set``).
* **Condition** of a row: the scenario set's condition, labelled by :func:`condition_label`.
* **Most conservative** (seed 003): per condition and measure, the largest loss figure across the versions,
  and which version it came from. A supervisory condition is its own condition, so the Fed translation's
  figures never stand in for "severe" and the like.
* **Disagreement** (issue 15 §3, seed 001 §5 ensemble disagreement): per condition and measure with at least
  two versions, each version's figure against the median of the *other* versions; a version below
  :data:`BAND` of that median is flagged as far less conservative than its peers.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

from django.db.models import Q

from governance.access import visible_versions
from governance.models import InventoryModel, ModelVersion
from governance.models.inventory import VersionRole, VersionStatus
from scenarios.engines.base import SEVERITIES
from scenarios.engines.fed_tables import scenario_kind
from scenarios.models import Portfolio, StressResult

# The policy's VaR/ES levels for the comparison (the levels the demo and the reports stress at).
LEVELS = (0.99, 0.995)
MEASURES = ("var_99", "es_99", "var_995", "es_995")
# Fixed a priori, not tuned on results: a version whose VaR/ES is below half the median of the other versions
# for the same condition and book is flagged. Half is a deliberately wide band: sampling error of a 99 % VaR
# from a few thousand scenarios is a few per cent, so only a materially less conservative model falls below.
BAND = 0.5

ROLE_ORDER = {VersionRole.CHAMPION: 0, VersionRole.CHALLENGER: 1, VersionRole.BENCHMARK: 2, VersionRole.NONE: 3}
UNCONDITIONED, CUSTOM, SUPERVISORY = "unconditioned", "custom", "supervisory"
CONDITION_ORDER = (UNCONDITIONED, *SEVERITIES, CUSTOM)


def condition_label(condition: Mapping[str, Any] | None) -> str:
    """A scenario set's condition in one word or phrase.

    ``"supervisory <edition> <scenario>"`` for a Fed path (``extra.fed_source`` / ``extra.fed_path``), the
    severity when one was asked, ``"unconditioned"`` for an empty condition, ``"custom"`` otherwise (a vol
    multiplier or target moves without a severity word).
    """
    condition = condition or {}
    extra = condition.get("extra") or {}
    if extra.get("fed_path") or extra.get("fed_source"):
        source = extra.get("fed_source") if isinstance(extra.get("fed_source"), Mapping) else {}
        path = extra.get("fed_path") if isinstance(extra.get("fed_path"), Mapping) else {}
        name = source.get("scenario") or path.get("scenario_name") or ""
        try:
            scenario = scenario_kind(name) if name else ""
        except ValueError:  # a name the Fed tables do not use: keep it as written
            scenario = "_".join(str(name).lower().split())
        return " ".join(p for p in (SUPERVISORY, str(source.get("edition") or ""), scenario) if p)
    if condition.get("severity"):
        return str(condition["severity"])
    if condition.get("targets") or condition.get("vol_multiplier") not in (None, 1, 1.0):
        return CUSTOM
    return UNCONDITIONED


def _condition_rank(label: str) -> tuple[int, str]:
    if label in CONDITION_ORDER:
        return CONDITION_ORDER.index(label), label
    return len(CONDITION_ORDER), label


def measure_name(level: float) -> str:
    """0.99 → ``var_99``'s tag ``99``; 0.995 → ``995`` (the naming of the console table it replaces)."""
    permille = round(float(level) * 1000)
    return f"{permille // 10}" if permille % 10 == 0 else f"{permille / 10:g}".replace(".", "")


def stress_measures(stress: StressResult) -> dict[str, float | None]:
    """VaR/ES of one stress result at :data:`LEVELS` (historical); None where it was not computed."""
    found: dict[str, float | None] = dict.fromkeys(MEASURES)
    for row in (stress.risk or {}).get("historical", []):
        tag = measure_name(row["level"])
        for kind in ("var", "es"):
            key = f"{kind}_{tag}"
            if key in found and row.get(kind) is not None:
                found[key] = float(row[kind])
    return found


def version_label(row: dict) -> str:
    """How a row's version is named in "most conservative" and "disagreement": ``champion v2.0.0``."""
    return f"{row['role']} v{row['version']}" if row["role"] else f"v{row['version']}"


def _versions(model: InventoryModel, user, include=()) -> list[ModelVersion]:
    qs = model.versions.filter(Q(status__in=[VersionStatus.APPROVED, VersionStatus.IN_USE]) | ~Q(role="")
                               | Q(pk__in=[v.pk for v in include]))
    if user is not None:
        qs = visible_versions(user, qs)
    return sorted(qs, key=lambda v: (ROLE_ORDER.get(v.role, 9), v.created_at, v.pk))


def _latest_validation(scenario_set) -> tuple[bool, str | None]:
    # The reverse relation of validation.ValidationRun.scenario_set: read without importing validation,
    # which sits above this app.
    run = scenario_set.validation_runs.filter(status="SUCCEEDED").order_by("-created_at", "-pk").first()
    return run is not None, (run.outcome or None) if run is not None else None


def _most_conservative(rows: list[dict]) -> dict[str, dict]:
    conservative: dict[str, dict] = {}
    for row in rows:
        best = conservative.setdefault(row["condition"], {})
        for key in MEASURES:
            value = row[key]
            if value is not None and (best.get(key) is None or value > best[key]):
                best[key] = value
                best[f"{key}_from"] = version_label(row)
    for best in conservative.values():
        for key in MEASURES:
            best.setdefault(key, None)
            best.setdefault(f"{key}_from", None)
        best["from"] = best["var_99_from"]
    return conservative


def _disagreement(rows: list[dict], band: float) -> list[dict]:
    flags = []
    conditions = sorted({r["condition"] for r in rows}, key=_condition_rank)
    for condition in conditions:
        for measure in MEASURES:
            present = [r for r in rows if r["condition"] == condition and r[measure] is not None]
            if len(present) < 2:
                continue
            for row in present:
                others = statistics.median(r[measure] for r in present if r is not row)
                # A non-positive median (the others' tail is a gain) gives no meaningful ratio: not flagged.
                ratio = row[measure] / others if others > 0 else None
                flags.append({"condition": condition, "measure": measure, "version": version_label(row),
                              "value": row[measure], "median": others, "ratio": ratio,
                              "flagged": ratio is not None and ratio < band})
    return flags


def comparison_table(*, model: InventoryModel, portfolio: Portfolio | None = None, user=None,
                     include=()) -> dict:
    """The comparison of ``model``'s versions on one portfolio, from the latest stress result per version ×
    condition.

    ``portfolio`` defaults to the portfolio of the most recent stress result of those versions. ``user``, when
    given, limits the versions to those the user may see (``governance.access.visible_versions``). ``include``:
    versions to compare whatever their status (a validation compares the candidates under review with the
    versions in use).
    Returns ``{"model", "portfolio", "levels", "rows", "most_conservative", "disagreement", "band"}``.
    """
    versions = _versions(model, user, include)
    results = (StressResult.objects.filter(scenario_set__model_version__in=versions)
               .select_related("scenario_set", "portfolio").order_by("-created_at", "-pk"))
    if portfolio is None:
        latest = results.first()
        portfolio = latest.portfolio if latest is not None else None
    rows: list[dict] = []
    if portfolio is not None:
        latest_for: dict[tuple[int, str], StressResult] = {}
        for stress in results.filter(portfolio=portfolio):
            key = (stress.scenario_set.model_version_id, condition_label(stress.scenario_set.condition))
            latest_for.setdefault(key, stress)  # newest first: the first seen is the latest
        for version in versions:
            for (version_id, condition), stress in latest_for.items():
                if version_id != version.pk:
                    continue
                validated, outcome = _latest_validation(stress.scenario_set)
                rows.append({
                    "version_id": version.pk, "version": version.version,
                    "engine": version.engine or stress.scenario_set.engine, "role": version.role,
                    "status": version.status, "condition": condition, "scenario_set": stress.scenario_set_id,
                    "stress_result": stress.pk, **stress_measures(stress), "validated": validated,
                    "validation_outcome": outcome,
                })
        order = {v.pk: i for i, v in enumerate(versions)}
        rows.sort(key=lambda r: (_condition_rank(r["condition"]), order[r["version_id"]]))
    return {
        "model": model.model_id,
        "portfolio": ({"id": portfolio.pk, "name": portfolio.name, "sha256": portfolio.sha256}
                      if portfolio is not None else None),
        "levels": list(LEVELS),
        "rows": rows,
        "most_conservative": _most_conservative(rows),
        "disagreement": _disagreement(rows, BAND),
        "band": BAND,
    }


__all__ = ["BAND", "LEVELS", "MEASURES", "comparison_table", "condition_label", "measure_name", "stress_measures",
           "version_label"]
