"""The analytics engine: the snapshot opened with DuckDB through Ibis.

Analysis code takes an :class:`Engine` and writes Ibis expressions against ``engine.cases``
(case records) and ``engine.aggregates`` (aggregate statistics), so the same code can later
run on Spark by opening the same Parquet files with Ibis' PySpark backend. Every result built
from an engine carries ``engine.data_version``.

**The unit of analysis.** ``engine.for_unit("persons")`` is the same snapshot counted in
persons: when a link run is designated (:func:`tiplab.snapshot.designate_linkage`), its
``cases`` table holds one row per person — the person's *first* record (earliest registration
date; ties: agency, record id), so a victim seen by the police, an NGO and the hotline counts
once, in the year, region and form of her first identification — with ``person_id``,
``person_records`` and ``person_linked`` added. A record the designated run did not link
(imported after it) counts as its own person; :meth:`Engine.unit_info` says how many.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from tiplab.analysis.errors import AnalysisError
from tiplab.config import data_dir as default_data_dir
from tiplab.records.schema import get_schema
from tiplab.snapshot import Snapshot, open_snapshot

RECORDS, PERSONS = "records", "persons"
UNITS = (RECORDS, PERSONS)
_persons_lock = threading.Lock()


class UnitError(AnalysisError):
    """The unit of analysis asked for is not available; the message says why."""


def _lit(p: str) -> str:
    return "'" + p.replace("'", "''") + "'"


def person_records_sql(case_files: list[str], person_map: str) -> str:
    """DuckDB CTEs ``c`` (case records), ``m`` (person map) and ``k`` (every record with its
    ``person_id`` and ``person_linked``). Records the map does not list keep their own id
    (``R`` + 12 hex digits of the MD5 of ``agency:record id``)."""
    files = ", ".join(_lit(f) for f in case_files)
    return f"""c AS (SELECT * FROM read_parquet([{files}], union_by_name = true)),
      m AS (SELECT source_agency, record_id, person_id AS _pid
            FROM read_parquet({_lit(person_map)})),
      k AS (
        SELECT c.*, coalesce(m._pid, 'R' || left(md5(c.source_agency || ':' || c.record_id), 12))
                    AS person_id,
               m._pid IS NOT NULL AS person_linked
        FROM c LEFT JOIN m ON c.source_agency = m.source_agency AND c.record_id = m.record_id)"""


#: the order that makes a record its person's first (earliest registration)
FIRST_RECORD = "ORDER BY registration_date NULLS LAST, source_agency, record_id"


def persons_sql(case_files: list[str], person_map: str, out: str) -> str:
    """DuckDB: one row per person (the first record) from the case files and a person map."""
    return f"""COPY (
      WITH {person_records_sql(case_files, person_map)},
      r AS (
        SELECT *, count(*) OVER (PARTITION BY person_id) AS person_records,
               row_number() OVER (PARTITION BY person_id {FIRST_RECORD}) AS _rn
        FROM k)
      SELECT * EXCLUDE (_rn) FROM r WHERE _rn = 1 ORDER BY person_id
    ) TO {_lit(out)} (FORMAT parquet, COMPRESSION zstd)"""


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
    #: "records" (every case record) or "persons" (one row per person of the designated run)
    unit: str = RECORDS
    _units: dict[str, Engine] = field(default_factory=dict)
    _unit_info: dict[str, Any] | None = None

    @property
    def data_version(self) -> str:
        return self.snapshot.data_version

    @property
    def persons_available(self) -> bool:
        """A designated linkage exists, so ``for_unit("persons")`` works."""
        return self.snapshot.linkage is not None

    def for_unit(self, unit: str) -> Engine:
        """This snapshot counted in ``unit`` ("records" or "persons"), on the same connection."""
        if unit not in UNITS:
            raise UnitError(f"unknown unit of analysis {unit!r}; use persons, records or auto")
        if unit == self.unit:
            return self
        if unit == PERSONS and self.snapshot.linkage is None:
            raise UnitError("no link run is designated, so records cannot be counted as "
                            "persons; a data steward designates one on its linkage page "
                            "(or count records)")
        base = self if self.unit == RECORDS else self._units[RECORDS]
        if unit not in base._units:
            other = Engine(con=self.con, snapshot=self.snapshot, unit=unit)
            other._units[RECORDS] = base
            base._units[unit] = other
        return base._units[unit]

    @property
    def derived_tag(self) -> str:
        """Distinguishes this unit's tables on the shared connection and on disk."""
        link = self.snapshot.linkage
        return "records" if self.unit == RECORDS or link is None else link.tag

    def derived_dir(self) -> Path:
        """``<data dir>/derived/<data version>[/persons-<run>]``: this unit's derived tables."""
        d = self.snapshot.root.parent / "derived" / self.data_version
        return d if self.unit == RECORDS else d / self.derived_tag

    def case_files(self) -> list[Path]:
        """The Parquet files behind ``cases``: the batch files, or the persons table."""
        if self.unit == RECORDS:
            return self.snapshot.files("case")
        self._build_persons()
        return [self.derived_dir() / "persons.parquet"]

    def _build_persons(self) -> None:
        link = self.snapshot.linkage
        assert link is not None
        out = self.derived_dir() / "persons.parquet"
        info = self.derived_dir() / "persons.json"
        if out.exists() and info.exists():
            return
        files = [str(f) for f in self.snapshot.files("case")]
        with _persons_lock:
            if out.exists() and info.exists():
                return
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_name(f".persons-{uuid.uuid4().hex[:8]}.parquet.tmp")
            try:
                import duckdb  # built with DuckDB whatever the engine's backend

                con = duckdb.connect()
                try:
                    con.execute(persons_sql(files, str(link.path(self.snapshot.root)),
                                            str(tmp)))
                    row = con.execute(
                        "SELECT count(*), coalesce(sum(person_records), 0), "
                        "coalesce(sum(person_records) FILTER (WHERE NOT person_linked), 0) "
                        f"FROM read_parquet({_lit(str(tmp))})"
                    ).fetchone() or (0, 0, 0)
                finally:
                    con.close()
                os.replace(tmp, out)
            finally:
                tmp.unlink(missing_ok=True)
            facts = {"persons": int(row[0]), "records": int(row[1]),
                     "records_not_linked": int(row[2])}
            info.write_text(json.dumps(facts), encoding="utf-8")

    def unit_info(self) -> dict[str, Any]:
        """What a figure from this engine counts: the unit, and for persons the link run, how
        many records and persons, how many records the run did not link, and staleness."""
        if self.unit == RECORDS:
            return {"unit": RECORDS}
        if self._unit_info is None:
            link = self.snapshot.linkage
            assert link is not None
            if not self.snapshot.files("case"):
                facts = {"persons": 0, "records": 0, "records_not_linked": 0}
            else:
                self._build_persons()
                facts = json.loads((self.derived_dir() / "persons.json").read_text("utf-8"))
            self._unit_info = {"unit": PERSONS, "link_run": link.run,
                               "link_data_version": link.data_version,
                               "stale": self.snapshot.linkage_stale, **facts}
        return dict(self._unit_info)

    def table(self, kind: str) -> ir.Table:
        if kind not in self._tables:
            files = self.case_files() if kind == "case" else self.snapshot.files(kind)
            if files:
                name = f"{kind}_records" if kind != "case" or self.unit == RECORDS else (
                    f"case_{self.derived_tag.replace('-', '_')}")
                with _quiet_ibis():
                    t = self.con.read_parquet([str(f) for f in files], table_name=name)
            else:
                schema = get_schema(kind).arrow_schema(include_protected=False)
                schema = schema.append(pa.field("batch_id", pa.string())).append(
                    pa.field("source_row", pa.int64()))
                if self.unit == PERSONS:
                    schema = (schema.append(pa.field("person_id", pa.string()))
                              .append(pa.field("person_linked", pa.bool_()))
                              .append(pa.field("person_records", pa.int64())))
                empty = pa.Table.from_batches([], schema=schema)
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


