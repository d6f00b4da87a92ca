"""What a backup needs from the system of record: a consistent dump, and a restore into an
empty database. The web project's store plug-in provides both (``tiplab.stores``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from tiplab.snapshot import SnapshotBatch


@dataclass(frozen=True)
class DatabaseDump:
    """One consistent copy of the database and what it says about the data directory.

    Everything here was read in the same transaction (SQLite: from the copy itself;
    PostgreSQL: in the snapshot ``pg_dump`` used), so the snapshot's batches, the run files
    and the counts describe exactly the rows in the dump, whatever was written meanwhile.
    """

    path: Path
    vendor: str  #: "sqlite" or "postgresql"
    format: str  #: "sqlite" (a database file) or "pg_dump-custom"
    versions: dict[str, str]
    snapshot_batches: list[SnapshotBatch]
    #: data-directory paths (relative, POSIX) the dumped rows refer to: run outputs, profiles
    data_files: list[str]
    counts: dict[str, int]
    audit: dict[str, Any]
    migrations: list[list[str]]
    key_ids: dict[str, int] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        d = asdict(self)
        del d["path"], d["snapshot_batches"], d["data_files"]
        return d


@dataclass(frozen=True)
class RestoredState:
    """What the restored database holds, to compare with the archive's manifest."""

    counts: dict[str, int]
    audit_entries: int
    audit_head: str
    audit_intact: bool
    audit_problem: str = ""


@runtime_checkable
class BackupStore(Protocol):
    data_dir: Path

    def describe_database(self) -> str:
        """Where the database is, for messages (never a password)."""
        ...

    def dump_database(self, work: Path) -> DatabaseDump:
        """Write a consistent copy of the database into the directory ``work``."""
        ...

    def skipped_entries(self) -> dict[str, str | None]:
        """Data-directory entries the web project writes: why a backup leaves each out, or
        None for those in the archive by other means (the database file)."""
        ...

    def database_is_empty(self) -> bool: ...

    def unknown_migrations(self, applied: list[list[str]]) -> list[str]:
        """Those of ``applied`` (app, name) that this installation does not know."""
        ...

    def restore_database(self, dump: Path, database: dict[str, Any]) -> None:
        """Load ``dump`` (described by the manifest's ``database``) into the empty database."""
        ...

    def undo_restore(self) -> None:
        """Remove what :meth:`restore_database` loaded (the database was empty before)."""
        ...

    def restored_state(self) -> RestoredState: ...

    def audit_event(self, action: str, **details: Any) -> None:
        """Append an entry to the audit log (no user: the command line)."""
        ...

    def close_connections(self) -> None:
        """Close database connections (before the restored directory is moved into place)."""
        ...
