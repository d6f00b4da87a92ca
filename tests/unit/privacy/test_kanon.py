"""k-anonymity: the brute-force check, hierarchies, the lattice search, local suppression and
the information-loss figures, against hand-computed numbers and an exhaustive search."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiplab.privacy.kanon import (
    SUPPRESSED,
    Hierarchy,
    KAnonError,
    KAnonSettings,
    age_band_hierarchy,
    age_hierarchy,
    check_k,
    country_hierarchy,
    default_hierarchy,
    k_anonymise,
    year_hierarchy,
)

# -- check_k ---------------------------------------------------------------------------------


def test_check_k_lists_every_class_below_k_with_null_and_star_as_values() -> None:
    t = pa.table({
        "a": ["x", "x", "x", None, None, "*", "*", "*"],
        "b": ["1", "1", "1", "2", "2", "2", "2", None],
    })
    bad = check_k(t, ["a", "b"], 3)
    # classes: (x,1)=3, (null,2)=2, (*,2)=2, (*,null)=1 -- null and "*" are distinct values
    assert [(dict(v.values), v.count) for v in bad] == [
        ({"a": "*", "b": None}, 1), ({"a": "*", "b": "2"}, 2), ({"a": None, "b": "2"}, 2)]
    assert check_k(t, ["a", "b"], 2) == [bad[0]]
    assert [(dict(v.values), v.count) for v in check_k(t, ["b"], 3)] == [({"b": None}, 1)]


def test_check_k_groups_list_columns_and_handles_no_quasi_identifier() -> None:
    t = pa.table({"forms": pa.array([["A", "B"], ["A", "B"], ["B"]], pa.list_(pa.string()))})
    assert [(dict(v.values), v.count) for v in check_k(t, ["forms"], 2)] == [
        ({"forms": "B"}, 1)]
    assert [v.count for v in check_k(t, [], 4)] == [3]
    assert check_k(t, [], 3) == []
    assert check_k(t.slice(0, 0), ["forms"], 5) == []


@pytest.mark.parametrize("k", [1, 0, -3, 2.5, True])
def test_check_k_refuses_k_below_two(k: object) -> None:
    with pytest.raises(KAnonError, match="at least 2"):
        check_k(pa.table({"a": ["x"]}), ["a"], k)  # type: ignore[arg-type]


def test_check_k_names_an_unknown_column() -> None:
    with pytest.raises(KAnonError, match=r"column\(s\) nope are not in the table"):
        check_k(pa.table({"a": ["x"]}), ["nope"], 2)


# -- hierarchies -----------------------------------------------------------------------------


def test_year_hierarchy_uses_calendar_periods() -> None:
    h = year_hierarchy([2015, 2016, 2019, "2020"])
    assert h.names == ("year", "2-year period", "5-year period", "*")
    assert [h.label("2015", lv) for lv in range(4)] == ["2015", "2015-2016", "2015-2019", "*"]
    assert [h.label("2020", lv) for lv in range(4)] == ["2020", "2020-2021", "2020-2024", "*"]
    # 2-year periods split the 5-year period, so the last year of it stands alone
    assert [h.label("2019", lv) for lv in range(3)] == ["2019", "2019", "2015-2019"]
    assert h.label("unknown", 1) == SUPPRESSED  # not a year: conservative
    assert h.label(None, 1) is None
    assert h.label(None, 3) == SUPPRESSED


def test_age_and_age_band_hierarchies_accept_our_and_ctdc_spellings() -> None:
    h = age_band_hierarchy()
    assert [h.label("9-17", lv) for lv in range(4)] == ["9-17", "0-17", "0-17", "*"]
    assert [h.label("9--17", lv) for lv in range(4)] == ["9--17", "0--17", "0--17", "*"]
    assert h.label("09--17", 2) == "0--17"
    assert [h.label("27-29", lv) for lv in range(1, 3)] == ["18-29", "18+"]
    assert [h.label("48+", lv) for lv in range(1, 3)] == ["48+", "18+"]
    a = age_hierarchy()
    assert [a.label("17", lv) for lv in range(5)] == ["17", "9-17", "0-17", "0-17", "*"]
    assert [a.label("40", lv) for lv in range(1, 4)] == ["39-47", "30-47", "18+"]


def test_country_hierarchy_follows_un_m49() -> None:
    h = country_hierarchy()
    # UN M49 (CTDC data dictionary, Region sheet): Romania is Eastern Europe, Europe
    assert [h.label("ROU", lv) for lv in range(4)] == ["ROU", "Eastern Europe", "Europe", "*"]
    assert h.label("RO", 1) == "Eastern Europe"        # alpha-2 too
    assert h.label("NGA", 2) == "Africa"
    assert h.label("VNM", 1) == "South-Eastern Asia"
    assert h.label("XKX", 1) == "Southern Europe"
    assert h.label("XK", 2) == "Europe"
    assert h.label("XTL", 1) == SUPPRESSED             # unknown code: conservative
    h2 = country_hierarchy({"XTL": "Eastern Europe"})
    assert h2.label("XTL", 2) == "Europe"
    with pytest.raises(KAnonError, match="not a UN M49 sub-region"):
        country_hierarchy({"XTL": "Atlantis"})


def test_default_hierarchy_is_chosen_from_name_and_type() -> None:
    assert default_hierarchy("citizenship", []).names[1] == "UN sub-region"
    assert default_hierarchy("CountryOfExploitation", []).names[1] == "UN sub-region"
    assert default_hierarchy("ageBroad", []).names[0] == "age band"
    assert default_hierarchy("age", []).height == 5
    assert default_hierarchy("yearOfRegistration", ["2019"]).names[1] == "2-year period"
    assert default_hierarchy("whatever", ["2019"], is_date=True).names[0] == "year"
    assert default_hierarchy("gender", ["Male"]).height == 2


def test_hierarchy_is_data_and_round_trips() -> None:
    h = Hierarchy(({"a": "ab", "b": "ab", "c": "c"}, {"a": "*", "b": "*", "c": "*"}),
                  ("letter", "pair", "all", "*"))
    # a given last level of only "*" is the implicit top level
    assert h.height == 3
    assert h.names == ("letter", "pair", "*")
    assert Hierarchy.from_dict(json.loads(json.dumps(h.to_dict()))) == h
    with pytest.raises(KAnonError, match="level names"):
        Hierarchy(({"a": "b"},), ("only-one",))


def test_a_hierarchy_whose_levels_do_not_nest_is_refused() -> None:
    """Even-aligned pairs (2014-2015) straddle 5-year periods (2010-2014, 2015-2019): a
    coarser level would split a class, and the search's monotonicity would fail."""
    two = {"2014": "2014-2015", "2015": "2014-2015"}
    five = {"2014": "2010-2014", "2015": "2015-2019"}
    with pytest.raises(KAnonError, match="not nested"):
        Hierarchy((two, five))
    with pytest.raises(KAnonError, match="already suppressed"):
        Hierarchy(({"a": "x"}, {"a": "x", "b": "y"}))


