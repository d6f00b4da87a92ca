"""How visible the synthetic country's victims are: the spread of each victim's probability of
being seen by at least one agency, 1 - prod(1 - p_agency) (referrals aside), from the truth.

Usage: .venv/bin/python benchmarks/visibility_spread.py [--seed 1] [--victims 5000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--victims", type=int, default=5000)
    args = ap.parse_args()
    from tiplab.simulate import SimulationSettings, simulate

    with tempfile.TemporaryDirectory() as d:
        simulate(SimulationSettings(seed=args.seed, victims=args.victims, defect_rate=0.0,
                                    duplicate_intake_rate=0.0), d)
        v = pq.read_table(Path(d) / "truth" / "victims.parquet").to_pandas()
    p = v[[c for c in v.columns if c.startswith("p_")]].to_numpy()
    seen_any = 1 - np.prod(1 - p, axis=1)
    q = np.quantile(seen_any, [0.1, 0.25, 0.5, 0.75, 0.9])
    print(f"victims {len(v):,}; seen by any agency {int(v['seen_any'].sum()):,} "
          f"({v['seen_any'].mean():.0%})")
    print("P(seen by any agency): " + ", ".join(
        f"{int(k * 100)}% quantile {x:.2f}" for k, x in zip((0.1, 0.25, 0.5, 0.75, 0.9), q,
                                                             strict=True)))
    for cut in (0.1, 0.2, 0.3):
        low = seen_any < cut
        print(f"below {cut:.1f}: {low.mean():.0%} of victims, of whom "
              f"{int(v['seen_any'][low].sum())} seen and {int((~v['seen_any'][low]).sum())} "
              "never seen")


if __name__ == "__main__":
    main()
