"""The Splink model: comparisons, blocking rules and training rules, built as plain dicts.

Pure functions of (which columns hold data, clear or encoded, SQL dialect): they are tested
without a database and the resulting dict is exactly what ``model.json`` stores. Clear and
encoded models compare the same roles with the same level structure; encoded levels use the
Dice coefficient of Bloom filters where clear levels use Jaro-Winkler, and keyed hashes
compare for equality exactly as clear values do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

Mode = Literal["clear", "encoded"]
Dialect = Literal["duckdb", "spark"]

#: Jaro-Winkler similarity at which two names count as "close" (clear text).
JW_CLOSE = 0.92
#: Dice coefficient of bigram Bloom filters at which two names count as "close" (encoded).
DICE_CLOSE = 0.75
#: Dice at which two filters count as the same value (filters of equal strings give 1.0).
DICE_SAME = 0.98

#: Columns used for comparisons, per role group.
NAME_COLUMNS = ("given", "family", "given_ph", "family_ph")
BF_FIELDS = ("given", "family", "place")


def _jw(dialect: Dialect, a: str, b: str) -> str:
    fn = "jaro_winkler_similarity" if dialect == "duckdb" else "jaro_winkler"
    return f"{fn}({a}, {b})"


def dice_sql(dialect: Dialect, field: str, left: str = "_l", right: str = "_r") -> str:
    """SQL for the Dice coefficient of two Bloom filters: 2|A∧B| / (|A| + |B|).

    DuckDB compares the filters as BIT strings (``bit_count`` of the AND); Spark stores
    them as arrays of 64-bit integers and sums ``bit_count`` over ``zip_with``. The
    popcounts |A|, |B| are precomputed per record (``<field>_pc``).
    """
    a, b = f"{field}_bf{left}", f"{field}_bf{right}"
    pa_, pb = f"{field}_pc{left}", f"{field}_pc{right}"
    if dialect == "duckdb":
        inter = f"bit_count(CAST({a} AS BIT) & CAST({b} AS BIT))"
    else:
        inter = f"aggregate(zip_with({a}, {b}, (x, y) -> bit_count(x & y)), 0, (acc, v) -> acc + v)"
    return f"(2.0 * {inter} / ({pa_} + {pb}))"


def _lvl(sql: str, label: str, null: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        out["is_null_level"] = True
    return out


def _else() -> dict[str, Any]:
    return {"sql_condition": "ELSE", "label_for_charts": "All other comparisons"}


def name_comparison(mode: Mode, dialect: Dialect, tf_column: str | None = None) -> dict[str, Any]:
    """Given and family name together, so that order swaps and partial names are levels.

    ``tf_column`` (one value per full name) turns on term-frequency adjustments of the
    exact level.
    """
    if mode == "clear":

        def sim(a: str, b: str) -> str:
            return _jw(dialect, f"{a}_l", f"{b}_r")

        def same(a: str, b: str) -> str:
            return f"{a}_l = {b}_r"

        close = JW_CLOSE
        null = "(given_l IS NULL AND family_l IS NULL) OR (given_r IS NULL AND family_r IS NULL)"
    else:

        def sim(a: str, b: str) -> str:
            return dice_sql(dialect, a, "_l", "_r") if a == b else _cross_dice(dialect, a, b)

        def same(a: str, b: str) -> str:
            return f"{sim(a, b)} >= {DICE_SAME}"

        close = DICE_CLOSE
        null = (
            "(given_pc_l IS NULL AND family_pc_l IS NULL) OR "
            "(given_pc_r IS NULL AND family_pc_r IS NULL)"
        )

    def agrees(a: str) -> str:
        return f"({sim(a, a)} >= {close} OR {a}_ph_l = {a}_ph_r)"

    given_missing = (
        "(given_l IS NULL OR given_r IS NULL)"
        if mode == "clear"
        else "(given_pc_l IS NULL OR given_pc_r IS NULL)"
    )
    family_missing = (
        "(family_l IS NULL OR family_r IS NULL)"
        if mode == "clear"
        else "(family_pc_l IS NULL OR family_pc_r IS NULL)"
    )
    exact = _lvl(
        f"{same('given', 'given')} AND {same('family', 'family')}", "Exact given and family"
    )
    if tf_column:
        # Term-frequency adjustment: an exact match on a rare full name is stronger evidence
        # than one on a common name. The level's own u is the baseline.
        exact.update(
            tf_adjustment_column=tf_column,
            tf_adjustment_weight=1.0,
            disable_tf_exact_match_detection=True,
        )
    levels = [
        _lvl(null, "Name missing", null=True),
        exact,
        _lvl(
            f"{same('given', 'family')} AND {same('family', 'given')}",
            "Exact, given and family swapped",
        ),
        _lvl(
            f"({sim('given', 'given')} >= {close} AND {sim('family', 'family')} >= {close}) OR "
            f"({sim('given', 'family')} >= {close} AND {sim('family', 'given')} >= {close})",
            "Both close (either order)",
        ),
        _lvl(
            "(given_ph_l = given_ph_r AND family_ph_l = family_ph_r) OR "
            "(given_ph_l = family_ph_r AND family_ph_l = given_ph_r)",
            "Both sound alike (either order)",
        ),
        _lvl(f"{agrees('family')} AND {given_missing}", "Family agrees, given missing"),
        _lvl(f"{agrees('given')} AND {family_missing}", "Given agrees, family missing"),
        _lvl(agrees("family"), "Family agrees, given differs"),
        _lvl(agrees("given"), "Given agrees, family differs"),
        _else(),
    ]
    return {
        "output_column_name": "name",
        "comparison_levels": levels,
        "comparison_description": f"Given and family name ({mode})",
    }


def _cross_dice(dialect: Dialect, a: str, b: str) -> str:
    """Dice between field ``a`` on the left and field ``b`` on the right (name swaps)."""
    if dialect == "duckdb":
        inter = f"bit_count(CAST({a}_bf_l AS BIT) & CAST({b}_bf_r AS BIT))"
    else:
        inter = (
            f"aggregate(zip_with({a}_bf_l, {b}_bf_r, (x, y) -> bit_count(x & y)), 0, "
            "(acc, v) -> acc + v)"
        )
    return f"(2.0 * {inter} / ({a}_pc_l + {b}_pc_r))"


def birth_years_overlap() -> str:
    """SQL: the birth-year ranges [by_lo, by_hi] of the two records share a year.

    A date of birth gives one year (lo = hi); an age at registration gives the two years it
    allows. Written with equalities only, so that it works on keyed hashes of the years too.
    """
    return "(by_lo_l = by_lo_r OR by_lo_l = by_hi_r OR by_hi_l = by_lo_r OR by_hi_l = by_hi_r)"


def dob_comparison(mode: Mode, with_age: bool = False) -> dict[str, Any]:
    """Date of birth; with ``with_age``, also the birth year an age at registration implies.

    The age levels come after every date-of-birth level, so a pair where both records have a
    date of birth never reaches them (their ranges are single years, compared above).
    """
    null = (
        "by_lo_l IS NULL OR by_lo_r IS NULL"
        if with_age
        else "dob_year_l IS NULL OR dob_year_r IS NULL"
    )
    levels = [
        _lvl(null, "Birth date missing", null=True),
        _lvl("dob_l = dob_r", "Exact date"),
        _lvl("dob_swap_l = dob_r", "Day and month swapped"),
    ]
    if mode == "clear":
        levels.append(_lvl("levenshtein(dob_l, dob_r) <= 1", "One digit differs"))
    levels += [
        _lvl("dob_ym_l = dob_ym_r", "Same year and month"),
        _lvl("dob_year_l = dob_year_r", "Same year"),
    ]
    if mode == "clear":
        levels.append(_lvl("abs(dob_year_l - dob_year_r) <= 2", "Years within 2"))
    if with_age:
        levels.append(_lvl(birth_years_overlap(), "Birth year agrees with an age"))
    levels.append(_else())
    return {
        "output_column_name": "dob",
        "comparison_levels": levels,
        "comparison_description": "Date of birth (or age at registration), partial dates "
        "and day/month swaps",
    }


#: Registration-date windows (days) of the clear model; the encoded model compares keyed
#: hashes of the same windows laid on two grids offset by half a window (see encode.py).
REG_WINDOWS = (30, 180, 730)


#: Registration-date gaps (days) of the clear model. The records of one person's episode are
#: mostly registered within days of each other (identification, referral, intake); on the
#: simulated country 61% of the true cross-agency pairs among the candidates were at most 7
#: days apart against 23% of the false ones, which one "within 30 days" level could not
#: tell apart (F1 0.952 -> see docs/linkage.md, "What each step did").
REG_DAYS = (3, 7, 14, 30, 180, 730)


def registration_comparison(mode: Mode) -> dict[str, Any]:
    """How far apart the two records were registered (the date of contact or intake).

    The records of one person's trafficking episode are registered within days or weeks of
    each other (identification, referral, a shelter intake); two random records of a
    ten-year collection are years apart.
    """
    if mode == "clear":
        null = "reg_day_l IS NULL OR reg_day_r IS NULL"
        conds = [(f"abs(reg_day_l - reg_day_r) <= {w}", f"Within {w} days") for w in REG_DAYS]
    else:
        null = f"reg_w{REG_WINDOWS[0]}a_l IS NULL OR reg_w{REG_WINDOWS[0]}a_r IS NULL"
        conds = [
            (
                f"(reg_w{w}a_l = reg_w{w}a_r OR reg_w{w}b_l = reg_w{w}b_r)",
                f"Same {w}-day window",
            )
            for w in REG_WINDOWS
        ]
    levels = [_lvl(null, "Registration date missing", null=True)]
    levels += [_lvl(c, label) for c, label in conds]
    levels.append(_else())
    return {
        "output_column_name": "registered",
        "comparison_levels": levels,
        "comparison_description": "Registration (contact) dates close in time",
    }


def exact_comparison(column: str, label: str, fuzzy: str | None = None) -> dict[str, Any]:
    levels = [
        _lvl(f"{column}_l IS NULL OR {column}_r IS NULL", f"{label} missing", null=True),
        _lvl(f"{column}_l = {column}_r", f"Same {label.lower()}"),
    ]
    if fuzzy:
        levels.append(_lvl(fuzzy, f"{label} nearly equal"))
    levels.append(_else())
    return {
        "output_column_name": column,
        "comparison_levels": levels,
        "comparison_description": label,
    }


def _jaccard(dialect: Dialect, column: str) -> str:
    """Jaccard similarity of two ``|``-joined sets."""
    a, b = f"{column}_l", f"{column}_r"
    if dialect == "spark":
        sa, sb = f"split({a}, '[|]')", f"split({b}, '[|]')"
        return f"size(array_intersect({sa}, {sb})) / size(array_union({sa}, {sb}))"
    sa, sb = f"string_split({a}, '|')", f"string_split({b}, '|')"
    return f"len(list_intersect({sa}, {sb})) / len(list_distinct(list_concat({sa}, {sb})))"


def _set_levels(label: str, same: str, jaccard: str | None) -> list[dict[str, Any]]:
    levels = [_lvl(same, f"Same {label.lower()}")]
    if jaccard is not None:
        levels += [
            _lvl(f"{jaccard} >= 0.5", f"{label} mostly shared"),
            _lvl(f"{jaccard} > 0", f"{label} partly shared"),
        ]
    return [*levels, _else()]


def bits_comparison(column: str, label: str) -> dict[str, Any]:
    """:func:`set_comparison` on the sets as bit masks (``<column>_bits``, see
    :func:`tiplab.linkage.link.with_set_bits`): the same levels, two bit counts per pair
    (``bit_count`` and ``&``/``|`` on integers exist in DuckDB and Spark SQL alike)."""
    a, b = f"{column}_bits_l", f"{column}_bits_r"
    jaccard = f"bit_count({a} & {b}) / bit_count({a} | {b})"
    return {
        "output_column_name": column,
        "comparison_levels": [
            _lvl(f"{a} IS NULL OR {b} IS NULL", f"{label} missing", null=True),
            *_set_levels(label, f"{a} = {b}", jaccard),
        ],
        "comparison_description": label,
    }


def set_comparison(column: str, label: str, mode: Mode, dialect: Dialect) -> dict[str, Any]:
    """Two sets of codes (``|``-joined, sorted): the same set, mostly shared (Jaccard at
    least 1/2), some shared, none. Encoded, a set is one keyed hash: same set or not."""
    levels = [
        _lvl(f"{column}_l IS NULL OR {column}_r IS NULL", f"{label} missing", null=True),
        *_set_levels(
            label,
            f"{column}_l = {column}_r",
            _jaccard(dialect, column) if mode == "clear" else None,
        ),
    ]
    return {
        "output_column_name": column,
        "comparison_levels": levels,
        "comparison_description": label,
    }


SEX_M = (0.97, 0.03)
CITIZENSHIP_M = (0.9, 0.1)


def fixed_m(comparison: dict[str, Any], ms: tuple[float, ...]) -> dict[str, Any]:
    """Give the non-null levels of ``comparison`` these m probabilities, fixed in training."""
    levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
    for lv, m in zip(levels, ms, strict=True):
        lv["m_probability"] = m
        lv["fix_m_probability"] = True
    return comparison


def place_comparison(mode: Mode, dialect: Dialect) -> dict[str, Any]:
    if mode == "clear":
        return exact_comparison(
            "place", "Place", fuzzy=f"{_jw(dialect, 'place_l', 'place_r')} >= 0.9"
        )
    levels = [
        _lvl("place_pc_l IS NULL OR place_pc_r IS NULL", "Place missing", null=True),
        _lvl(f"{dice_sql(dialect, 'place')} >= {DICE_SAME}", "Same place"),
        _lvl(f"{dice_sql(dialect, 'place')} >= {DICE_CLOSE}", "Place nearly equal"),
        _else(),
    ]
    return {
        "output_column_name": "place",
        "comparison_levels": levels,
        "comparison_description": "Place (encoded)",
    }


def comparisons(present: Iterable[str], mode: Mode, dialect: Dialect) -> list[dict[str, Any]]:
    """The comparisons for the roles that hold data (``present``: column names)."""
    cols = set(present)
    out = []
    if cols & {"given", "family", "given_pc", "family_pc"}:
        out.append(name_comparison(mode, dialect, "name_key" if "name_key" in cols else None))
    if "by_lo" in cols:
        out.append(dob_comparison(mode, with_age=True))
    elif "dob_year" in cols:
        out.append(dob_comparison(mode))
    if "sex" in cols:
        out.append(fixed_m(exact_comparison("sex", "Sex"), SEX_M))
    if "citizenship" in cols:
        out.append(fixed_m(exact_comparison("citizenship", "Citizenship"), CITIZENSHIP_M))
    if "phone8" in cols:
        out.append(exact_comparison("phone8", "Phone (last 8 digits)"))
    if "doc" in cols:
        fuzzy = "levenshtein(doc_l, doc_r) <= 1" if mode == "clear" else None
        out.append(exact_comparison("doc", "Document number", fuzzy=fuzzy))
    if "place" in cols or "place_pc" in cols:
        out.append(place_comparison(mode, dialect))
    if "region" in cols:
        out.append(exact_comparison("region", "Region"))
    # Case characteristics: weak evidence (most victims share the common forms), but the
    # only evidence beyond a name and a date on the hotline's records, which carry no birth
    # date and no document. Agencies classify the same case differently at times; EM learns
    # how often from the data.
    if "form" in cols:
        out.append(exact_comparison("form", "Exploitation form"))
    if "recruiter" in cols:
        out.append(exact_comparison("recruiter", "Recruiter relationship"))
    if "means_bits" in cols:
        out.append(bits_comparison("means", "Means of control"))
    elif "means" in cols:
        out.append(set_comparison("means", "Means of control", mode, dialect))
    if "reg_day" in cols or f"reg_w{REG_WINDOWS[0]}a" in cols:
        out.append(registration_comparison(mode))
    if "agency" in cols:
        out.append(agency_comparison())
    return out


def agency_comparison() -> dict[str, Any]:
    """Whether the two records come from the same agency.

    Most of one person's records are held by different agencies; two records of one agency
    are one person only when the agency registered the person twice. Among random pairs,
    same-agency pairs are common (the big agencies). So "same agency" is evidence against a
    match, learned by EM like any other level, and keeps within-agency pairs from being
    scored like cross-agency matches.
    """
    levels = [
        _lvl("agency_l IS NULL OR agency_r IS NULL", "Agency unknown", null=True),
        _lvl("agency_l = agency_r", "Same agency"),
        _else(),
    ]
    return {
        "output_column_name": "agency",
        "comparison_levels": levels,
        "comparison_description": "Same agency (a re-registration) or two agencies",
    }


def _rule(*cols: str) -> str:
    return " AND ".join(f"l.{c} = r.{c}" for c in cols)


#: Days apart within which records sharing one name part and the region are compared.
BLOCK_DAYS = 90


def blocking_rules(present: Iterable[str]) -> list[str]:
    """Rules that generate the candidate pairs: each catches matches the others miss.

    The last rules reach pairs with a typo in one name part and no birth date on one side
    (the hotline's records): one name part sounds alike, same region, registered within
    :data:`BLOCK_DAYS` days (encoded: in a common 180-day window of either grid).
    """
    cols = set(present)
    rules = []
    # Both name sounds alone made the largest blocks: 142 million candidate pairs at a
    # million victims (one block of 3,570 records), for 1.1% of the true pairs that no other
    # rule finds, of which a quarter end up linked. With the citizenship as well: 33 million,
    # and 0.15% of the true pairs lost (simulated country, 200k victims, seed 7). When the
    # region and registration date are there, the window rules below reach the rest.
    both_names = (
        ("given_ph", "family_ph", "citizenship")
        if {"citizenship", "region", "reg_day"} <= cols
        or {"citizenship", "region", "reg_w180a"} <= cols
        else ("given_ph", "family_ph")
    )
    for combo in (
        ("family_ph", "dob_year"),
        ("given_ph", "dob_ym"),
        both_names,
        ("phone8",),
        ("doc",),
        ("dob", "citizenship"),
    ):
        if set(combo) <= cols:
            rules.append(_rule(*combo))
    if {"given_ph", "family_ph"} <= cols:
        rules.append("l.given_ph = r.family_ph AND l.family_ph = r.given_ph")
    for name in ("family_ph", "given_ph"):
        if {name, "region", "reg_day", "reg_w180a"} <= cols:
            # The window numbers make the join an equality join: on "same name sound and
            # region" alone, DuckDB built every pair of a common name's block before the
            # time filter (147 s of blocking at a million victims). Two dates at most 90
            # days apart always share a 180-day window of grid a or b, so the candidate
            # pairs are exactly those of the time filter.
            rules += [
                f"{_rule(name, 'region', f'reg_w180{g}')} "
                f"AND abs(l.reg_day - r.reg_day) <= {BLOCK_DAYS}"
                for g in "ab"
            ]
        elif {name, "region", "reg_day"} <= cols:
            rules.append(f"{_rule(name, 'region')} AND abs(l.reg_day - r.reg_day) <= {BLOCK_DAYS}")
        elif {name, "region", "reg_w180a"} <= cols:
            rules += [_rule(name, "region", f"reg_w180{g}") for g in "ab"]
    return rules


def training_rules(present: Iterable[str]) -> tuple[list[str], list[str]]:
    """(deterministic rules for the prior, EM blocking rules in order of preference).

    Training uses the first two EM rules that succeed; the later ones are fall-backs for
    small data, where EM on a rule can fail.
    """
    cols = set(present)
    det = []
    if {"given_ph", "family_ph", "dob"} <= cols:
        det.append(_rule("given_ph", "family_ph", "dob"))
    if "doc" in cols:
        det.append(_rule("doc"))
    em = []
    for combo in (
        ("dob",),
        ("given_ph", "family_ph"),
        ("phone8",),
        ("family_ph", "dob_year"),
        ("doc",),
    ):
        if set(combo) <= cols:
            em.append(_rule(*combo))
    return det, em


def settings_dict(present: Iterable[str], mode: Mode, dialect: Dialect) -> dict[str, Any]:
    """The Splink settings of a fresh (untrained) model."""
    cols = set(present)
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": comparisons(cols, mode, dialect),
        "blocking_rules_to_generate_predictions": blocking_rules(cols),
        "additional_columns_to_retain": [],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": True,
        "probability_two_random_records_match": 1e-5,
    }
