"""SHAP attribution of stressed portfolio losses to risk factors (Lundberg & Lee 2017, NeurIPS).

The explained function
----------------------
``f(x) = loss at the horizon`` as a function of the F cumulative factor moves ``x`` (sum of a
scenario's increments over its horizon). Every position kind in ``scenarios.engines.revaluation``
values the last horizon day from the cumulative move alone, with the elapsed time ``h/days_per_year``;
so ``f`` is evaluated as a one-step revaluation with ``days_per_year / h`` (elapsed time identical),
which equals ``-revalue(paths).final`` to rounding and costs ``1/h`` of a full revaluation.

The explainer
-------------
``shap.PermutationExplainer`` with an ``Independent`` (interventional) masker over ``background``
scenarios and one antithetic permutation per row (``max_evals = 2F + 1``). SHAP values then sum
exactly (to rounding) to ``f(x) − E_B f`` by construction (the permutation telescopes), and they are
exact Shapley values for functions with at most pairwise interactions (shap's documentation of the
antithetic scheme) — linear, quadratic and bond positions; options on (spot, vol, rate) carry
three-way terms, whose error is measured by re-explaining the worst scenarios with a second seed.

Errors stated
-------------
* ``additivity_residual`` = max |Σφ − (f(x) − E_B f)| over every explained row (checked, printed);
* ``base_value_error`` = |E_B f − mean f over all scenarios|: the cost of a B-scenario background;
* ``permutation_error`` = max |φ(seed) − φ(seed+1)| on the worst scenarios (0 without 3-way terms);
* ``global_importance_se``: standard error of each factor's mean |φ| over the random subsample.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from scenarios.engines.revaluation import DEFAULT_DAYS_PER_YEAR, Portfolio, revalue

EXPLAINER_NAME = "shap.PermutationExplainer (Independent masker, 1 antithetic permutation)"


@dataclass(frozen=True)
class ShapSettings:
    """Sample sizes of the explanation; the defaults keep 10,000 × 50 within the report budget."""

    background: int = 100  # B scenarios in the masker: E f is estimated on them
    sample: int = 400  # random scenarios explained for the global importance
    permutations: int = 1  # antithetic permutations per row: max_evals = permutations·(2F+1)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("background", "sample", "permutations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"SHAP {name} must be a positive integer, got {value!r}")
        if self.background > 5000 or self.sample > 20000 or self.permutations > 20:
            raise ValueError("SHAP sample sizes too large (background ≤ 5000, sample ≤ 20000, permutations ≤ 20)")


@dataclass(frozen=True)
class Explanation:
    factors: list[str]
    base_value: float  # E_B f, the explainer's expected loss
    mean_loss: float  # mean f over all scenarios
    loss_std: float  # standard deviation of f over all scenarios (the scale of the errors below)
    global_importance: list[float]  # mean |φ_i| over the subsample (+ worst)
    global_importance_se: list[float]
    worst_index: list[int]
    worst_loss: list[float]
    worst_values: np.ndarray  # [k, F]
    additivity_residual: float
    base_value_error: float
    permutation_error: float | None
    settings: ShapSettings
    explained_rows: int
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The JSON stored on the report (``Report.shap``)."""
        return {
            "explainer": EXPLAINER_NAME,
            "explained_function": "loss at the horizon of the cumulative factor moves (revaluation.revalue)",
            "background": self.settings.background, "sample": self.settings.sample,
            "permutations": self.settings.permutations, "seed": self.settings.seed,
            "max_evals_per_row": self.settings.permutations * (2 * len(self.factors) + 1),
            "explained_rows": self.explained_rows,
            "base_value": self.base_value, "mean_loss": self.mean_loss,
            "additivity_residual": self.additivity_residual, "base_value_error": self.base_value_error,
            "loss_std": self.loss_std,
            "base_value_error_in_loss_std": self.base_value_error / self.loss_std if self.loss_std else 0.0,
            "permutation_error": self.permutation_error,
            "global_importance_se_max": max(self.global_importance_se) if self.global_importance_se else 0.0,
            "seconds": dict(self.seconds), "settings": asdict(self.settings),
        }

    def ranked(self, top: int | None = None) -> list[tuple[str, float, float]]:
        """(factor, mean |φ|, standard error), most important first."""
        order = np.argsort(-np.asarray(self.global_importance), kind="stable")
        rows = [(self.factors[i], self.global_importance[i], self.global_importance_se[i]) for i in order]
        return rows[:top] if top else rows


