"""The audit trail is append-only at the database: UPDATE, DELETE and TRUNCATE are refused.

Plain triggers on the audit events and checkpoints tables, for PostgreSQL and SQLite. Whoever can
drop triggers can still tamper; ``verify_audit`` catches that from the hash chain and the signed
checkpoints.
"""

from django.db import migrations

TABLES = ("governance_auditevent", "governance_auditcheckpoint")
PG_FUNCTION = "governance_audit_append_only"


def _pg_forward(schema_editor):
    schema_editor.execute(f"""
        CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit trail is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
                USING HINT = 'audit rows are never changed or removed; record a new event instead';
        END;
        $$;
    """, None)  # no parameters: the '%' placeholders are RAISE's own
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}();"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}();"
        )


def _pg_reverse(schema_editor):
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}();")


def _sqlite_forward(schema_editor):
    # SQLite has no TRUNCATE: "DELETE FROM t" (its truncate optimisation included) fires the
    # DELETE trigger, which disables that optimisation.
    for table in TABLES:
        for op in ("UPDATE", "DELETE"):
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: {op} on {table} is refused'); END;"
            )


def _sqlite_reverse(schema_editor):
    for table in TABLES:
        for op in ("update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op};")


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _pg_forward(schema_editor)
    elif vendor == "sqlite":
        _sqlite_forward(schema_editor)
    else:
        raise RuntimeError(f"the append-only audit trail is implemented for PostgreSQL and SQLite, not {vendor}")


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _pg_reverse(schema_editor)
    elif vendor == "sqlite":
        _sqlite_reverse(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("governance", "0003_audit_chain_head")]
    operations = [migrations.RunPython(forward, reverse)]
