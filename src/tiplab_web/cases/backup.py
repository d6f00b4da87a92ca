"""The system of record's side of ``tiplab backup`` and ``tiplab restore``
(``tiplab.backup.BackupStore``, mixed into :class:`~.store.DjangoCaseStore`).

Dump — one consistent copy, with what it says about the data directory read from the copy
itself (or in the copy's transaction):

* SQLite: the online backup API (``sqlite3.Connection.backup``) in one step, i.e. one read
  transaction: writers go on (WAL), the copy is the database as of one commit. The copy is
  switched to a rollback journal, so it is one self-contained file.
* PostgreSQL: a ``REPEATABLE READ`` transaction exports its snapshot; the batches, runs and
  counts are read in it and ``pg_dump --snapshot`` dumps exactly that state (custom format).
  ``pg_dump`` is found on ``PATH``; it must be of the server's major version or newer.

Restore — into an empty database only: SQLite by putting the file in place (then
``integrity_check``); PostgreSQL with ``pg_restore --single-transaction --no-owner``, so a
failure loads nothing.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connections, transaction

from tiplab.backup.dump import DatabaseDump, RestoredState
from tiplab.errors import ArchiveDamaged, BackupError
from tiplab.snapshot import SnapshotBatch, batch_file

#: Runs whose output files live in ``DATA_DIR/<folder>/<pk>/`` (see the apps' ``run_dir``).
RUN_FOLDERS = {("linkage", "LinkRun"): "linkage", ("estimates", "EstimationRun"): "estimates"}
#: Data-directory entries the web project writes that a backup leaves out, and why.
SKIPPED = {
    "uploads": "files uploaded for import and not yet confirmed hold identifiers in clear; "
               "they are not backed up (upload them again)",
    "staticfiles": "made by collectstatic",
    "cache": "a cache",
    "demo": "the demo's simulated agency files (synthetic identifiers in clear); "
            "`python -m tiplab_web.manage setup_demo` writes them again",
    "demo-logins.txt": "the demo users' passwords; setup_demo writes them again",
    "linkage": "outputs of link runs the database does not know",
    "estimates": "outputs of estimation runs the database does not know",
}
SYSTEM_SCHEMAS = "('pg_catalog', 'information_schema')"
_NOT_SYSTEM = (f"n.nspname NOT IN {SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_toast%' "
               "AND n.nspname NOT LIKE 'pg\\_temp%'")


class BackupMixin:
    using: str
    data_dir: Path

    @property
    def _connection(self) -> Any:
        return connections[self.using]

    def describe_database(self) -> str:
        c = self._connection
        s = c.settings_dict
        if c.vendor == "sqlite":
            return f"SQLite {s['NAME']}"
        return f"PostgreSQL {s.get('USER') or ''}@{s.get('HOST') or 'localhost'}:" \
               f"{s.get('PORT') or 5432}/{s['NAME']}"

    def skipped_entries(self) -> dict[str, str | None]:
        out: dict[str, str | None] = dict(SKIPPED)
        c = self._connection
        if c.vendor == "sqlite" and not c.is_in_memory_db():
            name = Path(c.settings_dict["NAME"]).name
            out.update({name + suffix: None for suffix in ("", "-wal", "-shm", "-journal")})
        return out

    # -- dump ----------------------------------------------------------------------------------
    def dump_database(self, work: Path) -> DatabaseDump:
        import django

        c = self._connection
        tables = sorted(c.introspection.django_table_names(only_existing=True,
                                                          include_views=False))
        versions = {"django": django.get_version()}
        if c.vendor == "sqlite":
            dest = work / "tiplab.sqlite3"
            contents = self._dump_sqlite(dest, tables)
            versions["sqlite"] = sqlite3.sqlite_version
            fmt = "sqlite"
        elif c.vendor == "postgresql":
            dest = work / "tiplab.pgdump"
            contents = self._dump_postgres(dest, tables, versions)
            fmt = "pg_dump-custom"
        else:
            raise BackupError(f"backups support SQLite and PostgreSQL, not {c.vendor}")
        return DatabaseDump(path=dest, vendor=c.vendor, format=fmt, versions=versions,
                            **contents)

    def _dump_sqlite(self, dest: Path, tables: list[str]) -> dict[str, Any]:
        c = self._connection
        target = sqlite3.connect(dest)
        try:
            if c.is_in_memory_db():  # the test suite's database: only this connection sees it
                c.ensure_connection()
                c.connection.backup(target)
            else:
                source = sqlite3.connect(c.settings_dict["NAME"], timeout=30)
                try:
                    source.backup(target)  # pages=-1: all at once, in one read transaction
                finally:
                    source.close()
            target.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
            return _contents(lambda sql: target.execute(sql).fetchall(), tables, c)
        finally:
            target.close()

    def _dump_postgres(self, dest: Path, tables: list[str],
                       versions: dict[str, str]) -> dict[str, Any]:
        c = self._connection
        pg_dump = _tool("pg_dump")
        versions["pg_dump"] = _run([pg_dump, "--version"], c).strip()
        raw = c.get_new_connection(c.get_connection_params())
        try:
            raw.autocommit = True
            with raw.cursor() as cur:
                cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cur.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
                snapshot, versions["postgresql"] = cur.fetchone()

                def query(sql: str) -> list[tuple[Any, ...]]:
                    cur.execute(sql)
                    return list(cur.fetchall())

                contents = _contents(query, tables, c)
                # the transaction stays open while pg_dump reads its snapshot
                _run([pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot}",
                      f"--file={dest}"], c)
                cur.execute("COMMIT")
        finally:
            raw.close()
        return contents

    # -- restore ---------------------------------------------------------------------------------
    def database_is_empty(self) -> bool:
        c = self._connection
        if c.vendor == "sqlite":
            path = self._sqlite_file()
            if not path.exists() or path.stat().st_size == 0:
                return True
            db = sqlite3.connect(path)
            try:
                return not db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                      ).fetchone()[0]
            finally:
                db.close()
        with c.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
                        f"n.oid = c.relnamespace WHERE {_NOT_SYSTEM} AND "
                        "c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')")
            return bool(cur.fetchone()[0] == 0)

    def unknown_migrations(self, applied: list[list[str]]) -> list[str]:
        from django.db.migrations.loader import MigrationLoader

        known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
        return [f"{app}.{name}" for app, name in applied if (app, name) not in known]

    def restore_database(self, dump: Path, database: dict[str, Any]) -> None:
        c = self._connection
        if database["vendor"] != c.vendor:
            raise BackupError(f"the archive holds a {database['vendor']} database, but this "
                              f"installation uses {c.vendor} ({self.describe_database()}); "
                              "set TIPLAB_DATABASE_URL accordingly")
        c.close()
        if c.vendor == "sqlite":
            path = self._sqlite_file()
            for suffix in ("-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            shutil.move(dump, path)
            db = sqlite3.connect(path)
            try:
                check = db.execute("PRAGMA integrity_check").fetchall()
            finally:
                db.close()
            if check != [("ok",)]:
                raise ArchiveDamaged(f"the archive's SQLite database fails its integrity check: "
                                     f"{check[:3]}")
            return
        s = c.settings_dict
        _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", "--no-password", f"--dbname={s['NAME']}", str(dump)], c,
             what="pg_restore (one transaction: nothing was loaded)")

    def undo_restore(self) -> None:
        c = self._connection
        if c.vendor != "postgresql":
            c.close()  # the SQLite file lives in the restore's work directory, removed with it
            return
        with transaction.atomic(using=self.using), c.cursor() as cur:
            cur.execute("SELECT format('%I.%I', n.nspname, c.relname), c.relkind FROM pg_class c "
                        f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {_NOT_SYSTEM} "
                        "AND c.relkind IN ('r', 'p', 'v', 'm', 'f')")
            for name, kind in cur.fetchall():
                what = {"v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE"}.get(
                    kind, "TABLE")
                cur.execute(f"DROP {what} IF EXISTS {name} CASCADE")
            cur.execute("SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c "
                        f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {_NOT_SYSTEM} "
                        "AND c.relkind = 'S'")
            for (name,) in cur.fetchall():
                cur.execute(f"DROP SEQUENCE IF EXISTS {name} CASCADE")
            cur.execute("SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON "
                        f"n.oid = p.pronamespace WHERE {_NOT_SYSTEM} AND NOT EXISTS (SELECT 1 "
                        "FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')")
            for (name,) in cur.fetchall():
                cur.execute(f"DROP FUNCTION IF EXISTS {name} CASCADE")

    def restored_state(self) -> RestoredState:
        from tiplab_web.audit.services import verify_chain

        c = self._connection
        tables = sorted(c.introspection.table_names())
        qn = c.ops.quote_name
        with c.cursor() as cur:
            counts = {}
            for t in tables:
                cur.execute(f"SELECT count(*) FROM {qn(t)}")
                counts[t] = int(cur.fetchone()[0])
        report = verify_chain()
        return RestoredState(counts=counts, audit_entries=report.entries,
                             audit_head=report.head, audit_intact=report.intact,
                             audit_problem=report.reason)

    def audit_event(self, action: str, **details: Any) -> None:
        from tiplab_web import audit

        audit.record(None, action, None, **details)

    def close_connections(self) -> None:
        connections.close_all()

    def _sqlite_file(self) -> Path:
        """The SQLite file — which, during a restore, must be in the restore's directory."""
        path = Path(self._connection.settings_dict["NAME"]).resolve()
        if not path.is_relative_to(self.data_dir.resolve()):
            raise BackupError(f"this process's database is {path}, outside {self.data_dir}: "
                              "a restore must run in a process of its own (tiplab restore)")
        return path


