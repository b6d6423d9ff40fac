"""Signed checkpoints of the audit chain head: on approval, on a schedule, and published outside.

A checkpoint pins the chain at one sequence number with the platform's Ed25519 key. The hash
chain alone shows that rows were changed *unless* the whole chain from that point (and the head
row) was rewritten consistently; a signed checkpoint makes that, and truncating the tail below
it, detectable too, since the attacker cannot re-sign without the key.

When (issue 16 §6): on every approval (``governance.services.workflow``), every
``CRUCIBLE_AUDIT_CHECKPOINT_EVERY_EVENTS`` events (decided by ``audit_record`` from the chain-head
row it already updates, so no extra query) and ``CRUCIBLE_AUDIT_CHECKPOINT_EVERY_MINUTES`` after the
last one when events arrived since (by appends, and by the ``governance.tasks.audit_checkpoint_tick``
beat entry when no append comes), whichever comes first.

Each committed checkpoint is then *published* (``governance.anchors``): appended to the anchor
log on another mount and, when a TSA is configured, time-stamped (RFC 3161). Publishing happens
only after the transaction commits, so a rolled-back checkpoint is never published.

The key history: the first checkpoint signed with a key appends it to ``AuditSigningKey`` (valid
from the seq that checkpoint signs until the next key's), so verification knows which key was
valid at which seq (see ``governance.signing`` for rotation).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import logging
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from governance import signing
from governance.canonical import canonical_json
from governance.errors import InvalidInput
from governance.models import AuditChainHead, AuditCheckpoint
from governance.models.audit import AuditSigningKey
from governance.services.audit import audit_record

logger = logging.getLogger(__name__)

REASON_MAX_LENGTH = AuditCheckpoint._meta.get_field("reason").max_length
CHECKPOINT_ACTION = "audit.checkpoint_created"

# Set while a checkpoint is being written, so its own events never schedule another one.
_checkpointing: contextvars.ContextVar[bool] = contextvars.ContextVar("crucible_checkpointing", default=False)


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


# --- the schedule -----------------------------------------------------------------------------


def checkpoint_due(
    *, seq: int, checkpoint_seq: int, checkpoint_at: dt.datetime | None, now: dt.datetime, on_append: bool
) -> str | None:
    """Why a scheduled checkpoint is due at chain head ``seq`` (its reason), or None.

    ``checkpoint_seq``/``checkpoint_at``: the seq the last checkpoint signed and when (its own
    event is ``checkpoint_seq + 1``). Counted: every N events (``>= N`` since the last signed
    head); timed: M minutes since the last checkpoint, when an event other than that checkpoint's
    own arrived since. Before any checkpoint (``checkpoint_at`` None) the timed rule is left to the
    beat (``on_append=False``), so the first appends of a fresh chain are not each checkpointed.
    """
    every_events = int(getattr(settings, "CRUCIBLE_AUDIT_CHECKPOINT_EVERY_EVENTS", 0) or 0)
    every_minutes = float(getattr(settings, "CRUCIBLE_AUDIT_CHECKPOINT_EVERY_MINUTES", 0) or 0)
    since = seq - checkpoint_seq
    if every_events > 0 and since >= every_events:
        return f"scheduled: {since} events since the last checkpoint"
    new_events = since > 1 if checkpoint_at is not None else seq > 0
    if every_minutes > 0 and new_events:
        if checkpoint_at is None:
            if not on_append:
                return "scheduled: no checkpoint yet"
        elif now - checkpoint_at >= dt.timedelta(minutes=every_minutes):
            return f"scheduled: {every_minutes:g} minutes since the last checkpoint"
    return None


def checkpoint_on_append(*, seq: int, checkpoint_seq: int, checkpoint_at: dt.datetime | None,
                         now: dt.datetime) -> AuditCheckpoint | None:
    """Called by ``audit_record`` (chain lock held) after each append: a checkpoint when one is due.

    A key that cannot be loaded must not break the business write that happens to be the Nth:
    the failure is logged as an error (approvals and ``audit_checkpoint`` still refuse loudly).
    """
    if _checkpointing.get():
        return None
    reason = checkpoint_due(seq=seq, checkpoint_seq=checkpoint_seq, checkpoint_at=checkpoint_at, now=now,
                            on_append=True)
    if reason is None:
        return None
    try:
        return audit_checkpoint_create(actor=None, reason=reason)
    except ImproperlyConfigured as exc:
        logger.error("scheduled audit checkpoint skipped: %s", exc)
        return None


def audit_checkpoint_if_due(*, now: dt.datetime | None = None) -> AuditCheckpoint | None:
    """The beat's timed rule: a checkpoint when one is due by time (or count), else None."""
    head = AuditChainHead.objects.filter(id=1).values("seq", "checkpoint_seq", "checkpoint_at").first()
    if head is None:
        raise RuntimeError("the audit chain head is missing: run 'python manage.py migrate'")
    reason = checkpoint_due(seq=head["seq"], checkpoint_seq=head["checkpoint_seq"],
                            checkpoint_at=head["checkpoint_at"], now=now or timezone.now(), on_append=False)
    if reason is None:
        return None
    return audit_checkpoint_create(actor=None, reason=reason)


