from __future__ import annotations

from governance.models import WorkerHeartbeat


def worker_heartbeats_by_queue() -> dict[str, dict]:
    latest: dict[str, dict] = {}
    for beat in WorkerHeartbeat.objects.order_by("queue", "-seen_at"):
        if beat.queue not in latest:
            latest[beat.queue] = {"hostname": beat.hostname, "seen_at": beat.seen_at.isoformat()}
    return latest
