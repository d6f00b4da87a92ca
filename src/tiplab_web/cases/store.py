"""The Django implementation of ``tiplab.store.CaseStore`` (entry point ``tiplab.stores:django``).

A batch, its records, its rejects and its issues land together or not at all, in one
transaction, written in bulk: on a SQLite file by a loader process of its own
(:mod:`tiplab_web.cases.bulkload`, ADBC) to which the records are streamed while they are
sealed; on PostgreSQL with ``COPY`` inside ``transaction.atomic``; on an in-memory SQLite
database or inside an outer transaction with ``executemany`` on Django's connection. The rows
are laid out from the Arrow tables the core produced (JSON for lists, ISO text for dates), so
Python touches each row at most once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import secrets
import tempfile
import threading
from collections.abc import Iterable
from itertools import chain
from pathlib import Path
from typing import Any

import pyarrow as pa
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from tiplab import duck
from tiplab.config import key_dir
from tiplab.errors import (
    STORAGE_FULL_MESSAGE,
    IngestError,
    StorageFullError,
    is_storage_full,
)
from tiplab.ingest.pipeline import PreparedImport
from tiplab.keys import KeyRing, load_keyring
from tiplab.records.protect import seal_raw_rows
from tiplab.records.schema import CASE_SCHEMA
from tiplab.snapshot import SnapshotBatch, batch_file
from tiplab.store import BatchInfo

from .backup import BackupMixin
from .faults import pause_in_transaction
from .models import AggregateRecord, CaseRecord, ImportBatch, RejectedRow, RowIssue
from .rotation import KeyRotationMixin

LIST_FIELDS = {"transit_countries", "exploitation_forms", "labour_sectors",
               "sexual_exploitation_types", "means_of_control"}


def new_batch_id() -> str:
    return f"B{timezone.now():%Y%m%d}-{secrets.token_hex(3).upper()}"


def _info(b: ImportBatch) -> BatchInfo:
    superseded_by = None
    try:
        superseded_by = b.superseded_by.batch_id  # type: ignore[attr-defined]
    except ImportBatch.DoesNotExist:
        superseded_by = None
    return BatchInfo(
        batch_id=b.batch_id, kind=b.kind, source_agency=b.source_agency, file_name=b.file_name,
        sha256=b.sha256, profile=b.profile_name, schema_version=b.schema_version,
        imported_by=b.imported_by, imported_at=b.imported_at, rows=b.rows, accepted=b.accepted,
        rejected=b.rejected, warnings=b.warnings, reasons=dict(b.reasons), status=b.status,
        supersedes=b.supersedes.batch_id if b.supersedes_id else None,
        superseded_by=superseded_by, data_version=b.data_version or None)


class DjangoCaseStore(BackupMixin, KeyRotationMixin):
    """The case store on one Django database alias (``default`` unless told otherwise).

    Also the system of record's side of backups (``tiplab.backup.BackupStore``, in
    :mod:`.backup`) and key rotations (``tiplab.rotation.RotatingStore``, in :mod:`.rotation`).
    """

    def __init__(self, data_dir: Path, using: str = "default", *, submit: bool = False) -> None:
        """With ``submit``, new batches are an agency's submissions: stored as *submitted*,
        outside the snapshot and every figure until a data steward approves them; a
        correction names the batch it replaces (``replaces``) without touching it yet."""
        self.data_dir = data_dir
        self.using = using
        self.submit = submit

    def _q(self, model: Any) -> Any:
        return model.objects.using(self.using)

    # -- reads ----------------------------------------------------------------------------
    def find_batch_by_sha256(self, sha256: str) -> BatchInfo | None:
        b = self._q(ImportBatch).filter(sha256=sha256).order_by("imported_at").first()
        return _info(b) if b else None

    def get_batch(self, batch_id: str) -> BatchInfo:
        try:
            return _info(self._q(ImportBatch).select_related("supersedes").get(batch_id=batch_id))
        except ImportBatch.DoesNotExist:
            raise IngestError(f"no import batch {batch_id!r}; 'tiplab batches' lists them") \
                from None

    def list_batches(self) -> list[BatchInfo]:
        return [_info(b) for b in self._q(ImportBatch).select_related("supersedes")]

    def existing_record_ids(self, source_agency: str, exclude_batch: str | None) -> pa.Table:
        qs = self._q(CaseRecord).filter(source_agency=source_agency,
                                       batch__status=ImportBatch.ACTIVE)
        if exclude_batch:
            qs = qs.exclude(batch__batch_id=exclude_batch)
        ids = list(qs.values_list("record_id", flat=True))
        return pa.table({"record_id": pa.array(ids, pa.string())})

    def rejects(self, batch_id: str) -> pa.Table:
        import json

        rows = list(self._q(RejectedRow).filter(batch__batch_id=batch_id)
                    .values_list("source_row", "raw", "reasons"))
        return pa.table({
            "row": pa.array([r[0] for r in rows], pa.int64()),
            "raw": pa.array([json.dumps(r[1], ensure_ascii=False) for r in rows], pa.string()),
            "reasons": pa.array([json.dumps(r[2], ensure_ascii=False) for r in rows],
                                pa.string()),
        })

    def sealed_rejects(self, batch_id: str) -> list[tuple[int, bytes | None]]:
        return [(r, bytes(s) if s is not None else None) for r, s in
                self._q(RejectedRow).filter(batch__batch_id=batch_id)
                .values_list("source_row", "raw_sealed")]

    def active_snapshot_batches(self) -> list[SnapshotBatch]:
        return [SnapshotBatch(batch_id=b.batch_id, kind=b.kind, source_agency=b.source_agency,
                              sha256=b.sha256, rows=b.accepted,
                              file=batch_file(b.kind, b.batch_id))
                for b in self._q(ImportBatch).filter(status=ImportBatch.ACTIVE)
                .order_by("imported_at")]

    def batch_records(self, batch_id: str) -> pa.Table:
        b = self._q(ImportBatch).get(batch_id=batch_id)
        model = CaseRecord if b.kind == "case" else AggregateRecord
        fields = [f.name for f in model._meta.concrete_fields
                  if f.name not in ("id", "batch", "identity_sealed", "warnings")
                  and not f.name.endswith("_pseudonym")]
        rows = list(self._q(model).filter(batch=b).order_by("source_row").values_list(*fields))
        cols = {name: [r[i] for r in rows] for i, name in enumerate(fields)}
        cols["_row"] = cols.pop("source_row")
        table = pa.table(cols)
        from tiplab.records.schema import get_schema

        target = get_schema(b.kind).arrow_schema(include_protected=False)
        out = {"_row": table.column("_row").cast(pa.int64())}
        for fld in target:
            out[fld.name] = (table.column(fld.name).cast(fld.type)
                             if fld.name in table.column_names
                             else pa.nulls(table.num_rows, fld.type))
        return pa.table(out)

    def linkage_records(self, *, with_identifiers: bool = True) -> pa.Table:
        """Active case records for record linkage, identifiers unsealed in memory.

        One row per record: source_agency, record_id, the stratum attributes the person table
        carries (year, region_of_exploitation, sex, age_band, exploitation_form, citizenship),
        the case characteristics compared in linkage (exploitation_forms and
        means_of_control joined by ``|``, recruiter_relation) and, with
        ``with_identifiers``, the decrypted identifying fields. The caller must audit this
        bulk access to identifiers.
        """
        from tiplab.records.protect import unseal

        fields = ["source_agency", "record_id", "registration_date", "region_of_exploitation",
                  "sex", "age_band", "exploitation_forms", "recruiter_relation", "means_of_control",
                  "citizenship", "age", "identity_sealed"]
        rows = list(self._q(CaseRecord).filter(batch__status=ImportBatch.ACTIVE)
                    .order_by("id").values_list(*fields))
        cols: dict[str, list[Any]] = {f: [r[i] for r in rows] for i, f in enumerate(fields)}
        sealed = cols.pop("identity_sealed")
        forms = cols.pop("exploitation_forms")
        out: dict[str, Any] = {
            "source_agency": pa.array(cols["source_agency"], pa.string()),
            "record_id": pa.array(cols["record_id"], pa.string()),
            "year": pa.array([d.year if d else None for d in cols["registration_date"]],
                             pa.int64()),
            "region_of_exploitation": pa.array(cols["region_of_exploitation"], pa.string()),
            "sex": pa.array(cols["sex"], pa.string()),
            "age_band": pa.array(cols["age_band"], pa.string()),
            "exploitation_form": pa.array([f[0] if f else None for f in forms], pa.string()),
            # every form recorded, the recruiter relationship and the means: weak linkage evidence
            "exploitation_forms": pa.array(["|".join(f) if f else None for f in forms],
                                           pa.string()),
            "recruiter_relation": pa.array(cols["recruiter_relation"], pa.string()),
            "means_of_control": pa.array(
                ["|".join(m) if m else None for m in cols.pop("means_of_control")], pa.string()),
            "citizenship": pa.array(cols["citizenship"], pa.string()),
            # the registration date and the age at registration are linkage evidence too:
            # one episode's records are registered close in time, and an age gives the
            # birth year where no birth date was recorded
            "registration_date": pa.array(
                [d.isoformat() if d else None for d in cols["registration_date"]], pa.string()),
            "age": pa.array(cols["age"], pa.int64()),
        }
        if with_identifiers:
            keyring = load_keyring(key_dir(self.data_dir))
            idents = [unseal(bytes(b) if b is not None else None, keyring, src, rid)
                      for b, src, rid in zip(sealed, cols["source_agency"], cols["record_id"],
                                             strict=True)]
            for f in CASE_SCHEMA.protected:
                out[f] = pa.array([i.get(f) for i in idents], pa.string())
        return pa.table(out)

    def set_data_version(self, batch_ids: list[str], data_version: str) -> None:
        self._q(ImportBatch).filter(batch_id__in=batch_ids, data_version="").update(
            data_version=data_version)

    # -- the import transaction -------------------------------------------------------------
    def save_import(self, prepared: PreparedImport, protected: Iterable[pa.Table], *,
                    user: str, supersede: str | None) -> BatchInfo:
        keyring = load_keyring(key_dir(self.data_dir))
        connection = connections[self.using]
        sqlite_file = _bulk_sqlite_file(connection)
        if sqlite_file is not None:
            return self._save_import_bulk(sqlite_file, prepared, protected, user=user,
                                          supersede=supersede, keyring=keyring)
        try:
            return self._save_import_django(prepared, protected, user=user,
                                            supersede=supersede, keyring=keyring)
        except (DatabaseError, OSError) as e:  # the transaction rolled back
            if is_storage_full(e):
                raise StorageFullError(STORAGE_FULL_MESSAGE) from e
            raise

    def _save_import_django(self, prepared: PreparedImport, protected: Iterable[pa.Table], *,
                            user: str, supersede: str | None, keyring: KeyRing) -> BatchInfo:
        r = prepared.result
        connection = connections[self.using]
        rej = r.rejected
        redacted, sealed = _seal_rejects(prepared, keyring)
        records = pa.concat_tables(list(protected))
        with transaction.atomic(using=self.using):
            old = None
            if supersede:
                old = self._q(ImportBatch).select_for_update().get(batch_id=supersede)
                if old.status != ImportBatch.ACTIVE:
                    raise IngestError(f"batch {supersede} was superseded meanwhile")
            fields = _batch_fields(prepared, user=user, key_id=keyring.key_id)
            if self.submit:  # the old batch stays as it is until the submission is approved
                fields.update(status=ImportBatch.SUBMITTED, replaces=supersede or "")
                old = None
            batch = self._q(ImportBatch).create(**fields, supersedes=old)
            if old is not None:
                old.status = ImportBatch.SUPERSEDED
                old.superseded_at = timezone.now()
                old.save(update_fields=["status", "superseded_at"], using=self.using)
            model = CaseRecord if prepared.kind == "case" else AggregateRecord
            rows = self._record_rows(records, batch.pk, prepared.kind, connection.vendor)
            self._bulk_insert(connection, model, rows)
            self._save_rejects(rej, redacted, sealed, batch)
            pause_in_transaction()
            self._bulk_insert(connection, RowIssue, self._issue_rows(r.issues, batch.pk))
        return _info(batch)

    def _save_import_bulk(self, path: str, prepared: PreparedImport,
                          protected: Iterable[pa.Table], *, user: str, supersede: str | None,
                          keyring: KeyRing) -> BatchInfo:
        """The SQLite import transaction, written by :mod:`tiplab_web.cases.bulkload`.

        A child process opens the transaction and writes what this process streams through
        its standard input as Arrow IPC: the rejects and the issues, then the records, chunk
        by chunk as they are sealed (so sealing and writing run on both cores at once). No
        clear identifier crosses: records carry the sealed blob, rejects the redacted row and
        its sealed original. The child commits only when it received every accepted record,
        and prints the batch's key. Nothing is written to the database by this process.
        """
        import json
        import shutil
        import subprocess
        import sys
        import time

        from .bulkload import EXIT_SUPERSEDED

        connection = connections[self.using]
        model = CaseRecord if prepared.kind == "case" else AggregateRecord
        tmp_root = self.data_dir / "tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        # work directories of an import whose process was killed: nothing will read them
        stale = time.time() - 3600
        for d in tmp_root.glob("bulk-*"):
            if d.stat().st_mtime < stale:
                shutil.rmtree(d, ignore_errors=True)
        try:
            work = Path(tempfile.mkdtemp(prefix="bulk-", dir=tmp_root))
        except OSError as e:
            raise _write_error(e) from e
        errors: list[bytes] = []
        try:
            batch = ImportBatch(**_batch_fields(prepared, user=user, key_id=keyring.key_id))
            if self.submit:  # see _save_import_django
                batch.status, batch.replaces = ImportBatch.SUBMITTED, supersede or ""
                supersede = None
            fields = [f for f in ImportBatch._meta.concrete_fields if not f.primary_key]
            spec = {
                "database": path,
                "tables": {"batch": ImportBatch._meta.db_table,
                           "records": model._meta.db_table,
                           "rejects": RejectedRow._meta.db_table,
                           "issues": RowIssue._meta.db_table},
                "records": prepared.result.accepted.num_rows,
                "batch": {f.column: f.get_db_prep_save(f.pre_save(batch, True), connection)
                          for f in fields},
                "supersede": None if not supersede else {
                    "batch_id": supersede, "column": ImportBatch._meta.get_field(
                        "supersedes").column,
                    "new_status": ImportBatch.SUPERSEDED, "if_status": ImportBatch.ACTIVE,
                    "at": connection.ops.adapt_datetimefield_value(timezone.now())},
            }
            try:
                (work / "batch.json").write_text(json.dumps(spec), encoding="utf-8")
            except OSError as e:
                raise _write_error(e) from e
            # The loader's messages come through a pipe, not a file: on a full disk a file
            # would stay empty and the reason for the failure would be lost.
            child = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "tiplab_web.cases.bulkload", str(work)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            assert child.stdin is not None
            assert child.stdout is not None
            drain = threading.Thread(target=_drain, args=(child.stderr, errors),
                                     name="tiplab-loader-stderr", daemon=True)
            drain.start()
            try:
                _widen_pipe(child.stdin)
                # Rejects and issues first: they are sealed while the loader starts up, so
                # the loader's work ends with the last chunk of records.
                _write_rejects(child.stdin, prepared, keyring)
                names, (con, rel) = self._issue_rows(prepared.result.issues, 0)
                try:
                    _write_stream(child.stdin, rel, [RowIssue._meta.get_field(n).column
                                                     for n in names[:-1]])
                finally:
                    con.close()
                self._stream_records(child.stdin, protected, model)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the loader stopped reading: its exit status and message say why
            except BaseException:
                child.kill()  # it rolls back: nothing of this batch is committed
                child.wait()
                raise
            finally:
                with contextlib.suppress(OSError):  # a loader gone leaves a broken pipe
                    child.stdin.close()
            # The key, printed the moment the batch is committed; the loader then checkpoints
            # the write-ahead log on its own while this process goes on. The thread that
            # reaps it is not a daemon: a command line import exits only once the checkpoint
            # is done, so no later request of the web app inherits it.
            key = child.stdout.readline().strip()
            if key:
                threading.Thread(target=_reap, args=(child,), name="tiplab-loader-reaper",
                                 daemon=False).start()
            else:
                returncode = child.wait()
                child.stdout.close()
                drain.join(timeout=10)
                stderr = b"".join(errors).decode("utf-8", errors="replace")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if not key:
            if returncode == EXIT_SUPERSEDED:
                raise IngestError(f"batch {supersede} was superseded meanwhile")
            last = (stderr.strip().splitlines() or ["(no message)"])[-1]
            if is_storage_full(stderr):
                raise StorageFullError(STORAGE_FULL_MESSAGE)
            raise IngestError(f"writing the batch to the database failed, nothing was "
                              f"imported: {last}")
        return _info(self._q(ImportBatch).select_related("supersedes").get(pk=int(key)))

    def _stream_records(self, sink: Any, protected: Iterable[pa.Table], model: Any) -> None:
        """Write the sealed chunks, in the table's layout, as one Arrow IPC stream to ``sink``."""
        writer = None
        try:
            for chunk in protected:
                table = _record_layout(chunk, model)
                if writer is None:
                    writer = pa.ipc.new_stream(sink, table.schema)
                writer.write_table(table, max_chunksize=SQLITE_BATCH_ROWS)
        finally:
            if writer is not None:
                writer.close()

    @staticmethod
    def _record_rows(table: pa.Table, batch_pk: int, kind: str,
                     vendor: str) -> tuple[list[str], Any]:
        """The record table's rows of ``table`` and the batch key, as a DuckDB relation (for
        ``COPY`` on PostgreSQL, ``executemany`` on SQLite); the layout is :func:`_record_layout`."""
        model = CaseRecord if kind == "case" else AggregateRecord
        names = [f.name for f in model._meta.concrete_fields if f.name not in ("id", "batch")]
        layout = _record_layout(table, model)
        exprs = [f"'\\x' || hex(\"{c}\")" if c == "identity_sealed" and vendor == "postgresql"
                 else f'"{c}"' for c in layout.column_names]
        con = duck.cursor()
        con.register("t", layout)
        # a projection of one table keeps its (source-row) order: nothing is sorted
        rel = con.sql(f"SELECT {', '.join(exprs)}, {batch_pk} FROM t")
        return [*names, "batch"], (con, rel)

    def _save_rejects(self, rej: pa.Table, redacted: list[str], sealed: list[bytes | None],
                      batch: ImportBatch) -> None:
        import json

        objs = [RejectedRow(batch=batch, source_row=row, raw=json.loads(raw), raw_sealed=blob,
                            reasons=reasons)
                for row, raw, blob, reasons in zip(rej.column("row").to_pylist(), redacted,
                                                   sealed, rej.column("reasons").to_pylist(),
                                                   strict=True)]
        self._q(RejectedRow).bulk_create(objs, batch_size=2000)

    @staticmethod
    def _issue_rows(issues: pa.Table, batch_pk: int) -> tuple[list[str], Any]:
        con = duck.cursor()
        con.register("i", issues)
        rel = con.sql(f'SELECT row, "column", field, value, code, severity, message, {batch_pk} '
                      "FROM i")
        return ["source_row", "column", "field", "value", "code", "severity", "message",
                "batch"], (con, rel)

    @staticmethod
    def _bulk_insert(connection: Any, model: Any, spec: tuple[list[str], Any]) -> None:
        names, rows = spec
        cols = [model._meta.get_field(n).column for n in names]
        table = model._meta.db_table
        qn = connection.ops.quote_name
        if connection.vendor == "postgresql" and isinstance(rows, tuple):
            con, rel = rows
            buf = io.BytesIO()
            fd, name = tempfile.mkstemp(prefix="tiplab-copy-", suffix=".csv")
            os.close(fd)
            tmp = Path(name)
            try:
                con.execute(f"COPY ({rel.sql_query()}) TO '{tmp}' (FORMAT csv, HEADER false)")
                buf.write(tmp.read_bytes())
            finally:
                tmp.unlink(missing_ok=True)
                con.close()
            with connection.cursor() as cur:
                raw = cur.cursor
                sql = (f"COPY {qn(table)} ({', '.join(qn(c) for c in cols)}) FROM STDIN "
                       "(FORMAT csv)")
                with raw.copy(sql) as copy:
                    copy.write(buf.getvalue())
            return
        placeholders = ", ".join(["%s"] * len(cols))
        sql = (f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in cols)}) "
               f"VALUES ({placeholders})")
        if not isinstance(rows, tuple):
            if rows:
                with connection.cursor() as cur:
                    cur.executemany(sql, rows)
            return
        con, rel = rows
        try:
            if connection.vendor == "sqlite":
                _sqlite_insert(connection, table, [qn(c) for c in cols], rel)
                return
            result = con.execute(rel.sql_query())
            with connection.cursor() as cur:
                while chunk := result.fetchmany(50_000):
                    cur.executemany(sql, chunk)
        finally:
            con.close()


