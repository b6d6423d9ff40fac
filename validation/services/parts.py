"""Validation parts as run-kernel rows: their task routing and how a part's status moves its run.

Light on purpose (no numpy, no suite): ``ValidationConfig.ready()`` registers these with the kernel in
every process, the web's included.
"""

from __future__ import annotations

from django.utils import timezone

from governance.models import RunStatus
from governance.services.audit import audit_record
from validation.models import ValidationPart, ValidationRun

PARTS = ("statistical", "neural")
SKIPPED = "SKIPPED"
# The tasks take the validation run's id; which part they run is the task's (two queues: cpu, gpu).
PART_TASKS = {"statistical": "validation.tasks.run_statistical_tiers", "neural": "validation.tasks.neural_scores"}


def part_route(part: ValidationPart) -> tuple[str, tuple]:
    return PART_TASKS[part.name], (part.run_id,)


def part_row(run_id: int, name: str) -> ValidationPart | None:
    """The part's row; created from the run's ``parts`` for a run started before parts were rows."""
    part = ValidationPart.objects.filter(run_id=run_id, name=name).first()
    if part is not None:
        return part
    run = ValidationRun.objects.filter(pk=run_id).first()
    if run is None or run.is_finished or run.parts.get(name) != RunStatus.PENDING:
        return None
    part, _ = ValidationPart.objects.get_or_create(run=run, name=name,
                                                   defaults={"seed": run.seed, "created_by_id": run.created_by_id})
    return part


def part_status_changed(part: ValidationPart, previous: str) -> None:
    """The kernel's hook, inside the transaction of every change of a part: the run's ``parts`` follow the
    part; the first claim starts the run; a part that fails (or is cancelled) fails the run, audited."""
    now = timezone.now()
    run = ValidationRun.objects.select_for_update().get(pk=part.run_id)
    run.parts = dict(run.parts) | {part.name: part.status}
    if part.status == RunStatus.RUNNING:
        if run.status == RunStatus.PENDING:
            run.status, run.started_at = RunStatus.RUNNING, now
        run.worker = ",".join(sorted({*filter(None, run.worker.split(",")), part.worker[:100]}))[:255]
        run.heartbeat_at = now
        run.attempts += 1
    elif part.status in (RunStatus.FAILED, RunStatus.CANCELLED) and not run.is_finished:
        run.status, run.error, run.finished_at = RunStatus.FAILED, f"{part.name}: {part.error}"[:4000], now
        audit_record(actor=run.created_by, action="validation_run.failed", object_type="validation_run",
                     object_id=run.pk, after={"part": part.name, "error": part.error[:500]})
    elif part.status == RunStatus.SUCCEEDED:
        run.progress = sum(v in (RunStatus.SUCCEEDED, SKIPPED) for v in run.parts.values()) / len(run.parts)
        run.heartbeat_at = now
    run.save()
