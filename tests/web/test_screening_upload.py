"""Reading uploaded CSVs of texts: every bad file is refused with a message naming the column
or row, and every bad row is kept with its reason (no database, no model)."""

from __future__ import annotations

import pytest
from tests.web.screening_support import csv_bytes

from tiplab_web.screening import upload
from tiplab_web.screening.upload import UploadError, read_upload


def test_reads_rows_and_keeps_rejected_rows_with_reasons():
    data = csv_bytes([("a1", "First text."), ("", "No id."), ("a3", "   "),
                      ("a1", "Same id again."), ("a5", "Fifth text.")])
    up = read_upload(data, kind="texts")
    assert [(r.row, r.id, r.text) for r in up.accepted] == [(1, "a1", "First text."),
                                                           (5, "a5", "Fifth text.")]
    assert up.rows == 5
    reasons = {r["row"]: r["reason"] for r in up.rejected}
    assert set(reasons) == {2, 3, 4}
    assert "“id” is empty" in reasons[2]
    assert "“text” is empty" in reasons[3]
    assert "already given on row 1" in reasons[4]


def test_missing_column_names_it_and_lists_the_columns():
    data = csv_bytes([("a1", "text")], header=("ref", "body"))
    with pytest.raises(UploadError, match=r"no column “id”.*“ref”, “body”"):
        read_upload(data, kind="texts")
    up = read_upload(data, kind="texts", id_column="ref", text_column="body")
    assert up.accepted[0].id == "a1"


def test_empty_header_only_and_all_rejected_files_are_refused():
    with pytest.raises(UploadError, match="empty"):
        read_upload(b"", kind="texts")
    with pytest.raises(UploadError, match="empty"):
        read_upload(b"\n\n  \n", kind="texts")
    with pytest.raises(UploadError, match="header but no rows"):
        read_upload(b"id,text\n", kind="texts")
    with pytest.raises(UploadError, match=r"None of the 2 rows.*row 1: the text column"):
        read_upload(b"id,text\na,\nb,\n", kind="texts")


def test_huge_files_and_too_many_rows_are_refused(monkeypatch):
    monkeypatch.setattr(upload, "MAX_BYTES", 100)
    with pytest.raises(UploadError, match="at most 0 MB"):
        read_upload(b"id,text\n" + b"a,b\n" * 50, kind="texts")
    monkeypatch.setattr(upload, "MAX_BYTES", 10_000)
    monkeypatch.setattr(upload, "MAX_ROWS", 3)
    with pytest.raises(UploadError, match="more than 3 rows"):
        read_upload(b"id,text\n" + b"".join(b"a%d,b\n" % i for i in range(4)), kind="texts")


def test_wrong_field_count_and_long_text_are_row_errors(monkeypatch):
    monkeypatch.setattr(upload, "MAX_TEXT_CHARS", 10)
    up = read_upload(b"id,text\na,short\nb,x,extra\nc,much longer than ten\n", kind="texts")
    assert [r.id for r in up.accepted] == ["a"]
    reasons = {r["row"]: r["reason"] for r in up.rejected}
    assert "3 fields where the header has 2" in reasons[2]
    assert "at most 10 are screened" in reasons[3]


def test_encoding_and_delimiter_are_detected():
    text = "id;text\nz1;Travail saisonnier à Lyon, logement payé, passeport gardé.\n"
    up = read_upload(text.encode("cp1252"), kind="texts")
    assert up.encoding == "cp1252"
    assert up.delimiter == ";"
    assert up.accepted[0].text.startswith("Travail saisonnier à Lyon")
    up = read_upload(b"\xef\xbb\xbfid,text\nb1,caf\xc3\xa9\n", kind="texts")
    assert up.encoding == "utf-8-sig"
    assert up.columns == ["id", "text"]


def test_case_narratives_layout():
    data = csv_bytes([("police", "P-1", "She was promised a job."), ("police", "", "x")],
                     header=("source_agency", "record_id", "text"))
    up = read_upload(data, kind="case_narratives")
    assert [(r.id, r.source_agency, r.record_id) for r in up.accepted] == [
        ("police:P-1", "police", "P-1")]
    assert "“record_id” is empty" in up.rejected[0]["reason"]
    with pytest.raises(UploadError, match="no column “source_agency”, “record_id”"):
        read_upload(csv_bytes([("1", "t")]), kind="case_narratives")
