"""Time each analysis page's query on a 1,000,000-record snapshot (warm, median of runs).

Usage: .venv/bin/python benchmarks/bench_analysis.py [--rows 1000000] [--runs 7]
                                                    [--unit records|persons]

Generates seeded synthetic case records with the schema's columns (vectorised), writes them as
a snapshot (4 batches, as after imports) and opens it with ``tiplab.engine.connect`` exactly as
the web pages do, then times trends, profiles, routes and hotspots. Queries that explode list
columns read flat tables that are materialised once per data version
(``tiplab.analysis.flat``); that one-off cost is timed separately ("first use" column: the
first call after a new import, flat-table build included). The warm columns are what every
later page computation costs (the web caches results per data version on top of that).

``--unit persons`` designates a seeded person map first (records grouped into persons of one
to four records, about 1.6 records per person, as a link run would) and times the queries on
the persons engine; the one-off build of the persons table is printed on its own line.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from tiplab.analysis import (
    HotspotSettings,
    ProfileSettings,
    RouteSettings,
    TrendSettings,
    emerging_hotspots,
    hotspots,
    load_denver,
    profiles,
    routes,
    trends,
)
from tiplab.analysis.synthetic import synthetic_cases, write_snapshot
from tiplab.engine import connect
from tiplab.privacy import DisclosureRule

DENVER = (Path(__file__).resolve().parents[2] / "shared" / "data" / "du_tip_directionality"
          / "Human_Traffic_data.csv")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--unit", choices=("records", "persons"), default="records")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tiplab-bench-analysis-"))
    t0 = time.perf_counter()
    table = synthetic_cases(args.rows, seed=1)
    write_snapshot(tmp, table, batches=4)
    gen = time.perf_counter() - t0
    cases = connect(tmp)
    build = None
    if args.unit == "persons":
        from tiplab.snapshot import designate_linkage

        rng = np.random.default_rng(2)
        sizes = rng.choice([1, 2, 3, 4], size=args.rows, p=[0.6, 0.25, 0.1, 0.05])
        person = np.repeat(np.arange(len(sizes)), sizes)[:args.rows]
        order = rng.permutation(args.rows)  # a person's records are spread over agencies
        designate_linkage(tmp, "bench", pa.table({
            "source_agency": table.column("source_agency"), "record_id": table.column(
                "record_id"), "person_id": pa.array([f"P{i}" for i in person[order]])}),
            data_version=cases.data_version, designated_by="bench")
        t1 = time.perf_counter()
        cases = connect(tmp, unit="persons")
        info = cases.unit_info()  # builds the persons table
        build = (time.perf_counter() - t1) * 1000, info
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
        "profiles (forms of exploitation, by sex)": lambda: profiles(
            cases, ProfileSettings(group="exploitation_forms", by=("sex",))),
        "routes (corridors, legs, hubs)": lambda: routes(cases, RouteSettings()),
        "routes (+ changes 2015-19 vs 2020-24)": lambda: routes(
            cases, RouteSettings(period_a=(2015, 2019), period_b=(2020, 2024))),
        "hotspots (Gi* + local Moran, 30 regions)": lambda: hotspots(
            cases, regions, adjacency, HotspotSettings(permutations=999)),
        "emerging hotspots (Gi* per year, 10 years)": lambda: emerging_hotspots(
            cases, regions, adjacency, HotspotSettings(permutations=999)),
    }
    if DENVER.exists():  # the real route coding (22,246 statements), read once (as the web
        denver = load_denver(DENVER)  # page does, per file version), protected
        jobs["routes, Denver coding, disclosure rule"] = lambda: routes(
            denver, RouteSettings(), protect=DisclosureRule())
    print(f"rows {args.rows:,}; generate + write snapshot {gen:.1f} s; runs {args.runs}; "
          f"unit {args.unit}")
    if build is not None:
        print(f"persons table: {build[1]['persons']:,} persons from {build[1]['records']:,} "
              f"records, built in {build[0]:.0f} ms")
    print("| query | first use ms | median ms | min ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for name, job in jobs.items():
        t1 = time.perf_counter()
        job()  # first use: imports, DuckDB's parquet metadata, flat tables built
        first = (time.perf_counter() - t1) * 1000
        times = []
        for _ in range(args.runs):
            t1 = time.perf_counter()
            job()
            times.append((time.perf_counter() - t1) * 1000)
        print(f"| {name} | {first:.0f} | {statistics.median(times):.0f} | "
              f"{min(times):.0f} | {max(times):.0f} |")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
