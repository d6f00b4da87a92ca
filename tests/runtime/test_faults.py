"""Faults, with real processes: a worker killed during an import, the web server restarted
during a job, the database restarted during requests, the disk full during an import and
during a snapshot write. Each must end cleanly: nothing partial, a clear error, and the next
import works."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from tests.unit.ingest.factories import POLICE_PROFILE, row, write_csv

from .site import Browser, Site, TcpProxy, free_port, postgres_database, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runtime")]


@pytest.fixture
def site(tmp_path: Path):
    s = Site(tmp_path)
    s.manage("migrate", "--noinput", "-v", "0")
    s.op("make_user", username="ana")
    yield s
    s.stop()


def _csv(tmp_path: Path, name: str, n: int, prefix: str = "P") -> Path:
    return write_csv(tmp_path / name, [row(Case_No=f"{prefix}-{i}") for i in range(n)])


def _sqlite_counts(site: Site) -> list[int]:
    db = sqlite3.connect(site.data / "tiplab.sqlite3")
    try:
        return [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("cases_importbatch", "cases_caserecord", "cases_rejectedrow",
                          "cases_rowissue")]
    finally:
        db.close()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_a_worker_process_runs_a_queued_import(site: Site, tmp_path: Path):
    job = site.op("queue_import", username="ana", path=str(_csv(tmp_path, "a.csv", 200)),
                  profile_text=POLICE_PROFILE)["job"]
    assert site.op("job", job_id=job)["status"] == "queued"  # nothing runs it yet
    site.start_worker()
    done = site.wait_job(job)
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 1
    assert site.op("batches")["records"] == 200


def test_worker_killed_during_an_import_leaves_no_partial_batch_and_the_job_reruns(
        site: Site, tmp_path: Path):
    marker = tmp_path / "in-transaction"
    job = site.op("queue_import", username="ana", path=str(_csv(tmp_path, "a.csv", 5000)),
                  profile_text=POLICE_PROFILE)["job"]
    worker = site.start_worker(TIPLAB_FAULT_PAUSE_IN_TRANSACTION=str(marker))
    wait_for(marker.exists, 120, "the import to be inside its transaction")
    assert site.op("job", job_id=job)["status"] == "running"
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    # records were written inside the transaction: none of them is visible
    assert _sqlite_counts(site) == [0, 0, 0, 0]
    # a new worker notices the dead one (its process is gone) and runs the job again
    site.start_worker()
    done = site.wait_job(job)
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2
    state = site.op("batches")
    assert len(state["batches"]) == 1
    assert state["records"] == 5000


def test_the_web_server_restarted_during_a_job_does_not_lose_it(site: Site, tmp_path: Path):
    token = site.op("make_token", username="ana")["token"]
    port = free_port()
    web = site.start_web(port)
    marker = tmp_path / "in-transaction"
    site.start_worker(TIPLAB_FAULT_PAUSE_IN_TRANSACTION=str(marker))
    job = site.op("queue_import", username="ana", path=str(_csv(tmp_path, "a.csv", 300)),
                  profile_text=POLICE_PROFILE)["job"]
    wait_for(marker.exists, 120, "the import to be inside its transaction")
    web.send_signal(signal.SIGTERM)  # a restart: stop ...
    web.wait(timeout=60)
    site.start_web(port)  # ... and start again, while the job is still running
    marker.unlink()  # let the import finish
    auth = {"Authorization": f"Bearer {token}"}

    def finished() -> dict[str, Any] | None:
        status, _, body = _get(f"http://127.0.0.1:{port}/api/jobs/{job}", auth)
        assert status == 200, body
        data = json.loads(body)
        return data if data["status"] in ("succeeded", "failed") else None

    done = wait_for(finished, 120, "the job, seen through the restarted server")
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 1  # it never stopped
    assert site.op("batches")["records"] == 300


@pytest.mark.postgres
def test_a_database_restart_gives_503s_then_recovers_without_a_restart(tmp_path: Path):
    from urllib.parse import urlparse

    with postgres_database() as url:
        u = urlparse(url)
        proxy = TcpProxy(u.hostname or "127.0.0.1", u.port or 5432)
        site = Site(tmp_path, database_url=proxy.url_for(url))
        try:
            site.manage("migrate", "--noinput", "-v", "0")
            site.op("make_user", username="ana")
            token = site.op("make_token", username="ana")["token"]
            port = free_port()
            site.start_web(port)
            site.start_worker()
            auth = {"Authorization": f"Bearer {token}"}
            me = f"http://127.0.0.1:{port}/api/me"
            assert _get(me, auth)[0] == 200
            browser = Browser(f"http://127.0.0.1:{port}")
            browser.login("ana")
            assert browser.get("/")[0] == 200  # a page that reads the session from the DB
            seen: Counter[int] = Counter()
            retry_after: set[str] = set()
            stop = threading.Event()

            def hammer(call: Any, pause: float) -> None:
                while not stop.is_set():
                    status, headers, _ = call()
                    seen[status] += 1
                    if status == 503:
                        retry_after.add(headers.get("Retry-After", ""))
                    time.sleep(pause)

            # the API at a pace its rate limit allows; pages as fast as they answer
            clients = [threading.Thread(target=hammer, args=(lambda: _get(me, auth), 0.4)),
                       threading.Thread(target=hammer, args=(lambda: browser.get("/"), 0.05)),
                       threading.Thread(target=hammer, args=(lambda: browser.get("/"), 0.05))]
            for t in clients:
                t.start()
            time.sleep(1)
            proxy.down()  # the database goes away: connections reset, new ones refused
            time.sleep(4)
            during = Counter(seen)
            proxy.up()  # and comes back
            wait_for(lambda: _get(me, auth)[0] == 200 and browser.get("/")[0] == 200, 30,
                     "the API and the pages to answer again")
            time.sleep(1)
            stop.set()
            for t in clients:
                t.join()
            assert during[503] > 0, during  # the outage was seen ...
            assert set(seen) <= {200, 503}, seen  # ... as 503s, never a 500
            assert retry_after == {"5"}
            health = json.loads(_get(f"http://127.0.0.1:{port}/healthz")[2])
            assert health["checks"]["database"]["status"] == "ok"
            # the worker survived the outage too: a job queued now runs
            job = site.op("queue_import", username="ana",
                          path=str(_csv(tmp_path, "a.csv", 50)),
                          profile_text=POLICE_PROFILE)["job"]
            assert site.wait_job(job)["status"] == "succeeded"
        finally:
            site.stop()
            proxy.down()


# --- disk full ------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 40 MB file system for the data directory (tmpfs; needs root, as CI has)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        pytest.skip(f"cannot mount a small file system here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _import(site: Site, path: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    return site.run(sys.executable, "-m", "tiplab", "import", str(path), "--profile",
                    str(profile), "--json")


def test_a_full_disk_during_an_import_leaves_nothing_and_the_next_import_works(
        small_disk: Path, tmp_path: Path):
    site = Site(small_disk)
    site.manage("migrate", "--noinput", "-v", "0")
    profile = tmp_path / "police.yaml"
    profile.write_text(POLICE_PROFILE, encoding="utf-8")
    assert _import(site, _csv(tmp_path, "small.csv", 50, "S"), profile).returncode == 0
    before = _sqlite_counts(site)
    manifest = (site.data / "snapshot" / "manifest.json").read_text()
    filler = small_disk / "filler"
    subprocess.run(["fallocate", "-l", "34M", str(filler)], check=True)
    big = _csv(tmp_path, "big.csv", 60_000)
    done = _import(site, big, profile)
    assert done.returncode == 2, done.stdout + done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["type"] == "StorageFullError"
    assert "disk" in error["message"]
    assert "nothing was imported" in error["message"]
    assert _sqlite_counts(site) == before  # nothing partial
    assert (site.data / "snapshot" / "manifest.json").read_text() == manifest
    assert not list((site.data / "tmp").glob("bulk-*"))
    assert not list((site.data / "snapshot").rglob("*.tmp"))
    db = sqlite3.connect(site.data / "tiplab.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    filler.unlink()
    again = _import(site, big, profile)
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(again.stdout)["accepted"] == 60_000
