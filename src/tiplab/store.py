"""The system of record, seen from the core: a small protocol and the import transaction.

The core does not know Django. The web project provides the store (Django models on SQLite or
PostgreSQL) as a plug-in registered under the ``tiplab.stores`` entry-point group — the same
pattern datasette and pytest use for plug-ins — so the core stays free of Django while the CLI
(``tiplab import``) and the web app write through one implementation. Tests can use any object
that satisfies :class:`CaseStore`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from tiplab.config import data_dir as default_data_dir
from tiplab.config import key_dir
from tiplab.errors import (
    STORAGE_FULL_MESSAGE,
    DuplicateBatchError,
    IngestError,
    SnapshotWriteError,
    StorageFullError,
    StoreNotConfigured,
    is_storage_full,
)
from tiplab.ingest.pipeline import PreparedImport, prepare_import
from tiplab.ingest.profiles import Profile, load_profile
from tiplab.ingest.readers import file_sha256
from tiplab.keys import key_lock, load_keyring
from tiplab.records.protect import seal_chunks
from tiplab.snapshot import SnapshotBatch, write_batch, write_manifest

log = logging.getLogger("tiplab.store")


@dataclass(frozen=True)
class BatchInfo:
    """An import batch as the store records it."""

    batch_id: str
    kind: str
    source_agency: str
    file_name: str
    sha256: str
    profile: str
    schema_version: str
    imported_by: str
    imported_at: dt.datetime
    rows: int
    accepted: int
    rejected: int
    warnings: int
    reasons: dict[str, int] = field(default_factory=dict)
    status: str = "active"
    supersedes: str | None = None
    superseded_by: str | None = None
    data_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["imported_at"] = self.imported_at.isoformat()
        return d


@runtime_checkable
class CaseStore(Protocol):
    """What the core needs from a system of record."""

    data_dir: Path

    def find_batch_by_sha256(self, sha256: str) -> BatchInfo | None: ...

    def get_batch(self, batch_id: str) -> BatchInfo: ...

    def list_batches(self) -> list[BatchInfo]: ...

    def existing_record_ids(self, source_agency: str, exclude_batch: str | None) -> pa.Table:
        """Record ids of ``source_agency`` in active case batches (one column ``record_id``)."""
        ...

    def save_import(self, prepared: PreparedImport, protected: Iterable[pa.Table], *,
                    user: str, supersede: str | None) -> BatchInfo:
        """Write batch, records, rejects and issues in one transaction; mark ``supersede``.

        ``protected`` holds the accepted records with identifiers sealed, as consecutive
        chunks produced on demand (sealing runs while the store writes); it is read once.
        """
        ...

    def rejects(self, batch_id: str) -> pa.Table: ...

    def active_snapshot_batches(self) -> list[SnapshotBatch]: ...

    def batch_records(self, batch_id: str) -> pa.Table:
        """The batch's stored records (identifiers sealed), for snapshot rebuilds."""
        ...

    def set_data_version(self, batch_ids: list[str], data_version: str) -> None: ...


def open_store(data_dir: str | os.PathLike[str] | None = None, *,
               migrate: bool = True) -> CaseStore:
    """Load the store plug-in (entry point group ``tiplab.stores``; ``TIPLAB_STORE`` picks one).

    ``migrate=False`` leaves the database as it is (a restore needs it empty); the plug-in's
    factory is then called with that keyword.
    """
    d = default_data_dir(data_dir)
    wanted = os.environ.get("TIPLAB_STORE", "django")
    found = {ep.name: ep for ep in entry_points(group="tiplab.stores")}
    if wanted not in found:
        raise StoreNotConfigured(
            f"no system-of-record store named {wanted!r} is installed (found: "
            f"{', '.join(found) or 'none'}); install tiplab with its web project")
    factory = found[wanted].load()
    store: CaseStore = factory(d) if migrate else factory(d, migrate=False)
    return store


Progress = Callable[[str, float], None]


