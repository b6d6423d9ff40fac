"""The end-to-end pipeline behind ``manage.py demo`` and ``manage.py run_pipeline`` (the ``pipelines`` app).

Real market data → inventory record → training runs → independent validation → signed decisions →
documentation PDF → submission packet → offline verification of the packet and of the audit chain.
Every step calls the platform's own services with the demo's own users in their roles, so the
pipeline passes through exactly the governance a person using the web application meets
(segregation of duties, e-signatures, evidence preconditions); nothing is written around them.

Long work is a run row executed by a Celery task: in the embedded default the task runs inline when
the starting transaction commits; on the full stack the pipeline waits for the ``gpu``/``cpu``
workers, polling the row, with a timeout and a message saying which queue needs a worker.

The service prints nothing: it reports through ``progress(Event)`` and returns the summary (a
JSON-able dict) that the commands print. It changes no setting while it runs: where it reads the Fed
tables is ``PipelineSettings.fed_dir``, passed explicitly to what reads them (see ``pipelines.settings``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from governance.errors import ApplicationError
from pipelines.context import Context, await_run
from pipelines.settings import (
    CONDITIONS,
    DEMO_USERS,
    DIFFUSION_DEMO,
    DIFFUSION_QUICK,
    LEVELS,
    MIN_SCENARIOS,
    PASSWORD_ENV,
    EngineSpec,
    Event,
    PipelineError,
    PipelineSettings,
    Progress,
    check_settings,
    demo_settings,
)
from pipelines.steps_review import (
    step_packet,
    step_report,
    step_review,
    step_validation,
    step_verify,
)
from pipelines.steps_setup import (
    step_dataset,
    step_generation,
    step_inventory,
    step_submission,
    step_training,
    step_users,
)
from pipelines.stress import SAMPLE_BOOK, champion_challenger, sample_book, step_stress

__all__ = [
    "CONDITIONS", "DEMO_USERS", "DIFFUSION_DEMO", "DIFFUSION_QUICK", "LEVELS", "MIN_SCENARIOS", "PASSWORD_ENV",
    "SAMPLE_BOOK", "STEPS", "Context", "EngineSpec", "Event", "PipelineError", "PipelineSettings", "Progress",
    "await_run", "champion_challenger", "check_settings", "demo_settings", "run_pipeline", "sample_book",
    "step_users",
]

STEPS = (
    ("users", "Demo users per role"),
    ("dataset", "Import the market data"),
    ("inventory", "Register the model in the inventory"),
    ("training", "Train the model versions"),
    ("submission", "Submit for independent validation"),
    ("generation", "Generate scenarios"),
    ("stress", "Stress the sample portfolio"),
    ("validation", "Validate against the holdout"),
    ("review", "Findings, decisions and e-signatures"),
    ("report", "Render the documentation PDF"),
    ("packet", "Build the submission packet"),
    ("verify", "Verify the packet and the audit chain"),
)


def run_pipeline(config: PipelineSettings, *, progress: Progress | None = None) -> dict:
    """Run every step; returns the summary. Raises ``InvalidInput`` before writing, ``PipelineError`` after."""
    check_settings(config)
    context = Context(config=config, progress=progress or (lambda event: None))
    return _run_steps(context)


def _run_steps(context: Context) -> dict:
    timings: dict[str, float] = {}
    for name, title in STEPS:
        context.step = name
        context.progress(Event(name, "start", title=title))
        started = time.perf_counter()
        try:
            message = STEP_FUNCTIONS[name](context) or ""
        except ApplicationError as error:
            raise PipelineError(f"step '{name}' ({title}): {error.message}") from error
        timings[name] = round(time.perf_counter() - started, 2)
        context.progress(Event(name, "done", title=title, fraction=1.0, message=message, seconds=timings[name]))
    context.summary["timings_s"] = timings | {"total": round(sum(timings.values()), 2)}
    return context.summary


STEP_FUNCTIONS: dict[str, Callable[[Context], str | None]] = {
    "dataset": step_dataset, "users": step_users, "inventory": step_inventory, "training": step_training,
    "submission": step_submission, "generation": step_generation, "stress": step_stress,
    "validation": step_validation, "review": step_review, "report": step_report, "packet": step_packet,
    "verify": step_verify,
}
