"""What the coherence tier of a validation run tests: its rules and, for an option-bearing book, the
no-arbitrage checks of the revalued options (read-only: nothing is written).

Rules are the run's configured ``options["coherence_rules"]``, else the policy's defaults
(``validation.coherence_defaults``) for the factors of the scenario set as its dataset describes them,
with each level factor starting at its level on the run's ``train_end`` (the last row of the dataset's
canonical level table on or before it). Options: when the run names a portfolio (``options["portfolio"]``)
holding option positions, each is revalued on the scenarios by the project's revaluation engine
(``scenarios.engines.revaluation.revalue``: Black–Scholes–Merton with the shocked spot, vol and rate), one
unit at a time, as the position itself, a call and a put at its strike and expiry, and at strike × 1.01
and × 0.99; the value at the horizon's end is the P&L plus the price at inception (the engine's own
``black_scholes_price``).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from governance.artifacts import read_bytes
from scenarios import datasets as checks
from scenarios.engines import revaluation
from scenarios.models import Portfolio
from validation.coherence_defaults import LEVEL_KINDS, default_rules, no_default_reason
from validation.models import ValidationRun
from validation.policy_defaults import SETTINGS

STRIKE_BUMP = 0.01  # strike × (1 ± 1 %) for the monotonicity check


def coherence_settings(run: ValidationRun) -> dict:
    """The policy's ``coherence_defaults``; a policy before version 4 has none: the current defaults."""
    stored = (run.policy.suite_settings or {}).get("coherence_defaults") if run.policy_id else None
    return dict(stored or SETTINGS["coherence_defaults"])


def starting_levels(run: ValidationRun, factors: list[str]) -> dict[str, float]:
    """Each level-modelled factor's level on the run's ``train_end`` (the last row on or before it)."""
    dataset = run.dataset
    wanted = [f for f in factors if dataset.column_kinds.get(f) in LEVEL_KINDS]
    if not wanted:
        return {}
    table = checks.read_canonical(read_bytes(dataset.storage_path, expected_sha256=dataset.sha256))
    if run.train_end is not None:
        table = table[table.index <= pd.Timestamp(run.train_end)]
    if table.empty:
        return {}
    last = table.iloc[-1]
    return {f: float(last[f]) for f in wanted if f in last.index and math.isfinite(float(last[f]))}


def _option_value(synthetic: np.ndarray, factors: list[str], position: revaluation.OptionPosition) -> np.ndarray:
    """One unit of ``position`` revalued at the horizon's end on every scenario."""
    pnl = revaluation.revalue(synthetic, factors, revaluation.Portfolio(positions=(position,)))
    price0 = float(revaluation.black_scholes_price(position.spot, position.strike, position.expiry, position.rate,
                                                   position.vol, position.dividend_yield, position.option_type))
    return pnl.final + price0


def _option_check(synthetic: np.ndarray, factors: list[str], position: revaluation.OptionPosition,
                  label: str) -> dict:
    unit = dataclasses.replace(position, quantity=1.0)
    cumulative = synthetic.sum(axis=1)  # [n, F]: the move at the horizon's end
    index = {f: j for j, f in enumerate(factors)}
    # Time left as the engine counts it (revaluation._Plan: expiry − horizon / days per year); expired: T = 0.
    t_left = max(position.expiry - synthetic.shape[1] / revaluation.DEFAULT_DAYS_PER_YEAR, 0.0)
    rate = np.full(synthetic.shape[0], position.rate)
    if position.rate_factor is not None:
        rate = rate + position.rate_scale * cumulative[:, index[position.rate_factor]]
    strike = position.strike
    return {
        "position": label, "option_type": position.option_type, "strike": strike,
        "values": _option_value(synthetic, factors, unit),
        "call": _option_value(synthetic, factors, dataclasses.replace(unit, option_type="call")),
        "put": _option_value(synthetic, factors, dataclasses.replace(unit, option_type="put")),
        "values_up": _option_value(synthetic, factors, dataclasses.replace(unit, strike=strike * (1 + STRIKE_BUMP))),
        "values_down": _option_value(synthetic, factors,
                                     dataclasses.replace(unit, strike=strike * (1 - STRIKE_BUMP))),
        "spot": position.spot * np.exp(cumulative[:, index[position.underlying]]),
        "discount": np.exp(-rate * t_left),
        "dividend_discount": np.full(synthetic.shape[0], math.exp(-position.dividend_yield * t_left)),
    }


def option_checks(run: ValidationRun, synthetic: np.ndarray, factors: list[str]) -> tuple[list[dict] | None, str]:
    """The no-arbitrage check dicts of the run's portfolio's options (None when there are none), and a note."""
    portfolio_id = (run.options or {}).get("portfolio")
    if portfolio_id is None:
        return None, ""
    row = Portfolio.objects.filter(pk=portfolio_id).first()
    if row is None:
        return None, f"portfolio {portfolio_id} does not exist"
    book = revaluation.Portfolio.from_dict(row.positions)
    options = [p for p in book.positions if isinstance(p, revaluation.OptionPosition)]
    if not options:
        return None, f"{row} holds no option"
    checks_, skipped = [], []
    for i, position in enumerate(options):
        label = position.name or f"{position.option_type} {position.underlying} K={position.strike:g} #{i}"
        needed = [f for f in (position.underlying, position.vol_factor, position.rate_factor) if f]
        if any(f not in factors for f in needed):
            skipped.append(label)
            continue
        checks_.append(_option_check(synthetic, factors, position, label))
    note = f"options on factors outside the set not checked: {', '.join(skipped)}" if skipped else ""
    return checks_ or None, note


def coherence_inputs(run: ValidationRun, synthetic: np.ndarray | None = None) -> dict:
    """``{"rules", "option_checks", "parity_tolerance", "source", "note"}`` for the run's coherence tier.

    ``source`` is ``"configured"`` (the run's ``coherence_rules``) or ``"policy defaults"``; ``note`` says
    why nothing applies when there is no rule (pass it to ``coherence_tier(reason=...)``).
    """
    factors = list(run.scenario_set.factors)
    settings = coherence_settings(run)
    if synthetic is None:
        from scenarios.services.scenario_sets import scenario_set_array

        synthetic = scenario_set_array(run.scenario_set)
    synthetic = np.asarray(synthetic, dtype=np.float64)
    configured = (run.options or {}).get("coherence_rules")
    notes = []
    if configured:
        rules, source = [dict(rule) for rule in configured], "configured"
    else:
        dataset = run.dataset
        level0 = starting_levels(run, factors)
        rules = default_rules(factors, dataset.risk_classes, dataset.column_kinds, level0, settings)
        source = "policy defaults"
        if not rules:
            notes.append(no_default_reason(factors, dataset.risk_classes, dataset.column_kinds, level0))
    checks_, option_note = option_checks(run, synthetic, factors)
    if option_note:
        notes.append(option_note)
    return {"rules": rules, "option_checks": checks_,
            "parity_tolerance": float(settings.get("option_parity_tolerance", 0.001)),
            "source": source, "note": "; ".join(notes)}
