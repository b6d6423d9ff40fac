"""Historical scenarios: exact replay of named crisis windows, and block bootstrap of history.

Two tools share this module:

* ``replay_window`` cuts the exact increments of a dated window (a named crisis from
  ``NAMED_WINDOWS`` or explicit dates) out of a dated history: the scenario *is* history.
* The engine (``Config``/``fit``/``sample``) resamples blocks of historical increment rows, so
  every generated day is a real day (all factors together, keeping the cross-section) and short
  range dependence (volatility clustering, autocorrelation) survives inside each block.

  - ``method="stationary"``: the stationary bootstrap of Politis & Romano (1994), "The Stationary
    Bootstrap", JASA 89(428):1303-1313. Blocks have geometric lengths with mean ``block_length``
    (a new block starts each day with probability 1/L) and wrap around the end of the sample
    circularly, which makes the resampled series stationary.
  - ``method="moving"``: the moving block bootstrap of Künsch (1989), "The Jackknife and the
    Bootstrap for General Stationary Observations", Ann. Statist. 17(3):1217-1241: blocks of
    fixed length ``int(block_length)`` starting uniformly among the T-L+1 possible positions.

Conditioning goes through ``base.apply_condition`` (vol multiplier, then median targets).
With ``regime_sampling=True`` and a condition carrying a severity, blocks *start* only on
high-volatility days instead (rule below, see ``stress_scores``); the severity's vol multiplier
is then applied only for the part the regime does not already deliver:
``residual = max(1, multiplier / regime_vol_ratio)``, where ``regime_vol_ratio`` is the RMS over
factors of (std of the regime rows / std of all rows). The regime rule:

  score_t = mean over the trailing ``vol_window`` days (fewer at the start) of
            sum_f (x_{t,f} / sd_f)^2          (cross-factor realised variance, standardised)
  high-volatility days: score_t >= quantile(score, REGIME_QUANTILES[severity])

so "severe" starts blocks in the top 10% most turbulent days of the training window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from scenarios.engines.base import Condition, FittedState, apply_condition, check_sample_args, check_train

ENGINE = "historical_bootstrap"

# Window dates are those commonly used in the stress-testing literature and by supervisors
# (e.g. Lehman filing 2008-09-15; COVID: S&P 500 peak 2020-02-19; taper tantrum: Bernanke's
# testimony 2013-05-22; US downgrade/EU debt 2011; CNY devaluation 2015; XIV collapse 2018).
NAMED_WINDOWS: dict[str, tuple[str, str]] = {
    "lehman_2008": ("2008-09-15", "2008-12-31"),
    "covid_2020": ("2020-02-19", "2020-04-30"),
    "taper_2013": ("2013-05-22", "2013-06-28"),
    "eu_debt_2011": ("2011-07-22", "2011-10-03"),
    "china_2015": ("2015-08-10", "2015-08-31"),
    "volmageddon_2018": ("2018-01-26", "2018-02-09"),
}

# Quantile of the stress score above which a day may start a block, per severity word.
REGIME_QUANTILES: dict[str, float] = {"mild": 0.5, "moderate": 0.75, "severe": 0.9, "extreme": 0.97}

METHODS = ("stationary", "moving")


def _to_day(value: object, what: str) -> np.datetime64:
    try:
        day = np.datetime64(value, "D")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{what} {value!r} is not a date") from exc
    if np.isnat(day):
        raise ValueError(f"{what} {value!r} is not a date")
    return day


def replay_window(increments: np.ndarray, dates: Sequence, start: object, end: object | None = None) -> np.ndarray:
    """The exact historical increments of a window, rows ``start <= date <= end`` (inclusive).

    ``start`` is either a key of ``NAMED_WINDOWS`` (then ``end`` must be None) or a date;
    ``dates`` (one per row of ``increments``, strictly increasing) may be anything numpy turns
    into ``datetime64[D]`` (ISO strings, ``datetime``, pandas timestamps). The data must cover
    the whole window: a window that starts before the first date or ends after the last one is
    refused, because replaying half a crisis silently understates it.
    Returns a copy, shape ``[rows_in_window, F]``.
    """
    array = np.asarray(increments, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"increments must be 2-D [time, factors], got shape {array.shape}")
    try:
        days = np.asarray(dates, dtype="datetime64[D]")
    except (ValueError, TypeError) as exc:
        raise ValueError("dates could not be read as calendar dates") from exc
    if days.ndim != 1 or days.shape[0] != array.shape[0]:
        raise ValueError(f"{days.shape[0] if days.ndim == 1 else days.shape} dates for {array.shape[0]} rows")
    if days.shape[0] == 0:
        raise ValueError("no data rows to replay from")
    if np.isnat(days).any():
        raise ValueError(f"missing date at row {int(np.argmax(np.isnat(days)))}")
    if (np.diff(days) <= np.timedelta64(0, "D")).any():
        row = int(np.argmax(np.diff(days) <= np.timedelta64(0, "D"))) + 1
        raise ValueError(f"dates must be strictly increasing; row {row} ({days[row]}) is not after {days[row - 1]}")

    if isinstance(start, str) and start in NAMED_WINDOWS:
        if end is not None:
            raise ValueError(f"window {start!r} is named; do not pass an end date")
        label = start
        first, last = (np.datetime64(d, "D") for d in NAMED_WINDOWS[start])
    else:
        if end is None:
            raise ValueError(f"{start!r} is not a named window ({', '.join(NAMED_WINDOWS)}) and no end date was given")
        first, last = _to_day(start, "start"), _to_day(end, "end")
        label = f"{first}..{last}"
    if last < first:
        raise ValueError(f"window {label}: end {last} is before start {first}")
    if first < days[0] or last > days[-1]:
        raise ValueError(f"window {label} ({first}..{last}) is not covered by the data ({days[0]}..{days[-1]})")
    mask = (days >= first) & (days <= last)
    if not mask.any():
        raise ValueError(f"window {label} ({first}..{last}) contains no data rows")
    return array[mask].copy()


@dataclass(frozen=True)
class Config:
    """Block bootstrap settings.

    method: "stationary" (Politis-Romano, geometric blocks of mean ``block_length``) or
        "moving" (Künsch, fixed blocks of ``int(block_length)`` days).
    block_length: mean (stationary) or exact (moving) block length in days, >= 1.
    regime_sampling: when a condition has a severity, start blocks on high-volatility days only.
    vol_window: trailing window (days) of the stress score used to find the regime.
    """

    method: str = "stationary"
    block_length: float = 10.0
    regime_sampling: bool = False
    vol_window: int = 20

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown bootstrap method {self.method!r}; use one of {', '.join(METHODS)}")
        if not (np.isfinite(self.block_length) and self.block_length >= 1):
            raise ValueError(f"block_length must be a finite number >= 1, got {self.block_length!r}")
        if self.method == "moving" and float(self.block_length) != int(self.block_length):
            raise ValueError(f"moving block bootstrap needs an integer block_length, got {self.block_length!r}")
        if not isinstance(self.vol_window, int | np.integer) or self.vol_window < 1:
            raise ValueError(f"vol_window must be a positive integer, got {self.vol_window!r}")


def stress_scores(train: np.ndarray, vol_window: int) -> np.ndarray:
    """Trailing mean of the standardised cross-factor squared increments (see module docstring)."""
    sd = train.std(axis=0)
    # A constant factor carries no information about turbulence; dividing by 0 would poison the score.
    sd = np.where(sd > 0, sd, 1.0)
    daily = ((train / sd) ** 2).sum(axis=1)
    csum = np.concatenate([[0.0], np.cumsum(daily)])
    t = np.arange(1, daily.shape[0] + 1)
    lo = np.maximum(t - vol_window, 0)
    return (csum[t] - csum[lo]) / (t - lo)


def fit(train: np.ndarray, factors: Sequence[str], config: Config, kinds: Sequence[str] | None = None) -> FittedState:
    """Store the training increments (the bootstrap's whole "model") and the stress scores."""
    if not isinstance(config, Config):
        raise ValueError(f"config must be a historical.Config, got {type(config).__name__}")
    array = check_train(train, factors)
    if kinds is not None and len(kinds) != len(factors):
        raise ValueError(f"{len(kinds)} kinds for {len(factors)} factors")
    if config.method == "moving" and int(config.block_length) > array.shape[0]:
        raise ValueError(f"block_length {config.block_length} exceeds the {array.shape[0]} training rows")
    return FittedState(engine=ENGINE, config=asdict(config), factors=list(factors),
                       arrays={"increments": array.copy(), "stress_score": stress_scores(array, config.vol_window)},
                       meta={"rows": int(array.shape[0])}, kinds=list(kinds) if kinds is not None else None)


def block_indices(n_rows: int, n: int, horizon: int, config: Config, rng: np.random.Generator,
                  starts_from: np.ndarray | None = None) -> np.ndarray:
    """Row indices ``[n, horizon]`` into the training sample for ``n`` bootstrap paths.

    ``starts_from`` optionally restricts where blocks may start (row indices).
    """
    if config.method == "stationary":
        candidates = np.arange(n_rows) if starts_from is None else np.asarray(starts_from)
        new_block = rng.random((n, horizon)) < 1.0 / float(config.block_length)
        new_block[:, 0] = True
        starts = candidates[rng.integers(0, candidates.shape[0], size=(n, horizon))]
        steps = np.arange(horizon)
        # Position of the most recent block start at or before each day; the day's row is that
        # block's start plus the days elapsed since, wrapping circularly (Politis-Romano 1994).
        last_start = np.maximum.accumulate(np.where(new_block, steps, 0), axis=1)
        rows = np.take_along_axis(starts, last_start, axis=1)
        return (rows + (steps - last_start)) % n_rows
    length = int(config.block_length)
    candidates = np.arange(n_rows - length + 1) if starts_from is None else np.asarray(starts_from)
    n_blocks = -(-horizon // length)
    starts = candidates[rng.integers(0, candidates.shape[0], size=(n, n_blocks))]
    steps = np.arange(horizon)
    return starts[:, steps // length] + steps % length


def _regime(state: FittedState, config: Config, severity: str) -> tuple[np.ndarray, float]:
    """High-volatility block starts for a severity, and the vol ratio of the regime rows."""
    increments = state.arrays["increments"]
    score = state.arrays["stress_score"]
    high = np.flatnonzero(score >= np.quantile(score, REGIME_QUANTILES[severity]))
    if config.method == "moving":
        # A fixed block must fit in the sample; a high-vol day too close to the end cannot start one.
        high = high[high <= increments.shape[0] - int(config.block_length)]
        if high.size == 0:
            raise ValueError(f"no high-volatility day for severity {severity!r} leaves room for a full block")
    all_sd = increments.std(axis=0)
    regime_sd = increments[high].std(axis=0) if high.size > 1 else all_sd
    ok = all_sd > 0
    ratio = float(np.sqrt(np.mean((regime_sd[ok] / all_sd[ok]) ** 2))) if ok.any() else 1.0
    return high, ratio


def sample(state: FittedState, n: int, horizon: int, condition: Condition | None,
           rng: np.random.Generator) -> np.ndarray:
    """``n`` bootstrap paths ``[n, horizon, F]`` of historical increment rows, then conditioned."""
    check_sample_args(n, horizon)
    if state.engine != ENGINE:
        raise ValueError(f"state is for engine {state.engine!r}, not {ENGINE!r}")
    config = Config(**state.config)
    increments = state.arrays["increments"]
    starts_from = None
    if config.regime_sampling and condition is not None and condition.severity is not None:
        starts_from, ratio = _regime(state, config, condition.severity)
        residual = max(1.0, condition.effective_vol_multiplier / ratio)
        condition = replace(condition, vol_multiplier=residual)
    rows = block_indices(increments.shape[0], int(n), int(horizon), config, rng, starts_from)
    return apply_condition(increments[rows], condition, state.factors, state.kinds)
