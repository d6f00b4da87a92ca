"""DP synthetic microdata (MST): marginal errors against the truth, baselines, time.

Usage: .venv/bin/python benchmarks/bench_synth.py [--victims 50000] [--runs 3]
       [--epsilons 0.5,1,2,4] [--delta 1e-7] [--population identified|all]
       [--time-rows 1000000] [--md PATH]

A synthetic country (``tiplab.simulate``, seed 1) with known truth. The persons table is
``truth/victims.parquet``: by default the persons identified by at least one agency
(``seen_any``, what case data would hold), one row per person, with 13 categorical
columns over public domains: region of exploitation (every region of
``truth/regions.csv``), year (the period), sex (the HTCDS gender codes), CTDC age band,
citizenship (the 250 ISO codes the importer accepts plus the simulated country's own),
form of exploitation (the 12 HTCDS codes; the simulator gives one form per person, i.e.
the primary form), recruiter relation, labour sector (21 ISIC sections plus "None") and
five means-of-control flags (``flag_columns``).

At each ε (δ fixed) each run makes three synthetic tables of the same size as the real one
(``n`` = the exact count, so that sampling error is the same for all three; a release would
use the noisy total) and scores their 1-, 2- and 3-way marginals against the real table
(mean and largest total variation distance over every set of columns: 13, 78 and 286 sets):

* ``mst``: :func:`tiplab.privacy.synth.synthesize` (tree, the budget split in thirds);
* ``independent``: the same budget on the 1-way marginals only, columns sampled
  independently (baseline i);
* ``bootstrap``: rows drawn with replacement from the real table, no privacy (baseline ii,
  the floor: the error sampling alone makes).

Also per run: seconds per synthesis (the first run at each ε includes finding ρ for (ε, δ))
and the unique-match share (synthetic records unique in the synthetic table whose
combination is also unique in the real table). Figures are means over the runs (the DP
noise is not seeded).

The disclosure table asks whether that share is more than chance: the persons are split at
random into halves A and B; MST synthesises |A| records from A alone, and its unique-match
share against A is set beside B's (other real persons of the same population: what chance
gives) and a bootstrap of A's (copying records).

The last line times one synthesis (ε = 1, warm) on the persons table repeated to
``--time-rows`` rows (time only; 0 skips it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

MEANS = ("DebtBondage", "FalsePromises", "PhysicalAbuse", "RestrictsMovement",
         "WithholdsDocuments")


def _persons(victims: int, out: Path, population: str
             ) -> tuple[pa.Table, dict[str, list[Any]], int]:
    from tiplab.privacy.synth import flag_columns
    from tiplab.records import codes
    from tiplab.records.countries import country_names
    from tiplab.simulate import SimulationSettings, simulate

    res = simulate(SimulationSettings(seed=1, victims=victims), out)
    v = pq.read_table(out / "truth" / "victims.parquet")
    if population == "identified":
        v = v.filter(pc.field("seen_any"))
    ages = [codes.age_band(a) for a in v["age_at_identification"].to_pylist()]
    t = pa.table({
        "person_id": v["true_id"], "region": v["region_of_exploitation"],
        "year": v["year"], "sex": v["sex"], "age_band": pa.array(ages, pa.string()),
        "citizenship": v["citizenship"], "form": v["exploitation_form"],
        "recruiter": v["recruiter_relation"],
        "labour_sector": pc.fill_null(v["labour_sector"], "None"),
        "means": v["means_of_control"],
    })
    t, flag_domains = flag_columns(t, "means", MEANS, prefix="control")
    s = res.settings
    domains: dict[str, list[Any]] = {
        "region": pacsv.read_csv(out / "truth" / "regions.csv")["code"].to_pylist(),
        "year": list(range(s.year_start, s.year_end + 1)),
        "sex": list(codes.GENDER),
        "age_band": list(codes.AGE_BANDS),
        "citizenship": sorted(set(country_names().values()) | {s.country_code}),
        "form": list(codes.EXPLOITATION_FORMS),
        "recruiter": list(codes.RECRUITER_RELATION),
        "labour_sector": [*codes.LABOUR_SECTORS, "None"],
        **{k: list(d) for k, d in flag_domains.items()},
    }
    return t, domains, res.true_n


def _score(real: pa.Table, syn: pa.Table, cols: list[str]) -> dict[str, float]:
    from tiplab.privacy.synth import marginal_utility, unique_matches

    u = marginal_utility(real, syn, cols, ways=(1, 2, 3))
    out = {}
    for k in (1, 2, 3):
        out[f"mean{k}"] = u[k].mean_tvd
        out[f"max{k}"] = u[k].max_tvd
    out["unique"] = unique_matches(real, syn, cols).share
    return out


def _fmt_row(label: str, eps: str, runs: list[dict[str, float]]) -> str:
    def m(k: str) -> float:
        return statistics.fmean(r[k] for r in runs)

    secs = f"{m('seconds'):.2f}" if "seconds" in runs[0] else "–"
    return (f"| {eps} | {label} | {m('mean1'):.4f} | {m('max1'):.4f} | {m('mean2'):.4f} | "
            f"{m('max2'):.4f} | {m('mean3'):.4f} | {m('max3'):.4f} | "
            f"{100 * m('unique'):.2f}% | {secs} |")


def _disclosure(real: pa.Table, domains: dict[str, list[Any]], cols: list[str],
                args: argparse.Namespace) -> list[str]:
    from tiplab.privacy.synth import synthesize, unique_matches

    rng = np.random.default_rng(2)
    perm = rng.permutation(real.num_rows)
    half = real.num_rows // 2
    a, b = real.take(pa.array(perm[:half])), real.take(pa.array(perm[half:2 * half]))
    boot = a.take(pa.array(rng.integers(0, half, half)))
    lines = [f"disclosure: unique-match share against half A ({half:,} persons); A has "
             f"{unique_matches(a, a, cols).real_unique:,} unique combinations",
             "", "| records compared with A | unique matches |", "|---|---:|",
             f"| half B: other persons, same population (chance) | "
             f"{100 * unique_matches(a, b, cols).share:.2f}% |",
             f"| bootstrap of A (copies) | {100 * unique_matches(a, boot, cols).share:.2f}% |"]
    for eps_s in args.epsilons.split(","):
        shares = [unique_matches(a, synthesize(a, domains, epsilon=float(eps_s),
                                               delta=args.delta, n=half, seed=r).table,
                                 cols).share for r in range(args.runs)]
        lines.append(f"| MST from A, ε = {eps_s} (mean of {args.runs}) | "
                     f"{100 * statistics.fmean(shares):.2f}% |")
    print("\n".join(lines), flush=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--victims", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--epsilons", default="0.5,1,2,4")
    ap.add_argument("--delta", type=float, default=1e-7)
    ap.add_argument("--population", choices=("identified", "all"), default="identified")
    ap.add_argument("--time-rows", type=int, default=1_000_000)
    ap.add_argument("--md", type=Path, default=None, help="also write the table here")
    args = ap.parse_args(argv)
    os.environ.setdefault("TIPLAB_DATA_DIR", tempfile.mkdtemp(prefix="bench-synth-"))

    from tiplab.privacy.synth import synthesize

    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        t0 = time.perf_counter()
        real, domains, true_n = _persons(args.victims, Path(tmp), args.population)
        sim_s = time.perf_counter() - t0
    cols = list(domains)
    n = real.num_rows
    lines = [f"synthetic country: {true_n:,} victims (seed 1), persons table: {n:,} rows "
             f"({args.population}), {len(cols)} columns, domain sizes "
             + ", ".join(f"{c} {len(domains[c])}" for c in cols)
             + f"; simulated in {sim_s:.1f} s",
             f"runs per cell: {args.runs}; δ = {args.delta:g}; TVD = total variation "
             "distance of the normalised marginals (mean and largest over all column sets)",
             "",
             "| ε | method | 1-way mean | 1-way max | 2-way mean | 2-way max | 3-way mean "
             "| 3-way max | unique matches | s / run |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    print("\n".join(lines), flush=True)

    rng = np.random.default_rng(1)
    boot = []
    for _ in range(args.runs):
        syn = real.take(pa.array(rng.integers(0, n, n)))
        boot.append(_score(real, syn, cols))
    row = _fmt_row("bootstrap (no privacy)", "–", boot)
    print(row, flush=True)
    lines.append(row)

    edges_seen: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for eps_s in args.epsilons.split(","):
        eps = float(eps_s)
        for structure in ("tree", "independent"):
            runs = []
            for r in range(args.runs):
                t0 = time.perf_counter()
                res = synthesize(real, domains, epsilon=eps, delta=args.delta, n=n,
                                 structure=structure, seed=r)
                secs = time.perf_counter() - t0
                runs.append({**_score(real, res.table, cols), "seconds": secs})
                for e in res.edges:
                    edges_seen[eps_s][e] += 1
            label = "mst" if structure == "tree" else "independent 1-ways"
            row = _fmt_row(label, eps_s, runs)
            print(row, flush=True)
            lines.append(row)
    lines.append("")
    lines += _disclosure(real, domains, cols, args)
    lines.append("")
    for eps_s, seen in edges_seen.items():
        top = sorted(seen.items(), key=lambda kv: -kv[1])[:6]
        line = (f"ε = {eps_s}: most frequent tree edges (of {args.runs} runs): "
                + "; ".join(f"{a}–{b} ×{k}" for (a, b), k in top))
        print(line)
        lines.append(line)
    if args.time_rows:
        reps = -(-args.time_rows // n)
        big = pa.concat_tables([real.drop_columns(["person_id"])] * reps).slice(
            0, args.time_rows)
        times = []
        for r in range(args.runs):
            t0 = time.perf_counter()
            synthesize(big, domains, epsilon=1.0, delta=args.delta, seed=r)
            times.append(time.perf_counter() - t0)
        line = (f"time at {big.num_rows:,} rows (the persons table repeated), ε = 1: "
                f"median {statistics.median(times):.2f} s, min {min(times):.2f} s, "
                f"max {max(times):.2f} s ({args.runs} runs)")
        print(line)
        lines.append(line)
    if args.md:
        args.md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
