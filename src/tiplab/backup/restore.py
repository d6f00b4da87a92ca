"""``tiplab restore``: an archive into an empty data directory (and an empty database).

All or nothing. The passphrase is checked first, before anything is written. Then everything
is built in a directory beside the target (``.<name>.restore-…``): the members are extracted and
checked against the manifest (sizes, SHA-256; with keys, the manifest's own authentication
code), the keys written, the database loaded (SQLite: the file, checked with
``integrity_check``; PostgreSQL: ``pg_restore --single-transaction`` into the empty database),
the snapshot completed from the database, and the result compared with the manifest: the data
version, every table's row count, the audit chain (recomputed, same head). Only then is the
directory renamed into place. Any failure removes the work directory, and a PostgreSQL database
loaded before the failure is emptied again (it was empty before).

The restore must run in a process of its own (``tiplab restore``): the web project is set up on
the work directory while the restore runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tiplab.backup import archive
from tiplab.backup.keyseal import check_manifest, open_files
from tiplab.config import data_dir as resolve_data_dir
from tiplab.config import key_dir
from tiplab.errors import ArchiveDamaged, BackupError, RestoreTargetNotEmpty
from tiplab.keys import read_keyring, write_key_file

log = logging.getLogger("tiplab.backup")

Passphrase = str | Callable[[], str] | None


@dataclass(frozen=True)
class RestoreResult:
    data_dir: Path
    key_dir: Path
    archive_created_at: str
    data_version: str
    key_id: str | None
    keys_restored: bool
    database: dict[str, Any]
    counts: dict[str, int]
    audit: dict[str, Any]
    snapshot_rebuilt: list[str]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["data_dir"], d["key_dir"] = str(self.data_dir), str(self.key_dir)
        return d


def restore_backup(path: Path, data_dir: Path | str | None, *, passphrase: Passphrase,
                   open_store: Callable[[Path], Any], expect_keys: bool = False,
                   by: str = "") -> RestoreResult:
    """Restore the archive ``path`` into the empty ``data_dir``.

    ``passphrase`` (a string, or a function asked only if the archive holds keys) opens the
    keys. ``open_store(directory)`` gives the system of record set up on ``directory`` without
    migrating it (``tiplab.store.open_store(..., migrate=False)``). With ``expect_keys`` (the
    operator gave a passphrase), an archive without keys is refused: its keys part may have
    been stripped, and with it the only check of the manifest. Once everything matches, the
    restore is recorded in the restored audit log (``backup.restore``).
    """
    started = time.perf_counter()
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise BackupError(f"{path}: no such archive")
    target = resolve_data_dir(data_dir)
    kdir = key_dir(target)
    keys_apart = not kdir.is_relative_to(target)
    _require_empty(target, "data directory",
                   "restore into a new or empty directory, or move this one aside")
    if keys_apart:
        _require_empty(kdir, "key directory (TIPLAB_KEY_DIR)",
                       "point TIPLAB_KEY_DIR at a new or empty directory")
    keys, mac_key, keys_id, keys_sha = _open_keys(path, passphrase)  # nothing written before
    if keys is None and expect_keys:
        raise BackupError(f"{path} holds no keys (it was written with --no-keys, or its keys "
                          "part was removed), but a passphrase was given; nothing was "
                          "restored. If this is the archive you meant, restore it without a "
                          "passphrase")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.restore-", dir=target.parent))
    key_staging = (Path(tempfile.mkdtemp(prefix=f".{kdir.name}.restore-", dir=_mkdir(
        kdir.parent))) if keys_apart else staging / "keys")
    store: Any = None
    loaded = placed = False
    try:
        store = open_store(staging)
        if not store.database_is_empty():
            raise RestoreTargetNotEmpty(
                f"the database {store.describe_database()} is not empty; restore into a new, "
                "empty database (e.g. createdb, then set TIPLAB_DATABASE_URL to it)")
        manifest, incoming = _extract(path, staging, keys is not None, mac_key, keys_id, keys_sha)
        unknown = store.unknown_migrations(manifest["database"]["migrations"])
        if unknown:
            raise BackupError(f"the archive's database has migrations this tiplab does not "
                              f"know ({', '.join(unknown[:3])}…): it was written by a newer "
                              f"tiplab ({manifest['versions'].get('tiplab')}); restore it "
                              "with that version")
        if keys is not None:
            _write_keys(keys, key_staging, staging / "keys", manifest)
        store.restore_database(incoming / Path(manifest["database"]["member"]).name,
                               manifest["database"])
        loaded = True
        shutil.rmtree(incoming)
        rebuilt = _finish_snapshot(store, manifest)
        state = _compare(store, manifest)
        store.audit_event("backup.restore", archive=str(path), archive_id=manifest["archive_id"],
                          archive_created_at=manifest["created_at"],
                          data_version=manifest["data_version"],
                          keys_restored=keys is not None, by=by)
        where = store.describe_database().replace(str(staging), str(target))
        store.close_connections()
        if keys_apart:
            os.rename(key_staging, kdir)
        try:
            os.rename(staging, target)
        except OSError:
            if keys_apart:
                os.rename(kdir, key_staging)
            raise
        placed = True
    except BaseException:
        if loaded and not placed:
            try:
                store.undo_restore()
            except Exception:
                log.exception("emptying the database again after the failed restore failed; "
                              "drop its tables before the next attempt")
        raise
    finally:
        if not placed:
            shutil.rmtree(staging, ignore_errors=True)
            if keys_apart:
                shutil.rmtree(key_staging, ignore_errors=True)
    warnings = []
    if keys is None:
        warnings.append(f"THIS ARCHIVE HOLDS NO KEYS: the identifiers cannot be unsealed until "
                        f"the key files of key id {manifest['keys']['key_id']} are put into "
                        f"{kdir}. Do that before the first import, or the import creates new "
                        "keys and the restored identifiers stay sealed with keys nobody has.")
    return RestoreResult(
        data_dir=target, key_dir=kdir, archive_created_at=manifest["created_at"],
        data_version=manifest["data_version"], key_id=manifest["keys"]["key_id"],
        keys_restored=keys is not None,
        database={"vendor": manifest["database"]["vendor"],
                  "format": manifest["database"]["format"],
                  "where": where},
        counts=state.counts,
        audit={"entries": state.audit_entries, "head": state.audit_head, "intact": True},
        snapshot_rebuilt=rebuilt, warnings=warnings,
        seconds=round(time.perf_counter() - started, 3))


def _mkdir(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    return d


def _require_empty(d: Path, what: str, fix: str) -> None:
    if not d.exists():
        return
    if not d.is_dir():
        raise RestoreTargetNotEmpty(f"the {what} {d} is a file, not a directory; {fix}")
    entries = sorted(p.name for p in d.iterdir())
    if entries:
        shown = ", ".join(entries[:5]) + (", …" if len(entries) > 5 else "")
        raise RestoreTargetNotEmpty(f"the {what} {d} is not empty ({len(entries)} entries: "
                                    f"{shown}); a restore never mixes with existing data: {fix}")


def _open_keys(path: Path, passphrase: Passphrase
               ) -> tuple[dict[str, bytes] | None, bytes, str, str]:
    """The archive's key files (None without), its manifest key, archive id, member checksum."""
    for name, size, fh in archive.members(path):
        if name != archive.KEYS:
            return None, b"", "", ""
        if size > 1 << 20:
            raise ArchiveDamaged(f"{path}: the keys part is {size} bytes, far too large")
        member = fh.read()
        secret = passphrase() if callable(passphrase) else passphrase
        if not secret:
            raise BackupError("this archive holds keys sealed with a passphrase: give "
                              "--passphrase-file or TIPLAB_BACKUP_PASSPHRASE")
        files, mac_key, archive_id = open_files(member, secret)
        return files, mac_key, archive_id, hashlib.sha256(member).hexdigest()
    raise ArchiveDamaged(f"{path} holds no members")


