"""Database triggers that refuse UPDATE and DELETE on privacy-ledger entries (SQLite,
PostgreSQL), as for the audit log (:mod:`tiplab_web.audit.triggers`): a guard against
accidents and code that bypasses the model; the ledger's hash chain exposes the rest."""

from __future__ import annotations

from typing import Any

TABLE = "publications_ledgerentry"

_SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'privacy ledger is append-only'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'privacy ledger is append-only'); END""",
]
_SQLITE_DROP = ["DROP TRIGGER IF EXISTS ledger_no_update",
                "DROP TRIGGER IF EXISTS ledger_no_delete"]
_POSTGRES = [
    """CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'privacy ledger is append-only'; END; $$ LANGUAGE plpgsql""",
    f"DROP TRIGGER IF EXISTS ledger_no_change ON {TABLE}",
    f"""CREATE TRIGGER ledger_no_change BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION ledger_append_only()""",
    f"DROP TRIGGER IF EXISTS ledger_no_truncate ON {TABLE}",
    f"""CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()""",
]
_POSTGRES_DROP = [f"DROP TRIGGER IF EXISTS ledger_no_change ON {TABLE}",
                  f"DROP TRIGGER IF EXISTS ledger_no_truncate ON {TABLE}"]


def install(connection: Any) -> None:
    with connection.cursor() as cursor:
        for sql in {"sqlite": _SQLITE, "postgresql": _POSTGRES}.get(connection.vendor, []):
            cursor.execute(sql)


def remove(connection: Any) -> None:
    with connection.cursor() as cursor:
        for sql in {"sqlite": _SQLITE_DROP, "postgresql": _POSTGRES_DROP}.get(
                connection.vendor, []):
            cursor.execute(sql)
