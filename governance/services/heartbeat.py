from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from governance.models import WorkerHeartbeat


@transaction.atomic
def heartbeat_record(*, queue: str, hostname: str, token: str = "") -> WorkerHeartbeat:
    return WorkerHeartbeat.objects.create(queue=queue, hostname=hostname, token=token, seen_at=timezone.now())
