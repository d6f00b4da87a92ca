"""Time ``tiplab.simulate`` and measure its peak memory, one fresh process per size.

Usage::

    .venv/bin/python benchmarks/bench_simulate.py                    # 20k, 100k, 1M
    .venv/bin/python benchmarks/bench_simulate.py --sizes 20000 10000000
    .venv/bin/python benchmarks/bench_simulate.py --one 1000000      # a single run, JSON

Each size runs in its own Python process so that ``resource.getrusage`` reports that run's
peak resident memory. "simulate s" is the wall (and CPU) time of ``simulate()`` alone;
"process s" adds interpreter start-up and imports (large on machines where
PYTHONDONTWRITEBYTECODE is set, as every import is then compiled afresh).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one(victims: int, seed: int) -> dict[str, object]:
    t0 = time.perf_counter()
    from tiplab.simulate import SimulationSettings, simulate

    t_import = time.perf_counter() - t0
    out = Path(tempfile.mkdtemp(prefix="bench-sim-"))
    try:
        t1 = time.perf_counter()
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        result = simulate(SimulationSettings(seed=seed, victims=victims), out)
        t_sim = time.perf_counter() - t1
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "victims": victims,
        "seed": seed,
        "import_s": round(t_import, 2),
        "simulate_s": round(t_sim, 2),
        "simulate_cpu_s": round(cpu, 2),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "export_rows": sum(a.rows for a in result.agencies),
        "observed_persons": result.observed_persons,
        "output_mib": round(size / 2**20, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000, 1_000_000])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--one", type=int, help="run one size in this process; print JSON")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.seed)))
        return
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )
    print(f"# load average before: {os.getloadavg()[0]:.2f}")
    print(
        "| hidden N | export rows | seen persons | output MiB | simulate s (wall) "
        "| simulate s (CPU) | process s (wall) | peak RSS MiB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--seed", str(args.seed)],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - t0
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"| {n:,} | {r['export_rows']:,} | {r['observed_persons']:,} | "
            f"{r['output_mib']} | {r['simulate_s']} | {r['simulate_cpu_s']} | {wall:.1f} | "
            f"{r['peak_rss_mib']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
