"""Flat (long) tables: one row per record x list element, so analyses never unnest per query.

List columns (forms of exploitation, means of control, sectors, transit countries) have to be
exploded to be counted. Doing that inside every query is slow: Ibis compiles ``unnest`` into a
``LIST_ZIP``/lateral join that DuckDB runs 4-100x slower than a scan. So each list column has a
*flat table*: every column of the case table, with the list column replaced by one of its
elements, plus ``_k``, the element's position (0-based; ``_k == 0`` is the record's first row,
which is how a query counts records rather than elements). A record with an empty or null list
keeps one row whose element is null ("not reported"). The route *legs* table holds every
consecutive hop ``_source -> _target`` of the path origin, transit countries..., destination.

Three providers give the same tables:

* :class:`ExprFlat` builds them as Ibis expressions (``unnest``) on any table and backend;
  that is what runs on Spark and on small in-memory tables.
* :class:`ArrowFlat` builds them with vectorised Arrow/NumPy for an in-memory Arrow table
  (the Denver route coding, files read by the CLI) and hands them to Ibis as memtables.
* :class:`MaterialisedFlat` writes them once per data version as Parquet under
  ``<data dir>/derived/<data version>/`` with one DuckDB statement each (built by the pure
  functions :func:`explode_sql` and :func:`legs_sql`), then opens them with Ibis; a new import
  has a new data version, hence new tables.

Queries written against either provider are plain Ibis expressions over flat tables.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from tiplab.engine import Engine

log = logging.getLogger("tiplab.analysis")

OFFSET = "_k"
SOURCE, TARGET = "_source", "_target"
ORIGIN, TRANSIT, DEST = "origin_country", "transit_countries", "country_of_exploitation"
DERIVED = "derived"


class Flat(Protocol):
    """What the analysis queries need: exploded list columns and route legs."""

    def explode(self, column: str) -> ir.Table: ...

    def legs(self) -> ir.Table: ...


def explode_expr(t: ir.Table, column: str, offset: str | None = OFFSET) -> ir.Table:
    """Ibis: ``t`` with list ``column`` replaced by its elements (empty/null list -> one null)."""
    col = t[column]
    # [NULL] rather than unnest(keep_empty=True), which DuckDB runs through list lambdas.
    filled = ibis.ifelse(col.length() > 0, col, ibis.literal([None], type=col.type()))
    x = t.mutate(**{column: filled})
    return x.unnest(column, offset=offset) if offset else x.unnest(column)


def legs_expr(t: ir.Table) -> ir.Table:
    """Ibis: one row per consecutive hop of origin -> transit... -> destination."""
    empty = ibis.literal([], type="array<string>")
    path = ibis.array([t[ORIGIN]]).concat(t[TRANSIT].fill_null(empty)).concat(
        ibis.array([t[DEST]]))
    keep = [c for c in t.columns if not t[c].type().is_array()]
    x = t.select(*keep, _leg=path[:-1].zip(path[1:])).unnest("_leg", offset=OFFSET)
    return x.mutate(**{SOURCE: x._leg.f1, TARGET: x._leg.f2}).drop("_leg")


class ExprFlat:
    """Flat tables as Ibis expressions over ``t`` (any backend, nothing written)."""

    def __init__(self, t: ir.Table) -> None:
        self.t = t

    def explode(self, column: str) -> ir.Table:
        return explode_expr(self.t, column)

    def legs(self) -> ir.Table:
        return legs_expr(self.t)


class ArrowFlat:
    """Flat tables of an in-memory Arrow table, exploded with vectorised Arrow/NumPy (no
    ``unnest`` in the query) and handed to Ibis as memtables; for small sources such as the
    Denver route coding, where building them costs less than one ``unnest`` query."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self._cache: dict[str, ir.Table] = {}

    def explode(self, column: str) -> ir.Table:
        if column not in self._cache:
            self._cache[column] = ibis.memtable(explode_arrow(self.table, column))
        return self._cache[column]

    def legs(self) -> ir.Table:
        if "_legs" not in self._cache:
            self._cache["_legs"] = ibis.memtable(legs_arrow(self.table))
        return self._cache["_legs"]


def _lengths(col: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int64]:
    return np.asarray(pc.fill_null(pc.list_value_length(col), 0).to_numpy(
        zero_copy_only=False), dtype=np.int64)


def explode_arrow(t: pa.Table, column: str) -> pa.Table:
    """Arrow: the flat table of list ``column`` (same rows and ``_k`` as :func:`explode_sql`)."""
    col = t.column(column)
    lengths = _lengths(col)
    rows = np.maximum(lengths, 1)
    total = int(rows.sum())
    record = np.repeat(np.arange(t.num_rows), rows)
    k = np.arange(total) - np.repeat(np.cumsum(rows) - rows, rows)
    # Index into the flattened values (in record order); -1 where the list was empty or null.
    first = np.repeat(np.cumsum(lengths) - lengths, rows)
    eidx = np.where(lengths[record] > 0, first + k, -1)
    values = pc.list_flatten(col.combine_chunks() if isinstance(col, pa.ChunkedArray)
                             else col)
    elements = pc.take(values, pa.array(eidx, mask=eidx < 0))
    out = t.take(pa.array(record))
    out = out.set_column(t.column_names.index(column), column, elements)
    return out.append_column(OFFSET, pa.array(k, pa.int64()))


def legs_arrow(t: pa.Table) -> pa.Table:
    """Arrow: the legs table (scalar columns, ``_k``, ``_source``, ``_target``)."""
    transit = t.column(TRANSIT)
    tl = _lengths(transit)
    n = t.num_rows
    length = tl + 2
    starts = np.cumsum(length) - length
    path = np.empty(int(length.sum()), dtype=object)
    path[starts] = t.column(ORIGIN).to_numpy(zero_copy_only=False)
    path[starts + length - 1] = t.column(DEST).to_numpy(zero_copy_only=False)
    tvals = pc.list_flatten(transit.combine_chunks()).to_numpy(zero_copy_only=False)
    tpos = np.repeat(starts + 1, tl) + np.arange(int(tl.sum())) - np.repeat(np.cumsum(tl) - tl,
                                                                            tl)
    path[tpos] = tvals
    hops = length - 1
    record = np.repeat(np.arange(n), hops)
    k = np.arange(int(hops.sum())) - np.repeat(np.cumsum(hops) - hops, hops)
    at = starts[record] + k
    keep = [c for c in t.column_names if not pa.types.is_list(t.schema.field(c).type)]
    out = t.select(keep).take(pa.array(record))
    return (out.append_column(OFFSET, pa.array(k, pa.int64()))
            .append_column(SOURCE, pa.array(path[at], pa.string()))
            .append_column(TARGET, pa.array(path[at + 1], pa.string())))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _files_sql(files: Sequence[str | Path]) -> str:
    quoted = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    return f"read_parquet([{quoted}], union_by_name = true)"


def explode_sql(files: Sequence[str | Path], column: str, element_type: str, out: str | Path
                ) -> str:
    """DuckDB: write the flat table of list ``column`` (every column, element, ``_k``).

    ``element_type`` is the SQL type of the list's elements (for the null of an empty list).
    """
    c = _quote(column)
    filled = f"CASE WHEN len({c}) > 0 THEN {c} ELSE [NULL::{element_type}] END"
    select = (f"SELECT * REPLACE (unnest({filled}) AS {c}), "
              f"unnest(range(0, greatest(len({c}), 1))) AS {OFFSET} FROM {_files_sql(files)}")
    return f"COPY ({select}) TO '{_path_sql(out)}' (FORMAT parquet, COMPRESSION zstd)"


def legs_sql(files: Sequence[str | Path], scalar_columns: Sequence[str], out: str | Path
             ) -> str:
    """DuckDB: write the legs table (scalar columns, ``_k``, ``_source``, ``_target``)."""
    keep = ", ".join(_quote(c) for c in scalar_columns)
    path = (f"[{_quote(ORIGIN)}] || coalesce({_quote(TRANSIT)}, []) || [{_quote(DEST)}]")
    inner = f"SELECT {keep}, {path} AS _path FROM {_files_sql(files)}"
    hops = f"SELECT * , unnest(range(0, len(_path) - 1)) AS {OFFSET} FROM ({inner})"
    select = (f"SELECT * EXCLUDE (_path), _path[{OFFSET} + 1] AS {SOURCE}, "
              f"_path[{OFFSET} + 2] AS {TARGET} FROM ({hops})")
    return f"COPY ({select}) TO '{_path_sql(out)}' (FORMAT parquet, COMPRESSION zstd)"


def _path_sql(p: str | Path) -> str:
    return str(p).replace("'", "''")


_build_lock = threading.Lock()


