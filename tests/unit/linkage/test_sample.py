"""The labelled sample: frame, strata, allocation, and the interval's coverage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from tiplab.linkage import LinkageError
from tiplab.linkage.sample import (
    STRATA,
    draw_sample,
    estimate_quality,
    label_from_truth,
    read_sample,
    sampling_frame,
)


def _clusters() -> pa.Table:
    return pa.table(
        {
            "source": ["A", "A", "B", "C", "C"],
            "record_id": ["a1", "a2", "b1", "c1", "c2"],
            "person_id": ["p", "p", "p", "q", "r"],
        }
    )


def _pairs() -> pa.Table:
    # a1-a2 and a2-b1 scored; a1-b1 never scored (linked through a2); c1-c2 scored, apart;
    # b1-c1 scored low, apart
    return pa.table(
        {
            "source_l": ["A", "B", "C", "C"],
            "record_id_l": ["a1", "b1", "c1", "c1"],
            "source_r": ["A", "A", "C", "B"],
            "record_id_r": ["a2", "a2", "c2", "b1"],
            "match_probability": [0.995, 0.9, 0.6, 0.01],
        }
    )


def test_the_frame_holds_every_linked_pair_and_every_scored_pair_left_apart() -> None:
    f = sampling_frame(_clusters(), _pairs())
    rows = {
        (r["source_l"], r["record_id_l"], r["source_r"], r["record_id_r"]): r for r in f.to_pylist()
    }
    assert len(rows) == 5
    assert rows[("A", "a1", "A", "a2")]["stratum"] == "linked, p ≥ 0.99"
    assert rows[("A", "a2", "B", "b1")]["stratum"] == "linked, 0.8 ≤ p < 0.95"
    assert rows[("A", "a1", "B", "b1")]["stratum"] == "linked, never scored"
    assert rows[("A", "a1", "B", "b1")]["match_probability"] is None
    assert rows[("C", "c1", "C", "c2")]["stratum"] == "apart, p ≥ 0.5"
    assert rows[("B", "b1", "C", "c1")]["stratum"] == "apart, p < 0.05"
    assert [r["linked"] for r in f.to_pylist()].count(True) == 3


def test_a_record_id_used_twice_is_left_out() -> None:
    c = pa.concat_tables(
        [_clusters(), pa.table({"source": ["A"], "record_id": ["a1"], "person_id": ["z"]})]
    )
    f = sampling_frame(c, _pairs())
    assert all("a1" not in (r["record_id_l"], r["record_id_r"]) for r in f.to_pylist())


def test_allocation_reaches_every_stratum_and_is_reproducible() -> None:
    rng = np.random.default_rng(0)
    n = 5000
    p = rng.uniform(0, 1, n)
    frame = pa.table(
        {
            "source_l": ["A"] * n,
            "record_id_l": [str(i) for i in range(n)],
            "source_r": ["B"] * n,
            "record_id_r": [str(i) for i in range(n)],
            "match_probability": p,
            "linked": p > 0.5,
            "stratum": [
                next(
                    s[0]
                    for s in STRATA
                    if s[2] is not None and s[1] == (x > 0.5) and s[2] <= x < s[3]
                )
                for x in p
            ],
        }
    )
    a = draw_sample(frame, size=120, seed=3)
    b = draw_sample(frame, size=120, seed=3)
    assert a.pairs.equals(b.pairs)
    got = {s.name: s for s in a.strata}
    for s in got.values():
        if s.size:
            assert s.sampled >= min(10, s.size)
    assert a.pairs.num_rows >= 120 - len(STRATA)
    with pytest.raises(LinkageError, match="at least 1"):
        draw_sample(frame, size=0)


def _synthetic_sample(
    rng: np.random.Generator,
    sizes: list[int],
    matches: list[int],
    take: list[int],
    linked: list[bool],
) -> pa.Table:
    rows = []
    for h, (n_h, m_h, k, lk) in enumerate(zip(sizes, matches, take, linked, strict=True)):
        labels = np.zeros(n_h, bool)
        labels[:m_h] = True
        drawn = rng.choice(labels, size=k, replace=False)
        for x in drawn:
            rows.append(
                {
                    "stratum": STRATA[h][0],
                    "stratum_size": n_h,
                    "linked": lk,
                    "label": "match" if x else "non-match",
                }
            )
    return pa.Table.from_pylist(rows)


def test_the_interval_covers_the_true_precision_about_95_times_in_100() -> None:
    # known truth: five linked strata and four apart, match rates like a real linkage's
    sizes = [40000, 5000, 4000, 3000, 100, 2500, 4500, 13000, 50000]
    rates = [0.998, 0.97, 0.9, 0.7, 0.3, 0.3, 0.1, 0.02, 0.002]
    matches = [int(n * r) for n, r in zip(sizes, rates, strict=True)]
    linked = [True] * 5 + [False] * 4
    take = [60, 15, 15, 15, 10, 15, 15, 25, 30]
    true_p = sum(m for m, lk in zip(matches, linked, strict=True) if lk) / sum(
        n for n, lk in zip(sizes, linked, strict=True) if lk
    )
    true_r = sum(m for m, lk in zip(matches, linked, strict=True) if lk) / sum(matches)
    rng = np.random.default_rng(2024)
    reps = 300
    cover_p = cover_r = 0
    for i in range(reps):
        q = estimate_quality(
            _synthetic_sample(rng, sizes, matches, take, linked), draws=4000, seed=i
        )
        cover_p += q.precision_low <= true_p <= q.precision_high
        cover_r += q.recall_low <= true_r <= q.recall_high
    # 95% nominal; 300 replications give a binomial s.e. of 1.3 points
    assert cover_p / reps >= 0.90, cover_p / reps
    assert cover_r / reps >= 0.90, cover_r / reps


def test_unlabelled_strata_make_the_estimate_provisional_and_unsure_is_counted() -> None:
    t = pa.table(
        {
            "stratum": [STRATA[0][0], STRATA[0][0], STRATA[5][0]],
            "stratum_size": [100, 100, 50],
            "linked": [True, True, False],
            "label": ["match", "unsure", None],
        }
    )
    q = estimate_quality(t)
    assert q.provisional
    assert q.unsure == 1
    assert q.labelled == 1
    assert q.precision_low < q.precision <= q.precision_high
    with pytest.raises(LinkageError, match="unknown label"):
        estimate_quality(t.set_column(3, "label", pa.array(["yes", None, None])))
    with pytest.raises(LinkageError, match="lacks column"):
        estimate_quality(t.drop_columns(["stratum_size"]))


def test_truth_as_reviewer_on_the_simulator_covers_the_true_precision(tmp_path: Path) -> None:
    from tiplab.cli.link import _inputs
    from tiplab.linkage import LinkSettings, evaluate_clusters, link
    from tiplab.linkage.io import read_table
    from tiplab.simulate import SimulationSettings, simulate

    simulate(
        SimulationSettings.model_validate(
            {"seed": 11, "victims": 4000, "year_start": 2020, "year_end": 2024}
        ),
        tmp_path,
    )
    result = link(_inputs([], tmp_path / "linkage_roles.yaml"), LinkSettings())
    truth = read_table(tmp_path / "truth" / "records.csv")
    true_p = evaluate_clusters(result.clusters, truth).pairwise_precision
    sample = draw_sample(sampling_frame(result.clusters, result.pairs), size=200, seed=5)
    path = sample.write(tmp_path / "sample.csv")
    labelled = label_from_truth(read_sample(path), truth)
    q = estimate_quality(labelled)
    assert not q.provisional
    assert q.labelled == labelled.num_rows
    assert q.precision_low <= true_p <= q.precision_high, (q.to_text(), true_p)

