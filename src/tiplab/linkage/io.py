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
    """Read an agency export to Arrow.

    Parquet keeps its types (encoded files carry their metadata there); every other format the
    importer reads — CSV in any encoding and delimiter, XLSX, JSON, NDJSON — goes through
    :func:`tiplab.ingest.read_file`, so linkage reads exactly what the importer reads, as text.
    """
    from tiplab.errors import TiplabError
    from tiplab.ingest.readers import ROW, read_file

    p = Path(path)
    if not p.exists():
        raise LinkageError(f"{p}: file not found")
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            return pq.read_table(p)
        raw = read_file(p)
    except TiplabError as e:
        raise LinkageError(f"{p}: cannot read the file: {e}") from e
    except Exception as e:  # pyarrow raises many types; name the file
        raise LinkageError(f"{p}: cannot read the file: {e}") from e
    table = raw.table
    return table.drop_columns([ROW]) if ROW in table.column_names else table


def encoding_metadata(table: pa.Table) -> dict[str, object] | None:
    """The encoding parameters stored by ``tiplab encode``, or None for clear-text tables."""
    meta = table.schema.metadata or {}
    raw = meta.get(ENCODING_METADATA_KEY)
    if raw is None:
        return None
    out = json.loads(raw)
    return out if isinstance(out, dict) else None
