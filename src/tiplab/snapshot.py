"""The analytics snapshot: Parquet files without direct identifiers, with a data version.

Layout under ``<data dir>/snapshot/``::

    batches/<kind>-<batch id>.parquet   one immutable file per import batch (no identifiers)
    manifest.json                       the active batches and the data version

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
import pyarrow.parquet as pq

from tiplab.records.schema import get_schema

MANIFEST = "manifest.json"
EMPTY_VERSION = "empty"


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
                    batches=tuple(batches))
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
    if not path.exists():
        return Snapshot(root=root, data_version=EMPTY_VERSION, created_at="", batches=())
    body = json.loads(path.read_text(encoding="utf-8"))
    batches = tuple(SnapshotBatch(**b) for b in body["batches"])
    return Snapshot(root=root, data_version=body["data_version"],
                    created_at=body["created_at"], batches=batches)


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
