"""Reading agency exports (CSV, Parquet, XLSX) into Arrow, all columns as text for CSV/XLSX."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tiplab.linkage.errors import LinkageError

#: Parquet schema-metadata key written by ``tiplab encode``.
ENCODING_METADATA_KEY = b"tiplab.encoding"


def read_table(path: str | Path) -> pa.Table:
    """Read a CSV, Parquet or XLSX file to Arrow (CSV and XLSX columns as strings)."""
    p = Path(path)
    if not p.exists():
        raise LinkageError(f"{p}: file not found")
    suffix = p.suffix.lower()
    try:
        if suffix == ".parquet":
            return pq.read_table(p)
        if suffix in (".csv", ".txt", ".tsv"):
            import duckdb

            con = duckdb.connect()
            try:
                return con.sql(
                    "SELECT * FROM read_csv(?, all_varchar=true, header=true)", params=[str(p)]
                ).to_arrow_table()
            finally:
                con.close()
        if suffix in (".xlsx", ".xlsm"):
            import pandas as pd

            df = pd.read_excel(p, dtype=str)
            return pa.Table.from_pandas(df, preserve_index=False)
    except LinkageError:
        raise
    except Exception as e:  # the readers raise many types; name the file
        raise LinkageError(f"{p}: cannot read the file: {e}") from e
    raise LinkageError(f"{p}: unsupported file type '{suffix}'; use .csv, .parquet or .xlsx")


def encoding_metadata(table: pa.Table) -> dict[str, object] | None:
    """The encoding parameters stored by ``tiplab encode``, or None for clear-text tables."""
    meta = table.schema.metadata or {}
    raw = meta.get(ENCODING_METADATA_KEY)
    if raw is None:
        return None
    out = json.loads(raw)
    return out if isinstance(out, dict) else None
