"""Persons as the unit of analysis: a designated link run turns records into persons.

The decisive check runs on the synthetic country: with the simulator's truth as the link run
(a perfect linkage), persons counted by year of first registration equal the truth's seen
victims, and their total equals the number of victims any agency saw (truth/victims.parquet).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tiplab.analysis.trends import TrendSettings, trends
from tiplab.engine import UnitError, connect
from tiplab.simulate import SimulationSettings, simulate
from tiplab.simulate.load import load_simulation
from tiplab.snapshot import (
    SnapshotBatch,
    SnapshotError,
    clear_linkage,
    designate_linkage,
    open_snapshot,
    write_batch,
    write_manifest,
)


def _batch(tmp: Path, batch_id: str, agency: str,
           rows: list[tuple[str, str, str]]) -> SnapshotBatch:
    table = pa.table({
        "source_agency": [agency] * len(rows),
        "record_id": [r[0] for r in rows],
        "registration_date": [dt.date.fromisoformat(r[1]) for r in rows],
        "region_of_exploitation": [r[2] for r in rows],
        "exploitation_forms": [["sexual"] for _ in rows],
    })
    name = write_batch(tmp, "case", batch_id, table)
    return SnapshotBatch(batch_id, "case", agency, batch_id * 8, len(rows), name)


@pytest.fixture
def two_agencies(tmp_path: Path) -> Path:
    police = _batch(tmp_path, "B1", "police", [("p1", "2020-03-01", "North"),
                                               ("p2", "2021-05-01", "South")])
    ngo = _batch(tmp_path, "B2", "ngo", [("n1", "2019-12-30", "East"),  # same person as p1
                                        ("n2", "2021-06-01", "South")])  # same person as p2
    write_manifest(tmp_path, [police, ngo])
    return tmp_path


def _map(rows: list[tuple[str, str, str]]) -> pa.Table:
    return pa.table({"source": [r[0] for r in rows], "record_id": [r[1] for r in rows],
                     "person_id": [r[2] for r in rows]})


def test_records_are_the_unit_until_a_link_run_is_designated(two_agencies: Path) -> None:
    engine = connect(two_agencies, unit="auto")
    assert engine.unit == "records"
    assert engine.unit_info() == {"unit": "records"}
    with pytest.raises(UnitError, match="no link run is designated"):
        engine.for_unit("persons")
    r = trends(engine, TrendSettings(changepoints=False))
    assert r.unit == {"unit": "records"}
    assert r.table.column("value").to_pylist() == [1, 1, 2]  # 2019, 2020, 2021


def test_a_person_counts_once_with_her_first_record(two_agencies: Path) -> None:
    snap = open_snapshot(two_agencies)
    designate_linkage(two_agencies, 7, _map([("police", "p1", "A"), ("ngo", "n1", "A"),
                                             ("police", "p2", "B"), ("ngo", "n2", "B")]),
                      data_version=snap.data_version, designated_by="steward")
    engine = connect(two_agencies, unit="auto")
    assert engine.unit == "persons"
    info = engine.unit_info()
    assert info == {"unit": "persons", "link_run": "7", "link_data_version": snap.data_version,
                    "stale": False, "persons": 2, "records": 4, "records_not_linked": 0}
    people = engine.to_arrow(engine.cases.order_by("person_id")).to_pylist()
    # the first record (earliest registration) gives the person's year, region and agency
    assert [(p["person_id"], p["record_id"], p["region_of_exploitation"], p["person_records"])
            for p in people] == [("A", "n1", "East", 2), ("B", "p2", "South", 2)]
    r = trends(engine, TrendSettings(changepoints=False))
    assert dict(zip(r.table.column("year").to_pylist(), r.table.column("value").to_pylist(),
                    strict=True)) == {2019: 1, 2020: 0, 2021: 1}
    assert r.counts_persons
    assert r.to_dict()["unit"]["link_run"] == "7"
    assert "persons (link run 7)" in r.to_text()
    # the records engine on the same connection still counts records
    recs = engine.for_unit("records")
    assert trends(recs, TrendSettings(changepoints=False)).table.column(
        "value").to_pylist() == [1, 1, 2]
    # list columns explode from the persons' own flat table
    by_form = trends(engine, TrendSettings(by=("exploitation_forms",), changepoints=False))
    assert sum(by_form.table.column("value").to_pylist()) == 2


def test_records_imported_after_the_run_count_as_their_own_persons(two_agencies: Path) -> None:
    snap = open_snapshot(two_agencies)
    designate_linkage(two_agencies, 3, _map([("police", "p1", "A"), ("ngo", "n1", "A")]),
                      data_version=snap.data_version, designated_by="steward")
    hotline = _batch(two_agencies, "B3", "hotline", [("h1", "2022-01-01", "West")])
    write_manifest(two_agencies, [*snap.batches, hotline])
    engine = connect(two_agencies, unit="persons")
    info = engine.unit_info()
    assert info["stale"] is True
    assert (info["persons"], info["records"], info["records_not_linked"]) == (4, 5, 3)
    assert "records not linked" in trends(engine, TrendSettings(changepoints=False)).unit_text()
    clear_linkage(two_agencies)
    assert connect(two_agencies, unit="auto").unit == "records"


@pytest.mark.parametrize(("bad", "message"), [
    (pa.table({"source": ["police"], "record_id": ["p1"]}), "no column"),
    (_map([("police", "p1", "A"), ("police", "p1", "B")]), "more than once"),
    (pa.table({"source": ["police"], "record_id": ["p1"], "person_id": pa.array([None],
                                                                                pa.string())}),
     "empty person_id"),
])
def test_a_bad_person_map_is_refused_and_the_designation_kept(
        two_agencies: Path, bad: pa.Table, message: str) -> None:
    designate_linkage(two_agencies, 1, _map([("police", "p1", "A")]), data_version="x",
                      designated_by="s")
    with pytest.raises(SnapshotError, match=message):
        designate_linkage(two_agencies, 2, bad, data_version="x", designated_by="s")
    linkage = open_snapshot(two_agencies).linkage
    assert linkage is not None
    assert linkage.run == "1"


# -- the synthetic country, with the truth as a perfect link run ----------------------------

@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sim = tmp_path_factory.mktemp("sim")
    simulate(SimulationSettings(seed=5, victims=4_000, defect_rate=0.0), sim)
    data = tmp_path_factory.mktemp("data")
    loaded = load_simulation(sim, data, designated_by="test")
    assert sum(loaded.rejected.values()) == 0, loaded.rejected
    truth = loaded.truth
    pq.write_table(truth, data / "truth.parquet")
    pq.write_table(pq.read_table(sim / "truth" / "victims.parquet", columns=["seen_any"]),
                   data / "victims.parquet")
    return data


def test_persons_by_year_equal_the_truths_seen_victims(country: Path) -> None:
    engine = connect(country, unit="persons")
    r = trends(engine, TrendSettings(changepoints=False))
    got = dict(zip(r.table.column("year").to_pylist(), r.table.column("value").to_pylist(),
                   strict=True))
    truth = pq.read_table(country / "truth.parquet").to_pandas()
    first = truth.groupby("true_id")["registration_date"].min()
    want = first.map(lambda d: d.year).value_counts().sort_index().to_dict()
    assert got == {int(y): int(n) for y, n in want.items()}
    seen = pc.sum(pq.read_table(country / "victims.parquet").column("seen_any")).as_py()
    assert sum(got.values()) == seen
    records = trends(engine.for_unit("records"), TrendSettings(changepoints=False))
    assert sum(records.table.column("value").to_pylist()) == truth.shape[0] > seen
    assert engine.unit_info()["records_not_linked"] == 0


def test_capture_persons_lists_every_agency_that_saw_each_victim(country: Path) -> None:
    from tiplab.engine import capture_persons

    people = capture_persons(connect(country))
    truth = pq.read_table(country / "truth.parquet").to_pandas()
    seen_by = truth.groupby("true_id")["source"].apply(lambda s: sorted(set(s))).to_dict()
    assert people.num_rows == len(seen_by)
    got = dict(zip(people.column("person_id").to_pylist(), people.column("sources").to_pylist(),
                   strict=True))
    assert got == seen_by
    assert set(people.column_names) >= {"year", "region_of_exploitation", "sex", "age_band",
                                        "exploitation_form"}
