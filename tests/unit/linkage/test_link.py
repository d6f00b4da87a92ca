"""End-to-end linkage in clear text: hand-built known cases and recovery of simulated truth."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from conftest import HAND_PAIRS
from tiplab.linkage import LinkageError, LinkInput, LinkResult, evaluate_clusters, link


def person_of(result: LinkResult) -> dict[tuple[str, str], str]:
    c = result.clusters.to_pydict()
    return {(s, r): p for s, r, p in zip(c["source"], c["record_id"], c["person_id"], strict=True)}


def _src(rid: str) -> str:
    return "hand_a" if rid.startswith("a") else "hand_b"


@pytest.mark.parametrize(("left", "right", "same"), HAND_PAIRS)
def test_hand_built_cases(clear_result: LinkResult, left: str, right: str, same: bool) -> None:
    """Transliteration (Mohammed/Muhammad, Cyrillic), day/month swap, name-order swap,
    partial date + same phone; and a namesake born 21 years apart."""
    pid = person_of(clear_result)
    assert (pid[(_src(left), left)] == pid[(_src(right), right)]) is same


def test_recovers_simulated_truth(clear_result: LinkResult, dataset) -> None:  # type: ignore[no-untyped-def]
    q = evaluate_clusters(clear_result.clusters, dataset.truth)
    assert q.records == dataset.truth.num_rows
    assert q.pairwise_f1 >= 0.95, q.to_text()
    assert q.pairwise_precision >= 0.97, q.to_text()


def test_person_table_shape(clear_result: LinkResult, dataset) -> None:  # type: ignore[no-untyped-def]
    p = clear_result.persons
    assert {
        "person_id",
        "sources",
        "n_records",
        "record_keys",
        "year",
        "region_of_exploitation",
        "exploitation_form",
    } <= set(p.column_names)
    assert pa.compute.sum(p.column("n_records")).as_py() == clear_result.n_records
    rows = p.to_pylist()
    for r in rows[:200]:
        assert r["sources"] == sorted(set(r["sources"]))
        assert len(r["record_keys"]) == r["n_records"]
        assert {k.split(":")[0] for k in r["record_keys"]} == set(r["sources"])
    # year is the first registration year of the person's records
    recs = clear_result.records.to_pydict()
    year_of = {
        f"{s}:{r}": y
        for s, r, y in zip(recs["source"], recs["record_id"], recs["attr_year"], strict=True)
    }
    for r in rows[:200]:
        ys = [year_of[k] for k in r["record_keys"] if year_of[k] is not None]
        assert r["year"] == (min(ys) if ys else None)


def test_outputs_written(clear_result: LinkResult, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    clear_result.write(tmp_path)
    c = pacsv.read_csv(tmp_path / "clusters.csv")
    assert c.column_names == ["source", "record_id", "person_id"]
    pairs = pq.read_table(tmp_path / "pairs.parquet")
    assert pairs.column_names[:6] == [
        "source_l",
        "record_id_l",
        "source_r",
        "record_id_r",
        "match_probability",
        "match_weight",
    ]
    assert {"mw_name", "mw_dob"} <= set(pairs.column_names)
    thr = json.loads((tmp_path / "threshold.json").read_text())
    assert thr["threshold"] == clear_result.threshold.threshold
    assert thr["reason"]
    summ = json.loads((tmp_path / "summary.json").read_text())
    assert summ["records"] == clear_result.n_records
    assert (tmp_path / "threshold.png").exists()
    assert (tmp_path / "model.json").exists()
    # no clear identifier in the written pairs
    assert not {"given_l", "family_l", "dob_l"} & set(pairs.column_names)


def test_text_rendering_states_the_threshold_reason(clear_result: LinkResult) -> None:
    txt = clear_result.to_text()
    assert f"threshold {clear_result.threshold.threshold:g}" in txt
    assert "estimated precision" in txt
    assert "chosen because" in txt


def test_mixed_clear_and_encoded_inputs_are_refused(encoded_inputs) -> None:  # type: ignore[no-untyped-def]
    clear = LinkInput("x", pa.table({"id": ["1"], "n": ["a"]}), "id", {"first_name": "n"})
    with pytest.raises(LinkageError, match="some inputs are encoded and some are clear"):
        link([clear, encoded_inputs[0]])


def test_duplicate_source_names_are_refused() -> None:
    t = pa.table({"id": ["1"], "n": ["a"]})
    with pytest.raises(LinkageError, match="two inputs are named 'x'"):
        link(
            [
                LinkInput("x", t, "id", {"first_name": "n"}),
                LinkInput("x", t, "id", {"first_name": "n"}),
            ]
        )


def test_record_ids_used_twice_are_reported(clear_result: LinkResult) -> None:
    import dataclasses

    assert clear_result.summary()["duplicate_record_ids"] == {}
    recs = clear_result.records
    src = recs.column("source").to_pylist()
    rid = recs.column("record_id").to_pylist()
    j = next(i for i in range(1, len(src)) if src[i] == src[0])
    rid[j] = rid[0]  # the export used one id for two rows
    dup = dataclasses.replace(
        clear_result,
        records=recs.set_column(recs.column_names.index("record_id"), "record_id", pa.array(rid)),
    )
    assert dup.summary()["duplicate_record_ids"] == {src[0]: 1}
    assert f"{src[0]}: 1 record id(s) are used by more than one row" in dup.to_text()