def _contents(query: Callable[[str], list[tuple[Any, ...]]], tables: list[str],
              connection: Any) -> dict[str, Any]:
    """What the dumped database says about the data directory, read in the dump's state."""
    from django.apps import apps

    from tiplab_web.audit.models import GENESIS_HASH, AuditEntry

    from .models import ImportBatch

    qn = connection.ops.quote_name
    batch = qn(ImportBatch._meta.db_table)
    batches = [SnapshotBatch(batch_id=b, kind=k, source_agency=s, sha256=h, rows=int(n),
                             file=batch_file(k, b))
               for b, k, s, h, n in query(
                   f"SELECT batch_id, kind, source_agency, sha256, accepted FROM {batch} "
                   f"WHERE status = '{ImportBatch.ACTIVE}' ORDER BY imported_at, id")]
    data_files = []
    for (app, model), folder in RUN_FOLDERS.items():
        table = qn(apps.get_model(app, model)._meta.db_table)
        data_files += [f"{folder}/{pk}" for (pk,) in query(f"SELECT id FROM {table} ORDER BY id")]
    data_files.append("profiles")  # mapping profiles kept in the data directory
    counts = {t: int(query(f"SELECT count(*) FROM {qn(t)}")[0][0]) for t in tables}
    audit = qn(AuditEntry._meta.db_table)
    head = query(f"SELECT hash FROM {audit} ORDER BY id DESC LIMIT 1")
    return {
        "snapshot_batches": batches,
        "data_files": data_files,
        "counts": counts,
        "audit": {"entries": counts.get(AuditEntry._meta.db_table, 0),
                  "head": head[0][0] if head else GENESIS_HASH},
        "migrations": [[a, n] for a, n in query(
            "SELECT app, name FROM django_migrations ORDER BY app, name")],
        "key_ids": {k: int(n) for k, n in query(
            f"SELECT key_id, count(*) FROM {batch} GROUP BY key_id")},
    }


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} was not found on PATH; install the PostgreSQL client tools "
                          "of the server's major version or newer (Debian: apt-get install "
                          "postgresql-client)")
    return path


def _pg_env(connection: Any) -> dict[str, str]:
    import os

    s = connection.settings_dict
    env = dict(os.environ)
    for var, value in (("PGHOST", s.get("HOST")), ("PGPORT", s.get("PORT")),
                       ("PGUSER", s.get("USER")), ("PGPASSWORD", s.get("PASSWORD")),
                       ("PGDATABASE", s.get("NAME")),
                       ("PGSSLMODE", (s.get("OPTIONS") or {}).get("sslmode"))):
        if value:
            env[var] = str(value)
    return env


def _run(cmd: list[str], connection: Any, what: str | None = None) -> str:
    """Run a PostgreSQL client tool with the connection's settings in its environment (the
    password never appears on a command line)."""
    done = subprocess.run(cmd, env=_pg_env(connection), capture_output=True, text=True,  # noqa: S603
                          check=False)
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
        detail = " / ".join(re.sub(r"\s+", " ", ln) for ln in lines[-3:]) or "(no message)"
        raise BackupError(f"{what or Path(cmd[0]).name} failed (exit {done.returncode}): "
                          f"{detail}")
    return done.stdout
