"""The database itself refuses UPDATE, DELETE and TRUNCATE on the audit tables."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from governance.models import AuditCheckpoint, AuditEvent
from governance.services.audit import audit_record
from governance.services.checkpoints import audit_checkpoint_create
from tests.conftest import TEST_SEED_HEX
from tests.governance.audit.conftest import AUDIT_TABLES

BASE_DIR = Path(__file__).resolve().parents[3]


@pytest.fixture
def audit_rows(db, auditor):
    audit_record(actor=auditor, action="a.b", object_type="t", object_id="1", after={"v": 1})
    audit_checkpoint_create(actor=auditor, reason="rows to refuse changes to")
    assert AuditEvent.objects.count() == 2 and AuditCheckpoint.objects.count() == 1


def _refused(sql: str) -> str:
    with pytest.raises(DatabaseError) as excinfo, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    return str(excinfo.value)


@pytest.mark.skipif(os.environ.get("DATABASE_URL", "") == "", reason="the suite runs on PostgreSQL")
@pytest.mark.parametrize("table", AUDIT_TABLES)
@pytest.mark.parametrize(
    ("statement", "op"),
    [
        ("UPDATE {table} SET seq = seq + 100", "UPDATE"),
        ("UPDATE {table} SET seq = seq WHERE seq = 1", "UPDATE"),
        ("DELETE FROM {table}", "DELETE"),
        ("TRUNCATE {table}", "TRUNCATE"),
        ("TRUNCATE {table} CASCADE", "TRUNCATE"),
    ],
)
def test_postgresql_refuses_changes_to_audit_rows(audit_rows, table, statement, op):
    assert connection.vendor == "postgresql"
    message = _refused(statement.format(table=table))
    assert f"audit trail is append-only: {op} on {table} is refused" in message
    assert AuditEvent.objects.count() == 2 and AuditCheckpoint.objects.count() == 1


def test_the_orm_is_refused_too(audit_rows):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(seq=1).update(reason="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditCheckpoint.objects.all().delete()
    event = AuditEvent.objects.get(seq=1)
    event.reason = "rewritten"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.save()
    assert AuditEvent.objects.get(seq=1).reason == ""


def test_inserting_is_still_allowed_after_a_refusal(audit_rows, auditor):
    _refused("DELETE FROM governance_auditevent")
    audit_record(actor=auditor, action="a.c", object_type="t", object_id="2")
    assert AuditEvent.objects.count() == 3


def test_sqlite_refuses_update_and_delete(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(CRUCIBLE_VAR_DIR=str(tmp_path), CRUCIBLE_SIGNING_KEY=TEST_SEED_HEX)

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True,
                              text=True, timeout=120)

    migrated = manage("migrate", "--noinput", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    signed = manage("audit_checkpoint", "--reason", "sqlite enforcement test")
    assert signed.returncode == 0, signed.stderr
    assert "checkpoint 1 at seq 0" in signed.stdout

    database = sqlite3.connect(tmp_path / "crucible.sqlite3")
    try:
        assert database.execute("SELECT count(*) FROM governance_auditevent").fetchone() == (1,)
        assert database.execute("SELECT count(*) FROM governance_auditcheckpoint").fetchone() == (1,)
        for table in AUDIT_TABLES:
            for statement, op in [(f"UPDATE {table} SET seq = seq + 1", "UPDATE"),  # noqa: S608
                                  (f"DELETE FROM {table}", "DELETE"),  # noqa: S608
                                  (f"DELETE FROM {table} WHERE id = 1", "DELETE")]:  # noqa: S608
                with pytest.raises(sqlite3.DatabaseError, match=f"append-only: {op} on {table} is refused"):
                    database.execute(statement)
                database.rollback()
        assert database.execute("SELECT count(*) FROM governance_auditevent").fetchone() == (1,)
    finally:
        database.close()

    verified = manage("verify_audit")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("OK 1 events")
