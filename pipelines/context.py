"""What the steps share while the pipeline runs, and waiting for a run row to finish."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from governance.models import RunStatus
from pipelines.settings import Event, PipelineError, PipelineSettings, Progress


@dataclass
class Context:
    config: PipelineSettings
    progress: Progress
    step: str = ""
    dataset: Any = None
    users: dict = field(default_factory=dict)
    password: str = ""
    password_generated: bool = False
    model: Any = None
    versions: dict = field(default_factory=dict)  # role → ModelVersion
    training_runs: dict = field(default_factory=dict)
    sets: dict = field(default_factory=dict)  # (role, condition) → ScenarioSet
    portfolio: Any = None
    book_notes: list = field(default_factory=list)
    stress: dict = field(default_factory=dict)  # (role, condition) → StressResult
    validation_runs: dict = field(default_factory=dict)  # role → ValidationRun of its unconditioned set
    set_validations: dict = field(default_factory=dict)  # (role, condition) → ValidationRun of a conditioned set
    decisions: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)
    subject: Any = None  # the version the report documents
    report: Any = None
    packet: Any = None
    summary: dict = field(default_factory=dict)

    def tick(self, fraction: float, message: str = "") -> None:
        self.progress(Event(self.step, "progress", fraction=max(0.0, min(1.0, fraction)), message=message))


# waiting for runs (eager: already finished; full stack: the workers) ─────────────────────
def await_run(context: Context, row, *, what: str, queue: str, lo: float = 0.0, hi: float = 1.0):
    deadline = time.monotonic() + context.config.timeout_s
    model = type(row)
    while True:
        row = model.objects.get(pk=row.pk)
        if row.status in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED):
            break
        context.tick(lo + (hi - lo) * float(row.progress or 0.0), f"{what}: {row.status.lower()}")
        if time.monotonic() > deadline:
            raise PipelineError(
                f"{what} is still {row.status} after {context.config.timeout_s:.0f} s: is a Celery worker "
                f"consuming the '{queue}' queue? (start one with 'make worker', or unset CELERY_BROKER_URL to "
                f"run tasks in-process)")
        time.sleep(0.5)
    if row.status != RunStatus.SUCCEEDED:
        raise PipelineError(f"{what} ended {row.status}: {row.error or 'no reason recorded'}")
    context.tick(hi, f"{what}: done")
    return row

