"""The import transaction on the Django store: idempotent, supersedable, atomic, protected."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tiplab.errors import DuplicateBatchError, IngestError
from tiplab.snapshot import open_snapshot
from tiplab.store import run_import

from .factories import GOOD, POLICE_PROFILE, police_profile, row, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    from tiplab_web.cases.store import DjangoCaseStore

    return DjangoCaseStore(tmp_path / "data")


def _file(tmp_path: Path, name: str, rows: list[list[str]]) -> Path:
    return write_csv(tmp_path / name, rows)


def test_import_stores_batch_records_rejects_and_snapshot(store, tmp_path: Path) -> None:
    from tiplab_web.cases.models import CaseRecord, RejectedRow, RowIssue

    path = _file(tmp_path, "p.csv", [GOOD, row(Case_No="P-2", Sex="Q"),
                                     row(Case_No="P-3", Age="40")])
    batch, _prepared = run_import(store, path, police_profile(), "Police", user="tester")
    assert batch is not None
    assert (batch.rows, batch.accepted, batch.rejected, batch.warnings) == (3, 2, 1, 1)
    assert batch.reasons == {"E_CODE_UNKNOWN": 1, "W_AGE_BIRTHDATE_MISMATCH": 1}
    assert batch.imported_by == "tester"
    assert batch.data_version
    assert batch.data_version.startswith("dv-")
    recs = CaseRecord.objects.filter(batch__batch_id=batch.batch_id).order_by("source_row")
    assert [r.record_id for r in recs] == ["P-1", "P-3"]
    assert recs[1].warnings == ["W_AGE_BIRTHDATE_MISMATCH"]
    assert recs[0].exploitation_forms == ["SexualExploitation"]
    assert RejectedRow.objects.get().source_row == 3
    assert RowIssue.objects.count() == 2
    snap = open_snapshot(store.data_dir)
    assert snap.data_version == batch.data_version
    table = pq.read_table(snap.files("case")[0])
    assert table.column("record_id").to_pylist() == ["P-1", "P-3"]
    assert table.column("source_row").to_pylist() == [2, 4]
    for identifier in ("given_name", "family_name", "birth_date", "document_number", "phone"):
        assert identifier not in table.column_names


def test_identifiers_are_never_stored_in_clear(store, tmp_path: Path) -> None:
    from tiplab_web.cases.models import CaseRecord

    path = _file(tmp_path, "p.csv", [GOOD, row(Case_No="P-2", Surname="Ionescu", Sex="Q")])
    batch, _ = run_import(store, path, police_profile(), "Police")
    assert batch is not None
    from tiplab_web.cases.models import RejectedRow, RowIssue

    dump = repr([list(CaseRecord.objects.values_list()),
                 list(RejectedRow.objects.values_list("raw", "reasons")),
                 list(RowIssue.objects.values_list())])
    assert "Ionescu" not in dump
    assert "Popescu" not in dump
    for clear in ("Ana", "1990-03-02", "02.03.1990"):
        assert clear not in dump
    # A data steward with the key can unseal one record.
    from tiplab.config import key_dir
    from tiplab.keys import load_keyring
    from tiplab.records.protect import unseal

    rec = CaseRecord.objects.get(record_id="P-1")
    ident = unseal(bytes(rec.identity_sealed), load_keyring(key_dir(store.data_dir)), "Police",
                   "P-1")
    assert ident == {"given_name": "Ana", "family_name": "Popescu", "birth_date": "1990-03-02"}
    # The sealed blob is bound to its record: moved to another record it does not open.
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        unseal(bytes(rec.identity_sealed), load_keyring(key_dir(store.data_dir)), "Police",
               "P-2")


def test_same_file_twice_is_refused_naming_the_batch(store, tmp_path: Path) -> None:
    path = _file(tmp_path, "p.csv", [GOOD])
    first, _ = run_import(store, path, police_profile(), "Police")
    assert first is not None
    with pytest.raises(DuplicateBatchError) as err:
        run_import(store, path, police_profile(), "Police")
    assert first.batch_id in str(err.value)
    assert err.value.batch_id == first.batch_id
    assert len(store.list_batches()) == 1


def test_supersede_replaces_a_batch_and_keeps_history(store, tmp_path: Path) -> None:
    from tiplab_web.cases.models import CaseRecord

    old_file = _file(tmp_path, "v1.csv", [GOOD, row(Case_No="P-2", Sex="Q")])
    old, _ = run_import(store, old_file, police_profile(), "Police")
    assert old is not None
    # Without superseding, the same record ids are refused.
    fixed = _file(tmp_path, "v2.csv", [GOOD, row(Case_No="P-2", Sex="M")])
    _, dry = run_import(store, fixed, police_profile(), "Police", dry_run=True)
    # P-1 is stored; P-2 was rejected in v1, so it is not "already stored".
    assert dry.summary()["reasons"] == {"E_RECORD_ID_EXISTS": 1}
    new, _ = run_import(store, fixed, police_profile(), "Police", supersede=old.batch_id)
    assert new is not None
    assert new.rejected == 0
    assert new.supersedes == old.batch_id
    assert store.get_batch(old.batch_id).status == "superseded"
    assert store.get_batch(old.batch_id).superseded_by == new.batch_id
    assert CaseRecord.objects.count() == 3  # history kept
    snap = open_snapshot(store.data_dir)
    assert [b.batch_id for b in snap.batches] == [new.batch_id]
    assert snap.data_version == new.data_version != old.data_version
    with pytest.raises(IngestError, match="superseded"):
        run_import(store, _file(tmp_path, "v3.csv", [GOOD]), police_profile(), "Police",
                   supersede=old.batch_id)


def test_supersede_across_sources_is_refused(store, tmp_path: Path) -> None:
    old, _ = run_import(store, _file(tmp_path, "a.csv", [GOOD]), police_profile(), "Police")
    assert old is not None
    with pytest.raises(IngestError, match="same source"):
        run_import(store, _file(tmp_path, "b.csv", [row(Case_No="Z")]), police_profile(),
                   "NGO", supersede=old.batch_id)


def test_rejects_export_redacts_identifiers_unless_asked(store, tmp_path: Path) -> None:
    path = _file(tmp_path, "p.csv", [row(Case_No="P-2", Sex="Q")])
    batch, _ = run_import(store, path, police_profile(), "Police")
    assert batch is not None
    from typer.testing import CliRunner

    from tiplab.cli import app

    out = tmp_path / "rejects.csv"
    env = {"TIPLAB_DATA_DIR": str(store.data_dir)}
    res = CliRunner().invoke(app, ["rejects", batch.batch_id, "--out", str(out)], env=env)
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    assert rows[0]["Sex"] == "Q"
    assert rows[0]["Surname"] == "\u2022\u2022\u2022"
    assert rows[0]["reason_codes"] == "E_CODE_UNKNOWN"
    res = CliRunner().invoke(app, ["rejects", batch.batch_id, "--out", str(out),
                                   "--with-identifiers"], env=env)
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    assert rows[0]["Surname"] == "Popescu"


def test_snapshot_is_rebuilt_when_lost(store, tmp_path: Path) -> None:
    from tiplab.store import refresh_snapshot

    batch, _ = run_import(store, _file(tmp_path, "p.csv", [GOOD]), police_profile(), "Police")
    assert batch is not None
    for f in (store.data_dir / "snapshot" / "batches").glob("*.parquet"):
        f.unlink()
    version = refresh_snapshot(store)
    assert version == batch.data_version
    table = pq.read_table(open_snapshot(store.data_dir).files("case")[0])
    assert table.column("record_id").to_pylist() == ["P-1"]
    assert table.column("exploitation_forms").to_pylist() == [["SexualExploitation"]]


@pytest.mark.slow
@pytest.mark.parametrize("writer", ["bulk", "django"])
def test_kill_9_inside_the_transaction_leaves_no_partial_batch(tmp_path: Path,
                                                               writer: str) -> None:
    """A real process, killed with SIGKILL after writing records inside the transaction.

    Both SQLite writers: the bulk loader process (the default on a file database; it must
    die with the import) and the Django ``executemany`` path (``TIPLAB_IMPORT_WRITER=django``).
    """
    data = tmp_path / "data"
    profile = tmp_path / "police.yaml"
    profile.write_text(POLICE_PROFILE, encoding="utf-8")
    rows = [row(Case_No=f"P-{i}") for i in range(5000)]
    path = _file(tmp_path, "big.csv", rows)
    marker = tmp_path / "in-transaction"
    env = {**os.environ, "TIPLAB_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE":
           "tiplab_web.settings.dev", "TIPLAB_FAULT_PAUSE_IN_TRANSACTION": str(marker),
           "TIPLAB_IMPORT_WRITER": writer}
    cmd = [sys.executable, "-m", "tiplab", "import", str(path), "--profile", str(profile),
           "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "import never reached the transaction"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    db = sqlite3.connect(data / "tiplab.sqlite3")
    counts = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("cases_importbatch", "cases_caserecord", "cases_rejectedrow",
                        "cases_rowissue")]
    db.close()
    assert counts == [0, 0, 0, 0]
    # And the same file imports cleanly afterwards.
    env.pop("TIPLAB_FAULT_PAUSE_IN_TRANSACTION")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["rows"], out["accepted"]) == (5000, 5000)


def test_sqlite_writer_batches_and_all_null_columns_keep_every_value(store, tmp_path: Path,
                                                                    monkeypatch) -> None:
    """Small Arrow batches and statements, some batches with a column NULL throughout (it is
    then left out of the INSERT): every stored value equals the validated record's."""
    from tiplab_web.cases import store as store_module
    from tiplab_web.cases.models import CaseRecord

    monkeypatch.setattr(store_module, "SQLITE_BATCH_ROWS", 3)
    monkeypatch.setattr(store_module, "SQLITE_ROWS_PER_STATEMENT", 2)
    rows = [row(Case_No=f"P-{i}", Age="" if i < 4 else str(20 + i),
                DOB="" if i < 4 else "02.03.1990",
                Exploitation="" if i in (0, 1, 2, 7) else "labour",
                Nationality="" if i >= 5 else "Roumanie") for i in range(10)]
    batch, prepared = run_import(store, _file(tmp_path, "p.csv", rows), police_profile(),
                                 "Police")
    assert batch is not None
    assert batch.accepted == 10
    stored = {r.record_id: r for r in CaseRecord.objects.filter(batch__batch_id=batch.batch_id)}
    for rec in prepared.result.accepted.to_pylist():
        got = stored[rec["record_id"]]
        assert got.source_row == rec["_row"]
        assert got.age == rec["age"]
        assert got.citizenship == rec["citizenship"]
        assert got.exploitation_forms == (rec["exploitation_forms"] or None)
        assert got.sex == rec["sex"] == "Feminine"
    assert stored["P-0"].age is None
    assert stored["P-9"].age == 29  # (a warning: the date of birth says otherwise)
    assert stored["P-9"].citizenship is None
    assert stored["P-3"].exploitation_forms == ["ForcedLabour"]


