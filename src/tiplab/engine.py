"""The analytics engine: the snapshot opened with DuckDB through Ibis.

Analysis code takes an :class:`Engine` and writes Ibis expressions against ``engine.cases``
(case records) and ``engine.aggregates`` (aggregate statistics), so the same code can later
run on Spark by opening the same Parquet files with Ibis' PySpark backend. Every result built
from an engine carries ``engine.data_version``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from tiplab.config import data_dir as default_data_dir
from tiplab.records.schema import get_schema
from tiplab.snapshot import Snapshot, open_snapshot


@contextmanager
def _quiet_ibis() -> Iterator[None]:
    """Ibis 12 calls DuckDB 2's deprecated fetch_arrow_table(); the result is the same and the
    warning is Ibis's to fix, so it is silenced here, for that message only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="fetch_arrow_table",
                                category=DeprecationWarning)
        yield


@dataclass
class Engine:
    """An Ibis connection with one table per record kind."""

    con: Any
    snapshot: Snapshot
    _tables: dict[str, ir.Table] = field(default_factory=dict)
    #: Derived tables of this data version (flat tables of list columns, route legs), opened
    #: once; see :mod:`tiplab.analysis.flat`.
    derived: dict[str, ir.Table] = field(default_factory=dict)

    @property
    def data_version(self) -> str:
        return self.snapshot.data_version

    def table(self, kind: str) -> ir.Table:
        if kind not in self._tables:
            files = self.snapshot.files(kind)
            if files:
                with _quiet_ibis():
                    t = self.con.read_parquet([str(f) for f in files],
                                              table_name=f"{kind}_records")
            else:
                schema = get_schema(kind).arrow_schema(include_protected=False)
                empty = pa.Table.from_batches([], schema=schema.append(
                    pa.field("batch_id", pa.string())).append(pa.field("source_row", pa.int64())))
                t = ibis.memtable(empty)
            self._tables[kind] = t
        return self._tables[kind]

    def read_parquet(self, path: str | Path, table_name: str) -> ir.Table:
        """Open a Parquet file (a derived table) on this engine's connection."""
        with _quiet_ibis():
            t: ir.Table = self.con.read_parquet(str(path), table_name=table_name)
        return t

    @property
    def cases(self) -> ir.Table:
        return self.table("case")

    @property
    def aggregates(self) -> ir.Table:
        return self.table("aggregate")

    def to_arrow(self, expr: ir.Expr) -> pa.Table:
        with _quiet_ibis():
            result: pa.Table = self.con.to_pyarrow(expr)
        return result


def connect(data_dir: str | Path | None = None, *, backend: str = "duckdb") -> Engine:
    """Open the snapshot under ``data_dir`` (default ``TIPLAB_DATA_DIR``)."""
    d = default_data_dir(data_dir)
    snap = open_snapshot(d)
    if backend == "duckdb":
        con = ibis.duckdb.connect()
    elif backend == "spark":
        from tiplab.spark import spark_session

        con = ibis.pyspark.connect(spark_session())
    else:
        from tiplab.errors import ConfigError

        raise ConfigError(f"unknown engine backend {backend!r}; use duckdb or spark")
    return Engine(con=con, snapshot=snap)
