"""Read agency exports as they are: CSV (any common encoding and delimiter), XLSX, JSON,
NDJSON and Parquet, into one Arrow table of text columns plus ``_row``.

Every value is read as text, so nothing is coerced before validation sees it. ``_row`` is the
row number a person sees when opening the file in a spreadsheet: the header is row 1 (or
``header_row``), the first record row 2. Lines the CSV parser cannot split into the header's
columns are not dropped: they come back in :attr:`RawTable.malformed` with their line number
and text, and the importer rejects them with a reason.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tiplab import duck
from tiplab.errors import ReadError
from tiplab.ingest.profiles import ReadOptions

log = logging.getLogger("tiplab.ingest")

ROW = "_row"
FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
           ".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson", ".parquet": "parquet",
           ".pq": "parquet"}


@dataclass
class RawTable:
    """The file's content as text columns, with what was detected while reading it."""

    table: pa.Table
    path: Path
    format: str
    sha256: str
    size: int
    encoding: str | None = None
    delimiter: str | None = None
    columns: tuple[str, ...] = ()
    malformed: list[tuple[int, str, str]] = field(default_factory=list)
    skipped_empty_rows: int = 0

    @property
    def rows_read(self) -> int:
        return int(self.table.num_rows) + len(self.malformed)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def detect_format(path: Path, declared: str = "auto") -> str:
    if declared != "auto":
        return declared
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ReadError(f"{path}: cannot tell the format from the extension {path.suffix!r}; "
                        "declare read.format in the profile (csv, xlsx, json, ndjson, parquet)")
    return fmt


def read_file(path: str | os.PathLike[str], options: ReadOptions | None = None, *,
              sha256: str | None = None) -> RawTable:
    """Read ``path`` into a :class:`RawTable` of text columns.

    ``sha256``: the file's checksum when the caller has just computed it (the import checks
    it against earlier batches first), so a large file is not hashed twice.
    """
    p = Path(path)
    opts = options or ReadOptions()
    if not p.exists():
        raise ReadError(f"{p}: no such file")
    if p.stat().st_size == 0:
        raise ReadError(f"{p}: the file is empty")
    fmt = detect_format(p, opts.format)
    sha = sha256 or file_sha256(p)
    size = p.stat().st_size
    if fmt == "csv":
        return _read_csv(p, opts, sha, size)
    if fmt == "xlsx":
        return _read_xlsx(p, opts, sha, size)
    if fmt in ("json", "ndjson"):
        return _read_json(p, fmt, sha, size)
    if fmt == "parquet":
        return _read_parquet(p, sha, size)
    raise ReadError(f"{p}: unsupported format {fmt!r}")


