"""The effect of each linkage step on the simulated country, one seed at a time.

    .venv/bin/python benchmarks/linkage_steps.py --victims 200000 --seeds 7,42 --work /tmp/steps

Per seed: ``tiplab simulate`` (2015-2024, six agencies), then ``tiplab.linkage.link`` four
times on the same records, adding one step at a time:

1. ``components``: connected components of the pairs above the chosen threshold (the method
   before issue 23), no constraints, no agency comparison;
2. ``+ average linkage``: average linkage inside completed components;
3. ``+ constraints``: same agency with different documents / birth dates cannot link;
4. ``+ agency comparison``: the model compares whether two records share an agency (the
   default settings).

Each row: threshold chosen, pairwise P/R/F1, B-cubed F1, largest predicted cluster against
the largest true one, the model's estimated precision, link seconds (in-process).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

STEPS = [
    ("components", {"clustering": "components", "constraints": False, "agency_comparison": False}),
    (
        "+ average linkage",
        {"clustering": "average", "constraints": False, "agency_comparison": False},
    ),
    ("+ constraints", {"clustering": "average", "constraints": True, "agency_comparison": False}),
    ("+ agency comparison", {}),
]


def largest(table: object, column: str) -> int:
    import pyarrow.compute as pc

    counts = pc.value_counts(table.column(column))  # type: ignore[attr-defined]
    return int(pc.max(counts.field("counts")).as_py())


def run_seed(seed: int, victims: int, work: Path) -> list[dict[str, object]]:
    from tiplab.cli.link import _inputs
    from tiplab.linkage import LinkSettings, evaluate_clusters, link
    from tiplab.linkage.io import read_table

    sim = work / f"sim{seed}_{victims}"
    if not (sim / "linkage_roles.yaml").exists():
        subprocess.run(
            [
                str(ROOT / ".venv/bin/tiplab"),
                "simulate",
                "--seed",
                str(seed),
                "--victims",
                str(victims),
                "--years",
                "2015-2024",
                "--out",
                str(sim),
                "--json",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    truth = read_table(sim / "truth" / "records.csv")
    true_max = largest(truth, "true_id")
    rows = []
    for name, kw in STEPS:
        t = time.perf_counter()
        result = link(_inputs([], sim / "linkage_roles.yaml"), LinkSettings(**kw))
        secs = time.perf_counter() - t
        q = evaluate_clusters(result.clusters, truth)
        point = result.threshold.point()
        rows.append(
            {
                "seed": seed,
                "victims": victims,
                "records": result.n_records,
                "step": name,
                "threshold": result.threshold.threshold,
                "precision": q.pairwise_precision,
                "recall": q.pairwise_recall,
                "f1": q.pairwise_f1,
                "bcubed_f1": q.bcubed_f1,
                "largest": largest(result.clusters, "person_id"),
                "largest_true": true_max,
                "estimated_precision": point.precision if point else None,
                "seconds": round(secs, 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--victims", type=int, default=200_000)
    ap.add_argument("--seeds", default="7,42")
    ap.add_argument("--work", default="/tmp/tiplab-linkage-steps")
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for s in a.seeds.split(","):
        rows += run_seed(int(s), a.victims, work)
    print(
        "\n| seed | records | step | threshold | pairwise P | R | F1 | B-cubed F1 | largest "
        "(true) | estimated P | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        est = f"{r['estimated_precision']:.4f}" if r["estimated_precision"] is not None else "—"
        print(
            f"| {r['seed']} | {r['records']:,} | {r['step']} | {r['threshold']} | "
            f"{r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} | "
            f"{r['bcubed_f1']:.4f} | {r['largest']} ({r['largest_true']}) | {est} | "
            f"{r['seconds']} |"
        )


if __name__ == "__main__":
    sys.exit(main())
