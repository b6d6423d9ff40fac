"""Celery tasks of the governance app. Tasks take ids/strings and call one service."""

from __future__ import annotations

import socket

from celery import shared_task


@shared_task(name="governance.tasks.heartbeat", acks_late=True)
def heartbeat(queue: str, token: str = "") -> None:
    """Proves a worker on ``queue`` can reach the database; enqueue it with ``queue=queue``."""
    from governance.services.heartbeat import heartbeat_record

    heartbeat_record(queue=queue, hostname=socket.gethostname(), token=token)