# -- CSV ------------------------------------------------------------------------------------

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def detect_encoding(path: Path, declared: str = "auto") -> str:
    """The declared encoding, else BOM, else UTF-8 if it decodes, else charset-normalizer."""
    if declared != "auto":
        try:
            codecs.lookup(declared)
        except LookupError:
            raise ReadError(f"{path}: unknown encoding {declared!r} in the profile") from None
        return declared
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if head[:200].count(b"\x00") > 20:  # UTF-16 without BOM
        return "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
    try:
        _decode_all(path, "utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None:
        raise ReadError(f"{path}: cannot detect the text encoding; declare read.encoding "
                        "in the profile (e.g. latin-1, cp1252, utf-16)")
    enc = str(best.encoding)
    # Latin-1 is the safe superset of what detectors call iso8859_1/cp1252 for Western files.
    return "cp1252" if enc in ("cp1252", "iso8859_1", "latin_1") else enc


def _decode_all(path: Path, encoding: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)


def _to_utf8(path: Path, encoding: str) -> Path:
    """Transcode to a temporary UTF-8 file (streamed), so DuckDB reads any encoding."""
    fd, tmp = tempfile.mkstemp(suffix=".csv", prefix="tiplab-utf8-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out, \
                path.open("r", encoding=encoding, newline="", errors="strict") as src:
            for chunk in iter(lambda: src.read(1 << 22), ""):
                out.write(chunk)
    except UnicodeDecodeError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ReadError(f"{path}: not valid {encoding} at byte {exc.start}; declare the right "
                        "read.encoding in the profile") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _read_csv(path: Path, opts: ReadOptions, sha: str, size: int) -> RawTable:
    encoding = detect_encoding(path, opts.encoding)
    source = path
    tmp: Path | None = None
    if encoding not in ("utf-8", "utf-8-sig"):
        tmp = source = _to_utf8(path, encoding)
    con = duck.cursor()
    try:
        args = ["all_varchar=true", "header=true", "null_padding=false",
                "store_rejects=true", "rejects_table='rejects'", "rejects_scan='scans'",
                "strict_mode=true", "quote='\"'", "escape='\"'",
                f"skip={opts.header_row - 1}", "nullstr=''"]
        delimiter = opts.delimiter
        if delimiter != "auto":
            args.append(f"delim={_sql_str(delimiter.encode().decode('unicode_escape'))}")
        rel_sql = f"read_csv({_sql_str(str(source))}, {', '.join(args)})"
        try:  # straight into Arrow: no DuckDB table in between
            table = con.sql(f"SELECT * FROM {rel_sql}").to_arrow_table()
        except duckdb.Error as exc:
            raise ReadError(f"{path}: cannot parse as CSV ({encoding}): "
                            f"{str(exc).splitlines()[0]}") from exc
        if delimiter == "auto":
            sniff = con.execute(f"SELECT Delimiter FROM sniff_csv({_sql_str(str(source))}, "
                                f"skip={opts.header_row - 1})").fetchall()
            delimiter = sniff[0][0] if sniff else ","
        columns = list(table.column_names)
        malformed = [
            (int(line), str(msg), str(text))
            for line, msg, text in con.execute(
                "SELECT line, first(error_message ORDER BY column_idx), first(csv_line) "
                "FROM rejects GROUP BY line ORDER BY line").fetchall()
        ]
        # DuckDB numbers lines from 1 including the header, which matches the spreadsheet row.
        rejected_lines = {m[0] for m in malformed}
    finally:
        con.close()
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    rows = _row_numbers(table.num_rows, opts.header_row, rejected_lines)
    table = table.append_column(ROW, pa.array(rows, pa.int64()))
    return RawTable(table=table, path=path, format="csv", sha256=sha, size=size,
                    encoding=encoding, delimiter=delimiter, columns=tuple(columns),
                    malformed=malformed)


def _row_numbers(n: int, header_row: int, skipped_lines: set[int]) -> Any:
    """Spreadsheet row numbers of the n parsed rows, stepping over rejected lines."""
    import numpy as np

    first = header_row + 1
    candidates = np.arange(first, first + n + len(skipped_lines), dtype=np.int64)
    if skipped_lines:
        candidates = candidates[~np.isin(candidates, np.fromiter(skipped_lines, np.int64))]
    return candidates[:n]


# -- XLSX ------------------------------------------------------------------------------------

def _read_xlsx(path: Path, opts: ReadOptions, sha: str, size: int) -> RawTable:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=False, data_only=True)
    except Exception as exc:
        raise ReadError(f"{path}: not a readable XLSX workbook: {exc}") from exc
    try:
        if opts.sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(opts.sheet, int):
            ws = wb.worksheets[opts.sheet]
        else:
            if opts.sheet not in wb.sheetnames:
                raise ReadError(f"{path}: no sheet {opts.sheet!r}; sheets: "
                                f"{', '.join(wb.sheetnames)}")
            ws = wb[opts.sheet]
        # Merged cells keep their value only in the top-left cell: spread it over the range
        # (for header rows that group several columns under one label).
        merged_value: dict[tuple[int, int], object] = {}
        for rng in ws.merged_cells.ranges:
            top_left = ws.cell(rng.min_row, rng.min_col).value
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    merged_value[(r, c)] = top_left
        values = [list(row) for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    hr = opts.header_row
    if len(values) < hr:
        raise ReadError(f"{path}: sheet has {len(values)} rows, the header should be on row {hr}")
    width = max((len(r) for r in values), default=0)

    def cell(r: int, c: int) -> object:
        v = merged_value.get((r, c))
        if v is not None:
            return v
        row = values[r - 1]
        return row[c - 1] if c - 1 < len(row) else None

    header: list[str] = []
    for c in range(1, width + 1):
        parts = []
        # A merged group label on the row above the header is joined to the column's name.
        above = cell(hr - 1, c) if hr > 1 else None
        if above is not None and (hr - 1, c) in merged_value:
            parts.append(str(above).strip())
        here = str(cell(hr, c) or "").strip()
        if here and (not parts or here != parts[-1]):
            parts.append(here)
        header.append(" ".join(parts))
    # Trailing columns with neither a header nor any value are formatting, not data.
    while header and not header[-1] and all(
            (len(r) < len(header) or r[len(header) - 1] in (None, "")) for r in values[hr:]):
        header.pop()
    header = _dedupe([h or f"column_{i + 1}" for i, h in enumerate(header)])
    cols: list[list[str | None]] = [[] for _ in header]
    rows: list[int] = []
    skipped = 0
    for r in range(hr + 1, len(values) + 1):
        texts = [_cell_text(cell(r, c)) for c in range(1, len(header) + 1)]
        if all(t is None for t in texts):
            skipped += 1  # an empty row (often trailing formatting); holds no data
            continue
        for i, t in enumerate(texts):
            cols[i].append(t)
        rows.append(r)
    table = pa.table({h: pa.array(col, pa.string()) for h, col in zip(header, cols, strict=True)})
    table = table.append_column(ROW, pa.array(rows, pa.int64()))
    return RawTable(table=table, path=path, format="xlsx", sha256=sha, size=size,
                    columns=tuple(header), skipped_empty_rows=skipped)


def _cell_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "isoformat"):
        text = str(v.isoformat())
        return text[:10] if text.endswith("T00:00:00") else text
    text = str(v).strip()
    return text or None


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n}_{seen[n]}")
        else:
            seen[n] = 1
            out.append(n)
    return out


