"""verify_audit against an attacker with raw database access (triggers disabled first)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from governance import signing
from governance.audit_verify import verify_audit_chain
from governance.models import AuditCheckpoint, AuditEvent
from governance.services.audit import HASHED_FIELDS, audit_record, event_hash, payload_from_values
from governance.services.checkpoints import audit_checkpoint_create, checkpoint_message

pytestmark = pytest.mark.django_db

CHECKPOINT_SEQ = 10  # the checkpoint signs the head at 10; its own event is 11; then 12..15
N_EVENTS = 15


@pytest.fixture
def chain(auditor, developer):
    for i in range(1, CHECKPOINT_SEQ + 1):
        audit_record(actor=developer if i % 2 else auditor, action="model.updated", object_type="model",
                     object_id=f"M-{i}", before={"n": i - 1}, after={"n": i, "note": f"step {i}"}, reason=f"r{i}")
    checkpoint = audit_checkpoint_create(actor=auditor, reason="before the tail")
    for i in range(CHECKPOINT_SEQ + 2, N_EVENTS + 1):
        audit_record(actor=developer, action="model.updated", object_type="model", object_id=f"M-{i}",
                     after={"n": i})
    assert checkpoint.seq == CHECKPOINT_SEQ and AuditEvent.objects.count() == N_EVENTS
    return checkpoint


def run_verify(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


def assert_broken_at(seq: int, why: str) -> str:
    code, out = run_verify()
    assert code == 1, out
    first_line = out.splitlines()[0]
    assert first_line.startswith(f"BROKEN at seq {seq}: "), out
    assert why in first_line, out
    return out


def rehash_from(raw_sql, start: int) -> None:
    """The careful attacker: recompute every hash from ``start`` on and move the head to match."""
    prev = AuditEvent.objects.get(seq=start - 1).hash if start > 1 else "0" * 64
    for row in AuditEvent.objects.filter(seq__gte=start).order_by("seq").values("id", *HASHED_FIELDS):
        new = event_hash(payload_from_values(row), prev)
        raw_sql("UPDATE governance_auditevent SET prev_hash = %s, hash = %s WHERE id = %s", [prev, new, row["id"]])
        prev = new
    raw_sql("UPDATE governance_auditchainhead SET hash = %s WHERE id = 1", [prev])


def test_intact_chain_is_ok(chain):
    code, out = run_verify()
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"OK {N_EVENTS} events"
    assert lines[1] == f"head seq {N_EVENTS} hash {AuditEvent.objects.get(seq=N_EVENTS).hash}"
    assert lines[2].startswith(f"last checkpoint {chain.id} at seq {CHECKPOINT_SEQ} hash {chain.head_hash}")
    assert signing.key_fingerprint(chain.public_key) in lines[2]


def test_empty_chain_is_ok(db):
    assert run_verify() == (0, "OK 0 events\nhead seq 0 hash " + "0" * 64 + "\nlast checkpoint: none\n")


def test_json_output(chain, raw_sql):
    code, out = run_verify("--json")
    assert code == 0 and json.loads(out)["ok"] is True
    raw_sql("UPDATE governance_auditevent SET reason = 'x' WHERE seq = 2")
    code, out = run_verify("--json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["first_broken_seq"] == 2 and data["n_events"] == 1


def test_changed_payload(chain, raw_sql):
    raw_sql("""UPDATE governance_auditevent SET after = '{"n": 999, "note": "step 4"}' WHERE seq = 4""")
    assert_broken_at(4, "the stored hash does not match its contents")


def test_changed_actor(chain, raw_sql, validator):
    raw_sql("UPDATE governance_auditevent SET actor_id = %s, actor_username = 'val' WHERE seq = 3", [validator.id])
    assert_broken_at(3, "the stored hash does not match its contents")


def test_changed_hash(chain, raw_sql):
    raw_sql("UPDATE governance_auditevent SET hash = repeat('a', 64) WHERE seq = 6")
    assert_broken_at(6, "the stored hash does not match its contents")


def test_deleted_row(chain, raw_sql):
    raw_sql("DELETE FROM governance_auditevent WHERE seq = 7")
    assert_broken_at(7, "event seq 7 is missing (the next event is seq 8)")


def test_deleted_row_with_renumbered_rest(chain, raw_sql):
    raw_sql("DELETE FROM governance_auditevent WHERE seq = 7")
    raw_sql("UPDATE governance_auditevent SET seq = seq - 1 WHERE seq > 7")
    assert_broken_at(7, "prev_hash does not match the hash of event seq 6")


def test_swapped_rows(chain, raw_sql):
    columns = [c for c in (*HASHED_FIELDS, "prev_hash", "hash") if c != "seq"]
    rows = {seq: AuditEvent.objects.filter(seq=seq).values(*columns).get() for seq in (3, 5)}
    assignments = ", ".join(f"{c} = %s" for c in columns)

    def write(seq: int, values: dict) -> None:
        params = [json.dumps(values[c]) if c in ("before", "after") else values[c] for c in columns]
        raw_sql(f"UPDATE governance_auditevent SET {assignments} WHERE seq = %s", [*params, seq])  # noqa: S608

    raw_sql("UPDATE governance_auditevent SET hash = 'parked' WHERE seq = 3")  # hash is unique meanwhile
    write(5, rows[3])
    write(3, rows[5])
    assert AuditEvent.objects.get(seq=3).object_id == "M-5" and AuditEvent.objects.get(seq=5).object_id == "M-3"
    assert_broken_at(3, "event seq 3: prev_hash does not match the hash of event seq 2")


def test_truncated_tail_with_head_rewritten_is_caught_by_an_earlier_checkpoint(chain, raw_sql):
    keep = CHECKPOINT_SEQ - 2
    raw_sql("DELETE FROM governance_auditevent WHERE seq > %s", [keep])
    raw_sql("UPDATE governance_auditchainhead SET seq = %s, hash = %s WHERE id = 1",
            [keep, AuditEvent.objects.get(seq=keep).hash])
    out = assert_broken_at(
        keep + 1, f"checkpoint {chain.id} covers seq {CHECKPOINT_SEQ} but the chain ends at seq {keep}"
    )
    assert f"{keep} events verified intact" in out


def test_truncated_tail_without_touching_the_head(chain, raw_sql):
    raw_sql("DELETE FROM governance_auditevent WHERE seq > 13")
    assert_broken_at(14, "the chain head is at seq 15 but the last event is seq 13")


def test_head_rewritten_behind_the_last_event(chain, raw_sql):
    raw_sql("UPDATE governance_auditchainhead SET seq = 13, hash = %s WHERE id = 1",
            [AuditEvent.objects.get(seq=13).hash])
    assert_broken_at(14, "event seq 14 lies beyond the chain head (seq 13)")


def test_head_hash_rewritten(chain, raw_sql):
    raw_sql("UPDATE governance_auditchainhead SET hash = repeat('b', 64) WHERE id = 1")
    assert_broken_at(N_EVENTS, f"the chain head hash does not match event seq {N_EVENTS}")


def test_chain_rewritten_consistently_below_a_checkpoint(chain, raw_sql):
    raw_sql("""UPDATE governance_auditevent SET after = '{"n": 4, "note": "nothing to see"}' WHERE seq = 4""")
    rehash_from(raw_sql, 4)
    out = assert_broken_at(CHECKPOINT_SEQ, f"checkpoint {chain.id} signed hash")
    assert "but the event there has hash" in out


def test_rewrite_after_the_last_checkpoint_is_what_checkpoints_cannot_see(chain, raw_sql):
    # Documented limit: a consistent rewrite after the newest checkpoint needs the next one.
    raw_sql("""UPDATE governance_auditevent SET after = '{"n": 0}' WHERE seq = 14""")
    rehash_from(raw_sql, 14)
    assert run_verify()[0] == 0


def test_forged_checkpoint_signature(chain, raw_sql):
    forged = ("0" if chain.signature[0] != "0" else "1") + chain.signature[1:]
    raw_sql("UPDATE governance_auditcheckpoint SET signature = %s WHERE id = %s", [forged, chain.id])
    assert_broken_at(CHECKPOINT_SEQ, f"checkpoint {chain.id} at seq {CHECKPOINT_SEQ}: the signature does not verify")


def test_checkpoint_moved_to_another_head(chain, raw_sql):
    event = AuditEvent.objects.get(seq=12)
    raw_sql("UPDATE governance_auditcheckpoint SET seq = 12, head_hash = %s WHERE id = %s", [event.hash, chain.id])
    assert_broken_at(11, f"event seq 11 records checkpoint {chain.id} differently from its row")


def _rogue_checkpoint(key, seq: int) -> dict:
    head_hash = AuditEvent.objects.get(seq=seq).hash
    signed_at = timezone.now()
    message = checkpoint_message(seq=seq, head_hash=head_hash, signed_at=signed_at, reason="rogue")
    return {"seq": seq, "head_hash": head_hash, "signed_at": signed_at, "reason": "rogue",
            "public_key": signing.public_key_hex(key), "signature": signing.sign_bytes(message, key=key)}


def test_checkpoint_signed_by_a_different_key(chain, rogue_key):
    # No trigger needs disabling: inserting is allowed, so a forger would insert.
    rogue = AuditCheckpoint.objects.create(**_rogue_checkpoint(rogue_key, 12))
    assert signing.verify_signature(rogue.public_key, checkpoint_message(
        seq=rogue.seq, head_hash=rogue.head_hash, signed_at=rogue.signed_at, reason=rogue.reason), rogue.signature)
    out = assert_broken_at(12, f"checkpoint {rogue.id} at seq 12: signed by a key that is not trusted")
    assert signing.key_fingerprint(rogue.public_key) in out


def test_a_key_listed_as_trusted_is_accepted(chain, rogue_key, monkeypatch):
    AuditCheckpoint.objects.create(**_rogue_checkpoint(rogue_key, 12))
    monkeypatch.setenv(signing.TRUSTED_KEYS_ENV, "  " + signing.public_key_hex(rogue_key).upper() + ", ")
    assert run_verify()[0] == 0


def test_checkpoint_resigned_by_a_different_key_in_place(chain, raw_sql, rogue_key):
    rogue = _rogue_checkpoint(rogue_key, CHECKPOINT_SEQ)
    raw_sql("UPDATE governance_auditcheckpoint SET public_key = %s, signature = %s, signed_at = %s, reason = %s "
            "WHERE id = %s", [rogue["public_key"], rogue["signature"], rogue["signed_at"], "rogue", chain.id])
    assert_broken_at(CHECKPOINT_SEQ, "signed by a key that is not trusted")


def test_deleted_checkpoint_row(chain, raw_sql):
    raw_sql("DELETE FROM governance_auditcheckpoint WHERE id = %s", [chain.id])
    assert_broken_at(CHECKPOINT_SEQ + 1, f"records checkpoint {chain.id}, which is missing")


def test_every_problem_is_listed_and_the_smallest_seq_wins(chain, raw_sql):
    raw_sql("UPDATE governance_auditcheckpoint SET signature = repeat('0', 128) WHERE id = %s", [chain.id])
    raw_sql("UPDATE governance_auditevent SET reason = 'x' WHERE seq = 12")
    raw_sql("UPDATE governance_auditevent SET reason = 'x' WHERE seq = 2")
    result = verify_audit_chain()
    assert not result.ok and result.first_broken_seq == 2 and result.n_events == 1
    assert [p.seq for p in result.problems] == [2, CHECKPOINT_SEQ]  # the chain read stops at the first break


def test_verification_reads_in_chunks(chain):
    assert verify_audit_chain(chunk_size=4).ok
    assert run_verify("--chunk-size", "1")[0] == 0


def test_verification_reads_the_chain_in_a_few_queries(chain, django_assert_max_num_queries):
    assert connection.in_atomic_block  # the caller's transaction is used as it is (no snapshot of its own)
    with django_assert_max_num_queries(8):
        assert verify_audit_chain(chunk_size=5000).ok
