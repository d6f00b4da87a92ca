"""Coverage of the 95% BCa interval (stepwise + bootstrap) on simulated data with known N.

Usage: .venv/bin/python benchmarks/mse_coverage.py [--nsim 200] [--nboot 200] [--seed 1]

Simulation: 4 lists, log-linear model with main effects (-1.2, -1.5, -1.0, -1.7) on the logit
scale and one positive interaction L1:L2 = 0.7; N = 2000. Each data set is estimated by the
stepwise method with a BCa bootstrap (selection repeated on every replicate).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit" / "estimation"))
from mse_helpers import simulate_table

from tiplab.estimation import estimate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nsim", type=int, default=200)
    ap.add_argument("--nboot", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    cover = cover_main = 0
    ratios = []
    for _ in range(args.nsim):
        table, n_true = simulate_table(2000, 4, {0b0011: 0.7}, [-1.2, -1.5, -1.0, -1.7], rng)
        r = estimate(table, "stepwise", nboot=args.nboot, seed=int(rng.integers(1 << 31)))
        cover += r.interval[0] <= n_true <= r.interval[1]
        m = estimate(table, "main", nboot=0)
        cover_main += m.interval[0] <= n_true <= m.interval[1]
        ratios.append(r.estimate / n_true)
    k = cover / args.nsim
    se = (k * (1 - k) / args.nsim) ** 0.5
    print(f"nsim={args.nsim} nboot={args.nboot} seed={args.seed}")
    print(f"stepwise BCa 95% coverage: {cover}/{args.nsim} = {k:.3f} (MC se {se:.3f})")
    print(f"main-effects log-normal 95% coverage (wrong model): {cover_main}/{args.nsim}")
    print(f"mean estimate / true N (stepwise): {np.mean(ratios):.3f}")
    print(f"time: {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