def loss_function(factors: Sequence[str], book: Portfolio, horizon: int,
                  days_per_year: float = DEFAULT_DAYS_PER_YEAR) -> Callable[[np.ndarray], np.ndarray]:
    """``f(x [m, F]) -> losses [m]``: the horizon loss of cumulative moves (module docstring)."""
    factors = list(factors)
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon!r}")
    scaled = float(days_per_year) / int(horizon)

    def f(x: np.ndarray) -> np.ndarray:
        moves = np.asarray(x, dtype=np.float64)
        return -revalue(moves[:, None, :], factors, book, days_per_year=scaled, workers=1).final

    return f


def _explain(explainer, rows: np.ndarray, max_evals: int) -> tuple[np.ndarray, np.ndarray]:
    result = explainer(rows, max_evals=max_evals, silent=True)
    return np.asarray(result.values, dtype=np.float64), np.asarray(result.base_values, dtype=np.float64)


def explain_losses(paths: np.ndarray, factors: Sequence[str], book: Portfolio, *, worst_index: Sequence[int],
                   settings: ShapSettings | None = None, losses: np.ndarray | None = None,
                   days_per_year: float = DEFAULT_DAYS_PER_YEAR) -> Explanation:
    """SHAP values of the horizon loss for the worst scenarios and a random subsample of ``paths``.

    paths: ``[n, horizon, F]`` increments; worst_index: the scenarios to give a waterfall each;
    losses: ``-revalue(paths).final`` if already computed (saves one revaluation).
    """
    import shap  # heavy import (numba): only where explanations are computed

    settings = settings or ShapSettings()
    array = np.asarray(paths, dtype=np.float64)
    if array.ndim != 3:
        raise ValueError(f"paths must be [n, horizon, F], got shape {array.shape}")
    n, horizon, width = array.shape
    factors = list(factors)
    if len(factors) != width:
        raise ValueError(f"{len(factors)} factor names for {width} columns")
    worst = [int(i) for i in worst_index]
    if any(not 0 <= i < n for i in worst):
        raise ValueError(f"worst_index out of range 0..{n - 1}")
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    moves = array.sum(axis=1)
    f = loss_function(factors, book, horizon, days_per_year)
    all_losses = f(moves) if losses is None else np.asarray(losses, dtype=np.float64)
    rng = np.random.default_rng(settings.seed)
    background = moves[np.sort(rng.choice(n, size=min(settings.background, n), replace=False))]
    sample_index = np.sort(rng.choice(n, size=min(settings.sample, n), replace=False))
    seconds["prepare"] = time.perf_counter() - start

    max_evals = settings.permutations * (2 * width + 1)
    masker = shap.maskers.Independent(background, max_samples=background.shape[0])
    explainer = shap.PermutationExplainer(f, masker, seed=settings.seed)
    start = time.perf_counter()
    rows = np.concatenate([moves[worst], moves[sample_index]]) if worst else moves[sample_index]
    values, base = _explain(explainer, rows, max_evals)
    seconds["explain"] = time.perf_counter() - start

    fx = f(rows)
    residual = float(np.max(np.abs(values.sum(axis=1) - (fx - base))))
    base_value = float(base[0])
    sample_values = values[len(worst):]
    importance = np.abs(sample_values).mean(axis=0)
    se = (np.abs(sample_values).std(axis=0, ddof=1) / np.sqrt(sample_values.shape[0])
          if sample_values.shape[0] > 1 else np.zeros(width))

    permutation_error = None
    if worst:
        start = time.perf_counter()
        again = shap.PermutationExplainer(f, masker, seed=settings.seed + 1)
        values_again, _ = _explain(again, moves[worst], max_evals)
        permutation_error = float(np.max(np.abs(values_again - values[:len(worst)])))
        seconds["permutation_check"] = time.perf_counter() - start
    return Explanation(
        factors=factors, base_value=base_value, mean_loss=float(all_losses.mean()), loss_std=float(all_losses.std()),
        global_importance=[float(v) for v in importance], global_importance_se=[float(v) for v in se],
        worst_index=worst, worst_loss=[float(all_losses[i]) for i in worst],
        worst_values=values[:len(worst)], additivity_residual=residual,
        base_value_error=float(abs(base_value - all_losses.mean())), permutation_error=permutation_error,
        settings=settings, explained_rows=int(rows.shape[0]), seconds=seconds)
