"""The model builders are pure functions: tested without a database."""

import duckdb
import pytest

from tiplab.linkage import model as mdl
from tiplab.linkage.roles import InputRoles


def test_comparisons_only_for_roles_with_data() -> None:
    names = [
        c["output_column_name"]
        for c in mdl.comparisons(
            {"given", "family", "given_ph", "family_ph", "dob_year", "sex"}, "clear", "duckdb"
        )
    ]
    assert names == ["name", "dob", "sex"]


def test_case_characteristics_are_compared_when_recorded() -> None:
    cols = {"given", "family", "given_ph", "family_ph", "region", "form", "recruiter"}
    comps = {c["output_column_name"]: c for c in mdl.comparisons(cols, "clear", "duckdb")}
    assert {"form", "recruiter"} <= set(comps)
    # learned by EM (not fixed), missing on either side says nothing
    for name in ("form", "recruiter"):
        levels = comps[name]["comparison_levels"]
        assert levels[0]["is_null_level"] is True
        assert not any(lv.get("fix_m_probability") for lv in levels)
    assert "form" not in {
        c["output_column_name"] for c in mdl.comparisons(cols - {"form"}, "clear", "duckdb")
    }


def test_encoded_model_uses_dice_and_no_clear_columns() -> None:
    cols = {"given_pc", "family_pc", "given_ph", "family_ph", "dob_year", "dob", "place_pc"}
    sql = str(mdl.comparisons(cols, "encoded", "duckdb"))
    assert "bit_count" in sql
    assert "jaro" not in sql
    assert "levenshtein" not in sql


def test_dice_sql_duckdb_matches_definition() -> None:
    """2|A∧B|/(|A|+|B|) for A=0b1111, B=0b0011: 2*2/(4+2)."""
    expr = mdl.dice_sql("duckdb", "given")
    con = duckdb.connect()
    row = con.execute(f"""
        SELECT {expr} FROM (SELECT from_hex('0f') AS given_bf_l, from_hex('03') AS given_bf_r,
                                   4 AS given_pc_l, 2 AS given_pc_r)""").fetchone()
    assert row is not None
    assert abs(row[0] - 4 / 6) < 1e-12


def test_dice_sql_spark_uses_portable_functions() -> None:
    expr = mdl.dice_sql("spark", "given")
    assert "zip_with" in expr
    assert "bit_count" in expr
    assert "CAST" not in expr


def test_blocking_rules_cover_swaps_and_identifiers() -> None:
    rules = mdl.blocking_rules(
        {"given_ph", "family_ph", "dob_year", "dob_ym", "phone8", "doc", "dob", "citizenship"}
    )
    assert "l.given_ph = r.family_ph AND l.family_ph = r.given_ph" in rules
    assert "l.phone8 = r.phone8" in rules
    assert "l.doc = r.doc" in rules


def test_training_rules_need_dates_or_names() -> None:
    det, em = mdl.training_rules({"given_ph", "family_ph", "dob"})
    assert det
    assert len(em) >= 2
    assert mdl.training_rules({"sex"}) == ([], [])