# -- information loss, hand-computed --------------------------------------------------------


def _hand_table() -> pa.Table:
    return pa.table({
        "year": [2015, 2015, 2016, 2016, 2017, 2017, 2018, 2018, None, None],
        "sex": ["F", "M", "F", "M", "F", "M", "F", "M", "F", "F"],
    })


def test_information_loss_matches_hand_computation() -> None:
    """By hand, k=2, no suppression allowed: (year, sex) is unique; year + '*' sex passes with
    NCP (0 + 1)/2 = 0.5; 2-year periods (2015-2016, 2017-2018) + sex pass with year NCP
    (2-1)/(4-1) = 1/3 on the 8 dated records and 0 on the 2 nulls, i.e. 8/30 = 0.2667,
    overall 0.1333; the 5-year period costs (4-1)/(4-1) * 8/10 = 0.8 for the year. Classes of
    2-year + sex: 5 classes of 2, DM = 5 * 2^2 = 20."""
    r = k_anonymise(_hand_table(), k=2, max_suppression=0.0)
    assert dict(r.levels) == {"year": 1, "sex": 0}
    assert dict(r.level_names) == {"year": "2-year period", "sex": "value"}
    assert r.ncp["year"] == pytest.approx(8 / 30, abs=1e-12)
    assert r.ncp["sex"] == 0.0
    assert r.ncp_overall == pytest.approx(4 / 30, abs=1e-12)
    assert r.discernibility == 20
    assert (r.classes, r.smallest_class, r.records_out, r.records_suppressed) == (5, 2, 10, 0)
    assert r.average_class_size == pytest.approx(1.0)
    years = sorted(r.table.column("year").to_pylist(), key=str)
    assert years == sorted(["2015-2016"] * 4 + ["2017-2018"] * 4 + [None] * 2, key=str)


