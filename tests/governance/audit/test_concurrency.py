"""Concurrent writers on PostgreSQL still form one unbroken chain."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.db import connection

from governance import audit_verify
from governance.audit_verify import verify_audit_chain
from governance.models import AuditCheckpoint, AuditEvent
from governance.services.audit import audit_record
from governance.services.checkpoints import audit_checkpoint_create

THREADS = 50
EVENTS_PER_THREAD = 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("snapshot", [True, False], ids=["snapshot", "head-bounded"])
def test_fifty_threads_append_one_unbroken_chain(monkeypatch, snapshot):
    if not snapshot:
        # The path SQLite takes: read the head first, verify up to it, tolerate appends beyond it.
        monkeypatch.setattr(audit_verify, "_read_snapshot", contextlib.nullcontext)
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            for step in range(EVENTS_PER_THREAD):
                audit_record(actor=None, action="test.concurrent", object_type="thread", object_id=index,
                             after={"thread": index, "step": step})
            if index % 10 == 0:  # checkpoints take the same lock, interleaved with the appends
                audit_checkpoint_create(actor=None, reason=f"thread {index}")
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread below
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection: give it back

    writers_done = threading.Event()
    verdicts = []

    def verifier() -> None:
        # Verifying while the chain grows: each run reads one snapshot, so it never sees a break.
        try:
            while not writers_done.is_set():
                verdicts.append(verify_audit_chain())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(THREADS)]
    watcher = threading.Thread(target=verifier)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    writers_done.set()
    watcher.join(timeout=120)
    assert not errors, errors[:3]
    assert verdicts and all(v.ok for v in verdicts), [v.reason for v in verdicts if not v.ok][:3]

    # Besides the 5 the threads take, the schedule (every N events, issue 16 §6) may add its own.
    n_checkpoints = AuditCheckpoint.objects.count()
    assert AuditCheckpoint.objects.exclude(reason__startswith="scheduled:").count() == THREADS // 10
    expected = THREADS * EVENTS_PER_THREAD + n_checkpoints
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, expected + 1))
    per_thread = AuditEvent.objects.filter(action="test.concurrent").values_list("object_id", flat=True)
    assert sorted(per_thread) == sorted(str(i) for i in range(THREADS) for _ in range(EVENTS_PER_THREAD))
    assert AuditCheckpoint.objects.count() == n_checkpoints

    assert not connection.in_atomic_block  # PostgreSQL: verification takes its own REPEATABLE READ snapshot
    result = verify_audit_chain()
    assert result.ok, result.reason
    assert result.n_events == expected and result.n_checkpoints == n_checkpoints
