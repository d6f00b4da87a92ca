"""Map a raw table onto a schema and validate every value, vectorised in DuckDB.

The profile turns the agency's columns into schema fields (:func:`build_mapped`); then every
rule runs as one SQL query over all rows and yields *issues*: one row per problem with the
spreadsheet row, the source column, the raw value, a reason code, a severity and a message that
names all three. A row with an error is rejected (kept, with its reasons); a row with only
warnings is accepted and flagged. Nothing is coerced silently: a value that does not parse is
an issue, never a guess.

Code and country values are mapped on the file's *distinct* values (a few hundred, even for a
million rows) in Python, then joined back in SQL, so the per-row work stays in DuckDB.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from tiplab import duck
from tiplab.errors import ProfileError
from tiplab.ingest.profiles import FieldMap, Profile
from tiplab.ingest.readers import ROW, RawTable
from tiplab.ingest.sqlbits import ident, lit, lit_list
from tiplab.records.codes import AGE_BANDS, CODE_LISTS
from tiplab.records.countries import (
    UNKNOWN_COUNTRY_VALUES,
    normalise,
    resolve_country,
    subdivision_codes,
)
from tiplab.records.schema import Field, Schema, get_schema

#: Reason codes and what they mean (``docs/validation.md`` is generated from this table).
REASONS: Mapping[str, str] = {
    "E_MISSING_REQUIRED": "a required field is empty",
    "E_DATE_INVALID": "not a date in the profile's formats (or ISO 8601)",
    "E_DATE_FUTURE": "a date after the day of the import",
    "E_DATE_IMPLAUSIBLE": "a date too far in the past to be right",
    "E_BIRTH_AFTER_REGISTRATION": "date of birth after the registration date",
    "E_INTEGER_INVALID": "not a whole number",
    "E_AGE_RANGE": "age outside 0-120",
    "E_AGE_CONTRADICTION": "majority status contradicts the age (e.g. a minor aged 35)",
    "E_CODE_UNKNOWN": "a value not in the field's code list or the profile's code map",
    "E_COUNTRY_UNKNOWN": "not a recognised country name or ISO 3166 code",
    "E_FLAG_INVALID": "a flag column holding something other than a yes/no value",
    "E_DUPLICATE_RECORD_ID": "the agency record id appears more than once in the file",
    "E_RECORD_ID_EXISTS": "the agency record id is already in an active batch of this source",
    "E_YEAR_RANGE": "a year outside 1900 to the current year",
    "E_VALUE_NEGATIVE": "a negative count",
    "E_MALFORMED_LINE": "a CSV line that does not split into the header's columns",
    "W_AGE_BIRTHDATE_MISMATCH": "the stated age differs from the age computed from the date "
                                "of birth by more than one year",
    "W_REGION_NOT_ISO": "a region that is not an ISO 3166-2 code (kept as written)",
    "W_REPLACEMENT_CHARACTER": "text holds U+FFFD, the mark of a broken encoding upstream",
    "W_DUPLICATE_CELL": "another row has the same key (country, indicator, dimension, "
                        "category, sex, age, year); both are kept and flagged",
}

REGISTRATION_MIN = dt.date(1950, 1, 1)
BIRTH_MIN = dt.date(1900, 1, 1)


@dataclass
class Validated:
    """The outcome of mapping and validating one file."""

    accepted: pa.Table
    rejected: pa.Table
    issues: pa.Table
    rows_read: int
    censored: int = 0
    columns_used: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def reasons(self) -> dict[str, int]:
        """Number of rows per reason code (a row with two reasons counts under both)."""
        if self.issues.num_rows == 0:
            return {}
        con = duck.cursor()
        con.register("issues", self.issues)
        rows = con.execute("SELECT code, count(DISTINCT row) FROM issues GROUP BY code "
                           "ORDER BY code").fetchall()
        con.close()
        return {str(c): int(n) for c, n in rows}

    @property
    def warnings(self) -> int:
        """Accepted rows carrying at least one warning."""
        if self.accepted.num_rows == 0:
            return 0
        flags = self.accepted.column("_warnings")
        return int(pa.compute.sum(pa.compute.greater(pa.compute.list_value_length(flags), 0))
                   .as_py() or 0)


def _resolve_columns(raw: RawTable, profile: Profile) -> dict[str, str]:
    """Profile column name -> actual column of the file (exact, then case/space-insensitive)."""
    actual = [c for c in raw.table.column_names if c != ROW]
    folded = {" ".join(c.split()).casefold(): c for c in actual}
    out: dict[str, str] = {}
    for fname, fmap in profile.fields.items():
        for col in fmap.source_columns:
            if col in actual:
                out[col] = col
                continue
            hit = folded.get(" ".join(col.split()).casefold())
            if hit is None:
                raise ProfileError(
                    f"column {col!r} is not in {raw.path.name}; the file's columns are: "
                    f"{', '.join(actual)}", path=profile.profile, field=fname)
            out[col] = hit
    return out


def _null_expr(expr: str, nulls: tuple[str, ...]) -> str:
    folded = sorted({n.strip().casefold() for n in nulls})
    listed = ", ".join(lit(n) for n in folded) or lit("")
    return (f"CASE WHEN trim({expr}) = '' OR lower(trim({expr})) IN ({listed}) "
            f"THEN NULL ELSE trim({expr}) END")


def _raw_expr(fmap: FieldMap, colmap: dict[str, str], nulls: tuple[str, ...]) -> str:
    """SQL giving the field's raw text (NULL when empty), before typing."""
    all_nulls = (*nulls, *fmap.missing_values)
    if fmap.value is not None:
        return lit(str(fmap.value))
    if fmap.column is not None:
        expr = _null_expr(ident(colmap[fmap.column]), all_nulls)
    elif fmap.columns is not None:
        parts = ", ".join(_null_expr(ident(colmap[c]), all_nulls) for c in fmap.columns)
        expr = f"NULLIF(concat_ws(' ', {parts}), '')"
    else:  # flags: the codes of the columns holding a true value, joined by a unit separator
        trues = ", ".join(lit(v.casefold()) for v in fmap.true_values)
        items = ", ".join(
            f"CASE WHEN lower(trim({ident(colmap[c])})) IN ({trues}) THEN {lit(code)} END"
            for c, code in (fmap.flags or {}).items())
        kept = f"list_filter([{items}], lambda x: x IS NOT NULL)"
        expr = f"NULLIF(array_to_string({kept}, '\x1f'), '')"
    if fmap.default is not None:
        expr = f"coalesce({expr}, {lit(fmap.default)})"
    return expr


