"""The pipeline's configuration, its events, and the checks made before anything is written."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings as django_settings

from governance.errors import InvalidInput
from governance.roles import APPROVER, AUDITOR, DEVELOPER, VALIDATOR
from scenarios.engines import registry
from scenarios.models import Dataset

# Windows of the demo (issue 9): train to 2014, hold out 2015-2018; the crisis check trains to 2007.
TRAIN_END = dt.date(2014, 12, 31)
HOLDOUT = (dt.date(2015, 1, 1), dt.date(2018, 12, 31))
CRISIS = {"train_end": dt.date(2007, 12, 31), "holdout": (dt.date(2008, 9, 1), dt.date(2009, 3, 31))}
DEMO_USERS = {DEVELOPER: "demo-developer", VALIDATOR: "demo-validator", APPROVER: "demo-approver",
              AUDITOR: "demo-auditor"}
PASSWORD_ENV = "CRUCIBLE_DEMO_PASSWORD"  # noqa: S105 - the variable's name, not a password
CONDITIONS = {"unconditioned": None, "severe": {"severity": "severe"}}
LEVELS = (0.99, 0.995)
MIN_SCENARIOS = 200
FED_EDITION = "2025"  # the supervisory scenarios the translation is fitted to and generated from


class PipelineError(Exception):
    """A step could not be completed; the message says what to do."""


@dataclass(frozen=True)
class EngineSpec:
    role: str  # "champion" / "challenger" / "crisis"
    engine: str
    config: dict
    version: str


@dataclass(frozen=True)
class PipelineSettings:
    engines: tuple[EngineSpec, ...]
    n_scenarios: int = 10_000
    horizon: int = 20
    train_end: dt.date = TRAIN_END
    holdout_start: dt.date = HOLDOUT[0]
    holdout_end: dt.date | None = HOLDOUT[1]
    builtin: str | None = "sp500_nasdaq_wti"  # import this bundled series …
    dataset: str | None = None  # … or use the latest version of this imported dataset
    crisis: EngineSpec | None = None
    crisis_windows: dict = field(default_factory=lambda: dict(CRISIS))
    fed_dir: Path | None = None
    use_fed: bool = True  # translate the Fed's severely adverse scenario when the tables are found
    fed_scenarios: int = 1000
    validation_tiers: tuple[str, ...] | None = None  # None: the full suite
    model_name: str = "Equity, tech and oil stress scenarios"
    exposure_usd: Decimal = Decimal("750000000")
    materiality_purpose: str = "regulatory_stress"
    password: str | None = None
    timeout_s: float = 3600.0
    seed: int = 0
    render: bool = True


@dataclass(frozen=True)
class Event:
    step: str
    kind: str  # "start" | "progress" | "done"
    title: str = ""
    fraction: float = 0.0
    message: str = ""
    seconds: float = 0.0


Progress = Callable[[Event], None]


def demo_settings(*, quick: bool = False, fed_dir: Path | None = None, password: str | None = None,
                  timeout_s: float = 3600.0) -> PipelineSettings:
    """The demo's configuration; ``quick`` is the same pipeline sized for tests."""
    # max_fourth_moment_factor: the GJR filter is refitted so its paths have a finite kurtosis (README)
    copula = {"family": "student_t", "start_variance": "last", "max_fourth_moment_factor": 0.99}
    diffusion = DIFFUSION_QUICK if quick else DIFFUSION_DEMO
    return PipelineSettings(
        engines=(EngineSpec("champion", "diffusion", diffusion, "2.0.0"),
                 EngineSpec("challenger", "garch_evt_copula", copula, "1.0.0")),
        crisis=EngineSpec("crisis", "garch_evt_copula", copula, "1.0.0-crisis.2007"),
        n_scenarios=500 if quick else 10_000, fed_scenarios=100 if quick else 1000,
        fed_dir=fed_dir, password=password, timeout_s=timeout_s)


# Sized to train in about a minute on two CPU cores (see README "make demo time"): half the default
# channels, 15 epochs with early stopping, 25 DDIM steps for sampling.
DIFFUSION_DEMO = {"channels": 64, "time_dim": 64, "epochs": 15, "patience": 5, "ddim_steps": 25,
                  "max_fourth_moment_factor": 0.99}
# The smallest configuration measured to stay finite: with fewer epochs or channels the undertrained
# denoiser's scores drive the GARCH recursion to increments of 1e6 and more (exp overflows in the stress).
DIFFUSION_QUICK = {"channels": 32, "time_dim": 32, "blocks": 2, "epochs": 10, "patience": 3, "ddim_steps": 10}



