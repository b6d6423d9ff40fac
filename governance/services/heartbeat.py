from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from governance.models import WorkerHeartbeat

# Heartbeats arrive every minute per queue (the beat entry) and on every health probe; only the recent ones
# are read (the health check looks minutes back), so a worker's older rows are dropped as it records a new one.
KEEP = dt.timedelta(hours=1)


@transaction.atomic
def heartbeat_record(*, queue: str, hostname: str, token: str = "") -> WorkerHeartbeat:
    now = timezone.now()
    WorkerHeartbeat.objects.filter(queue=queue, hostname=hostname, seen_at__lt=now - KEEP).delete()
    return WorkerHeartbeat.objects.create(queue=queue, hostname=hostname, token=token, seen_at=now)
