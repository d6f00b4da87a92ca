"""Database triggers that refuse UPDATE and DELETE on the audit table (SQLite, PostgreSQL).

They guard against accidents and against code that bypasses the model; someone with full
control of the database can drop them, which the hash chain then exposes (``verify_audit``).
"""

from __future__ import annotations

from typing import Any

TABLE = "audit_auditentry"

_SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
]
_SQLITE_DROP = ["DROP TRIGGER IF EXISTS audit_no_update", "DROP TRIGGER IF EXISTS audit_no_delete"]

_POSTGRES = [
    """CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit log is append-only'; END; $$ LANGUAGE plpgsql""",
    f"DROP TRIGGER IF EXISTS audit_no_change ON {TABLE}",
    f"""CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_append_only()""",
    f"DROP TRIGGER IF EXISTS audit_no_truncate ON {TABLE}",
    f"""CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()""",
]
_POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS audit_no_change ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_no_truncate ON {TABLE}",
]


def install(connection: Any) -> None:
    statements = {"sqlite": _SQLITE, "postgresql": _POSTGRES}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def remove(connection: Any) -> None:
    statements = {"sqlite": _SQLITE_DROP, "postgresql": _POSTGRES_DROP}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