def check_settings(config: PipelineSettings) -> None:
    """Refuse bad input before the first row is written (``InvalidInput`` with the reason)."""
    from governance.models.inventory import MaterialityPurpose
    from scenarios.builtin_data import BUILTINS
    from scenarios.services.runs import MAX_HORIZON, MAX_SCENARIOS

    if config.builtin is None and not config.dataset:
        raise InvalidInput("name a dataset (import one first with 'manage.py import_dataset')")
    if config.builtin is not None and config.builtin not in BUILTINS:
        raise InvalidInput(f"unknown builtin {config.builtin!r}; use one of {', '.join(sorted(BUILTINS))}")
    if config.dataset and not Dataset.objects.filter(name=config.dataset).exists():
        names = ", ".join(sorted(set(Dataset.objects.values_list("name", flat=True)))) or "none yet"
        raise InvalidInput(f"no dataset named {config.dataset!r} (imported: {names}); import it with "
                           f"'manage.py import_dataset PATH --name {config.dataset}'")
    if not MIN_SCENARIOS <= config.n_scenarios <= MAX_SCENARIOS:
        raise InvalidInput(f"--scenarios must be {MIN_SCENARIOS}..{MAX_SCENARIOS:,} (the 99.5% VaR needs "
                           f"{MIN_SCENARIOS} scenarios)")
    if config.materiality_purpose not in MaterialityPurpose.values:
        raise InvalidInput(f"materiality purpose {config.materiality_purpose!r}: use one of "
                           f"{', '.join(MaterialityPurpose.values)}")
    if not config.exposure_usd.is_finite() or config.exposure_usd < 0:
        raise InvalidInput("the exposure must be a finite, non-negative amount in USD")
    if not 1 <= len(config.model_name.strip()) <= 200:
        raise InvalidInput("the model name must have 1-200 characters")
    if not 2 <= config.horizon <= MAX_HORIZON:
        raise InvalidInput(f"--horizon must be 2..{MAX_HORIZON} days")
    if config.holdout_start <= config.train_end:
        raise InvalidInput(f"the holdout ({config.holdout_start}) must start after the training window ends "
                           f"({config.train_end})")
    if config.holdout_end is not None and config.holdout_end < config.holdout_start:
        raise InvalidInput("the holdout ends before it starts")
    for spec in (*config.engines, *([config.crisis] if config.crisis else [])):
        if spec.engine not in registry.ENGINE_MODULES:
            known = ", ".join(sorted(registry.ENGINE_MODULES))
            raise InvalidInput(f"unknown engine {spec.engine!r}; use one of {known}")
        try:
            registry.make_config(spec.engine, spec.config)
        except (TypeError, ValueError) as error:
            raise InvalidInput(f"invalid {spec.engine} configuration: {error}") from error
    if config.render and shutil.which("dot") is None:
        raise InvalidInput("Graphviz 'dot' is not installed (the PDF's lineage diagram needs it): run "
                           "'bin/ensure-tools' or 'apt-get install graphviz'")
    if config.fed_dir is not None and not Path(config.fed_dir).is_dir():
        raise InvalidInput(f"--fed-dir {config.fed_dir}: no such directory")
    if config.fed_dir is not None and fed_available(config):
        check_fed_training_tables(config)
    if config.dataset:
        check_windows(Dataset.objects.filter(name=config.dataset).order_by("-version").first(), config)


def check_windows(dataset: Dataset, config: PipelineSettings) -> None:
    from scenarios import datasets as checks
    from scenarios.services.runs import load_increments

    index = load_increments(dataset).index
    try:
        train, holdout = checks.split_windows(index, train_start=None, train_end=config.train_end,
                                              holdout_start=config.holdout_start, holdout_end=config.holdout_end)
    except checks.DatasetError as error:
        raise InvalidInput(f"{dataset}: {error}") from error
    if int(train.sum()) < 60:
        raise InvalidInput(f"{dataset} has {int(train.sum())} rows up to {config.train_end}; at least 60 are "
                           f"needed to train (its data run {dataset.start_date} → {dataset.end_date})")
    if int(holdout.sum()) < 2 * config.horizon:
        raise InvalidInput(f"{dataset} has {int(holdout.sum())} rows in the holdout from {config.holdout_start}; "
                           f"validation needs at least {2 * config.horizon} (data end {dataset.end_date})")


# The Fed tables ─────────────────────────────────────────────────────────────────────────────
# The pipeline reads them itself from ``fed_directory(config)`` (whether to translate, and the
# supervisory path it asks to generate from, resolved here and passed in the condition). The
# translation's *training* reads the historic table where its run executes: the Celery worker's
# CRUCIBLE_FED_DIR (in-process in the embedded default, this process's setting). No setting is
# changed while the pipeline runs, so a --fed-dir whose tables differ from the setting's is refused
# up front rather than silently mixing two editions of the tables.
def fed_directory(config: PipelineSettings) -> Path:
    """Where the pipeline reads the Fed tables: ``--fed-dir``, else the CRUCIBLE_FED_DIR setting."""
    return Path(config.fed_dir) if config.fed_dir else Path(django_settings.CRUCIBLE_FED_DIR)


def fed_available(config: PipelineSettings) -> bool:
    if not config.use_fed:
        return False
    directory = fed_directory(config)
    return directory.is_dir() and any(directory.glob(f"{FED_EDITION}*Severely_Adverse_Domestic*.csv"))


def check_fed_training_tables(config: PipelineSettings) -> None:
    """The historic table the translation is trained on (read where the run executes, from the setting)
    must be the one in ``--fed-dir`` (same bytes), or the request and the fit would use different tables."""
    from scenarios.services.fed import fed_table, fed_table_sha256

    named = fed_table(FED_EDITION, "historic", "domestic", directory=fed_directory(config))
    named_sha = fed_table_sha256(named, directory=fed_directory(config))
    worker_dir = Path(django_settings.CRUCIBLE_FED_DIR)
    try:
        executed = fed_table(FED_EDITION, "historic", "domestic", directory=worker_dir)
        executed_sha = fed_table_sha256(executed, directory=worker_dir)
    except (InvalidInput, OSError):
        executed_sha = None
    if executed_sha != named_sha:
        state = "cannot be read there" if executed_sha is None else "differs from the one in --fed-dir"
        raise InvalidInput(
            f"--fed-dir {config.fed_dir}: the Fed translation is trained where its run executes, from the "
            f"CRUCIBLE_FED_DIR setting ({worker_dir}), and the {FED_EDITION} historic table {state}; set "
            f"CRUCIBLE_FED_DIR={config.fed_dir} (for the workers too), or leave out --fed-dir",
            code="fed_tables_mismatch")
