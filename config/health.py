"""``GET /healthz``: is the platform able to serve and to run work?"""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from governance import environment
from governance.health import broker_status, database_status
from governance.selectors.heartbeat import worker_heartbeats_by_queue


@never_cache
@require_GET
def healthz(request):
    db = database_status()
    broker = broker_status()
    body = {
        "database": db,
        "database_engine": connection.vendor,
        "broker": broker,
        "version": environment.VERSION,
        "git_commit": environment.git_commit(),
    }
    if db == "ok":
        body["workers"] = worker_heartbeats_by_queue()
    # Without its database the platform can do nothing: 503. A broker outage only stops
    # background work, so the web process stays in rotation and reports "degraded".
    if db != "ok":
        body["status"] = "unavailable"
        return JsonResponse(body, status=503)
    body["status"] = "ok" if broker != "error" else "degraded"
    return JsonResponse(body, status=200)
