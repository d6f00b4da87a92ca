"""Write exports and truth tables, byte-for-byte reproducibly.

CSV goes through pyarrow's writer, then (for the agencies that need it) one transcoding of
the whole buffer; NDJSON through DuckDB's COPY; XLSX through openpyxl's write-only mode, with
the workbook's timestamps and the zip entries' dates fixed so the same seed gives the same
bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tiplab.simulate.errors import SimulationError

FIXED_TIME = dt.datetime(2000, 1, 1)


def write_csv(
    table: pa.Table, path: Path, *, delimiter: str = ",", encoding: str = "utf-8"
) -> None:
    buf = io.BytesIO()
    pacsv.write_csv(
        table,
        buf,
        write_options=pacsv.WriteOptions(
            include_header=True, delimiter=delimiter, quoting_style="needed"
        ),
    )
    data = buf.getvalue()
    if encoding == "utf-8-sig":
        data = b"\xef\xbb\xbf" + data
    elif encoding != "utf-8":
        try:
            data = data.decode("utf-8").encode(encoding)
        except UnicodeEncodeError as exc:
            raise SimulationError(
                f"{path.name}: text not representable in {encoding}: "
                f"{exc.object[exc.start : exc.end]!r}"
            ) from exc
    path.write_bytes(data)


def write_ndjson(table: pa.Table, path: Path) -> None:
    con = duckdb.connect()
    try:
        con.execute("SET threads = 1")  # a single writer keeps the row order and bytes fixed
        con.register("export_rows", table)
        con.execute(f"COPY (SELECT * FROM export_rows) TO '{path.as_posix()}' (FORMAT json)")
    finally:
        con.close()


def write_xlsx(table: pa.Table, path: Path, sheet: str = "Export") -> None:
    """Write an XLSX with every value as an inline string.

    openpyxl (write-only mode) writes the workbook's frame and header row; the data rows are
    built as sheet XML with Arrow string kernels and spliced in, because openpyxl's per-cell
    writer takes about a millisecond per row.
    """
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.properties.creator = "tiplab simulate"
    wb.properties.created = FIXED_TIME
    ws = wb.create_sheet(sheet)
    ws.append(table.column_names)
    tmp = io.BytesIO()
    wb.save(tmp)
    _fix_zip(tmp.getvalue(), path, _sheet_rows(table))


def _column_letter(i: int) -> str:
    letters = ""
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _concat(arr: pa.Array) -> bytes:
    """The bytes of a string array's values, back to back (no per-value Python objects)."""
    arr = pc.cast(arr, pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if len(arr) == 0:
        return b""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    data = arr.buffers()[2]
    return bytes(data.to_pybytes()[int(offsets[0]) : int(offsets[-1])])


def _sheet_rows(table: pa.Table) -> bytes:
    """<row> elements for every record (sheet rows 2..n+1), values as inline strings."""
    n = table.num_rows
    rows = pc.cast(pa.array(np.arange(2, n + 2, dtype=np.int64)), pa.string())
    cells: list[pa.Array] = []
    for i in range(table.num_columns):
        text = pc.cast(table.column(i), pa.string())
        for old, new in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
            text = pc.replace_substring(text, old, new)
        cell = pc.binary_join_element_wise(
            f'<c r="{_column_letter(i + 1)}',
            rows,
            '" t="inlineStr"><is><t xml:space="preserve">',
            text,
            "</t></is></c>",
            "",
        )
        cells.append(pc.fill_null(cell, ""))
    xml = pc.binary_join_element_wise('<row r="', rows, '">', *cells, "</row>", "")
    return _concat(xml)


def _fix_zip(data: bytes, path: Path, rows: bytes) -> None:
    """Rewrite the workbook zip: splice in the data rows, fix dates and the 'modified' stamp."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as out,
    ):
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = body.decode("utf-8")
                text = re.sub(
                    r"(<dcterms:(created|modified)[^>]*>)[^<]*(<)", rf"\g<1>{stamp}\g<3>", text
                )
                body = text.encode("utf-8")
            elif info.filename.startswith("xl/worksheets/sheet"):
                body = body.replace(b"</sheetData>", rows + b"</sheetData>", 1)
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            out.writestr(zi, body)


def write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd")


def write_json(obj: Any, path: Path) -> None:
    path.write_text(
        json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8"
    )


def write_table_csv(table: pa.Table, path: Path) -> None:
    """Truth and country tables: plain UTF-8 CSV."""
    write_csv(table, path)
