"""The analytics snapshot: Parquet files without direct identifiers, with a data version.

Layout under ``<data dir>/snapshot/``::

    batches/<kind>-<batch id>.parquet   one immutable file per import batch (no identifiers)
    manifest.json                       the active batches and the data version
    persons/run-<id>.parquet            the designated linkage's person ids (no identifiers)
    linkage.json                        which link run is designated, for which data

A batch file is written right after its batch commits; the manifest is replaced atomically (write
to a temporary file, then ``os.replace``) after every change to case data. The **data
version** is a short hash of the active batches' ids and checksums, so the same data always has
the same version and any result can say which data it came from. :func:`rebuild` regenerates
everything from the system of record if the snapshot is lost or out of step.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq

from tiplab.errors import TiplabError
from tiplab.records.schema import get_schema

MANIFEST = "manifest.json"
LINKAGE = "linkage.json"
EMPTY_VERSION = "empty"
PERSON_MAP_COLUMNS = ("source_agency", "record_id", "person_id")


class SnapshotError(TiplabError):
    """A snapshot file cannot be written as asked; the message says what and where."""


@dataclass(frozen=True)
class SnapshotLinkage:
    """The designated linkage: which link run defines a person in the analytics.

    ``data_version`` is the version of the data the run linked; when the snapshot's version
    differs, records imported since are not covered (each counts as its own person) and the
    designation is *stale*.
    """

    run: str
    file: str
    data_version: str
    designated_at: str
    designated_by: str
    records: int
    persons: int
    #: of the person map file: derived tables are keyed by it, never by the run id alone
    sha256: str = ""

    @property
    def tag(self) -> str:
        """Names this designation's derived tables (``persons-<run>-<digest>``)."""
        return f"persons-{self.run}" + (f"-{self.sha256[:10]}" if self.sha256 else "")

    def path(self, root: Path) -> Path:
        return root / "persons" / self.file


@dataclass(frozen=True)
class SnapshotBatch:
    batch_id: str
    kind: str
    source_agency: str
    sha256: str
    rows: int
    file: str


@dataclass(frozen=True)
class Snapshot:
    """The active snapshot: its data version and the Parquet files per kind."""

    root: Path
    data_version: str
    created_at: str
    batches: tuple[SnapshotBatch, ...]
    linkage: SnapshotLinkage | None = None

    @property
    def linkage_stale(self) -> bool:
        """The designated linkage linked other data than the current snapshot's."""
        return self.linkage is not None and self.linkage.data_version != self.data_version

    def files(self, kind: str) -> list[Path]:
        return [self.root / "batches" / b.file for b in self.batches if b.kind == kind]

    def rows(self, kind: str) -> int:
        return sum(b.rows for b in self.batches if b.kind == kind)


def snapshot_dir(data_dir: Path) -> Path:
    return data_dir / "snapshot"


def analytic_table(table: pa.Table, kind: str, batch_id: str) -> pa.Table:
    """The columns of ``table`` that may enter the snapshot, plus batch provenance."""
    schema = get_schema(kind)
    keep = [c for c in schema.analytic if c in table.column_names]
    out = table.select(keep)
    out = out.append_column("batch_id", pa.array([batch_id] * table.num_rows, pa.string()))
    if "_row" in table.column_names:
        out = out.append_column("source_row", table.column("_row"))
    return out


def batch_file(kind: str, batch_id: str) -> str:
    """The name of a batch's Parquet file under ``snapshot/batches/``."""
    return f"{kind}-{batch_id}.parquet"


def write_batch(data_dir: Path, kind: str, batch_id: str, table: pa.Table) -> str:
    """Write one batch's Parquet file (idempotent: same content, same file)."""
    d = snapshot_dir(data_dir) / "batches"
    d.mkdir(parents=True, exist_ok=True)
    name = batch_file(kind, batch_id)
    tmp = d / (name + ".tmp")
    try:
        pq.write_table(analytic_table(table, kind, batch_id), tmp, compression="zstd")
        os.replace(tmp, d / name)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a half-written file must not stay behind
        raise
    return name


def data_version(batches: Iterable[SnapshotBatch]) -> str:
    items = sorted(f"{b.batch_id}:{b.sha256}:{b.rows}" for b in batches)
    if not items:
        return EMPTY_VERSION
    return "dv-" + hashlib.sha256("\n".join(items).encode()).hexdigest()[:12]


def write_manifest(data_dir: Path, batches: list[SnapshotBatch]) -> Snapshot:
    root = snapshot_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    snap = Snapshot(root=root, data_version=data_version(batches),
                    created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    batches=tuple(batches), linkage=_read_linkage(root))
    body: dict[str, Any] = {
        "data_version": snap.data_version,
        "created_at": snap.created_at,
        "batches": [b.__dict__ for b in batches],
    }
    tmp = root / (MANIFEST + ".tmp")
    try:
        tmp.write_text(json.dumps(body, indent=1), encoding="utf-8")
        os.replace(tmp, root / MANIFEST)
    except BaseException:
        tmp.unlink(missing_ok=True)  # the old manifest stays whole
        raise
    return snap


def open_snapshot(data_dir: Path) -> Snapshot:
    """The current snapshot (an empty one if nothing was imported yet)."""
    root = snapshot_dir(data_dir)
    path = root / MANIFEST
    linkage = _read_linkage(root)
    if not path.exists():
        return Snapshot(root=root, data_version=EMPTY_VERSION, created_at="", batches=(),
                        linkage=linkage)
    body = json.loads(path.read_text(encoding="utf-8"))
    batches = tuple(SnapshotBatch(**b) for b in body["batches"])
    return Snapshot(root=root, data_version=body["data_version"],
                    created_at=body["created_at"], batches=batches, linkage=linkage)


def _read_linkage(root: Path) -> SnapshotLinkage | None:
    path = root / LINKAGE
    if not path.exists():
        return None
    linkage = SnapshotLinkage(**json.loads(path.read_text(encoding="utf-8")))
    # a designation whose person file is gone (a restore without it) designates nothing
    return linkage if linkage.path(root).exists() else None


def _write_atomic(path: Path, write: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def designate_linkage(data_dir: Path, run: str | int, person_map: pa.Table, *,
                      data_version: str, designated_by: str) -> SnapshotLinkage:
    """Make a link run the snapshot's definition of a person.

    ``person_map`` has one row per linked record: ``source_agency`` (or ``source``),
    ``record_id`` and ``person_id``. It is checked (columns present, no empty value, each
    record once), written as ``persons/run-<run>.parquet``, and then ``linkage.json`` is
    replaced atomically: a crash leaves the previous designation whole.
    """
    if "source" in person_map.column_names and "source_agency" not in person_map.column_names:
        person_map = person_map.rename_columns(
            ["source_agency" if c == "source" else c for c in person_map.column_names])
    missing = [c for c in PERSON_MAP_COLUMNS if c not in person_map.column_names]
    if missing:
        raise SnapshotError(f"the person map of link run {run} has no column(s) "
                            f"{', '.join(missing)}; it needs {', '.join(PERSON_MAP_COLUMNS)}")
    person_map = person_map.select(list(PERSON_MAP_COLUMNS)).cast(
        pa.schema([(c, pa.string()) for c in PERSON_MAP_COLUMNS]))
    for c in PERSON_MAP_COLUMNS:
        nulls = person_map.column(c).null_count
        if nulls:
            raise SnapshotError(f"the person map of link run {run} has {nulls} empty "
                                f"{c} value(s); every linked record needs all three")
    keys = pa.compute.binary_join_element_wise(  # type: ignore[attr-defined]
        person_map.column("source_agency"), person_map.column("record_id"), "\x1f")
    if pa.compute.count_distinct(keys).as_py() != person_map.num_rows:  # type: ignore[attr-defined]
        raise SnapshotError(f"the person map of link run {run} lists a record more than once; "
                            "a record belongs to one person")
    root = snapshot_dir(data_dir)
    (root / "persons").mkdir(parents=True, exist_ok=True)
    name = f"run-{run}.parquet"
    _write_atomic(root / "persons" / name,
                  lambda tmp: pq.write_table(person_map, tmp, compression="zstd"))
    digest = hashlib.sha256((root / "persons" / name).read_bytes()).hexdigest()
    linkage = SnapshotLinkage(
        run=str(run), file=name, data_version=data_version, sha256=digest,
        designated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        designated_by=designated_by, records=person_map.num_rows,
        persons=int(pa.compute.count_distinct(  # type: ignore[attr-defined]
            person_map.column("person_id")).as_py()))
    _write_atomic(root / LINKAGE, lambda tmp: tmp.write_text(
        json.dumps(linkage.__dict__, indent=1), encoding="utf-8"))
    for old in (root / "persons").glob("run-*.parquet"):
        if old.name != name:
            old.unlink(missing_ok=True)
    return linkage


def clear_linkage(data_dir: Path) -> None:
    """No designated linkage: analyses count records until the next designation."""
    root = snapshot_dir(data_dir)
    (root / LINKAGE).unlink(missing_ok=True)
    for old in (root / "persons").glob("run-*.parquet") if (root / "persons").exists() else ():
        old.unlink(missing_ok=True)


def prune(data_dir: Path, keep: Iterable[str]) -> int:
    """Remove batch files no manifest refers to (after a supersede). Returns files removed."""
    d = snapshot_dir(data_dir) / "batches"
    if not d.exists():
        return 0
    wanted = set(keep)
    removed = 0
    for f in d.glob("*.parquet"):
        if f.name not in wanted:
            f.unlink()
            removed += 1
    return removed
