"""Anchored audit chain (issue 16 §6, defect 7): checkpoints published outside the database catch
what the rows alone cannot — a rewrite after the last checkpoint left in the database, and a chain
re-signed with a stolen key."""

from __future__ import annotations

import io
import json
import os

import pytest
from django.core.management import call_command

from governance import signing
from governance.anchors import publish_missing, read_anchor_log, verify_anchors
from governance.audit_verify import verify_audit_chain
from governance.models import AuditChainHead, AuditCheckpoint, AuditEvent
from governance.services.audit import HASHED_FIELDS, audit_record, event_hash, payload_from_values
from governance.services.checkpoints import audit_checkpoint_create, checkpoint_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def anchor_log(settings, tmp_path):
    path = tmp_path / "anchor-mount" / "crucible-anchors.jsonl"
    path.parent.mkdir()
    settings.CRUCIBLE_ANCHOR_LOG = str(path)
    settings.CRUCIBLE_TSA_URL = ""
    settings.CRUCIBLE_AUDIT_CHECKPOINT_EVERY_EVENTS = 0  # checkpoints only where the test takes them
    settings.CRUCIBLE_AUDIT_CHECKPOINT_EVERY_MINUTES = 0
    return path


def _events(actor, first: int, last: int) -> None:
    for i in range(first, last + 1):
        audit_record(actor=actor, action="model.updated", object_type="model", object_id=f"M-{i}",
                     after={"n": i}, reason=f"step {i}")


@pytest.fixture
def anchored_chain(anchor_log, developer, django_capture_on_commit_callbacks):
    """Events 1..10, checkpoint A at 10 (event 11), 12..20, checkpoint B at 20 (event 21), 22..25;
    both checkpoints published to the anchor log when their transaction commits."""
    _events(developer, 1, 10)
    with django_capture_on_commit_callbacks(execute=True):
        first = audit_checkpoint_create(actor=None, reason="A")
    _events(developer, 12, 20)
    with django_capture_on_commit_callbacks(execute=True):
        second = audit_checkpoint_create(actor=None, reason="B")
    _events(developer, 22, 25)
    assert (first.seq, second.seq, AuditEvent.objects.count()) == (10, 20, 25)
    return first, second


