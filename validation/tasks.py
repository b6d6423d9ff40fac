"""Celery tasks of the validation app: statistical tiers on ``cpu``, neural scores on ``gpu``."""

from __future__ import annotations

import socket

from celery import shared_task


@shared_task(bind=True, name="validation.tasks.run_statistical_tiers", acks_late=True)
def run_statistical_tiers(self, run_id: int) -> None:
    from validation.services.runs import validation_part_execute

    validation_part_execute(run_id, "statistical", worker=self.request.hostname or socket.gethostname())


@shared_task(bind=True, name="validation.tasks.neural_scores", acks_late=True)
def neural_scores(self, run_id: int) -> None:
    from validation.services.runs import validation_part_execute

    validation_part_execute(run_id, "neural", worker=self.request.hostname or socket.gethostname())
