"""Time each analysis page's query on a 1,000,000-record snapshot (warm, median of runs).

Usage: .venv/bin/python benchmarks/bench_analysis.py [--rows 1000000] [--runs 7]

Generates a seeded synthetic snapshot Parquet with the schema's columns (vectorised), opens it
with Ibis/DuckDB as the engine does, and times trends, profiles, routes and hotspots. The
trend/profile/route pages call their function with changepoints/forecasts off (the web page
asks for them on the displayed series only); a second trends line includes change points.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tiplab.analysis import (
    HotspotSettings,
    ProfileSettings,
    RouteSettings,
    TrendSettings,
    hotspots,
    profiles,
    routes,
    trends,
)
from tiplab.analysis.synthetic import synthetic_cases


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tiplab-bench-analysis-"))
    t0 = time.perf_counter()
    table = synthetic_cases(args.rows, seed=1)
    path = tmp / "cases.parquet"
    pq.write_table(table, path, compression="zstd")
    gen = time.perf_counter() - t0
    con = ibis.duckdb.connect()
    con.raw_sql("SET enable_progress_bar = false")
    cases = con.read_parquet(str(path))
    ids = [f"R-{i:02d}" for i in range(30)]
    side = np.arange(30).reshape(5, 6)
    edges = [(ids[a], ids[b]) for a, b in
             list(zip(side[:, :-1].ravel(), side[:, 1:].ravel(), strict=True))
             + list(zip(side[:-1].ravel(), side[1:].ravel(), strict=True))]
    adjacency = pa.table({"region_a": [a for a, _ in edges], "region_b": [b for _, b in edges]})
    regions = pa.table({"code": ids, "population": np.full(30, 500_000.0)})
    jobs = {
        "trends (year x exploitation form)": lambda: trends(
            cases, TrendSettings(by=("exploitation_forms",), changepoints=False)),
        "trends (year, change points + forecast)": lambda: trends(
            cases, TrendSettings(horizon=3)),
        "trends (month x sex)": lambda: trends(
            cases, TrendSettings(time="month", by=("sex",), changepoints=False)),
        "profiles (means of control x sex x age band)": lambda: profiles(
            cases, ProfileSettings(group="means_of_control", by=("sex", "age_band"))),
        "routes (corridors, legs, hubs)": lambda: routes(cases, RouteSettings()),
        "hotspots (Gi* + local Moran, 30 regions)": lambda: hotspots(
            cases, regions, adjacency, HotspotSettings(permutations=999)),
    }
    print(f"rows {args.rows:,}; generate + write parquet {gen:.1f} s; runs {args.runs}")
    print("| query | median ms | min ms | max ms |")
    print("|---|---:|---:|---:|")
    for name, job in jobs.items():
        job()  # warm-up: imports, DuckDB's parquet metadata
        times = []
        for _ in range(args.runs):
            t1 = time.perf_counter()
            job()
            times.append((time.perf_counter() - t1) * 1000)
        print(f"| {name} | {statistics.median(times):.0f} | {min(times):.0f} | "
              f"{max(times):.0f} |")


if __name__ == "__main__":
    main()
