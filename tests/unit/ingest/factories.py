"""Small, explicit case-record files and profiles for the importer's tests."""

from __future__ import annotations

import csv
from pathlib import Path

from tiplab.ingest import parse_profile

POLICE_PROFILE = """\
profile: police_test
kind: case
schema_version: "1.0"
source_agency: Police
read:
  format: csv
  delimiter: ";"
fields:
  record_id: Case No
  registration_date:
    column: Registered
    date_formats: ["%d.%m.%Y"]
  given_name: First name
  family_name: Surname
  birth_date:
    column: DOB
    date_formats: ["%d.%m.%Y"]
  sex:
    column: Sex
    codes: {M: Masculine, F: Feminine, X: NonSpecifiedUnknown}
  age: Age
  majority_status:
    column: Minor
    codes: {yes: Minor, no: Adult}
  citizenship: Nationality
  exploitation_forms:
    column: Exploitation
    split: ","
    codes: {sexual: SexualExploitation, labour: ForcedLabour, begging: ForcedBegging}
  country_of_exploitation:
    value: GBR
"""

HEADER = ["Case No", "Registered", "First name", "Surname", "DOB", "Sex", "Age", "Minor",
          "Nationality", "Exploitation"]

GOOD = ["P-1", "31.12.2023", "Ana", "Popescu", "02.03.1990", "F", "33", "no", "Roumanie",
        "sexual"]


def police_profile():  # type: ignore[no-untyped-def]
    return parse_profile(POLICE_PROFILE, path="police_test.yaml")


def write_csv(path: Path, rows: list[list[str]], *, header: list[str] | None = None,
              delimiter: str = ";", encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header or HEADER)
        w.writerows(rows)
    return path


def row(**changes: str) -> list[str]:
    """A valid row with some columns changed (keys: column names with spaces as _)."""
    out = list(GOOD)
    for key, value in changes.items():
        out[HEADER.index(key.replace("_", " "))] = value
    return out