def _column_label(fmap: FieldMap, colmap: dict[str, str]) -> str:
    if fmap.value is not None:
        return "(constant in profile)"
    return "+".join(colmap[c] for c in fmap.source_columns)


def _code_lookup(f: Field, fmap: FieldMap) -> dict[str, str]:
    """Folded raw text -> code, from the profile's map, then the code list's codes and labels."""
    out: dict[str, str] = {}
    if f.codelist is not None:
        codes = CODE_LISTS[f.codelist]
        for code, label in codes.items():
            out[normalise(code)] = code
            if isinstance(label, str):
                out.setdefault(normalise(label), code)
    for raw, code in fmap.codes.items():
        out[normalise(raw)] = code
    return out


def _map_values(f: Field, fmap: FieldMap, values: list[str]) -> tuple[list[str | None], list[str]]:
    """Map distinct raw values; returns (mapped value or None, status) per value.

    status: ``ok``, ``missing`` (a value meaning 'unknown'), or ``unknown`` (an error).
    """
    mapped: list[str | None] = []
    status: list[str] = []
    if f.type in ("country", "countries"):
        overrides = {normalise(k): v for k, v in fmap.codes.items()}
        for v in values:
            key = normalise(v)
            if key in overrides:
                mapped.append(overrides[key])
                status.append("ok")
            elif key in UNKNOWN_COUNTRY_VALUES:
                mapped.append(None)
                status.append("missing")
            else:
                a3 = resolve_country(v)
                mapped.append(a3)
                status.append("ok" if a3 else "unknown")
        return mapped, status
    if f.type == "region":
        lookup = {normalise(k): v for k, v in fmap.codes.items()}
        iso = subdivision_codes()
        for v in values:
            if lookup:
                code = lookup.get(normalise(v))
                mapped.append(code)
                status.append("ok" if code else "unknown")
            else:
                upper = v.strip().upper()
                mapped.append(upper if upper in iso else v.strip())
                status.append("ok" if upper in iso else "not_iso")
        return mapped, status
    lookup = _code_lookup(f, fmap)
    for v in values:
        code = lookup.get(normalise(v))
        mapped.append(code)
        status.append("ok" if code else "unknown")
    return mapped, status


