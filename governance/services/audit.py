"""Appending to the audit trail: one event per state change, in the caller's transaction.

Chain rule (verified by ``governance.audit_verify``):
    hash_n = SHA-256( canonical_json(event_n fields) || prev_hash ),  prev_hash_1 = 64 zeros.
Appends are serialised by taking the write lock on the single chain-head row *first*
(an UPDATE), so concurrent writers on PostgreSQL queue on the row lock and writers on SQLite
hold the database's write lock before they read the head.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from governance.canonical import canonical_json, jsonable, sha256_hex
from governance.models import AuditChainHead, AuditEvent


def event_payload(event: AuditEvent) -> dict[str, Any]:
    """The fields a hash covers, as they read back from the database."""
    return {
        "seq": event.seq,
        "timestamp": event.timestamp,
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": str(event.object_id),
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
    }


def event_hash(payload: dict[str, Any], prev_hash: str) -> str:
    return sha256_hex(canonical_json(payload) + prev_hash)


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
    """Append one event. Call it inside the transaction of the change it records."""
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    actor_username = actor.get_username() if actor is not None and hasattr(actor, "get_username") else ""
    with transaction.atomic():
        locked = AuditChainHead.objects.filter(id=1).update(seq=F("seq") + 1)
        if not locked:
            raise RuntimeError("the audit chain head is missing: run 'python manage.py migrate'")
        head = AuditChainHead.objects.get(id=1)
        event = AuditEvent(
            seq=head.seq,
            timestamp=timezone.now(),
            actor_id=actor_id,
            actor_username=actor_username,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            before=jsonable(before),
            after=jsonable(after),
            reason=reason or "",
            prev_hash=head.hash,
        )
        event.hash = event_hash(event_payload(event), event.prev_hash)
        event.save(force_insert=True)
        AuditChainHead.objects.filter(id=1).update(hash=event.hash)
    return event
