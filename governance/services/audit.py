"""Appending to the audit trail: one event per state change, in the caller's transaction.

Chain rule (verified by ``governance.audit_verify``):
    hash_n = SHA-256( canonical_json(event_n fields) || prev_hash ),  prev_hash_1 = 64 zeros,
where the fields are ``HASHED_FIELDS`` below and ``||`` joins the JSON text and the previous hash
(64 lowercase hex characters) before UTF-8 encoding.

Appends are serialised by taking the write lock on the single chain-head row *first* (an
``UPDATE ... RETURNING``), so concurrent writers on PostgreSQL queue on the row lock and writers
on SQLite hold the database's write lock (IMMEDIATE transactions) before they read the head.
The tables themselves are append-only at the database (migration 0004).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from governance.canonical import canonical_json, jsonable, sha256_hex
from governance.models import AuditChainHead, AuditEvent

# The event fields a hash covers, in the order ``values_list`` reads them back for verification.
HASHED_FIELDS = (
    "seq", "timestamp", "actor_id", "actor_username", "action", "object_type", "object_id",
    "before", "after", "reason",
)

_LIMITS = {"action": 100, "object_type": 100, "object_id": 100}


def payload_from_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed payload from a mapping of ``HASHED_FIELDS`` (as they read back from the database)."""
    payload = {name: values[name] for name in HASHED_FIELDS}
    payload["object_id"] = str(payload["object_id"])
    return payload


def event_payload(event: AuditEvent) -> dict[str, Any]:
    """The fields a hash covers, as they read back from the database."""
    return payload_from_values({name: getattr(event, name) for name in HASHED_FIELDS})


def event_hash(payload: dict[str, Any], prev_hash: str) -> str:
    return sha256_hex(canonical_json(payload) + prev_hash)


def db_stable_json(value: Any) -> Any:
    """``jsonable(value)`` in the form a JSON column gives back unchanged, so stored and hashed agree.

    PostgreSQL's jsonb keeps numbers as exact decimals and prints them without exponents, so a
    float such as ``1e+16`` reads back as the integer ``10000000000000000`` and ``-0.0`` as ``0.0``.
    Those floats are stored in that form to begin with (decimal value of their shortest repr).
    """
    return _stable(jsonable(value))


def _stable(value: Any) -> Any:
    if isinstance(value, float):
        if value == 0.0:
            return 0.0
        if "e+" in repr(value):
            return int(decimal.Decimal(repr(value)))
        return value
    if isinstance(value, dict):
        return {key: _stable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_stable(item) for item in value]
    return value


def _advance_head() -> tuple[int, str, int, Any]:
    """Take the chain-head row lock and claim the next sequence number.

    Returns (new seq, previous hash, last checkpoint's seq, its time as stored): the last two
    decide whether a scheduled checkpoint is due, read by this same statement.
    """
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    with connection.cursor() as cursor:
        sql = f"UPDATE {table} SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash, checkpoint_seq, checkpoint_at"  # noqa: S608 - fixed names
        cursor.execute(sql)
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError("the audit chain head is missing: run 'python manage.py migrate'")
    return int(row[0]), row[1], int(row[2]), row[3]


def _as_datetime(value: Any):
    """A raw ``checkpoint_at`` as a timezone-aware datetime (SQLite hands back text)."""
    if value is None or isinstance(value, dt.datetime):
        return value if value is None or timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=dt.UTC)


def audit_record(
    *,
    actor,
    action: str,
    object_type: str,
    object_id: Any,
    before: Any = None,
    after: Any = None,
    reason: str = "",
) -> AuditEvent:
    """Append one event. Call it inside the transaction of the change it records.

    ``before``/``after`` may hold anything ``governance.canonical`` serialises (Decimal, date,
    datetime, UUID, sets); they are stored, and hashed, in their JSON form.
    """
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    actor_username = actor.get_username() if actor is not None and hasattr(actor, "get_username") else ""
    object_id = str(object_id)
    for name, value in (("action", action), ("object_type", object_type), ("object_id", object_id)):
        if not value or len(value) > _LIMITS[name]:
            raise ValueError(f"audit {name} must be 1..{_LIMITS[name]} characters, got {value!r:.120}")
    before, after = db_stable_json(before), db_stable_json(after)
    with transaction.atomic():
        seq, prev_hash, checkpoint_seq, checkpoint_at = _advance_head()
        event = AuditEvent(
            seq=seq,
            timestamp=timezone.now(),
            actor_id=actor_id,
            actor_username=actor_username,
            action=action,
            object_type=object_type,
            object_id=object_id,
            before=before,
            after=after,
            reason=reason or "",
            prev_hash=prev_hash,
        )
        event.hash = event_hash(event_payload(event), event.prev_hash)
        event.save(force_insert=True)
        AuditChainHead.objects.filter(id=1).update(hash=event.hash)
        # Issue 16 §6: a scheduled checkpoint when N events or M minutes have passed since the
        # last one, signed here under the chain lock already held (published after commit).
        from governance.services.checkpoints import checkpoint_on_append  # imports this module

        checkpoint_on_append(seq=seq, checkpoint_seq=checkpoint_seq, checkpoint_at=_as_datetime(checkpoint_at),
                             now=event.timestamp)
    return event
