"""The Celery task of a dataset import (queue ``cpu``): takes the import's id, calls one service."""

from __future__ import annotations

import socket

from celery import shared_task


@shared_task(bind=True, name="scenarios.import_tasks.import_dataset", acks_late=True, max_retries=12, queue="cpu")
def import_dataset(self, import_id: int) -> None:
    from governance.services.run_state import RunBusy
    from scenarios.services.dataset_imports import dataset_import_execute

    try:
        dataset_import_execute(import_id, worker=self.request.hostname or socket.gethostname())
    except RunBusy as busy:
        # Held by a live lease (a duplicate delivery, or a worker that just died): retry after it.
        raise self.retry(countdown=busy.retry_in) from busy