def test_suppressed_cells_and_removed_records_cost_full_loss() -> None:
    """20 x (A, x), 20 x (B, y) and 6 records (A, z1..z6) each unique in c2. With k=5 and 6
    records allowed in small classes, no generalisation is needed (loss 0 beats c2 -> '*',
    loss 0.5); local suppression blanks c2 of the six, who form (A, *) of size 6.
    NCP c2 = 6/46, DM = 20^2 + 20^2 + 6^2 = 836."""
    c1 = ["A"] * 20 + ["B"] * 20 + ["A"] * 6
    c2 = ["x"] * 20 + ["y"] * 20 + [f"z{i}" for i in range(6)]
    r = k_anonymise(pa.table({"c1": c1, "c2": c2}), k=5, max_suppression=6 / 46)
    assert dict(r.levels) == {"c1": 0, "c2": 0}
    assert dict(r.cells_suppressed) == {"c1": 0, "c2": 6}
    assert r.records_suppressed == 0
    assert r.ncp["c2"] == pytest.approx(6 / 46)
    assert r.ncp["c1"] == 0.0
    assert r.discernibility == 836
    assert r.smallest_class == 6
    rows = r.table.to_pylist()
    assert rows.count({"c1": "A", "c2": SUPPRESSED}) == 6

    whole = k_anonymise(pa.table({"c1": c1, "c2": c2}), k=5, max_suppression=6 / 46,
                        suppression="records")
    assert (whole.records_suppressed, whole.records_out) == (6, 40)
    assert whole.cells_suppressed_total == 0
    # a removed record costs 1 per non-null cell in every column, and |D| in DM
    assert whole.ncp["c1"] == pytest.approx(6 / 46)
    assert whole.discernibility == 800 + 6 * 46


def test_a_record_that_cannot_hide_is_removed_whole() -> None:
    c1 = ["A"] * 20 + ["B"] * 20 + ["C"]
    c2 = ["x"] * 20 + ["y"] * 20 + ["z"]
    r = k_anonymise(pa.table({"c1": c1, "c2": c2}), k=5, max_suppression=0.05)
    # alone it can be in no class of 5 even with every value suppressed
    assert (r.records_out, r.records_suppressed) == (40, 1)
    assert check_k(r.table, ["c1", "c2"], 5) == []


def test_rows_suppressed_in_every_column_count_as_removed() -> None:
    """Eleven records unique in both columns can only hide as (*, *): a row that says
    nothing, so they are removed and counted, not reported as kept."""
    c1 = ["A"] * 20 + ["B"] * 20 + [f"c{i}" for i in range(11)]
    c2 = ["x"] * 20 + ["y"] * 20 + [f"z{i}" for i in range(11)]
    r = k_anonymise(pa.table({"c1": c1, "c2": c2}), k=11, max_suppression=0.25)
    assert dict(r.levels) == {"c1": 0, "c2": 0}
    assert (r.records_out, r.records_suppressed) == (40, 11)
    assert {"c1": SUPPRESSED, "c2": SUPPRESSED} not in r.table.to_pylist()


