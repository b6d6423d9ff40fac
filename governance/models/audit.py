"""The tamper-evident audit trail: a hash chain, append-only at the database (migration 0004)."""

from __future__ import annotations

from django.db import models

GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    """One state change. ``hash = SHA-256(canonical JSON of the event fields + prev_hash)``.

    The actor is stored by id and username without a foreign key: deleting or renaming a user
    must never rewrite audit rows (and the database refuses any UPDATE here anyway).
    """

    seq = models.BigIntegerField(unique=True)
    timestamp = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=100)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["actor_id"]),
            models.Index(fields=["timestamp"]),
            models.Index(fields=["action"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The single row locked by every append, so concurrent writers form one chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)
    # Where and when the last checkpoint was signed: read back by every append (same UPDATE), so
    # deciding whether a scheduled checkpoint is due costs no query. Scheduling data only: nothing
    # is trusted from these two columns (verification reads the checkpoints themselves).
    checkpoint_seq = models.BigIntegerField(default=0)
    checkpoint_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="single_chain_head")]

    def __str__(self) -> str:
        return f"head #{self.seq} {self.hash[:12]}"


class AuditCheckpoint(models.Model):
    """The chain head at ``seq`` signed with the platform's Ed25519 key."""

    seq = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    reason = models.CharField(max_length=200)
    public_key = models.CharField(max_length=64, help_text="raw Ed25519 public key, hex")
    signature = models.CharField(max_length=128, help_text="Ed25519 signature, hex")

    class Meta:
        ordering = ["seq", "id"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} {self.head_hash[:12]}"


class AuditSigningKey(models.Model):
    """The history of the platform's signing keys: key ``n`` signs from ``activated_seq`` until the next.

    A row is appended the first time a checkpoint is signed with a key (``activated_seq`` is the
    seq that checkpoint signs; its audit event names the key); rows are never changed (append-only at the
    database, migration 0007). A checkpoint at ``seq`` must be signed by the key whose period
    contains ``seq``, so a retired key that leaks cannot sign new checkpoints unnoticed. Trust in a
    key still comes from outside the database (the current key, ``CRUCIBLE_TRUSTED_KEYS``).
    """

    public_key = models.CharField(max_length=64, unique=True, help_text="raw Ed25519 public key, hex")
    fingerprint = models.CharField(max_length=71)
    activated_seq = models.BigIntegerField(unique=True, help_text="the seq its first checkpoint signed")
    activated_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["activated_seq"]

    def __str__(self) -> str:
        return f"key {self.fingerprint[:19]} from #{self.activated_seq}"


class AuditCheckpointTimestamp(models.Model):
    """An RFC 3161 time-stamp token over a checkpoint's signed message (append-only)."""

    # No database foreign key: TRUNCATE of the checkpoints must meet their append-only trigger, not
    # a constraint error (and neither table ever loses a row).
    checkpoint = models.ForeignKey(AuditCheckpoint, on_delete=models.DO_NOTHING, related_name="timestamps",
                                   db_constraint=False)
    tsa_url = models.CharField(max_length=500)
    message_imprint = models.CharField(max_length=64, help_text="SHA-256 of the checkpoint message, hex")
    gen_time = models.DateTimeField(help_text="the TSA's genTime")
    token = models.BinaryField(help_text="the TimeStampResp as received (DER)")
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["checkpoint_id", "id"]

    def __str__(self) -> str:
        return f"timestamp of checkpoint {self.checkpoint_id} at {self.gen_time:%Y-%m-%d %H:%M:%S}"
