"""Fixtures for the audit-trail tests: a fixed signing key, role holders, an attacker's hands."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection

from governance import roles

AUDIT_TABLES = ("governance_auditevent", "governance_auditcheckpoint")


@pytest.fixture
def rogue_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def admin(make_user):
    return make_user("adm", roles.ADMIN)


@pytest.fixture
def nobody(make_user):
    return make_user("nobody")


@pytest.fixture
def raw_sql(db):
    """Run SQL as an attacker with raw database access: the append-only triggers disabled first.

    The test's transaction is rolled back afterwards, the ``ALTER TABLE`` included (PostgreSQL
    DDL is transactional), so the triggers are back for the next test.
    """
    def run(sql: str, params=()) -> None:
        with connection.cursor() as cursor:
            for table in AUDIT_TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            cursor.execute(sql, params)

    return run
