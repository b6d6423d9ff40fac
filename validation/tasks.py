"""Celery tasks of the validation app: statistical tiers on ``cpu``, neural scores on ``gpu``.

Each takes the validation run's id and runs one part (a ``ValidationPart`` row of the run kernel).
"""

from __future__ import annotations

import socket

from celery import shared_task


def _part(task, run_id: int, part: str) -> None:
    from governance.services.run_state import RunBusy
    from validation.services.runs import validation_part_execute

    try:
        validation_part_execute(run_id, part, worker=task.request.hostname or socket.gethostname())
    except RunBusy as busy:
        # Held by a live lease (a duplicate delivery, or a worker that just died): retry after it.
        raise task.retry(countdown=busy.retry_in) from busy


@shared_task(bind=True, name="validation.tasks.run_statistical_tiers", acks_late=True, max_retries=12)
def run_statistical_tiers(self, run_id: int) -> None:
    _part(self, run_id, "statistical")


@shared_task(bind=True, name="validation.tasks.neural_scores", acks_late=True, max_retries=12)
def neural_scores(self, run_id: int) -> None:
    _part(self, run_id, "neural")
