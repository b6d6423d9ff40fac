"""A worker's heartbeats do not pile up: recording one drops that worker's rows older than an hour."""

import datetime as dt

import pytest
from django.utils import timezone

from governance.models import WorkerHeartbeat
from governance.services.heartbeat import heartbeat_record

pytestmark = pytest.mark.django_db


def test_recording_a_heartbeat_drops_the_same_workers_rows_older_than_an_hour():
    old = timezone.now() - dt.timedelta(hours=2)
    WorkerHeartbeat.objects.create(queue="cpu", hostname="w1", seen_at=old)
    WorkerHeartbeat.objects.create(queue="cpu", hostname="w2", seen_at=old)  # another worker: kept
    WorkerHeartbeat.objects.create(queue="cpu", hostname="w1", seen_at=timezone.now())  # recent: kept
    heartbeat_record(queue="cpu", hostname="w1")
    assert WorkerHeartbeat.objects.filter(hostname="w1").count() == 2
    assert WorkerHeartbeat.objects.filter(hostname="w2").count() == 1
