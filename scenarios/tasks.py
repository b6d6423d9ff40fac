"""Celery tasks of the scenarios app (queue ``gpu``): take ids, call one service."""

from __future__ import annotations

import socket

from celery import shared_task


def _worker(task) -> str:
    return task.request.hostname or socket.gethostname()


@shared_task(bind=True, name="scenarios.tasks.train_model", acks_late=True, max_retries=12)
def train_model(self, run_id: int) -> None:
    from governance.services.run_state import RunBusy
    from scenarios.services.runs import training_run_execute

    try:
        training_run_execute(run_id, worker=_worker(self))
    except RunBusy as busy:
        # The run is held by a live lease (a duplicate delivery, or a worker that just died):
        # come back when the lease has run out.
        raise self.retry(countdown=busy.retry_in) from busy


@shared_task(bind=True, name="scenarios.tasks.generate_scenarios", acks_late=True, max_retries=12)
def generate_scenarios(self, run_id: int) -> None:
    from governance.services.run_state import RunBusy
    from scenarios.services.runs import generation_run_execute

    try:
        generation_run_execute(run_id, worker=_worker(self))
    except RunBusy as busy:
        raise self.retry(countdown=busy.retry_in) from busy


from scenarios.import_tasks import import_dataset  # noqa: E402,F401 - registers the dataset-import task (cpu queue)