def run_import(store: CaseStore, path: str | os.PathLike[str], profile: Profile | str,
               source_agency: str | None = None, *, user: str = "cli",
               supersede: str | None = None, today: dt.date | None = None,
               dry_run: bool = False,
               progress: Progress | None = None) -> tuple[BatchInfo | None, PreparedImport]:
    """Import one file as one batch: all of it or nothing.

    Refuses a file already imported (same sha256), naming the earlier batch. With
    ``supersede``, the new batch replaces an earlier batch of the same source (kept, marked
    superseded) in the same transaction. With ``dry_run``, validates and stores nothing.
    ``progress(stage, fraction)`` is called as the import moves through its stages (reading,
    validating, saving — identifiers are sealed while the records are written —, snapshot,
    done), for progress bars.
    """
    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    report("reading", 0.0)
    p = Path(path)
    sha = file_sha256(p)
    earlier = store.find_batch_by_sha256(sha)
    if earlier is not None:
        raise DuplicateBatchError(
            f"{p.name} was already imported as batch {earlier.batch_id} on "
            f"{earlier.imported_at:%Y-%m-%d %H:%M} by {earlier.imported_by} (same sha256 "
            f"{sha[:12]}…); nothing was imported. To correct that batch, import the corrected "
            f"file with --supersede {earlier.batch_id}", batch_id=earlier.batch_id)
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    old: BatchInfo | None = None
    if supersede is not None:
        old = store.get_batch(supersede)
        if old.status != "active":
            raise IngestError(f"batch {supersede} is {old.status}; only an active batch can be "
                              "superseded")
        if old.kind != prof.kind:
            raise IngestError(f"batch {supersede} holds {old.kind} data but profile "
                              f"{prof.profile!r} is for {prof.kind} data")
    source = source_agency or prof.source_agency
    if old is not None and source and old.source_agency != source:
        raise IngestError(f"batch {supersede} is from {old.source_agency!r}, not {source!r}: a "
                          "batch can only be superseded by the same source")
    existing = None
    if prof.kind == "case" and source:
        existing = store.existing_record_ids(source, exclude_batch=supersede)
    report("validating", 0.1)
    prepared = prepare_import(p, prof, source, existing_ids=existing, today=today, sha256=sha)
    if dry_run:
        report("done", 1.0)
        return None, prepared
    report("saving", 0.5)
    accepted = prepared.result.accepted
    # shared: imports run side by side, but never while a key rotation runs (tiplab.rotation)
    with key_lock(store.data_dir):
        protected: Iterable[pa.Table] = (
            seal_chunks(accepted, load_keyring(key_dir(store.data_dir)))
            if prof.kind == "case" else [accepted])
        try:
            batch = store.save_import(prepared, protected, user=user, supersede=supersede)
        except OSError as e:  # the store's transaction did not commit
            if is_storage_full(e):
                raise StorageFullError(STORAGE_FULL_MESSAGE) from e
            raise
    report("snapshot", 0.9)
    # The snapshot holds no identifiers: the accepted table gives the same file as the sealed.
    try:
        refresh_snapshot(store, written={batch.batch_id: (prof.kind, accepted)})
    except OSError as e:
        reason = "the disk is full" if is_storage_full(e) else (e.strerror or str(e))
        raise SnapshotWriteError(
            f"batch {batch.batch_id} was imported, but the analytics snapshot could not be "
            f"written ({reason}); analyses show the data as it was before this import until "
            "it is rebuilt: free space, then run `tiplab snapshot --rebuild` (the next "
            "import rebuilds it too)", batch_id=batch.batch_id) from e
    report("done", 1.0)
    return store.get_batch(batch.batch_id), prepared


def refresh_snapshot(store: CaseStore,
                     written: dict[str, tuple[str, pa.Table]] | None = None) -> str:
    """Bring the snapshot in line with the store's active batches; return the data version.

    Batch files that exist are reused; missing ones are rebuilt from the store, so a crash
    between the database commit and the snapshot leaves nothing that this cannot repair.
    """
    batches = store.active_snapshot_batches()
    root = store.data_dir / "snapshot" / "batches"
    for b in batches:
        if written and b.batch_id in written:
            kind, table = written[b.batch_id]
            write_batch(store.data_dir, kind, b.batch_id, table)
        elif not (root / b.file).exists():
            log.info("rebuilding snapshot file for batch %s", b.batch_id)
            write_batch(store.data_dir, b.kind, b.batch_id, store.batch_records(b.batch_id))
    snap = write_manifest(store.data_dir, batches)
    from tiplab.snapshot import prune

    prune(store.data_dir, [b.file for b in batches])
    store.set_data_version([b.batch_id for b in batches], snap.data_version)
    return snap.data_version
