"""``tiplab backup`` / ``tiplab restore`` / ``tiplab keys rotate`` on PostgreSQL (pg_dump on an
exported snapshot, pg_restore in one transaction), against a real server: each test database
is created here and dropped afterwards."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest

from tiplab.config import key_dir
from tiplab.keys import read_keyring
from tiplab.records.protect import PSEUDONYM_FIELDS, pseudonym, unseal

from .helpers import PASSPHRASE, env_for, leftovers, members, resign, rewrite, run, seed, tiplab

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("backup-postgres")]

SERVER = os.environ.get("TIPLAB_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")


@pytest.fixture(scope="module")
def new_database() -> Iterator[Callable[[], str]]:
    """Makes empty databases on the test server (dropped at the end); returns their URLs."""
    import psycopg

    made: list[str] = []
    admin = psycopg.connect(SERVER, autocommit=True)

    def make() -> str:
        name = f"tiplab_backup_{secrets.token_hex(4)}"
        admin.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return urlunparse(urlparse(SERVER)._replace(path=f"/{name}"))

    yield make
    for name in made:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url) as con:
        return list(con.execute(sql).fetchall())


def _tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows; the audit log without the entries about backups and restores."""
    names = [r[0] for r in _query(url, "SELECT table_name FROM information_schema.tables "
                                       "WHERE table_schema = 'public'")]
    out = {n: sorted(_query(url, f'SELECT * FROM "{n}"'), key=repr) for n in names
           if n != "audit_auditentry"}
    out["audit_auditentry"] = _query(url, "SELECT hash FROM audit_auditentry WHERE action "
                                          "NOT LIKE 'backup.%' ORDER BY id")
    return out


def _identities(url: str, data: Path) -> dict[tuple[str, str, int], dict[str, Any]]:
    ring = read_keyring(key_dir(data))
    assert ring is not None
    return {(s, r, b): unseal(bytes(blob), ring, s, r) for s, r, b, blob in _query(
        url, "SELECT source_agency, record_id, batch_id, identity_sealed FROM cases_caserecord")}


