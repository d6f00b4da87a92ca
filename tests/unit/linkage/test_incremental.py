"""Incremental linkage equals a full relink within tolerance."""

from __future__ import annotations

import pyarrow as pa
import pytest
from factories import Dataset, make_dataset

from tiplab.linkage import (
    LinkageError,
    LinkInput,
    LinkSettings,
    evaluate_clusters,
    link,
    link_incremental,
)
from tiplab.linkage.roles import InputRoles


def _split(ds: Dataset, frac: float) -> tuple[list[LinkInput], list[LinkInput]]:
    old, new = [], []
    for s, t in ds.tables.items():
        spec = InputRoles.model_validate(ds.roles[s])
        cut = int(t.num_rows * frac)
        old.append(LinkInput.from_roles(s, spec, t.slice(0, cut)))
        new.append(LinkInput.from_roles(s, spec, t.slice(cut)))
    return old, new


@pytest.fixture(scope="module")
def runs() -> tuple[Dataset, object, object]:
    ds = make_dataset(1500, seed=23)
    old, new = _split(ds, 0.8)
    first = link(old, LinkSettings())
    inc = link_incremental(first, new)
    # the full relink uses the threshold the first run chose, so both cut at the same p
    settings = LinkSettings(threshold=first.threshold.threshold)
    full = link(
        [
            LinkInput(
                o.source,
                pa.concat_tables([o.arrow(), n.arrow()]),
                o.record_id,
                o.roles,
                o.date_formats,
                o.attributes,
            )
            for o, n in zip(old, new, strict=True)
        ],
        settings,
    )
    return ds, inc, full


def test_incremental_matches_full_relink(runs) -> None:  # type: ignore[no-untyped-def]
    ds, inc, full = runs
    assert inc.n_records == full.n_records == ds.truth.num_rows
    # the full relink's clusters as "truth" for the incremental ones
    as_truth = full.clusters.rename_columns(["source", "record_id", "true_id"])
    agreement = evaluate_clusters(inc.clusters, as_truth)
    assert agreement.pairwise_f1 >= 0.98, agreement.to_text()
    q_inc = evaluate_clusters(inc.clusters, ds.truth)
    q_full = evaluate_clusters(full.clusters, ds.truth)
    assert q_inc.pairwise_f1 >= q_full.pairwise_f1 - 0.02
    # 1,200 persons train a weaker model than the larger runs in test_link/benchmarks
    assert q_inc.pairwise_f1 >= 0.8


def test_existing_person_ids_are_kept(runs) -> None:  # type: ignore[no-untyped-def]
    ds, inc, _ = runs
    old, _ = _split(ds, 0.8)
    first = link(old, LinkSettings())
    before = dict(
        zip(
            zip(
                first.clusters.column("source").to_pylist(),
                first.clusters.column("record_id").to_pylist(),
                strict=True,
            ),
            first.clusters.column("person_id").to_pylist(),
            strict=True,
        )
    )
    after = dict(
        zip(
            zip(
                inc.clusters.column("source").to_pylist(),
                inc.clusters.column("record_id").to_pylist(),
                strict=True,
            ),
            inc.clusters.column("person_id").to_pylist(),
            strict=True,
        )
    )
    kept = sum(after[k] == v for k, v in before.items())
    merged = {m for mm in inc.merges for m in mm["merged_person_ids"]}  # type: ignore[attr-defined]
    changed = [k for k, v in before.items() if after[k] != v]
    assert all(before[k] in merged for k in changed)
    assert kept >= 0.99 * len(before)


def test_merges_through_a_new_record_are_reported() -> None:
    from conftest import hand_inputs

    base = make_dataset(600, seed=5)
    from factories import link_inputs

    ha, _hb = hand_inputs()
    first = link([*link_inputs(base), ha], LinkSettings(threshold=0.8))  # type: ignore[list-item]
    # a5 (Ioana Popescu 1971) and a new record carrying a3's phone and a5's dob... the new
    # record matches a3 by name+dob and a3/a5 stay apart before; now force a bridge record
    bridge = pa.table(
        {
            "id": ["n1"],
            "given": ["Ioana"],
            "family": ["Popescu"],
            "dob": ["1992-07-14"],
            "tel": ["0721555111"],
            "doc": [None],
        }
    )
    inc = link_incremental(
        first,
        [
            LinkInput(
                "hand_c",
                bridge,
                "id",
                {"first_name": "given", "last_name": "family", "birth_date": "dob", "phone": "tel"},
            )
        ],
    )
    pid = dict(
        zip(
            inc.clusters.column("record_id").to_pylist(),
            inc.clusters.column("person_id").to_pylist(),
            strict=True,
        )
    )
    assert pid["n1"] == pid["a3"]


