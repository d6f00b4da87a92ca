"""Truth files agree with the exports and with each other."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from tiplab.simulate import SimulationResult, SimulationSettings


@pytest.fixture(scope="module")
def con(demo_dir: Path) -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute(
        f"CREATE TABLE records AS SELECT * FROM read_csv('{demo_dir}/truth/records.csv',"
        " types={'record_id': 'VARCHAR'})"
    )
    c.execute(f"CREATE TABLE victims AS SELECT * FROM '{demo_dir}/truth/victims.parquet'")
    c.execute(f"CREATE TABLE strata AS SELECT * FROM '{demo_dir}/truth/strata.csv'")
    c.execute(f"CREATE TABLE regions AS SELECT * FROM '{demo_dir}/truth/regions.csv'")
    return c


def one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[object, ...]:
    return tuple(con.execute(sql).fetchall()[0])


def test_every_record_maps_to_exactly_one_person(
    con: duckdb.DuckDBPyConnection, demo_run: SimulationResult
) -> None:
    n = demo_run.true_n
    assert one(con, "SELECT count(*) - count(DISTINCT (source, row)) FROM records") == (0,)
    assert one(
        con, f"SELECT count(*) FROM records WHERE true_id IS NULL OR true_id < 1 OR true_id > {n}"
    ) == (0,)
    assert one(con, "SELECT count(*) FROM records r ANTI JOIN victims v USING (true_id)") == (0,)


def test_rows_per_agency_match_exports(
    con: duckdb.DuckDBPyConnection, demo_run: SimulationResult
) -> None:
    counts = dict(con.execute("SELECT source, count(*) FROM records GROUP BY ALL").fetchall())
    assert counts == {a.agency: a.rows for a in demo_run.agencies}
    for a in demo_run.agencies:  # captures + duplicate intakes = export rows
        seen, dup = one(
            con,
            f"SELECT (SELECT count(*) FROM victims WHERE seen_{a.agency}), "
            f"(SELECT count(*) FROM records WHERE source = '{a.agency}' "
            "AND duplicate_intake)",
        )
        assert seen == a.persons
        assert seen + dup == a.rows


def test_duplicate_intakes_are_second_records_of_a_seen_person(
    con: duckdb.DuckDBPyConnection,
) -> None:
    assert one(
        con,
        "SELECT count(*) FROM records d WHERE duplicate_intake AND NOT EXISTS "
        "(SELECT 1 FROM records o WHERE o.source = d.source AND o.true_id = "
        "d.true_id AND NOT o.duplicate_intake)",
    ) == (0,)
    assert one(con, "SELECT count(*) FROM records WHERE duplicate_intake")[0] > 0


def test_strata_sum_to_n(con: duckdb.DuckDBPyConnection, demo_run: SimulationResult) -> None:
    assert one(con, "SELECT sum(n), sum(n_seen) FROM strata") == (
        demo_run.true_n,
        demo_run.observed_persons,
    )
    assert one(
        con,
        "SELECT count(*) FROM (SELECT year, region_of_exploitation, "
        "exploitation_form, sex, count(*) AS k FROM victims GROUP BY ALL) v "
        "FULL JOIN strata s USING (year, region_of_exploitation, "
        "exploitation_form, sex) WHERE v.k IS DISTINCT FROM s.n",
    ) == (0,)


def test_observed_persons(con: duckdb.DuckDBPyConnection, demo_run: SimulationResult) -> None:
    assert one(con, "SELECT count(DISTINCT true_id) FROM records") == (demo_run.observed_persons,)
    share = demo_run.observed_persons / demo_run.true_n
    assert 0.20 <= share <= 0.35  # most victims are never seen


def test_never_overlapping_pair(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "SELECT count(*) FROM victims WHERE seen_health AND seen_immigration") == (0,)
    assert one(
        con, "SELECT count(*) FROM victims WHERE seen_immigration AND citizenship = 'XTL'"
    ) == (0,)


def test_regions_truth(con: duckdb.DuckDBPyConnection, demo_run: SimulationResult) -> None:
    assert one(con, "SELECT sum(true_victims), sum(seen_victims) FROM regions") == (
        demo_run.true_n,
        demo_run.observed_persons,
    )
    assert one(
        con,
        "SELECT count(*) FROM regions WHERE abs(true_detection_rate - "
        "seen_victims / true_victims) > 1e-6",
    ) == (0,)
    # Hotspots are the top fifth by true prevalence.
    rows = con.execute(
        "SELECT true_prevalence_per_100k, true_hotspot FROM regions "
        "ORDER BY true_prevalence_per_100k DESC"
    ).fetchall()
    k = sum(1 for _, h in rows if h)
    assert k == -(-len(rows) // 5)
    assert all(h for _, h in rows[:k])


def test_parameters_round_trip(demo_dir: Path, demo_run: SimulationResult) -> None:
    params = json.loads((demo_dir / "truth" / "parameters.json").read_text(encoding="utf-8"))
    again = SimulationSettings.model_validate(params["settings"])
    assert again == demo_run.settings
    assert SimulationSettings.from_json(again.to_json()) == again
    assert params["realised"]["true_n"] == demo_run.true_n
    assert pq.read_metadata(demo_dir / "truth" / "victims.parquet").num_rows == demo_run.true_n
