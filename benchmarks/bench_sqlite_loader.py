"""The SQLite loader's settings, one at a time, on the same records (issue #2).

The import's loader (``tiplab_web.cases.bulkload``) writes a batch through ADBC with three
choices this benchmark measures on one stream of sealed records, as the importer sends it:

* ``fk``         — foreign keys checked per row (``PRAGMA foreign_keys = ON``) or not;
* ``checkpoint`` — SQLite's automatic WAL checkpoint left to run inside ``COMMIT``, or run
  after the key is reported (``wal_autocheckpoint = 0`` + ``wal_checkpoint(PASSIVE)``);
* ``page``       — 4 KiB (SQLite's default) or 8 KiB pages in a new database.

Each variant runs in a process of its own on a fresh copy of a migrated database and reports
the insert time, the ``COMMIT``, the checkpoint after it and the close. The records are made
once: the benchmark file of ``import_data.py``, validated and sealed by ``tiplab``.

Usage:
    .venv/bin/python benchmarks/bench_sqlite_loader.py --rows 1000000 [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: (name, foreign keys on, checkpoint inside COMMIT, page size)
VARIANTS = [
    ("previous: fk on, checkpoint in COMMIT, 4 KiB", True, True, 4096),
    ("fk off (tried, not kept)", False, True, 4096),
    ("fk on, checkpoint after COMMIT, 4 KiB", True, False, 4096),
    ("current: fk on, checkpoint after COMMIT, 8 KiB", True, False, 8192),
]


def prepare(work: Path, rows: int) -> None:
    """The records stream (as the importer sends it) and a migrated database per page size."""
    sys.path.insert(0, str(HERE))
    import import_data

    csv = work / "police.csv"
    import_data.write(csv, rows)
    os.environ["TIPLAB_DATA_DIR"] = str(work / "data")
    from tiplab.config import key_dir
    from tiplab.ingest import parse_profile
    from tiplab.ingest.pipeline import prepare_import
    from tiplab.keys import load_keyring
    from tiplab.records.protect import seal_chunks
    from tiplab.store import open_store

    store = open_store(work / "data")  # migrations; new files get 8 KiB pages (settings)
    from tiplab_web.cases.models import CaseRecord

    profile = parse_profile(csv.with_suffix(".profile.yaml").read_text(encoding="utf-8"))
    prepared = prepare_import(csv, profile, "Police")
    accepted = prepared.result.accepted
    with open(work / "records.arrow", "wb") as sink:
        store._stream_records(sink, seal_chunks(accepted, load_keyring(key_dir(store.data_dir))),
                              CaseRecord)
    (work / "count").write_text(str(accepted.num_rows))
    from django.db import connections

    connections.close_all()
    db = work / "data" / "tiplab.sqlite3"
    sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()  # schema in file
    for page in (4096, 8192):
        target = work / f"empty-{page}.sqlite3"
        shutil.copy(db, target)
        con = sqlite3.connect(target)
        con.execute("PRAGMA journal_mode = DELETE")  # page size changes only outside WAL
        con.execute(f"PRAGMA page_size = {page}")
        con.execute("VACUUM")
        con.execute("PRAGMA journal_mode = WAL")
        assert con.execute("PRAGMA page_size").fetchone()[0] == page
        con.close()


def run_variant(work: Path, fk: bool, in_commit: bool, page: int) -> dict[str, float]:
    import adbc_driver_sqlite.dbapi as adbc

    from tiplab_web.cases.bulkload import _with_batch_id

    d = Path(tempfile.mkdtemp(dir=work))
    db = d / "db.sqlite3"
    shutil.copy(work / f"empty-{page}.sqlite3", db)
    conn = adbc.connect(str(db), autocommit=True)
    cur = conn.cursor()
    pragmas = [f"PRAGMA foreign_keys = {'ON' if fk else 'OFF'}", "PRAGMA synchronous = NORMAL"]
    if not in_commit:
        pragmas.append("PRAGMA wal_autocheckpoint = 0")
    for p in pragmas:
        cur.execute(p)
    cur.execute("BEGIN IMMEDIATE")
    cur.execute("INSERT INTO cases_importbatch (batch_id, kind, source_agency, file_name, "
                "file_size, file_format, encoding, delimiter, sha256, profile_name, "
                "profile_sha256, profile_text, schema_version, tiplab_version, key_id, "
                "imported_by, imported_at, rows, accepted, rejected, warnings, censored, "
                "reasons, status, data_version) VALUES ('B-BENCH', 'case', 'Police', 'f', 0, "
                "'csv', '', '', '', '', '', '', '1', '0', '', 'bench', '2026-01-01', 0, 0, 0, "
                "0, 0, '{}', 'active', '') RETURNING id")
    pk = int(cur.fetchone()[0])
    t0 = time.perf_counter()
    with open(work / "records.arrow", "rb") as src:
        cur.adbc_ingest("cases_caserecord", _with_batch_id(src, pk), mode="append")
    t1 = time.perf_counter()
    cur.execute("COMMIT")
    t2 = time.perf_counter()
    if not in_commit:
        cur.execute("PRAGMA wal_checkpoint(PASSIVE)")
        cur.fetchall()
    t3 = time.perf_counter()
    cur.close()
    conn.close()
    t4 = time.perf_counter()
    size = sum(f.stat().st_size for f in d.iterdir()) / 1e6  # database (+ WAL, if left)
    n = sqlite3.connect(db).execute("SELECT count(*) FROM cases_caserecord").fetchone()[0]
    assert n == int((work / "count").read_text()), n
    shutil.rmtree(d)
    return {"insert": t1 - t0, "commit": t2 - t1, "checkpoint_after": t3 - t2,
            "close": t4 - t3, "to_commit": t2 - t0, "total": t4 - t0, "mb": size}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--variant", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant is not None:  # child process
        _, fk, in_commit, page = VARIANTS[args.variant]
        print(json.dumps(run_variant(Path(args.work), fk, in_commit, page)))
        return
    with tempfile.TemporaryDirectory(prefix="tiplab-bench-loader-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                        "import bench_sqlite_loader as b; from pathlib import Path; "
                        "b.prepare(Path(sys.argv[2]), int(sys.argv[3]))", str(HERE), str(work),
                        str(args.rows)], check=True,
                       env={**os.environ, "DJANGO_SETTINGS_MODULE": "tiplab_web.settings.dev"})
        count = int((work / "count").read_text())
        print(f"{count:,} sealed records prepared in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
        print(f"{'variant':50s} {'insert':>7s} {'COMMIT':>7s} {'ckpt after':>10s} "
              f"{'close':>6s} {'to COMMIT':>9s} {'total':>6s} {'MB':>5s}")
        for _ in range(args.repeat):
            for i, (name, *_rest) in enumerate(VARIANTS):
                out = subprocess.run([sys.executable, __file__, "--variant", str(i), "--work",
                                      str(work)], capture_output=True, text=True, check=False)
                if out.returncode != 0:
                    sys.exit(f"variant {name!r} failed: {out.stderr.strip()}")
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"{name:50s} {r['insert']:7.2f} {r['commit']:7.2f} "
                      f"{r['checkpoint_after']:10.2f} {r['close']:6.2f} {r['to_commit']:9.2f} "
                      f"{r['total']:6.2f} {r['mb']:5.0f}", flush=True)


if __name__ == "__main__":
    main()