def test_same_record_twice_is_refused(runs) -> None:  # type: ignore[no-untyped-def]
    ds, inc, _ = runs
    s = next(iter(ds.tables))
    spec = InputRoles.model_validate(ds.roles[s])
    with pytest.raises(LinkageError, match="already linked"):
        link_incremental(inc, [LinkInput.from_roles(s, spec, ds.tables[s].slice(0, 3))])


def test_a_stored_run_resumes_in_a_later_session_with_the_same_persons() -> None:
    """What the web's re-link does: the first run's identifier-free files (clusters, pairs
    without unique ids, model, threshold choice as JSON) and the old records read again give
    the same incremental result as the in-memory first run."""
    import json

    from tiplab.linkage import resume
    from tiplab.linkage.threshold import ThresholdChoice

    ds = make_dataset(600, seed=5)
    old, new = _split(ds, 0.75)
    first = link(old, LinkSettings())
    in_memory = link_incremental(first, new)
    stored_pairs = first.pairs.drop_columns(["unique_id_l", "unique_id_r"])
    threshold = ThresholdChoice.from_dict(json.loads(json.dumps(first.threshold.to_dict())))
    assert threshold.threshold == first.threshold.threshold
    assert len(threshold.points) == len(first.threshold.points)
    # the old records come back in another order, as a later read of the store may give them
    reread = [LinkInput(o.source, o.arrow().take(pa.array(range(o.arrow().num_rows - 1, -1, -1))),
                        o.record_id, o.roles, o.date_formats, o.attributes) for o in old]
    resumed = resume(reread, first.clusters, stored_pairs, json.loads(json.dumps(first.model)),
                     threshold, first.settings)
    later = link_incremental(resumed, new)

    def persons(result: object) -> dict[tuple[str, str], str]:
        c = result.clusters  # type: ignore[attr-defined]
        return dict(zip(zip(c.column("source").to_pylist(), c.column("record_id").to_pylist(),
                            strict=True), c.column("person_id").to_pylist(), strict=True))

    assert persons(later) == persons(in_memory)
    with pytest.raises(LinkageError, match="not those the previous run linked"):
        resume(new, first.clusters, stored_pairs, first.model, threshold, first.settings)


def test_set_bits_are_shared_by_stored_and_new_records() -> None:
    """The means of control are compared as bit masks over the codes in use; a new batch
    with a code the stored records never had must not shift the old records' bits (each
    side assigning its own bits made the same set compare as a different one)."""
    from factories import link_inputs

    from tiplab.linkage.link import with_set_bits

    def means_input(source: str, rows: list[tuple[str, str, str, str]]) -> LinkInput:
        ids, given, family, means = (list(c) for c in zip(*rows, strict=True))
        return LinkInput(
            source,
            pa.table({"id": ids, "given": given, "family": family, "means": means}),
            "id",
            {"first_name": "given", "last_name": "family", "means_of_control": "means"},
        )

    base = make_dataset(300, seed=5)
    old = means_input("outreach", [("m1", "Ana", "Lupu", "Threats|Debt bondage"),
                              ("m2", "Ion", "Rusu", "Threats")])
    first = link([*link_inputs(base), old], LinkSettings(threshold=0.8))  # type: ignore[list-item]
    # "abuse" sorts before both old codes: assigned on its own it would take bit 0
    new = means_input("helpdesk", [("h1", "Ana", "Lupu", "Debt bondage|Threats"),
                                  ("h2", "Eva", "Dinu", "Abuse")])
    inc = link_incremental(first, [new])
    std = inc.standardised
    assert std is not None
    rid = dict(zip(std.column("unique_id").to_pylist(), std.column("means_bits").to_pylist(),
                   strict=True))
    keys = dict(zip(zip(inc.records.column("source").to_pylist(),
                        inc.records.column("record_id").to_pylist(), strict=True),
                    inc.records.column("unique_id").to_pylist(), strict=True))
    assert rid[keys[("outreach", "m1")]] == rid[keys[("helpdesk", "h1")]] is not None
    assert rid[keys[("outreach", "m2")]] != rid[keys[("helpdesk", "h2")]]
    # and the helper itself: one assignment across tables, an old _bits column replaced
    a = pa.table({"means": ["x|y", None]})
    b = pa.table({"means": ["a", "x|y"], "means_bits": [7, 7]})
    a2, b2 = with_set_bits("means", a, b)
    assert a2.column("means_bits").to_pylist()[0] == b2.column("means_bits").to_pylist()[1]
    assert a2.column("means_bits").to_pylist()[1] is None
    assert b2.column("means_bits").to_pylist()[0] == 1  # "a" is the first code
