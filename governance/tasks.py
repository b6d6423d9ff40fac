"""Celery tasks of the governance app. Tasks take ids/strings and call one service."""

from __future__ import annotations

import socket

from celery import shared_task


@shared_task(name="governance.tasks.heartbeat", acks_late=True)
def heartbeat(queue: str, token: str = "") -> None:
    """Proves a worker on ``queue`` can reach the database; enqueue it with ``queue=queue``."""
    from governance.services.heartbeat import heartbeat_record

    heartbeat_record(queue=queue, hostname=socket.gethostname(), token=token)


@shared_task(name="governance.tasks.audit_checkpoint_tick", acks_late=True)
def audit_checkpoint_tick() -> None:
    """The beat's minute (config/celery.py): a timed checkpoint when due, and unpublished ones published.

    Covers the quiet tail that no append follows: ``CRUCIBLE_AUDIT_CHECKPOINT_EVERY_MINUTES`` after
    the last checkpoint, events that arrived since are signed and anchored.
    """
    import logging

    from governance.anchors import AnchorError, publish_missing
    from governance.services.checkpoints import audit_checkpoint_if_due

    audit_checkpoint_if_due()
    try:
        publish_missing()
    except AnchorError as exc:
        logging.getLogger(__name__).error("anchor log catch-up failed: %s", exc)


@shared_task(
    name="governance.tasks.audit_checkpoint_timestamp", acks_late=True,
    autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=3600, max_retries=8,
)
def audit_checkpoint_timestamp(checkpoint_id: int) -> None:
    """Fetch and store an RFC 3161 token for a committed checkpoint (retried while the TSA is away)."""
    from governance.anchors import AnchorError, audit_checkpoint_timestamp_fetch

    try:
        audit_checkpoint_timestamp_fetch(checkpoint_id)
    except AnchorError as exc:
        raise OSError(str(exc)) from exc
