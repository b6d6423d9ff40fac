"""Signing the chain head: the service and the command."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from governance import signing
from governance.canonical import canonical_json
from governance.errors import InvalidInput
from governance.models import AuditChainHead, AuditCheckpoint, AuditEvent
from governance.services.audit import audit_record
from governance.services.checkpoints import audit_checkpoint_create, checkpoint_message

pytestmark = pytest.mark.django_db


def test_a_checkpoint_signs_the_current_head_and_is_audited(auditor, platform_key):
    for i in range(3):
        audit_record(actor=auditor, action="a.b", object_type="t", object_id=i)
    head = AuditChainHead.objects.get(id=1)
    checkpoint = audit_checkpoint_create(actor=auditor, reason="  quarterly attestation ")

    stored = AuditCheckpoint.objects.get(id=checkpoint.id)
    assert (stored.seq, stored.head_hash, stored.reason) == (3, head.hash, "quarterly attestation")
    assert stored.public_key == platform_key
    message = canonical_json({"seq": 3, "head_hash": head.hash, "signed_at": stored.signed_at,
                              "reason": "quarterly attestation"}).encode()
    assert message == checkpoint_message(seq=3, head_hash=head.hash, signed_at=stored.signed_at,
                                         reason="quarterly attestation")
    assert message.startswith(b'{"head_hash":"' + head.hash.encode() + b'","reason":"quarterly attestation","seq":3,')
    assert signing.verify_signature(stored.public_key, message, stored.signature)

    event = AuditEvent.objects.get(seq=4)
    assert (event.action, event.object_type, event.object_id) == ("audit.checkpoint_created", "audit_checkpoint",
                                                                   str(checkpoint.id))
    assert event.actor_id == auditor.id and event.reason == "quarterly attestation"
    assert event.after["signature"] == stored.signature and event.after["head_hash"] == head.hash
    assert AuditChainHead.objects.get(id=1).seq == 4


def test_a_checkpoint_of_the_empty_chain_signs_genesis(db):
    checkpoint = audit_checkpoint_create(actor=None, reason="first light")
    assert (checkpoint.seq, checkpoint.head_hash) == (0, "0" * 64)
    assert AuditEvent.objects.get().actor_username == ""


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201])
def test_a_reason_is_required_and_bounded(auditor, reason):
    with pytest.raises(InvalidInput) as excinfo:
        audit_checkpoint_create(actor=auditor, reason=reason)
    assert "reason" in excinfo.value.details
    assert not AuditCheckpoint.objects.exists() and not AuditEvent.objects.exists()


def test_the_command_signs_on_request(auditor):
    out = io.StringIO()
    call_command("audit_checkpoint", "--reason", "on request", "--actor", "aud", stdout=out)
    checkpoint = AuditCheckpoint.objects.get()
    assert out.getvalue().startswith(f"checkpoint {checkpoint.id} at seq 0 hash {'0' * 64} signed by key sha256:")
    assert AuditEvent.objects.get().actor_username == "aud"
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        call_command("audit_checkpoint", "--reason", "x", "--actor", "ghost")
    with pytest.raises(CommandError, match="reason"):
        call_command("audit_checkpoint", "--reason", " ")


def test_commands_report_a_misconfigured_key_cleanly(db, monkeypatch):
    monkeypatch.setenv("CRUCIBLE_SIGNING_KEY", "garbage")
    with pytest.raises(CommandError, match="CRUCIBLE_SIGNING_KEY"):
        call_command("audit_checkpoint", "--reason", "x")
    with pytest.raises(CommandError, match="CRUCIBLE_SIGNING_KEY"):
        call_command("verify_audit")
