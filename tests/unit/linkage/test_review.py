"""Review queue and decisions that later runs respect."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
from test_link import person_of

from tiplab.linkage import LinkResult, apply_decisions, link, review_queue
from tiplab.linkage.review import DECISION_SCHEMA


def _decision(pairs: list[tuple[str, str, str, str, str]]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "source_l": a,
                "record_id_l": b,
                "source_r": c,
                "record_id_r": d,
                "decision": e,
                "decided_by": "steward1",
                "decided_at": "2026-01-02T10:00:00",
            }
            for a, b, c, d, e in pairs
        ],
        schema=DECISION_SCHEMA,
    )


def test_review_queue_is_the_uncertain_band(clear_result: LinkResult) -> None:
    q = review_queue(clear_result)
    p = q.column("match_probability")
    assert q.num_rows > 0
    assert pc.min(p).as_py() >= 0.5
    assert pc.max(p).as_py() < 0.95
    expected = pc.sum(
        pc.and_(
            pc.greater_equal(clear_result.pairs["match_probability"], 0.5),
            pc.less(clear_result.pairs["match_probability"], 0.95),
        )
    ).as_py()
    assert q.num_rows == expected
    assert {"source_l", "record_id_l", "source_r", "record_id_r"} <= set(q.column_names)


def test_decisions_are_respected_and_leave_the_queue(clear_result: LinkResult) -> None:
    pid = person_of(clear_result)
    # forced non-match: a pair the model linked, alone in its cluster (in a larger cluster the
    # other links may keep the two together, which is reported as a conflict: see test_cluster.py);
    # the pair is chosen by key, not by the engine's row order, so the test is deterministic.
    size = Counter(pid.values())
    confident = clear_result.pairs.filter(
        pc.greater_equal(clear_result.pairs["match_probability"], 0.99)
    ).to_pylist()
    lk = min(
        (r["source_l"], r["record_id_l"], r["source_r"], r["record_id_r"])
        for r in confident
        if size[pid[(r["source_l"], r["record_id_l"])]] == 2
    )
    assert pid[lk[:2]] == pid[lk[2:]]
    apart = ("hand_a", "a2", "hand_a", "a3")
    assert pid[apart[:2]] != pid[apart[2:]]
    queued = review_queue(clear_result).slice(0, 1).to_pylist()[0]
    qk = (queued["source_l"], queued["record_id_l"], queued["source_r"], queued["record_id_r"])
    dec = _decision([(*lk, "non-match"), (*apart, "match"), (*qk, "non-match")])
    after = apply_decisions(clear_result, dec)
    pid2 = person_of(after)
    assert pid2[lk[:2]] != pid2[lk[2:]]
    assert pid2[apart[:2]] == pid2[apart[2:]]
    assert after.conflicts == []
    q2 = review_queue(after).to_pylist()
    assert all((r["source_l"], r["record_id_l"], r["source_r"], r["record_id_r"]) != qk for r in q2)
    assert len(q2) == review_queue(clear_result).num_rows - 1


def test_later_runs_respect_decisions(dataset) -> None:  # type: ignore[no-untyped-def]
    from factories import link_inputs

    from conftest import hand_inputs

    dec = _decision(
        [("hand_a", "a1", "hand_b", "b1", "non-match"), ("hand_a", "a2", "hand_b", "b4", "match")]
    )
    res = link([*link_inputs(dataset), *hand_inputs()], decisions=dec)  # type: ignore[list-item]
    pid = person_of(res)
    assert pid[("hand_a", "a1")] != pid[("hand_b", "b1")]
    assert pid[("hand_a", "a2")] == pid[("hand_b", "b4")]


def test_latest_decision_wins(clear_result: LinkResult) -> None:
    d1 = _decision([("hand_a", "a1", "hand_b", "b1", "non-match")])
    d2 = _decision([("hand_b", "b1", "hand_a", "a1", "match")]).set_column(
        6, "decided_at", pa.array(["2026-02-01T00:00:00"])
    )
    after = apply_decisions(apply_decisions(clear_result, d1), d2)
    pid = person_of(after)
    assert pid[("hand_a", "a1")] == pid[("hand_b", "b1")]
