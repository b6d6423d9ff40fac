"""What the issue-15 tiers need from the records and the model, prepared for ``validation.suite`` (pure).

* the **reference**: the version's *unconditioned* paths drawn from its checkpoint with the run's seed — the
  model's own unconditioned fit, against which conformance (vol ratio, target moves) and plausibility
  (Breuer et al. 2009) are measured; an engine that cannot sample unconditioned (the Fed translation needs a
  path) is referred to real windows of its training data instead, and the rows say so;
* **asked**: what the condition asked for, in numbers (vol multiplier, target moves per factor and day);
* the **adversarial grid**: the model sampled over a one-at-a-time grid of conditions with common random
  numbers (one seed for every cell), each cell's book losses and its share of implausible paths;
* the **comparison**: the VaR/ES of the versions in use for the same conditions, from the champion/challenger
  table (``scenarios.services.comparison``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from scenarios.engines import registry
from scenarios.engines.base import Condition, FittedState, Target, condition_targets
from scenarios.services.comparison import condition_label

REFERENCE_PATHS = 2000  # enough for the 1 %-tail statistics of the fit; cheap for every engine
AI_ENGINES = registry.DEEP_ENGINES
SUPERVISORY = "supervisory"


def is_conditioned(condition: Mapping[str, Any] | None) -> bool:
    return condition_label(condition) != "unconditioned"


def reference_paths(state: FittedState | None, train: np.ndarray, *, n: int, horizon: int,
                    seed: int) -> tuple[np.ndarray, str]:
    """(paths, note): the model's unconditioned draw, or real training windows when it has none."""
    if state is not None and state.engine != SUPERVISORY:
        paths = registry.sample_engine(state, n=n, horizon=horizon, condition=None, seed=seed)
        return paths, f"{n:,} unconditioned paths of the model ({state.engine}), seed {seed}"
    if train.shape[0] < horizon + 1:
        raise ValueError(f"the training window ({train.shape[0]} days) is shorter than the horizon ({horizon})")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 15]))
    starts = rng.integers(0, train.shape[0] - horizon + 1, size=n)
    paths = train[starts[:, None] + np.arange(horizon)[None, :]]
    why = "the engine has no unconditioned law (it needs a Fed path)" if state is not None else "no checkpoint"
    return paths, f"{n:,} real {horizon}-day windows of the training data ({why})"


