"""``tiplab backup`` and ``tiplab restore`` on SQLite, end to end, each in a process of its own.

A seeded data directory (three agencies, a superseded batch, rejects, users, audit entries, a
link run and an estimation run with their files, a local profile) is backed up and restored;
the restored installation must be the same one: data version, rows of every table, identifiers,
the audit chain, the files. Then what must fail, fails cleanly: a wrong passphrase, a
non-empty target, a changed or damaged archive — nothing is written.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tiplab.config import key_dir
from tiplab.keys import read_keyring
from tiplab.records.protect import unseal, unseal_raw_row

from .helpers import (
    PASSPHRASE,
    env_for,
    leftovers,
    members,
    resign,
    rewrite,
    run,
    seed,
    tiplab,
)

# one worker seeds the site once for the whole module (loadgroup)
pytestmark = pytest.mark.xdist_group("backup-sqlite")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = tmp_path_factory.mktemp("site") / "data"
    info = seed(data)
    info["data"] = data
    return info


@pytest.fixture(scope="module")
def archive(site: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("archives") / "site.tar.zst"
    result = tiplab("backup", "--out", str(out),
                    env=env_for(site["data"], TIPLAB_BACKUP_PASSPHRASE=PASSPHRASE))
    result["file"] = out
    return result


def _tables(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = sqlite3.connect(db)
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr)
                for n in names}
    finally:
        con.close()


def _audit(db: Path) -> list[tuple[str, str, str]]:
    """(action, details, hash) of every audit entry, in order."""
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT action, details, hash FROM audit_auditentry ORDER BY id"
                           ).fetchall()
    finally:
        con.close()


def _identities(data: Path) -> dict[tuple[str, str], dict[str, Any]]:
    ring = read_keyring(key_dir(data))
    assert ring is not None
    con = sqlite3.connect(data / "tiplab.sqlite3")
    try:
        return {(s, r): unseal(b, ring, s, r) for s, r, b in con.execute(
            "SELECT source_agency, record_id, identity_sealed FROM cases_caserecord")}
    finally:
        con.close()


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_round_trip_restores_the_same_installation(site: dict[str, Any],
                                                    archive: dict[str, Any],
                                                    tmp_path: Path) -> None:
    data, out = site["data"], archive["file"]
    assert archive["keys_included"] is True
    assert archive["data_version"] == json.loads(
        (data / "snapshot" / "manifest.json").read_text())["data_version"]
    assert archive["skipped"] == {"staticfiles": "made by collectstatic",
                                  "tmp": "work files of imports in progress"}
    assert out.stat().st_size == archive["bytes"]

    target = tmp_path / "restored"
    restored = tiplab("restore", str(out),
                      env=env_for(target, TIPLAB_BACKUP_PASSPHRASE=PASSPHRASE))
    assert restored["data_version"] == archive["data_version"]
    assert restored["keys_restored"] is True
    assert restored["key_id"] == archive["key_id"] == read_keyring(key_dir(data)).key_id
    assert restored["warnings"] == []
    assert leftovers(tmp_path) == []

    # every row of every table (sessions and the like included) as in the archive's copy, and
    # as in the site but for the audit entries about the backup and the restore themselves
    archived = tmp_path / "archived.sqlite3"
    archived.write_bytes(members(out)["database/tiplab.sqlite3"])
    got, copied, site_rows = (_tables(p) for p in (target / "tiplab.sqlite3", archived,
                                                   data / "tiplab.sqlite3"))
    audits = [_audit(p) for p in (target / "tiplab.sqlite3", archived, data / "tiplab.sqlite3")]
    for t in (got, copied, site_rows):
        del t["audit_auditentry"]
    assert got == copied == site_rows
    restored_log, archived_log, site_log = audits
    assert restored_log[:-1] == archived_log == site_log[:len(archived_log)]
    assert restored_log[-1][0] == "backup.restore"
    assert json.loads(restored_log[-1][1])["archive_id"] == json.loads(
        members(out)["manifest.json"])["archive_id"]
    created = [json.loads(d) for a, d, _ in site_log[len(archived_log):] if a == "backup.create"]
    assert [c["sha256"] for c in created] == [archive["sha256"]]
    assert created[0]["keys_included"] is True
    # the same keys, so every identifier unseals to the same values
    assert read_keyring(key_dir(target)) == read_keyring(key_dir(data))
    before = _identities(data)
    assert len(before) > 80
    assert _identities(target) == before
    assert any(site["names"][0] == i.get("family_name") for i in before.values())
    con = sqlite3.connect(target / "tiplab.sqlite3")
    rejects = con.execute("SELECT b.sha256, r.source_row, r.raw_sealed FROM cases_rejectedrow r "
                          "JOIN cases_importbatch b ON b.id = r.batch_id").fetchall()
    con.close()
    assert len(rejects) == 3
    ring = read_keyring(key_dir(target))
    assert all("Rejected" in unseal_raw_row(s, ring, sha, row) for sha, row, s in rejects)
    # the files: the snapshot's batch files, the runs' outputs, the local profile
    for folder in ("snapshot/batches", "linkage", "estimates", "profiles"):
        assert _files(target / folder) == _files(data / folder), folder
        assert _files(target / folder)
    assert sorted(p.name for p in target.iterdir()) == [
        "estimates", "keys", "linkage", "profiles", "snapshot", "staticfiles",
        "tiplab.sqlite3"]
    # the application sees the same data: audit chain, batches, snapshot
    env = env_for(target)
    done = run(["-m", "tiplab_web.manage", "verify_audit"], env)
    assert f"chain intact: {len(restored_log)} entries" in done.stdout
    assert len(restored_log) == restored["audit"]["entries"] + 1 > 1
    for cmd in (["snapshot"], ["batches"]):
        got, want = tiplab(*cmd, env=env), tiplab(*cmd, env=env_for(data))
        for d in (got, want):
            d.pop("_stderr"), d.pop("path", None)
        assert got == want, cmd
    assert tiplab("snapshot", env=env)["case_records"] == _active_records(target) \
        == _active_records(data) > 0


def _active_records(data: Path) -> int:
    con = sqlite3.connect(data / "tiplab.sqlite3")
    try:
        return int(con.execute(
            "SELECT count(*) FROM cases_caserecord r JOIN cases_importbatch b ON "
            "b.id = r.batch_id WHERE b.status = 'active'").fetchone()[0])
    finally:
        con.close()


def test_the_archive_reveals_no_identity_without_the_passphrase(site: dict[str, Any],
                                                                 archive: dict[str, Any]) -> None:
    items = members(archive["file"])
    assert next(iter(items)) == "keys.enc"
    assert list(items)[-2:] == ["manifest.json", "manifest.mac"]
    assert "database/tiplab.sqlite3" in items
    public = b"".join(data for name, data in items.items() if name != "keys.enc")
    identities = _identities(site["data"])
    values = {v for i in identities.values() for v in i.values()}
    assert len(values) > 100
    for value in values:
        assert value.encode() not in public, value
    ring = read_keyring(key_dir(site["data"]))
    import base64

    for secret in (ring.field_key, ring.pseudonym_key):
        for form in (secret, secret.hex().encode(), base64.b64encode(secret)):
            assert form not in public
            assert form not in items["keys.enc"]
    manifest = json.loads(items["manifest.json"])
    assert manifest["keys"] == {"included": True, "key_id": ring.key_id, "kept_key_ids": [],
                                "files": ["key_dir/django-secret-key", "key_dir/field.key",
                                          "key_dir/pseudonym.key"]}
    assert manifest["database"]["vendor"] == "sqlite"
    assert manifest["versions"]["tiplab"]
    sealed = json.loads(items["keys.enc"])
    assert sealed["kdf"]["name"] == "argon2id"
    assert sealed["kdf"]["memory_kib"] >= 64 * 1024


def test_wrong_or_missing_passphrase_writes_nothing(archive: dict[str, Any],
                                                    tmp_path: Path) -> None:
    target = tmp_path / "restored"
    bad = tiplab("restore", str(archive["file"]), ok=False,
                 env=env_for(target, TIPLAB_BACKUP_PASSPHRASE="not the passphrase at all"))
    assert bad["_rc"] == 2
    assert bad["error"]["type"] == "WrongPassphrase"
    assert "nothing was restored" in bad["error"]["message"]
    missing = tiplab("restore", str(archive["file"]), ok=False, env=env_for(target))
    assert missing["error"]["type"] == "BackupError"
    assert "--passphrase-file" in missing["error"]["message"]
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_passphrase_from_a_file(archive: dict[str, Any], tmp_path: Path) -> None:
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
    target = tmp_path / "restored"
    out = tiplab("restore", str(archive["file"]), "--passphrase-file", str(secret),
                 env=env_for(target))
    assert out["data_version"] == archive["data_version"]
    assert (target / "keys" / "field.key").stat().st_mode & 0o777 == 0o600


def test_a_non_empty_target_is_refused(archive: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "restored"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    out = tiplab("restore", str(archive["file"]), ok=False,
                 env=env_for(target, TIPLAB_BACKUP_PASSPHRASE=PASSPHRASE))
    assert out["error"]["type"] == "RestoreTargetNotEmpty"
    assert "notes.txt" in out["error"]["message"]
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert leftovers(tmp_path) == []
    # an empty directory is fine (a mount point, say)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert tiplab("restore", str(archive["file"]),
                  env=env_for(empty, TIPLAB_BACKUP_PASSPHRASE=PASSPHRASE))["keys_restored"]


def _flip(data: bytes) -> bytes:
    return data[:100] + bytes([data[100] ^ 1]) + data[101:]


@pytest.mark.parametrize("damage", ["member", "member-and-checksum", "keys-stripped",
                                    "truncated", "not-tiplab"])
def test_a_changed_or_damaged_archive_is_refused(archive: dict[str, Any], tmp_path: Path,
                                                 damage: str) -> None:
    src = archive["file"]
    bad = tmp_path / "bad.tar.zst"
    batch = next(n for n in members(src) if n.startswith("data/snapshot/"))
    if damage == "member":
        rewrite(src, bad, lambda m: {**m, batch: _flip(m[batch])})
        expected = "does not match its checksum"
    elif damage == "member-and-checksum":  # the checksum fixed too: the manifest's MAC fails
        def change(m: dict[str, bytes]) -> dict[str, bytes]:
            import hashlib

            manifest = json.loads(m["manifest.json"])
            for entry in manifest["members"]:
                if entry["name"] == batch:
                    entry["sha256"] = hashlib.sha256(_flip(m[batch])).hexdigest()
            body = json.dumps(manifest, indent=1, sort_keys=True).encode()
            return {**m, batch: _flip(m[batch]), "manifest.json": body}

        rewrite(src, bad, change)
        expected = "authentication code"
    elif damage == "keys-stripped":  # no keys part, so no MAC: refused when keys are expected
        def strip(m: dict[str, bytes]) -> dict[str, bytes]:
            manifest = json.loads(m["manifest.json"])
            manifest["keys"]["included"] = False
            manifest["members"] = [e for e in manifest["members"] if e["name"] != "keys.enc"]
            body = json.dumps(manifest, indent=1, sort_keys=True).encode()
            return {n: (body if n == "manifest.json" else d) for n, d in m.items()
                    if n not in ("keys.enc", "manifest.mac")}

        rewrite(src, bad, strip)
        expected = "holds no keys"
    elif damage == "truncated":
        bad.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
        expected = "damaged"
    else:
        bad.write_bytes(b"PK\x03\x04 a zip file, say")
        expected = "not a tiplab backup"
    target = tmp_path / "restored"
    out = tiplab("restore", str(bad), ok=False,
                 env=env_for(target, TIPLAB_BACKUP_PASSPHRASE=PASSPHRASE))
    assert out["error"]["type"] == ("BackupError" if damage == "keys-stripped"
                                    else "ArchiveDamaged"), out
    assert expected in out["error"]["message"]
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_a_restore_that_does_not_match_its_manifest_is_undone(archive: dict[str, Any],
                                                             tmp_path: Path) -> None:
    """Signed by the passphrase's holder but describing other data: the database loads, the
    comparison fails, and nothing stays."""
    def change(m: dict[str, bytes]) -> dict[str, bytes]:
        manifest = json.loads(m["manifest.json"])
        manifest["database"]["counts"]["cases_caserecord"] += 1
        return resign(m, manifest)

    bad = rewrite(archive["file"], tmp_path / "other.tar.zst", change)
    target = tmp_path / "restored"
    out = tiplab("restore", str(bad), ok=False,
                 env=env_for(target, TIPLAB_BACKUP_PASSPHRASE=PASSPHRASE))
    assert out["error"]["type"] == "BackupError"
    assert "row counts differ" in out["error"]["message"]
    assert "cases_caserecord" in out["error"]["message"]
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_backup_without_keys_says_so_and_restores_sealed(site: dict[str, Any],
                                                         tmp_path: Path) -> None:
    out = tmp_path / "nokeys.tar.zst"
    result = tiplab("backup", "--out", str(out), "--no-keys", env=env_for(site["data"]))
    assert result["keys_included"] is False
    assert result["warnings"][0].startswith("THIS BACKUP HOLDS NO KEYS")
    assert "THIS BACKUP HOLDS NO KEYS" in result["_stderr"]
    assert "keys.enc" not in members(out)
    target = tmp_path / "restored"
    restored = tiplab("restore", str(out), env=env_for(target))  # no passphrase asked
    assert restored["keys_restored"] is False
    assert "THIS ARCHIVE HOLDS NO KEYS" in restored["warnings"][0]
    assert read_keyring(key_dir(target)) is None
    assert restored["data_version"] == result["data_version"]


def test_an_existing_archive_is_replaced_only_with_force(site: dict[str, Any],
                                                          tmp_path: Path) -> None:
    out = tmp_path / "b.tar.zst"
    out.write_bytes(b"an older backup")
    env = env_for(site["data"], TIPLAB_BACKUP_PASSPHRASE=PASSPHRASE)
    refused = tiplab("backup", "--out", str(out), env=env, ok=False)
    assert refused["error"]["type"] == "BackupError"
    assert "--force" in refused["error"]["message"]
    assert out.read_bytes() == b"an older backup"
    short = tiplab("backup", "--out", str(out), "--force", ok=False,
                   env=env_for(site["data"], TIPLAB_BACKUP_PASSPHRASE="short"))
    assert "at least 12" in short["error"]["message"]
    assert out.read_bytes() == b"an older backup"
    done = tiplab("backup", "--out", str(out), "--force", env=env)
    assert done["bytes"] == out.stat().st_size > 1000
    assert leftovers(tmp_path) == []


def test_runs_and_snapshot_files_follow_the_database_copy(site: dict[str, Any],
                                                          tmp_path: Path) -> None:
    """Files the database copy does not reference stay out; a batch file missing at backup
    time is rebuilt on restore, with the same data version."""
    data = tmp_path / "data"
    shutil.copytree(site["data"], data)
    (data / "linkage" / "999").mkdir()
    (data / "linkage" / "999" / "orphan.parquet").write_bytes(b"no run has this")
    batch_files = sorted((data / "snapshot" / "batches").iterdir())
    lost = batch_files[0]
    kept = lost.read_bytes()
    lost.unlink()
    (data / "notes").mkdir()
    out = tmp_path / "b.tar.zst"
    result = tiplab("backup", "--out", str(out), env=env_for(
        data, TIPLAB_BACKUP_PASSPHRASE=PASSPHRASE))
    assert result["rebuilt_on_restore"] == [lost.name]
    assert result["skipped"]["notes"] == "unknown to tiplab"
    assert any("notes" in w for w in result["warnings"])
    names = set(members(out))
    assert f"data/linkage/{site['link_run']}/review_queue.parquet" in names
    assert not any("999" in n for n in names)
    target = tmp_path / "restored"
    restored = tiplab("restore", str(out), env=env_for(
        target, TIPLAB_BACKUP_PASSPHRASE=PASSPHRASE))
    assert restored["snapshot_rebuilt"] == [lost.name]
    assert restored["data_version"] == result["data_version"]
    import pyarrow.parquet as pq

    assert pq.read_table(target / "snapshot" / "batches" / lost.name).equals(
        pq.read_table(pa_buffer(kept)))


def pa_buffer(data: bytes) -> Any:
    import pyarrow as pa

    return pa.BufferReader(data)


@pytest.mark.slow
def test_backups_are_consistent_while_imports_commit(tmp_path: Path) -> None:
    """Another process imports batch after batch while backups are taken: every archive holds
    whole batches only, a snapshot matching them and the data version of its database."""
    import subprocess
    import sys
    import threading
    import time

    import pyarrow.parquet as pq

    from tiplab.snapshot import SnapshotBatch, data_version

    from .helpers import HERE

    data = tmp_path / "data"
    stop = tmp_path / "stop"
    errors = tmp_path / "importer.stderr"
    with errors.open("w") as err:
        proc = subprocess.Popen([sys.executable, str(HERE / "import_loop.py"), str(stop)],
                                env=env_for(data), stdout=subprocess.PIPE, stderr=err,
                                text=True)
    committed: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        committed.extend(line.split()[1] for line in proc.stdout if line.startswith("committed"))

    reader = threading.Thread(target=read)
    reader.start()
    taken = []
    try:
        deadline = time.monotonic() + 120
        while not committed:
            assert proc.poll() is None, errors.read_text()
            assert time.monotonic() < deadline, "the importer never committed"
            time.sleep(0.1)
        for i in range(4):
            before = len(committed)
            out = tmp_path / f"b{i}.tar.zst"
            result = tiplab("backup", "--out", str(out), "--no-keys", env=env_for(data))
            taken.append((out, result, before, len(committed)))
    finally:
        stop.touch()
        proc.wait(timeout=120)
        reader.join(timeout=30)
        assert proc.stdout is not None
        proc.stdout.close()
    assert proc.returncode == 0, errors.read_text()
    # imports committed while backups ran (the point of the test)
    assert any(after > before for _, _, before, after in taken)
    seen = []
    for out, result, before, after in taken:
        items = members(out)
        db = tmp_path / "check.sqlite3"
        db.write_bytes(items["database/tiplab.sqlite3"])
        con = sqlite3.connect(db)
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        batches = con.execute(
            "SELECT b.batch_id, b.kind, b.source_agency, b.sha256, b.accepted, count(r.id) "
            "FROM cases_importbatch b LEFT JOIN cases_caserecord r ON r.batch_id = b.id "
            "GROUP BY b.id ORDER BY b.id").fetchall()
        con.close()
        db.unlink()
        assert all(accepted == stored == 3000 for *_, accepted, stored in batches)
        assert before <= len(batches) <= after + 1  # the batches committed by then, maybe one more
        snap = [SnapshotBatch(b, k, s, h, n, f"{k}-{b}.parquet") for b, k, s, h, n, _ in batches]
        assert result["data_version"] == data_version(snap)
        manifest = json.loads(items["manifest.json"])
        assert manifest["data_version"] == result["data_version"]
        files = {n.rsplit("/", 1)[1] for n in items if n.startswith("data/snapshot/batches/")}
        assert files | set(result["rebuilt_on_restore"]) == {b.file for b in snap}
        for name in files:
            assert pq.read_table(pa_buffer(items[f"data/snapshot/batches/{name}"])).num_rows \
                == 3000
        seen.append(len(batches))
    assert seen == sorted(seen)
    assert seen[-1] > seen[0]
    # and one of them, taken mid-stream, restores to the same data version
    out, result, _, _ = taken[1]
    restored = tiplab("restore", str(out), env=env_for(tmp_path / "restored"))
    assert restored["data_version"] == result["data_version"]
    assert restored["counts"]["cases_caserecord"] == 3000 * seen[1]
