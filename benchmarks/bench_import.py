"""Import benchmark (issue #2): case records from CSV into SQLite, end to end.

Runs three stages on the same file, each in its own process (so peak memory is its own):

* ``tiplab``  — `tiplab.store.run_import` into a fresh SQLite system of record: read, map,
  validate, seal identifiers, write records/rejects/issues in one transaction, write the
  snapshot. This is exactly what `tiplab import` does.
* ``naive``   — the baseline: pandas.read_csv + one pydantic model validated per row, then
  sqlite3 executemany of the accepted rows.
* ``floor``   — DuckDB's raw read_csv of the file (all text), the lower bound.

Usage:
    .venv/bin/python benchmarks/bench_import.py --rows 1000000 [--stages tiplab,naive,floor]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage_tiplab(csv: Path, work: Path) -> dict[str, object]:
    os.environ["TIPLAB_DATA_DIR"] = str(work / "data")
    from tiplab.ingest import parse_profile
    from tiplab.store import open_store, run_import

    profile = parse_profile(csv.with_suffix(".profile.yaml").read_text(encoding="utf-8"))
    store = open_store(work / "data")  # migrations happen here, outside the timing
    import threading

    import psutil

    marks: list[tuple[str, float]] = []
    peak_by_stage: dict[str, float] = {}
    done = threading.Event()

    loader_peak = [0.0]

    def children(proc: psutil.Process) -> list[psutil.Process]:
        """Direct children, from /proc/PID/task/*/children on Linux: psutil's children()
        reads every process's status, which every 50 ms cost the import a tenth of a core."""
        tasks = Path(f"/proc/{proc.pid}/task")
        if not tasks.is_dir():
            return list(proc.children())
        pids = set()
        for task in tasks.iterdir():
            try:
                pids.update(int(p) for p in (task / "children").read_text().split())
            except OSError:
                continue
        return [psutil.Process(p) for p in pids if psutil.pid_exists(p)]

    def sample() -> None:  # resident memory every 50 ms, kept per import stage
        proc = psutil.Process()
        while not done.wait(0.05):
            stage = marks[-1][0] if marks else "start"
            rss = proc.memory_info().rss / 2**20
            peak_by_stage[stage] = max(peak_by_stage.get(stage, 0.0), rss)
            for child in children(proc):  # the SQLite loader process (cases.bulkload)
                try:
                    child_rss = child.memory_info().rss / 2**20
                except psutil.Error:
                    continue
                loader_peak[0] = max(loader_peak[0], child_rss)

    def progress(stage: str, fraction: float) -> None:
        marks.append((stage, time.perf_counter()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    t0 = time.perf_counter()
    batch, _ = run_import(store, csv, profile, "Police", user="bench", progress=progress)
    elapsed = time.perf_counter() - t0
    done.set()
    sampler.join()
    assert batch is not None
    stages = {a[0]: round(b[1] - a[1], 2) for a, b in itertools.pairwise(marks)}
    # (not RUSAGE_CHILDREN: a forked child's peak counts the parent's pages before exec)
    return {"seconds": elapsed, "rows": batch.rows, "accepted": batch.accepted,
            "rejected": batch.rejected, "peak_mb": _peak_mb(),
            "loader_peak_mb": round(loader_peak[0]), "stages": stages,
            "peak_mb_by_stage": {k: round(v) for k, v in peak_by_stage.items()}}


def stage_naive(csv: Path, work: Path) -> dict[str, object]:
    import datetime as dt
    import sqlite3

    import pandas as pd
    from pydantic import BaseModel, ValidationError, field_validator

    from tiplab.records.countries import resolve_country

    sexes = {"M": "Masculine", "F": "Feminine", "X": "NonSpecifiedUnknown"}
    forms = {"sexual": "SexualExploitation", "labour": "ForcedLabour",
             "begging": "ForcedBegging", "criminality": "ForcedCriminality",
             "domestic": "Servitude"}

    class Case(BaseModel):
        record_id: str
        registration_date: dt.date
        birth_date: dt.date | None
        sex: str | None
        age: int | None
        citizenship: str | None
        exploitation_forms: list[str]

        @field_validator("registration_date", "birth_date", mode="before")
        @classmethod
        def _date(cls, v: object) -> object:
            if v is None or v == "":
                return None
            return dt.datetime.strptime(str(v), "%d.%m.%Y").date()

        @field_validator("sex", mode="before")
        @classmethod
        def _sex(cls, v: object) -> object:
            if v not in sexes:
                raise ValueError(f"unknown sex {v!r}")
            return sexes[str(v)]

        @field_validator("age")
        @classmethod
        def _age(cls, v: int | None) -> int | None:
            if v is not None and not 0 <= v <= 120:
                raise ValueError("age out of range")
            return v

        @field_validator("citizenship", mode="before")
        @classmethod
        def _country(cls, v: object) -> object:
            code = resolve_country(str(v)) if v else None
            if v and code is None:
                raise ValueError(f"unknown country {v!r}")
            return code

        @field_validator("exploitation_forms", mode="before")
        @classmethod
        def _forms(cls, v: object) -> object:
            return [forms[x] for x in str(v).split(",")] if v else []

    t0 = time.perf_counter()
    df = pd.read_csv(csv, sep=";", dtype=str, keep_default_na=False)
    accepted, rejected = [], []
    for i, rec in enumerate(df.to_dict("records")):
        try:
            c = Case(record_id=rec["Case No"], registration_date=rec["Registered"],
                     birth_date=rec["DOB"], sex=rec["Sex"], age=rec["Age"] or None,
                     citizenship=rec["Nationality"], exploitation_forms=rec["Exploitation"])
            accepted.append((c.record_id, c.registration_date.isoformat(),
                             c.sex, c.age, c.citizenship, json.dumps(c.exploitation_forms)))
        except (ValidationError, ValueError) as exc:
            rejected.append((i + 2, str(exc)))
    db = sqlite3.connect(work / "naive.sqlite3")
    db.execute("CREATE TABLE cases (record_id, registration_date, sex, age, citizenship, forms)")
    db.executemany("INSERT INTO cases VALUES (?,?,?,?,?,?)", accepted)
    db.commit()
    db.close()
    elapsed = time.perf_counter() - t0
    return {"seconds": elapsed, "rows": len(df), "accepted": len(accepted),
            "rejected": len(rejected), "peak_mb": _peak_mb()}


def stage_floor(csv: Path, work: Path) -> dict[str, object]:
    import duckdb

    con = duckdb.connect()
    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv}', all_varchar=true)")
    n = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    elapsed = time.perf_counter() - t0
    return {"seconds": elapsed, "rows": n, "peak_mb": _peak_mb()}


STAGES = {"tiplab": stage_tiplab, "naive": stage_naive, "floor": stage_floor}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--stages", default="floor,tiplab,naive")
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    ap.add_argument("--csv", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:  # child process
        print(json.dumps(STAGES[args.stage](Path(args.csv), Path(args.work))))
        return
    sys.path.insert(0, str(HERE))
    import import_data

    with tempfile.TemporaryDirectory(prefix="tiplab-bench-") as d:
        csv = Path(d) / "police.csv"
        t0 = time.perf_counter()
        import_data.write(csv, args.rows)
        print(f"generated {args.rows:,} rows ({csv.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
        results: dict[str, dict[str, object]] = {}
        for stage in args.stages.split(","):
            work = Path(d) / stage
            work.mkdir()
            out = subprocess.run([sys.executable, __file__, "--stage", stage, "--csv", str(csv),
                                  "--work", str(work)], capture_output=True, text=True,
                                 check=True)
            results[stage] = json.loads(out.stdout.strip().splitlines()[-1])
            r = results[stage]
            print(f"{stage:7s} {r['seconds']:8.2f} s  {args.rows / float(r['seconds']):>10,.0f} "  # type: ignore[arg-type]
                  f"rows/s  peak {r['peak_mb']:.0f} MB  {r.get('stages', '')} "
                  f"{r.get('peak_mb_by_stage', '')} loader {r.get('loader_peak_mb', '-')} MB",
                  file=sys.stderr)
        if "tiplab" in results:
            t = float(results["tiplab"]["seconds"])  # type: ignore[arg-type]
            for other in ("naive", "floor"):
                if other in results:
                    o = float(results[other]["seconds"])  # type: ignore[arg-type]
                    results["tiplab"][f"ratio_vs_{other}"] = o / t
        print(json.dumps({"rows": args.rows, "cpus": os.cpu_count(), "results": results},
                         indent=1))


if __name__ == "__main__":
    main()
