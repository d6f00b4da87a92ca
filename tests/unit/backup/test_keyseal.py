"""The keys' part of an archive and the archive's member rules, without a database."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pyarrow as pa
import pytest

from tiplab.backup import archive
from tiplab.backup.keyseal import (
    KdfCost,
    check_manifest,
    manifest_mac,
    open_files,
    seal_files,
)
from tiplab.errors import ArchiveDamaged, BackupError, WrongPassphrase

CHEAP = KdfCost(iterations=1, lanes=1, memory_kib=8 * 1024)  # fast, for tests only
FILES = {"key_dir/field.key": bytes(range(32)), "key_dir/pseudonym.key": bytes(32)}
PASS = "a long enough passphrase"


def test_sealed_keys_open_with_the_passphrase_only() -> None:
    member, mac_key = seal_files(FILES, PASS, "archive-1", CHEAP)
    files, again, archive_id = open_files(member, PASS)
    assert (files, again, archive_id) == (FILES, mac_key, "archive-1")
    head = json.loads(member)
    assert head["kdf"] == {"name": "argon2id", "salt": head["kdf"]["salt"], "iterations": 1,
                           "lanes": 1, "memory_kib": 8192}
    assert bytes(range(32)) not in member
    with pytest.raises(WrongPassphrase, match="nothing was restored"):
        open_files(member, PASS + "!")
    # the keys are bound to their archive: moved under another archive's id, they do not open
    moved = json.dumps({**head, "archive_id": "archive-2"}).encode()
    with pytest.raises(WrongPassphrase):
        open_files(moved, PASS)
    # a salt of another archive gives another key: a fresh salt per archive
    other, other_mac = seal_files(FILES, PASS, "archive-1", CHEAP)
    assert json.loads(other)["kdf"]["salt"] != head["kdf"]["salt"]
    assert other_mac != mac_key


def test_the_manifest_is_authenticated_by_the_passphrase() -> None:
    _, mac_key = seal_files(FILES, PASS, "a", CHEAP)
    body = b'{"members": []}'
    mac = manifest_mac(mac_key, body)
    check_manifest(mac_key, body, mac)
    with pytest.raises(ArchiveDamaged, match="changed after it was written"):
        check_manifest(mac_key, b'{"members": [1]}', mac)


def test_doctored_or_foreign_keys_parts_are_refused() -> None:
    member, _ = seal_files(FILES, PASS, "a", CHEAP)
    head = json.loads(member)
    greedy = {**head, "kdf": {**head["kdf"], "memory_kib": 64 * 1024 * 1024}}
    with pytest.raises(ArchiveDamaged, match="KiB per guess"):
        open_files(json.dumps(greedy).encode(), PASS)
    with pytest.raises(ArchiveDamaged, match="unknown format"):
        open_files(json.dumps({**head, "format": "other/9"}).encode(), PASS)
    with pytest.raises(ArchiveDamaged, match="damaged"):
        open_files(b"not json", PASS)
    with pytest.raises(BackupError, match="at least 12"):
        seal_files(FILES, "short", "a", CHEAP)


@pytest.mark.parametrize("name", ["../evil", "/etc/passwd", "data/../../evil", "data/a/../b",
                                  "other/file", "database", "data/", "keys.enc/x"])
def test_member_names_outside_the_layout_are_refused(name: str) -> None:
    with pytest.raises(ArchiveDamaged, match="unexpected member"):
        archive._checked(name)


def test_member_names_of_the_layout_pass() -> None:
    for name in ("keys.enc", "manifest.json", "manifest.mac", "database/tiplab.sqlite3",
                 "data/snapshot/batches/case-B1.parquet", "data/linkage/3/pairs.parquet"):
        assert archive._checked(name) == name


def test_links_and_directories_in_an_archive_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "links.tar.zst"
    with path.open("wb") as raw, pa.CompressedOutputStream(raw, "zstd") as zst, \
            tarfile.open(fileobj=zst, mode="w|") as tar:
        link = tarfile.TarInfo("data/snapshot/batches/x.parquet")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/shadow"
        tar.addfile(link)
    with pytest.raises(ArchiveDamaged, match="not a regular file"):
        list(archive.members(path))


def test_writer_records_sizes_and_checksums(tmp_path: Path) -> None:
    import hashlib

    src = tmp_path / "f.bin"
    src.write_bytes(b"x" * 3_000_000)
    w = archive.ArchiveWriter(tmp_path / "a.tar.zst")
    w.add_bytes("manifest.json", b"{}")
    w.add_file("data/profiles/f.bin", src)
    w.close()
    assert [m.to_dict() for m in w.members] == [
        {"name": "manifest.json", "size": 2, "sha256": hashlib.sha256(b"{}").hexdigest()},
        {"name": "data/profiles/f.bin", "size": 3_000_000,
         "sha256": hashlib.sha256(b"x" * 3_000_000).hexdigest()}]
    got = {}
    for name, size, fh in archive.members(tmp_path / "a.tar.zst"):
        got[name] = archive.copy_member(fh, tmp_path / "out" / name)
        assert got[name].size == size
    assert got["data/profiles/f.bin"].sha256 == w.members[1].sha256
    with pytest.raises(FileExistsError):  # never overwrites
        archive.ArchiveWriter(tmp_path / "a.tar.zst")