def connect(data_dir: str | Path | None = None, *, backend: str = "duckdb",
            unit: str = RECORDS) -> Engine:
    """Open the snapshot under ``data_dir`` (default ``TIPLAB_DATA_DIR``), counting ``unit``
    ("records", or "persons" of the designated link run; "auto": persons when a link run is
    designated, else records)."""
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
    engine = Engine(con=con, snapshot=snap)
    if unit == "auto":
        unit = PERSONS if engine.persons_available else RECORDS
    return engine.for_unit(unit)


def capture_persons(engine: Engine) -> pa.Table:
    """The designated linkage as the person table multiple systems estimation reads: one row
    per person with ``sources`` (every agency that recorded the person) and the strata of the
    person's first record (``year``, ``region_of_exploitation``, ``sex``, ``age_band``,
    ``exploitation_form``: the first form listed)."""
    import duckdb

    link = engine.snapshot.linkage
    if link is None:
        raise UnitError("no link run is designated, so persons and the agencies that saw each "
                        "of them are not known; a data steward designates a link run first")
    files = [str(f) for f in engine.snapshot.files("case")]
    if not files:
        raise UnitError("no case records have been imported yet")
    sql = f"""WITH {person_records_sql(files, str(link.path(engine.snapshot.root)))},
      r AS (SELECT *, row_number() OVER (PARTITION BY person_id {FIRST_RECORD}) AS _rn FROM k),
      s AS (SELECT person_id, list_sort(list(DISTINCT source_agency)) AS sources
            FROM k GROUP BY person_id)
      SELECT r.person_id, s.sources, year(r.registration_date) AS year,
             r.region_of_exploitation, r.sex, r.age_band,
             r.exploitation_forms[1] AS exploitation_form
      FROM r JOIN s USING (person_id) WHERE r._rn = 1 ORDER BY r.person_id"""
    con = duckdb.connect()
    try:
        out: pa.Table = con.sql(sql).to_arrow_table()
    finally:
        con.close()
    return out