def asked_of(condition: Mapping[str, Any], state: FittedState | None, factors: Sequence[str],
             kinds: Sequence[str], horizon: int) -> dict | None:
    """What ``condition`` asked for: vol multiplier and targets ``[{factor, day, move, quantile}]``."""
    label = condition_label(condition)
    if label == "unconditioned":
        return None
    parsed = Condition.from_dict(condition)
    targets: list[dict] = []
    if "fed_path" in parsed.extra and state is not None and state.engine == SUPERVISORY:
        from scenarios.engines.supervisory import Config, quarterly_targets

        days = Config.from_dict(state.config).trading_days_per_quarter
        _, quarterly = quarterly_targets(state, parsed.extra["fed_path"])
        cumulative = np.cumsum(quarterly, axis=0)
        for k in range(min(len(cumulative), horizon // days)):
            for j, factor in enumerate(factors):
                targets.append({"factor": factor, "day": (k + 1) * days, "move": float(cumulative[k, j]),
                                "quantile": 0.5})
        # the Fed path sets the quarterly moves; its within-quarter vol follows the VIX path, not a multiplier
        vol = parsed.vol_multiplier
    else:
        moves = condition_targets(parsed, factors, kinds, horizon)
        targets = [{"factor": factors[j], "day": horizon, "move": float(move), "quantile": 0.5}
                   for j, move in sorted(moves.items())]
        vol = parsed.effective_vol_multiplier if (parsed.severity or parsed.vol_multiplier is not None) else None
    return {"label": label, "vol_multiplier": vol, "targets": targets}


def adversarial_grid(state: FittedState | None, factors: Sequence[str], kinds: Sequence[str], *, horizon: int,
                     weights: np.ndarray, settings: Mapping[str, Any], seed: int, train: np.ndarray) -> dict:
    """Every cell of the grid sampled with the same seed (common random numbers); losses of the linear book."""
    from validation.metrics import adversarial, plausibility

    if state is None:
        return {"skip": "the set has no model version to sample"}
    if state.engine == SUPERVISORY:
        return {"skip": "the supervisory translation is conditioned only by a Fed path: no grid of severities"}
    equity = [f for f, k in zip(factors, kinds, strict=True) if k == "equity"]
    cells, edges = adversarial.condition_grid(settings)
    n = int(settings.get("paths", 500))
    losses, moves = [], []
    for cell in cells:
        spec = dict(cell["condition"])
        move = spec.pop("equity_move", None)
        if move is not None:
            if not equity:
                return {"skip": "no equity factor to ask an equity move of"}
            spec["targets"] = [Target(factor=f, move=float(move), days=20) for f in equity]
        condition = Condition(**spec) if spec else None
        paths = registry.sample_engine(state, n=n, horizon=horizon, condition=condition, seed=seed)
        total = paths.sum(axis=1)
        moves.append(total)
        losses.append(-(total @ weights))
    # Plausibility of each cell in the region of the unconditioned cell's fit (cell 0 is the baseline), the same
    # region as the plausibility tier's: the chi-squared quantile or the largest real training window, if larger.
    base = moves[0]
    mean, cov = base.mean(axis=0), np.atleast_2d(np.cov(base, rowvar=False))
    radius = plausibility.plausibility_region(mean, cov, train, horizon,
                                              chi2_level=float(settings.get("chi2_level", 0.9999)))["radius_sq"]
    outside = [float((plausibility.mahalanobis_sq(m, mean, cov) > radius).mean()) for m in moves]
    return {"cells": cells, "losses": losses, "edges": edges, "outside_shares": outside,
            "outside_bound": 0.05, "paths": n, "seed": seed}


def comparison_inputs(version, condition: Mapping[str, Any] | None) -> dict:
    """VaR/ES per version in use for the set's condition, and the AI champion against the classical benchmark."""
    from governance.models.inventory import VersionStatus
    from scenarios.services.comparison import comparison_table

    if version is None:
        return {"skip": "the set has no model version"}
    # The candidates under review are compared with each other and with the versions in use.
    candidates = list(version.model.versions.filter(status__in=[VersionStatus.SUBMITTED, VersionStatus.IN_VALIDATION,
                                                               VersionStatus.VALIDATED])) + [version]
    table = comparison_table(model=version.model, include=candidates)
    label = condition_label(condition)
    measures: dict[str, dict[str, float]] = {}
    for row in table["rows"]:
        if row["condition"] != label:
            continue
        key = f"v{row['version']}" + (f" ({row['role']})" if row.get("role") else "")
        for measure in ("var_99", "es_99", "var_995", "es_995"):
            if row.get(measure) is not None:
                measures.setdefault(key, {})[f"{label} {measure}"] = float(row[measure])
    subject = next((k for k in measures if k.split(" ")[0] == f"v{version.version}"), None)
    if subject is None:
        return {"skip": f"no stress result of v{version.version} for the '{label}' condition on a portfolio"}
    spec: dict[str, Any] = {"measures": measures, "subject": subject, "champion": measures[subject],
                            "benchmark": None}
    if version.engine not in AI_ENGINES:
        spec["benchmark_skip"] = f"v{version.version} ({version.engine}) is not an AI engine"
        return spec
    # The benchmark: a version given that role, else a classical (non-AI, non-supervisory) version.
    others = [row for row in table["rows"] if row["condition"] == label and row["version_id"] != version.pk]
    benchmarks = ([row for row in others if row.get("role") == "benchmark"]
                  or [row for row in others if row["engine"] not in AI_ENGINES and row["engine"] != SUPERVISORY
                      and row.get("role") != "champion"])
    if not benchmarks:
        spec["benchmark_skip"] = "no classical benchmark version with a stress result for this condition"
        return spec
    bench = benchmarks[0]
    spec["benchmark"] = {f"{label} {m}": float(bench[m]) for m in ("var_99", "es_99", "var_995", "es_995")
                         if bench.get(m) is not None}
    spec["benchmark_version"] = f"v{bench['version']} ({bench['engine']})"
    return spec


def train_dates(index: pd.DatetimeIndex) -> list[str]:
    return [d.date().isoformat() for d in index]


__all__ = ["adversarial_grid", "asked_of", "comparison_inputs", "condition_label", "is_conditioned",
           "reference_paths", "train_dates"]
