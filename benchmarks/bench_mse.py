"""Timing of MSE on the UK 2013 tables (stepwise + 1000-replicate BCa bootstrap, BIC, ...).

Usage: .venv/bin/python benchmarks/bench_mse.py [--workers 2] [--only UK6]

Prints a Markdown table: wall seconds, CPU seconds of this process and its workers, and the
1-minute load average before each run (the machine is shared; a load above the number of
cores means the wall times are pessimistic).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import numpy as np

from tiplab.estimation import CaptureTable, bootstrap, estimate
from tiplab.estimation.api import Procedure

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mse"


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class RowByRow:
    """The stepwise procedure without its batched path: one table at a time, as before
    the bootstrap was batched (for comparison under the same machine load)."""

    def __init__(self, table: CaptureTable) -> None:
        self.proc = Procedure("stepwise", table.patterns, table.t)

    def __call__(self, counts: np.ndarray) -> float:
        return self.proc(counts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--only", default="", help="run only rows whose label contains this")
    args = ap.parse_args()
    uk6 = CaptureTable.from_csv(DATA / "uk2013_6lists.csv")
    uk5 = CaptureTable.from_csv(DATA / "uk2013_5lists.csv")
    runs = [
        ("UK6 stepwise, nboot=1000 (BCa + jackknife)", uk6, "stepwise", {"nboot": 1000}),
        ("UK6 stepwise, point only", uk6, "stepwise", {"nboot": 0}),
        ("UK6 main effects, nboot=1000", uk6, "main", {"nboot": 1000}),
        ("UK6 aic-stepwise + profile CI", uk6, "aic-stepwise", {"nboot": 0}),
        ("UK6 downhill (maxorder 2)", uk6, "downhill", {"nboot": 0}),
        ("UK5 bic maxorder 3 (6,212 models)", uk5, "bic", {"nboot": 0}),
        ("UK5 bic maxorder 2, top-100 bootstrap nboot=1000", uk5, "bic",
         {"nboot": 1000, "maxorder": 2}),
        ("UK6 rcapture-Mth-Chao + profile CI", uk6, "rcapture-Mth-Chao", {"nboot": 0}),
    ]
    if args.only == "rowbyrow":
        load1 = os.getloadavg()[0]
        c0, t0 = _cpu(), time.perf_counter()
        b = bootstrap(uk6.counts, RowByRow(uk6), nboot=1000, seed=1234,
                      alpha=(0.025, 0.975), workers=args.workers)
        dt, dc = time.perf_counter() - t0, _cpu() - c0
        print(f"| UK6 stepwise, nboot=1000, row by row (unbatched) | {args.workers} | "
              f"{b.point:,.1f} | {b.bca[0.025]:,.0f} - {b.bca[0.975]:,.0f} (BCa bootstrap) | "
              f"{dt:.2f} | {dc:.2f} | {load1:.1f} |")
        return
    print("| run | workers | estimate | 95% interval | wall s | CPU s | load before |")
    print("|---|---|---|---|---|---|---|")
    for label, tab, method, kw in runs:
        if args.only and args.only not in label:
            continue
        load1 = os.getloadavg()[0]
        c0, t0 = _cpu(), time.perf_counter()
        r = estimate(tab, method, seed=1234, workers=args.workers, **kw)
        dt, dc = time.perf_counter() - t0, _cpu() - c0
        lo, hi = r.interval
        print(f"| {label} | {args.workers} | {r.estimate:,.1f} | {lo:,.0f} - {hi:,.0f} "
              f"({r.interval_type}) | {dt:.2f} | {dc:.2f} | {load1:.1f} |", flush=True)


if __name__ == "__main__":
    main()
