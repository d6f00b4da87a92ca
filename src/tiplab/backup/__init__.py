"""Backup and restore of a tiplab installation: one archive file with the database, the
analytics snapshot, the run outputs and — sealed with a passphrase — the keys.

See ``docs/operations.md``. ``create_backup`` writes an archive, ``restore_backup`` restores one
into an empty data directory; the system of record takes part through the store plug-in
(:class:`~tiplab.backup.dump.BackupStore`).
"""

from tiplab.backup.create import BackupResult, create_backup
from tiplab.backup.dump import BackupStore, DatabaseDump, RestoredState
from tiplab.backup.keyseal import DEFAULT_KDF, KdfCost
from tiplab.backup.restore import RestoreResult, restore_backup

__all__ = [
    "DEFAULT_KDF",
    "BackupResult",
    "BackupStore",
    "DatabaseDump",
    "KdfCost",
    "RestoreResult",
    "RestoredState",
    "create_backup",
    "restore_backup",
]
