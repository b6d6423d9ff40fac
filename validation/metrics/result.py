"""What every metric returns, and the input checks they share.

Conventions for the whole package (pure numpy/scipy/statsmodels; no Django, no torch):

* ``real`` is a 2-D array ``[T, F]`` of daily increments in time order (the holdout window, or
  the training window where a metric says so); ``synthetic`` is ``[n, horizon, F]`` scenario paths.
* A metric is a function returning a ``MetricResult`` (or a list of them, one per factor/lag).
  ``value`` is the statistic (an effect size, not a p-value: with 10⁵ synthetic draws every
  p-value rejects). ``passed`` applies ``threshold`` with ``direction``; a noise ``floor`` — the same
  statistic between real-vs-real resamples — is reported next to the value and, where given, a
  value inside the floor's 90 % band passes.
* Inputs are checked first; a bad input raises ``ValueError`` naming the problem.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

DIRECTIONS = ("max", "min", "abs_max", "info")


@dataclass(frozen=True)
class Floor:
    """A real-vs-real noise floor: the statistic's 5 %, 50 % and 95 % points over resamples."""

    low: float
    median: float
    high: float
    n: int
    method: str

    def contains(self, value: float, direction: str) -> bool:
        if direction == "max":
            return value <= self.high
        if direction == "min":
            return value >= self.low
        if direction == "abs_max":
            return abs(value) <= max(abs(self.low), abs(self.high))
        return True


@dataclass(frozen=True)
class MetricResult:
    name: str
    tier: str
    value: float
    threshold: float | None = None
    direction: str = "max"  # max: pass if value <= threshold; min: value >= threshold; abs_max: |value| <= t
    pvalue: float | None = None
    factor: str | None = None
    floor: Floor | None = None
    details: dict = field(default_factory=dict)
    reference: str = ""
    # Why the metric could not test anything (no data it applies to): judged NOT_RUN, never PASS.
    not_run: str = ""

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}")

    @property
    def passed(self) -> bool | None:
        """Inside the noise floor's band, or within the threshold; None when informational or not run."""
        if self.direction == "info" or self.not_run:
            return None
        if not math.isfinite(self.value):
            return False
        if self.floor is not None and self.floor.contains(self.value, self.direction):
            return True
        if self.threshold is None:
            return None if self.floor is None else False
        if self.direction == "max":
            return self.value <= self.threshold
        if self.direction == "min":
            return self.value >= self.threshold
        return abs(self.value) <= self.threshold

    @classmethod
    def skipped(cls, *, name: str, tier: str, reason: str, factor: str | None = None, details: dict | None = None,
                reference: str = "") -> MetricResult:
        """A metric that had nothing to test (judged ``NOT_RUN``; ``reason`` says why)."""
        if not reason:
            raise ValueError("a metric that was not run must say why")
        return cls(name=name, tier=tier, value=float("nan"), direction="info", factor=factor,
                   details=dict(details or {}) | {"not_run": reason}, reference=reference, not_run=reason)

    def with_threshold(self, threshold: float | None) -> MetricResult:
        return replace(self, threshold=threshold)

    def with_floor(self, floor: Floor | None) -> MetricResult:
        return replace(self, floor=floor)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        data["value"] = _finite_or_none(self.value)
        data["pvalue"] = _finite_or_none(self.pvalue)
        return data


def _finite_or_none(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def check_real(real: Any, factors: Sequence[str] | None = None, *, min_rows: int = 30,
               name: str = "real") -> np.ndarray:
    array = np.asarray(real, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{name} must be [time, factors], got shape {array.shape}")
    if factors is not None and array.shape[1] != len(factors):
        raise ValueError(f"{name} has {array.shape[1]} columns but {len(factors)} factor names")
    if array.shape[0] < min_rows:
        raise ValueError(f"{name} has {array.shape[0]} observations; this test needs at least {min_rows}")
    if not np.isfinite(array).all():
        row, col = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(f"{name} has a non-finite value at row {row}, column {col}")
    return array


def check_synthetic(synthetic: Any, n_factors: int | None = None, *, name: str = "synthetic") -> np.ndarray:
    array = np.asarray(synthetic, dtype=np.float64)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError(f"{name} must be [scenarios, horizon, factors], got shape {array.shape}")
    if n_factors is not None and array.shape[2] != n_factors:
        raise ValueError(f"{name} has {array.shape[2]} factors but the real data has {n_factors}: the factor "
                         "names must match")
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(array).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"{name} has a non-finite value at [scenario, step, factor] = {list(index)}")
    return array


def daily(synthetic: np.ndarray) -> np.ndarray:
    """Synthetic paths pooled as daily increments ``[n * horizon, F]``."""
    return synthetic.reshape(-1, synthetic.shape[2])


def horizon_sums(real: np.ndarray, horizon: int) -> np.ndarray:
    """Overlapping ``horizon``-day sums of the real series ``[T - horizon + 1, F]``."""
    if real.shape[0] < horizon:
        raise ValueError(f"the real series ({real.shape[0]} days) is shorter than the horizon ({horizon})")
    c = np.vstack([np.zeros((1, real.shape[1])), np.cumsum(real, axis=0)])
    return c[horizon:] - c[:-horizon]


def block_bootstrap(real: np.ndarray, length: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """A moving-block bootstrap resample (Künsch 1989) of ``length`` rows in blocks of ``block`` days."""
    if block < 1 or block > real.shape[0]:
        raise ValueError(f"block length {block} must lie in 1..{real.shape[0]}")
    n_blocks = -(-length // block)
    starts = rng.integers(0, real.shape[0] - block + 1, size=n_blocks)
    index = (starts[:, None] + np.arange(block)[None, :]).reshape(-1)[:length]
    return real[index]


def block_bootstrap_paths(real: np.ndarray, n: int, horizon: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` real paths of ``horizon`` consecutive days (the real analogue of a scenario set)."""
    if real.shape[0] < horizon:
        raise ValueError(f"the real series ({real.shape[0]} days) is shorter than the horizon ({horizon})")
    starts = rng.integers(0, real.shape[0] - horizon + 1, size=n)
    return real[starts[:, None] + np.arange(horizon)[None, :]]