# --- signing ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _writing_checkpoint() -> Iterator[None]:
    token = _checkpointing.set(True)
    try:
        yield
    finally:
        _checkpointing.reset(token)


def _activate_key_if_new(*, public_key: str, seq: int, at: dt.datetime) -> None:
    """Append the key to the history the first time it signs (chain lock held).

    Its period starts at ``seq``, the head its first checkpoint signs; that checkpoint's own
    audit event (which names the public key) records the rotation in the chain.
    """
    current = AuditSigningKey.objects.order_by("-activated_seq").first()
    if current is not None and current.public_key == public_key:
        return
    fingerprint = signing.key_fingerprint(public_key)
    if AuditSigningKey.objects.filter(public_key=public_key).exists():
        raise ImproperlyConfigured(
            f"the signing key {fingerprint} was retired at seq {current.activated_seq} when key "
            f"{current.fingerprint} took over: a retired key never signs again; configure the current key "
            f"({signing.KEY_FILE_ENV}) in this process"
        )
    AuditSigningKey.objects.create(public_key=public_key, fingerprint=fingerprint, activated_seq=seq,
                                   activated_at=at)


def audit_checkpoint_create(*, actor, reason: str) -> AuditCheckpoint:
    """Sign the current chain head and store the checkpoint; audited as ``audit.checkpoint_created``.

    The head is read under the same row lock as ``audit_record`` takes, so the checkpoint covers
    exactly the events committed before it (including any written earlier in the caller's
    transaction). The checkpoint's own audit event comes right after the signed head (seq + 1).
    The signature covers ``checkpoint_message(seq=, head_hash=, signed_at=, reason=)``. A key
    signing for the first time is first appended to the key history (one event before the head).
    After commit the checkpoint is published (``governance.anchors.publish_checkpoint``).
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("A checkpoint needs a reason.", details={"reason": ["This field is required."]})
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput(
            f"A checkpoint reason is at most {REASON_MAX_LENGTH} characters.",
            details={"reason": [f"Ensure this field has no more than {REASON_MAX_LENGTH} characters."]},
        )
    # Load the key before taking the chain lock where we can: no file I/O while writers queue.
    key = signing.platform_private_key()
    public_key = signing.public_key_hex(key)
    with _writing_checkpoint(), transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(id=1).first()
        if head is None:
            raise RuntimeError("the audit chain head is missing: run 'python manage.py migrate'")
        signed_at = timezone.now()
        _activate_key_if_new(public_key=public_key, seq=head.seq, at=signed_at)
        message = checkpoint_message(seq=head.seq, head_hash=head.hash, signed_at=signed_at, reason=reason)
        checkpoint = AuditCheckpoint.objects.create(
            seq=head.seq,
            head_hash=head.hash,
            signed_at=signed_at,
            reason=reason,
            public_key=public_key,
            signature=signing.sign_bytes(message, key=key),
        )
        AuditChainHead.objects.filter(id=1).update(checkpoint_seq=head.seq, checkpoint_at=signed_at)
        audit_record(
            actor=actor,
            action=CHECKPOINT_ACTION,
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
        checkpoint_id = checkpoint.pk
        transaction.on_commit(lambda: _publish(checkpoint_id))
    return checkpoint


def _publish(checkpoint_id: int) -> None:
    from governance import anchors  # anchors reads checkpoints: imported late to keep one direction

    anchors.publish_checkpoint(checkpoint_id)
