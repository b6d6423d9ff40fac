"""The common interface of every scenario engine, conditioning, and checkpoint (de)serialisation.

An engine is a module exposing a frozen ``Config`` dataclass and two pure functions:

    fit(train: np.ndarray [T, F], factors: Sequence[str], config: Config,
        kinds: Sequence[str] | None = None) -> FittedState
    sample(state: FittedState, n: int, horizon: int, condition: Condition | None,
           rng: np.random.Generator) -> np.ndarray [n, horizon, F]

``train`` holds stationary *increments* of the training window only (log-returns for prices,
differences for rates/levels; see scenarios.transforms), rows in time order. Everything fitted
goes into the ``FittedState`` (serialisable, content-addressed as a checkpoint). No engine does
I/O, global seeding or printing; randomness comes only from the ``rng`` passed in, so a seed
gives the same scenarios on every run (numpy engines; torch engines take a ``torch.Generator``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

FORMAT_VERSION = 1

# ── conditioning ────────────────────────────────────────────────────────────────────────────
SEVERITIES = ("mild", "moderate", "severe", "extreme")


@dataclass(frozen=True)
class SeverityLevel:
    """What a severity word means, in measurable quantities.

    vol_multiplier: factor applied to the volatility of every factor's increments;
    equity_move: target median cumulative log-return of equity factors over 20 trading days
    (scaled with sqrt(horizon/20) for other horizons), a drawdown target.
    """

    vol_multiplier: float
    equity_move: float


SEVERITY_LEVELS: dict[str, SeverityLevel] = {
    "mild": SeverityLevel(vol_multiplier=1.25, equity_move=-0.05),
    "moderate": SeverityLevel(vol_multiplier=1.5, equity_move=-0.10),
    "severe": SeverityLevel(vol_multiplier=2.0, equity_move=-0.20),
    "extreme": SeverityLevel(vol_multiplier=3.0, equity_move=-0.35),
}


@dataclass(frozen=True)
class Target:
    """An explicit target: the cumulative move of one factor over ``days`` (e.g. equity -35% / 60d).

    ``move`` is in the factor's increment units summed over the window (a log-return for prices,
    a level change for rates).
    """

    factor: str
    move: float
    days: int


@dataclass(frozen=True)
class Condition:
    severity: str | None = None
    vol_multiplier: float | None = None
    targets: tuple[Target, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity is not None and self.severity not in SEVERITY_LEVELS:
            raise ValueError(f"unknown severity {self.severity!r}; use one of {', '.join(SEVERITIES)}")
        if self.vol_multiplier is not None and not (np.isfinite(self.vol_multiplier) and self.vol_multiplier > 0):
            raise ValueError("vol_multiplier must be a positive finite number")
        for target in self.targets:
            if target.days < 1 or not np.isfinite(target.move):
                raise ValueError(f"target for {target.factor} needs days >= 1 and a finite move")

    @property
    def effective_vol_multiplier(self) -> float:
        if self.vol_multiplier is not None:
            return float(self.vol_multiplier)
        if self.severity is not None:
            return SEVERITY_LEVELS[self.severity].vol_multiplier
        return 1.0

    def to_dict(self) -> dict:
        return {"severity": self.severity, "vol_multiplier": self.vol_multiplier,
                "targets": [asdict(t) for t in self.targets], "extra": dict(self.extra)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Condition:
        data = data or {}
        return cls(severity=data.get("severity"), vol_multiplier=data.get("vol_multiplier"),
                   targets=tuple(Target(**t) for t in data.get("targets", ())), extra=data.get("extra", {}))


def condition_targets(condition: Condition | None, factors: Sequence[str], kinds: Sequence[str] | None,
                      horizon: int) -> dict[int, float]:
    """Per-factor target cumulative move over ``horizon`` implied by a condition.

    Explicit targets are rescaled to the horizon with sqrt(horizon/days) (a random-walk scaling);
    a severity sets a target for every factor of kind "equity" (or, without kinds, none).
    """
    if condition is None:
        return {}
    out: dict[int, float] = {}
    index = {name: i for i, name in enumerate(factors)}
    if condition.severity is not None and kinds is not None:
        move = SEVERITY_LEVELS[condition.severity].equity_move * np.sqrt(horizon / 20.0)
        for i, kind in enumerate(kinds):
            if kind == "equity":
                out[i] = float(move)
    for target in condition.targets:
        if target.factor not in index:
            raise ValueError(f"target names unknown factor {target.factor!r}; factors are {', '.join(factors)}")
        out[index[target.factor]] = float(target.move * np.sqrt(horizon / target.days))
    return out


def apply_condition(paths: np.ndarray, condition: Condition | None, factors: Sequence[str],
                    kinds: Sequence[str] | None) -> np.ndarray:
    """Generic conditioning for engines without a native conditional model.

    1. Volatility: deviations from each factor's per-step mean are scaled by the multiplier.
    2. Targets: a constant drift is added to each targeted factor so that the *median* cumulative
       move over the horizon equals the target (a mean shift of the whole path distribution).
    Engines with a native conditional model (diffusion, copulas conditioned on tails) do better.
    """
    if condition is None:
        return paths
    out = np.array(paths, dtype=np.float64, copy=True)
    mult = condition.effective_vol_multiplier
    if mult != 1.0:
        mean = out.mean(axis=0, keepdims=True)
        out = mean + (out - mean) * mult
    horizon = out.shape[1]
    for j, target in condition_targets(condition, factors, kinds, horizon).items():
        median = float(np.median(out[:, :, j].sum(axis=1)))
        out[:, :, j] += (target - median) / horizon
    return out


# ── fitted state (the checkpoint's content) ─────────────────────────────────────────────────
@dataclass
class FittedState:
    engine: str
    config: dict
    factors: list[str]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    kinds: list[str] | None = None
    format_version: int = FORMAT_VERSION

    def to_bytes(self) -> bytes:
        """Deterministic bytes (same state → same bytes → same SHA-256)."""
        header = {"engine": self.engine, "config": self.config, "factors": self.factors, "meta": self.meta,
                  "kinds": self.kinds, "format_version": self.format_version,
                  "arrays": sorted(self.arrays)}
        buffer = io.BytesIO()
        head = json.dumps(header, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
        buffer.write(b"CRUCIBLE-STATE\n")
        buffer.write(len(head).to_bytes(8, "big"))
        buffer.write(head)
        for name in sorted(self.arrays):
            array = np.ascontiguousarray(self.arrays[name])
            meta = json.dumps({"dtype": array.dtype.str, "shape": list(array.shape)}).encode()
            buffer.write(len(meta).to_bytes(8, "big"))
            buffer.write(meta)
            raw = array.tobytes()
            buffer.write(len(raw).to_bytes(8, "big"))
            buffer.write(raw)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> FittedState:
        view = memoryview(data)
        magic = b"CRUCIBLE-STATE\n"
        if bytes(view[: len(magic)]) != magic:
            raise ValueError("not a Crucible engine state (bad magic)")
        pos = len(magic)

        def take(size: int) -> bytes:
            nonlocal pos
            if pos + size > len(view):
                raise ValueError("truncated engine state")
            chunk = bytes(view[pos: pos + size])
            pos += size
            return chunk

        head = json.loads(take(int.from_bytes(take(8), "big")))
        if head["format_version"] != FORMAT_VERSION:
            raise ValueError(f"engine state format {head['format_version']} is not supported ({FORMAT_VERSION})")
        arrays = {}
        for name in head["arrays"]:
            meta = json.loads(take(int.from_bytes(take(8), "big")))
            raw = take(int.from_bytes(take(8), "big"))
            arrays[name] = np.frombuffer(raw, dtype=np.dtype(meta["dtype"])).reshape(meta["shape"]).copy()
        if pos != len(view):
            raise ValueError("trailing bytes after engine state")
        return cls(engine=head["engine"], config=head["config"], factors=head["factors"], arrays=arrays,
                   meta=head["meta"], kinds=head["kinds"], format_version=head["format_version"])


def check_train(train: np.ndarray, factors: Sequence[str], min_rows: int = 30) -> np.ndarray:
    """Common input checks for ``fit``: a finite 2-D float array matching the factor names."""
    array = np.asarray(train, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"training increments must be 2-D [time, factors], got shape {array.shape}")
    if array.shape[1] != len(factors):
        raise ValueError(f"{array.shape[1]} columns but {len(factors)} factor names")
    if len(set(factors)) != len(factors):
        raise ValueError("factor names must be unique")
    if array.shape[0] < min_rows:
        raise ValueError(f"need at least {min_rows} training rows, got {array.shape[0]}")
    bad = ~np.isfinite(array)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"non-finite value in training data at row {row}, factor {factors[col]!r}")
    return array


def check_sample_args(n: int, horizon: int) -> None:
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