def _extract(path: Path, staging: Path, with_keys: bool, mac_key: bytes, keys_id: str,
             keys_sha: str) -> tuple[dict[str, Any], Path]:
    """Extract every member under ``staging`` and check it; return the manifest and where the
    database member is."""
    incoming = staging / ".incoming"
    got: dict[str, archive.Member] = {}
    body = mac = None
    for name, size, fh in archive.members(path):
        if body is not None and name != archive.MAC:
            raise ArchiveDamaged(f"{path}: member {name} follows the manifest")
        if name == archive.KEYS:
            got[name] = archive.Member(name, size, keys_sha)
            continue
        if name in (archive.MANIFEST, archive.MAC):
            if size > 64 << 20:
                raise ArchiveDamaged(f"{path}: {name} is {size} bytes, far too large")
            content = _read(fh, path)
            body, mac = (content, mac) if name == archive.MANIFEST else (body, content)
            continue
        dest = (incoming / name[len(archive.DATABASE):] if name.startswith(archive.DATABASE)
                else staging / name[len(archive.DATA):])
        try:
            m = archive.copy_member(fh, dest)
        except FileExistsError:
            raise ArchiveDamaged(f"{path}: member {name} appears twice") from None
        except OSError as e:
            raise BackupError(f"writing {dest} failed: {e}; nothing was restored") from e
        got[name] = archive.Member(name, m.size, m.sha256)
    if body is None:
        raise ArchiveDamaged(f"{path} has no manifest: it is truncated or not a tiplab backup")
    if with_keys:
        if mac is None:
            raise ArchiveDamaged(f"{path} holds keys but no manifest authentication code: "
                                 "it was altered")
        check_manifest(mac_key, body, mac.decode())
    try:
        manifest: dict[str, Any] = json.loads(body)
    except ValueError as e:
        raise ArchiveDamaged(f"{path}: the manifest is not JSON ({e})") from e
    if manifest.get("format") != archive.FORMAT:
        raise ArchiveDamaged(f"{path} is a {manifest.get('format')!r} archive; this tiplab "
                             f"reads {archive.FORMAT}")
    if bool(manifest["keys"]["included"]) != with_keys or (
            with_keys and manifest["archive_id"] != keys_id):
        raise ArchiveDamaged(f"{path}: the keys part does not belong to this archive")
    listed = {m["name"]: m for m in manifest["members"]}
    if set(listed) != set(got):
        extra, lost = sorted(set(got) - set(listed)), sorted(set(listed) - set(got))
        raise ArchiveDamaged(f"{path}: members differ from the manifest (not listed: "
                             f"{extra[:3]}, missing: {lost[:3]})")
    for name, m in got.items():
        if (m.size, m.sha256) != (listed[name]["size"], listed[name]["sha256"]):
            raise ArchiveDamaged(f"{path}: {name} does not match its checksum in the manifest; "
                                 "the archive was damaged or changed: do not restore it")
    return manifest, incoming


