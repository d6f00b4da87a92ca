"""Computed National Action Plan indicators: every computed indicator against hand-counted
tables (numerator and denominator exact), persons against records, disaggregations against
totals, the reasons given when an indicator cannot be computed, the CLI's JSON, bad input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from tiplab.analysis.synthetic import synthetic_cases, write_snapshot
from tiplab.cli import app
from tiplab.engine import connect
from tiplab.policy.indicators import (
    DIMENSIONS,
    IndicatorError,
    IndicatorValue,
    IndicatorValues,
    computations,
    compute,
    extra_indicators,
    how_obtained,
    library,
    parse_years,
)
from tiplab.policy.indicators.queries import case_query
from tiplab.snapshot import designate_linkage

D = dt.date

# Seven records, counted by hand below. r4 reports nothing but its date; r7's sex is
# TransgenderFeminine, which the sex standard (female / male / other / unknown) puts in other.
CASES = [
    # id, date, sex, age, citizenship, region, forms, trafficking status
    ("r1", D(2020, 1, 5), "Feminine", 16, "NGA", "R1", ["SexualExploitation"], "Actual"),
    ("r2", D(2020, 2, 1), "Masculine", 30, "ROU", "R2", ["ForcedLabour"], "Possible"),
    ("r3", D(2020, 6, 1), "Feminine", 25, "NGA", "R1", ["SexualExploitation", "ForcedLabour"],
     "Actual"),
    ("r4", D(2020, 9, 9), "NonSpecifiedUnknown", None, None, None, [], None),
    ("r5", D(2021, 3, 1), "Feminine", 17, "NGA", "R2", ["ForcedLabour"], "Actual"),
    ("r6", D(2021, 4, 1), "Masculine", 40, "VNM", "R2", ["ForcedLabour"], "NotAVictim"),
    ("r7", D(2023, 5, 1), "TransgenderFeminine", 22, "ALB", "R1", ["ForcedBegging"],
     "Possible"),
]


def cases() -> pa.Table:
    cols = list(zip(*CASES, strict=True))
    return pa.table({
        "source_agency": ["police"] * len(CASES),
        "record_id": list(cols[0]),
        "registration_date": pa.array(cols[1], pa.date32()),
        "sex": list(cols[2]),
        "age": pa.array(cols[3], pa.int64()),
        "citizenship": list(cols[4]),
        "region_of_exploitation": list(cols[5]),
        "exploitation_forms": pa.array(cols[6], pa.list_(pa.string())),
        "trafficking_status": list(cols[7]),
    })


def _cell(country: str, ind: str, year: int, value: int | None, *, sex: str = "Total",
          age: str = "Total", dim: str = "Total", cat: str = "Total") -> dict[str, object]:
    censored = value is None
    return {"source_agency": "UNODC GLOTIP", "country": country, "indicator": ind,
            "dimension": dim, "category": cat, "sex": sex, "age_group": age, "year": year,
            "unit": "Counts", "value": value, "value_low": 0 if censored else value,
            "value_high": 4 if censored else value, "censored": censored}


def aggregates(*, other_country: bool = False) -> pa.Table:
    pros, conv = "Persons prosecuted", "Persons convicted"
    rows = [
        _cell("XTL", pros, 2020, 10), _cell("XTL", pros, 2020, 4, sex="Female"),
        _cell("XTL", pros, 2020, 5, sex="Male"),
        _cell("XTL", pros, 2020, 1, sex="Unknown", age="Unknown"),
        _cell("XTL", pros, 2020, 2, age="0 to 17 years"),
        _cell("XTL", pros, 2020, 8, age="18 years or over"),
        _cell("XTL", pros, 2021, 8),
        _cell("XTL", conv, 2020, 6), _cell("XTL", conv, 2020, 3, sex="Female"),
        _cell("XTL", conv, 2020, 3, sex="Male"),
        _cell("XTL", conv, 2020, 4, dim="by form of exploitation", cat="Sexual exploitation"),
        _cell("XTL", conv, 2020, 2, dim="by form of exploitation", cat="Forced labour"),
        _cell("XTL", conv, 2021, None),  # published as '<5'
    ]
    if other_country:
        rows.append(_cell("YYY", pros, 2020, 100))
    return pa.Table.from_pylist(rows)


def _v(r: IndicatorValues, ind: str, year: int, dim: str | None = None,
       cat: str | None = None) -> IndicatorValue:
    v = r.get(ind, year, dim, cat)
    assert v is not None, (ind, year, dim, cat)
    return v


# --- the mapping -------------------------------------------------------------------------------

def test_every_mapped_id_is_a_library_or_extra_indicator_and_the_library_stays_57() -> None:
    lib = library()
    assert len(lib) == 57
    extra = extra_indicators()
    for ind in computations():
        assert ind in lib or ind in extra
    assert [how_obtained(i).how for i in ("PROT-01", "PROS-05", "PREV-02", "PROT-06")] == [
        "computed", "computed", "survey", "submitted"]
    assert how_obtained("PROS-03").source == "aggregates"
    assert set(computations()) == {"PROT-01", "PROT-02", "PART-10", "PROS-01", "PROS-02",
                                   "PROS-03", "PROS-04", "PROS-05", "TL-GAP-01"}


def test_case_query_is_built_without_a_database() -> None:
    import ibis

    t = ibis.table({"registration_date": "date", "sex": "string",
                    "trafficking_status": "string"}, name="cases")
    q = case_query(t, [computations()["PROT-02"]], dimension="sex",
                   requires=["trafficking_status"])
    sql = ibis.to_sql(q, dialect="duckdb")
    assert "GROUP BY" in sql.upper()
    assert "trafficking_status" in sql
    assert set(q.columns) == {"year", "category", "n", "prot_02__num",
                              "known__trafficking_status"}


# --- case records ------------------------------------------------------------------------------

def test_case_record_indicators_equal_the_hand_counts() -> None:
    r = compute(cases(), data_version="dv-hand")
    assert r.data_version == "dv-hand"
    # PROT-01: records registered per year; 2022 has none and is a zero inside the span
    assert [(v.year, v.value) for v in r.series("PROT-01")] == [
        (2020, 4), (2021, 2), (2022, 0), (2023, 1)]
    # PROT-02: trafficking_status Actual (r1, r3 in 2020; r5 in 2021)
    assert [(v.year, v.value) for v in r.series("PROT-02")] == [
        (2020, 2), (2021, 1), (2022, 0), (2023, 0)]
    # PART-10: reported standard disaggregations / (5 x records); r4 reports none of the five
    p = _v(r, "PART-10", 2020)
    assert (p.numerator, p.denominator, p.value) == (15, 20, 75.0)
    assert _v(r, "PART-10", 2021).value == 100.0
    gap_year = _v(r, "PART-10", 2022)
    assert (gap_year.denominator, gap_year.value) == (0, None)
    assert r.get("PROT-01", 2024) is None
    assert r.unit == {"unit": "records"}
    assert any("1 of 7 records do not report trafficking_status" in n
               for n in r.status["PROT-02"].notes)


def test_disaggregations_sum_to_the_totals_except_forms() -> None:
    r = compute(cases(), by=["sex", "age_group", "citizenship", "region", "exploitation_form"])
    sex = {v.category: v.value for v in r.series("PROT-01", "sex") if v.year == 2020}
    assert sex == {"female": 2, "male": 1, "other": 0, "unknown": 1}
    assert {v.category: v.value for v in r.series("PROT-01", "sex") if v.year == 2023} == {
        "female": 0, "male": 0, "other": 1, "unknown": 0}
    age = {v.category: v.value for v in r.series("PROT-01", "age_group") if v.year == 2020}
    assert age == {"adult": 2, "child": 1, "unknown": 1}
    ident = {v.category: v.value for v in r.series("PROT-02", "sex") if v.year == 2020}
    assert ident == {"female": 2, "male": 0, "other": 0, "unknown": 0}
    for ind in ("PROT-01", "PROT-02"):
        for dim in ("sex", "age_group", "citizenship", "region"):
            for year in (2020, 2021, 2022, 2023):
                parts = [v.value for v in r.series(ind, dim) if v.year == year]
                assert sum(p or 0 for p in parts) == _v(r, ind, year).value, (ind, dim, year)
    # a record with two forms counts under both: 2020 has 4 records and 5 form rows
    forms = {v.category: v.value for v in r.series("PROT-01", "exploitation_form")
             if v.year == 2020}
    assert forms["SexualExploitation"] == 2
    assert forms["ForcedLabour"] == 2
    assert forms["unknown"] == 1
    assert sum(v or 0 for v in forms.values()) == 5
    assert any("more than the total" in n for n in r.status["PROT-01"].notes)
    assert any("not disaggregated by sex" in n for n in r.status["PART-10"].notes)


def test_small_counts_are_flagged_not_suppressed() -> None:
    r = compute(cases(), by="sex", threshold=3)
    total = _v(r, "PROT-01", 2020)
    assert (total.value, total.small) == (4, False)
    female = _v(r, "PROT-01", 2020, "sex", "female")
    assert (female.value, female.small) == (2, True)
    zero = _v(r, "PROT-01", 2020, "sex", "other")
    assert (zero.value, zero.small) == (0, False)
    # a share is flagged when the records it is taken of are few
    assert _v(r, "PART-10", 2023).small is True
    assert _v(r, "PART-10", 2020).small is False


def test_persons_of_the_designated_link_run_versus_records(tmp_path: Path) -> None:
    version = write_snapshot(tmp_path, cases())
    # r5 (2021) is r1's person, r3 is r2's: 7 records, 5 persons
    person = {"r1": "P1", "r5": "P1", "r2": "P2", "r3": "P2", "r4": "P4", "r6": "P6",
              "r7": "P7"}
    designate_linkage(tmp_path, 1, pa.table({
        "source_agency": ["police"] * 7, "record_id": list(person),
        "person_id": list(person.values())}), data_version=version, designated_by="test")
    records = compute(connect(tmp_path, unit="records"))
    persons = compute(connect(tmp_path, unit="auto"))
    assert records.data_version == persons.data_version == version
    assert [v.value for v in records.series("PROT-01")] == [4, 2, 0, 1]
    # each person counts once, in the year of the first record: P1 in 2020 (not 2021)
    assert [v.value for v in persons.series("PROT-01")] == [3, 1, 0, 1]
    assert persons.unit["unit"] == "persons"
    assert persons.unit["persons"] == 5
    # PROT-02 reads the status of the person's first record: P2's first record (r2) is
    # Possible, its later r3 Actual, so only P1 counts in 2020 (the documented caveat)
    assert _v(persons, "PROT-02", 2020).value == 1


def test_years_select_and_years_outside_the_data_are_refused() -> None:
    r = compute(cases(), years=[2019, 2020, 2021])
    assert [v.year for v in r.series("PROT-01")] == [2020, 2021]
    assert any("no case-record value for 2019" in n for n in r.notes)
    assert r.parameters["years"] == [2019, 2020, 2021]
    with pytest.raises(IndicatorError, match=r"outside the data \(case records 2020-2023\)"):
        compute(cases(), years=range(1990, 1995))


def test_unknown_ids_dimensions_and_years_are_refused() -> None:
    with pytest.raises(IndicatorError, match="unknown indicator 'PROT-99'"):
        compute(cases(), indicators=["PROT-01", "PROT-99"])
    with pytest.raises(IndicatorError, match="cannot disaggregate by 'colour'"):
        compute(cases(), by="colour")
    with pytest.raises(IndicatorError, match="whole years"):
        compute(cases(), years=["twenty"])  # type: ignore[list-item]
    assert parse_years("2018-2020,2023") == (2018, 2019, 2020, 2023)
    with pytest.raises(IndicatorError, match="backwards"):
        parse_years("2024-2018")


def test_an_indicator_that_cannot_be_computed_says_why() -> None:
    no_status = cases().drop_columns(["trafficking_status"])
    r = compute(no_status, indicators=["PROT-01", "PROT-02", "PROS-03", "PROT-06",
                                       "PREV-02", "TL-GAP-01"])
    assert r.computed == ["PROT-01"]
    assert r.reasons["PROT-02"] == "the case records have no column trafficking_status"
    assert r.reasons["PROS-03"].startswith("no aggregate statistics")
    assert r.reasons["PROT-06"].startswith("submitted by an agency")
    assert r.reasons["PREV-02"].startswith("comes from a survey")
    assert r.reasons["TL-GAP-01"].startswith("no estimate of the total number of victims")
    # a column present but empty in every record of the years asked for
    empty = cases().set_column(8, "trafficking_status", pa.nulls(7, pa.string()))
    r = compute(empty, indicators=["PROT-02"])
    assert "reports trafficking_status" in r.reasons["PROT-02"]
    assert r.values == []


# --- aggregates and estimates -----------------------------------------------------------------

def test_aggregate_indicators_equal_the_cells() -> None:
    r = compute(cases(), aggregates=aggregates(), by=["sex", "exploitation_form"])
    pros = _v(r, "PROS-03", 2020)
    assert (pros.value, pros.n, pros.censored) == (10, 1, False)
    assert _v(r, "PROS-03", 2021).value == 8
    rate = _v(r, "PROS-05", 2020)
    assert (rate.numerator, rate.denominator, rate.value) == (6, 10, 60.0)
    # 2021 convictions were published as '<5': no point value, bounds 0-4 and 0-50%
    conv = _v(r, "PROS-04", 2021)
    assert (conv.value, conv.censored, conv.low, conv.high) == (None, True, 0, 4)
    rate21 = _v(r, "PROS-05", 2021)
    assert (rate21.value, rate21.low, rate21.high) == (None, 0.0, 50.0)
    sex = {v.category: v.value for v in r.series("PROS-03", "sex") if v.year == 2020}
    assert sex == {"female": 4, "male": 5, "unknown": 1}
    assert sum(v or 0 for v in sex.values()) == pros.value
    forms = {v.category: v.value for v in r.series("PROS-04", "exploitation_form")}
    assert forms == {"Sexual exploitation": 4, "Forced labour": 2}
    assert r.reasons["PROS-01"] == ("no aggregate cells of XTL for Offences of trafficking "
                                    "in persons")
    assert any("not disaggregated by exploitation_form" in n
               for n in r.status["PROS-03"].notes)


def test_aggregates_of_several_countries_need_a_country() -> None:
    both = aggregates(other_country=True)
    r = compute(None, aggregates=both, indicators=["PROS-03"])
    assert "cover 2 countries (XTL, YYY)" in (r.reasons["PROS-03"] or "")
    r = compute(None, aggregates=both, indicators=["PROS-03"], country="YYY")
    assert [(v.year, v.value) for v in r.series("PROS-03")] == [(2020, 100)]


def test_detection_gap_rate_from_an_estimate() -> None:
    r = compute(cases(), indicators=["TL-GAP-01"], estimates={2020: 20, 2021: 4, 2030: 9})
    g = _v(r, "TL-GAP-01", 2020)
    # (estimated - identified) / estimated: (20 - 4) / 20
    assert (g.numerator, g.denominator, g.value, g.n) == (16, 20, 80.0, 4)
    assert _v(r, "TL-GAP-01", 2021).value == 50.0
    assert r.get("TL-GAP-01", 2023) is None  # no estimate for 2023
    assert any("records, not persons" in n for n in r.status["TL-GAP-01"].notes)
    with pytest.raises(IndicatorError, match="positive number"):
        compute(cases(), indicators=["TL-GAP-01"], estimates={2020: 0})


def test_synthetic_snapshot_counts_equal_an_independent_count(tmp_path: Path) -> None:
    import numpy as np
    import pyarrow.compute as pc

    table = synthetic_cases(5_000, seed=11)
    write_snapshot(tmp_path, table, batches=3)
    r = compute(connect(tmp_path), by=DIMENSIONS)
    years = pc.year(table.column("registration_date")).to_numpy()
    actual = (pc.fill_null(pc.equal(table.column("trafficking_status"), "Actual"), False)
              .to_numpy(zero_copy_only=False))
    for y in range(2015, 2025):
        assert _v(r, "PROT-01", y).value == int((years == y).sum())
        assert _v(r, "PROT-02", y).value == int(((years == y) & actual).sum())
    regions = np.asarray(table.column("region_of_exploitation").to_pylist())
    assert _v(r, "PROT-01", 2019, "region", "R-03").value == int(
        ((years == 2019) & (regions == "R-03")).sum())


# --- the CLI -----------------------------------------------------------------------------------

def _cli(args: list[str], tmp_path: Path) -> tuple[int, str]:
    out = CliRunner().invoke(app, args, env={"TIPLAB_DATA_DIR": str(tmp_path / "data"),
                                             "COLUMNS": "200"})
    return out.exit_code, out.output


def test_cli_list_show_and_compute_json(tmp_path: Path) -> None:
    code, out = _cli(["indicators", "list", "--pillar", "prosecution", "--json"], tmp_path)
    assert code == 0, out
    rows = json.loads(out)["indicators"]
    assert len(rows) == 15
    assert {r["id"]: r["obtained"] for r in rows}["PROS-05"] == "computed"
    code, out = _cli(["indicators", "show", "PROS-05", "--json"], tmp_path)
    body = json.loads(out)
    assert body["obtained"]["computation"]["denominator"] == {"kind": "indicator",
                                                              "ref": "Persons prosecuted"}
    csv = tmp_path / "cases.csv"
    csv.write_text(
        "source_agency,record_id,registration_date,sex,age,exploitation_forms,"
        "trafficking_status\n"
        "police,1,2020-01-05,Feminine,16,SexualExploitation;ForcedLabour,Actual\n"
        "police,2,2020-03-05,Masculine,30,ForcedLabour,Possible\n"
        "ngo,3,2021-02-01,Feminine,,,Actual\n", encoding="utf-8")
    code, out = _cli(["indicators", "compute", str(csv), "--years", "2020-2021", "--by",
                      "exploitation_form", "-i", "PROT-01", "-i", "PROT-02", "--json"],
                     tmp_path)
    assert code == 0, out
    body = json.loads(out)
    assert body["data_version"].startswith("files-sha256:")
    assert body["parameters"]["years"] == [2020, 2021]
    got = {(v["indicator"], v["year"], v["category"]): v["value"] for v in body["values"]}
    assert got[("PROT-01", 2020, None)] == 2
    assert got[("PROT-02", 2021, None)] == 1
    assert got[("PROT-01", 2020, "ForcedLabour")] == 2  # the ';' list was split
    assert got[("PROT-01", 2021, "unknown")] == 1


def test_cli_bad_input_gives_one_json_error(tmp_path: Path) -> None:
    csv = tmp_path / "cases.csv"
    csv.write_text("record_id,registration_date\n1,2020-01-05\n2,not a date\n",
                   encoding="utf-8")
    code, out = _cli(["indicators", "compute", str(csv), "--json"], tmp_path)
    assert code == 2
    assert "1 value(s) of column registration_date are not a date" in json.loads(out)[
        "error"]["message"]
    code, out = _cli(["indicators", "show", "NOPE-1", "--json"], tmp_path)
    assert code == 2
    assert json.loads(out)["error"]["type"] == "IndicatorError"
    good = tmp_path / "good.csv"
    good.write_text("record_id,registration_date\n1,2020-01-05\n", encoding="utf-8")
    code, out = _cli(["indicators", "compute", str(good), "--years", "2030", "--json"],
                     tmp_path)
    assert code == 2
    assert "outside the data" in json.loads(out)["error"]["message"]
    write_snapshot(tmp_path / "data", cases())
    code, out = _cli(["indicators", "compute", "--json", "-i", "PROT-01"], tmp_path)
    assert code == 0, out
    assert [v["value"] for v in json.loads(out)["values"]] == [4, 2, 0, 1]