class MaterialisedFlat:
    """Flat tables of an engine's case records, written once per data version (DuckDB)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def directory(self) -> Path:
        return derived_dir(self.engine)

    def explode(self, column: str) -> ir.Table:
        t = self.engine.cases
        etype = t[column].type()
        if not etype.is_array():
            from tiplab.analysis.errors import ColumnError

            raise ColumnError(f"{column} is not a list column")
        sql_type = _element_sql_type(t, column)
        return self._table(f"explode-{column}", lambda files, out: explode_sql(
            files, column, sql_type, out))

    def legs(self) -> ir.Table:
        t = self.engine.cases
        scalar = [c for c in t.columns if not t[c].type().is_array()]
        return self._table("legs", lambda files, out: legs_sql(files, scalar, out))

    def _table(self, name: str, sql: object) -> ir.Table:
        cache = self.engine.derived
        if name in cache:
            return cache[name]
        path = self.directory / f"{name}.parquet"
        with _build_lock:
            if not path.exists():
                build(self.engine, path, sql)
            tag = self.engine.derived_tag.replace("-", "_")
            table = self.engine.read_parquet(path, f"flat_{tag}_{name.replace('-', '_')}")
        cache[name] = table
        return table


def _element_sql_type(t: ir.Table, column: str) -> str:
    value_type = t[column].type().value_type  # type: ignore[attr-defined]
    if value_type.is_string():
        return "VARCHAR"
    if value_type.is_integer():
        return "BIGINT"
    return "VARCHAR"


def derived_dir(engine: Engine) -> Path:
    """``<data dir>/derived/<data version>`` (``/persons-<run>`` counting persons): derived
    tables of this snapshot and unit."""
    return engine.derived_dir()


def build(engine: Engine, path: Path, sql: object) -> None:
    """Run one COPY statement into a temporary file, then move it into place atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _prune_other_versions(path.parent)
    tmp = path.with_name(f".{path.stem}-{uuid.uuid4().hex[:8]}.parquet.tmp")
    files = [str(f) for f in engine.case_files()]
    start = time.perf_counter()
    try:
        engine.con.raw_sql(sql(files, tmp))  # type: ignore[operator]
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("built %s in %.1f s", path, time.perf_counter() - start)


#: Derived tables of other data versions are kept this long after their last change, so a
#: request that opened the previous version just before an import can finish reading them.
KEEP_OTHER_VERSIONS_SECONDS = 15 * 60


def _prune_other_versions(version_dir: Path) -> None:
    """Remove derived tables of other data versions once nothing can still be reading them."""
    if version_dir.name.startswith("persons-"):
        version_dir = version_dir.parent  # a unit's directory inside its version's
    cutoff = time.time() - KEEP_OTHER_VERSIONS_SECONDS
    for d in version_dir.parent.iterdir():
        if d.is_dir() and d != version_dir and d.stat().st_mtime < cutoff:
            shutil.rmtree(d, ignore_errors=True)


def prepare(data_dir: str | Path | None = None) -> list[str]:
    """Build every flat table of the snapshot's current data version; return their names.

    Called after an import (the web's import job, ``setup_demo``) so that the first analysis
    page after it reads ready tables instead of writing them (2.9-4.8 s on a million records,
    ``benchmarks/README.md``). Pages build any table that is missing themselves, so this is
    an optimisation, never a requirement.
    """
    from tiplab.engine import connect

    records = connect(data_dir)
    if not records.snapshot.files("case"):
        return []
    built = []
    engines = [records] + ([records.for_unit("persons")] if records.persons_available else [])
    for engine in engines:
        flat = MaterialisedFlat(engine)
        t = engine.cases
        prefix = "" if engine is records else f"{engine.derived_tag}/"
        for column in t.columns:
            if t[column].type().is_array():
                flat.explode(column)
                built.append(f"{prefix}explode-{column}")
        flat.legs()
        built.append(f"{prefix}legs")
    return built


def flat_for(source: object, t: ir.Table) -> Flat:
    """Materialised flat tables for a DuckDB engine's case records, Arrow-built ones for an
    in-memory Arrow table, else Ibis expressions (any backend, e.g. Spark)."""
    from tiplab.engine import Engine

    if (isinstance(source, Engine) and getattr(source.con, "name", "") == "duckdb"
            and source.snapshot.files("case") and t is source.cases):
        return MaterialisedFlat(source)
    if isinstance(source, pa.Table):
        return ArrowFlat(source)
    return ExprFlat(t)
