"""The run kernel's fields: long work as rows with a status (DESIGN §2 "run kernel", §4).

Every kind of background work — training, generation, validation parts, reports, packets, dataset
imports and whatever comes next — is a table that inherits ``RunFields`` and is registered with the
kernel (``governance.services.run_state.register_run_kind``) in its app's ``AppConfig.ready()``.
The fields (and so the columns of the existing tables) are the ones the scenarios app used to
define: moving them here needs no data migration.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RunStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    RUNNING = "RUNNING", "Running"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


FINISHED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)
ACTIVE_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING)


class RunFields(models.Model):
    """Status, progress, lease and error of a piece of background work.

    The lease: a worker holds a RUNNING run while its ``heartbeat_at`` is younger than
    ``CRUCIBLE_RUN_LEASE_SECONDS``; ``attempts`` is the fencing token of the holder (each claim
    increments it, and only the holder of the current attempt may report progress or finish).
    A PENDING run's ``heartbeat_at`` is when it was last enqueued.
    """

    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.PENDING)
    progress = models.FloatField(default=0.0, help_text="fraction done, 0..1")
    progress_detail = models.JSONField(default=dict, blank=True, help_text="stage, epoch, loss, ...")
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="last sign of life of the worker")
    cancel_requested = models.BooleanField(default=False)
    seed = models.BigIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES
