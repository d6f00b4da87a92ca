"""``tiplab keys`` in processes of their own: a rotation killed inside its transaction leaves
the old keys opening everything, and ``keys recover`` undoes what it staged."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from tiplab.keys import KEY_FILES, read_keyring
from tiplab.records.protect import unseal
from tiplab.rotation import JOURNAL, NEXT

from ..ingest.factories import POLICE_PROFILE, row, write_csv
from .helpers import env_for, tiplab


def _opened(data: Path, ring) -> int:  # type: ignore[no-untyped-def]
    """Records whose identifiers open with ``ring`` (raises on the first that does not)."""
    con = sqlite3.connect(data / "tiplab.sqlite3")
    try:
        rows = con.execute("SELECT source_agency, record_id, identity_sealed FROM "
                           "cases_caserecord").fetchall()
    finally:
        con.close()
    return sum(bool(unseal(b, ring, s, r)) for s, r, b in rows)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    profile = tmp_path / "police.yaml"
    profile.write_text(POLICE_PROFILE, encoding="utf-8")
    csv = write_csv(tmp_path / "p.csv", [row(Case_No=f"P-{i}", First_name=f"Name{i}")
                                         for i in range(500)])
    out = tiplab("import", str(csv), "--profile", str(profile), env=env_for(data))
    assert out["accepted"] == 500
    return data


@pytest.mark.slow
def test_kill_9_inside_the_rotation_leaves_the_old_keys_working(data: Path,
                                                                tmp_path: Path) -> None:
    keys = data / "keys"
    old = read_keyring(keys)
    before = {p.name: p.read_bytes() for p in keys.iterdir()}
    marker = tmp_path / "in-transaction"
    env = env_for(data, TIPLAB_FAULT_PAUSE_IN_TRANSACTION=str(marker))
    with subprocess.Popen([sys.executable, "-m", "tiplab", "keys", "rotate", "--json"], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "the rotation ended before its transaction"
            assert time.monotonic() < deadline, "the rotation never reached its transaction"
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)  # records re-sealed in the transaction, not committed
        proc.wait(timeout=30)
    # what the crash left: staged keys and the journal, the old keys still the current ones
    assert (keys / JOURNAL).exists()
    assert all((keys / (n + NEXT)).exists() for n in KEY_FILES)
    assert read_keyring(keys) == old
    assert _opened(data, old) == 500
    status = tiplab("keys", "status", env=env_for(data))
    assert status["pending"]["old_key_id"] == old.key_id
    assert any("keys recover" in p for p in status["problems"])
    # recover: the rotation never committed, so it is undone
    assert tiplab("keys", "recover", env=env_for(data))["recovered"] == "rolled back"
    assert {p.name: p.read_bytes() for p in keys.iterdir()} == before
    # a rotation now goes through; the old keys open nothing any more
    done = tiplab("keys", "rotate", env=env_for(data))
    assert (done["old_key_id"], done["records"], done["rejects"], done["batches"]) == (
        old.key_id, 500, 0, 1)
    new = read_keyring(keys)
    assert new is not None
    assert new.key_id == done["new_key_id"]
    assert _opened(data, new) == 500
    with pytest.raises(InvalidTag):
        _opened(data, old)
    assert tiplab("keys", "status", env=env_for(data))["kept"] == [old.key_id]
    assert tiplab("keys", "retire", env=env_for(data))["retired"] == [old.key_id]
    assert not (keys / f"field.key.{old.key_id}").exists()


def test_keys_commands_report_clear_errors(tmp_path: Path) -> None:
    empty = tiplab("keys", "rotate", env=env_for(tmp_path / "data"), ok=False)
    assert empty["_rc"] == 2
    assert empty["error"]["type"] == "KeyRotationError"
    assert "no keys" in empty["error"]["message"]
    unknown = tiplab("keys", "retire", "0123456789ab", env=env_for(tmp_path / "data"),
                     ok=False)
    assert "no kept keys 0123456789ab" in unknown["error"]["message"]
    status = tiplab("keys", "status", env=env_for(tmp_path / "data"))
    assert (status["key_id"], status["kept"], status["pending"]) == (None, [], None)