@dataclass
class _Ctx:
    con: duckdb.DuckDBPyConnection
    schema: Schema
    profile: Profile
    colmap: dict[str, str]
    today: dt.date
    issue_sql: list[str] = field(default_factory=list)

    def issue(self, where: str, code: str, fname: str, value_sql: str, message_sql: str,
              table: str = "typed", window: bool = False) -> None:
        severity = "error" if code.startswith("E_") else "warning"
        if fname in self.schema and self.schema[fname].protected:
            # Issues are shown to analysts: an identifier's value never appears in them.
            value_sql = "NULL"
            for ref in (ident(fname + "__raw"), fname + "__raw"):
                message_sql = message_sql.replace(ref, "'\u2022\u2022\u2022'")
        fmap = self.profile.fields.get(fname)
        column = _column_label(fmap, self.colmap) if fmap is not None else fname
        self.issue_sql.append(
            f"SELECT {ident(ROW)} AS row, {lit(column)} AS \"column\", {lit(fname)} AS field, "
            f"CAST({value_sql} AS VARCHAR) AS value, {lit(code)} AS code, {lit(severity)} "
            f"AS severity, printf('row %d, column %s: %s', {ident(ROW)}, {lit(repr(column))}, "
            f"{message_sql}) AS message FROM {table} {'QUALIFY' if window else 'WHERE'} "
            f"{where}")


def validate(raw: RawTable, profile: Profile, source_agency: str, *,
             today: dt.date | None = None,
             existing_ids: pa.Table | None = None) -> Validated:
    """Map ``raw`` onto the profile's schema and validate it.

    ``existing_ids`` (a one-column table ``record_id``) holds the record ids of this source
    already in active batches; rows reusing one are rejected.
    """
    schema = get_schema(profile.kind)
    colmap = _resolve_columns(raw, profile)
    con = duck.cursor()
    try:
        con.register("raw", raw.table)  # scanned in place, not copied into DuckDB first
        ctx = _Ctx(con, schema, profile, colmap, today or dt.date.today())
        _build_typed(ctx, source_agency)
        if profile.kind == "case":
            _case_rules(ctx, existing_ids)
        else:
            _aggregate_rules(ctx)
        _profile_checks(ctx)
        _text_rules(ctx, raw)
        return _split(ctx, raw)
    finally:
        con.close()


def _build_typed(ctx: _Ctx, source_agency: str) -> None:
    con, profile = ctx.con, ctx.profile
    nulls = profile.read.null_values
    raw_cols = [f"{ident(ROW)}"]
    for fname, fmap in profile.fields.items():
        raw_cols.append(f"{_raw_expr(fmap, ctx.colmap, nulls)} AS {ident(fname + '__raw')}")
    con.execute(f"CREATE TEMP TABLE pre AS SELECT {', '.join(raw_cols)} FROM raw")

    selects = [f"pre.{ident(ROW)}"]
    joins = []
    for f in ctx.schema.fields:
        maybe = profile.fields.get(f.name)
        if maybe is None:
            if f.name == "source_agency":
                selects.append(f"{lit(source_agency)} AS source_agency")
            elif not f.derived:
                selects.append(f"CAST(NULL AS {_sql_type(f)}) AS {ident(f.name)}")
            continue
        fmap = maybe
        r = f"pre.{ident(f.name + '__raw')}"
        selects.append(f"{r} AS {ident(f.name + '__raw')}")
        if f.type in ("string",):
            selects.append(f"{r} AS {ident(f.name)}")
        elif f.type == "integer":
            sep = fmap.thousands_separator
            clean = f"replace({r}, {lit(sep)}, '')" if sep else r
            censored = fmap.censored
            typed = (f"CASE WHEN regexp_full_match({clean}, '[+-]?[0-9]{{1,18}}') "
                     f"THEN CAST({clean} AS BIGINT) END")
            if censored:
                keys = ", ".join(lit(k) for k in censored)
                selects.append(f"CASE WHEN {r} IN ({keys}) THEN NULL ELSE {typed} END "
                               f"AS {ident(f.name)}")
                lows = " ".join(f"WHEN {r} = {lit(k)} THEN {lo}" for k, (lo, _) in
                                censored.items())
                highs = " ".join(f"WHEN {r} = {lit(k)} THEN {hi}" for k, (_, hi) in
                                 censored.items())
                selects.append(f"CASE {lows} ELSE {typed} END AS {ident(f.name + '_low')}")
                selects.append(f"CASE {highs} ELSE {typed} END AS {ident(f.name + '_high')}")
                selects.append(f"coalesce({r} IN ({keys}), FALSE) AS censored")
            else:
                selects.append(f"{typed} AS {ident(f.name)}")
        elif f.type == "date":
            fmts = lit_list(fmap.date_formats) if fmap.date_formats else None
            parsed = (f"coalesce(try_strptime({r}, {fmts}), try_strptime({r}, '%Y-%m-%d'))"
                      if fmts else f"try_strptime({r}, '%Y-%m-%d')")
            selects.append(f"CAST({parsed} AS DATE) AS {ident(f.name)}")
        elif f.type == "boolean":
            selects.append(f"CAST({r} AS BOOLEAN) AS {ident(f.name)}")
        elif f.multi:
            sep = "\x1f" if fmap.flags is not None else (fmap.split or ";")
            codes, unknown = _map_multi(ctx, f, fmap, sep)
            joins.append(f"CROSS JOIN mp_{f.name}")
            selects.append(f"{codes} AS {ident(f.name)}")
            selects.append(f"{unknown} AS {ident(f.name + '__unknown')}")
        else:  # code, country, region: one value
            _map_single(ctx, f, fmap)
            joins.append(f"LEFT JOIN v_{f.name} ON v_{f.name}.raw = {r}")
            selects.append(f"v_{f.name}.mapped AS {ident(f.name)}")
            selects.append(f"v_{f.name}.status AS {ident(f.name + '__status')}")
    con.execute(f"CREATE TEMP TABLE typed AS SELECT {', '.join(selects)} FROM pre "
                f"{' '.join(joins)}")


