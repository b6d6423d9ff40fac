"""Celery tasks of the run kernel (registered through ``CELERY_IMPORTS``; scheduled by beat).

Separate from ``governance.tasks``: the kernel's reaper is wiring for every app's runs.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="governance.run_tasks.reap_stale_runs", acks_late=True, ignore_result=True)
def reap_stale_runs() -> dict:
    """Re-queue or fail runs whose worker died, enqueue lost PENDING ones, sweep half-written artefacts."""
    from governance.services.run_state import run_reap_stale

    return run_reap_stale().as_dict()