def _read(fh: Any, path: Path) -> bytes:
    try:
        data: bytes = fh.read()
    except (OSError, EOFError) as e:
        raise ArchiveDamaged(f"{path} is damaged ({e})") from e
    return data


def _write_keys(files: dict[str, bytes], key_staging: Path, data_keys: Path,
                manifest: dict[str, Any]) -> None:
    for name, content in files.items():
        prefix, _, base = name.partition("/")
        if prefix not in ("key_dir", "data_dir_keys") or not base or "/" in base \
                or base.startswith("."):
            raise ArchiveDamaged(f"the archive's keys hold an unexpected file {name!r}")
        d = key_staging if prefix == "key_dir" else data_keys
        write_key_file(d / base, content, replace=True)  # a fresh directory of our own
    ring = read_keyring(key_staging)
    if (ring.key_id if ring else None) != manifest["keys"]["key_id"]:
        raise ArchiveDamaged(f"the archive's keys are {ring.key_id if ring else 'missing'}, "
                             f"its manifest names {manifest['keys']['key_id']}")


def _finish_snapshot(store: Any, manifest: dict[str, Any]) -> list[str]:
    """Write the snapshot's manifest (and any batch file missing from the archive) from the
    restored database; the data version must be the archive's."""
    from tiplab.snapshot import open_snapshot, snapshot_dir
    from tiplab.store import refresh_snapshot

    root = snapshot_dir(store.data_dir) / "batches"
    missing = [b["file"] for b in manifest["snapshot"]["batches"]
               if not (root / b["file"]).exists()]
    version = refresh_snapshot(store)
    if version != manifest["data_version"] or \
            open_snapshot(store.data_dir).data_version != version:
        raise BackupError(f"the restored database gives data version {version}, the archive "
                          f"says {manifest['data_version']}; the restore was undone")
    return missing


def _compare(store: Any, manifest: dict[str, Any]) -> Any:
    state = store.restored_state()
    want = manifest["database"]["counts"]
    diff = {t: (n, state.counts.get(t)) for t, n in want.items() if state.counts.get(t) != n}
    if diff:
        raise BackupError(f"the restored database's row counts differ from the archive's "
                          f"(table: archive, restored): {diff}; the restore was undone")
    audit = manifest["database"]["audit"]
    if not state.audit_intact:
        raise BackupError(f"the restored audit chain is broken: {state.audit_problem}; the "
                          "restore was undone")
    if (state.audit_entries, state.audit_head) != (audit["entries"], audit["head"]):
        raise BackupError(f"the restored audit log has {state.audit_entries} entries (head "
                          f"{state.audit_head[:12]}), the archive {audit['entries']} (head "
                          f"{str(audit['head'])[:12]}); the restore was undone")
    return state
