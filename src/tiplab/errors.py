"""The exception hierarchy: one base class, specific subclasses per package.

Messages say what was wrong, where (file, row, column, line) and how to fix it.
"""

from __future__ import annotations


class TiplabError(Exception):
    """Base class of every error tiplab raises on purpose."""


class ConfigError(TiplabError):
    """A setting or environment variable has a bad value."""


class ProfileError(TiplabError):
    """A mapping profile is malformed; the message names the file, line and field."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        where = []
        if path:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if field:
            where.append(f"field '{field}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.path = path
        self.line = line
        self.field = field
        self.detail = message


class ReadError(TiplabError):
    """An input file cannot be read (format, encoding, structure)."""


class IngestError(TiplabError):
    """An import cannot proceed (duplicate file, unknown batch, store failure)."""


class DuplicateBatchError(IngestError):
    """The same file (same sha256) was already imported."""

    def __init__(self, message: str, *, batch_id: str) -> None:
        super().__init__(message)
        self.batch_id = batch_id


class StoreNotConfigured(TiplabError):
    """No system-of-record store plug-in is installed or configured."""


class StorageFullError(IngestError):
    """The disk that holds the data directory is full; nothing partial was left behind."""


class SnapshotWriteError(IngestError):
    """The batch is stored, but the analytics snapshot could not be brought up to date."""

    def __init__(self, message: str, *, batch_id: str) -> None:
        super().__init__(message)
        self.batch_id = batch_id


_FULL_MARKERS = ("no space left on device", "disk is full", "database or disk is full")


def is_storage_full(error: BaseException | str) -> bool:
    """True when ``error`` (an exception or a message) says the disk is full."""
    import errno

    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(error).lower()
    return any(m in text for m in _FULL_MARKERS)


STORAGE_FULL_MESSAGE = ("the disk that holds tiplab's data is full: nothing was imported. "
                        "Free space on it (or move the data directory), then import again.")


class KeyManagementError(TiplabError):
    """The identifier keys cannot be read, rotated or retired as asked."""


class KeyLockBusy(KeyManagementError):
    """The key directory is locked by an import (a rotation must wait for it)."""


class KeyRotationError(KeyManagementError):
    """A key rotation cannot run or did not commit; the previous keys still open everything."""


class BackupError(TiplabError):
    """A backup cannot be written or an archive cannot be restored."""


class WrongPassphrase(BackupError):
    """The passphrase does not open the archive's keys (nothing was written)."""


class ArchiveDamaged(BackupError):
    """The archive is not a tiplab backup, or it was changed or damaged since it was written."""


class RestoreTargetNotEmpty(BackupError):
    """A restore was asked into a data directory, key directory or database holding data."""


class ProblemsError(TiplabError):
    """A document with one or more problems, each naming its line and field; the message
    lists them all."""

    def __init__(self, problems: list[str] | tuple[str, ...], *,
                 path: str | None = None) -> None:
        self.problems = list(problems)
        self.path = path
        head = f"{path}: " if path else ""
        if len(self.problems) == 1:
            super().__init__(head + self.problems[0])
        else:
            super().__init__(head + f"{len(self.problems)} problems:\n"
                             + "\n".join(f"  - {p}" for p in self.problems))