def _sql_type(f: Field) -> str:
    return {"string": "VARCHAR", "date": "DATE", "integer": "BIGINT", "code": "VARCHAR",
            "codes": "VARCHAR[]", "country": "VARCHAR", "countries": "VARCHAR[]",
            "region": "VARCHAR", "boolean": "BOOLEAN"}[f.type]


def _map_single(ctx: _Ctx, f: Field, fmap: FieldMap) -> None:
    rcol = ident(f.name + "__raw")
    values = [r[0] for r in ctx.con.execute(
        f"SELECT DISTINCT {rcol} FROM pre WHERE {rcol} IS NOT NULL").fetchall()]
    mapped, status = _map_values(f, fmap, values)
    ctx.con.register(f"v_{f.name}_in", pa.table({
        "raw": pa.array(values, pa.string()), "mapped": pa.array(mapped, pa.string()),
        "status": pa.array(status, pa.string())}))
    ctx.con.execute(f"CREATE TEMP TABLE v_{f.name} AS SELECT * FROM v_{f.name}_in")
    ctx.con.unregister(f"v_{f.name}_in")


def _map_multi(ctx: _Ctx, f: Field, fmap: FieldMap, sep: str) -> tuple[str, str]:
    """Map a multi-value field with list functions, one row in and one row out.

    The distinct parts are mapped once in Python (code lists, synonyms) into a one-row table
    ``mp_<field>`` holding a DuckDB MAP of them; returns the SQL of the row's codes and of its
    unrecognised parts, for ``typed`` (which cross-joins that one row). No row is exploded and
    re-aggregated, and no million-row join is needed (both were the slowest steps of a
    million-row import).
    """
    rcol = ident(f.name + "__raw")
    parts = (f"list_filter(list_transform(string_split({rcol}, {lit(sep)}), "
             f"lambda x: trim(x)), lambda x: x <> '')")
    values = [r[0] for r in ctx.con.execute(
        f"SELECT DISTINCT part FROM (SELECT unnest({parts}) AS part FROM pre "
        f"WHERE {rcol} IS NOT NULL)").fetchall()]
    if fmap.flags is not None:  # flags already hold canonical codes
        mapped: list[str | None] = list(values)
        status = ["ok"] * len(values)
    else:
        mapped, status = _map_values(f, fmap, values)
    ctx.con.register(f"mv_{f.name}", pa.table({
        "part": pa.array(values, pa.string()), "mapped": pa.array(mapped, pa.string()),
        "status": pa.array(status, pa.string())}))
    ctx.con.execute(
        f"CREATE TEMP TABLE mp_{f.name} AS SELECT "
        f"map(list(part), list(mapped)) AS m, "
        f"coalesce(list(part) FILTER (WHERE status = 'unknown'), []) AS unk "
        f"FROM mv_{f.name}")
    ctx.con.unregister(f"mv_{f.name}")
    row_parts = parts.replace(rcol, f"pre.{rcol}")
    mp = f"mp_{f.name}"
    codes = (f"nullif(list_distinct(list_filter(list_transform({row_parts}, "
             f"lambda x: map_extract_value({mp}.m, x)), lambda x: x IS NOT NULL)), [])")
    unknown = f"nullif(list_filter({row_parts}, lambda x: list_contains({mp}.unk, x)), [])"
    return codes, unknown


