"""LCMCR and dga: time against pure-Python reference loops in the same run, and effective
samples per second.

Usage: .venv/bin/python benchmarks/bench_bayes.py [--repeats 3]

* LCMCR on the UK 6-list table (2,744 cases), one chain, K = 10: 10,000 sweeps after a 1,000
  sweep burn-in (and the package's 500 initialisation sweeps), kept every 10th. The reference
  is the same Gibbs sweep written with Python loops over patterns, classes and lists (as the
  package's C++ is written), timed on 300 sweeps and scaled to 11,500.
* dga on the UK 5-list table (822 graphs, the posterior on every integer where it has mass).
  The reference evaluates each graph's log marginal likelihood cell by cell with math.lgamma
  on 200 grid points and is scaled to the same grid.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mse"


def lcmcr_python(x: list[list[int]], freq: list[int], K: int, sweeps: int, seed: int) -> float:
    """One chain of the LCMCR sweep in plain Python; returns seconds per sweep."""
    rng = random.Random(seed)
    J, n = len(x[0]), sum(freq)
    lam = [[sum(f for row, f in zip(x, freq, strict=True) if row[j]) / n] * K
           for j in range(J)]
    nu = [1.0 / K] * K
    alpha, count0 = 0.3, [0] * K
    t0 = time.perf_counter()
    for _ in range(sweeps):
        z = [[0] * K for _ in x]
        for m, row in enumerate(x):
            w = [nu[k] * math.prod(lam[j][k] if row[j] else 1 - lam[j][k] for j in range(J))
                 for k in range(K)]
            for _i in range(freq[m]):
                z[m][rng.choices(range(K), weights=w)[0]] += 1
        for j in range(J):
            for k in range(K):
                ones = sum(z[m][k] for m, row in enumerate(x) if row[j])
                zeros = sum(z[m][k] for m, row in enumerate(x) if not row[j]) + count0[k]
                a, b = rng.gammavariate(1 + ones, 1), rng.gammavariate(1 + zeros, 1)
                lam[j][k] = min(max(a / (a + b), 1e-12), 1 - 1e-12)
        cnt = [sum(z[m][k] for m in range(len(x))) + count0[k] for k in range(K)]
        rest, acc = n + sum(count0), 1.0
        for k in range(K - 1):
            rest -= cnt[k]
            v = rng.betavariate(1 + cnt[k], alpha + rest)
            nu[k] = v * acc
            acc *= 1 - v
        nu[K - 1] = acc
        p0 = sum(nu[k] * math.prod(1 - lam[j][k] for j in range(J)) for k in range(K))
        n0 = int(np.random.default_rng(rng.randrange(2**32)).negative_binomial(n, 1 - p0))
        w0 = [nu[k] * math.prod(1 - lam[j][k] for j in range(J)) for k in range(K)]
        count0 = [0] * K
        for _i in range(n0):
            count0[rng.choices(range(K), weights=w0)[0]] += 1
        alpha = rng.gammavariate(0.25 + K - 1, 1 / (0.25 - math.log(max(nu[K - 1], 1e-300))))
    return (time.perf_counter() - t0) / sweeps


def dga_python(table, grid: list[float], delta: float) -> float:
    """Every graph's log posterior on ``grid``, cell by cell; seconds per (graph, point)."""
    from tiplab.estimation.dga import decomposable_graphs

    t = table.t
    y = [0.0] * (1 << t)
    for p, c in zip(table.patterns.tolist(), table.counts.tolist(), strict=True):
        y[p] = c
    graphs = decomposable_graphs(t)
    t0 = time.perf_counter()
    for g in graphs:
        for m in grid:
            yy = list(y)
            yy[0] = m
            total = sum(yy)

            def h(mask: int, yy: list[float] = yy, total: float = total) -> float:
                cells: dict[int, float] = {}
                for pat, v in enumerate(yy):
                    key = pat & mask
                    cells[key] = cells.get(key, 0.0) + v
                a = delta * 2 ** (t - bin(mask).count("1"))
                out = math.lgamma(delta * 2 ** t) - math.lgamma(total + delta * 2 ** t)
                return out + sum(math.lgamma(v + a) - math.lgamma(a) for v in cells.values())

            _ = sum(h(c) for c in g.cliques) - sum(h(s) for s in g.separators)
    return (time.perf_counter() - t0) / (len(graphs) * len(grid))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from tiplab.estimation import CaptureTable
    from tiplab.estimation.dga import dga
    from tiplab.estimation.lcmcr import LCMCRSettings, lcmcr

    uk6 = CaptureTable.from_csv(DATA / "uk2013_6lists.csv")
    keep = uk6.counts > 0
    x = [[int(b) for b in (int(p) >> np.arange(uk6.t)) & 1] for p in uk6.patterns[keep]]
    freq = [int(c) for c in uk6.counts[keep]]
    ours, ref, ess = [], [], []
    for r in range(args.repeats):
        res = lcmcr(uk6, LCMCRSettings(chains=1, burnin=1000, samples=1000, thin=10, seed=r))
        ours.append(res.seconds)
        ess.append(res.ess)
        ref.append(lcmcr_python(x, freq, 10, 300, r) * 11_500)
    print("| LCMCR, UK 6 lists, 1 chain, 10,000 sweeps kept every 10th (+1,500 burn-in) | s |")
    print("|---|---:|")
    print(f"| tiplab (NumPy, vectorised) | {statistics.median(ours):.1f} |")
    print(f"| pure-Python reference loop (300 sweeps timed, scaled) | "
          f"{statistics.median(ref):.0f} |")
    print(f"| effective draws of N (of 1,000 kept) | {statistics.median(ess):.0f} |")
    rate = statistics.median(ess) / statistics.median(ours)
    print(f"| effective draws per second | {rate:.1f} |")

    uk5 = CaptureTable.from_csv(DATA / "uk2013_5lists.csv")
    t_ours, t_ref = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        d = dga(uk5)
        t_ours.append(time.perf_counter() - t0)
        per = dga_python(uk5, [float(v) for v in np.linspace(0, 30 * uk5.n, 200)],
                         2.0 ** -5)
        t_ref.append(per * len(d.models) * d.n_total.size)
    print("\n| dga, UK 5 lists, 822 graphs | s |")
    print("|---|---:|")
    print(f"| tiplab (grid of {d.n_total.size:,} values of N) | {statistics.median(t_ours):.2f} |")
    print(f"| pure-Python reference, same grid (200 points timed, scaled) | "
          f"{statistics.median(t_ref):.0f} |")


if __name__ == "__main__":
    main()
