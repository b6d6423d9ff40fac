"""``validation_suite``: the whole suite on 10,000 scenarios × 20 days × 50 factors vs 20 years of history."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from bench import median_seconds


def _history(n_factors: int, rng: np.random.Generator) -> pd.DataFrame:
    """Real S&P 500 / NASDAQ / WTI log-returns (1999–2018) plus simulated factors loading on them."""
    from arch.data import nasdaq, sp500, wti

    prices = pd.concat({"SP500": sp500.load()["Adj Close"], "NASDAQ": nasdaq.load()["Adj Close"],
                        "WTI": pd.to_numeric(wti.load()["DCOILWTICO"], errors="coerce")}, axis=1).dropna()
    real = np.log(prices).diff().dropna()
    base = real.to_numpy()
    extra = n_factors - base.shape[1]
    loadings = rng.normal(0, 0.6, size=(base.shape[1], extra))
    noise = rng.standard_t(4, size=(len(base), extra)) * 0.006
    columns = np.hstack([base, base @ loadings + noise])
    names = list(real.columns) + [f"F{i:02d}" for i in range(extra)]
    return pd.DataFrame(columns, index=real.index, columns=names)


def validation_suite(quick: bool = False) -> dict:
    from validation import suite

    rng = np.random.default_rng(0)
    n, horizon, factors = (1000, 20, 10) if quick else (10_000, 20, 50)
    history = _history(factors, rng)
    train = history[history.index <= "2014-12-31"].to_numpy()
    holdout = history[history.index >= "2015-01-01"].to_numpy()
    starts = rng.integers(0, len(train) - horizon, size=n)
    synthetic = train[starts[:, None] + np.arange(horizon)[None, :]]
    kinds = ["equity", "equity", "commodity"] + ["other"] * (factors - 3)
    inputs = suite.Inputs(synthetic=synthetic, train=train, holdout=holdout, factors=list(history.columns),
                          kinds=kinds, history=history, train_end=pd.Timestamp("2014-12-31").date())
    per_tier = {}

    def run_all():
        for tier in suite.STATISTICAL_TIERS:
            start = time.perf_counter()
            suite.statistical(inputs, [tier], rng=np.random.default_rng(1))
            per_tier[tier] = time.perf_counter() - start
        start = time.perf_counter()
        results = suite.neural(inputs, ["discriminative"], seed=0)
        per_tier["discriminative"] = time.perf_counter() - start
        return results

    seconds, _ = median_seconds(run_all, repeats=1 if quick else 3)
    return {"seconds": seconds, "target_seconds": 20.0, "scenarios": n, "horizon": horizon, "factors": factors,
            "history_days": len(history), "holdout_days": len(holdout), "per_tier_seconds_last_run": per_tier,
            "floor": suite.DEFAULT_FLOOR, "meets_target": seconds <= 20.0}


BENCHMARKS = {"validation_suite": validation_suite}
