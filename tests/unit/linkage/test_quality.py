"""Metrics counted from group sizes, checked against brute-force pair enumeration."""

import itertools

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiplab.linkage import evaluate_clusters


def _brute(pred: list[int], true: list[int]) -> tuple[float, float, float, float]:
    n = len(pred)
    pp = tp = tt = 0
    for i, j in itertools.combinations(range(n), 2):
        a, b = pred[i] == pred[j], true[i] == true[j]
        pp += a
        tt += b
        tp += a and b
    prec = tp / pp if pp else 1.0
    rec = tp / tt if tt else 1.0
    bp = np.mean(
        [
            sum(1 for j in range(n) if pred[j] == pred[i] and true[j] == true[i])
            / sum(1 for j in range(n) if pred[j] == pred[i])
            for i in range(n)
        ]
    )
    br = np.mean(
        [
            sum(1 for j in range(n) if pred[j] == pred[i] and true[j] == true[i])
            / sum(1 for j in range(n) if true[j] == true[i])
            for i in range(n)
        ]
    )
    return prec, rec, float(bp), float(br)


def _tables(pred: list[int], true: list[int]) -> tuple[pa.Table, pa.Table]:
    ids = [str(i) for i in range(len(pred))]
    c = pa.table(
        {"source": ["s"] * len(ids), "record_id": ids, "person_id": [f"p{x}" for x in pred]}
    )
    t = pa.table({"source": ["s"] * len(ids), "record_id": ids, "true_id": [f"t{x}" for x in true]})
    return c, t


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=2, max_size=25))
def test_matches_brute_force(pairs: list[tuple[int, int]]) -> None:
    pred = [p for p, _ in pairs]
    true = [t for _, t in pairs]
    q = evaluate_clusters(*_tables(pred, true))
    prec, rec, bp, br = _brute(pred, true)
    assert q.pairwise_precision == pytest.approx(prec)
    assert q.pairwise_recall == pytest.approx(rec)
    assert q.bcubed_precision == pytest.approx(bp)
    assert q.bcubed_recall == pytest.approx(br)


def test_adjusted_rand_matches_scikit_learn() -> None:
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    true = rng.integers(0, 40, 300).tolist()
    pred = [t if rng.random() < 0.8 else int(rng.integers(0, 60)) for t in true]
    q = evaluate_clusters(*_tables(pred, true))
    assert q.adjusted_rand_index == pytest.approx(sk.adjusted_rand_score(true, pred))


def test_perfect_clustering() -> None:
    q = evaluate_clusters(*_tables([1, 1, 2, 3], [7, 7, 8, 9]))
    assert (q.pairwise_f1, q.bcubed_f1, q.adjusted_rand_index) == (1.0, 1.0, 1.0)


def test_records_missing_from_truth_are_counted() -> None:
    c, t = _tables([1, 1, 2], [1, 1, 2])
    q = evaluate_clusters(c, t.slice(0, 2))
    assert q.records == 2
    assert q.records_without_truth == 1
