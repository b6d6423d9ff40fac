"""Anchored audit chain (issue 16 §6): signing-key history, RFC 3161 tokens, checkpoint schedule.

* ``AuditSigningKey``: the keys' history, backfilled here from the existing checkpoints (a key is
  taken to be active from the seq of the first checkpoint it signed);
* ``AuditCheckpointTimestamp``: RFC 3161 tokens over checkpoints;
* ``AuditChainHead.checkpoint_seq/at``: where the last checkpoint is, so ``audit_record`` knows
  when the next scheduled one is due without a query;
* both new tables are append-only at the database, like the events and checkpoints (0004).
"""

import hashlib

import django.db.models.deletion
from django.db import migrations, models

BACKFILL_NOTE = "backfilled by migration 0007 from the checkpoints it signed"
TABLES = ("governance_auditsigningkey", "governance_auditcheckpointtimestamp")
PG_FUNCTION = "governance_audit_append_only"  # created by 0004


def backfill(apps, schema_editor):
    checkpoint_model = apps.get_model("governance", "AuditCheckpoint")
    key_model = apps.get_model("governance", "AuditSigningKey")
    head_model = apps.get_model("governance", "AuditChainHead")
    seen: set[str] = set()
    used_seqs: set[int] = set()
    last = None
    for cp in checkpoint_model.objects.order_by("seq", "id"):
        last = cp
        key = cp.public_key.lower()
        if key in seen or cp.seq in used_seqs:
            continue
        seen.add(key)
        used_seqs.add(cp.seq)
        fingerprint = "sha256:" + hashlib.sha256(bytes.fromhex(key)).hexdigest() if len(key) == 64 else ""
        key_model.objects.create(public_key=key, fingerprint=fingerprint, activated_seq=cp.seq,
                                 activated_at=cp.signed_at, note=BACKFILL_NOTE)
    if last is not None:
        head_model.objects.filter(id=1).update(checkpoint_seq=last.seq, checkpoint_at=last.signed_at)


def append_only(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}();"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}();"
            )
        elif vendor == "sqlite":
            for op in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: {op} on {table} is refused'); END;"
                )


def drop_append_only(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
        elif vendor == "sqlite":
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op};")


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0006_involvement_and_tier_changes'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditSigningKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_key', models.CharField(help_text='raw Ed25519 public key, hex', max_length=64, unique=True)),
                ('fingerprint', models.CharField(max_length=71)),
                ('activated_seq', models.BigIntegerField(help_text='the seq its first checkpoint signed', unique=True)),
                ('activated_at', models.DateTimeField()),
                ('note', models.CharField(blank=True, max_length=200)),
            ],
            options={
                'ordering': ['activated_seq'],
            },
        ),
        migrations.AddField(
            model_name='auditchainhead',
            name='checkpoint_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='auditchainhead',
            name='checkpoint_seq',
            field=models.BigIntegerField(default=0),
        ),
        migrations.CreateModel(
            name='AuditCheckpointTimestamp',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('tsa_url', models.CharField(max_length=500)),
                ('message_imprint', models.CharField(help_text='SHA-256 of the checkpoint message, hex', max_length=64)),
                ('gen_time', models.DateTimeField(help_text="the TSA's genTime")),
                ('token', models.BinaryField(help_text='the TimeStampResp as received (DER)')),
                ('received_at', models.DateTimeField()),
                ('checkpoint', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='timestamps', to='governance.auditcheckpoint')),
            ],
            options={
                'ordering': ['checkpoint_id', 'id'],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(append_only, drop_append_only),
    ]
