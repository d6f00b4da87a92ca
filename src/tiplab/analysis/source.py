"""Resolve what an analysis was given (an engine, an Ibis table, an Arrow table) to Ibis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from tiplab.analysis.errors import ColumnError

UNVERSIONED = "unversioned"


def resolve(source: Any, kind: str = "case", data_version: str | None = None
            ) -> tuple[ir.Table, str]:
    """Return ``(ibis table, data version)`` for an Engine, Ibis/Arrow table or Parquet path."""
    from tiplab.engine import Engine

    if isinstance(source, Engine):
        t = source.cases if kind == "case" else source.aggregates
        return t, data_version or source.data_version
    if isinstance(source, ir.Table):
        return source, data_version or UNVERSIONED
    if isinstance(source, pa.Table):
        return ibis.memtable(source), data_version or UNVERSIONED
    if isinstance(source, str | Path):
        return ibis.read_parquet(str(source)), data_version or UNVERSIONED
    raise ColumnError(f"cannot analyse a {type(source).__name__}: pass a tiplab Engine, an "
                      "Ibis table, an Arrow table or a Parquet path")


def require(t: ir.Table, *columns: str) -> None:
    missing = [c for c in columns if c not in t.columns]
    if missing:
        raise ColumnError(f"the table has no column(s) {', '.join(missing)}; available: "
                          f"{', '.join(t.columns)}")


def is_list(t: ir.Table, column: str) -> bool:
    return bool(t[column].type().is_array())


_QUIET: set[int] = set()


def execute(expr: ir.Table) -> pa.Table:
    """Run an Ibis expression on its own backend and return Arrow."""
    backend = expr._find_backend(use_default=True)
    if getattr(backend, "name", "") == "duckdb" and id(backend) not in _QUIET:
        # DuckDB draws a progress bar on stdout for long queries; the library never prints.
        backend.raw_sql("SET enable_progress_bar = false")
        _QUIET.add(id(backend))
    result: pa.Table = expr.to_pyarrow()
    return result


def unit_of(source: Any) -> dict[str, Any]:
    """What an analysis of ``source`` counts: an Engine says (records, or persons of its
    designated link run); any other table is counted row by row."""
    from tiplab.engine import Engine

    if isinstance(source, Engine):
        return source.unit_info()
    return {"unit": "records"}
