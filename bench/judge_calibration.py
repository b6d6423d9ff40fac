"""``judge_calibration``: how often the judge FAILs (or WARNs) an ideal generator (issue 15 §5).

Two ideal generators, judged with the tier-2 policy and its suite settings (family-wise control on):

* ``resampled``: a block bootstrap of a real holdout (S&P 500, NASDAQ, WTI log-returns 2015-18, plus
  factors loading on them), judged against that holdout, the holdout also standing for the training window;
* ``var1``: a Gaussian VAR(1) with fixed parameters; its draws are the training window, the holdout and the
  scenarios.

For each, 3 and 20 factors over ``seeds`` seeds: per metric, the share of (seed, metric) families with at least
one FAIL (the family-wise false-FAIL rate the policy's ``alpha`` bounds) and with at least one WARN, and the
same without the family-wise rule (row by row, as policies before version 4). Run directly for ``--seeds``:
``python -m bench.judge_calibration --seeds 10 --json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict

import numpy as np

# Not memorisation: a resampled holdout is made of copies of real windows, a memoriser by construction.
TIERS = ("univariate", "multivariate", "temporal", "stylized_facts")
HOLDOUT_DAYS, PATHS, HORIZON = 750, 500, 20


def real_panel(n_factors: int, rng: np.random.Generator) -> np.ndarray:
    """The last 750 days of S&P 500 / NASDAQ / WTI log-returns, plus simulated factors loading on them."""
    import pandas as pd
    from arch.data import nasdaq, sp500, wti

    prices = pd.concat({"SP500": sp500.load()["Adj Close"], "NASDAQ": nasdaq.load()["Adj Close"],
                        "WTI": pd.to_numeric(wti.load()["DCOILWTICO"], errors="coerce")}, axis=1,
                       sort=True).dropna()
    base = np.log(prices).diff().dropna().to_numpy()[-HOLDOUT_DAYS:]
    base = base[:, :n_factors]
    extra = n_factors - base.shape[1]
    if extra <= 0:
        return base
    loadings = rng.normal(0, 0.6, size=(base.shape[1], extra))
    noise = rng.standard_t(4, size=(len(base), extra)) * 0.006
    return np.hstack([base, base @ loadings + noise])


def var1(days: int, n_factors: int, rng: np.random.Generator, *, burn: int = 100) -> np.ndarray:
    """x_t = 0.1 x_{t-1} + e_t, e_t ~ N(0, 1e-4 (0.5 I + 0.5 J)) (equicorrelated 0.5), after ``burn`` days."""
    chol = np.linalg.cholesky(0.5 * np.eye(n_factors) + 0.5)
    shocks = rng.standard_normal((days + burn, n_factors)) @ chol.T * 0.01
    x = np.zeros((days + burn, n_factors))
    for t in range(1, days + burn):
        x[t] = 0.1 * x[t - 1] + shocks[t]
    return x[burn:]


def ideal_inputs(kind: str, n_factors: int, seed: int):
    """The suite's inputs for one ideal generator: ``resampled`` (real holdout) or ``var1`` (parametric)."""
    from validation import suite
    from validation.metrics.result import block_bootstrap_paths

    rng = np.random.default_rng(seed)
    if kind == "resampled":
        holdout = real_panel(n_factors, np.random.default_rng(0))
        train = holdout
        synthetic = block_bootstrap_paths(holdout, PATHS, HORIZON, rng)
    elif kind == "var1":
        train, holdout = var1(2 * HOLDOUT_DAYS, n_factors, rng), var1(HOLDOUT_DAYS, n_factors, rng)
        synthetic = np.stack([var1(HORIZON, n_factors, rng, burn=30) for _ in range(PATHS)])
    else:
        raise ValueError(f"unknown ideal generator {kind!r}")
    return suite.Inputs(synthetic=synthetic, train=train, holdout=holdout,
                        factors=[f"F{i:02d}" for i in range(n_factors)], kinds=["equity"] * n_factors)


def judged_rows(kind: str, n_factors: int, seed: int, *, familywise: bool = True, tiers=TIERS):
    from validation import suite
    from validation.outcomes import judge
    from validation.policy_defaults import SETTINGS, thresholds_for

    results = suite.statistical(ideal_inputs(kind, n_factors, seed), list(tiers), rng=np.random.default_rng(seed))
    settings = SETTINGS if familywise else {k: v for k, v in SETTINGS.items() if k != "familywise"}
    return judge(results, thresholds_for(2), settings=settings)


def rates(kind: str, n_factors: int, seeds: int, *, familywise: bool) -> dict:
    """Per metric: the share of seeds with at least one FAIL (and WARN) among its rows."""
    fails, warns, rows = defaultdict(int), defaultdict(int), defaultdict(int)
    for seed in range(seeds):
        outcomes = defaultdict(set)
        for item in judged_rows(kind, n_factors, seed, familywise=familywise):
            if item.outcome in ("PASS", "WARN", "FAIL"):
                outcomes[item.result.name].add(item.outcome)
                rows[item.result.name] += 1
        for name, seen in outcomes.items():
            fails[name] += "FAIL" in seen
            warns[name] += "WARN" in seen
    per_metric = {name: {"false_fail_rate": fails[name] / seeds, "false_warn_rate": warns[name] / seeds,
                         "rows_per_seed": rows[name] / seeds} for name in sorted(rows)}
    families = len(per_metric) * seeds
    return {"per_metric": per_metric,
            "false_fail_rate": sum(fails.values()) / families if families else 0.0,
            "false_warn_rate": sum(warns.values()) / families if families else 0.0,
            "metrics": len(per_metric)}


def judge_calibration(quick: bool = False, seeds: int | None = None) -> dict:
    from validation.policy_defaults import SETTINGS

    seeds = seeds or (2 if quick else 5)
    start = time.perf_counter()
    out: dict = {"seeds": seeds, "paths": PATHS, "horizon": HORIZON, "holdout_days": HOLDOUT_DAYS,
                 "tiers": list(TIERS), "policy_tier": 2, "familywise": SETTINGS["familywise"]}
    for kind in ("resampled", "var1"):
        for n_factors in (3, 20):
            key = f"{kind}_{n_factors}_factors"
            out[key] = rates(kind, n_factors, seeds, familywise=True)
            row_by_row = rates(kind, n_factors, seeds, familywise=False)
            out[key]["row_by_row"] = {"false_fail_rate": row_by_row["false_fail_rate"],
                                      "false_warn_rate": row_by_row["false_warn_rate"]}
    out["seconds"] = time.perf_counter() - start
    return out


BENCHMARKS = {"judge_calibration": judge_calibration}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.judge_calibration", description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    args = parser.parse_args()
    json.dump(judge_calibration(seeds=args.seeds), sys.stdout, indent=2, sort_keys=True, default=float)
    print()