def test_age_registration_and_region_comparisons() -> None:
    from tiplab.linkage.model import blocking_rules, comparisons

    cols = {"given", "family", "given_ph", "family_ph", "dob", "dob_year", "dob_ym"}
    cols |= {"by_lo", "by_hi", "reg_day", "region"}
    comps = {c["output_column_name"]: c for c in comparisons(cols, "clear", "duckdb")}
    dob_labels = [lv["label_for_charts"] for lv in comps["dob"]["comparison_levels"]]
    # the age level comes after every birth-date level, just before "other"
    assert dob_labels[-2:] == ["Birth year agrees with an age", "All other comparisons"]
    reg = [lv["sql_condition"] for lv in comps["registered"]["comparison_levels"]]
    # days apart, finest first (most records of one episode are days apart)
    assert reg[1:7] == [f"abs(reg_day_l - reg_day_r) <= {d}" for d in (3, 7, 14, 30, 180, 730)]
    assert "region" in comps
    rules = blocking_rules(cols)
    assert (
        "l.family_ph = r.family_ph AND l.region = r.region AND abs(l.reg_day - r.reg_day) <= 90"
        in rules
    )
    # with the 180-day window numbers (link.prepare adds them) the time window becomes an
    # equality join on either grid, the 90-day filter unchanged
    windowed = blocking_rules(cols | {"reg_w180a", "reg_w180b"})
    for g in "ab":
        assert (
            f"l.family_ph = r.family_ph AND l.region = r.region AND l.reg_w180{g} = r.reg_w180{g} "
            "AND abs(l.reg_day - r.reg_day) <= 90"
        ) in windowed
    enc = {
        "given_pc",
        "family_pc",
        "given_ph",
        "family_ph",
        "dob_year",
        "by_lo",
        "by_hi",
        "region",
        "reg_w30a",
        "reg_w180a",
        "reg_w180b",
    }
    enc_comps = {c["output_column_name"]: c for c in comparisons(enc, "encoded", "duckdb")}
    enc_reg = [lv["sql_condition"] for lv in enc_comps["registered"]["comparison_levels"]]
    assert enc_reg[1] == "(reg_w30a_l = reg_w30a_r OR reg_w30b_l = reg_w30b_r)"
    assert "l.given_ph = r.given_ph AND l.region = r.region AND l.reg_w180b = r.reg_w180b" in (
        blocking_rules(enc)
    )


def test_birth_year_overlap_sql_is_a_range_overlap() -> None:
    import duckdb

    from tiplab.linkage.model import birth_years_overlap

    con = duckdb.connect()
    try:
        for (ll, lh, rl, rh), want in [
            ((1989, 1990, 1990, 1990), True),  # age vs birth date in range
            ((1989, 1990, 1990, 1991), True),  # two ages sharing a year
            ((1989, 1990, 1991, 1992), False),
            ((1985, 1985, 1986, 1986), False),  # two birth dates a year apart
        ]:
            got = con.execute(
                f"SELECT {birth_years_overlap()} FROM (SELECT {ll} AS by_lo_l, {lh} AS by_hi_l,"
                f" {rl} AS by_lo_r, {rh} AS by_hi_r)"
            ).fetchone()
            assert got is not None
            assert got[0] is want
    finally:
        con.close()


def test_set_comparison_levels_on_duckdb() -> None:
    """The means-of-control sets: same, mostly shared (Jaccard >= 1/2), partly, none."""
    comp = mdl.set_comparison("means", "Means of control", "clear", "duckdb")
    levels = comp["comparison_levels"]
    cases = [
        ("a|b", "a|b", "Same means of control"),
        ("a|b", "a|b|c", "Means of control mostly shared"),
        ("a|b|c", "c|d|e", "Means of control partly shared"),
        ("a", "b", "All other comparisons"),
        (None, "b", "Means of control missing"),
    ]
    con = duckdb.connect()
    for left, right, want in cases:
        for lv in levels:
            cond = lv["sql_condition"]
            if cond == "ELSE" or con.execute(
                f"SELECT {cond} FROM (SELECT ?::VARCHAR AS means_l, ?::VARCHAR AS means_r)",
                [left, right],
            ).fetchall()[0][0]:
                assert lv["label_for_charts"] == want, (left, right)
                break
    spark = str(mdl.set_comparison("means", "M", "clear", "spark"))
    assert "array_intersect" in spark
    assert "list_intersect" not in spark
    encoded = mdl.set_comparison("means", "M", "encoded", "duckdb")["comparison_levels"]
    assert len(encoded) == 3  # missing, same hash, else


def test_flags_apply_only_to_set_roles() -> None:
    InputRoles(flags={"means_of_control": {"c": "DebtBondage"}})
    with pytest.raises(ValueError, match="flags apply to"):
        InputRoles(flags={"sex": {"c": "F"}})