# -- the search is optimal ------------------------------------------------------------------


def _gen_loss(values: list[str | None], h: Hierarchy, level: int) -> float:
    """NCP of one column at one level, computed from its definition (independent code)."""
    domain = sorted({v for v in values if v is not None})
    total = 0.0
    for v in values:
        if v is None:
            continue
        lab = h.label(v, level)
        if lab == SUPPRESSED:
            total += 1.0
        elif len(domain) > 1:
            cover = sum(1 for d in domain if h.label(d, level) == lab)
            total += (cover - 1) / (len(domain) - 1)
    return total / len(values)


def _random_cases(seed: int, n: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    years = rng.integers(2015, 2023, n).astype(object)
    years[rng.random(n) < 0.05] = None
    bands = rng.choice(["0-8", "9-17", "18-20", "21-23", "27-29", "30-38", "48+"], n,
                       p=[.05, .2, .2, .2, .15, .15, .05]).astype(object)
    country = rng.choice(["ROU", "BGR", "NGA", "GHA", "VNM", "CHN", "BRA", "UKR"], n,
                         p=[.3, .15, .15, .05, .1, .1, .05, .1])
    sex = rng.choice(["Feminine", "Masculine", "NonConforming"], n, p=[.55, .44, .01])
    return pa.table({"year": pa.array([None if y is None else str(y) for y in years]),
                     "age_band": pa.array(list(bands)), "citizenship": pa.array(country),
                     "sex": pa.array(sex)})


@pytest.mark.parametrize(("seed", "n", "k", "share"),
                         [(1, 300, 5, 0.02), (2, 500, 11, 0.05), (3, 200, 3, 0.0)])
def test_search_finds_the_least_loss_anonymous_node(seed: int, n: int, k: int,
                                                    share: float) -> None:
    """Exhaustive check: every node of the lattice generalised with pandas, its small-class
    records counted and its loss computed from the NCP definition."""
    t = _random_cases(seed, n)
    r = k_anonymise(t, k=k, max_suppression=share)
    cols = t.column_names
    values = {c: t.column(c).to_pylist() for c in cols}
    hier = {c: default_hierarchy(c, values[c]) for c in cols}
    allowed = int(np.floor(share * n + 1e-9))
    best = np.inf
    for node in itertools.product(*(range(hier[c].height) for c in cols)):
        frame = pd.DataFrame({c: [str(hier[c].label(v, lv)) for v in values[c]]
                              for c, lv in zip(cols, node, strict=True)})
        sizes = frame.groupby(cols, dropna=False).size()
        if int(sizes[sizes < k].sum()) <= allowed:
            loss = np.mean([_gen_loss(values[c], hier[c], lv)
                            for c, lv in zip(cols, node, strict=True)])
            best = min(best, float(loss))
    chosen = np.mean([_gen_loss(values[c], hier[c], r.levels[c]) for c in cols])
    assert chosen == pytest.approx(best, abs=1e-12)
    assert r.nodes == int(np.prod([hier[c].height for c in cols]))
    assert r.nodes_evaluated < r.nodes  # the tagging spared some checks
    assert check_k(r.table, cols, k) == []


# -- k-anonymity holds for any table and k (property) ----------------------------------------

_VALUES = st.sampled_from(["a", "b", "c", "d", None])


@st.composite
def _tables(draw: st.DrawFn) -> tuple[pa.Table, int]:
    k = draw(st.integers(2, 6))
    n_cols = draw(st.integers(1, 4))
    n = draw(st.integers(k, 60))
    cols = {f"q{j}": draw(st.lists(_VALUES, min_size=n, max_size=n)) for j in range(n_cols)}
    cols["rid"] = [str(i) for i in range(n)]
    return pa.table(cols), k


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_tables(), share=st.sampled_from([0.0, 0.1, 0.3]),
       mode=st.sampled_from(["cells", "records"]))
