"""The model builders are pure functions: tested without a database."""

import duckdb

from tiplab.linkage import model as mdl


def test_comparisons_only_for_roles_with_data() -> None:
    names = [
        c["output_column_name"]
        for c in mdl.comparisons(
            {"given", "family", "given_ph", "family_ph", "dob_year", "sex"}, "clear", "duckdb"
        )
    ]
    assert names == ["name", "dob", "sex"]


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
