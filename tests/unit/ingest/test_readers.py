"""Readers: encodings, delimiters, XLSX merged headers and trailing rows, JSON, Parquet."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from tiplab.errors import ReadError
from tiplab.ingest import prepare_import, read_file
from tiplab.ingest.profiles import ReadOptions

from .factories import GOOD, HEADER, police_profile, row, write_csv

TEXT = "Ştefănescu Zoë Müller Łukasz"


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
     ("cp1252", b""), ("latin-1", b"")],
)
def test_encodings_are_detected(tmp_path: Path, encoding: str, bom: bytes) -> None:
    name = "Zoë Müller" if encoding in ("cp1252", "latin-1") else TEXT
    body = "id;name\n1;" + name + "\n2;" + name[::-1] + "\n"
    path = tmp_path / "f.csv"
    path.write_bytes(bom + body.encode(encoding))
    raw = read_file(path)
    assert raw.table.column("name").to_pylist() == [name, name[::-1]]
    assert raw.table.column("_row").to_pylist() == [2, 3]
    assert raw.delimiter == ";"


def test_declared_encoding_that_does_not_fit_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes("id,name\n1,Zoë\n".encode("utf-16-le"))
    with pytest.raises(ReadError, match="not valid ascii"):
        read_file(path, ReadOptions(encoding="ascii"))


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_detected(tmp_path: Path, delimiter: str) -> None:
    path = write_csv(tmp_path / "f.csv", [GOOD, row(Case_No="P-2")], delimiter=delimiter)
    raw = read_file(path)
    assert raw.delimiter == delimiter
    assert raw.table.column("Case No").to_pylist() == ["P-1", "P-2"]


def test_malformed_lines_are_kept_as_rejects(tmp_path: Path) -> None:
    path = tmp_path / "police.csv"
    lines = [";".join(HEADER), ";".join(GOOD), "P-2;oops;too;few", ";".join(row(Case_No="P-3"))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    p = prepare_import(path, police_profile(), "Police")
    assert p.result.rows_read == 3
    assert p.result.accepted.column("_row").to_pylist() == [2, 4]
    rej = p.result.rejected.to_pylist()
    assert [r["row"] for r in rej] == [3]
    assert rej[0]["reasons"][0]["code"] == "E_MALFORMED_LINE"
    # The unparsed line may hold names: it is never copied into an issue.
    assert rej[0]["reasons"][0]["value"] is None
    assert "oops" not in rej[0]["reasons"][0]["message"]


def test_xlsx_with_merged_header_cells_and_trailing_empty_rows(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Case", None, "Person", None, None])  # group labels, merged across columns
    ws.merge_cells("A1:B1")
    ws.merge_cells("C1:E1")
    ws.append(["No", "Date", "Sex", "Age", "Nationality"])
    ws.append(["P-1", "2023-12-31", "F", 33, "Romania"])
    ws.append(["P-2", "2023-11-30", "M", 17.0, "Nigeria"])
    from openpyxl.styles import Border, Side

    thin = Side(style="thin")
    for r in range(5, 10):  # formatting-only rows at the end: exist in the file, hold nothing
        for c in range(1, 6):
            ws.cell(row=r, column=c).border = Border(top=thin)
    path = tmp_path / "export.xlsx"
    wb.save(path)
    raw = read_file(path, ReadOptions(header_row=2))
    assert raw.columns == ("Case No", "Case Date", "Person Sex", "Person Age",
                           "Person Nationality")
    assert raw.table.num_rows == 2
    assert raw.table.column("_row").to_pylist() == [3, 4]
    assert raw.table.column("Person Age").to_pylist() == ["33", "17"]
    assert raw.skipped_empty_rows >= 5


def test_json_and_ndjson(tmp_path: Path) -> None:
    records = [{"id": "H1", "date": "2024-01-02", "forms": ["sexual", "labour"], "age": 17},
               {"id": "H2", "date": "2024-01-03", "forms": [], "age": None}]
    j = tmp_path / "calls.json"
    j.write_text(json.dumps(records), encoding="utf-8")
    nd = tmp_path / "calls.ndjson"
    nd.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    for path in (j, nd):
        raw = read_file(path)
        t = raw.table
        assert t.column("id").to_pylist() == ["H1", "H2"]
        assert t.column("date").to_pylist() == ["2024-01-02", "2024-01-03"]
        assert t.column("forms").to_pylist()[0] == "sexual;labour"
        assert t.column("age").to_pylist() == ["17", None]
        assert t.column("_row").to_pylist() == [1, 2]


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "n": [1, 2]}), path)
    raw = read_file(path)
    assert raw.table.column("n").to_pylist() == ["1", "2"]


def test_unknown_extension_and_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "x.dat"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(ReadError, match=r"declare read\.format"):
        read_file(p)
    e = tmp_path / "e.csv"
    e.write_text("")
    with pytest.raises(ReadError, match="empty"):
        read_file(e)
