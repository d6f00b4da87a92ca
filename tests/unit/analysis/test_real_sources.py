"""Figures against the real source files, computed independently with DuckDB on the CSVs."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from tiplab.analysis import AggregateTrendSettings, aggregate_trends, load_denver, routes

GLOTIP = "unodc_glotip/data_glotip.csv"
DENVER = "du_tip_directionality/Human_Traffic_data.csv"


@pytest.fixture(scope="module")
def glotip(shared_data: Path) -> pa.Table:
    from tiplab.ingest import prepare_import

    return prepare_import(shared_data / GLOTIP, "glotip").result.accepted


def _csv_total(path: Path, where: str) -> list[tuple[int, int | None, int]]:
    """(year, exact sum or None, count of '<5') straight from the CSV text."""
    return duckdb.connect().execute(f"""
        SELECT "Year", CASE WHEN count(*) FILTER (WHERE txtVALUE = '<5') = 0
                            THEN sum(TRY_CAST(replace(txtVALUE, ',', '') AS BIGINT)) END,
               count(*) FILTER (WHERE txtVALUE = '<5')
        FROM read_csv('{path}', all_varchar = true) WHERE {where}
        GROUP BY 1 ORDER BY 1""").fetchall()


def test_glotip_country_year_totals_equal_source(glotip: pa.Table, shared_data: Path) -> None:
    where = ("Iso3_code = 'GBR' AND Indicator = 'Detected trafficking victims' AND "
             "Dimension = 'Total' AND Sex = 'Total' AND Age = 'Total'")
    expected = _csv_total(shared_data / GLOTIP, where)
    r = aggregate_trends(glotip, AggregateTrendSettings(countries=("GBR",)))
    got = [(row["year"], row["value"]) for row in r.tables["series"].to_pylist()]
    assert got == [(int(y), v) for y, v, _ in expected]
    assert dict(got)[2019] == 10627  # the UNODC portal figure for the UK, 2019


def test_glotip_sum_with_censored_cell_is_an_interval(glotip: pa.Table,
                                                      shared_data: Path) -> None:
    # Detected victims by sex in a country-year where one sex is '<5'.
    row = duckdb.connect().execute(f"""
        SELECT Iso3_code, "Year" FROM read_csv('{shared_data / GLOTIP}', all_varchar=true)
        WHERE Indicator = 'Detected trafficking victims' AND Dimension = 'Total'
          AND Age = 'Total' AND Sex IN ('Female', 'Male')
        GROUP BY 1, 2
        HAVING count(*) = 2 AND count(*) FILTER (WHERE txtVALUE = '<5') = 1
        ORDER BY 1, 2 LIMIT 1""").fetchone()
    assert row is not None
    country, year = row[0], int(row[1])
    exact = duckdb.connect().execute(f"""
        SELECT sum(TRY_CAST(replace(txtVALUE, ',', '') AS BIGINT))
        FROM read_csv('{shared_data / GLOTIP}', all_varchar=true)
        WHERE Iso3_code = '{country}' AND "Year" = '{year}' AND Age = 'Total'
          AND Indicator = 'Detected trafficking victims' AND Dimension = 'Total'
          AND Sex IN ('Female', 'Male') AND txtVALUE <> '<5'""").fetchone()[0]
    # Female + Male only (Other/Unknown excluded), as a pair.
    s = AggregateTrendSettings(countries=(country,), by=("sex",), start=year, end=year)
    r = aggregate_trends(glotip, s)
    sexes = {x["sex"]: x for x in r.tables["series"].to_pylist()}
    pair = [sexes["Female"], sexes["Male"]]
    low = sum(p["low"] for p in pair)
    high = sum(p["high"] for p in pair)
    assert (low, high) == (exact, exact + 4)
    assert any(p["value"] is None for p in pair)


def test_glotip_regional_sum_carries_censoring(glotip: pa.Table) -> None:
    r = aggregate_trends(glotip, AggregateTrendSettings(
        countries=("AFG", "PAK", "IND", "BGD", "NPL", "LKA"), start=2012, end=2021))
    for row in r.tables["series"].to_pylist():
        if row["censored_cells"]:
            assert row["value"] is None
            assert row["high"] - row["low"] == 4 * row["censored_cells"]
        else:
            assert row["value"] == row["low"] == row["high"]


def test_denver_corridor_count_equals_source(shared_data: Path) -> None:
    path = shared_data / DENVER
    expected = duckdb.connect().execute(f"""
        SELECT count(*) FROM read_csv('{path}', all_varchar=true)
        WHERE trim(coalesce(Origin_Country, "Origin Country/Region")) = 'Zimbabwe'
          AND trim(Destination_Country) = 'South Africa'""").fetchone()[0]
    # Four spellings of North Korea in the coding; the platform merges them into PRK.
    prk_expected = duckdb.connect().execute(f"""
        SELECT count(*) FROM read_csv('{path}', all_varchar=true)
        WHERE trim(coalesce(Origin_Country, "Origin Country/Region")) IN
              ('North Korea', 'Korea, Democratic People''s Republic of', 'DPRK', 'D.P.R.K')
          AND Destination_Country IS NOT NULL""").fetchone()[0]
    t = load_denver(path)
    assert t.num_rows == 22_246
    r = routes(t)
    c = {(x["origin_country"], x["country_of_exploitation"]): x["n"]
         for x in r.tables["corridors"].to_pylist()}
    assert c[("ZWE", "ZAF")] == expected == 83
    prk = sum(n for (o, _), n in c.items() if o == "PRK")
    assert prk == prk_expected


def test_cli_glotip_json_contract(shared_data: Path) -> None:
    from tiplab.cli import app

    res = CliRunner().invoke(app, ["trends", "--dataset", "glotip", "--file",
                                   str(shared_data / GLOTIP), "--profile", "glotip",
                                   "--country", "GBR", "--indicator",
                                   "Detected trafficking victims", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["data_version"].startswith("file-sha256:")
    point = {p["year"]: p for p in out["series"]}[2019]
    assert point["value"] == point["low"] == point["high"] == 10627