def _case_rules(ctx: _Ctx, existing_ids: pa.Table | None) -> None:
    schema, profile, today = ctx.schema, ctx.profile, ctx.today
    _type_rules(ctx)
    for f in schema.fields:
        if f.required and f.name in profile.fields:
            ctx.issue(f"{ident(f.name + '__raw')} IS NULL", "E_MISSING_REQUIRED", f.name,
                      "NULL", lit(f"{f.label} is required but empty"))
    fields = profile.fields
    # Derived age: from date of birth and registration date when the age is not given.
    ctx.con.execute("ALTER TABLE typed ADD COLUMN age_from_birth BIGINT")
    ctx.con.execute("UPDATE typed SET age_from_birth = date_diff('year', birth_date, "
                    "registration_date) - CASE WHEN strftime(registration_date, '%m-%d') < "
                    "strftime(birth_date, '%m-%d') THEN 1 ELSE 0 END "
                    "WHERE birth_date IS NOT NULL AND registration_date IS NOT NULL")
    for name in ("registration_date", "birth_date"):
        if name in fields:
            ctx.issue(f"{ident(name)} > DATE {lit(today.isoformat())}", "E_DATE_FUTURE", name,
                      f"{ident(name + '__raw')}",
                      f"printf('%s is after today (%s)', {ident(name + '__raw')}, "
                      f"{lit(today.isoformat())})")
    if "registration_date" in fields:
        ctx.issue(f"registration_date < DATE {lit(REGISTRATION_MIN.isoformat())}",
                  "E_DATE_IMPLAUSIBLE", "registration_date", "registration_date__raw",
                  f"printf('registration date %s is before {REGISTRATION_MIN.year}', "
                  "registration_date__raw)")
    if "birth_date" in fields:
        ctx.issue(f"birth_date < DATE {lit(BIRTH_MIN.isoformat())}", "E_DATE_IMPLAUSIBLE",
                  "birth_date", "birth_date__raw",
                  f"printf('date of birth %s is before {BIRTH_MIN.year}', birth_date__raw)")
        ctx.issue("birth_date > registration_date", "E_BIRTH_AFTER_REGISTRATION",
                  "birth_date", "birth_date__raw",
                  "printf('date of birth %s is after the registration date %s', "
                  "birth_date__raw, CAST(registration_date AS VARCHAR))")
    if "age" in fields:
        ctx.issue("age < 0 OR age > 120", "E_AGE_RANGE", "age", "age__raw",
                  "printf('age %s is outside 0-120', age__raw)")
        ctx.issue("age IS NOT NULL AND age_from_birth IS NOT NULL AND "
                  "abs(age - age_from_birth) > 1", "W_AGE_BIRTHDATE_MISMATCH", "age",
                  "age__raw", "printf('age %s but the date of birth gives %d', age__raw, "
                              "age_from_birth)")
    if "majority_status" in fields:
        eff_age = "coalesce(age, age_from_birth)"
        ctx.issue(f"(majority_status = 'Minor' AND {eff_age} >= 18) OR "
                  f"(majority_status = 'Adult' AND {eff_age} < 18)", "E_AGE_CONTRADICTION",
                  "majority_status", "majority_status__raw",
                  f"printf('%s (%s) contradicts age %d', majority_status__raw, "
                  f"majority_status, {eff_age})")
    if "record_id" in fields:
        ctx.issue("record_id IS NOT NULL AND count(*) OVER (PARTITION BY record_id) > 1",
                  "E_DUPLICATE_RECORD_ID", "record_id", "record_id__raw",
                  "printf('record id %s appears %d times in the file', record_id__raw, "
                  "count(*) OVER (PARTITION BY record_id))", window=True)
        if existing_ids is not None and existing_ids.num_rows:
            ctx.con.register("existing_ids", existing_ids)
            ctx.issue("record_id IN (SELECT record_id FROM existing_ids)", "E_RECORD_ID_EXISTS",
                      "record_id", "record_id__raw",
                      "printf('record id %s is already in an active batch of this source; "
                      "supersede that batch to correct it', record_id__raw)")


