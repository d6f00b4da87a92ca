"""Detection gap on the synthetic country: time, and agreement with the truth.

Usage: .venv/bin/python benchmarks/bench_gap.py [--victims 20000] [--seed 42] [--nboot 200]

Simulates the country (as `make run` does), imports every agency's export into a snapshot,
designates the simulator's truth as the link run (a perfect linkage, so what is measured is
the estimation, not the linkage) and runs ``tiplab.analysis.gap.detection_gap``:

* **time** for 30 regions and for 30 regions x 6 forms, against a naive loop in the same run
  (filter the person table stratum by stratum in Python, build each capture table, estimate);
* **validation**: for the strata by region, how often the 95% interval of the estimated total
  covers the true total (truth/strata.csv), and the Spearman correlation of the estimated gap
  with the true number of victims no agency saw, over the strata the gap ranks.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
from scipy.stats import spearmanr

from tiplab.analysis.gap import GapSettings, detection_gap
from tiplab.engine import capture_persons, connect
from tiplab.estimation import CaptureTable, estimate
from tiplab.simulate import SimulationSettings, simulate
from tiplab.simulate.load import load_simulation


def country(victims: int, seed: int, root: Path) -> tuple[Path, Path]:
    sim, data = root / "sim", root / "data"
    simulate(SimulationSettings(seed=seed, victims=victims), sim)
    load_simulation(sim, data, designated_by="bench")
    return sim, data


def naive(persons: pa.Table, by: list[str], nboot: int, seed: int) -> int:
    """The obvious loop: one Python filter, one capture table, one estimate per stratum."""
    rows = persons.to_pylist()
    lists = sorted({s for r in rows for s in r["sources"]})
    groups: dict[tuple, Counter] = {}
    for r in rows:
        key = tuple(r[b] for b in by)
        pattern = "".join("1" if a in r["sources"] else "0" for a in lists)
        groups.setdefault(key, Counter())[pattern] += 1
    done = 0
    for counts in groups.values():
        matrix = [[int(c) for c in p] for p in counts]
        try:
            tab, _ = CaptureTable.from_matrix(lists, matrix, list(counts.values())
                                              ).remove_noninformative_lists()
            estimate(tab, "stepwise", nboot=nboot, seed=seed)
            done += 1
        except Exception:  # the naive loop skips what fails, as people do
            continue
    return done


def main() -> None:
    import logging

    logging.getLogger("tiplab").setLevel(logging.ERROR)  # per-stratum sparsity notes
    ap = argparse.ArgumentParser()
    ap.add_argument("--victims", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--nboot", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tiplab-bench-gap-") as tmp:
        t0 = time.perf_counter()
        sim, data = country(args.victims, args.seed, Path(tmp))
        persons = capture_persons(connect(data, unit="persons"))
        print(f"victims {args.victims:,} (seed {args.seed}); {persons.num_rows:,} persons "
              f"identified; set-up {time.perf_counter() - t0:.1f} s; nboot {args.nboot}")
        print("| strata | tiplab s | naive loop s |")
        print("|---|---:|---:|")
        results = {}
        for by in (["region_of_exploitation"], ["region_of_exploitation", "exploitation_form"]):
            t1 = time.perf_counter()
            results[tuple(by)] = detection_gap(persons, GapSettings(by=tuple(by),
                                                                    nboot=args.nboot))
            ours = time.perf_counter() - t1
            t1 = time.perf_counter()
            naive(persons, by, args.nboot, 1234)
            loop = time.perf_counter() - t1
            print(f"| {' x '.join(by)} ({results[tuple(by)].table.num_rows}) | {ours:.1f} | "
                  f"{loop:.1f} |")
        strata = pacsv.read_csv(sim / "truth" / "strata.csv").to_pandas()
        true_n = strata.groupby("region_of_exploitation")["n"].sum().to_dict()
        strata["hidden"] = strata["n"] - strata["n_seen"]
        true_hidden = strata.groupby("region_of_exploitation")["hidden"].sum().to_dict()
        rows = [r for r in results[("region_of_exploitation",)].table.to_pylist()
                if r["region_of_exploitation"] in true_n]
        covered = sum(r["estimate_low"] <= true_n[r["region_of_exploitation"]]
                      <= r["estimate_high"] for r in rows if r["estimate"] is not None)
        ranked = [r for r in rows if r["rank_gap"] is not None]
        rho = spearmanr([r["gap"] for r in ranked],
                        [true_hidden[r["region_of_exploitation"]] for r in ranked]).statistic
        ratio = sum(r["estimate"] for r in rows if r["estimate"] is not None) / sum(
            true_n[r["region_of_exploitation"]] for r in rows if r["estimate"] is not None)
        print(f"by region: interval covers the true total in {covered} of {len(rows)} regions; "
              f"Spearman(estimated gap, true hidden) = {rho:.2f} over {len(ranked)} ranked "
              f"regions; estimates sum to {ratio:.2f} of the truth")


if __name__ == "__main__":
    main()
