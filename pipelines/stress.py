"""The sample book, the stress step and the champion/challenger table."""

from __future__ import annotations

from collections.abc import Sequence

from governance.roles import DEVELOPER
from pipelines.context import Context
from pipelines.settings import LEVELS

# The sample book (the same positions as tests/fixtures_reports.py SAMPLE_BOOK) plus a bond; a
# position whose factor the dataset lacks is left out and said so in the summary.
SAMPLE_BOOK = (
    {"kind": "linear", "factor": "SP500", "exposure": 1_000_000.0, "name": "index"},
    {"kind": "linear", "factor": "NASDAQ", "exposure": 500_000.0, "name": "tech"},
    {"kind": "quadratic", "factor": "WTI", "exposure": 200_000.0, "convexity": -50_000.0, "name": "oil"},
    {"kind": "option", "underlying": "SP500", "option_type": "put", "quantity": 100.0, "strike": 2500.0,
     "expiry": 0.5, "spot": 2600.0, "vol": 0.2, "rate": 0.02, "name": "index put"},
)
BOND = {"kind": "bond", "quantity": 1000.0, "coupon": 0.03, "maturity": 10.0, "yield0": 0.03, "name": "10y bond"}


def sample_book(factors: Sequence[str], risk_classes: dict) -> tuple[list[dict], list[str]]:
    """The sample positions the data can price, and a note for each one it cannot."""
    factors = set(factors)
    positions, notes = [], []
    for position in SAMPLE_BOOK:
        factor = position.get("factor") or position.get("underlying")
        if factor in factors:
            positions.append(dict(position))
        else:
            notes.append(f"{position['name']}: left out, the dataset has no {factor} factor")
    rates = sorted(f for f in factors if risk_classes.get(f) == "rates")
    if rates:
        positions.append(BOND | {"rate_factor": rates[0]})
    else:
        notes.append("10y bond: left out — the dataset has no interest-rate factor (arch.data bundles no daily "
                     "rate series; its Moody's yields are monthly), so a bond's P&L cannot be revalued from "
                     "these scenarios")
    if not positions:  # an unrelated dataset: one unit long each factor, so the stress still means something
        positions = [{"kind": "linear", "factor": f, "exposure": 1_000_000.0, "name": f"long {f}"}
                     for f in sorted(factors)]
        notes.append("no sample position matches the dataset: a unit long position per factor is used")
    return positions, notes


def step_stress(context: Context) -> str:
    from scenarios.services.stress import portfolio_create, stress_run

    developer = context.users[DEVELOPER]
    positions, notes = sample_book(context.dataset.factors, context.dataset.risk_classes)
    context.portfolio = portfolio_create(actor=developer, name="Demo sample book", positions=positions,
                                         description="equity index, tech-heavy equity, oil, index put (and a bond "
                                                     "where the data has a rate factor)")
    context.book_notes = notes
    keys = [k for k in context.sets if k[0] != "crisis"]
    for i, key in enumerate(keys):
        context.stress[key] = stress_run(actor=developer, scenario_set=context.sets[key],
                                         portfolio=context.portfolio, levels=LEVELS, k=5)
        context.tick((i + 1) / len(keys), f"stress {key[0]} {key[1]}")
    table = champion_challenger(context)
    context.summary["portfolio"] = {"id": context.portfolio.pk, "positions": [p["name"] for p in positions],
                                    "notes": notes, "sha256": context.portfolio.sha256}
    context.summary["stress"] = table
    worst = table["most_conservative"].get("severe") or table["most_conservative"].get("unconditioned") or {}
    return f"most conservative severe 99% VaR {worst.get('var_99', float('nan')):,.0f} USD ({worst.get('from')})"


def _measures(stress) -> dict:
    out = {}
    for row in stress.risk.get("historical", []):
        level = round(float(row["level"]) * 1000)
        tag = f"{level // 10}" if level % 10 == 0 else f"{level / 10:g}".replace(".", "")
        out[f"var_{tag}"] = row.get("var")
        out[f"es_{tag}"] = row.get("es")
    return out


def champion_challenger(context: Context) -> dict:
    """VaR/ES per version and condition, and the most conservative figure across the versions."""
    rows = []
    for (role, condition), stress in context.stress.items():
        version = context.versions[role]
        rows.append({"role": role, "version": version.version, "engine": version.engine, "condition": condition,
                     "stress_result": stress.pk, **_measures(stress),
                     "worst": [{"scenario": w.get("scenario"), "loss": w.get("loss")} for w in stress.worst[:3]]})
    conservative: dict[str, dict] = {}
    for row in rows:
        if row["role"] == "supervisory":
            continue
        best = conservative.setdefault(row["condition"], {})
        for key, value in row.items():
            if (key.startswith(("var_", "es_")) and value is not None
                    and (best.get(key) is None or value > best[key])):
                best[key] = value
                best[f"{key}_from"] = f"{row['role']} v{row['version']}"
        best["from"] = best.get("var_99_from")
    return {"levels": list(LEVELS), "rows": rows, "most_conservative": conservative}