#: Rows per INSERT statement on SQLite (bounded by its 32,766 bound variables).
SQLITE_ROWS_PER_STATEMENT = 32
#: Rows per Arrow batch handed to the SQLite driver (memory stays flat).
SQLITE_BATCH_ROWS = 50_016


def _sqlite_insert(connection: Any, table: str, cols: list[str], rel: Any) -> None:
    """Insert a DuckDB relation's rows on Django's own SQLite connection (same transaction).

    Straight to the driver in Arrow batches (memory stays flat), converted column by column
    (``to_pylist``), several rows per INSERT so SQLite prepares, steps and resets a statement
    once per 32 rows rather than per row, and without the columns that are NULL throughout
    the batch (an omitted column is NULL too: Django sets no database defaults), since the
    driver's cost is per bound value. 39 s -> 22.5 s for a million records
    (``benchmarks/README.md``).
    """
    quoted = connection.ops.quote_name(table)
    statements: dict[tuple[int, ...], tuple[int, str, str]] = {}

    def statement(keep: tuple[int, ...]) -> tuple[int, str, str]:
        if keep not in statements:
            per = max(1, min(SQLITE_ROWS_PER_STATEMENT, 32_766 // len(keep)))
            one = "(" + ", ".join(["?"] * len(keep)) + ")"
            head = f"INSERT INTO {quoted} ({', '.join(cols[i] for i in keep)}) VALUES "
            statements[keep] = (per, head + ", ".join([one] * per), head + one)
        return statements[keep]

    connection.ensure_connection()
    raw = connection.connection.cursor()
    try:
        for batch in rel.to_arrow_reader(SQLITE_BATCH_ROWS):
            keep = tuple(i for i, c in enumerate(batch.columns)
                         if c.null_count < batch.num_rows) or (0,)
            per, many, single = statement(keep)
            records = list(zip(*(batch.column(i).to_pylist() for i in keep), strict=True))
            full = len(records) // per * per
            raw.executemany(many, (tuple(chain.from_iterable(records[i:i + per]))
                                   for i in range(0, full, per)))
            if full < len(records):
                raw.executemany(single, records[full:])
    finally:
        raw.close()


def _batch_fields(prepared: PreparedImport, *, user: str, key_id: str) -> dict[str, Any]:
    """The new batch row of ``prepared`` (both writers)."""
    s = prepared.summary()
    return {
        "batch_id": new_batch_id(), "kind": prepared.kind, "source_agency": s["source"],
        "file_name": s["file"], "file_size": s["bytes"], "file_format": s["format"],
        "encoding": s["encoding"] or "", "delimiter": s["delimiter"] or "",
        "sha256": s["sha256"], "profile_name": s["profile"],
        "profile_sha256": prepared.profile.sha256, "profile_text": prepared.profile.source_text,
        "schema_version": s["schema_version"], "tiplab_version": s["tiplab_version"],
        "key_id": key_id, "imported_by": user, "imported_at": timezone.now(),
        "rows": s["rows"], "accepted": s["accepted"], "rejected": s["rejected"],
        "warnings": s["warnings"], "censored": s["censored"], "reasons": s["reasons"]}


def _record_layout(table: pa.Table, model: Any) -> pa.Table:
    """``table`` (sealed records) in the record table's columns, for every writer.

    Built in Arrow: only the list columns and the warnings are turned into JSON text (DuckDB
    ``to_json``; an empty list is stored as NULL) and dates into ISO text; every other column
    passes through without a copy.
    """
    import pyarrow.compute as pc

    names = [f.name for f in model._meta.concrete_fields if f.name not in ("id", "batch")]
    present = set(table.column_names)
    lists = [n for n in names if n in LIST_FIELDS and n in present]
    exprs = [f'CASE WHEN "{n}" IS NULL OR len("{n}") = 0 THEN NULL '
             f'ELSE to_json("{n}")::VARCHAR END AS "{n}"' for n in lists]
    con = duck.cursor()
    try:
        con.register("t", table.select(["_row", "_warnings", *lists]))
        text = con.sql(f'SELECT "_row", to_json("_warnings")::VARCHAR AS warnings'
                       f'{"".join(", " + e for e in exprs)} FROM t').to_arrow_table()
    finally:
        con.close()
    # one scan of one table: DuckDB keeps its order; checked, as the columns are put side by side
    if not text.column("_row").equals(table.column("_row")):
        raise RuntimeError("the record layout lost the rows' order")  # never expected
    columns: list[Any] = []
    for n in names:
        if n == "source_row":
            columns.append(table.column("_row"))
        elif n == "warnings" or n in lists:
            columns.append(text.column(n))
        elif n not in present:
            columns.append(pa.nulls(table.num_rows, pa.null()))
        elif pa.types.is_date(table.schema.field(n).type):
            columns.append(pc.strftime(table.column(n), "%Y-%m-%d"))
        else:
            columns.append(table.column(n))
    return pa.table(columns, names=[model._meta.get_field(n).column for n in names])


def _seal_rejects(prepared: PreparedImport,
                  keyring: KeyRing) -> tuple[list[str], list[bytes | None]]:
    """The rejected rows redacted (shown to analysts) and sealed whole (for data stewards)."""
    r = prepared.result
    rej = r.rejected
    if not rej.num_rows:
        return [], []
    protected_cols = {c for f in CASE_SCHEMA.protected
                      for c in r.columns_used.get(f, ())} if prepared.kind == "case" else set()
    return seal_raw_rows(rej.column("raw").to_pylist(), rej.column("row").to_pylist(),
                         protected_cols, keyring, prepared.raw.sha256)


def _write_rejects(sink: Any, prepared: PreparedImport, keyring: KeyRing) -> None:
    """The rejected rows, sealed and redacted, as one Arrow IPC stream to ``sink``."""
    import json

    rej = prepared.result.rejected
    redacted, sealed = _seal_rejects(prepared, keyring)
    reasons = [json.dumps(x, ensure_ascii=False) for x in rej.column("reasons").to_pylist()]
    table = pa.table({"source_row": rej.column("row").cast(pa.int64()),
                      "raw": pa.array(redacted, pa.string()),
                      "raw_sealed": pa.array(sealed, pa.binary()),
                      "reasons": pa.array(reasons, pa.string())})
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)


def _write_error(e: OSError) -> IngestError:
    if is_storage_full(e):
        return StorageFullError(STORAGE_FULL_MESSAGE)
    return IngestError(f"the import's work files could not be written ({e.strerror}); "
                       "nothing was imported")


def _drain(pipe: Any, into: list[bytes]) -> None:
    """Read a child's standard error to the end (so it never blocks on a full pipe)."""
    for line in iter(pipe.readline, b""):
        into.append(line)
    pipe.close()


def _reap(child: Any) -> None:
    """Wait for a loader that committed and is checkpointing, so it leaves no zombie."""
    child.wait()
    child.stdout.close()


def _widen_pipe(pipe: Any) -> None:
    """Linux: a 1 MiB pipe instead of 64 KiB, so a chunk crosses in fewer wake-ups."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass  # another system, or a lower limit: the default works, a little slower


def _write_stream(sink: Any, rel: Any, columns: list[str]) -> None:
    """Stream a DuckDB relation, minus its last column (the batch key, unknown yet), as Arrow
    IPC with the database's column names to ``sink``."""
    reader = rel.to_arrow_reader(SQLITE_BATCH_ROWS)
    schema = pa.schema([pa.field(c, t) for c, t in
                        zip(columns, reader.schema.types[:-1], strict=True)])
    with pa.ipc.new_stream(sink, schema) as w:
        for b in reader:
            w.write_batch(pa.RecordBatch.from_arrays(b.columns[:-1], schema=schema))


def _bulk_sqlite_file(connection: Any) -> str | None:
    """The SQLite file for :mod:`tiplab_web.cases.bulkload` to write, or None to write here.

    Only a file database (the loader opens its own connection) and only when this
    connection is not inside a transaction of its own (an outer ``atomic`` must keep the rows
    in it; the test suite's in-memory databases and ``TestCase`` transactions write here).
    ``TIPLAB_IMPORT_WRITER=django`` forces writing here.
    """
    if connection.vendor != "sqlite" or os.environ.get("TIPLAB_IMPORT_WRITER") == "django":
        return None
    if connection.is_in_memory_db() or connection.in_atomic_block:
        return None
    return str(connection.settings_dict["NAME"])


def record_count_by_source_year() -> list[tuple[str, int, int]]:
    """(source agency, registration year, records) over active batches — for the dashboard."""
    from django.db.models import Count
    from django.db.models.functions import ExtractYear

    rows = (CaseRecord.objects.filter(batch__status=ImportBatch.ACTIVE)
            .annotate(year=ExtractYear("registration_date"))
            .values_list("source_agency", "year").annotate(n=Count("id"))
            .order_by("source_agency", "year"))
    return [(a, int(y) if y is not None else 0, int(n)) for a, y, n in rows]


def today() -> dt.date:
    return timezone.localdate()
