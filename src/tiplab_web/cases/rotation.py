"""Key rotation on the Django system of record: the store's side of ``tiplab.rotation``.

One transaction re-seals every record's identifiers and every rejected row's sealed original,
recomputes every pseudonym, sets every batch's ``key_id`` and appends the ``keys.rotate``
audit entry. It works in chunks of :data:`CHUNK_ROWS` records read by id (keyset, so memory
stays flat): the chunk's blobs are opened and sealed again by
``tiplab.records.protect.reseal_identities`` (the import's own sealing and DuckDB HMAC code),
written into a temporary table (``executemany`` on SQLite, ``COPY`` on PostgreSQL) and
applied with one ``UPDATE … FROM`` per chunk; no model instance is loaded or saved.

PostgreSQL: the three tables are locked against other writers (readers go on, seeing the old
values until the commit). SQLite: the transaction takes the write lock when it begins
(``transaction_mode = IMMEDIATE``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Count

from tiplab.errors import KeyRotationError
from tiplab.keys import KeyRing
from tiplab.records.protect import (
    PSEUDONYM_FIELDS,
    SEAL_CHUNK_ROWS,
    SEALED_COLUMN,
    UnsealError,
    reseal_identities,
    reseal_raw_rows,
)
from tiplab.rotation import AUDIT_ACTION, RotationCounts

from .models import CaseRecord, ImportBatch, RejectedRow

#: Records re-sealed per chunk (one read, one temporary-table write, one UPDATE).
CHUNK_ROWS = SEAL_CHUNK_ROWS


class KeyRotationMixin:
    """``tiplab.rotation.RotatingStore`` for :class:`~.store.DjangoCaseStore`."""

    using: str

    def key_ids_in_use(self) -> dict[str, int]:
        rows = (ImportBatch.objects.using(self.using).order_by().values_list("key_id")
                .annotate(n=Count("id")))
        return {k: n for k, n in rows}

    def rotation_committed(self, new_key_id: str) -> bool:
        from tiplab_web.audit.models import AuditEntry

        return AuditEntry.objects.using(self.using).filter(
            action=AUDIT_ACTION, details__new_key_id=new_key_id).exists()

    def rotate_keys(self, old: Mapping[str, KeyRing], new: KeyRing, *,
                    by: str) -> RotationCounts:
        return rotate_keys(self, old, new, by=by)


def rotate_keys(store: Any, old: Mapping[str, KeyRing], new: KeyRing, *,
                by: str) -> RotationCounts:
    """See ``tiplab.rotation.RotatingStore.rotate_keys``."""
    from tiplab_web import audit
    from tiplab_web.audit.models import AuditEntry

    using = store.using
    if router.db_for_write(AuditEntry) != using:
        raise KeyRotationError(f"keys can only be rotated on the audited database "
                               f"({router.db_for_write(AuditEntry)!r}), not {using!r}")
    connection = connections[using]
    current = old[""]
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql":
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table)
                               for m in (ImportBatch, CaseRecord, RejectedRow))
            with connection.cursor() as cur:  # other writers wait; readers see the old rows
                cur.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        batches = {pk: (batch_id, key_id, sha)
                   for pk, batch_id, key_id, sha in ImportBatch.objects.using(using)
                   .values_list("pk", "batch_id", "key_id", "sha256")}
        field_key = {pk: old[key_id].field_key for pk, (_, key_id, _) in batches.items()}
        records = _reseal_records(connection, batches, field_key, new)
        from .faults import pause_in_transaction

        pause_in_transaction()  # the crash test's pause, records re-sealed but nothing committed
        rejects = _reseal_rejects(connection, batches, field_key, new)
        # survivors' anonymous input is sealed with the same field key
        from tiplab_web.consultations.services import reseal_all

        voice = reseal_all(old, new)
        # interview notes (qualitative evidence) and screened texts too
        from tiplab_web.evidence.services import reseal_all as reseal_notes

        notes = reseal_notes(old, new)
        from tiplab_web.screening.services import reseal_all as reseal_screened

        screened = reseal_screened(old, new)
        ImportBatch.objects.using(using).update(key_id=new.key_id)
        previous = sorted({k or current.key_id for _, k, _ in batches.values()})
        audit.record(None, AUDIT_ACTION, ("keys", new.key_id), old_key_id=current.key_id,
                     new_key_id=new.key_id, previous_key_ids=previous, records=records,
                     rejects=rejects, batches=len(batches), anonymous_inputs=voice,
                     interview_notes=notes, screened_texts=screened, by=by)
    return RotationCounts(records=records, rejects=rejects, batches=len(batches))


def _blob(value: Any) -> bytes | None:
    return value if value is None or isinstance(value, bytes) else bytes(value)


def _chunks(connection: Any, sql: str) -> Any:
    """Rows of ``sql`` (its first column the id, one ``%s`` for the last id seen) in chunks."""
    last = 0
    with connection.cursor() as cur:
        while True:
            cur.execute(sql, [last, CHUNK_ROWS])
            rows = cur.fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield rows


def _reseal_records(connection: Any, batches: dict[int, tuple[str, str, str]],
                    field_key: dict[int, bytes], new: KeyRing) -> int:
    qn = connection.ops.quote_name
    table = qn(CaseRecord._meta.db_table)
    columns = [SEALED_COLUMN, *(f"{f}_pseudonym" for f in PSEUDONYM_FIELDS)]
    sql = (f"SELECT id, batch_id, source_agency, record_id, {qn(SEALED_COLUMN)} FROM {table} "
           "WHERE id > %s ORDER BY id LIMIT %s")
    n = 0
    with _Staging(connection, CaseRecord._meta.db_table, columns) as staging:
        for rows in _chunks(connection, sql):
            ids, batch_pks, sources, record_ids, blobs = zip(*rows, strict=True)
            try:
                out = reseal_identities([_blob(b) for b in blobs], sources, record_ids,
                                        [field_key[b] for b in batch_pks], new)
            except UnsealError as e:
                raise KeyRotationError(
                    f"the identifiers of record {sources[e.index]}:{record_ids[e.index]} "
                    f"(batch {batches[batch_pks[e.index]][0]}) do not open with the keys "
                    f"{batches[batch_pks[e.index]][1] or '(current)'} its batch names; nothing "
                    "was changed") from None
            staging.write(ids, [out.column(c).to_pylist() for c in columns])
            n += len(rows)
    return n


def _reseal_rejects(connection: Any, batches: dict[int, tuple[str, str, str]],
                    field_key: dict[int, bytes], new: KeyRing) -> int:
    qn = connection.ops.quote_name
    table = qn(RejectedRow._meta.db_table)
    sql = (f"SELECT id, batch_id, source_row, raw_sealed FROM {table} "
           "WHERE raw_sealed IS NOT NULL AND id > %s ORDER BY id LIMIT %s")
    n = 0
    with _Staging(connection, RejectedRow._meta.db_table, ["raw_sealed"]) as staging:
        for rows in _chunks(connection, sql):
            ids, batch_pks, source_rows, blobs = zip(*rows, strict=True)
            try:
                sealed = reseal_raw_rows([_blob(b) for b in blobs],
                                         [batches[b][2] for b in batch_pks], source_rows,
                                         [field_key[b] for b in batch_pks], new)
            except UnsealError as e:
                raise KeyRotationError(
                    f"the sealed original of rejected row {source_rows[e.index]} of batch "
                    f"{batches[batch_pks[e.index]][0]} does not open with its batch's keys; "
                    "nothing was changed") from None
            staging.write(ids, [sealed])
            n += len(rows)
    return n


class _Staging:
    """A temporary table of new column values by id, applied to ``table`` chunk by chunk with
    one ``UPDATE … FROM`` (SQLite ≥ 3.33, PostgreSQL)."""

    NAME = "tiplab_rotation_staging"

    def __init__(self, connection: Any, table: str, columns: Sequence[str]) -> None:
        self.connection = connection
        self.table = table
        self.columns = list(columns)
        self.pg = connection.vendor == "postgresql"

    def __enter__(self) -> _Staging:
        qn = self.connection.ops.quote_name
        blob, text = ("bytea", "text") if self.pg else ("BLOB", "TEXT")
        cols = ", ".join(f"{qn(c)} {blob if c.endswith('sealed') else text}"
                         for c in self.columns)
        with self.connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {self.NAME}")
            cur.execute(f"CREATE TEMPORARY TABLE {self.NAME} (id bigint PRIMARY KEY, {cols})")
        return self

    def write(self, ids: Sequence[int], columns: Sequence[Sequence[Any]]) -> None:
        qn = self.connection.ops.quote_name
        names = ", ".join(qn(c) for c in self.columns)
        rows = list(zip(ids, *columns, strict=True))
        with self.connection.cursor() as cur:
            if self.pg:
                with cur.cursor.copy(f"COPY {self.NAME} (id, {names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * (len(self.columns) + 1))
                cur.executemany(f"INSERT INTO {self.NAME} (id, {names}) VALUES ({marks})", rows)
            sets = ", ".join(f"{qn(c)} = s.{qn(c)}" for c in self.columns)
            cur.execute(f"UPDATE {qn(self.table)} SET {sets} FROM {self.NAME} AS s "
                        f"WHERE {qn(self.table)}.id = s.id")
            cur.execute(f"DELETE FROM {self.NAME}")

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            with self.connection.cursor() as cur:
                cur.execute(f"DROP TABLE IF EXISTS {self.NAME}")
