"""Draft a mapping profile from a file's headers and values (``tiplab profile infer``).

The draft is a starting point for the analyst, never used unread: each guess carries a comment
saying what it was based on, and values that could not be mapped are listed for the analyst to
finish. Header matching uses synonyms in English, French, Spanish and a few other languages;
date formats are chosen by trying candidate formats on the column's distinct values; code
lists by matching the values to the schema's codes and labels.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tiplab import duck
from tiplab.ingest.profiles import ReadOptions
from tiplab.ingest.readers import ROW, read_file
from tiplab.ingest.sqlbits import ident
from tiplab.records.codes import CODE_LISTS
from tiplab.records.countries import normalise, resolve_country
from tiplab.records.schema import CASE_SCHEMA, Field

#: Header synonyms (normalised) per case-schema field.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "record_id": ("record id", "case id", "case no", "case number", "id", "file number",
                  "reference", "ref", "numero", "n dossier", "expediente", "case ref",
                  "record", "caseid", "case_no", "id caso"),
    "registration_date": ("registration date", "date registered", "registered", "date",
                          "date of registration", "intake date", "report date",
                          "date enregistrement", "fecha registro", "fecha", "reported",
                          "date reported", "opened", "identification date"),
    "given_name": ("first name", "given name", "forename", "prenom", "nombre", "firstname",
                   "fname", "vorname"),
    "family_name": ("last name", "family name", "surname", "nom", "apellido", "apellidos",
                    "lastname", "lname", "nachname"),
    "full_name": ("name", "full name", "nom complet", "nombre completo", "person"),
    "birth_date": ("date of birth", "dob", "birth date", "birthdate", "date de naissance",
                   "fecha de nacimiento", "born", "geburtsdatum"),
    "document_number": ("passport", "passport number", "document", "document number", "id number",
                        "national id", "passeport", "pasaporte", "doc no", "id document"),
    "phone": ("phone", "telephone", "mobile", "tel", "phone number", "telefono", "contact"),
    "sex": ("sex", "gender", "sexe", "sexo", "genre", "genero", "geschlecht"),
    "age": ("age", "edad", "age years", "age at registration"),
    "majority_status": ("majority status", "minor", "adult minor", "minor adult", "minor/adult",
                        "mineur", "menor"),
    "citizenship": ("citizenship", "nationality", "nationalite", "nacionalidad", "citizen",
                    "country of citizenship"),
    "country_of_exploitation": ("country of exploitation", "exploitation country",
                                "destination country", "pays d exploitation",
                                "pais de explotacion", "country"),
    "region_of_exploitation": ("region", "region of exploitation", "province", "district",
                               "state", "county", "departement", "provincia", "location"),
    "origin_country": ("country of origin", "origin country", "origin", "pays d origine",
                       "pais de origen"),
    "transit_countries": ("transit", "transit countries", "transit country", "route"),
    "exploitation_forms": ("exploitation", "type of exploitation", "form of exploitation",
                           "exploitation type", "forms of exploitation", "explotacion"),
    "labour_sectors": ("sector", "labour sector", "industry", "labor sector"),
    "means_of_control": ("means of control", "control methods", "methods of control",
                         "control"),
    "recruiter_relation": ("recruiter relation", "relationship to recruiter",
                           "recruiter relationship", "relation", "recruiter"),
    "trafficking_status": ("status", "trafficking status", "victim status",
                           "identification status"),
    "case_status": ("case status", "file status"),
}

DATE_CANDIDATES: tuple[str, ...] = (
    "%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%Y/%m/%d", "%d.%m.%y",
    "%d/%m/%y", "%m/%d/%y", "%Y%m%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y",
)


@dataclass
class _Guess:
    field: Field
    column: str
    note: str
    date_formats: tuple[str, ...] = ()
    codes: dict[str, str] | None = None
    unmapped: tuple[str, ...] = ()
    split: str | None = None


def _distinct(con: duckdb.DuckDBPyConnection, col: str, limit: int = 500) -> list[str]:
    return [r[0] for r in con.execute(
        f"SELECT DISTINCT trim({ident(col)}) FROM raw WHERE {ident(col)} IS NOT NULL AND "
        f"trim({ident(col)}) <> '' LIMIT {limit}").fetchall()]


def _best_dates(con: duckdb.DuckDBPyConnection, col: str) -> tuple[tuple[str, ...], float]:
    values = _distinct(con, col, 2000)
    if not values:
        return (), 0.0
    con.execute("CREATE OR REPLACE TEMP TABLE dv AS SELECT unnest($1::VARCHAR[]) AS v",
                [values])
    scores = []
    for fmt in DATE_CANDIDATES:
        row = con.execute("SELECT avg(CASE WHEN try_strptime(v, $1) IS NOT NULL THEN 1.0 "
                          "ELSE 0 END) FROM dv", [fmt]).fetchone()
        scores.append((float(row[0] or 0) if row else 0.0, fmt))
    scores.sort(reverse=True)
    best_score, best = scores[0]
    # Day-first and month-first both parse days <= 12; prefer the one that parses everything.
    return (best,), best_score


def _code_guess(f: Field, values: Iterable[str]) -> tuple[dict[str, str], tuple[str, ...]]:
    assert f.codelist is not None
    codes = CODE_LISTS[f.codelist]
    lookup: dict[str, str] = {}
    for code, label in codes.items():
        lookup[normalise(code)] = code
        if isinstance(label, str):
            lookup[normalise(label)] = code
            for word in normalise(label).split():
                lookup.setdefault(word, code)
    extra = {"m": "Masculine", "male": "Masculine", "man": "Masculine", "homme": "Masculine",
             "hombre": "Masculine", "masculino": "Masculine", "f": "Feminine",
             "female": "Feminine", "woman": "Feminine", "femme": "Feminine",
             "mujer": "Feminine", "femenino": "Feminine"} if f.codelist == "gender" else {}
    mapped: dict[str, str] = {}
    unmapped = []
    for v in values:
        key = normalise(v)
        found = extra.get(key) or lookup.get(key)
        if found:
            code = found
            mapped[v] = code
        else:
            unmapped.append(v)
    return mapped, tuple(unmapped)


def infer_profile(path: str | os.PathLike[str], name: str | None = None,
                  options: ReadOptions | None = None) -> str:
    """Return a draft profile (YAML text with comments) for ``path``."""
    p = Path(path)
    raw = read_file(p, options)
    con = duck.cursor()
    con.register("raw_in", raw.table)
    con.execute("CREATE TEMP TABLE raw AS SELECT * FROM raw_in")
    columns = [c for c in raw.table.column_names if c != ROW]
    taken: set[str] = set()
    guesses: list[_Guess] = []
    for f in CASE_SCHEMA.fields:
        if f.derived or f.name == "source_agency":
            continue
        syn = {normalise(s) for s in SYNONYMS.get(f.name, ())} | {normalise(f.name),
                                                                  normalise(f.label)}
        col = next((c for c in columns if c not in taken and normalise(c) in syn), None)
        if col is None:
            continue
        taken.add(col)
        values = _distinct(con, col)
        g = _Guess(f, col, f"header {col!r} matches {f.name}")
        if f.type == "date":
            fmts, score = _best_dates(con, col)
            g.date_formats = fmts
            g.note += f"; {score:.0%} of values parse as {fmts[0] if fmts else '?'}"
        elif f.codelist is not None:
            multi_sep = _separator(values) if f.multi else None
            parts = ([x.strip() for v in values for x in re.split(re.escape(multi_sep), v)]
                     if multi_sep else values)
            codes, unmapped = _code_guess(f, sorted(set(parts)))
            g.codes, g.unmapped, g.split = codes, unmapped, multi_sep
        elif f.type in ("country", "countries"):
            unknown = tuple(v for v in values if resolve_country(v) is None)
            g.unmapped = unknown
            g.note += f"; {len(values) - len(unknown)} of {len(values)} distinct values are " \
                      "recognised countries"
        guesses.append(g)
    con.close()
    return _render(p, name or re.sub(r"[^A-Za-z0-9_]+", "_", p.stem).strip("_").lower(),
                   raw.format, raw.encoding, raw.delimiter, guesses, columns, taken)


def _separator(values: list[str]) -> str | None:
    for sep in (";", "|", ",", "/"):
        if sum(sep in v for v in values) >= max(1, len(values) // 10):
            return sep
    return None


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _render(path: Path, name: str, fmt: str, encoding: str | None, delimiter: str | None,
            guesses: list[_Guess], columns: list[str], taken: set[str]) -> str:
    lines = [
        f"# Draft profile for {path.name}, made by 'tiplab profile infer'.",
        "# Check every mapping below before importing with it; unmapped values are listed.",
        f"profile: {name}",
        "kind: case",
        'schema_version: "1.0"',
        f"description: Export format of {path.name}",
        "read:",
        f"  format: {fmt}",
    ]
    if encoding:
        lines.append(f"  encoding: {encoding}")
    if delimiter:
        lines.append(f"  delimiter: {_q(delimiter)}")
    lines.append("fields:")
    for g in guesses:
        lines.append(f"  # {g.note}")
        lines.append(f"  {g.field.name}:")
        lines.append(f"    column: {_q(g.column)}")
        if g.date_formats:
            lines.append(f"    date_formats: [{', '.join(_q(f) for f in g.date_formats)}]")
        if g.split:
            lines.append(f"    split: {_q(g.split)}")
        if g.codes:
            lines.append("    codes:")
            for raw_value, code in sorted(g.codes.items()):
                lines.append(f"      {_q(raw_value)}: {code}")
        if g.unmapped:
            shown = ", ".join(g.unmapped[:20])
            more = f" and {len(g.unmapped) - 20} more" if len(g.unmapped) > 20 else ""
            lines.append(f"    # not mapped yet (add to codes): {shown}{more}")
    mapped = {g.field.name for g in guesses}
    for required in ("record_id", "registration_date"):
        if required not in mapped:
            lines.append(f"  # REQUIRED: map {required} to one of the file's columns")
    rest = [c for c in columns if c not in taken]
    if rest:
        lines.append(f"# Columns not used: {', '.join(rest)}")
    return "\n".join(lines) + "\n"