def _type_rules(ctx: _Ctx) -> None:
    for f in ctx.schema.fields:
        fmap = ctx.profile.fields.get(f.name)
        if fmap is None:
            continue
        r = ident(f.name + "__raw")
        v = ident(f.name)
        if f.type == "date":
            fmts = ", ".join(fmap.date_formats) or "ISO 8601"
            ctx.issue(f"{r} IS NOT NULL AND {v} IS NULL", "E_DATE_INVALID", f.name, r,
                      f"printf('%s is not a valid date (expected {fmts.replace('%', '%%')})', "
                      f"{r})")
        elif f.type == "integer":
            cens = " AND NOT censored" if fmap.censored else ""
            ctx.issue(f"{r} IS NOT NULL AND {v} IS NULL{cens}", "E_INTEGER_INVALID", f.name, r,
                      f"printf('%s is not a whole number', {r})")
        elif f.type in ("code", "country", "region"):
            status = ident(f.name + "__status")
            if f.type == "country":
                ctx.issue(f"{status} = 'unknown'", "E_COUNTRY_UNKNOWN", f.name, r,
                          f"printf('%s is not a recognised country name or ISO code', {r})")
            elif f.type == "region":
                ctx.issue(f"{status} = 'unknown'", "E_CODE_UNKNOWN", f.name, r,
                          f"printf('%s is not in the profile''s region list', {r})")
                ctx.issue(f"{status} = 'not_iso'", "W_REGION_NOT_ISO", f.name, r,
                          f"printf('%s is not an ISO 3166-2 code; kept as written', {r})")
            else:
                allowed = ", ".join(CODE_LISTS[f.codelist]) if f.codelist else ""
                ctx.issue(f"{status} = 'unknown'", "E_CODE_UNKNOWN", f.name, r,
                          f"printf('%s is not a known {f.label.lower()} (codes: {allowed}; "
                          f"add it to the profile''s codes map)', {r})")
        elif f.multi and fmap.flags is None:
            unknown = ident(f.name + "__unknown")
            code = "E_COUNTRY_UNKNOWN" if f.type == "countries" else "E_CODE_UNKNOWN"
            ctx.issue(f"len({unknown}) > 0", code, f.name, f"array_to_string({unknown}, '; ')",
                      f"printf('%s not recognised (add to the profile''s codes map)', "
                      f"array_to_string({unknown}, '; '))")
        if fmap.flags is not None:
            ok = ", ".join(lit(x.casefold()) for x in (*fmap.true_values, *fmap.false_values,
                                                        *ctx.profile.read.null_values))
            for col in fmap.flags:
                c = ident(ctx.colmap[col])
                ctx.issue_sql.append(
                    f"SELECT {ident(ROW)} AS row, {lit(ctx.colmap[col])} AS \"column\", "
                    f"{lit(f.name)} AS field, {c} AS value, 'E_FLAG_INVALID' AS code, "
                    f"'error' AS severity, printf('row %d, column %s: %s is not a yes/no flag', "
                    f"{ident(ROW)}, {lit(repr(ctx.colmap[col]))}, {c}) AS message FROM raw "
                    f"WHERE {c} IS NOT NULL AND lower(trim({c})) NOT IN ({ok})")


def _aggregate_rules(ctx: _Ctx) -> None:
    _type_rules(ctx)
    for f in ctx.schema.fields:
        if (f.required or f.name == "value") and f.name in ctx.profile.fields:
            ctx.issue(f"{ident(f.name + '__raw')} IS NULL", "E_MISSING_REQUIRED", f.name,
                      "NULL", lit(f"{f.label} is required but empty"))
    if "year" in ctx.profile.fields:
        ctx.issue(f"year < 1900 OR year > {ctx.today.year}", "E_YEAR_RANGE", "year",
                  "year__raw", f"printf('year %s is outside 1900-{ctx.today.year}', year__raw)")
    if "value" in ctx.profile.fields:
        ctx.issue("value < 0", "E_VALUE_NEGATIVE", "value", "value__raw",
                  "printf('%s is a negative count', value__raw)")
    key = [k for k in ctx.schema.key if k in ctx.profile.fields]
    if key:
        part = ", ".join(ident(k) for k in key)
        ctx.issue(f"count(*) OVER (PARTITION BY {part}) > 1", "W_DUPLICATE_CELL", "value",
                  "value__raw",
                  f"printf('another row has the same {', '.join(key)}; values: %s', "
                  f"array_to_string(list(value__raw) OVER (PARTITION BY {part}), ' / '))",
                  window=True)


