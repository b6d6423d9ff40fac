"""Scheduled checkpoints (issue 16 §6): every N events (by the appends) or M minutes (by appends and
the beat), whichever comes first, besides approvals; a missing key never fails the Nth write."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.utils import timezone

from governance import signing
from governance.audit_verify import verify_audit_chain
from governance.models import AuditChainHead, AuditCheckpoint
from governance.services.audit import audit_record
from governance.services.checkpoints import audit_checkpoint_create
from governance.tasks import audit_checkpoint_tick

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule(settings):
    settings.CRUCIBLE_ANCHOR_LOG = ""
    settings.CRUCIBLE_TSA_URL = ""

    def set_to(*, events: int, minutes: float) -> None:
        settings.CRUCIBLE_AUDIT_CHECKPOINT_EVERY_EVENTS = events
        settings.CRUCIBLE_AUDIT_CHECKPOINT_EVERY_MINUTES = minutes

    return set_to


def _append(n: int) -> None:
    for i in range(n):
        audit_record(actor=None, action="test.event", object_type="thing", object_id=i, after={"i": i})


def _age_last_checkpoint(minutes: float) -> None:
    head = AuditChainHead.objects.get(id=1)
    AuditChainHead.objects.filter(id=1).update(checkpoint_at=head.checkpoint_at - dt.timedelta(minutes=minutes))


def test_every_n_events_the_append_itself_signs_a_checkpoint(schedule):
    schedule(events=5, minutes=0)
    _append(12)
    # 1..5 -> checkpoint at 5 (its event is 6); 7..10 -> checkpoint at 10 (event 11); then 12..14.
    assert list(AuditCheckpoint.objects.values_list("seq", flat=True)) == [5, 10]
    reasons = set(AuditCheckpoint.objects.values_list("reason", flat=True))
    assert reasons == {"scheduled: 5 events since the last checkpoint"}
    assert AuditChainHead.objects.get(id=1).seq == 14
    assert verify_audit_chain().ok


def test_the_default_schedule_is_on(settings):
    assert settings.CRUCIBLE_AUDIT_CHECKPOINT_EVERY_EVENTS == 50
    assert settings.CRUCIBLE_AUDIT_CHECKPOINT_EVERY_MINUTES == 5


def test_an_append_m_minutes_after_the_last_checkpoint_signs_one(schedule):
    schedule(events=0, minutes=5)
    _append(3)
    assert AuditCheckpoint.objects.count() == 0  # the timed rule needs a first checkpoint (or the beat)
    audit_checkpoint_create(actor=None, reason="first")
    _append(2)
    assert AuditCheckpoint.objects.count() == 1  # not 5 minutes yet
    _age_last_checkpoint(6)
    _append(1)
    latest = AuditCheckpoint.objects.order_by("-seq").first()
    assert AuditCheckpoint.objects.count() == 2 and latest.reason == "scheduled: 5 minutes since the last checkpoint"
    assert latest.seq == AuditChainHead.objects.get(id=1).seq - 1


def test_the_beat_tick_signs_a_quiet_tail_and_nothing_when_nothing_happened(schedule):
    schedule(events=0, minutes=5)
    _append(3)
    audit_checkpoint_tick.apply().get()
    assert list(AuditCheckpoint.objects.values_list("seq", "reason")) == [(3, "scheduled: no checkpoint yet")]
    _append(1)  # seq 5, right after the checkpoint: not due; then nothing else is written
    _age_last_checkpoint(10)
    audit_checkpoint_tick.apply().get()
    assert list(AuditCheckpoint.objects.values_list("seq", "reason")) == [
        (3, "scheduled: no checkpoint yet"), (5, "scheduled: 5 minutes since the last checkpoint")]
    _age_last_checkpoint(10)
    audit_checkpoint_tick.apply().get()  # only the checkpoint's own event since: nothing to sign
    assert AuditCheckpoint.objects.count() == 2
    assert verify_audit_chain().ok


def test_the_beat_schedule_runs_the_tick_every_minute():
    from config.celery import app

    entry = app.conf.beat_schedule["audit-checkpoint-tick"]
    assert entry["task"] == "governance.tasks.audit_checkpoint_tick" == audit_checkpoint_tick.name
    assert entry["schedule"] == 60.0


def test_a_missing_key_in_production_does_not_fail_the_nth_write_but_says_so(schedule, monkeypatch, caplog):
    schedule(events=2, minutes=0)
    monkeypatch.delenv(signing.KEY_ENV)  # DATABASE_URL is set in the suite: production rules
    with caplog.at_level(logging.ERROR, logger="governance.services.checkpoints"):
        _append(3)
    assert AuditChainHead.objects.get(id=1).seq == 3
    assert AuditCheckpoint.objects.count() == 0
    assert "scheduled audit checkpoint skipped" in caplog.text and signing.KEY_FILE_ENV in caplog.text


def test_the_command_applies_the_schedule_for_cron(schedule):
    import io

    from django.core.management import call_command

    schedule(events=0, minutes=5)
    _append(2)
    out = io.StringIO()
    call_command("audit_checkpoint", "--if-due", stdout=out)
    assert "checkpoint" in out.getvalue() and "at seq 2" in out.getvalue()
    out = io.StringIO()
    call_command("audit_checkpoint", "--if-due", stdout=out)
    assert out.getvalue().strip() == "no checkpoint due"
    assert timezone.now() - AuditChainHead.objects.get(id=1).checkpoint_at < dt.timedelta(minutes=1)
