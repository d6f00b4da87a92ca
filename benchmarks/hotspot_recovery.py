"""How often hotspot detection finds the simulated country's true high-prevalence regions.

Usage: .venv/bin/python benchmarks/hotspot_recovery.py [--seeds 10] [--victims 20000]
       [--alpha 0.05] [--unit records|persons]

For each seed 1..N: ``tiplab simulate`` (default settings: 30 regions, 2015-2024, all six
agencies; truth/regions.csv marks the top fifth of regions by true prevalence as hotspots),
then the Hotspots page's analysis (Gi* on recorded cases per 100,000 residents, all years,
Benjamini-Hochberg at --alpha) via :func:`tiplab.analysis.recovery.hotspot_recovery`. Prints
per-seed results and, per flagging rule, the pooled recovery rate (true hotspots flagged / true
hotspots), false-hot rate (other regions flagged / other regions) and precision.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from tiplab.analysis.hotspots import HotspotSettings
from tiplab.analysis.recovery import RULES, hotspot_recovery, pooled
from tiplab.simulate import SimulationSettings, simulate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--victims", type=int, default=20_000)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--unit", choices=["records", "persons"], default="records")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tiplab-hotspot-recovery-"))
    results: dict[str, list] = {rule: [] for rule in RULES}
    print(f"victims {args.victims:,}; alpha {args.alpha}; unit {args.unit}")
    print("| seed | records | true hot | " + " | ".join(
        f"{rule}: recovered / flagged" for rule in RULES) + " |")
    print("|---:|---:|---:|" + "---:|" * len(RULES))
    try:
        for seed in range(1, args.seeds + 1):
            out = tmp / f"seed-{seed}"
            simulate(SimulationSettings(seed=seed, victims=args.victims), out)
            got = hotspot_recovery(out, settings=HotspotSettings(alpha=args.alpha),
                                   unit=args.unit)
            for rule in RULES:
                results[rule].append(got[rule])
            first = got[RULES[0]]
            print(f"| {seed} | {first.records:,} | {first.true_hot} | " + " | ".join(
                f"{got[r].recovered} / {got[r].flagged_hot}" for r in RULES) + " |")
            shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("| rule | recovery rate | per-seed range | false-hot rate | precision |")
    print("|---|---:|---:|---:|---:|")
    for rule in RULES:
        p = pooled(results[rule])
        print(f"| {rule} | {p['recovery_rate']:.0%} ({p['recovered']}/{p['true_hot']}) | "
              f"{p['recovery_min']:.0%}–{p['recovery_max']:.0%} | "
              f"{p['false_hot_rate']:.1%} | {p['precision']:.0%} |")


if __name__ == "__main__":
    main()