def _profile_checks(ctx: _Ctx) -> None:
    for check in ctx.profile.checks:
        col = ident(check.field)
        conds = []
        if check.pattern is not None:
            conds.append(f"regexp_matches(CAST({col} AS VARCHAR), {lit(check.pattern)})")
        if check.max is not None:
            conds.append(f"{col} > {check.max!r}")
        if check.min is not None:
            conds.append(f"{col} < {check.min!r}")
        where = " OR ".join(conds)
        for k, v in check.when.items():
            where = f"({where}) AND {ident(k)} = {lit(v)}"
        rawcol = ident(check.field + "__raw") if check.field in ctx.profile.fields else col
        ctx.issue(where, check.code, check.field, rawcol,
                  f"printf('%s: %s', {rawcol}, {lit(check.message)})")


def _text_rules(ctx: _Ctx, raw: RawTable) -> None:
    cols = [c for c in raw.table.column_names if c != ROW]
    if not cols:
        return
    joined = "concat_ws(' ', " + ", ".join(ident(c) for c in cols) + ")"
    ctx.issue_sql.append(
        f"SELECT {ident(ROW)} AS row, '(any)' AS \"column\", NULL AS field, NULL AS value, "
        f"'W_REPLACEMENT_CHARACTER' AS code, 'warning' AS severity, "
        f"printf('row %d: text holds the replacement character U+FFFD (broken encoding at "
        f"the source); kept as written', {ident(ROW)}) AS message FROM raw "
        f"WHERE contains({joined}, '\ufffd')")


def _split(ctx: _Ctx, raw: RawTable) -> Validated:
    con, schema = ctx.con, ctx.schema
    union = " UNION ALL ".join(f"({q})" for q in ctx.issue_sql) if ctx.issue_sql else \
        "SELECT NULL::BIGINT AS row, NULL AS \"column\", NULL AS field, NULL AS value, " \
        "NULL AS code, NULL AS severity, NULL AS message WHERE FALSE"
    con.execute(f"CREATE TEMP TABLE issues AS SELECT row, \"column\", field, value, code, severity,"
                f" message FROM ({union})")
    # Lines the CSV parser could not split are rejected whole, with their text.
    if raw.malformed:
        con.register("malformed", pa.table({
            "row": pa.array([m[0] for m in raw.malformed], pa.int64()),
            "text": pa.array([m[2] for m in raw.malformed], pa.string()),
            "err": pa.array([m[1] for m in raw.malformed], pa.string())}))
        # A case file's unparsed line may hold names: its text stays only in the sealed
        # rejected row, never in an issue an analyst sees.
        shown = "text" if ctx.profile.kind == "aggregate" else "NULL"
        con.execute(f"INSERT INTO issues SELECT row, '(line)', NULL, {shown}, "
                    "'E_MALFORMED_LINE', 'error', printf('row %d: the line does not split "
                    "into the header''s columns (%s)', row, err) FROM malformed")
    con.execute("CREATE TEMP TABLE row_status AS SELECT row, "
                "bool_or(severity = 'error') AS has_error, "
                "list(DISTINCT code ORDER BY code) FILTER (WHERE severity = 'warning') AS warns "
                "FROM issues GROUP BY row")
    out_cols = [ident(ROW)]
    for f in schema.fields:
        if profile_has_or_default(ctx, f):
            out_cols.append(f"typed.{ident(f.name)}")
    if ctx.profile.kind == "case":
        out_cols.append("coalesce(typed.age, typed.age_from_birth) AS age")
        out_cols = [c for c in out_cols if c != "typed.\"age\""]
        band = " ".join(f"WHEN coalesce(typed.age, typed.age_from_birth) BETWEEN {lo} AND {hi} "
                        f"THEN {lit(label)}" for label, (lo, hi) in AGE_BANDS.items())
        out_cols.append(f"CASE {band} END AS age_band")
        out_cols = [c for c in out_cols if c != 'typed."majority_status"']
        out_cols.append(
            "CASE WHEN typed.majority_status IS NOT NULL AND typed.majority_status <> 'Unknown'"
            " THEN typed.majority_status "
            "WHEN coalesce(typed.age, typed.age_from_birth) < 18 THEN 'Minor' "
            "WHEN coalesce(typed.age, typed.age_from_birth) >= 18 THEN 'Adult' "
            "ELSE typed.majority_status END AS majority_status"
            if "majority_status" in ctx.profile.fields else
            "CASE WHEN coalesce(typed.age, typed.age_from_birth) < 18 THEN 'Minor' "
            "WHEN coalesce(typed.age, typed.age_from_birth) >= 18 THEN 'Adult' END "
            "AS majority_status")
    else:
        for extra in ("value_low", "value_high", "censored"):
            if extra in _typed_columns(con):
                out_cols.append(f"typed.{extra}")
            elif extra == "censored":
                out_cols.append("FALSE AS censored")
            else:
                out_cols.append(f"typed.value AS {extra}")
    out_cols.append("coalesce(row_status.warns, []::VARCHAR[]) AS _warnings")
    accepted = con.sql(
        f"SELECT {', '.join(out_cols)} FROM typed LEFT JOIN row_status "
        f"ON row_status.row = typed.{ident(ROW)} WHERE NOT coalesce(row_status.has_error, FALSE)"
        ).to_arrow_table()
    accepted = _conform(_in_row_order(accepted), schema, ctx.profile.kind)
    raw_cols = [c for c in raw.table.column_names if c != ROW]
    struct = "json_object(" + ", ".join(f"{lit(c)}, {ident(c)}" for c in raw_cols) + ")" \
        if raw_cols else "'{}'"
    rejected_sql = (
        f"SELECT raw.{ident(ROW)} AS row, CAST({struct} AS VARCHAR) AS raw, "
        f"(SELECT list({{'code': i.code, 'column': i.\"column\", 'value': i.value, "
        f"'message': i.message}} ORDER BY i.code, i.\"column\") FROM issues i "
        f"WHERE i.row = raw.{ident(ROW)}) AS reasons "
        f"FROM raw JOIN row_status ON row_status.row = raw.{ident(ROW)} "
        f"WHERE row_status.has_error")
    if raw.malformed:
        rejected_sql += (" UNION ALL SELECT m.row, json_object('_line', m.text)::VARCHAR, "
                         "(SELECT list({'code': i.code, 'column': i.\"column\", 'value': i.value, "
                         "'message': i.message}) FROM issues i WHERE i.row = m.row) "
                         "FROM malformed m")
    rejected = con.sql(f"SELECT * FROM ({rejected_sql}) ORDER BY row").to_arrow_table()
    issues = con.sql("SELECT * FROM issues ORDER BY row, code, \"column\"").to_arrow_table()
    censored = 0
    if "censored" in accepted.column_names:
        censored = int(pa.compute.sum(accepted.column("censored")).as_py() or 0)
    return Validated(accepted=accepted, rejected=rejected, issues=issues,
                     rows_read=raw.rows_read, censored=censored,
                     columns_used={k: v.source_columns for k, v in ctx.profile.fields.items()})