@pytest.fixture(scope="module")
def site(new_database: Callable[[], str],
         tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    url = new_database()
    data = tmp_path_factory.mktemp("pg-site") / "data"
    info = seed(data, url)
    out = tmp_path_factory.mktemp("pg-archives") / "site.tar.zst"
    info.update(url=url, data=data, file=out, backup=tiplab(
        "backup", "--out", str(out),
        env=env_for(data, url, TIPLAB_BACKUP_PASSPHRASE=PASSPHRASE)))
    return info


def test_round_trip_on_postgres(site: dict[str, Any], new_database: Callable[[], str],
                                tmp_path: Path) -> None:
    backup = site["backup"]
    assert backup["database"]["vendor"] == "postgresql"
    items = members(site["file"])
    assert "database/tiplab.pgdump" in items
    manifest = json.loads(items["manifest.json"])
    assert manifest["database"]["format"] == "pg_dump-custom"
    assert manifest["versions"]["pg_dump"].startswith("pg_dump (PostgreSQL)")
    assert manifest["versions"]["postgresql"]
    target_url = new_database()
    target = tmp_path / "restored"
    restored = tiplab("restore", str(site["file"]),
                      env=env_for(target, target_url, TIPLAB_BACKUP_PASSPHRASE=PASSPHRASE))
    assert restored["data_version"] == backup["data_version"]
    assert restored["database"]["where"].endswith(urlparse(target_url).path)
    assert _tables(target_url) == _tables(site["url"])
    assert _query(target_url, "SELECT action FROM audit_auditentry ORDER BY id DESC LIMIT 1") \
        == [("backup.restore",)]
    assert _query(site["url"], "SELECT details->>'sha256' FROM audit_auditentry WHERE "
                               "action = 'backup.create'") == [(backup["sha256"],)]
    assert _identities(target_url, target) == _identities(site["url"], site["data"])
    done = run(["-m", "tiplab_web.manage", "verify_audit"], env_for(target, target_url))
    assert f"chain intact: {restored['audit']['entries'] + 1} entries" in done.stdout
    assert restored["audit"]["entries"] > 0
    for folder in ("snapshot/batches", "linkage", "estimates", "profiles"):
        got = {p.relative_to(target).as_posix(): p.read_bytes()
               for p in (target / folder).rglob("*") if p.is_file()}
        want = {p.relative_to(site["data"]).as_posix(): p.read_bytes()
                for p in (site["data"] / folder).rglob("*") if p.is_file()}
        assert got == want
        assert got
    snap = tiplab("snapshot", env=env_for(target, target_url))
    assert snap["data_version"] == backup["data_version"]
    assert snap["case_records"] == tiplab("snapshot", env=env_for(
        site["data"], site["url"]))["case_records"] > 0


def test_a_database_with_tables_is_refused(site: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "restored"
    out = tiplab("restore", str(site["file"]), ok=False,
                 env=env_for(target, site["url"], TIPLAB_BACKUP_PASSPHRASE=PASSPHRASE))
    assert out["error"]["type"] == "RestoreTargetNotEmpty"
    assert "is not empty" in out["error"]["message"]
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_a_failed_restore_empties_the_database_again(site: dict[str, Any],
                                                     new_database: Callable[[], str],
                                                     tmp_path: Path) -> None:
    def change(m: dict[str, bytes]) -> dict[str, bytes]:
        manifest = json.loads(m["manifest.json"])
        manifest["database"]["counts"]["cases_importbatch"] += 1
        return resign(m, manifest)

    bad = rewrite(site["file"], tmp_path / "other.tar.zst", change)
    url = new_database()
    target = tmp_path / "restored"
    out = tiplab("restore", str(bad), ok=False,
                 env=env_for(target, url, TIPLAB_BACKUP_PASSPHRASE=PASSPHRASE))
    assert "row counts differ" in out["error"]["message"]
    assert not target.exists()
    assert leftovers(tmp_path) == []
    # what pg_restore loaded is gone: the database is as empty as before
    assert _query(url, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
                       "n.oid = c.relnamespace WHERE n.nspname = 'public'") == [(0,)]
    assert _query(url, "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON "
                       "n.oid = p.pronamespace WHERE n.nspname = 'public'") == [(0,)]
    # and a good archive restores into it afterwards
    assert tiplab("restore", str(site["file"]), env=env_for(
        tmp_path / "again", url, TIPLAB_BACKUP_PASSPHRASE=PASSPHRASE))["keys_restored"]


def test_key_rotation_on_postgres(site: dict[str, Any], new_database: Callable[[], str],
                                  tmp_path: Path) -> None:
    # on a restored copy, so the other tests keep the original
    url = new_database()
    data = tmp_path / "data"
    tiplab("restore", str(site["file"]),
           env=env_for(data, url, TIPLAB_BACKUP_PASSPHRASE=PASSPHRASE))
    before = _identities(url, data)
    old = read_keyring(key_dir(data))
    done = tiplab("keys", "rotate", env=env_for(data, url))
    assert done["records"] == len(before)
    assert done["rejects"] == 3
    new = read_keyring(key_dir(data))
    assert new is not None
    assert new.key_id == done["new_key_id"] != old.key_id
    assert _identities(url, data) == before
    rows = _query(url, "SELECT source_agency, record_id, identity_sealed, "
                       + ", ".join(f"{f}_pseudonym" for f in PSEUDONYM_FIELDS)
                       + " FROM cases_caserecord")
    checked = 0
    for s, r, blob, *pseudo in rows:
        ident = unseal(bytes(blob), new, s, r)
        for f, got in zip(PSEUDONYM_FIELDS, pseudo, strict=True):
            assert got == (pseudonym(new.pseudonym_key, f, ident[f]) if ident.get(f) else None)
            checked += got is not None
    assert checked > 100
    assert _query(url, "SELECT DISTINCT key_id FROM cases_importbatch") == [(new.key_id,)]
    assert _query(url, "SELECT details->>'old_key_id' FROM audit_auditentry "
                       "WHERE action = 'keys.rotate'") == [(old.key_id,)]