def test_any_release_is_k_anonymous_and_truthful(data: tuple[pa.Table, int], share: float,
                                                 mode: str) -> None:
    table, k = data
    qis = [c for c in table.column_names if c != "rid"]
    r = k_anonymise(table, k=k, insensitive=["rid"], max_suppression=share,
                    suppression=mode)  # type: ignore[arg-type]
    assert check_k(r.table, qis, k) == []
    assert r.records_out + r.records_suppressed == table.num_rows == r.records_in
    assert r.records_out == r.table.num_rows
    assert r.smallest_class >= k or r.records_out == 0
    # every released value is the original, its generalisation, or "*"
    original = {row["rid"]: row for row in table.to_pylist()}
    for row in r.table.to_pylist():
        src = original[row["rid"]]
        for q in qis:
            ok = {src[q], SUPPRESSED} if r.levels[q] == 0 else {SUPPRESSED}
            assert row[q] in ok
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "release.csv"
        pacsv.write_csv(r.table, path)
        back = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in r.table.column_names},
            strings_can_be_null=True))
        assert check_k(back, qis, k) == []


# -- columns, groups, types -----------------------------------------------------------------


def test_groups_are_generalised_and_suppressed_together() -> None:
    rng = np.random.default_rng(5)
    n = 400
    f1 = rng.integers(0, 2, n)
    f2 = rng.integers(0, 2, n)
    f2[:4] = 1
    f1[:4] = 1
    text = np.where((f1 == 1) & (f2 == 1), "a;b", np.where(f1 == 1, "a", "b")).astype(object)
    year = rng.choice(["2019", "2020"], n)
    t = pa.table({"year": year, "f1": pa.array(f1, pa.int8()), "f2": pa.array(f2, pa.int8()),
                  "text": text, "rare": ["r"] * 3 + ["s"] * (n - 3)})
    r = k_anonymise(t, k=5, groups={"flags": ["f1", "f2", "text"]}, max_suppression=0.02)
    assert r.quasi_identifiers == ("year", "flags", "rare")
    assert dict(r.columns)["flags"] == ("f1", "f2", "text")
    for row in r.table.to_pylist():
        starred = [row[c] == SUPPRESSED for c in ("f1", "f2", "text")]
        assert all(starred) or not any(starred)
    assert r.cells_suppressed["f1"] == r.cells_suppressed["text"] == r.values_suppressed["flags"]
    assert check_k(r.table, ["year", "f1", "f2", "text", "rare"], 5) == []


def test_dates_are_released_as_years_and_lists_as_sorted_text() -> None:
    t = pa.table({
        "registration_date": pa.array([dt.date(2019, 5, 1), dt.date(2019, 12, 31)] * 6),
        "forms": pa.array([["B", "A"], ["A", "B"]] * 6, pa.list_(pa.string())),
    })
    r = k_anonymise(t, k=3)
    assert dict(r.levels) == {"registration_date": 0, "forms": 0}
    assert set(r.table.column("registration_date").to_pylist()) == {"2019"}
    assert set(r.table.column("forms").to_pylist()) == {"A;B"}


def test_named_quasi_identifiers_release_only_those_and_the_insensitive() -> None:
    t = _random_cases(4, 200).append_column("note", pa.array(["n"] * 200))
    r = k_anonymise(t, k=5, quasi_identifiers=["year", "sex"], insensitive=["note"])
    assert r.table.column_names == ["year", "sex", "note"]
    assert r.dropped_columns == ("age_band", "citizenship")
    assert r.insensitive == ("note",)


def test_no_quasi_identifier_releases_the_insensitive_columns_as_one_class() -> None:
    r = k_anonymise(_hand_table(), k=5, quasi_identifiers=[], insensitive=["sex"])
    assert r.table.column_names == ["sex"]
    assert (r.records_out, r.classes, r.smallest_class, r.discernibility) == (10, 1, 10, 100)


