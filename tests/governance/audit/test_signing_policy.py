"""The signing key outside var/ in production, and key rotation with the keys' history (issue 16 §6)."""

from __future__ import annotations

import io

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from governance import signing
from governance.audit_verify import verify_audit_chain
from governance.models import AuditCheckpoint, AuditEvent
from governance.models.audit import AuditSigningKey
from governance.services.audit import audit_record
from governance.services.checkpoints import audit_checkpoint_create, checkpoint_message


@pytest.fixture
def production(monkeypatch, settings, tmp_path):
    """A configured database, DEBUG off, no key configured; var/ is a fresh directory."""
    monkeypatch.setenv("DATABASE_URL", "postgres://db.example/crucible")
    monkeypatch.delenv(signing.KEY_ENV)
    monkeypatch.delenv(signing.GENERATE_ENV, raising=False)
    settings.DEBUG = False
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_production_without_a_configured_key_refuses_to_sign_and_names_the_setting(production):
    with pytest.raises(ImproperlyConfigured, match=signing.KEY_FILE_ENV) as excinfo:
        signing.platform_private_key()
    assert "outside" in str(excinfo.value)
    assert list(production.iterdir()) == []  # nothing generated into var/
    assert signing.KEY_FILE_ENV in signing.signing_key_problem()


def test_production_refuses_a_key_file_inside_var(production, monkeypatch):
    path = production / "mounted.pem"
    path.write_bytes(signing.private_key_pem(Ed25519PrivateKey.generate()))
    monkeypatch.setenv(signing.KEY_FILE_ENV, str(path))
    with pytest.raises(ImproperlyConfigured, match="lies inside the data directory"):
        signing.platform_private_key()


def test_production_reads_a_key_file_mounted_elsewhere(production, monkeypatch, tmp_path_factory):
    key = Ed25519PrivateKey.generate()
    path = tmp_path_factory.mktemp("secrets") / "crucible_signing_key.pem"
    path.write_bytes(signing.private_key_pem(key))
    monkeypatch.setenv(signing.KEY_FILE_ENV, str(path))
    assert signing.platform_public_key_hex() == signing.public_key_hex(key)
    assert signing.signing_key_problem() is None


@pytest.mark.parametrize("how", ["embedded default", "debug", "explicit"])
def test_the_embedded_default_debug_or_an_explicit_opt_in_may_generate_one_in_var(production, monkeypatch,
                                                                                    settings, how):
    if how == "embedded default":
        monkeypatch.delenv("DATABASE_URL")
    elif how == "debug":
        settings.DEBUG = True
    else:
        monkeypatch.setenv(signing.GENERATE_ENV, "1")
    assert signing.signing_key_problem() is None
    signing.platform_public_key_hex()
    assert (production / "signing_key.pem").exists()


@pytest.mark.django_db
def test_the_checkpoint_command_fails_clearly_in_production_without_a_key(production):
    with pytest.raises(CommandError, match=signing.KEY_FILE_ENV):
        call_command("audit_checkpoint", "--reason", "now", stdout=io.StringIO())
    assert AuditCheckpoint.objects.count() == 0


@pytest.mark.django_db
def test_rotation_keeps_the_history_and_old_checkpoints_verify_with_the_key_valid_then(monkeypatch, settings):
    settings.CRUCIBLE_AUDIT_CHECKPOINT_EVERY_EVENTS = 0
    settings.CRUCIBLE_ANCHOR_LOG = ""
    old_public = signing.platform_public_key_hex()
    audit_record(actor=None, action="test.event", object_type="thing", object_id=1)
    old_cp = audit_checkpoint_create(actor=None, reason="with the old key")  # seq 1
    new_key = Ed25519PrivateKey.generate()
    monkeypatch.setenv(signing.KEY_ENV, signing.private_key_pem(new_key).decode())
    monkeypatch.setenv(signing.TRUSTED_KEYS_ENV, old_public)
    audit_record(actor=None, action="test.event", object_type="thing", object_id=2)
    new_cp = audit_checkpoint_create(actor=None, reason="with the new key")  # seq 3
    history = list(AuditSigningKey.objects.values_list("public_key", "activated_seq"))
    assert history == [(old_public, old_cp.seq), (signing.public_key_hex(new_key), new_cp.seq)]
    event = AuditEvent.objects.get(action="audit.checkpoint_created", object_id=str(new_cp.id))
    assert event.after["public_key"] == signing.public_key_hex(new_key)  # the rotation is in the chain
    assert verify_audit_chain().ok

    # A process still configured with the retired key refuses to sign.
    monkeypatch.setenv(signing.KEY_ENV, signing.private_key_pem(
        signing.load_private_key("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")).decode())
    with pytest.raises(ImproperlyConfigured, match="retired at seq"):
        audit_checkpoint_create(actor=None, reason="old key again")

    # The retired key, leaked, forges a checkpoint after the rotation: caught by the history.
    monkeypatch.setenv(signing.KEY_ENV, signing.private_key_pem(new_key).decode())
    old_key = signing.load_private_key("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    assert signing.public_key_hex(old_key) == old_public
    head = AuditEvent.objects.order_by("-seq").first()
    signed_at = new_cp.signed_at
    message = checkpoint_message(seq=head.seq, head_hash=head.hash, signed_at=signed_at, reason="forged")
    forged = AuditCheckpoint.objects.create(seq=head.seq, head_hash=head.hash, signed_at=signed_at, reason="forged",
                                            public_key=old_public, signature=signing.sign_bytes(message, key=old_key))
    result = verify_audit_chain()
    assert not result.ok
    assert result.reason.startswith(f"checkpoint {forged.id} at seq {head.seq}: signed by key "
                                    f"{signing.key_fingerprint(old_public)}, but the signing key from seq "
                                    f"{new_cp.seq} on is {signing.key_fingerprint(signing.public_key_hex(new_key))}")
