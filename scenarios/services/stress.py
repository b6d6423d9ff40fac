"""Portfolios (versioned positions) and stress results (a scenario set applied to a portfolio)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from django.db import transaction
from django.db.models import Max

from governance.access import require_any_role
from governance.artifacts import store_bytes
from governance.canonical import canonical_json, jsonable, sha256_hex
from governance.errors import InvalidInput
from governance.roles import ADMIN, DEVELOPER, VALIDATOR
from governance.services.audit import audit_record
from governance.services.lineage import lineage_entity, lineage_record_activity
from scenarios.engines import revaluation, risk
from scenarios.models import Portfolio, ScenarioSet, StressResult
from scenarios.services.scenario_sets import scenario_set_array

DEFAULT_LEVELS = (0.95, 0.99, 0.995)


def _finite(value: Any) -> Any:
    """JSON has no infinity: an infinite ES (GPD with ξ ≥ 1) is stored as null, and said so."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


@transaction.atomic
def portfolio_create(*, actor, name: str, positions: Sequence[dict], description: str = "",
                     currency: str = "USD") -> Portfolio:
    """A new version of a named portfolio; positions are checked by the revaluation engine."""
    require_any_role(actor, DEVELOPER, VALIDATOR, ADMIN)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("a portfolio needs a name of 1–100 characters", details={"name": ["required"]})
    try:
        book = revaluation.Portfolio.from_dict({"name": name, "currency": currency, "positions": list(positions)})
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"invalid positions: {error}", details={"positions": [str(error)]}) from error
    if not book.positions:
        raise InvalidInput("a portfolio needs at least one position", details={"positions": ["empty"]})
    spec = jsonable(book.to_dict())
    version = (Portfolio.objects.select_for_update().filter(name=name).aggregate(v=Max("version"))["v"] or 0) + 1
    portfolio = Portfolio.objects.create(name=name, version=version, description=description,
                                         positions=spec, factors=sorted(book.factors),
                                         sha256=sha256_hex(canonical_json(spec)), created_by=actor)
    audit_record(actor=actor, action="portfolio.created", object_type="portfolio", object_id=portfolio.pk,
                 after={"name": name, "version": version, "sha256": portfolio.sha256,
                        "positions": len(book.positions), "factors": portfolio.factors})
    entity = lineage_entity(uid=portfolio.lineage_uid, kind="portfolio", label=str(portfolio),
                            sha256=portfolio.sha256, object_type="portfolio", object_id=portfolio.pk, actor=actor)
    lineage_record_activity(activity_uid=f"portfolio_entry:{portfolio.pk}", kind="import",
                            label=f"enter {portfolio}", generated=[entity], agents=[actor], actor=actor)
    return portfolio


def portfolio_create_from_csv(*, actor, name: str, data: bytes, description: str = "") -> Portfolio:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput("the positions file is not UTF-8 text", details={"file": [str(error)]}) from error
    try:
        book = revaluation.portfolio_from_csv_rows(csv.DictReader(io.StringIO(text)), name=name)
    except (ValueError, csv.Error) as error:
        raise InvalidInput(f"invalid positions file: {error}", details={"file": [str(error)]}) from error
    return portfolio_create(actor=actor, name=name, description=description,
                            positions=book.to_dict()["positions"])


def _pnl_parquet(by_day: np.ndarray) -> bytes:
    n, horizon = by_day.shape
    table = pa.Table.from_arrays(
        [pa.array(np.repeat(np.arange(n, dtype=np.int32), horizon)),
         pa.array(np.tile(np.arange(1, horizon + 1, dtype=np.int32), n)),
         pa.array(np.ascontiguousarray(by_day, dtype=np.float64).reshape(-1))],
        names=["scenario", "step", "pnl"])
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", use_dictionary=False, write_statistics=False,
                   store_schema=False)
    return buffer.getvalue()


def compute_stress(paths: np.ndarray, factors: Sequence[str], book: revaluation.Portfolio, *,
                   levels: Sequence[float] = DEFAULT_LEVELS, k: int = 10) -> dict[str, Any]:
    """P&L, VaR/ES (historical and EVT/GPD), worst-k and the loss distribution of one portfolio."""
    pnl = revaluation.revalue(paths, list(factors), book)
    losses = pnl.losses
    historical = [m.to_dict() for m in risk.historical_var_es(losses, levels)]
    try:
        evt: dict | None = risk.gpd_tail(losses, levels).to_dict()
    except ValueError as error:  # too few exceedances, or a level inside the body
        evt = {"error": str(error)}
    return {
        "pnl": pnl,
        "risk": {"historical": historical, "evt_gpd": evt, "pnl": pnl.to_dict()},
        "worst": [w.to_dict() for w in risk.worst_scenarios(pnl.final, paths, list(factors), k=k)],
        "distribution": risk.loss_summary(losses).to_dict(),
    }


@transaction.atomic
def stress_run(*, actor, scenario_set: ScenarioSet, portfolio: Portfolio,
               levels: Sequence[float] = DEFAULT_LEVELS, k: int = 10) -> StressResult:
    require_any_role(actor, DEVELOPER, VALIDATOR, ADMIN)
    missing = sorted(set(portfolio.factors) - set(scenario_set.factors))
    if missing:
        raise InvalidInput(f"the portfolio needs factors the scenario set lacks: {', '.join(missing)}",
                           details={"portfolio": missing})
    if not 1 <= k <= 1000:
        raise InvalidInput("k must be 1..1000", details={"k": [str(k)]})
    levels = tuple(float(q) for q in levels)
    if not levels or any(not (0.5 <= q < 1) for q in levels):
        raise InvalidInput("levels must lie in [0.5, 1)", details={"levels": [str(levels)]})
    book = revaluation.Portfolio.from_dict(portfolio.positions)
    try:
        result = compute_stress(scenario_set_array(scenario_set), scenario_set.factors, book, levels=levels, k=k)
    except ValueError as error:
        raise InvalidInput(f"the stress could not be computed: {error}", details={"stress": [str(error)]}) from error
    blob = _pnl_parquet(result["pnl"].by_day)
    path, sha = store_bytes(blob, suffix=".parquet")
    stress = StressResult.objects.create(
        scenario_set=scenario_set, portfolio=portfolio, levels=list(levels), risk=jsonable(_finite(result["risk"])),
        worst=jsonable(_finite(result["worst"])), distribution=jsonable(_finite(result["distribution"])),
        pnl_sha256=sha,
        pnl_path=path, created_by=actor)
    audit_record(actor=actor, action="stress_result.created", object_type="stress_result", object_id=stress.pk,
                 after={"scenario_set": scenario_set.pk, "portfolio": portfolio.pk, "pnl_sha256": sha,
                        "historical": stress.risk["historical"]})
    entity = lineage_entity(uid=stress.lineage_uid, kind="stress_result", label=str(stress), sha256=sha,
                            object_type="stress_result", object_id=stress.pk, actor=actor)
    lineage_record_activity(activity_uid=f"stress:{stress.pk}", kind="stress", label=f"stress {stress.pk}",
                            used=[scenario_set.lineage_uid, portfolio.lineage_uid], generated=[entity],
                            agents=[actor], actor=actor)
    return stress