def run_verify(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


def rehash_from(raw_sql, start: int) -> None:
    """The careful attacker: recompute every hash from ``start`` on and move the head to match."""
    prev = AuditEvent.objects.get(seq=start - 1).hash if start > 1 else "0" * 64
    for row in AuditEvent.objects.filter(seq__gte=start).order_by("seq").values("id", *HASHED_FIELDS):
        new = event_hash(payload_from_values(row), prev)
        raw_sql("UPDATE governance_auditevent SET prev_hash = %s, hash = %s WHERE id = %s", [prev, new, row["id"]])
        prev = new
    raw_sql("UPDATE governance_auditchainhead SET hash = %s WHERE id = 1", [prev])


def test_each_committed_checkpoint_is_appended_to_the_anchor_log_with_the_hashes_it_covers(anchored_chain, anchor_log):
    first, second = anchored_chain
    lines, problems = read_anchor_log(anchor_log)
    assert problems == []
    assert [(line.record["checkpoint_id"], line.record["seq"]) for line in lines] == [(first.id, 10), (second.id, 20)]
    b = lines[1].record
    assert b["head_hash"] == second.head_hash and b["signature"] == second.signature
    assert b["from_seq"] == 11
    assert b["event_hashes"] == list(AuditEvent.objects.filter(seq__range=(11, 20)).order_by("seq")
                                     .values_list("hash", flat=True))
    message = checkpoint_message(seq=b["seq"], head_hash=b["head_hash"], signed_at=second.signed_at,
                                 reason=b["reason"])
    assert signing.verify_signature(b["public_key"], message, b["signature"])
    assert run_verify("--anchors")[0] == 0


def test_the_log_is_only_ever_appended_to(anchor_log, developer, django_capture_on_commit_callbacks):
    anchor_log.write_bytes(b'{"earlier": "content written by someone else"}\n')
    _events(developer, 1, 3)
    with django_capture_on_commit_callbacks(execute=True):
        audit_checkpoint_create(actor=None, reason="A")
    data = anchor_log.read_bytes()
    assert data.startswith(b'{"earlier": "content written by someone else"}\n')
    assert json.loads(data.splitlines()[1])["seq"] == 3


def test_a_rolled_back_checkpoint_is_never_published(anchor_log, developer, django_capture_on_commit_callbacks):
    from django.db import transaction

    _events(developer, 1, 3)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            audit_checkpoint_create(actor=None, reason="rolled back")
            raise RuntimeError("the approval failed after the checkpoint")
    assert not anchor_log.exists() or anchor_log.read_bytes() == b""
    assert AuditCheckpoint.objects.count() == 0


def test_a_rewrite_after_the_last_db_checkpoint_but_before_the_newest_anchor_is_caught_only_with_anchors(
    anchored_chain, raw_sql
):
    """The attacker drops the triggers, deletes checkpoint B's row, turns its audit event into an
    ordinary one, rewrites event 15 and re-hashes the tail: the database's last checkpoint is now A
    (seq 10), and the rows alone verify. The anchor log still holds B (seq 20) and the hashes of 11..20."""
    first, second = anchored_chain
    raw_sql("DELETE FROM governance_auditcheckpoint WHERE id = %s", [second.id])
    raw_sql("UPDATE governance_auditevent SET action = 'model.updated', object_type = 'model', object_id = 'M-21', "
            "after = '{\"n\": 21}'::jsonb, reason = 'step 21' WHERE seq = 21")
    raw_sql("UPDATE governance_auditevent SET after = '{\"n\": 15, \"exposure\": \"rewritten\"}'::jsonb "
            "WHERE seq = 15")
    rehash_from(raw_sql, 11)
    raw_sql("UPDATE governance_auditchainhead SET checkpoint_seq = 10 WHERE id = 1")

    # Without anchors it is NOT caught: the rows are a consistent chain signed up to seq 10.
    result = verify_audit_chain()
    assert result.ok and result.last_checkpoint.seq == 10, result.reason
    code, out = run_verify()
    assert code == 0 and out.startswith("OK 25 events"), out

    # With anchors it is, naming the event.
    code, out = run_verify("--anchors")
    assert code == 1, out
    first_line = out.splitlines()[0]
    assert first_line.startswith("ANCHORS BROKEN at seq 15: event seq 15 was rewritten"), out
    assert f"checkpoint {second.id}" in first_line
    assert "OK 25 events" in out  # the rows themselves still verify: only the anchors tell


def test_a_chain_rewritten_and_resigned_with_the_stolen_key_is_caught_by_the_anchors(anchored_chain, raw_sql):
    """The key used to lie in var/ beside the database: whoever copies it can re-sign every checkpoint."""
    first, second = anchored_chain
    raw_sql("UPDATE governance_auditevent SET reason = 'nothing to see' WHERE seq = 5")
    rehash_from(raw_sql, 5)
    stolen = signing.platform_private_key()
    for cp in (first, second):
        new_hash = AuditEvent.objects.get(seq=cp.seq).hash
        message = checkpoint_message(seq=cp.seq, head_hash=new_hash, signed_at=cp.signed_at, reason=cp.reason)
        raw_sql("UPDATE governance_auditcheckpoint SET head_hash = %s, signature = %s WHERE id = %s",
                [new_hash, signing.sign_bytes(message, key=stolen), cp.id])
        event = AuditEvent.objects.get(action="audit.checkpoint_created", object_id=str(cp.id))
        after = dict(event.after, head_hash=new_hash, signature=signing.sign_bytes(message, key=stolen))
        raw_sql("UPDATE governance_auditevent SET after = %s::jsonb WHERE id = %s", [json.dumps(after), event.id])
        rehash_from(raw_sql, event.seq)
    assert verify_audit_chain().ok  # the rows alone: not caught

    report = verify_anchors()
    assert not report.ok
    assert report.problems[0].seq == 5
    assert report.problems[0].reason.startswith("event seq 5 was rewritten")


def test_a_tail_cut_below_the_newest_anchor_is_caught(anchored_chain, raw_sql):
    first, second = anchored_chain
    raw_sql("DELETE FROM governance_auditcheckpoint WHERE id = %s", [second.id])
    raw_sql("DELETE FROM governance_auditevent WHERE seq > 18")
    head = AuditEvent.objects.get(seq=18)
    raw_sql("UPDATE governance_auditchainhead SET seq = 18, hash = %s, checkpoint_seq = 10 WHERE id = 1", [head.hash])
    assert verify_audit_chain().ok  # not caught from the rows
    code, out = run_verify("--anchors")
    assert code == 1
    assert out.splitlines()[0].startswith("ANCHORS BROKEN at seq 19: event seq 19 is missing"), out


def test_a_forged_anchor_line_is_reported(anchored_chain, anchor_log, rogue_key):
    record = json.loads(anchor_log.read_bytes().splitlines()[-1])
    record.update(head_hash="f" * 64, event_hashes=None, from_seq=None)
    with open(anchor_log, "a") as handle:
        handle.write(json.dumps(record) + "\n")
    code, out = run_verify("--anchors")
    assert code == 1
    assert "anchor log line 3" in out and "the signature does not verify" in out


def test_anchors_without_anything_published_do_not_pass_silently(settings):
    settings.CRUCIBLE_ANCHOR_LOG = ""
    code, out = run_verify("--anchors")
    assert code == 1
    assert "nothing was published to check against: set CRUCIBLE_ANCHOR_LOG" in out


def test_a_line_that_could_not_be_written_is_published_by_the_catch_up(
    anchor_log, developer, django_capture_on_commit_callbacks, caplog
):
    os.rmdir(anchor_log.parent)  # the anchor mount is away when the checkpoint commits
    _events(developer, 1, 3)
    with django_capture_on_commit_callbacks(execute=True):
        cp = audit_checkpoint_create(actor=None, reason="mount away")
    assert "not published yet" in caplog.text
    anchor_log.parent.mkdir()
    assert publish_missing() == 1
    assert publish_missing() == 0
    lines, _ = read_anchor_log(anchor_log)
    assert [line.record["checkpoint_id"] for line in lines] == [cp.id]
    assert AuditChainHead.objects.get(id=1).checkpoint_seq == 3