# -- JSON / Parquet ---------------------------------------------------------------------------

def _as_text_table(con: duckdb.DuckDBPyConnection, source_sql: str) -> pa.Table:
    con.execute(f"CREATE TEMP TABLE src AS SELECT * FROM {source_sql}")
    described = con.execute("DESCRIBE src").fetchall()
    exprs = []
    for name, dtype, *_ in described:
        q = '"' + str(name).replace('"', '""') + '"'
        t = str(dtype).upper()
        if t.endswith("[]"):
            exprs.append(f"array_to_string({q}, ';') AS {q}")
        elif t.startswith(("STRUCT", "MAP", "JSON")):
            exprs.append(f"to_json({q})::VARCHAR AS {q}")
        else:
            exprs.append(f"CAST({q} AS VARCHAR) AS {q}")
    return con.sql(f"SELECT {', '.join(exprs)} FROM src").to_arrow_table()


def _read_json(path: Path, fmt: str, sha: str, size: int) -> RawTable:
    con = duck.cursor()
    try:
        layout = "newline_delimited" if fmt == "ndjson" else "auto"
        try:
            table = _as_text_table(
                con, f"read_json({_sql_str(str(path))}, format='{layout}', "
                     "date_format='NONE', timestamp_format='NONE', sample_size=-1)")
        except duckdb.Error as exc:
            raise ReadError(f"{path}: cannot read as {fmt.upper()}: "
                            f"{str(exc).splitlines()[0]}") from exc
    finally:
        con.close()
    table = table.append_column(ROW, pa.array(range(1, table.num_rows + 1), pa.int64()))
    return RawTable(table=table, path=path, format=fmt, sha256=sha, size=size,
                    encoding="utf-8", columns=tuple(table.column_names[:-1]))


def _read_parquet(path: Path, sha: str, size: int) -> RawTable:
    con = duck.cursor()
    try:
        try:
            table = _as_text_table(con, f"read_parquet({_sql_str(str(path))})")
        except duckdb.Error as exc:
            raise ReadError(f"{path}: cannot read as Parquet: "
                            f"{str(exc).splitlines()[0]}") from exc
    finally:
        con.close()
    table = table.append_column(ROW, pa.array(range(1, table.num_rows + 1), pa.int64()))
    return RawTable(table=table, path=path, format="parquet", sha256=sha, size=size,
                    columns=tuple(table.column_names[:-1]))
