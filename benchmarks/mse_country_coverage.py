"""Coverage of the 95% BCa interval on the synthetic country (issue #6), with perfect linkage.

For each seed, simulate the country (tiplab.simulate), take each true person's set of
agencies from ``truth/records.csv`` (linkage assumed perfect, so only estimation is tested),
estimate the hidden population by stepwise MSE with a BCa bootstrap, and count how often the
interval covers the true N. The simulator's capture model has heterogeneity and referral
dependence *on purpose* (docs/simulation.md), so this measures how MSE fares when its
assumptions are bent the way real agency data bends them.

Usage:
    .venv/bin/python benchmarks/mse_country_coverage.py --runs 200 --victims 5000 --nboot 200
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv


def one_run(seed: int, victims: int, nboot: int, method: str) -> dict[str, float]:
    from tiplab.estimation import CaptureTable, estimate
    from tiplab.simulate import SimulationSettings, simulate

    with tempfile.TemporaryDirectory(prefix="tiplab-cov-") as d:
        settings = SimulationSettings(seed=seed, victims=victims, defect_rate=0.0,
                                      duplicate_intake_rate=0.0)
        simulate(settings, d)
        truth = pacsv.read_csv(Path(d) / "truth" / "records.csv").to_pylist()
    seen: dict[str, set[str]] = {}
    for rec in truth:
        seen.setdefault(str(rec["true_id"]), set()).add(str(rec["source"]))
    persons = pa.table({"person_id": list(seen), "sources": [sorted(s) for s in seen.values()]})
    table = CaptureTable.from_person_table(persons).total()
    res = estimate(table, method, nboot=nboot, seed=seed).to_dict()
    low, high = res["interval"]
    return {"seed": seed, "true_n": victims, "observed": res["observed"],
            "estimate": res["estimate"], "low": low, "high": high,
            "covered": float(low <= victims <= high)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--victims", type=int, default=5000)
    ap.add_argument("--nboot", type=int, default=200)
    ap.add_argument("--method", default="stepwise")
    ap.add_argument("--first-seed", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = [one_run(s, args.victims, args.nboot, args.method)
            for s in range(args.first_seed, args.first_seed + args.runs)]
    covered = sum(r["covered"] for r in rows)
    rel = [r["estimate"] / r["true_n"] for r in rows]
    p = covered / len(rows)
    print(json.dumps({
        "runs": len(rows), "victims": args.victims, "nboot": args.nboot, "method": args.method,
        "covered": int(covered), "coverage": p,
        "coverage_se": math.sqrt(p * (1 - p) / len(rows)),
        "mean_estimate_over_true": statistics.fmean(rel),
        "median_observed_share": statistics.median(r["observed"] / r["true_n"] for r in rows),
        "seconds": round(time.perf_counter() - t0, 1)}, indent=1))


if __name__ == "__main__":
    main()
