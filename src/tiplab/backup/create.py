"""``tiplab backup``: one archive with the database, the snapshot, the run outputs and — sealed
with a passphrase — the keys.

Consistency while the server runs: the database is copied in one read transaction (SQLite's
online backup API; ``pg_dump`` on an exported snapshot), and everything else is chosen from that
copy: the snapshot's batch files are those of the batches active *in the copy* (batch files
are immutable, so a file written meanwhile for another batch is simply not taken; one not yet
written is rebuilt from the database on restore), run outputs are those of runs *in the copy*.
The archive's data version is computed from the copy's active batches, and a restore checks
that the restored database gives the same one. The key files are read under the key lock
(shared), so no rotation changes them between the keys and the database copy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import platform
import secrets
import shutil
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tiplab import __version__
from tiplab.backup import archive
from tiplab.backup.dump import BackupStore
from tiplab.backup.keyseal import DEFAULT_KDF, KdfCost, check_passphrase, manifest_mac, seal_files
from tiplab.config import key_dir
from tiplab.errors import BackupError
from tiplab.ingest.readers import file_sha256
from tiplab.keys import LOCK_FILE, kept_generations, key_lock, read_keyring
from tiplab.snapshot import data_version, snapshot_dir

log = logging.getLogger("tiplab.backup")

#: Data-directory entries the core writes, and what a backup does with them (None: taken, or
#: nothing to say).
CORE_ENTRIES = {
    LOCK_FILE: None,  # the key lock: an empty file, only its lock matters
    "snapshot": None,  # the batch files of the dump's active batches; the manifest is rebuilt
    "keys": None,  # sealed with the passphrase (or left out with --no-keys)
    "derived": "analysis tables cached per data version; rebuilt by the first analysis page",
    "tmp": "work files of imports in progress",
}
NO_KEYS_WARNING = ("THIS BACKUP HOLDS NO KEYS: the identifiers in it cannot be recovered from "
                   "it alone. Keep the key files of key id {key_id} safe elsewhere; without "
                   "them the names, dates of birth and document numbers are lost for good.")


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    sha256: str
    created_at: str
    data_version: str
    key_id: str | None
    keys_included: bool
    database: dict[str, Any]
    members: int
    snapshot_files: int
    rebuilt_on_restore: list[str]
    skipped: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["path"] = str(self.path)
        return d


def create_backup(store: BackupStore, out: Path, *, passphrase: str | None,
                  include_keys: bool = True, force: bool = False,
                  kdf: KdfCost = DEFAULT_KDF, by: str = "") -> BackupResult:
    """Write the archive ``out`` (atomically: a temporary file beside it, then a rename).

    Refuses an existing ``out`` unless ``force``. With ``include_keys`` (the default) the key
    files are sealed with ``passphrase`` (at least 12 characters). The backup is recorded in
    the audit log (``backup.create``, after the copy: the archive does not hold its own entry).
    """
    started = time.perf_counter()
    out = Path(out).expanduser().resolve()
    if out.is_dir():
        raise BackupError(f"{out} is a directory; give the archive's file name, e.g. "
                          f"{out / 'tiplab-backup.tar.zst'}")
    if out.exists() and not force:
        raise BackupError(f"{out} already exists; choose another name, or pass --force to "
                          "replace it")
    if not out.parent.is_dir():
        raise BackupError(f"{out.parent} does not exist; create it first")
    if include_keys:
        if not passphrase:
            raise BackupError("a passphrase is needed to seal the keys in the backup (give "
                              "--passphrase-file or TIPLAB_BACKUP_PASSPHRASE), or pass "
                              "--no-keys to leave the keys out")
        check_passphrase(passphrase)
    data = store.data_dir
    kdir = key_dir(data)
    warnings: list[str] = []
    if out.is_relative_to(data):
        warnings.append(f"the archive is inside the data directory {data}: a backup on the "
                        "same disk does not survive the disk; copy it elsewhere")
    created_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    archive_id = str(uuid.uuid4())
    work = Path(tempfile.mkdtemp(prefix=".tiplab-backup-", dir=out.parent))
    tmp = out.parent / f".{out.name}.{secrets.token_hex(4)}.tmp"
    writer: archive.ArchiveWriter | None = None
    try:
        with key_lock(data):  # shared: no rotation between reading the keys and the dump
            ring = read_keyring(kdir)
            kept = sorted(kept_generations(kdir))
            keyfiles = _key_files(kdir, data) if include_keys else {}
            dump = store.dump_database(work)
        writer = archive.ArchiveWriter(tmp)
        mac_key = b""
        if include_keys:
            sealed, mac_key = seal_files(keyfiles, passphrase or "", archive_id, kdf)
            writer.add_bytes(archive.KEYS, sealed)
        writer.add_file(archive.DATABASE + dump.path.name, dump.path)
        dump.path.unlink()  # the copy can be as large as the database: free the disk early
        snap_files, missing = _add_snapshot(writer, data, dump.snapshot_batches)
        _add_data_files(writer, data, dump.data_files)
        skipped = _skipped(data, kdir, store.skipped_entries(), dump)
        unknown = [n for n, why in skipped.items() if why.startswith("unknown")]
        if unknown:
            warnings.append(f"not backed up, unknown to tiplab: {', '.join(unknown)} (in "
                            f"{data}); copy them yourself if they matter")
        if not include_keys:
            warnings.insert(0, NO_KEYS_WARNING.format(key_id=ring.key_id if ring else "(none)"))
        version = data_version(dump.snapshot_batches)
        manifest = {
            "format": archive.FORMAT, "archive_id": archive_id, "created_at": created_at,
            "versions": {"tiplab": __version__, "python": platform.python_version(),
                         **dump.versions},
            "data_version": version,
            "database": {"member": archive.DATABASE + dump.path.name, **dump.describe()},
            "snapshot": {"batches": [asdict(b) for b in dump.snapshot_batches],
                         "files": snap_files, "rebuilt_on_restore": missing},
            "data_files": dump.data_files,
            "keys": {"included": include_keys, "key_id": ring.key_id if ring else None,
                     "kept_key_ids": kept, "files": sorted(keyfiles)},
            "skipped": skipped,
            "members": [m.to_dict() for m in writer.members],
        }
        body = json.dumps(manifest, indent=1, sort_keys=True).encode()
        writer.add_bytes(archive.MANIFEST, body)
        if include_keys:
            writer.add_bytes(archive.MAC, manifest_mac(mac_key, body).encode())
        writer.close()
        writer = None
        _place(tmp, out, force)
    finally:
        if writer is not None:
            writer.abort()
        tmp.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    sha = file_sha256(out)
    try:
        store.audit_event("backup.create", archive=str(out), sha256=sha, archive_id=archive_id,
                          keys_included=include_keys, key_id=ring.key_id if ring else None,
                          data_version=version, by=by)
    except Exception as e:  # the archive is good; say that its record is missing
        log.exception("recording the backup in the audit log failed")
        warnings.append(f"the backup was written but could not be recorded in the audit log: "
                        f"{e}")
    return BackupResult(
        path=out, bytes=out.stat().st_size, sha256=sha, created_at=created_at,
        data_version=version, key_id=ring.key_id if ring else None, keys_included=include_keys,
        database={"vendor": dump.vendor, "format": dump.format, "where":
                  store.describe_database(), "counts": dump.counts},
        members=len(manifest["members"]) + 1 + int(include_keys),
        snapshot_files=len(snap_files), rebuilt_on_restore=missing, skipped=skipped,
        warnings=warnings, seconds=round(time.perf_counter() - started, 3))


def _key_files(kdir: Path, data: Path) -> dict[str, bytes]:
    """Every key file: the key directory's (current and kept keys) and, when the keys live
    elsewhere, the data directory's own ``keys/`` (the local Django secret)."""
    from tiplab.rotation import JOURNAL

    if (kdir / JOURNAL).exists():
        raise BackupError(f"a key rotation was interrupted in {kdir}; run `tiplab keys "
                          "recover` first, so the backup holds the keys the data needs")
    out: dict[str, bytes] = {}
    dirs = [("key_dir", kdir)]
    if (data / "keys").resolve() != kdir.resolve():
        dirs.append(("data_dir_keys", data / "keys"))
    for prefix, d in dirs:
        if not d.is_dir():
            continue
        for p in sorted(d.iterdir()):
            if p.is_file() and not p.name.startswith("."):
                out[f"{prefix}/{p.name}"] = p.read_bytes()
    return out


