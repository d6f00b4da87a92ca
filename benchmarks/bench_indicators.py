"""Time the computed National Action Plan indicators on a 1,000,000-record snapshot.

Usage: .venv/bin/python benchmarks/bench_indicators.py [--rows 1000000] [--runs 5]
                                                      [--unit records|persons]

Generates seeded synthetic case records with the schema's columns
(``tiplab.analysis.synthetic``), writes them as a snapshot of 4 case batches plus one batch of
GLOTIP-style aggregate statistics (one country, 2015-2024: totals, sex, age and form cells of
the four aggregate indicators), then times ``tiplab.policy.indicators.compute`` on a freshly
opened engine per run (``connect`` included, as a web request per data version would do):
every computed indicator, all years, with an estimate per year for the detection gap rate;
then the same with every disaggregation. "first" is the first call after the import (DuckDB
reads the Parquet metadata; the flat table of forms of exploitation is built once per data
version). ``--unit persons`` designates a seeded person map first (about 1.6 records per
person) and times the persons engine; the one-off persons table build is printed apart.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from tiplab.analysis.synthetic import synthetic_cases, write_snapshot
from tiplab.engine import connect
from tiplab.policy.indicators import DIMENSIONS, IndicatorValues, compute
from tiplab.snapshot import SnapshotBatch, open_snapshot, write_batch, write_manifest

YEARS = range(2015, 2025)
AGG_INDICATORS = ("Offences of trafficking in persons", "Persons brought into formal contact",
                  "Persons prosecuted", "Persons convicted")


def aggregates(seed: int = 5) -> pa.Table:
    """GLOTIP-shaped cells of one country: totals, by sex, by age and by form."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []

    def cell(ind: str, year: int, value: int, dim: str = "Total", cat: str = "Total",
             sex: str = "Total", age: str = "Total") -> None:
        censored = value < 5 and rng.random() < 0.5
        rows.append({"source_agency": "UNODC GLOTIP", "country": "XTL", "indicator": ind,
                     "dimension": dim, "category": cat, "sex": sex, "age_group": age,
                     "year": year, "unit": "Counts", "value": None if censored else value,
                     "value_low": 0 if censored else value,
                     "value_high": 4 if censored else value, "censored": censored})

    for ind in AGG_INDICATORS:
        for y in YEARS:
            total = int(rng.integers(40, 400))
            cell(ind, y, total)
            f = int(total * 0.3)
            cell(ind, y, f, sex="Female")
            cell(ind, y, total - f - 3, sex="Male")
            cell(ind, y, 3, sex="Unknown", age="Unknown")
            cell(ind, y, int(total * 0.1), age="0 to 17 years")
            cell(ind, y, total - int(total * 0.1), age="18 years or over")
            for cat, share in (("Sexual exploitation", 0.6), ("Forced labour", 0.3),
                               ("Other forms of exploitation", 0.1)):
                cell(ind, y, int(total * share), "by form of exploitation", cat)
    return pa.Table.from_pylist(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--unit", choices=("records", "persons"), default="records")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tiplab-bench-indicators-"))
    t0 = time.perf_counter()
    table = synthetic_cases(args.rows, seed=1)
    write_snapshot(tmp, table, batches=4)
    name = write_batch(tmp, "aggregate", "AGG000", aggregates())
    agg_rows = aggregates().num_rows
    batches = [*open_snapshot(tmp).batches,
               SnapshotBatch("AGG000", "aggregate", "UNODC GLOTIP", "0" * 64, agg_rows, name)]
    version = write_manifest(tmp, batches).data_version
    gen = time.perf_counter() - t0
    build = None
    if args.unit == "persons":
        from tiplab.snapshot import designate_linkage

        rng = np.random.default_rng(2)
        sizes = rng.choice([1, 2, 3, 4], size=args.rows, p=[0.6, 0.25, 0.1, 0.05])
        person = np.repeat(np.arange(len(sizes)), sizes)[:args.rows]
        order = rng.permutation(args.rows)
        designate_linkage(tmp, "bench", pa.table({
            "source_agency": table.column("source_agency"),
            "record_id": table.column("record_id"),
            "person_id": pa.array([f"P{i}" for i in person[order]])}),
            data_version=version, designated_by="bench")
        t1 = time.perf_counter()
        info = connect(tmp, unit="persons").unit_info()  # builds the persons table
        build = (time.perf_counter() - t1) * 1000, info
    estimates = {y: 30_000.0 for y in YEARS}
    jobs: dict[str, Callable[[], IndicatorValues]] = {
        "every computed indicator, all years": lambda: compute(
            connect(tmp, unit=args.unit), estimates=estimates, country="XTL"),
        "… and every disaggregation (6 dimensions)": lambda: compute(
            connect(tmp, unit=args.unit), estimates=estimates, country="XTL", by=DIMENSIONS),
    }
    print(f"rows {args.rows:,}; generate + write snapshot {gen:.1f} s; runs {args.runs}; "
          f"unit {args.unit}")
    if build is not None:
        print(f"persons table: {build[1]['persons']:,} persons from {build[1]['records']:,} "
              f"records, built in {build[0]:.0f} ms")
    print("| computation | values | first ms | median ms | min ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, job in jobs.items():
        t1 = time.perf_counter()
        result = job()
        first = (time.perf_counter() - t1) * 1000
        missing = result.reasons
        if missing:
            raise SystemExit(f"not computed: {missing}")
        times = []
        for _ in range(args.runs):
            t1 = time.perf_counter()
            job()
            times.append((time.perf_counter() - t1) * 1000)
        print(f"| {label} | {len(result.values):,} | {first:.0f} | "
              f"{statistics.median(times):.0f} | {min(times):.0f} | {max(times):.0f} |")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
