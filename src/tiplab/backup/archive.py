"""The archive file: a tar stream compressed with zstd, every member checksummed.

Members, in this order (``tar --zstd -tvf FILE`` lists them)::

    keys.enc                  the key files, sealed with the passphrase (absent with --no-keys)
    database/<file>           the database: a SQLite file, or a pg_dump archive
    data/<path>               data-directory files: snapshot batch files, run outputs, profiles
    manifest.json             versions, counts, data version, size and SHA-256 of each member
    manifest.mac              HMAC of the manifest under the passphrase's key (with keys only)

The keys come first, so a restore checks the passphrase before it writes anything; the
manifest comes last, as it holds the checksums of everything before it, computed while the
members were written (each file is read once). Only regular files with relative names under
those prefixes are accepted on reading: a doctored archive cannot write outside the restore's
directory.
"""

from __future__ import annotations

import hashlib
import posixpath
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tiplab.errors import ArchiveDamaged

FORMAT = "tiplab-backup/1"
KEYS = "keys.enc"
MANIFEST = "manifest.json"
MAC = "manifest.mac"
DATABASE = "database/"
DATA = "data/"
CODEC = "zstd"
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Member:
    name: str
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


class _Hashing:
    """A file read through SHA-256 (tarfile reads a member's content through it)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.hash.update(data)
        self.size += len(data)
        return data


class ArchiveWriter:
    """Writes members one by one; :attr:`members` lists what was written, with checksums."""

    def __init__(self, path: Path) -> None:
        import pyarrow as pa

        self.path = path
        self._raw = path.open("xb")
        self._zst = pa.CompressedOutputStream(self._raw, CODEC)
        self._tar = tarfile.open(fileobj=self._zst, mode="w|", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self.members: list[Member] = []

    def add_bytes(self, name: str, data: bytes) -> Member:
        import io

        return self._add(name, len(data), io.BytesIO(data))

    def add_file(self, name: str, path: Path) -> Member:
        with path.open("rb") as fh:
            return self._add(name, path.stat().st_size, fh)

    def _add(self, name: str, size: int, fh: IO[bytes]) -> Member:
        info = tarfile.TarInfo(_checked(name))
        info.size = size
        info.mode = 0o600
        reader = _Hashing(fh)
        self._tar.addfile(info, reader)  # type: ignore[arg-type]
        if reader.size != size:  # tarfile raises first when the file shrank; grown is caught here
            raise OSError(f"{name} changed while it was being written to the archive")
        member = Member(name, size, reader.hash.hexdigest())
        self.members.append(member)
        return member

    def close(self) -> None:
        import os

        self._tar.close()
        self._zst.close()  # closes the file under it too
        self._raw.close()
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)  # on disk before it is renamed into place
        finally:
            os.close(fd)

    def abort(self) -> None:
        for closer in (self._tar.close, self._zst.close, self._raw.close):
            try:
                closer()
            except Exception:  # noqa: S112 - cleaning up after a failure already being raised
                continue


def _checked(name: str) -> str:
    """A member name that stays inside the archive's tree, or ArchiveDamaged."""
    norm = posixpath.normpath(name)
    if (norm != name or name.startswith("/") or ".." in name.split("/")
            or not (name in (KEYS, MANIFEST, MAC) or
                    (name.startswith((DATABASE, DATA)) and name.count("/") >= 1
                     and not name.endswith("/")))):
        raise ArchiveDamaged(f"the archive holds an unexpected member {name!r}; it was not "
                             "written by tiplab backup, or it was altered")
    return name


def members(path: Path) -> Iterator[tuple[str, int, IO[bytes]]]:
    """(name, size, content) of each member of ``path``, in order, checked as it is read.

    The content must be read before the next member. Damage (not zstd, not tar, truncated)
    raises :class:`ArchiveDamaged`.
    """
    import pyarrow as pa

    try:
        raw = path.open("rb")
    except OSError as e:
        raise ArchiveDamaged(f"{path}: cannot be read: {e}") from e
    try:
        with raw, pa.CompressedInputStream(raw, CODEC) as zst, \
                tarfile.open(fileobj=zst, mode="r|") as tar:
            for info in tar:
                name = _checked(info.name)
                if not info.isfile():
                    raise ArchiveDamaged(f"the archive member {name!r} is not a regular file")
                fh = tar.extractfile(info)
                assert fh is not None  # a regular file always has content
                yield name, info.size, fh
    except (tarfile.TarError, OSError, ValueError, EOFError) as e:
        raise ArchiveDamaged(f"{path} is damaged or not a tiplab backup ({e})") from e


def copy_member(src: IO[bytes], dest: Path) -> Member:
    """Write a member's content to ``dest`` (a new file), returning its size and checksum.

    A read that fails (damaged or truncated archive) raises :class:`ArchiveDamaged`; a write
    that fails (disk full) raises ``OSError``.
    """
    h = hashlib.sha256()
    size = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("xb") as out:
        while True:
            try:
                block = src.read(_BLOCK)
            except (tarfile.TarError, OSError, ValueError, EOFError) as e:
                raise ArchiveDamaged(f"the archive is damaged in {dest.name} ({e})") from e
            if not block:
                break
            h.update(block)
            size += len(block)
            out.write(block)
    return Member(dest.name, size, h.hexdigest())
