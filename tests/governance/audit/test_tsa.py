"""RFC 3161 time-stamps of checkpoints, tested offline against a local TSA (tests/governance/audit/local_tsa.py)."""

from __future__ import annotations

import hashlib

import pytest
from asn1crypto import tsp

from governance import anchors, signing
from governance.anchors import AnchorError, audit_checkpoint_timestamp_fetch, verify_anchors
from governance.models import AuditEvent
from governance.models.audit import AuditCheckpointTimestamp
from governance.services.audit import audit_record
from governance.services.checkpoints import audit_checkpoint_create, checkpoint_message
from tests.governance.audit.local_tsa import LocalTSA

pytestmark = pytest.mark.django_db

TSA_URL = "https://tsa.invalid/tsr"


@pytest.fixture
def tsa(settings, monkeypatch, tmp_path):
    authority = LocalTSA()
    ca_file = tmp_path / "tsa-roots.pem"
    ca_file.write_bytes(authority.root_pem())
    settings.CRUCIBLE_TSA_URL = TSA_URL
    settings.CRUCIBLE_TSA_CA_FILE = str(ca_file)
    settings.CRUCIBLE_ANCHOR_LOG = ""
    settings.CRUCIBLE_AUDIT_CHECKPOINT_EVERY_EVENTS = 0
    settings.CRUCIBLE_AUDIT_CHECKPOINT_EVERY_MINUTES = 0
    posted: list[tuple[str, bytes]] = []

    def post(url: str, body: bytes, timeout: float) -> bytes:  # no network here: the TSA answers locally
        posted.append((url, body))
        return authority.respond(body)

    monkeypatch.setattr(anchors, "_post", post)
    authority.posted = posted
    return authority


@pytest.fixture
def checkpoint(developer):
    for i in range(3):
        audit_record(actor=developer, action="model.updated", object_type="model", object_id=i, after={"i": i})
    return audit_checkpoint_create(actor=None, reason="to be time-stamped")


def _message(cp) -> bytes:
    return checkpoint_message(seq=cp.seq, head_hash=cp.head_hash, signed_at=cp.signed_at, reason=cp.reason)


def test_the_request_is_an_rfc3161_timestampreq_over_sha256_of_the_checkpoint_message(tsa, checkpoint):
    audit_checkpoint_timestamp_fetch(checkpoint.id)
    (url, body), = tsa.posted
    assert url == TSA_URL
    request = tsp.TimeStampReq.load(body)  # RFC 3161 §2.4.1, parsed by an independent ASN.1 library
    assert request["version"].native == "v1"
    assert request["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert request["message_imprint"]["hashed_message"].native == hashlib.sha256(_message(checkpoint)).digest()
    assert isinstance(request["nonce"].native, int)
    assert request["cert_req"].native is True


def test_a_granted_token_is_stored_with_the_checkpoint_and_verifies_against_the_tsa_root(tsa, checkpoint):
    stored = audit_checkpoint_timestamp_fetch(checkpoint.id)
    assert stored.checkpoint_id == checkpoint.id
    assert stored.message_imprint == hashlib.sha256(_message(checkpoint)).hexdigest()
    assert audit_checkpoint_timestamp_fetch(checkpoint.id).id == stored.id  # once per checkpoint
    report = verify_anchors()
    assert report.ok, report.problems
    assert report.n_timestamps == 1 and report.newest_anchored_seq == checkpoint.seq


def test_the_token_is_fetched_when_the_checkpoint_commits(tsa, developer, django_capture_on_commit_callbacks):
    audit_record(actor=developer, action="model.updated", object_type="model", object_id=1)
    with django_capture_on_commit_callbacks(execute=True):
        cp = audit_checkpoint_create(actor=None, reason="approval")
    assert AuditCheckpointTimestamp.objects.filter(checkpoint=cp).count() == 1


def test_a_token_from_an_authority_not_configured_as_root_is_reported(tsa, checkpoint, settings, tmp_path):
    audit_checkpoint_timestamp_fetch(checkpoint.id)
    other = tmp_path / "other-root.pem"
    other.write_bytes(LocalTSA("someone else").root_pem())
    settings.CRUCIBLE_TSA_CA_FILE = str(other)
    report = verify_anchors()
    assert not report.ok
    assert "does not verify against CRUCIBLE_TSA_CA_FILE" in report.problems[0].reason


def test_an_answer_for_another_message_is_refused_and_nothing_stored(tsa, checkpoint, monkeypatch):
    def post(url, body, timeout):
        request = tsp.TimeStampReq.load(body)
        forged = tsp.TimeStampReq({"version": "v1", "message_imprint": {
            "hash_algorithm": {"algorithm": "sha256"}, "hashed_message": hashlib.sha256(b"other").digest()},
            "nonce": request["nonce"].native, "cert_req": True})
        return tsa.respond(forged.dump())

    monkeypatch.setattr(anchors, "_post", post)
    with pytest.raises(AnchorError, match="covers another message"):
        audit_checkpoint_timestamp_fetch(checkpoint.id)
    assert AuditCheckpointTimestamp.objects.count() == 0


def test_a_checkpoint_resigned_with_the_stolen_key_no_longer_matches_its_token(tsa, checkpoint, raw_sql):
    audit_checkpoint_timestamp_fetch(checkpoint.id)
    raw_sql("UPDATE governance_auditevent SET reason = 'rewritten' WHERE seq = 2")
    # ...the careful attacker re-hashes and re-signs; the checkpoint now says something the TSA never saw.
    new_hash = "e" * 64
    message = checkpoint_message(seq=checkpoint.seq, head_hash=new_hash, signed_at=checkpoint.signed_at,
                                 reason=checkpoint.reason)
    raw_sql("UPDATE governance_auditcheckpoint SET head_hash = %s, signature = %s WHERE id = %s",
            [new_hash, signing.sign_bytes(message), checkpoint.id])
    report = verify_anchors()
    assert not report.ok
    assert report.problems[0].seq == checkpoint.seq
    assert "covers another message" in report.problems[0].reason
    assert AuditEvent.objects.get(seq=2).reason == "rewritten"
