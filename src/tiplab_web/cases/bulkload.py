"""Write one import batch into the SQLite system of record from a process of its own.

``python -m tiplab_web.cases.bulkload WORKDIR`` reads ``WORKDIR/batch.json`` (the database
file, the batch row, the batch to supersede) and the Arrow IPC streams ``records.arrow``,
``rejects.arrow`` and ``issues.arrow`` that :class:`tiplab_web.cases.store.DjangoCaseStore`
wrote, and inserts them through ADBC's SQLite driver, which binds Arrow columns in C instead of
one Python value at a time (three times faster for a million records, ``benchmarks/README.md``).

Why a process of its own: the ADBC driver links its own copy of SQLite. Two copies in one
process with the same database open break SQLite's POSIX locking (closing a file in one copy
drops the other's locks; sqlite.org/howtocorrupt.html, 2.2.1) — tried in-process, it
corrupted the demo database. Across processes the locks work as designed.

All of it is one ``BEGIN IMMEDIATE`` ... ``COMMIT``: the batch, its records, rejects and issues
land together or not at all. The process dies with its parent (``PR_SET_PDEATHSIG``), so a
killed import never commits later on its own. This module imports no Django: the child starts
in a fraction of a second.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pyarrow as pa

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


def _fault_point() -> None:
    """The atomicity test's pause inside the open transaction (see store._fault_point)."""
    marker = os.environ.get("TIPLAB_FAULT_PAUSE_IN_TRANSACTION")
    if marker:
        Path(marker).write_text("in transaction", encoding="utf-8")
        time.sleep(600)


def _with_batch_id(path: Path, batch_pk: int) -> pa.RecordBatchReader:
    reader = pa.ipc.open_stream(pa.memory_map(str(path)))
    schema = reader.schema.append(pa.field("batch_id", pa.int64()))

    def batches():  # type: ignore[no-untyped-def]
        for b in reader:
            yield pa.RecordBatch.from_arrays(
                [*b.columns, pa.repeat(pa.scalar(batch_pk, pa.int64()), b.num_rows)],
                schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def load(work: Path) -> int:
    """Run the transaction described in ``work``; return the new batch's primary key."""
    import adbc_driver_sqlite.dbapi as adbc

    spec = json.loads((work / "batch.json").read_text(encoding="utf-8"))
    tables = spec["tables"]
    conn = adbc.connect(spec["database"], autocommit=True)
    cur = conn.cursor()
    try:
        for pragma in ("PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 30000",
                       "PRAGMA synchronous = NORMAL"):
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
            for name in ("records", "rejects", "issues"):
                f = work / f"{name}.arrow"
                if f.exists():
                    cur.adbc_ingest(tables[name], _with_batch_id(f, pk), mode="append")
                if name == "rejects":
                    _fault_point()
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    finally:
        cur.close()
        conn.close()
    return pk


def main(argv: list[str]) -> int:
    _die_with_parent()
    try:
        pk = load(Path(argv[1]))
    except LookupError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_SUPERSEDED
    print(pk)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