def test_a_given_hierarchy_overrides_the_default() -> None:
    t = pa.table({"colour": ["red"] * 3 + ["pink"] * 3 + ["blue"] * 6})
    h = Hierarchy(({"red": "warm", "pink": "warm", "blue": "cold"},),
                  ("colour", "warmth", "*"))
    r = k_anonymise(t, k=6, max_suppression=0.0, hierarchies={"colour": h})
    assert dict(r.level_names) == {"colour": "warmth"}
    assert sorted(r.table.column("colour").to_pylist()) == ["cold"] * 6 + ["warm"] * 6
    # |A| = 3; "warm" covers 2 -> (2-1)/(3-1) = 0.5 on 6 of 12 records, "cold" covers 1 -> 0
    assert r.ncp["colour"] == pytest.approx(0.25)


def test_settings_and_result_round_trip_through_json() -> None:
    s = KAnonSettings(k=7, quasi_identifiers=("year", "sex"), groups={"g": ("a", "b")},
                      hierarchies={"year": year_hierarchy([2019])}, max_suppression=0.02,
                      suppression="records")
    assert KAnonSettings.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    with pytest.raises(KAnonError, match="unknown field"):
        KAnonSettings.from_dict({"k": 5, "kk": 3})
    r = k_anonymise(_hand_table(), k=2, data_version="v42")
    d = json.loads(json.dumps(r.to_dict()))
    assert d["data_version"] == "v42"
    assert d["k"] == 2
    assert d["levels"] == {"year": 1, "sex": 0}
    assert "table" not in d
    assert d["parameters"]["k"] == 2
    assert "k=2" in r.summary()


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"k": 1}, "k must be a whole number of at least 2"),
    ({"k": 2.5}, "k must be a whole number of at least 2"),
    ({"quasi_identifiers": ["sex", "height"]}, "column 'height' is not in the table"),
    ({"insensitive": ["nope"]}, "column 'nope' is not in the table"),
    ({"max_suppression": 1.5}, r"max_suppression must be a share in \[0, 1\)"),
    ({"suppression": "rows"}, "suppression must be 'cells' or 'records'"),
    ({"groups": {"g": ["sex", "nope"]}}, "column 'nope' of group 'g' is not in the table"),
    ({"groups": {"g": ["sex"], "h": ["sex"]}}, "a column belongs to one group at most"),
    ({"quasi_identifiers": ["sex"], "insensitive": ["sex"]}, "both quasi-identifier"),
    ({"hierarchies": {"nope": Hierarchy()}}, "hierarchy is given for 'nope'"),
])
def test_bad_settings_are_refused_with_a_clear_message(kwargs: dict[str, object],
                                                       message: str) -> None:
    with pytest.raises(KAnonError, match=message):
        k_anonymise(_hand_table(), **kwargs)  # type: ignore[arg-type]


def test_empty_and_too_small_tables_are_refused() -> None:
    with pytest.raises(KAnonError, match="no records"):
        k_anonymise(_hand_table().slice(0, 0))
    with pytest.raises(KAnonError, match="10 records, fewer than k=11"):
        k_anonymise(_hand_table())


@pytest.mark.parametrize("column", ["given_name", "birth_date", "document_number",
                                    "record_id", "person_id", "prs_FirstName"])
def test_identifying_columns_are_never_released(column: str) -> None:
    t = _hand_table().append_column(column, pa.array(["x"] * 10))
    with pytest.raises(KAnonError, match="never released"):
        k_anonymise(t, k=2)
    with pytest.raises(KAnonError, match="never released"):
        k_anonymise(t, k=2, quasi_identifiers=["sex"], insensitive=[column])
    # not released at all: fine, and listed as dropped
    r = k_anonymise(t, k=2, quasi_identifiers=["year", "sex"])
    assert column not in r.table.column_names
    assert column in r.dropped_columns


def test_a_lattice_too_large_asks_for_groups() -> None:
    rng = np.random.default_rng(0)
    t = pa.table({f"flag{i}": rng.choice(["0", "1"], 50) for i in range(22)})
    with pytest.raises(KAnonError, match="declare one-hot flag columns as groups"):
        k_anonymise(t, k=2)
