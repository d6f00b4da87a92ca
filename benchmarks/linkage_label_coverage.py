"""The label-based quality estimate on the simulated country, with the truth as reviewer.

    .venv/bin/tiplab simulate --seed 7 --victims 200000 --years 2015-2024 --out /tmp/sim7
    .venv/bin/tiplab link --roles /tmp/sim7/linkage_roles.yaml --out /tmp/l7 --json
    .venv/bin/python benchmarks/linkage_label_coverage.py /tmp/l7 /tmp/sim7 --samples 20

Draws ``--samples`` stratified samples of each size (``tiplab.linkage.sample``), labels each
pair from ``truth/records.csv`` and counts how often the interval covers the true pairwise
precision and recall of the clustering (``evaluate_clusters``; recall within the frame of
scored pairs is what the sample estimates, so the true recall reported is that too).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("run", type=Path, help="a `tiplab link --out` directory")
    ap.add_argument("sim", type=Path, help="the `tiplab simulate --out` directory")
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--sizes", default="200,1000")
    a = ap.parse_args()
    import pyarrow as pa

    from tiplab.linkage import evaluate_clusters
    from tiplab.linkage.io import read_table
    from tiplab.linkage.sample import (
        draw_sample,
        estimate_quality,
        label_from_truth,
        sampling_frame,
    )

    clusters = read_table(a.run / "clusters.csv")
    truth = read_table(a.sim / "truth" / "records.csv")
    frame = sampling_frame(clusters, read_table(a.run / "pairs.parquet"))
    true_p = evaluate_clusters(clusters, truth).pairwise_precision
    labelled_frame = label_from_truth(
        frame.append_column("label", pa.nulls(frame.num_rows, pa.string())), truth)
    is_match = np.asarray(labelled_frame.column("label").to_pylist()) == "match"
    linked = np.asarray(frame.column("linked").to_pylist(), dtype=bool)
    frame_recall = float((is_match & linked).sum() / max(is_match.sum(), 1))
    print(f"frame: {frame.num_rows:,} pairs; true pairwise precision {true_p:.4f}; "
          f"recall within the frame {frame_recall:.4f}")
    for size in (int(x) for x in a.sizes.split(",")):
        cover_p = cover_r = 0
        widths = []
        drawn = 0
        for seed in range(a.samples):
            sample = draw_sample(frame, size=size, seed=seed)
            q = estimate_quality(label_from_truth(sample.pairs, truth))
            drawn += sample.pairs.num_rows
            cover_p += q.precision_low <= true_p <= q.precision_high
            cover_r += q.recall_low <= frame_recall <= q.recall_high
            widths.append(q.precision_high - q.precision_low)
        print(f"size {size} (about {drawn / a.samples:.0f} pairs drawn): precision interval "
              f"covered {cover_p}/{a.samples}, recall {cover_r}/{a.samples}; mean width of "
              f"the precision interval {np.mean(widths):.3f}")


if __name__ == "__main__":
    sys.exit(main())