def _add_snapshot(writer: archive.ArchiveWriter, data: Path,
                  batches: list[Any]) -> tuple[list[str], list[str]]:
    root = snapshot_dir(data) / "batches"
    added, missing = [], []
    for b in batches:
        path = root / b.file
        try:
            writer.add_file(f"{archive.DATA}snapshot/batches/{b.file}", path)
            added.append(b.file)
        except FileNotFoundError:  # not written yet (or pruned): rebuilt from the database
            missing.append(b.file)
    return added, missing


def _add_data_files(writer: archive.ArchiveWriter, data: Path, paths: list[str]) -> None:
    for rel in paths:
        base = data / rel
        files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else \
            ([base] if base.is_file() else [])
        for p in files:
            if p.name.endswith(".tmp"):
                continue
            with contextlib.suppress(FileNotFoundError):  # removed meanwhile: not referenced
                writer.add_file(archive.DATA + p.relative_to(data).as_posix(), p)


def _skipped(data: Path, kdir: Path, app_entries: dict[str, str | None],
             dump: Any) -> dict[str, str]:
    """Each top-level entry of the data directory that is not in the archive, and why."""
    taken = {rel.split("/")[0] for rel in dump.data_files}
    known = {**CORE_ENTRIES, **app_entries}
    out: dict[str, str] = {}
    for p in sorted(data.iterdir()) if data.is_dir() else []:
        if p.name in taken or p == kdir or (p.name in known and known[p.name] is None):
            continue
        out[p.name] = known.get(p.name) or "unknown to tiplab"
    return out


def _place(tmp: Path, out: Path, force: bool) -> None:
    if force:
        os.replace(tmp, out)
        return
    try:
        os.link(tmp, out)  # never replaces a file created meanwhile
    except FileExistsError:
        raise BackupError(f"{out} was created while the backup was written; nothing was "
                          "replaced (pass --force to replace it)") from None
