"""Verifying the audit trail from its rows: the hash chain, the head row and the signed checkpoints.

What is checked, reading the events once in ``seq`` order (streamed in chunks):

1. the sequence numbers are 1..n with no gap, duplicate or stray number;
2. each ``prev_hash`` is the previous event's ``hash`` (64 zeros for the first);
3. each ``hash`` is the recomputation ``SHA-256(canonical_json(fields) || prev_hash)``;
4. the chain-head row names the last event (seq and hash), and no event lies beyond it;
5. every checkpoint's Ed25519 signature over ``checkpoint_message(...)`` verifies with its public
   key, and that key is trusted (the platform's current key or one in ``CRUCIBLE_TRUSTED_KEYS``)
   and, when the key history (``AuditSigningKey``) knows the key, lies in that key's period (from
   the first checkpoint it signed to the next key's first), so a retired key cannot sign later;
6. every checkpoint's ``(seq, head_hash)`` is the event row at that seq, so a chain rewritten
   consistently below a checkpoint, or a tail cut off below one (even with the head row rewritten
   to match), is caught;
7. every ``audit.checkpoint_created`` event still has its checkpoint row, unchanged.

The first broken sequence number is the smallest seq at which any check fails: everything from
there on cannot be trusted. From the rows alone, an attacker with raw database access (who
dropped the append-only triggers) can still rewrite events *after* the last checkpoint (deleting
the checkpoints after the one they keep), and, holding the signing key, anything. Checking the
chain against the heads published outside the database (``governance.anchors.verify_anchors``,
``verify_audit --anchors``) catches both up to the newest published anchor.

On PostgreSQL, outside a transaction, the rows are read in one REPEATABLE READ READ ONLY
snapshot; elsewhere the head row is read first and only events up to it are verified, so
concurrent appends never show up as breaks.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection, transaction

from governance import signing
from governance.models import AuditChainHead, AuditCheckpoint, AuditEvent
from governance.models.audit import GENESIS_HASH, AuditSigningKey
from governance.services.audit import HASHED_FIELDS, event_hash, payload_from_values
from governance.services.checkpoints import checkpoint_message

CHECKPOINT_ACTION = "audit.checkpoint_created"
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class CheckpointSummary:
    id: int
    seq: int
    head_hash: str
    signed_at: dt.datetime
    reason: str
    public_key: str
    fingerprint: str
    signature_valid: bool
    trusted_key: bool


@dataclass(frozen=True)
class Problem:
    seq: int
    reason: str


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    n_events: int  # events verified intact, from seq 1 (all of them when ok)
    first_broken_seq: int | None
    reason: str
    head_seq: int | None
    head_hash: str | None
    n_checkpoints: int
    last_checkpoint: CheckpointSummary | None
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = [asdict(p) for p in self.problems[:MAX_PROBLEMS]]
        return data


@dataclass
class _Checkpoint:
    id: int
    seq: int
    head_hash: str
    signed_at: dt.datetime
    reason: str
    public_key: str
    signature: str
    signature_valid: bool = False
    trusted_key: bool = False

    def summary(self) -> CheckpointSummary:
        try:
            fingerprint = signing.key_fingerprint(self.public_key)
        except ValueError:
            fingerprint = ""
        return CheckpointSummary(
            id=self.id, seq=self.seq, head_hash=self.head_hash, signed_at=self.signed_at, reason=self.reason,
            public_key=self.public_key, fingerprint=fingerprint, signature_valid=self.signature_valid,
            trusted_key=self.trusted_key,
        )


@contextlib.contextmanager
def _read_snapshot() -> Iterator[None]:
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    else:
        yield


def verify_audit_chain(*, chunk_size: int = 2000) -> VerificationResult:
    """Verify the whole audit trail (see the module docstring); never raises on a broken chain."""
    with _read_snapshot():
        return _verify(chunk_size)


def _load_checkpoints(problems: list[Problem]) -> list[_Checkpoint]:
    trusted = signing.trusted_public_keys()
    checkpoints = []
    rows = AuditCheckpoint.objects.order_by("seq", "id").values_list(
        "id", "seq", "head_hash", "signed_at", "reason", "public_key", "signature"
    )
    for row in rows.iterator(chunk_size=2000):
        cp = _Checkpoint(*row)
        message = checkpoint_message(seq=cp.seq, head_hash=cp.head_hash, signed_at=cp.signed_at, reason=cp.reason)
        cp.signature_valid = signing.verify_signature(cp.public_key, message, cp.signature)
        cp.trusted_key = cp.public_key.lower() in trusted
        if not cp.signature_valid:
            problems.append(Problem(cp.seq, f"checkpoint {cp.id} at seq {cp.seq}: the signature does not verify"))
        elif not cp.trusted_key:
            fingerprint = cp.summary().fingerprint or "malformed key"
            problems.append(Problem(
                cp.seq, f"checkpoint {cp.id} at seq {cp.seq}: signed by a key that is not trusted ({fingerprint})"
            ))
        checkpoints.append(cp)
    _check_key_periods(checkpoints, problems)
    return checkpoints


def _check_key_periods(checkpoints: list[_Checkpoint], problems: list[Problem]) -> None:
    """A key in the history (``AuditSigningKey``) signs only checkpoints within its period.

    A history edited to widen an old key's period moves a later key's start past checkpoints that
    key signed, which this same rule then catches (and those checkpoints are anchored).
    """
    history = list(AuditSigningKey.objects.order_by("activated_seq").values_list(
        "public_key", "fingerprint", "activated_seq"))
    if not history:
        return
    starts = [row[2] for row in history]
    in_history = {row[0].lower() for row in history}
    for cp in checkpoints:
        if not cp.signature_valid or cp.public_key.lower() not in in_history:
            continue  # a key the history does not know is judged by trust alone (check 5)
        index = bisect.bisect_right(starts, cp.seq) - 1
        if index < 0:
            problems.append(Problem(cp.seq, f"checkpoint {cp.id} at seq {cp.seq} precedes the signing-key history "
                                            f"(which starts at seq {starts[0]})"))
            continue
        public_key, fingerprint, activated = history[index]
        if public_key.lower() != cp.public_key.lower():
            problems.append(Problem(cp.seq, f"checkpoint {cp.id} at seq {cp.seq}: signed by key "
                                            f"{cp.summary().fingerprint or 'malformed'}, but the signing key from seq "
                                            f"{activated} on is {fingerprint}"))



def _verify(chunk_size: int) -> VerificationResult:
    problems: list[Problem] = []
    # The head first: every event and checkpoint it covers is committed (and immutable) by now.
    head = AuditChainHead.objects.filter(id=1).values_list("seq", "hash").first()
    head_seq, head_hash = head if head is not None else (None, None)

    checkpoints = _load_checkpoints(problems)
    by_seq: dict[int, list[_Checkpoint]] = defaultdict(list)
    by_id: dict[str, _Checkpoint] = {}
    for cp in checkpoints:
        by_seq[cp.seq].append(cp)
        by_id[str(cp.id)] = cp
    for cp in by_seq.get(0, []):
        if cp.head_hash != GENESIS_HASH:
            problems.append(Problem(1, f"checkpoint {cp.id} at seq 0 does not sign the genesis hash"))

    events = AuditEvent.objects.order_by("seq")
    if head_seq is not None:
        events = events.filter(seq__lte=head_seq)
    rows = events.values_list("prev_hash", "hash", *HASHED_FIELDS)

    expected, prev = 1, GENESIS_HASH
    broken = False
    for prev_hash, stored_hash, *values in rows.iterator(chunk_size=chunk_size):
        fields = dict(zip(HASHED_FIELDS, values, strict=True))
        seq = fields["seq"]
        if seq != expected:
            why = (f"event seq {expected} is missing (the next event is seq {seq})" if seq > expected
                   else f"unexpected event seq {seq} where seq {expected} was due")
            problems.append(Problem(min(seq, expected), why))
            broken = True
            break
        if prev_hash != prev:
            problems.append(Problem(seq, f"event seq {seq}: prev_hash does not match the hash of event seq {seq - 1}"))
            broken = True
            break
        if event_hash(payload_from_values(fields), prev_hash) != stored_hash:
            problems.append(Problem(seq, f"event seq {seq}: the stored hash does not match its contents"))
            broken = True
            break
        for cp in by_seq.get(seq, ()):
            if cp.head_hash != stored_hash:
                problems.append(Problem(
                    seq, f"checkpoint {cp.id} signed hash {cp.head_hash[:16]}… at seq {seq}, "
                         f"but the event there has hash {stored_hash[:16]}…"
                ))
        if fields["action"] == CHECKPOINT_ACTION:
            _check_checkpoint_event(seq, fields, by_id, problems)
        prev, expected = stored_hash, expected + 1
    n_verified = expected - 1

    if not broken:
        _check_tail(n_verified, prev, head_seq, head_hash, checkpoints, problems)

    problems.sort(key=lambda p: p.seq)
    last = checkpoints[-1].summary() if checkpoints else None
    first = problems[0] if problems else None
    return VerificationResult(
        ok=not problems,
        n_events=n_verified,
        first_broken_seq=first.seq if first else None,
        reason=first.reason if first else "",
        head_seq=head_seq,
        head_hash=head_hash,
        n_checkpoints=len(checkpoints),
        last_checkpoint=last,
        problems=tuple(problems),
    )


def _check_checkpoint_event(seq: int, fields: dict, by_id: dict[str, _Checkpoint], problems: list[Problem]) -> None:
    cp = by_id.get(str(fields["object_id"]))
    if cp is None:
        problems.append(Problem(seq, f"event seq {seq} records checkpoint {fields['object_id']}, which is missing"))
        return
    after = fields["after"] or {}
    if after.get("signature") != cp.signature or after.get("head_hash") != cp.head_hash or after.get("seq") != cp.seq:
        problems.append(Problem(seq, f"event seq {seq} records checkpoint {cp.id} differently from its row"))


def _check_tail(
    n_verified: int,
    last_hash: str,
    head_seq: int | None,
    head_hash: str | None,
    checkpoints: list[_Checkpoint],
    problems: list[Problem],
) -> None:
    if head_seq is None:
        problems.append(Problem(n_verified + 1, "the chain head row is missing"))
    elif n_verified < head_seq:
        problems.append(Problem(
            n_verified + 1, f"the chain head is at seq {head_seq} but the last event is seq {n_verified}: "
                            f"events {n_verified + 1}..{head_seq} are missing"
        ))
    elif head_hash != last_hash:
        problems.append(Problem(head_seq, f"the chain head hash does not match event seq {head_seq}"))
    beyond = [cp for cp in checkpoints if cp.seq > n_verified]
    if head_seq is None or n_verified != head_seq or head_hash != last_hash:
        for cp in beyond:
            problems.append(_removed(cp, n_verified))
        return
    # Re-read the head only after seeing what lies beyond it, so appends in between are covered.
    first_beyond = _first_event_beyond(head_seq)
    fresh_seq = _fresh_head_seq() if beyond or first_beyond else head_seq
    _check_beyond_head(head_seq, first_beyond, fresh_seq, last_hash, problems)
    for cp in beyond:
        # Signed after we read the head? Then the head has moved past it since; check its row.
        if fresh_seq is not None and head_seq < cp.seq <= fresh_seq:
            at = AuditEvent.objects.filter(seq=cp.seq).values_list("hash", flat=True).first()
            if at != cp.head_hash:
                problems.append(Problem(cp.seq, f"checkpoint {cp.id} signed a hash that is not event seq {cp.seq}'s"))
        else:
            problems.append(_removed(cp, n_verified))


def _removed(cp: _Checkpoint, n_verified: int) -> Problem:
    return Problem(
        n_verified + 1,
        f"checkpoint {cp.id} covers seq {cp.seq} but the chain ends at seq {n_verified}: events were removed",
    )


def _fresh_head_seq() -> int | None:
    return AuditChainHead.objects.filter(id=1).values_list("seq", flat=True).first()


def _first_event_beyond(head_seq: int) -> tuple[int, str] | None:
    return AuditEvent.objects.filter(seq__gt=head_seq).order_by("seq").values_list("seq", "prev_hash").first()


def _check_beyond_head(
    head_seq: int, beyond: tuple[int, str] | None, fresh_seq: int | None, last_hash: str, problems: list[Problem]
) -> None:
    if beyond is None:
        return
    if fresh_seq is not None and fresh_seq >= beyond[0]:
        # Appended concurrently while we read: they are not part of this verification, but the
        # first of them must still continue the verified chain.
        if beyond[0] != head_seq + 1 or beyond[1] != last_hash:
            problems.append(Problem(head_seq + 1, f"event seq {beyond[0]} does not continue the chain"))
        return
    problems.append(Problem(
        head_seq + 1, f"event seq {beyond[0]} lies beyond the chain head (seq {head_seq}): the head was rewritten"
    ))
