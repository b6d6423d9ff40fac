"""Portfolio revaluation throughput: 1,000,000 one-day scenarios × a 500-position portfolio on 50 factors.

Two figures: the linear/quadratic book alone (target ≤ 5 s on 2 cores) and a mixed book where
50 of the 500 positions are Black–Scholes options and 50 are fully repriced bonds. Also a 10-day
horizon run (P&L per day) on 100,000 scenarios.
"""

from __future__ import annotations

import numpy as np

from bench import median_seconds
from scenarios.engines.revaluation import (
    BondPosition,
    LinearPosition,
    OptionPosition,
    Portfolio,
    QuadraticPosition,
    revalue,
)

N_FACTORS = 50
N_POSITIONS = 500


def _portfolio(rng: np.random.Generator, factors: list[str], n_options: int, n_bonds: int) -> Portfolio:
    positions: list = []
    n_lin = N_POSITIONS - n_options - n_bonds
    for i in range(n_lin):
        factor = factors[i % N_FACTORS]
        if i % 2:
            positions.append(QuadraticPosition(factor, convexity=float(rng.normal(0, 1e4)),
                                               exposure=float(rng.normal(0, 1e5))))
        else:
            positions.append(LinearPosition(factor, exposure=float(rng.normal(0, 1e5))))
    for i in range(n_options):
        positions.append(OptionPosition(underlying=factors[i % 10], option_type="call" if i % 2 else "put",
                                        quantity=float(rng.normal(0, 100)), strike=float(rng.uniform(80, 120)),
                                        expiry=float(rng.uniform(0.1, 2.0)), spot=100.0, vol=0.2, rate=0.03,
                                        dividend_yield=0.01, vol_factor=factors[10], rate_factor=factors[11]))
    for i in range(n_bonds):
        positions.append(BondPosition(rate_factor=factors[11 + i % 5], quantity=float(rng.normal(0, 1000)),
                                      coupon=0.04, maturity=float(rng.uniform(1, 30)), yield0=0.04, frequency=2,
                                      spread_factor=factors[20]))
    return Portfolio(tuple(positions))


def portfolio_revaluation(quick: bool = False) -> dict:
    rng = np.random.default_rng(0)
    n = 50_000 if quick else 1_000_000
    factors = [f"f{i:02d}" for i in range(N_FACTORS)]
    scenarios = rng.normal(0.0, 0.01, size=(n, 1, N_FACTORS))
    linear_book = _portfolio(rng, factors, 0, 0)
    mixed_book = _portfolio(rng, factors, 50, 50)
    repeats = 3 if quick else 5

    seconds, pnl = median_seconds(lambda: revalue(scenarios, factors, linear_book), repeats)
    mixed_seconds, mixed = median_seconds(lambda: revalue(scenarios, factors, mixed_book), repeats)

    n_multi = 10_000 if quick else 100_000
    multi = rng.normal(0.0, 0.01, size=(n_multi, 10, N_FACTORS))
    multi_seconds, _ = median_seconds(lambda: revalue(multi, factors, mixed_book), repeats)
    return {
        "seconds": seconds,
        "target_seconds": 5.0,
        "scenarios": n,
        "horizon": 1,
        "factors": N_FACTORS,
        "positions": N_POSITIONS,
        "linear_quadratic_seconds": seconds,
        "mixed_with_50_options_50_bonds_seconds": mixed_seconds,
        "horizon10_scenarios": n_multi,
        "horizon10_mixed_seconds": multi_seconds,
        "scenarios_per_second_linear": n / seconds,
        "scenarios_per_second_mixed": n / mixed_seconds,
        "mixed_black_scholes_evaluations": n * 50,
        "mixed_bond_repricings": n * 50,
        "pnl_std_linear": float(pnl.final.std()),
        "pnl_std_mixed": float(mixed.final.std()),
        "repeats": repeats,
    }


BENCHMARKS = {"portfolio_revaluation": portfolio_revaluation}
