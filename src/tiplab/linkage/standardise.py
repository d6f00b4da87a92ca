"""Standardise identifiers for comparison: one clean column per role, in ASCII.

Every function works on whole Arrow arrays. String clean-ups that need Python (anyascii
transliteration, phonetic codes, country names) run once per *unique* value and are mapped
back with ``index_in``/``take``; dates, sex, phones and documents are parsed in DuckDB SQL.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import duckdb
import jellyfish
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from anyascii import anyascii

from tiplab.linkage.roles import LinkInput
from tiplab.records.countries import resolve_country

log = logging.getLogger("tiplab.linkage")

#: Formats tried, after the input's own ``date_format``, to read birth dates. Day-first
#: before month-first: most agencies outside the US write day first; a wrong guess is
#: caught by the day/month-swap comparison level.
DEFAULT_DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%Y/%m/%d",
    "%Y%m%d",
    "%m/%d/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%d.%m.%y",
)

MALE = (
    "m",
    "male",
    "man",
    "men",
    "masculine",
    "masculin",
    "homme",
    "h",
    "hombre",
    "masculino",
    "mann",
    "männlich",
    "maennlich",
    "boy",
    "мужской",
    "м",
    "муж",
    "ذكر",
    "erkek",
    "barbat",
    "bărbat",
    "mężczyzna",
    "1",
)
FEMALE = (
    "f",
    "female",
    "woman",
    "women",
    "feminine",
    "féminin",
    "feminin",
    "femme",
    "mujer",
    "femenino",
    "feminino",
    "frau",
    "weiblich",
    "w",
    "girl",
    "женский",
    "ж",
    "жен",
    "أنثى",
    "kadin",
    "kadın",
    "femeie",
    "kobieta",
    "2",
)

#: A few given-name equivalents (nicknames, short forms) reduced to one form before the
#: phonetic code, so "Sasha" and "Aleksandr" share a blocking key. Kept short on purpose:
#: the list is a cue for the model, not a gazetteer.
NAME_EQUIVALENTS: dict[str, str] = {
    "sasha": "aleksandr",
    "sascha": "aleksandr",
    "alex": "aleksandr",
    "oleksandr": "aleksandr",
    "alexander": "aleksandr",
    "alexandr": "aleksandr",
    "alexandru": "aleksandr",
    "mohammad": "muhammad",
    "mohammed": "muhammad",
    "mohamed": "muhammad",
    "mohamad": "muhammad",
    "muhammed": "muhammad",
    "mehmet": "muhammad",
    "mhmd": "muhammad",
    "masha": "mariya",
    "maria": "mariya",
    "mariia": "mariya",
    "marie": "mariya",
    "kolya": "nikolay",
    "mykola": "nikolay",
    "nicolae": "nikolay",
    "nikolai": "nikolay",
    "volodymyr": "vladimir",
    "volodya": "vladimir",
    "vova": "vladimir",
    "yusuf": "yusuf",
    "youssef": "yusuf",
    "joseph": "yusuf",
    "iosif": "yusuf",
    "josef": "yusuf",
    "ibrahim": "ibrahim",
    "abraham": "ibrahim",
    "ebrahim": "ibrahim",
    "katya": "ekaterina",
    "kateryna": "ekaterina",
    "katerina": "ekaterina",
    "yekaterina": "ekaterina",
    "catherine": "ekaterina",
    "natasha": "natalia",
    "nataliya": "natalia",
    "natalya": "natalia",
    "ioana": "ioana",
    "yoana": "ioana",
    "joana": "ioana",
    "johanna": "ioana",
    "ahmad": "ahmed",
    "ahmet": "ahmed",
    "achmed": "ahmed",
    "olga": "olga",
    "olha": "olga",
    "ola": "olga",
    "lena": "elena",
    "olena": "elena",
    "helen": "elena",
    "yelena": "elena",
    "dima": "dmitry",
    "dmytro": "dmitry",
    "dmitri": "dmitry",
    "dmitriy": "dmitry",
    "fatma": "fatima",
    "fatimah": "fatima",
    "fatoumata": "fatima",
}

#: Particles that belong to the family name that follows them ("Al Hassan", "van Dijk").
FAMILY_PARTICLES = frozenset(
    {
        "al",
        "el",
        "al-",
        "el-",
        "abu",
        "bin",
        "ben",
        "ibn",
        "bint",
        "van",
        "von",
        "der",
        "de",
        "da",
        "di",
        "del",
        "della",
        "dos",
        "das",
        "du",
        "la",
        "le",
        "mac",
        "ould",
    }
)

_NON_ALPHA = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")


def clean_text(value: str | None) -> str | None:
    """Transliterate to ASCII, fold case, keep letters; ``None`` when nothing is left."""
    if value is None:
        return None
    s = anyascii(value).lower().replace("'", "").replace("`", "")
    s = _SPACES.sub(" ", _NON_ALPHA.sub(" ", s)).strip()
    return s or None


_NON_ALNUM = re.compile(r"[^a-z0-9 ]+")
_ALPHA3 = re.compile(r"[A-Z]{3}")


def clean_place(value: str | None) -> str | None:
    """Like :func:`clean_text` but keeps digits, so region codes ("XT-07", "XT-17") stay
    distinct instead of all becoming "xt"."""
    if value is None:
        return None
    s = anyascii(value).lower().replace("'", "").replace("`", "")
    s = _SPACES.sub(" ", _NON_ALNUM.sub(" ", s)).strip()
    return s or None


#: Values of a case characteristic that say nothing (compared as missing).
UNKNOWN_CATEGORY: frozenset[str] = frozenset(
    {"unknown", "not known", "not specified", "unspecified", "n a", "na", "none", "-"}
)
_CATEGORY_SPLIT = re.compile(r"\s*[|;,]\s*")


def category_set(mapping: dict[str, str] | None) -> Callable[[str | None], str | None]:
    """A function from a raw case characteristic (one value, or several joined by ``|``,
    ``;`` or ``,``) to its canonical codes, sorted and joined by ``|``. ``mapping`` (the
    roles file's ``codes``) rewrites each raw label to its code, matched on
    :func:`clean_place`; a value it does not list is kept cleaned; "unknown" and the like
    are dropped, and a value with nothing left is missing."""
    table = {clean_place(k): v for k, v in (mapping or {}).items()}

    def one(part: str) -> str | None:
        key = clean_place(part)
        if key is None:
            return None
        code = clean_place(table.get(key, key))
        return None if code is None or code in UNKNOWN_CATEGORY else code

    def fn(value: str | None) -> str | None:
        if value is None:
            return None
        whole = clean_place(value)
        if whole is not None and whole in table:
            parts = [one(value)]
        else:
            parts = [one(p) for p in _CATEGORY_SPLIT.split(value)]
        codes = sorted({p for p in parts if p})
        return "|".join(codes) or None

    return fn


def citizenship_code(value: str | None) -> str | None:
    """ISO alpha-3 from any spelling; a value already written as three capital letters is
    kept as a code (user-assigned codes such as 'XTL' are not in the ISO list)."""
    if not value:
        return None
    code = resolve_country(value)
    if code:
        return code
    v = value.strip()
    return v if _ALPHA3.fullmatch(v) else None


def phonetic_key(name: str | None) -> str | None:
    """A phonetic code of one (clean) name: metaphone with any leading vowel written 'A'.

    Metaphone keeps a leading vowel as is, so Oleksandr/Aleksandr would differ; double
    metaphone's convention (all initial vowels -> 'A') removes that.
    """
    if not name:
        return None
    key = name.replace(" ", "")
    key = NAME_EQUIVALENTS.get(key, key)
    code = jellyfish.metaphone(key)
    if not code:
        return None
    if code[0] in "AEIOUY":
        code = "A" + code[1:]
    return code


def split_full_name(value: str | None) -> tuple[str | None, str | None]:
    """Split a full name into (given, family), before transliteration.

    "FAMILY, Given" -> by the comma; one all-capitals token among mixed-case ones is the
    family name ("Anna PETRENKO"); otherwise the last token is the family name.
    """
    if value is None:
        return None, None
    s = value.strip()
    if not s:
        return None, None
    if "," in s:
        fam, _, giv = s.partition(",")
        return (clean_text(giv), clean_text(fam))
    tokens = s.split()
    if len(tokens) == 1:
        return None, clean_text(tokens[0])
    upper = [t for t in tokens if len(t) > 1 and t.isupper()]
    if len(upper) == 1 and len(upper) < len(tokens):
        fam_tok = upper[0]
        rest = [t for t in tokens if t is not fam_tok]
        return clean_text(" ".join(rest)), clean_text(fam_tok)
    cut = len(tokens) - 1
    while cut > 1 and tokens[cut - 1].casefold() in FAMILY_PARTICLES:
        cut -= 1
    return clean_text(" ".join(tokens[:cut])), clean_text(" ".join(tokens[cut:]))


def map_unique(
    arr: pa.Array | pa.ChunkedArray, fn: Callable[[str | None], object], out_type: pa.DataType
) -> pa.Array:
    """Apply ``fn`` once per distinct value and map the results back (vectorised)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    uniq = pc.unique(arr)
    mapped = pa.array([fn(v) for v in uniq.to_pylist()], type=out_type)
    idx = pc.index_in(arr, value_set=uniq)
    return mapped.take(idx)


def _first_token(s: str | None) -> str | None:
    return s.split(" ", 1)[0] if s else None


def _column(table: pa.Table, name: str | None) -> pa.Array:
    if name is None:
        return pa.nulls(table.num_rows, pa.string())
    col = table.column(name).combine_chunks()
    if not pa.types.is_string(col.type):
        col = pc.cast(col, pa.string())
    return col


#: Cell values that set a 0/1 flag column.
FLAG_TRUE: frozenset[str] = frozenset({"1", "true", "yes", "y", "x", "oui", "ja"})


def _set_column(
    table: pa.Table, name: str | None, flags: dict[str, str] | None
) -> pa.Array:
    """A set-valued role as text: its column, or, with ``flags`` (0/1 column -> code), the
    codes of the columns set in each row joined by ``|`` (null where no flag column holds a
    value). Rows are coded as bit masks, so the text is built once per distinct set."""
    if not flags:
        return _column(table, name)
    codes = list(flags.values())
    n = table.num_rows
    mask = np.zeros(n, dtype=np.int64)
    seen = np.zeros(n, dtype=bool)
    truthy = pa.array(sorted(FLAG_TRUE), pa.string())
    for j, c in enumerate(flags):
        col = pc.utf8_lower(pc.utf8_trim_whitespace(_column(table, c)))
        filled = pc.and_kleene(pc.is_valid(col), pc.not_equal(col, "")).fill_null(False)
        seen |= filled.to_numpy(zero_copy_only=False)
        on = pc.is_in(col, value_set=truthy).fill_null(False).to_numpy(zero_copy_only=False)
        mask |= on.astype(np.int64) << j
    uniq, inverse = np.unique(mask, return_inverse=True)
    text = ["|".join(codes[j] for j in range(len(codes)) if (u >> j) & 1) for u in uniq]
    flagged = pc.take(pa.array(text, pa.string()), pa.array(inverse))
    flagged = pc.if_else(pa.array(seen), flagged, pa.nulls(n, pa.string()))
    if not name:
        return flagged
    col = _column(table, name)
    both = pc.binary_join_element_wise(col, flagged, "|", null_handling="skip")
    return pc.if_else(pc.and_(pc.is_null(col), pc.is_null(flagged)), pa.nulls(n, pa.string()), both)


def _sql_str_list(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _date_sql(formats: list[str], col: str = "s") -> str:
    fmts = [*formats, *[f for f in DEFAULT_DATE_FORMATS if f not in formats]]
    tries = ", ".join(f"try_strptime({col}, '{f}')::DATE" for f in fmts)
    return f"coalesce({tries})"


def recode(arr: pa.Array, mapping: dict[str, str] | None) -> pa.Array:
    """Rewrite raw values to canonical ones (a gazetteer), matched on :func:`clean_place`;
    values the mapping does not list are kept as they are."""
    if not mapping:
        return arr
    table = {clean_place(k): v for k, v in mapping.items()}

    def fn(v: str | None) -> str | None:
        if v is None:
            return None
        return table.get(clean_place(v), v)

    return map_unique(arr, fn, pa.string())


def standardise(inp: LinkInput) -> pa.Table:
    """One clean row per input record (see module docstring for the columns)."""
    table = inp.arrow()
    inp.check(table)
    roles = inp.roles
    n = table.num_rows

    def raw(role: str) -> pa.Array:
        return recode(_column(table, roles.get(role)), inp.codes.get(role))

    given = map_unique(_column(table, roles.get("first_name")), clean_text, pa.string())
    family = map_unique(_column(table, roles.get("last_name")), clean_text, pa.string())
    if "full_name" in roles:
        full = _column(table, roles["full_name"])
        splits = map_unique(
            full, lambda v: "\x1f".join(x or "" for x in split_full_name(v)), pa.string()
        )
        parts = pc.split_pattern(splits, "\x1f")
        fg = pc.if_else(pc.equal(pc.list_element(parts, 0), ""), None, pc.list_element(parts, 0))
        ff = pc.if_else(pc.equal(pc.list_element(parts, 1), ""), None, pc.list_element(parts, 1))
        given = pc.coalesce(given, fg)
        family = pc.coalesce(family, ff)
    given_ph = map_unique(given, lambda v: phonetic_key(_first_token(v)), pa.string())
    family_ph = map_unique(family, phonetic_key, pa.string())
    cit = map_unique(raw("citizenship"), citizenship_code, pa.string())
    place = map_unique(raw("place"), clean_place, pa.string())
    region = map_unique(raw("region"), clean_place, pa.string())
    form = map_unique(
        _set_column(table, roles.get("exploitation_form"), inp.flags.get("exploitation_form")),
        category_set(inp.codes.get("exploitation_form")),
        pa.string(),
    )
    recruiter = map_unique(
        _column(table, roles.get("recruiter_relation")),
        category_set(inp.codes.get("recruiter_relation")),
        pa.string(),
    )
    means = map_unique(
        _set_column(table, roles.get("means_of_control"), inp.flags.get("means_of_control")),
        category_set(inp.codes.get("means_of_control")),
        pa.string(),
    )

    base = pa.table(
        {
            "record_id": _column(table, inp.record_id),
            "given": given,
            "family": family,
            "given_ph": given_ph,
            "family_ph": family_ph,
            "dob_raw": _column(table, roles.get("birth_date")),
            "sex_raw": raw("sex"),
            "citizenship": cit,
            "phone_raw": _column(table, roles.get("phone")),
            "doc_raw": _column(table, roles.get("document_number")),
            "place": place,
            "region": region,
            "form": form,
            "recruiter": recruiter,
            "means": means,
            "reg_raw": _column(table, roles.get("registration_date")),
            "age_raw": _column(table, roles.get("age")),
            **{f"attr_{a}": _column(table, c) for a, c in inp.attributes.items()},
        }
    )
    if pc.any(pc.is_null(base.column("record_id"))).as_py():
        raise_missing_ids(inp)
    attr_sql = []
    for a in inp.attributes:
        if a == "year":
            # a year, or the year of a registration date (written as that role's dates are)
            attr_sql.append(
                f"coalesce(try_cast(trim(attr_{a}) AS INTEGER), "
                f"year({_date_sql(inp.registration_date_formats, f'trim(attr_{a})')}))"
                f"::INTEGER AS attr_{a}"
            )
        elif a == "sex":
            attr_sql.append(f"{_sex_sql(f'attr_{a}')} AS attr_{a}")
        else:
            attr_sql.append(f"nullif(trim(attr_{a}), '') AS attr_{a}")
    con = duckdb.connect()
    try:
        con.register("base", base)
        sql = f"""
        WITH d AS (
          SELECT *, nullif(trim(dob_raw), '') AS s,
            CASE WHEN nullif(trim(reg_raw), '') IS NOT NULL
                 THEN {_date_sql(inp.registration_date_formats, "trim(reg_raw)")} END AS rd0,
            CASE WHEN try_cast(trim(age_raw) AS INTEGER) BETWEEN 0 AND 120
                 THEN try_cast(trim(age_raw) AS INTEGER) END AS age
          FROM base
        ), p AS (
          SELECT *,
            CASE
              WHEN s IS NULL THEN NULL
              WHEN regexp_full_match(s, '\\d{{4}}') THEN NULL
              WHEN regexp_full_match(s, '\\d{{4}}[-/.]\\d{{1,2}}')
                OR regexp_full_match(s, '\\d{{1,2}}[-/.]\\d{{4}}') THEN NULL
              ELSE {_date_sql(inp.date_formats)}
            END AS dfull,
            CASE
              WHEN regexp_full_match(s, '\\d{{4}}') THEN try_cast(s AS INTEGER)
              WHEN regexp_full_match(s, '\\d{{4}}[-/.]\\d{{1,2}}')
                THEN try_cast(left(s, 4) AS INTEGER)
              WHEN regexp_full_match(s, '\\d{{1,2}}[-/.]\\d{{4}}')
                THEN try_cast(right(s, 4) AS INTEGER)
            END AS py,
            CASE
              WHEN regexp_full_match(s, '\\d{{4}}[-/.]\\d{{1,2}}')
                THEN try_cast(regexp_extract(s, '^\\d{{4}}[-/.](\\d{{1,2}})$', 1) AS INTEGER)
              WHEN regexp_full_match(s, '\\d{{1,2}}[-/.]\\d{{4}}')
                THEN try_cast(regexp_extract(s, '^(\\d{{1,2}})[-/.]\\d{{4}}$', 1) AS INTEGER)
            END AS pm
          FROM d
        ), q AS (
          SELECT *,
            CASE WHEN dfull IS NOT NULL AND year(dfull) BETWEEN 1900 AND 2100 THEN dfull END
              AS dd,
            CASE WHEN py BETWEEN 1900 AND 2100 THEN py END AS yy,
            CASE WHEN pm BETWEEN 1 AND 12 THEN pm END AS mm,
            CASE WHEN year(rd0) BETWEEN 1900 AND 2100 THEN rd0 END AS rd
          FROM p
        ), r AS (
          SELECT *, coalesce(year(dd), yy)::INTEGER AS by0 FROM q
        )
        SELECT
          record_id, given, family, given_ph, family_ph,
          strftime(dd, '%Y-%m-%d') AS dob,
          CASE WHEN day(dd) <= 12 AND day(dd) <> month(dd)
               THEN strftime(make_date(year(dd), day(dd), month(dd)), '%Y-%m-%d') END
            AS dob_swap,
          coalesce(strftime(dd, '%Y-%m'),
                   CASE WHEN yy IS NOT NULL AND mm IS NOT NULL
                        THEN printf('%04d-%02d', yy, mm) END) AS dob_ym,
          by0 AS dob_year,
          -- the birth year, or the two years an age at registration allows
          coalesce(by0, year(rd) - age - 1)::INTEGER AS by_lo,
          coalesce(by0, year(rd) - age)::INTEGER AS by_hi,
          date_diff('day', DATE '1970-01-01', rd)::INTEGER AS reg_day,
          {_sex_sql("sex_raw")} AS sex,
          citizenship,
          CASE WHEN length(regexp_replace(coalesce(phone_raw, ''), '[^0-9]', '', 'g')) >= 7
               THEN right(regexp_replace(phone_raw, '[^0-9]', '', 'g'), 8) END AS phone8,
          CASE WHEN length(regexp_replace(upper(coalesce(doc_raw, '')), '[^A-Z0-9]', '',
                                          'g')) >= 4
               THEN regexp_replace(upper(doc_raw), '[^A-Z0-9]', '', 'g') END AS doc,
          place, region, form, recruiter, means
          {"".join(", " + a for a in attr_sql)}
        FROM r
        """
        out = con.sql(sql).to_arrow_table()
    finally:
        con.close()
    log.debug("standardised %d records of input %s", n, inp.source)
    return out


def _sex_sql(col: str) -> str:
    return (
        f"CASE WHEN lower(trim({col})) IN ({_sql_str_list(MALE)}) THEN 'M' "
        f"WHEN lower(trim({col})) IN ({_sql_str_list(FEMALE)}) THEN 'F' END"
    )


def raise_missing_ids(inp: LinkInput) -> None:
    from tiplab.linkage.errors import RolesError

    raise RolesError(
        f"input '{inp.source}': the record-id column '{inp.record_id}' has empty "
        "values; every record needs an id (fix the export or choose another "
        "column as record_id)"
    )