def _cli_import(data: Path, path: Path, profile: Path, writer: str,
                *extra: str, seal_chunk_rows: int | None = None) -> dict[str, object]:
    env = {**os.environ, "TIPLAB_DATA_DIR": str(data),
           "DJANGO_SETTINGS_MODULE": "tiplab_web.settings.dev", "TIPLAB_IMPORT_WRITER": writer}
    # ``tiplab import``, with the records sealed (and streamed to the loader) in small chunks
    run = ("import sys; import tiplab.records.protect as p; "
           f"p.SEAL_CHUNK_ROWS = {seal_chunk_rows or 65_536}; "
           "sys.argv[0] = 'tiplab'; from tiplab.cli import main; main()")
    done = subprocess.run([sys.executable, "-c", run, "import", str(path), "--profile",
                           str(profile), "--json", *extra], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    out: dict[str, object] = json.loads(done.stdout)
    return out


def _stored(data: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every stored row, minus what differs by design (ids, random nonces, clock, key id)."""
    from tiplab.config import key_dir
    from tiplab.keys import load_keyring
    from tiplab.records.protect import unseal

    keyring = load_keyring(key_dir(data))
    db = sqlite3.connect(data / "tiplab.sqlite3")
    db.row_factory = sqlite3.Row
    out: dict[str, list[tuple[object, ...]]] = {}
    rows = db.execute("SELECT r.*, b.batch_id AS batch_code FROM cases_caserecord r "
                      "JOIN cases_importbatch b ON b.id = r.batch_id "
                      "ORDER BY b.imported_at, r.source_row").fetchall()
    json_cols = ("exploitation_forms", "warnings")
    out["records"] = [
        (*((k, json.loads(r[k]) if k in json_cols and r[k] else r[k]) for k in r.keys()  # noqa: SIM118 - sqlite3.Row
           if k not in ("id", "batch_id", "batch_code", "identity_sealed")),
         tuple(sorted(unseal(r["identity_sealed"], keyring, r["source_agency"],
                             r["record_id"]).items())))
        for r in rows]
    out["batches"] = [
        (*((k, json.loads(r[k]) if k == "reasons" else r[k]) for k in r.keys()  # noqa: SIM118
           if k not in ("id", "batch_id", "imported_at", "key_id", "superseded_at",
                        "supersedes_id", "data_version")),
         r["supersedes_id"] is not None, r["superseded_at"] is not None)
        for r in db.execute("SELECT * FROM cases_importbatch ORDER BY imported_at")]
    out["rejects"] = [(r["source_row"], json.loads(r["raw"]), json.loads(r["reasons"]),
                       r["raw_sealed"] is not None)
                      for r in db.execute("SELECT * FROM cases_rejectedrow ORDER BY id")]
    out["issues"] = [tuple(r) for r in db.execute(
        'SELECT source_row, "column", field, value, code, severity, message '
        "FROM cases_rowissue ORDER BY id")]
    db.close()
    return out


def test_both_sqlite_writers_store_the_same_rows(tmp_path: Path) -> None:
    """The bulk loader process and the Django writer leave identical system-of-record rows,
    through an import with rejects and warnings (its records streamed to the loader in
    several chunks) and a superseding re-export."""
    profile = tmp_path / "police.yaml"
    profile.write_text(POLICE_PROFILE, encoding="utf-8")
    first = _file(tmp_path, "p1.csv", [GOOD, row(Case_No="P-2", Sex="Q"),
                                        row(Case_No="P-3", Age="40"),
                                        row(Case_No="P-4", Surname="Ionescu"),
                                        *(row(Case_No=f"Q-{i}", First_name=f"Name{i}",
                                              DOB="" if i % 3 else "02.03.1990")
                                          for i in range(8))])
    second = _file(tmp_path, "p2.csv", [GOOD, row(Case_No="P-5", Sex="F")])
    import shutil

    from tiplab.config import key_dir

    stored = {}
    for writer in ("bulk", "django"):
        data = tmp_path / writer
        if writer == "django":  # same keys, so the pseudonyms must be equal too
            shutil.copytree(key_dir(tmp_path / "bulk"), key_dir(data))
        # the loader receives the 11 records in chunks of 3 (the last one short)
        out = _cli_import(data, first, profile, writer, seal_chunk_rows=3)
        assert (out["rows"], out["accepted"], out["rejected"]) == (12, 11, 1)
        again = _cli_import(data, second, profile, writer, "--supersede", str(out["batch_id"]))
        assert again["accepted"] == 2
        stored[writer] = _stored(data)
    for name in stored["bulk"]:
        for a, d in zip(stored["bulk"][name], stored["django"][name], strict=True):
            assert a == d, name
    assert len(stored["bulk"]["records"]) == 13
    assert stored["bulk"]["batches"][0][-2:] == (False, True)  # first superseded
    assert stored["bulk"]["batches"][1][-2:] == (True, False)  # second supersedes it
    assert len(stored["bulk"]["rejects"]) == 1


def test_bulk_loader_leaves_no_work_files_and_clears_stale_ones(tmp_path: Path) -> None:
    """The loader's work directory (the batch row, its messages) is deleted after the import,
    and those of an import whose process was killed are cleared by the next one."""
    profile = tmp_path / "police.yaml"
    profile.write_text(POLICE_PROFILE, encoding="utf-8")
    data = tmp_path / "data"
    stale = data / "tmp" / "bulk-killed"
    stale.mkdir(parents=True)
    (stale / "records.arrow").write_bytes(b"left by a killed import")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    recent = data / "tmp" / "bulk-running"
    recent.mkdir()
    out = _cli_import(data, _file(tmp_path, "p.csv", [GOOD]), profile, "bulk")
    assert out["accepted"] == 1
    assert sorted(p.name for p in (data / "tmp").iterdir()) == ["bulk-running"]


def test_bulk_loader_commits_nothing_when_the_stream_is_cut_short(tmp_path: Path) -> None:
    """The loader is told how many records to expect: a stream that ends early (the importer
    gone on a system where the loader would outlive it) rolls the whole batch back."""
    import pyarrow as pa

    profile = tmp_path / "police.yaml"
    profile.write_text(POLICE_PROFILE, encoding="utf-8")
    data = tmp_path / "data"
    _cli_import(data, _file(tmp_path, "p.csv", [GOOD]), profile, "bulk")  # creates the tables
    db_file = data / "tiplab.sqlite3"
    work = tmp_path / "work"
    work.mkdir()
    spec = {"database": str(db_file),
            "tables": {"batch": "cases_importbatch", "records": "cases_caserecord",
                       "rejects": "cases_rejectedrow", "issues": "cases_rowissue"},
            "records": 3,
            "batch": {"batch_id": "B-CUT", "kind": "case", "source_agency": "Police",
                      "file_name": "cut.csv", "file_size": 1, "file_format": "csv",
                      "encoding": "utf-8", "delimiter": ";", "sha256": "0" * 64,
                      "profile_name": "police", "profile_sha256": "0" * 64,
                      "profile_text": "", "schema_version": "1", "tiplab_version": "0",
                      "key_id": "", "imported_by": "test",
                      "imported_at": "2026-01-01 00:00:00", "rows": 3, "accepted": 3,
                      "rejected": 0, "warnings": 0, "censored": 0, "reasons": "{}",
                      "status": "active", "data_version": "", "replaces": "",
                      "review_comment": ""},
            "supersede": None}
    (work / "batch.json").write_text(json.dumps(spec), encoding="utf-8")
    records = pa.table({"source_row": pa.array([2, 3], pa.int64()),
                        "source_agency": ["Police", "Police"], "record_id": ["C-1", "C-2"],
                        "warnings": ["[]", "[]"]})
    sink = pa.BufferOutputStream()
    none = pa.table({"source_row": pa.array([], pa.int64())})
    for table in (none, none, records):  # no rejects, no issues, two records of three announced
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
    done = subprocess.run([sys.executable, "-m", "tiplab_web.cases.bulkload", str(work)],
                          input=sink.getvalue().to_pybytes(), capture_output=True, timeout=60,
                          check=False)
    assert done.returncode != 0
    assert b"received 2 of 3 records" in done.stderr
    assert done.stdout == b""  # no key: nothing was committed
    db = sqlite3.connect(db_file)
    assert db.execute("SELECT count(*) FROM cases_importbatch WHERE batch_id = 'B-CUT'"
                      ).fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM cases_caserecord WHERE record_id LIKE 'C-%'"
                      ).fetchone() == (0,)
    db.close()


def test_bulk_loader_stores_a_batch_whose_every_row_is_rejected(tmp_path: Path) -> None:
    """No accepted record: the loader receives an empty record stream and still commits the
    batch with its rejects, so the file is accounted for."""
    profile = tmp_path / "police.yaml"
    profile.write_text(POLICE_PROFILE, encoding="utf-8")
    data = tmp_path / "data"
    out = _cli_import(data, _file(tmp_path, "bad.csv", [row(Case_No="P-1", Sex="Q"),
                                                       row(Case_No="P-2", Age="x")]),
                      profile, "bulk")
    assert (out["rows"], out["accepted"], out["rejected"]) == (2, 0, 2)
    db = sqlite3.connect(data / "tiplab.sqlite3")
    counts = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("cases_importbatch", "cases_caserecord", "cases_rejectedrow")]
    db.close()
    assert counts == [1, 0, 2]


def test_a_batch_superseded_meanwhile_is_refused_by_the_loader(tmp_path: Path) -> None:
    """Two corrections of one batch at once: the loader finds the batch no longer active
    inside its transaction, writes nothing, and the import says why."""
    profile = tmp_path / "police.yaml"
    profile.write_text(POLICE_PROFILE, encoding="utf-8")
    data = tmp_path / "data"
    first = _cli_import(data, _file(tmp_path, "p1.csv", [GOOD]), profile, "bulk")
    _cli_import(data, _file(tmp_path, "p2.csv", [row(Sex="M")]), profile, "bulk",
                "--supersede", str(first["batch_id"]))
    # The race: this import's early check still sees the first batch as active.
    run = ("import dataclasses, sys, django; django.setup(); "
           "from tiplab_web.cases import store as s; "
           "get = s.DjangoCaseStore.get_batch; "
           "s.DjangoCaseStore.get_batch = lambda self, b: dataclasses.replace("
           "get(self, b), status='active'); "
           "sys.argv[0] = 'tiplab'; from tiplab.cli import main; main()")
    env = {**os.environ, "TIPLAB_DATA_DIR": str(data),
           "DJANGO_SETTINGS_MODULE": "tiplab_web.settings.dev"}
    done = subprocess.run([sys.executable, "-c", run, "import",
                           str(_file(tmp_path, "p3.csv", [row(Sex="X")])), "--profile",
                           str(profile), "--supersede", str(first["batch_id"])],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0
    assert "superseded meanwhile" in done.stderr + done.stdout
    db = sqlite3.connect(data / "tiplab.sqlite3")
    assert db.execute("SELECT count(*) FROM cases_importbatch").fetchone() == (2,)
    assert db.execute("SELECT count(*) FROM cases_caserecord").fetchone() == (2,)
    db.close()


def test_a_full_disk_while_writing_the_snapshot_keeps_the_batch_and_the_old_snapshot(
        store, tmp_path: Path, monkeypatch) -> None:
    """The batch is committed before the snapshot is written: a full disk then leaves the
    batch stored, the previous snapshot whole (no half file, the old manifest), a clear
    error, and ``refresh_snapshot`` (or the next import) repairs it."""
    import errno

    from tiplab import snapshot as snapshot_module
    from tiplab.errors import SnapshotWriteError
    from tiplab.store import refresh_snapshot

    first, _ = run_import(store, _file(tmp_path, "a.csv", [GOOD]), police_profile(), "Police")
    assert first is not None
    before = open_snapshot(store.data_dir)
    real = snapshot_module.pq.write_table

    def full(table, where, **kw):  # type: ignore[no-untyped-def]
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(snapshot_module.pq, "write_table", full)
    with pytest.raises(SnapshotWriteError) as err:
        run_import(store, _file(tmp_path, "b.csv", [row(Case_No="P-9")]), police_profile(),
                   "Police")
    assert "disk is full" in str(err.value)
    assert "snapshot --rebuild" in str(err.value)
    second = store.get_batch(err.value.batch_id)
    assert second.accepted == 1  # the batch is stored
    after = open_snapshot(store.data_dir)
    assert after.data_version == before.data_version  # the old snapshot, whole
    assert not list((store.data_dir / "snapshot").rglob("*.tmp"))
    monkeypatch.setattr(snapshot_module.pq, "write_table", real)
    version = refresh_snapshot(store)
    assert version != before.data_version
    assert {b.batch_id for b in open_snapshot(store.data_dir).batches} == {
        first.batch_id, second.batch_id}
