"""Key rotation benchmark (issue #12, item 6): ``tiplab keys rotate`` on N imported records,
and, on the same data directory, ``tiplab backup`` and ``tiplab restore``.

Setup, not timed: N police-style records from ``import_data.py`` (names, date of birth,
passport and phone: every record has a sealed blob and three pseudonyms; ~1% of the rows are
rejected, their originals sealed too) imported by ``run_import`` into a fresh SQLite data
directory, or into a new PostgreSQL database with ``--database-url``.

Timed, each in a process of its own (so its peak memory is its own):

* ``rotate``  — ``tiplab.rotation.rotate_keys``: every record's identifiers re-sealed, every
  pseudonym recomputed, every rejected row re-sealed, in one transaction; then a check that
  a sample of records opens with the new keys only and carries the new keys' pseudonyms;
* ``backup``  — ``tiplab.backup.create_backup`` with the keys sealed (Argon2id costs included);
* ``restore`` — ``tiplab.backup.restore_backup`` into an empty directory (and database).

Usage:
    .venv/bin/python benchmarks/bench_rotate.py --rows 100000 [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PASSPHRASE = "benchmark passphrase, not a secret"


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def setup(work: Path, rows: int) -> dict[str, object]:
    sys.path.insert(0, str(HERE))
    from import_data import write
    from tiplab.ingest import parse_profile
    from tiplab.store import open_store, run_import

    csv = write(work / "cases.csv", rows)
    store = open_store(work / "data")
    batch, _ = run_import(store, csv, parse_profile(csv.with_suffix(".profile.yaml").read_text(
        encoding="utf-8")), "Police", user="bench")
    assert batch is not None
    return {"accepted": batch.accepted, "rejected": batch.rejected}


def stage_rotate(work: Path) -> dict[str, object]:
    from cryptography.exceptions import InvalidTag

    from tiplab.config import key_dir
    from tiplab.keys import read_keyring
    from tiplab.records.protect import pseudonym, unseal
    from tiplab.rotation import rotate_keys
    from tiplab.store import open_store

    store = open_store(work / "data")
    old = read_keyring(key_dir(store.data_dir))
    t0 = time.perf_counter()
    result = rotate_keys(store, by="bench")  # type: ignore[arg-type]
    seconds = time.perf_counter() - t0
    new = read_keyring(key_dir(store.data_dir))
    assert old is not None
    assert new is not None
    from tiplab_web.cases.models import CaseRecord

    sample = CaseRecord.objects.order_by("?")[:200]
    for rec in sample:
        ident = unseal(bytes(rec.identity_sealed), new, rec.source_agency, rec.record_id)
        assert rec.document_number_pseudonym == pseudonym(new.pseudonym_key, "document_number",
                                                          ident["document_number"])
        try:
            unseal(bytes(rec.identity_sealed), old, rec.source_agency, rec.record_id)
        except InvalidTag:
            continue
        raise AssertionError("a record still opens with the old key")
    return {"seconds": round(seconds, 2), "records": result.records, "rejects": result.rejects,
            "records_per_s": round(result.records / seconds), "peak_mb": _peak_mb()}


def stage_backup(work: Path) -> dict[str, object]:
    from tiplab.backup import create_backup
    from tiplab.store import open_store

    store = open_store(work / "data")
    t0 = time.perf_counter()
    result = create_backup(store, work / "backup.tar.zst", passphrase=PASSPHRASE)  # type: ignore[arg-type]
    return {"seconds": round(time.perf_counter() - t0, 2), "archive_mb": round(
        result.bytes / 2**20, 1), "peak_mb": _peak_mb()}


def stage_restore(work: Path) -> dict[str, object]:
    from tiplab.backup import restore_backup
    from tiplab.store import open_store

    t0 = time.perf_counter()
    result = restore_backup(work / "backup.tar.zst", work / "restored", passphrase=PASSPHRASE,
                            open_store=lambda d: open_store(d, migrate=False))
    return {"seconds": round(time.perf_counter() - t0, 2),
            "records": result.counts.get("cases_caserecord"), "peak_mb": _peak_mb()}


STAGES = {"rotate": stage_rotate, "backup": stage_backup, "restore": stage_restore}


def _child(stage: str, work: Path, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run([sys.executable, __file__, "--stage", stage, "--work", str(work)],
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{stage} failed:\n{done.stderr[-3000:]}")
    out: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--database-url", default="", help="a new, empty PostgreSQL database")
    ap.add_argument("--restore-url", default="", help="another empty one, for the restore")
    ap.add_argument("--stage", choices=[*STAGES, "setup"], help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:
        os.environ["TIPLAB_DATA_DIR"] = str(args.work / "data")
        result = setup(args.work, args.rows) if args.stage == "setup" else \
            STAGES[args.stage](args.work)
        print(json.dumps(result))
        return
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tiplab_web.settings.dev"}
    env.pop("TIPLAB_KEY_DIR", None)
    if args.database_url:
        env["TIPLAB_DATABASE_URL"] = args.database_url
    with tempfile.TemporaryDirectory(prefix="tiplab-bench-rotate-") as tmp:
        work = Path(tmp)
        report: dict[str, object] = {"rows": args.rows,
                                     "database": "postgresql" if args.database_url else "sqlite"}
        done = subprocess.run([sys.executable, __file__, "--stage", "setup", "--work",
                               str(work), "--rows", str(args.rows)], env=env,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"setup failed:\n{done.stderr[-3000:]}")
        report["imported"] = json.loads(done.stdout.strip().splitlines()[-1])
        for stage in STAGES:
            stage_env = dict(env)
            if stage == "restore":
                if args.database_url and not args.restore_url:
                    continue
                if args.restore_url:
                    stage_env["TIPLAB_DATABASE_URL"] = args.restore_url
            report[stage] = _child(stage, work, stage_env)
        print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
