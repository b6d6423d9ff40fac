"""Risk measures on a loss distribution (loss = −P&L): VaR, ES, EVT tail, worst scenarios, summary.

Historical estimator
--------------------
Quantile convention: ``VaR_q = inf{x : F_n(x) ≥ q} = L_(⌈n q⌉)``, the ⌈nq⌉-th smallest loss
(numpy ``method="inverted_cdf"``; Hyndman & Fan 1996 definition 1). ES is the expected shortfall
of the empirical distribution, ``ES_q = (1/(1−q)) ∫_q^1 F_n^{-1}(u) du``: the mean of the losses
beyond VaR, with the atom at VaR weighted by its fractional share when ``n(1−q)`` is not an integer
(Acerbi & Tasche 2002, "On the coherence of expected shortfall", J. Banking & Finance 26:1487–1503,
Prop. 3.2 / eq. (3.3)). It is coherent and always ``ES_q ≥ VaR_q``.

EVT estimator
-------------
Peaks over threshold (McNeil & Frey 2000, "Estimation of tail-related risk measures for
heteroscedastic financial time series: an extreme value approach", J. Empirical Finance 7:271–300,
eq. (7)–(8); McNeil, Frey & Embrechts 2015, *Quantitative Risk Management*, §5.2.2): fit a GPD
(shape ξ, scale β) to the ``N_u`` excesses over a threshold ``u`` by maximum likelihood
(``scipy.stats.genpareto.fit`` with location 0), then
``VaR_q = u + (β/ξ)(((n/N_u)(1−q))^(−ξ) − 1)`` and ``ES_q = (VaR_q + β − ξu)/(1−ξ)`` (ξ < 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

DEFAULT_LEVELS = (0.95, 0.99, 0.995)


def _check_losses(losses: Any, what: str = "losses") -> np.ndarray:
    array = np.asarray(losses, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{what} are empty")
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contain NaN or inf (first at index {int(np.argmin(np.isfinite(array)))})")
    return array


def _check_levels(levels: float | Sequence[float]) -> tuple[float, ...]:
    values = (levels,) if np.isscalar(levels) else tuple(levels)
    if not values:
        raise ValueError("levels are empty")
    out = []
    for level in values:
        try:
            q = float(level)
        except (TypeError, ValueError):
            raise ValueError(f"level must be a number in (0, 1), got {level!r}") from None
        if not (0.0 < q < 1.0):
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        out.append(q)
    return tuple(out)


@dataclass(frozen=True)
class RiskMeasure:
    """VaR and ES of the loss at one confidence level, by one estimator."""

    level: float
    var: float
    es: float
    method: str
    n: int

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "var": self.var, "es": self.es, "method": self.method, "n": self.n}


def historical_var_es(losses: Any, levels: float | Sequence[float] = DEFAULT_LEVELS) -> tuple[RiskMeasure, ...]:
    """Historical (empirical) VaR and ES at each level; conventions in the module docstring."""
    qs = _check_levels(levels)
    array = _check_losses(losses)
    n = array.size
    # Only the top tail is needed: partition once for the deepest tail asked for, sort that part.
    tail_len = min(n, int(math.ceil(n * (1.0 - min(qs)) + 1e-9)) + 1)
    tail = np.sort(np.partition(array, n - tail_len)[n - tail_len:]) if tail_len < n else np.sort(array)
    offset = n - tail.size  # tail[j] is the (offset + j + 1)-th smallest loss
    results = []
    for q in qs:
        rank = max(1, int(math.ceil(n * q - 1e-9)))  # VaR = L_(rank), 1-based; 1e-9 guards n·q float error
        var = float(tail[rank - 1 - offset])
        # ES_q = (1/(n(1−q))) [Σ_{i>rank} L_(i) + (rank − nq) L_(rank)]  (Acerbi & Tasche 2002, eq. 3.3)
        beyond = tail[rank - offset:]
        weight = n * (1.0 - q)
        es = (float(beyond.sum()) + (weight - beyond.size) * var) / weight
        results.append(RiskMeasure(level=q, var=var, es=max(es, var), method="historical", n=n))
    return tuple(results)


@dataclass(frozen=True)
class GPDTail:
    """A GPD fitted to the excesses over ``threshold`` and the VaR/ES it implies."""

    threshold: float
    xi: float
    beta: float
    n: int
    n_exceed: int
    measures: tuple[RiskMeasure, ...] = field(default_factory=tuple)

    def var(self, level: float) -> float:
        (q,) = _check_levels(level)
        tail_prob = self.n_exceed / self.n
        if 1.0 - q > tail_prob:
            raise ValueError(f"level {level!r} is below the threshold's level {1.0 - tail_prob:.6g}: "
                             "the GPD describes only the tail beyond the threshold")
        ratio = (self.n / self.n_exceed) * (1.0 - q)
        if abs(self.xi) < 1e-9:  # ξ → 0 limit (exponential tail): u − β ln(ratio)
            return self.threshold - self.beta * math.log(ratio)
        return self.threshold + self.beta / self.xi * (ratio ** (-self.xi) - 1.0)

    def es(self, level: float) -> float:
        if self.xi >= 1.0:
            return math.inf  # the mean of a GPD with ξ ≥ 1 is infinite
        return (self.var(level) + self.beta - self.xi * self.threshold) / (1.0 - self.xi)

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "xi": self.xi, "beta": self.beta, "n": self.n,
                "n_exceed": self.n_exceed, "measures": [m.to_dict() for m in self.measures]}


def gpd_tail(losses: Any, levels: float | Sequence[float] = DEFAULT_LEVELS, *,
             threshold_quantile: float = 0.90, threshold: float | None = None,
             min_exceedances: int = 30) -> GPDTail:
    """Peaks-over-threshold GPD fit and tail VaR/ES (McNeil & Frey 2000).

    threshold: ``u`` explicitly, else the empirical ``threshold_quantile`` of the losses (default 0.90,
    i.e. the top 10% of losses as in McNeil & Frey 2000, who use 100 of 1000). Every
    level must lie beyond the threshold (``1 − q ≤ N_u/n``) and at least ``min_exceedances``
    losses must exceed ``u``.
    """
    qs = _check_levels(levels)
    array = _check_losses(losses)
    (threshold_quantile,) = _check_levels(threshold_quantile)
    if min_exceedances < 2:
        raise ValueError(f"min_exceedances must be >= 2, got {min_exceedances!r}")
    if threshold is None:
        u = float(np.quantile(array, threshold_quantile, method="inverted_cdf"))
    else:
        u = float(threshold)
        if not math.isfinite(u):
            raise ValueError(f"threshold must be finite, got {threshold!r}")
    excess = array[array > u] - u
    if excess.size < min_exceedances:
        raise ValueError(f"only {excess.size} losses exceed the threshold {u:.6g}; "
                         f"need min_exceedances={min_exceedances}")
    if np.ptp(excess) == 0:
        raise ValueError("the excesses over the threshold are all equal: a GPD cannot be fitted")
    xi, _, beta = stats.genpareto.fit(excess, floc=0.0)  # scipy's shape c is ξ
    fitted = GPDTail(threshold=u, xi=float(xi), beta=float(beta), n=int(array.size), n_exceed=int(excess.size))
    measures = tuple(RiskMeasure(level=q, var=fitted.var(q), es=fitted.es(q), method="gpd", n=int(array.size))
                     for q in qs)
    return GPDTail(threshold=u, xi=float(xi), beta=float(beta), n=int(array.size), n_exceed=int(excess.size),
                   measures=measures)


@dataclass(frozen=True)
class WorstScenario:
    """One of the worst scenarios: its index, P&L, loss and cumulative factor moves."""

    rank: int
    index: int
    pnl: float
    loss: float
    factor_moves: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "index": self.index, "pnl": self.pnl, "loss": self.loss,
                "factor_moves": dict(self.factor_moves)}


def worst_scenarios(pnl: Any, scenarios: Any, factors: Sequence[str], k: int = 10) -> tuple[WorstScenario, ...]:
    """The ``k`` largest losses (``−pnl``), worst first, with each scenario's cumulative factor move
    (sum of the increments over the horizon). ``scenarios`` is ``[n, horizon, F]`` or ``[n, F]``."""
    values = _check_losses(pnl, "pnl")
    array = np.asarray(scenarios)
    if array.ndim == 2:
        array = array[:, None, :]
    if array.ndim != 3 or array.shape[0] != values.size:
        raise ValueError(f"scenarios must be [n, horizon, F] with n = {values.size}, got shape {array.shape}")
    factors = list(factors)
    if len(factors) != array.shape[2]:
        raise ValueError(f"{len(factors)} factor names for {array.shape[2]} scenario columns")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    k = min(int(k), values.size)
    losses = -values
    top = np.argpartition(losses, values.size - k)[values.size - k:] if k < values.size else np.arange(values.size)
    top = top[np.lexsort((top, -losses[top]))]  # worst first, ties by index (deterministic)
    moves = array[top].astype(np.float64).sum(axis=1)
    return tuple(WorstScenario(rank=r + 1, index=int(i), pnl=float(values[i]), loss=float(losses[i]),
                               factor_moves={f: float(m) for f, m in zip(factors, moves[r], strict=True)})
                 for r, i in enumerate(top))


@dataclass(frozen=True)
class LossSummary:
    """Summary of a loss distribution: moments, quantiles (inverted-CDF convention), histogram."""

    n: int
    mean: float
    std: float
    min: float
    max: float
    quantiles: dict[str, float]
    bin_edges: tuple[float, ...]
    counts: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "mean": self.mean, "std": self.std, "min": self.min, "max": self.max,
                "quantiles": dict(self.quantiles), "bin_edges": list(self.bin_edges), "counts": list(self.counts)}


def loss_summary(losses: Any, bins: int = 50,
                 quantiles: Sequence[float] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 0.995)) -> LossSummary:
    """Mean, standard deviation (ddof=1 when n > 1), quantiles and a ``bins``-bin histogram."""
    array = _check_losses(losses)
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    qs = _check_levels(quantiles)
    counts, edges = np.histogram(array, bins=int(bins))
    values = np.quantile(array, qs, method="inverted_cdf")
    return LossSummary(n=int(array.size), mean=float(array.mean()),
                       std=float(array.std(ddof=1)) if array.size > 1 else 0.0,
                       min=float(array.min()), max=float(array.max()),
                       quantiles={f"{q:g}": float(v) for q, v in zip(qs, values, strict=True)},
                       bin_edges=tuple(float(e) for e in edges), counts=tuple(int(c) for c in counts))
