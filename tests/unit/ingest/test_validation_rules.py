"""Each validation rule: a file with one defect gives the right reason, row, column, value."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from tiplab.ingest import prepare_import

from .factories import GOOD, police_profile, row, write_csv

TODAY = dt.date(2024, 6, 1)


def _prepare(tmp_path: Path, rows: list[list[str]], **kw):  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "police.csv", rows)
    return prepare_import(path, police_profile(), "Police", today=TODAY, **kw)


def _issues(prepared):  # type: ignore[no-untyped-def]
    return prepared.result.issues.to_pylist()


def test_valid_row_is_accepted_and_typed(tmp_path: Path) -> None:
    p = _prepare(tmp_path, [GOOD])
    assert p.result.rejected.num_rows == 0
    rec = p.result.accepted.to_pylist()[0]
    assert rec["_row"] == 2
    assert rec["record_id"] == "P-1"
    assert rec["registration_date"] == dt.date(2023, 12, 31)
    assert rec["birth_date"] == dt.date(1990, 3, 2)
    assert rec["sex"] == "Feminine"
    assert rec["age"] == 33
    assert rec["age_band"] == "30-38"
    assert rec["majority_status"] == "Adult"
    assert rec["citizenship"] == "ROU"  # French country name
    assert rec["exploitation_forms"] == ["SexualExploitation"]
    assert rec["country_of_exploitation"] == "GBR"
    assert rec["source_agency"] == "Police"


@pytest.mark.parametrize(
    ("changes", "code", "column", "value"),
    [
        ({"Registered": "31.13.2023"}, "E_DATE_INVALID", "Registered", "31.13.2023"),
        ({"Registered": "2023/12/31"}, "E_DATE_INVALID", "Registered", "2023/12/31"),
        ({"Registered": "01.01.2030"}, "E_DATE_FUTURE", "Registered", "01.01.2030"),
        ({"Registered": "01.01.1901"}, "E_DATE_IMPLAUSIBLE", "Registered", "01.01.1901"),
        ({"Registered": ""}, "E_MISSING_REQUIRED", "Registered", None),
        ({"Case_No": ""}, "E_MISSING_REQUIRED", "Case No", None),
        ({"Sex": "Q"}, "E_CODE_UNKNOWN", "Sex", "Q"),
        ({"Nationality": "Atlantis"}, "E_COUNTRY_UNKNOWN", "Nationality", "Atlantis"),
        ({"Age": "150"}, "E_AGE_RANGE", "Age", "150"),
        ({"Age": "12.5"}, "E_INTEGER_INVALID", "Age", "12.5"),
        ({"Age": "35", "Minor": "yes", "DOB": ""}, "E_AGE_CONTRADICTION", "Minor", "yes"),
        ({"Exploitation": "sexual,organs"}, "E_CODE_UNKNOWN", "Exploitation", "organs"),
    ],
)
def test_error_rules(tmp_path: Path, changes: dict[str, str], code: str, column: str,
                     value: str | None) -> None:
    p = _prepare(tmp_path, [GOOD, row(**{"Case_No": "P-2", **changes})])
    issues = [i for i in _issues(p) if i["code"] == code]
    assert len(issues) == 1, _issues(p)
    issue = issues[0]
    assert issue["row"] == 3
    assert issue["column"] == column
    assert issue["value"] == value
    assert issue["severity"] == "error"
    assert issue["message"].startswith(f"row 3, column '{column}'")
    # Errors reject the row; the good row stays; nothing is lost.
    assert p.result.rejected.column("row").to_pylist() == [3]
    assert p.result.accepted.column("_row").to_pylist() == [2]
    reasons = p.result.rejected.column("reasons").to_pylist()[0]
    assert code in {r["code"] for r in reasons}


def test_birth_after_registration_hides_the_identifier_value(tmp_path: Path) -> None:
    p = _prepare(tmp_path, [row(DOB="01.01.2024", Age="")])
    issue = next(i for i in _issues(p) if i["code"] == "E_BIRTH_AFTER_REGISTRATION")
    assert issue["value"] is None  # a date of birth is an identifier: never in an issue
    assert "01.01.2024" not in issue["message"]
    assert p.result.accepted.num_rows == 0


def test_age_birthdate_mismatch_is_a_warning_and_keeps_the_row(tmp_path: Path) -> None:
    p = _prepare(tmp_path, [row(Age="40")])  # DOB 1990 gives 33 at registration
    issue = next(i for i in _issues(p) if i["code"] == "W_AGE_BIRTHDATE_MISMATCH")
    assert issue["severity"] == "warning"
    assert p.result.accepted.num_rows == 1
    assert p.result.accepted.column("_warnings").to_pylist() == [["W_AGE_BIRTHDATE_MISMATCH"]]
    assert p.result.warnings == 1


def test_duplicate_record_ids_reject_every_occurrence(tmp_path: Path) -> None:
    p = _prepare(tmp_path, [GOOD, GOOD, row(Case_No="P-3")])
    dup = [i for i in _issues(p) if i["code"] == "E_DUPLICATE_RECORD_ID"]
    assert sorted(i["row"] for i in dup) == [2, 3]
    assert "appears 2 times" in dup[0]["message"]
    assert p.result.accepted.column("record_id").to_pylist() == ["P-3"]


def test_record_id_already_stored_is_rejected(tmp_path: Path) -> None:
    existing = pa.table({"record_id": ["P-1"]})
    p = _prepare(tmp_path, [GOOD, row(Case_No="P-9")], existing_ids=existing)
    assert {i["code"] for i in _issues(p)} == {"E_RECORD_ID_EXISTS"}
    assert p.result.accepted.column("record_id").to_pylist() == ["P-9"]


def test_age_and_majority_are_derived_from_birth_date(tmp_path: Path) -> None:
    p = _prepare(tmp_path, [row(Age="", Minor="", DOB="15.06.2010")])
    rec = p.result.accepted.to_pylist()[0]
    assert rec["age"] == 13
    assert rec["age_band"] == "9-17"
    assert rec["majority_status"] == "Minor"


def test_replacement_character_is_flagged_not_rejected(tmp_path: Path) -> None:
    p = _prepare(tmp_path, [row(Surname="Pa\ufffdescu")])
    assert p.result.accepted.num_rows == 1
    assert [i["code"] for i in _issues(p)] == ["W_REPLACEMENT_CHARACTER"]


def test_counts_add_up_and_reasons_count_rows(tmp_path: Path) -> None:
    rows = [GOOD, row(Case_No="a", Sex="Q"), row(Case_No="b", Sex="Q", Age="999"),
            row(Case_No="c", Age="41")]
    p = _prepare(tmp_path, rows)
    s = p.summary()
    assert s["rows"] == 4
    assert s["accepted"] + s["rejected"] == s["rows"]
    # Reasons count rows per code, rejected rows included (row b: age 999 is out of range
    # and also disagrees with its date of birth); warnings count accepted rows flagged.
    assert s["reasons"] == {"E_AGE_RANGE": 1, "E_CODE_UNKNOWN": 2,
                            "W_AGE_BIRTHDATE_MISMATCH": 2}
    assert s["warnings"] == 1
