"""Regression: linkage quality on small seeded runs of the synthetic-country simulator.

The simulator (``tiplab.simulate``) injects realistic identifier noise — transliteration
variants, nicknames, name-order swaps, day/month swaps, missing birth dates (the hotline has
none, only an age), changed phones. Names follow a census's frequencies (the default) or, in
the stress setting ``short_lists``, come from short lists, so that namesakes are everywhere;
both are checked. The author's own generator (``factories.py``) is much easier.

Two seeds, so that a change tuned to one does not pass unnoticed. The floors are the figures
measured when this test was written (issue 23: average linkage over completed components,
same-agency constraints, the agency comparison, registration gaps in days), less a margin.
The full sweep (8 random seeds at 200k victims, 3 at 1M) is
``benchmarks/bench_linkage_sweep.py``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pytest

#: seed -> (pairwise F1, B-cubed F1) measured at 4,000 victims, 2020-2024 (2026-12-04):
#: seed 7: P 0.995 R 0.983 F1 0.989, B-cubed 0.996; seed 3: P 0.982 R 0.976 F1 0.979,
#: B-cubed 0.994 (its largest cluster, 7 records, joins two namesakes born the same year in
#: the same region and month: the identifiers do not tell them apart). With the case
#: characteristics compared (2026-12-05, commit 03a0e59): seed 7 P 0.998 R 0.989 F1 0.994,
#: B-cubed 0.997; seed 3 P 0.979 R 0.986 F1 0.982, B-cubed 0.995, estimated precision 0.996
#: on both (seed 3's gap, 0.017, is the closest to the 0.02 bound). Those runs drew names
#: from the short lists (now ``name_frequencies="short_lists"``, the same exports). With the
#: census-like names (2026-12-05, commit 74ac640): seed 7 P 1.000 R 0.989 F1 0.995, B-cubed
#: 0.998; seed 3 P 1.000 R 0.977 F1 0.988, B-cubed 0.995; estimated precision 0.998 on both.
#: With the generated names' native-script forms (2026-12-05, commit 2cddcaf): seed 7 P 1.000
#: R 0.989 F1 0.995, B-cubed 0.998; seed 3 P 1.000 R 0.981 F1 0.990, B-cubed 0.996; estimated
#: precision 0.998 on both.
#: The floors are the same for both kinds of names.
MEASURED = {7: (0.994, 0.997), 3: (0.982, 0.995)}
F1_FLOOR = 0.96
BCUBED_FLOOR = 0.985


@pytest.mark.parametrize("names", ["census", "short_lists"])
@pytest.mark.parametrize("seed", sorted(MEASURED))
def test_simulated_country_quality(tmp_path: Path, seed: int, names: str) -> None:
    from tiplab.cli.link import _inputs
    from tiplab.linkage import LinkSettings, evaluate_clusters, link
    from tiplab.linkage.io import read_table
    from tiplab.simulate import SimulationSettings, simulate

    settings = SimulationSettings.model_validate(
        {
            "seed": seed,
            "victims": 4000,
            "year_start": 2020,
            "year_end": 2024,
            "name_frequencies": names,
        }
    )
    simulate(settings, tmp_path)
    result = link(_inputs([], tmp_path / "linkage_roles.yaml"), LinkSettings())
    truth = read_table(tmp_path / "truth" / "records.csv")
    quality = evaluate_clusters(result.clusters, truth)
    assert quality.records_without_truth == 0
    assert quality.pairwise_f1 >= F1_FLOOR, quality.to_text()
    assert quality.bcubed_f1 >= BCUBED_FLOOR, quality.to_text()
    # the model's own precision estimate is close to the truth (the target: 0.02)
    point = result.threshold.point()
    assert point is not None
    assert abs(point.precision - quality.pairwise_precision) <= 0.02, (
        point.precision,
        quality.pairwise_precision,
    )
    # clusters are bounded: nothing like the 16-record chains connected components made
    largest = pc.max(pc.value_counts(result.clusters.column("person_id")).field("counts"))
    true_largest = pc.max(pc.value_counts(truth.column("true_id")).field("counts"))
    assert largest.as_py() <= 2 * true_largest.as_py()