def _in_row_order(table: pa.Table) -> pa.Table:
    """``table`` in source-row order.

    DuckDB's parallel hash joins return runs of rows out of order; sorting a million wide rows
    in SQL was the slowest step of validation, so the order is checked here (one vectorised
    comparison) and, when needed, only the row numbers are sorted and the columns gathered in
    that order, two at a time (Arrow releases the GIL).
    """
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.compute as pc

    rows = table.column(ROW)
    if len(rows) < 2:
        return table
    if pc.all(pc.greater(rows.slice(1), rows.slice(0, len(rows) - 1))).as_py():
        return table
    order = pc.sort_indices(rows)
    with ThreadPoolExecutor(2) as pool:
        columns = list(pool.map(lambda c: pc.take(c, order), table.columns))
    return pa.Table.from_arrays(columns, schema=table.schema)


def profile_has_or_default(ctx: _Ctx, f: Field) -> bool:
    return not f.derived or f.name in ctx.profile.fields


def _typed_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("DESCRIBE typed").fetchall()}


def _conform(table: pa.Table, schema: Schema, kind: str) -> pa.Table:
    """Order and type the accepted table's columns as the schema says."""
    target = schema.arrow_schema()
    cols: dict[str, Any] = {ROW: table.column(ROW)}
    for fld in target:
        if fld.name in table.column_names:
            cols[fld.name] = table.column(fld.name).cast(fld.type)
        else:
            cols[fld.name] = pa.nulls(table.num_rows, fld.type)
    cols["_warnings"] = table.column("_warnings")
    return pa.table(cols)


def reasons_to_json(reasons: list[dict[str, Any]]) -> str:
    return json.dumps(reasons, ensure_ascii=False)
