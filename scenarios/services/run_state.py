"""Claiming, progress, heartbeat and completion of run rows (shared by training and generation).

A task delivered twice does its work once: a run is claimed by a conditional UPDATE that only
succeeds from PENDING, or from RUNNING when the holder's lease (heartbeat) has expired, i.e. the
worker died and the broker re-delivered the task (acks_late + reject_on_worker_lost).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from scenarios.models.runs import FINISHED_STATUSES, RunStatus


class RunBusy(Exception):
    """Another worker holds a live lease on the run; try again after ``retry_in`` seconds."""

    def __init__(self, retry_in: int) -> None:
        super().__init__(f"run is held by a live worker; retry in {retry_in}s")
        self.retry_in = retry_in


class RunCancelled(Exception):
    """Cancellation was requested while the run was working."""


def lease_seconds() -> int:
    return settings.CRUCIBLE_RUN_LEASE_SECONDS


def claim(model_cls, run_id: int, *, worker: str) -> bool:
    """True if this worker now holds the run; False if it is finished; RunBusy if held elsewhere."""
    now = timezone.now()
    expired = now - dt.timedelta(seconds=lease_seconds())
    claimed = model_cls.objects.filter(pk=run_id).filter(
        Q(status=RunStatus.PENDING) | Q(status=RunStatus.RUNNING, heartbeat_at__lt=expired)
    ).update(status=RunStatus.RUNNING, worker=worker[:255], heartbeat_at=now, started_at=Coalesce("started_at", now),
             attempts=F("attempts") + 1, progress=0.0)
    if claimed:
        return True
    status = model_cls.objects.filter(pk=run_id).values_list("status", flat=True).first()
    if status is None or status in FINISHED_STATUSES:
        return False
    raise RunBusy(retry_in=lease_seconds())


def report_progress(model_cls, run_id: int, *, fraction: float, **detail) -> None:
    """Progress and heartbeat in one UPDATE; raises RunCancelled when cancellation was requested."""
    model_cls.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        progress=max(0.0, min(1.0, float(fraction))), progress_detail=detail, heartbeat_at=timezone.now())
    if model_cls.objects.filter(pk=run_id, cancel_requested=True).exists():
        raise RunCancelled()


def finish(run, *, status: str, error: str = "") -> None:
    run.status = status
    run.error = error[:4000]
    run.finished_at = timezone.now()
    if status == RunStatus.SUCCEEDED:
        run.progress = 1.0
    run.save()


def reap_stale(model_cls) -> list[int]:
    """Mark RUNNING runs whose lease expired long ago (twice the lease) as FAILED; returns their ids."""
    expired = timezone.now() - dt.timedelta(seconds=2 * lease_seconds())
    stale = list(model_cls.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=expired)
                 .values_list("pk", flat=True))
    model_cls.objects.filter(pk__in=stale, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED, finished_at=timezone.now(),
        error="worker lost: no heartbeat within twice the lease; re-run it")
    return stale
