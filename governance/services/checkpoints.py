"""Signed checkpoints of the audit chain head.

A checkpoint pins the chain at one sequence number with the platform's Ed25519 key. The hash
chain alone shows that rows were changed *unless* the whole chain from that point (and the head
row) was rewritten consistently; a signed checkpoint makes that, and truncating the tail below
it, detectable too, since the attacker cannot re-sign without the key.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from governance import signing
from governance.canonical import canonical_json
from governance.errors import InvalidInput
from governance.models import AuditChainHead, AuditCheckpoint
from governance.services.audit import audit_record

REASON_MAX_LENGTH = AuditCheckpoint._meta.get_field("reason").max_length


def checkpoint_message(*, seq: int, head_hash: str, signed_at: dt.datetime, reason: str) -> bytes:
    """The exact bytes a checkpoint signature covers.

    ``canonical_json({"head_hash": ..., "reason": ..., "seq": ..., "signed_at": ...})`` encoded
    as UTF-8: keys sorted, no whitespace, ``seq`` an integer, ``head_hash`` 64 lowercase hex,
    ``signed_at`` ISO 8601 in UTC with microseconds (``2025-01-31T12:00:00.123456+00:00``), e.g.

        {"head_hash":"9f2c...","reason":"approval of ...","seq":42,"signed_at":"2025-01-31T12:00:00.123456+00:00"}
    """
    return canonical_json(
        {"seq": int(seq), "head_hash": head_hash, "signed_at": signed_at, "reason": reason}
    ).encode("utf-8")


def audit_checkpoint_create(*, actor, reason: str) -> AuditCheckpoint:
    """Sign the current chain head and store the checkpoint; audited as ``audit.checkpoint_created``.

    The head is read under the same row lock as ``audit_record`` takes, so the checkpoint covers
    exactly the events committed before it (including any written earlier in the caller's
    transaction). The checkpoint's own audit event comes right after the signed head (seq + 1).
    The signature covers ``checkpoint_message(seq=, head_hash=, signed_at=, reason=)``.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("A checkpoint needs a reason.", details={"reason": ["This field is required."]})
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput(
            f"A checkpoint reason is at most {REASON_MAX_LENGTH} characters.",
            details={"reason": [f"Ensure this field has no more than {REASON_MAX_LENGTH} characters."]},
        )
    # Load (or create) the key before taking the chain lock: no file I/O while writers queue.
    key = signing.platform_private_key()
    public_key = signing.public_key_hex(key)
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(id=1).first()
        if head is None:
            raise RuntimeError("the audit chain head is missing: run 'python manage.py migrate'")
        signed_at = timezone.now()
        message = checkpoint_message(seq=head.seq, head_hash=head.hash, signed_at=signed_at, reason=reason)
        checkpoint = AuditCheckpoint.objects.create(
            seq=head.seq,
            head_hash=head.hash,
            signed_at=signed_at,
            reason=reason,
            public_key=public_key,
            signature=signing.sign_bytes(message, key=key),
        )
        audit_record(
            actor=actor,
            action="audit.checkpoint_created",
            object_type="audit_checkpoint",
            object_id=checkpoint.pk,
            after={
                "seq": checkpoint.seq,
                "head_hash": checkpoint.head_hash,
                "signed_at": checkpoint.signed_at,
                "public_key": checkpoint.public_key,
                "signature": checkpoint.signature,
            },
            reason=reason,
        )
    return checkpoint
