"""Flat tables materialised per data version give the same results as exploding in the query,
and both equal counts made by hand in Python from the same records."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tiplab.analysis import (
    ProfileSettings,
    RouteSettings,
    TrendSettings,
    profiles,
    routes,
    trends,
)
from tiplab.analysis.flat import (
    KEEP_OTHER_VERSIONS_SECONDS,
    MaterialisedFlat,
    derived_dir,
    flat_for,
    prepare,
)
from tiplab.analysis.synthetic import synthetic_cases, write_snapshot
from tiplab.engine import connect

pytestmark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")


@pytest.fixture(scope="module")
def records() -> pa.Table:
    t = synthetic_cases(3000, seed=11)
    # Nulls as well as empty lists, and a null origin: both must survive the explosion.
    forms = t.column("exploitation_forms").to_pylist()
    forms[:40] = [None] * 40
    origin = t.column("origin_country").to_pylist()
    origin[40:60] = [None] * 20
    t = t.set_column(t.column_names.index("exploitation_forms"), "exploitation_forms",
                     pa.array(forms, pa.list_(pa.string())))
    return t.set_column(t.column_names.index("origin_country"), "origin_country",
                        pa.array(origin, pa.string()))


@pytest.fixture
def engine(tmp_path: Path, records: pa.Table):
    write_snapshot(tmp_path, records, batches=3)
    eng = connect(tmp_path)
    eng.con.raw_sql("SET enable_progress_bar = false")
    return eng


def _rows(t: pa.Table, key: list[str]) -> list[tuple]:
    return sorted(tuple(("" if r[k] is None else r[k]) for k in key) for r in t.to_pylist())


@pytest.fixture(scope="module")
def plain(records: pa.Table, tmp_path_factory) -> ibis.Table:
    """The same records as a plain Ibis table on a connection of its own: list columns are
    exploded inside the query (ExprFlat), the reference for the materialised tables."""
    path = tmp_path_factory.mktemp("plain") / "cases.parquet"
    pq.write_table(records, path)
    con = ibis.duckdb.connect()
    con.raw_sql("SET enable_progress_bar = false")
    return con.read_parquet(str(path))


def test_engine_uses_materialised_tables_written_under_the_data_version(engine) -> None:
    flat = flat_for(engine, engine.cases)
    assert isinstance(flat, MaterialisedFlat)
    trends(engine, TrendSettings(by=("exploitation_forms",), changepoints=False))
    d = derived_dir(engine)
    assert d.parent.name == "derived"
    assert d.name == engine.data_version
    assert (d / "explode-exploitation_forms.parquet").exists()
    assert not list(d.glob("*.tmp"))


def test_trend_counts_by_list_column_equal_a_count_by_hand(engine, records, plain) -> None:
    got = trends(engine, TrendSettings(by=("exploitation_forms",), changepoints=False))
    expected: Counter[tuple] = Counter()
    for r in records.select(["registration_date", "exploitation_forms"]).to_pylist():
        for f in (r["exploitation_forms"] or [None]):
            expected[(r["registration_date"].year, f or "")] += 1
    table = got.tables["series"]
    observed = {(r["year"], r["exploitation_forms"] or ""): r["value"]
                for r in table.to_pylist() if r["value"]}
    assert observed == dict(expected)
    assert sum(observed.values()) > records.num_rows  # several forms per record
    same = trends(plain, TrendSettings(by=("exploitation_forms",),
                                                     changepoints=False))
    key = ["year", "exploitation_forms", "value"]
    assert _rows(table.select(key), key) == _rows(same.tables["series"].select(key), key)


@pytest.mark.parametrize("settings", [
    ProfileSettings(group="means_of_control", by=("sex", "age_band")),
    ProfileSettings(group="means_of_control", by=("exploitation_forms",), start=2017,
                    end=2022),
    ProfileSettings(group="recruiter_relation", by=("exploitation_forms",)),
    ProfileSettings(group="labour_sectors"),
])
def test_profiles_on_flat_tables_equal_exploding_in_the_query(engine, plain, settings
                                                              ) -> None:
    got = profiles(engine, settings).table
    ref = profiles(plain, settings).table
    key = [*settings.by, "flag", "n", "denominator", "records"]
    assert got.num_rows > 0
    assert _rows(got.select(key), key) == _rows(ref.select(key), key)


def test_profile_denominator_equals_ctdc_rule_by_hand(engine, records) -> None:
    got = profiles(engine, ProfileSettings(group="means_of_control", by=("sex",))).table
    rows = records.select(["sex", "means_of_control"]).to_pylist()
    for sex in ("Feminine", "Masculine"):
        mine = [r["means_of_control"] or [] for r in rows if r["sex"] == sex]
        cell = [r for r in got.to_pylist() if r["sex"] == sex]
        assert {r["denominator"] for r in cell} == {sum(1 for m in mine if m)}
        assert {r["records"] for r in cell} == {len(mine)}
        by_flag = {r["flag"]: r["n"] for r in cell}
        assert by_flag == dict(Counter(f for m in mine for f in m))


def test_routes_on_flat_tables_equal_exploding_in_the_query(engine, records, plain) -> None:
    s = RouteSettings(start=2016, end=2023)
    got = routes(engine, s)
    ref = routes(plain, s)
    for name, key in [("corridors", ["origin_country", "country_of_exploitation", "n"]),
                      ("legs", ["source", "target", "n"]),
                      ("hubs", ["country", "in_degree", "out_degree", "transit"])]:
        assert _rows(got.tables[name].select(key), key) == \
            _rows(ref.tables[name].select(key), key), name
    # Legs by hand: consecutive hops of origin, transit..., destination, self-loops dropped.
    legs: Counter[tuple[str, str]] = Counter()
    for r in records.to_pylist():
        if not 2016 <= r["registration_date"].year <= 2023:
            continue
        path = [r["origin_country"], *(r["transit_countries"] or []),
                r["country_of_exploitation"]]
        for a, b in pairwise(path):
            if a is not None and b is not None and a != b:
                legs[(a, b)] += 1
    assert {(r["source"], r["target"]): r["n"] for r in got.tables["legs"].to_pylist()} == \
        dict(legs)


def test_a_new_data_version_gets_new_tables_and_the_old_ones_go(tmp_path, records) -> None:
    import os

    write_snapshot(tmp_path, records.slice(0, 1000))
    first = connect(tmp_path)
    trends(first, TrendSettings(by=("exploitation_forms",), changepoints=False))
    old = derived_dir(first)
    # a reader of the old version is given a grace period; this one is past it
    past = old.stat().st_mtime - KEEP_OTHER_VERSIONS_SECONDS - 1
    os.utime(old, (past, past))
    write_snapshot(tmp_path, records.slice(0, 2000))
    second = connect(tmp_path)
    assert second.data_version != first.data_version
    got = trends(second, TrendSettings(by=("exploitation_forms",), changepoints=False))
    assert got.data_version == second.data_version
    assert (derived_dir(second) / "explode-exploitation_forms.parquet").exists()
    assert not old.exists()
    total = sum(len(f or [None]) for f in
                records.slice(0, 2000).column("exploitation_forms").to_pylist())
    assert sum(r["value"] for r in got.tables["series"].to_pylist()) == total


def test_recent_tables_of_the_previous_version_survive_a_new_version(tmp_path,
                                                                    records) -> None:
    write_snapshot(tmp_path, records.slice(0, 1000))
    first = connect(tmp_path)
    trends(first, TrendSettings(by=("exploitation_forms",), changepoints=False))
    write_snapshot(tmp_path, records.slice(0, 2000))
    trends(connect(tmp_path), TrendSettings(by=("exploitation_forms",), changepoints=False))
    # a page that opened the first version a moment ago can still read its tables
    assert (derived_dir(first) / "explode-exploitation_forms.parquet").exists()


def test_prepare_builds_every_flat_table_of_the_current_version(tmp_path, records) -> None:
    assert prepare(tmp_path / "empty") == []
    write_snapshot(tmp_path, records.slice(0, 500))
    built = prepare(tmp_path)
    engine = connect(tmp_path)
    lists = [c for c in engine.cases.columns if engine.cases[c].type().is_array()]
    assert sorted(built) == sorted([f"explode-{c}" for c in lists] + ["legs"])
    for name in built:
        assert (derived_dir(engine) / f"{name}.parquet").exists()
    # a page then reads them instead of writing them: same rows as exploding in the query
    flat = MaterialisedFlat(engine)
    n = flat.explode("means_of_control").count().to_pyarrow().as_py()
    assert n == sum(len(m or [None]) for m in
                    records.slice(0, 500).column("means_of_control").to_pylist())


def test_arrow_built_flat_tables_equal_the_ibis_expressions(records, plain) -> None:
    from tiplab.analysis.flat import ArrowFlat, ExprFlat

    arrow, expr = ArrowFlat(records), ExprFlat(plain)
    for column in ("exploitation_forms", "means_of_control", "transit_countries"):
        key = ["record_id", column, "_k"]
        assert _rows(arrow.explode(column).select(*key).to_pyarrow(), key) == \
            _rows(expr.explode(column).select(*key).to_pyarrow(), key), column
    key = ["record_id", "_k", "_source", "_target"]
    assert _rows(arrow.legs().select(*key).to_pyarrow(), key) == \
        _rows(expr.legs().select(*key).to_pyarrow(), key)


def test_period_changes_equal_two_corridor_counts(engine, records) -> None:
    got = routes(engine, RouteSettings(period_a=(2015, 2018), period_b=(2021, 2024)))
    changes = {(r["origin_country"], r["country_of_exploitation"]): (r["n_a"], r["n_b"])
               for r in got.tables["changes"].to_pylist()}
    expected: Counter[tuple] = Counter()
    for r in records.select(["registration_date", "origin_country",
                             "country_of_exploitation"]).to_pylist():
        if r["origin_country"] is None or r["country_of_exploitation"] is None:
            continue
        y = r["registration_date"].year
        for period, (lo, hi) in (("a", (2015, 2018)), ("b", (2021, 2024))):
            if lo <= y <= hi:
                expected[(r["origin_country"], r["country_of_exploitation"], period)] += 1
    assert changes == {
        (o, d): (expected[(o, d, "a")], expected[(o, d, "b")])
        for o, d in {(o, d) for o, d, _ in expected}}
