"""Engines by name, with one way to build a config from JSON, fit and sample.

Adding an engine: a module with ``ENGINE`` (its name), a frozen ``Config`` dataclass, ``fit`` and
``sample`` (see base.py), listed in ``ENGINE_MODULES``.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from scenarios.engines.base import Condition, FittedState

ENGINE_MODULES = {
    "historical_bootstrap": "scenarios.engines.historical",
    "hypothetical": "scenarios.engines.hypothetical",
    "factor_mc": "scenarios.engines.factor_mc",
    "garch_evt_copula": "scenarios.engines.copula",
    "supervisory": "scenarios.engines.supervisory",
    # Deep generative engines (torch; GARCH-EVT sandwich for tails, see deep_common).
    "diffusion": "scenarios.engines.diffusion",
    "timegan": "scenarios.engines.timegan",
    "wgan_gp": "scenarios.engines.wgan",
    "vae": "scenarios.engines.vae",
    "lstm_transformer": "scenarios.engines.lstm_transformer",
}
DEEP_ENGINES = {"diffusion", "timegan", "wgan_gp", "vae", "lstm_transformer"}

# Engines whose fit needs the dates of the training rows and the Fed's historic table.
NEEDS_FED_HISTORY = {"supervisory"}


def engine_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(ENGINE_MODULES[name])
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; available: {', '.join(sorted(ENGINE_MODULES))}") from None


def make_config(name: str, data: Mapping[str, Any] | None) -> Any:
    """The engine's frozen Config from JSON; unknown keys are refused by name."""
    module = engine_module(name)
    data = dict(data or {})
    known = {f.name for f in dataclasses.fields(module.Config)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown config keys for engine {name}: {', '.join(unknown)}; "
                         f"known: {', '.join(sorted(known))}")
    if hasattr(module.Config, "from_dict"):
        return module.Config.from_dict(data)
    fields = {f.name: f for f in dataclasses.fields(module.Config)}
    for key, value in list(data.items()):
        # JSON has no tuples: turn lists back into tuples for tuple-typed fields.
        if isinstance(value, list) and "tuple" in str(fields[key].type):
            data[key] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
    try:
        return module.Config(**data)
    except TypeError as error:
        raise ValueError(f"bad config for engine {name}: {error}") from error


def config_dict(config: Any) -> dict:
    return dataclasses.asdict(config)


def fit_engine(name: str, train: np.ndarray, factors: Sequence[str], config: Any, *, kinds: Sequence[str] | None,
               dates: Any = None, fed_history: Any = None, progress=None) -> FittedState:
    """Fit; ``progress(fraction, **detail)`` is called by engines that train iteratively (and may raise
    to cancel)."""
    module = engine_module(name)
    if name in NEEDS_FED_HISTORY:
        return module.fit(train, factors, config, kinds=kinds, dates=dates, fed_history=fed_history)
    if name in DEEP_ENGINES:
        return module.fit(train, factors, config, kinds=kinds, progress=progress)
    return module.fit(train, factors, config, kinds=kinds)


def sample_engine(state: FittedState, *, n: int, horizon: int, condition: Condition | None, seed: int) -> np.ndarray:
    module = engine_module(state.engine)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    return module.sample(state, n, horizon, condition, rng)
