"""Differentially private count tables: accuracy, coverage and time against plain Laplace.

Usage: .venv/bin/python benchmarks/bench_dp.py [--victims 50000] [--runs 20] [--epsilon 1]
       [--splits 0.5,0.667,0.8,0.9] [--md /tmp/bench_dp.md]

A synthetic country (``tiplab.simulate``, seed 1) with known truth: the persons identified
by at least one agency (``truth/victims.parquet``, ``seen_any``; one row per person with her
region of exploitation, year of identification and form of exploitation) give the true
region × year × form table over the declared domains (every region of ``truth/regions.csv``,
every year of the period, all 12 HTCDS forms; one form per person, so k = 1). Each run
releases it twice at the same ε: ``dp_tables`` (total, one-way margins and cross table
measured, post-processed) and ``plain_laplace_table`` (the cross table with discrete
Laplace noise, no post-processing). Reported, averaged over the runs: mean absolute error of
the cells, of the one-way margins and of the total against the truth; the share of cells
(and margin cells) whose true value lies within the stated 95% error; seconds per release.
A split sweep shows the trade-off of the share of ε the cross table gets. The last line
times a 5-way table (40 × 10 × 12 × 6 × 9 = 259,200 cells).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

DIMS = ("region", "year", "form")


def _country(victims: int, out: Path) -> tuple[pa.Table, dict[str, tuple[str, ...]]]:
    from tiplab.privacy.dp import build_domains
    from tiplab.simulate import SimulationSettings, simulate

    res = simulate(SimulationSettings(seed=1, victims=victims), out)
    v = pq.read_table(out / "truth" / "victims.parquet").filter(pc.field("seen_any"))
    rows = pa.table({"person_id": pc.cast(v["true_id"], pa.string()),
                     "region": v["region_of_exploitation"],
                     "year": v["year"],
                     "form": v["exploitation_form"]})
    regions = pacsv.read_csv(out / "truth" / "regions.csv")["code"].to_pylist()
    s = res.settings
    return rows, build_domains(DIMS, years=(s.year_start, s.year_end), regions=regions)


def _scores(result: Any, truth: np.ndarray, shape: tuple[int, ...]) -> dict[str, float]:
    cells = np.asarray(result.table["count"].to_numpy(), np.float64)
    err = np.asarray(result.table["error"].to_numpy(), np.float64)
    cube, true = cells.reshape(shape), truth.reshape(shape)
    m_abs, m_cov = [], []
    for i, d in enumerate(DIMS):
        other = tuple(j for j in range(len(shape)) if j != i)
        rel = cube.sum(axis=other)
        t = true.sum(axis=other)
        m_abs.append(np.abs(rel - t).mean())
        m_err = np.asarray(result.margins[d]["error"].to_numpy(), np.float64)
        m_cov.append((np.abs(rel - t) <= m_err).mean())
    return {"cell_mae": float(np.abs(cells - truth).mean()),
            "cell_cov": float((np.abs(cells - truth) <= err).mean()),
            "cell_err": float(err.mean()),
            "margin_mae": float(np.mean(m_abs)), "margin_cov": float(np.mean(m_cov)),
            "total_abs": float(abs(cells.sum() - truth.sum())),
            "negative": float((cells < 0).mean())}


def _run(rows: pa.Table, doms: dict[str, tuple[str, ...]], epsilon: float, runs: int,
         split: list[float] | None) -> tuple[dict[str, float], dict[str, float]]:
    from tiplab.privacy.dp import dp_tables, plain_laplace_table

    shape = tuple(len(doms[d]) for d in DIMS)
    post: list[dict[str, float]] = []
    base: list[dict[str, float]] = []
    for _ in range(runs):
        t = time.perf_counter()
        r = dp_tables(rows, DIMS, epsilon=epsilon, domains=doms, split=split)
        post.append({**_scores(r, r.debug["true"], shape), "seconds": time.perf_counter() - t})
        t = time.perf_counter()
        b = plain_laplace_table(rows, DIMS, epsilon=epsilon, domains=doms)
        base.append({**_scores(b, b.debug["true"], shape), "seconds": time.perf_counter() - t})
    mean = lambda xs: {k: statistics.fmean(x[k] for x in xs) for k in xs[0]}  # noqa: E731
    return mean(post), mean(base)


def _five_way() -> tuple[tuple[float, float], tuple[float, float], int]:
    from tiplab.privacy.dp import build_domains, dp_tables, plain_laplace_table

    rng = np.random.default_rng(1)
    n = 50_000
    regions = [f"R{i:02d}" for i in range(40)]
    dims = ("region", "year", "form", "sex", "age_band")
    doms = build_domains(dims, years=(2015, 2024), regions=regions)
    rows = pa.table({
        "person_id": [f"p{i}" for i in range(n)],
        "region": rng.choice(regions, n, p=rng.dirichlet(np.ones(40))),
        "year": rng.integers(2015, 2025, n).astype(str),
        "form": rng.choice(doms["form"], n, p=rng.dirichlet(np.full(12, 0.5))),
        "sex": rng.choice(doms["sex"], n), "age_band": rng.choice(doms["age_band"], n)})
    t, c = time.perf_counter(), time.process_time()
    r = dp_tables(rows, dims, epsilon=1.0, domains=doms)
    post = (time.perf_counter() - t, time.process_time() - c)
    t, c = time.perf_counter(), time.process_time()
    plain_laplace_table(rows, dims, epsilon=1.0, domains=doms)
    return post, (time.perf_counter() - t, time.process_time() - c), r.table.num_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--victims", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--epsilon", type=float, default=1.0)
    parser.add_argument("--splits", default="0.5,0.8,0.9",
                        help="cross-table shares of ε for the sweep ('' for none)")
    parser.add_argument("--md", type=Path, default=None, help="also write markdown here")
    args = parser.parse_args()

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        rows, doms = _country(args.victims, Path(tmp))
        sim_s = time.perf_counter() - t
    shape = tuple(len(doms[d]) for d in DIMS)
    lines = [f"Synthetic country: {args.victims:,} victims (seed 1), {rows.num_rows:,} "
             f"identified persons; table {' × '.join(f'{s}' for s in shape)} = "
             f"{math.prod(shape):,} cells; ε = {args.epsilon:g}, {args.runs} runs each "
             f"(simulation {sim_s:.1f} s).", ""]
    header = ("| release | cross-table share of ε | cell MAE | one-way margin MAE | "
              "total abs. error | cells covered by 95% error | mean cell error | "
              "margins covered | negative cells | s per release |")
    lines += [header, "|" + "---|" * 10]

    def row(name: str, share: str, s: dict[str, float]) -> str:
        return (f"| {name} | {share} | {s['cell_mae']:.3f} | {s['margin_mae']:.1f} | "
                f"{s['total_abs']:.1f} | {100 * s['cell_cov']:.1f}% | {s['cell_err']:.2f} | "
                f"{100 * s['margin_cov']:.1f}% | {100 * s['negative']:.1f}% | "
                f"{s['seconds']:.3f} |")

    post, base = _run(rows, doms, args.epsilon, args.runs, None)
    lines.append(row("plain Laplace (baseline)", "1", base))
    lines.append(row("**dp_tables (default)**", "2/3", post))
    for share in [float(x) for x in args.splits.split(",") if x.strip()]:
        other = (1 - share) / 4
        p, _ = _run(rows, doms, args.epsilon, args.runs, [other] * 4 + [share])
        lines.append(row("dp_tables", f"{share:g}", p))
    gain = 1 - post["cell_mae"] / base["cell_mae"]
    lines += ["", f"Default post-processed vs plain Laplace: cell MAE {post['cell_mae']:.3f} vs "
              f"{base['cell_mae']:.3f} ({100 * gain:.0f}% lower), one-way margins "
              f"{post['margin_mae']:.1f} vs {base['margin_mae']:.1f}, total "
              f"{post['total_abs']:.1f} vs {base['total_abs']:.1f}."]
    five_post, five_base, cells = _five_way()
    lines.append(f"5-way table ({cells:,} cells, 50,000 persons), one run each, wall (CPU): "
                 f"dp_tables {five_post[0]:.2f} s ({five_post[1]:.2f} s), plain Laplace "
                 f"{five_base[0]:.2f} s ({five_base[1]:.2f} s); load average before the "
                 f"runs {load:.1f}.")
    text = "\n".join(lines)
    sys.stdout.write(text + "\n")
    if args.md:
        cmd = "`.venv/bin/python benchmarks/bench_dp.py " + " ".join(sys.argv[1:]) + "`"
        args.md.write_text("## Differentially private tables (`bench_dp.py`)\n\nCommand: "
                           + cmd + "\n\n" + text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
