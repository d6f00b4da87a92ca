"""Keys that protect identifiers, kept outside the database.

Two keys protect identifying fields (see ``docs/privacy.md``):

* the **field key** (AES-256-GCM) encrypts each record's identifiers as one sealed blob, so
  that a data steward can reveal one record's identifiers (audited) and an authorised linkage
  run can read them in memory;
* the **pseudonym key** (HMAC-SHA256) turns exact identifiers (date of birth, document and
  phone numbers) into stable pseudonyms that allow exact matching without revealing them.

Keys are 32 random bytes in files with mode 0600 under ``TIPLAB_KEY_DIR`` (default
``<data dir>/keys``). A stolen database without the key directory reveals no identity.

A key rotation (:mod:`tiplab.rotation`) keeps the previous keys as *generations*:
``field.key.<key id>`` and ``pseudonym.key.<key id>`` beside the current files, until they are
retired. Imports hold :func:`key_lock` shared while they seal and write; a rotation holds it
exclusively, so no batch is ever sealed with keys that a rotation is replacing. The lock file
lives in the data directory, not beside the keys: the key directory may be a read-only
secrets mount, which imports must only read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tiplab.errors import ConfigError, KeyLockBusy

KEY_BYTES = 32
FIELD_KEY = "field.key"
PSEUDONYM_KEY = "pseudonym.key"
KEY_FILES = (FIELD_KEY, PSEUDONYM_KEY)
LOCK_FILE = ".keys.lock"  #: in the data directory
_GENERATION = re.compile(r"^(field|pseudonym)\.key\.([0-9a-f]{12})$")


def _read_or_create(path: Path, nbytes: int) -> bytes:
    if path.exists():
        data = path.read_bytes()
        if len(data) < nbytes:
            raise ConfigError(f"key file {path} holds {len(data)} bytes, expected {nbytes}; "
                              "restore it from backup (identifiers cannot be read without it)")
        return data[:nbytes]
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = secrets.token_bytes(nbytes)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    try:
        os.link(tmp, path)  # fails if another process created the key meanwhile
    except FileExistsError:
        tmp.unlink()
        return path.read_bytes()[:nbytes]
    tmp.unlink()
    return data


def load_or_create_secret(path: Path) -> str:
    """A random secret string (e.g. Django's SECRET_KEY for local runs), created once."""
    return _read_or_create(path, 48).hex()


@dataclass(frozen=True)
class KeyRing:
    field_key: bytes
    pseudonym_key: bytes

    @property
    def key_id(self) -> str:
        """A short public fingerprint of the keys, recorded with each batch."""
        return hashlib.blake2b(self.field_key + self.pseudonym_key, digest_size=6).hexdigest()


def load_keyring(directory: Path) -> KeyRing:
    """Load (creating on first use) the field and pseudonym keys from ``directory``."""
    return KeyRing(
        field_key=_read_or_create(directory / FIELD_KEY, KEY_BYTES),
        pseudonym_key=_read_or_create(directory / PSEUDONYM_KEY, KEY_BYTES),
    )


def _read_key(path: Path) -> bytes:
    data = path.read_bytes()
    if len(data) < KEY_BYTES:
        raise ConfigError(f"key file {path} holds {len(data)} bytes, expected {KEY_BYTES}; "
                          "restore it from a backup (identifiers cannot be read without it)")
    return data[:KEY_BYTES]


def read_keyring(directory: Path) -> KeyRing | None:
    """The current keys in ``directory``, or None when there are none yet (never creates).

    Raises when only one of the two files exists: half a key ring opens nothing.
    """
    present = [(directory / n).exists() for n in KEY_FILES]
    if not any(present):
        return None
    if not all(present):
        missing = [n for n, p in zip(KEY_FILES, present, strict=True) if not p]
        raise ConfigError(f"{directory} holds only one of the two keys ({missing[0]} is "
                          "missing); restore it from a backup")
    return KeyRing(_read_key(directory / FIELD_KEY), _read_key(directory / PSEUDONYM_KEY))


def generation_path(directory: Path, name: str, key_id: str) -> Path:
    """Where a kept (previous) generation of key file ``name`` lives."""
    return directory / f"{name}.{key_id}"


def kept_generations(directory: Path) -> dict[str, KeyRing]:
    """Previous keys kept after a rotation, by key id (``field.key.<id>`` + ``pseudonym.key.<id>``).

    A pair whose contents do not give the key id of its name is refused: a renamed or mixed-up
    file would otherwise open (or fail to open) the wrong batches.
    """
    found: dict[str, dict[str, Path]] = {}
    if directory.is_dir():
        for p in directory.iterdir():
            m = _GENERATION.match(p.name)
            if m:
                found.setdefault(m.group(2), {})[f"{m.group(1)}.key"] = p
    out: dict[str, KeyRing] = {}
    for key_id, files in sorted(found.items()):
        if set(files) != set(KEY_FILES):
            have = ", ".join(sorted(f.name for f in files.values()))
            raise ConfigError(f"{directory}: the kept keys {key_id} are incomplete (only "
                              f"{have}); restore the other file from a backup or retire both")
        ring = KeyRing(_read_key(files[FIELD_KEY]), _read_key(files[PSEUDONYM_KEY]))
        if ring.key_id != key_id:
            raise ConfigError(f"{directory}: the files named {key_id} hold keys {ring.key_id}; "
                              "a key file was renamed or replaced by hand")
        out[key_id] = ring
    return out


def write_key_file(path: Path, data: bytes, *, replace: bool = False) -> None:
    """Write a key file with mode 0600, durably (fsync), all at once (temporary file, then link).

    Without ``replace`` an existing file is an error, never overwritten.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # FileExistsError rather than overwrite
    finally:
        tmp.unlink(missing_ok=True)
    sync_dir(path.parent)


def sync_dir(directory: Path) -> None:
    """fsync a directory, so the renames and links in it survive a power cut."""
    with contextlib.suppress(OSError):  # not every file system lets a directory be opened
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def key_lock(data_dir: Path, *, exclusive: bool = False) -> Iterator[None]:
    """Hold the installation's key lock (``<data dir>/.keys.lock``): shared for an import
    (sealing and writing a batch) or a backup (reading the keys and the database), exclusive
    for a key rotation.

    Shared holders wait for an exclusive one to finish (an import started during a rotation
    seals with the new keys); an exclusive request never waits: it raises
    :class:`~tiplab.errors.KeyLockBusy` while an import runs.
    """
    import fcntl

    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if exclusive:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise KeyLockBusy(
                    f"an import (or a backup) of {data_dir} is using the keys right now; try "
                    "again when it has finished") from None
        else:
            fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock
