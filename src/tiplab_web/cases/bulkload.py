"""Write one import batch into the SQLite system of record from a process of its own.

``python -m tiplab_web.cases.bulkload WORKDIR`` reads ``WORKDIR/batch.json`` (the database
file, the batch row, the batch to supersede, the number of records) and, on its standard
input, three Arrow IPC streams one after the other: the rejected rows, the issues and the
records — :class:`tiplab_web.cases.store.DjangoCaseStore` seals and sends them chunk by chunk
while this process writes the previous chunks. It inserts them
through ADBC's SQLite driver, which binds Arrow columns in C instead of one Python value at a
time (three times faster for a million records, ``benchmarks/README.md``).

Why a process of its own: the ADBC driver links its own copy of SQLite. Two copies in one
process with the same database open break SQLite's POSIX locking (closing a file in one copy
drops the other's locks; sqlite.org/howtocorrupt.html, 2.2.1) — tried in-process, it
corrupted the demo database. Across processes the locks work as designed.

All of it is one ``BEGIN IMMEDIATE`` ... ``COMMIT``: the batch, its records, rejects and issues
land together or not at all. The process dies with its parent (``PR_SET_PDEATHSIG``), so a
killed import never commits later on its own; and it commits only when the stream ended
properly with exactly the number of records ``batch.json`` announced (a stream cut short — the
parent gone on a system without that signal — rolls back). The key is printed the moment the
batch is committed; the write-ahead log is then checkpointed while the importer goes on. This
module imports no Django: the child starts in a fraction of a second.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from tiplab.streams import read_ahead
from tiplab_web.cases.faults import pause_in_transaction

EXIT_SUPERSEDED = 3


def _die_with_parent() -> None:
    """Linux: be killed when the parent dies (a killed import must not commit by itself)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _with_batch_id(source: Any, batch_pk: int,
                   seen: list[int] | None = None) -> pa.RecordBatchReader:
    """The stream from ``source`` with the batch key added, read ahead by a thread (the next
    chunk crosses the pipe while SQLite, which releases the GIL, writes this one); rows
    counted into ``seen``."""
    reader = pa.ipc.open_stream(source)
    schema = reader.schema.append(pa.field("batch_id", pa.int64()))

    def batches():  # type: ignore[no-untyped-def]
        for b in read_ahead(reader):
            if seen is not None:
                seen[0] += b.num_rows
            yield pa.RecordBatch.from_arrays(
                [*b.columns, pa.repeat(pa.scalar(batch_pk, pa.int64()), b.num_rows)],
                schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def load(work: Path, records: Any, committed: Callable[[int], None] = lambda pk: None) -> int:
    """Run the transaction described in ``work`` with what ``records`` (a binary file)
    streams: three Arrow IPC streams one after the other — rejects, issues, records. Call
    ``committed`` with the new batch's primary key as soon as it is committed, then move the
    written pages from the write-ahead log into the database file; return the key."""
    import adbc_driver_sqlite.dbapi as adbc

    spec = json.loads((work / "batch.json").read_text(encoding="utf-8"))
    tables = spec["tables"]
    conn = adbc.connect(spec["database"], autocommit=True)
    cur = conn.cursor()
    try:
        # The automatic checkpoint would run inside COMMIT (0.7-0.8 s for a million records,
        # benchmarks/bench_sqlite_loader.py); it runs after the key is reported instead,
        # while the importer writes its snapshot. (Foreign keys stay checked: turning them
        # off gained nothing measurable there.)
        for pragma in ("PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 30000",
                       "PRAGMA synchronous = NORMAL", "PRAGMA wal_autocheckpoint = 0"):
            cur.execute(pragma)
        cur.execute("BEGIN IMMEDIATE")
        try:
            batch = dict(spec["batch"])
            sup = spec.get("supersede")
            if sup:
                cur.execute(f"UPDATE {tables['batch']} SET status = ?, superseded_at = ? "
                            "WHERE batch_id = ? AND status = ? RETURNING id",
                            (sup["new_status"], sup["at"], sup["batch_id"], sup["if_status"]))
                found = cur.fetchall()
                if not found:
                    raise LookupError(f"batch {sup['batch_id']} was superseded meanwhile")
                batch[sup["column"]] = int(found[0][0])
            names = list(batch)
            cur.execute(f"INSERT INTO {tables['batch']} ({', '.join(names)}) "
                        f"VALUES ({', '.join('?' * len(names))}) RETURNING id",
                        tuple(batch[n] for n in names))
            row = cur.fetchone()
            assert row is not None
            pk = int(row[0])
            for name in ("rejects", "issues"):  # three streams, one after the other
                cur.adbc_ingest(tables[name], _with_batch_id(records, pk), mode="append")
            seen = [0]
            cur.adbc_ingest(tables["records"], _with_batch_id(records, pk, seen), mode="append")
            if seen[0] != spec["records"]:
                raise RuntimeError(f"received {seen[0]} of {spec['records']} records: the "
                                   "importing process stopped sending")
            pause_in_transaction()
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        committed(pk)
        try:  # housekeeping: a later commit of any connection would do it otherwise
            cur.execute("PRAGMA wal_checkpoint(PASSIVE)")
            cur.fetchall()
        except Exception as exc:  # the batch is committed whatever happens here
            print(f"checkpoint after the import skipped: {exc}", file=sys.stderr)
    finally:
        cur.close()
        conn.close()
    return pk


def main(argv: list[str]) -> int:
    _die_with_parent()
    try:
        load(Path(argv[1]), sys.stdin.buffer, committed=lambda pk: print(pk, flush=True))
    except LookupError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_SUPERSEDED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
