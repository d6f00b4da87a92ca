"""What an operator relies on: /healthz and its checks, 503 (not 500) while the database is
away, JSON log lines."""

from __future__ import annotations

import json
import logging
import sys
from datetime import timedelta

from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from tests.web import test_cases_support as cs
from tests.web.conftest import sign_in

from tiplab_web.jobs.models import Job
from tiplab_web.logs import JsonFormatter


def test_healthz_reports_every_check(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "queue", "snapshot", "keys", "disk"}
    assert all(c["status"] == "ok" for c in body["checks"].values())
    assert response["Cache-Control"].startswith("max-age=0")
    only = Client().get("/healthz", {"only": "database,disk"}).json()
    assert set(only["checks"]) == {"database", "disk"}


def test_healthz_fails_when_case_records_exist_but_keys_do_not(world, settings, tmp_path):
    cs.make_batch(world, world.users["analyst"])
    settings.DATA_DIR = tmp_path  # a data directory whose key directory was lost
    response = Client().get("/healthz")
    assert response.status_code == 503
    keys = response.json()["checks"]["keys"]
    assert keys["status"] == "fail"
    assert "restore the keys" in keys["detail"]


def test_healthz_fails_on_keys_readable_by_others(db, settings, tmp_path):
    from tiplab.config import key_dir
    from tiplab.keys import load_keyring

    settings.DATA_DIR = tmp_path
    directory = key_dir(tmp_path)
    load_keyring(directory)
    assert Client().get("/healthz", {"only": "keys"}).status_code == 200
    (directory / "field.key").chmod(0o644)
    keys = Client().get("/healthz", {"only": "keys"}).json()["checks"]["keys"]
    assert keys["status"] == "fail"
    assert "readable by others" in keys["detail"]


def test_healthz_fails_when_a_snapshot_file_is_missing(db, settings, tmp_path):
    import pyarrow as pa

    from tiplab.snapshot import SnapshotBatch, write_batch, write_manifest

    settings.DATA_DIR = data = tmp_path
    name = write_batch(data, "case", "B1", pa.table({"record_id": ["R1"]}))
    write_manifest(data, [SnapshotBatch(batch_id="B1", kind="case", source_agency="police",
                                        file=name, rows=1,
                                        sha256="0" * 64)])
    assert Client().get("/healthz", {"only": "snapshot"}).status_code == 200
    (data / "snapshot" / "batches" / name).unlink()
    check = Client().get("/healthz", {"only": "snapshot"}).json()["checks"]["snapshot"]
    assert check["status"] == "fail"
    assert "rebuilds them" in check["detail"]


def test_healthz_fails_when_jobs_wait_and_no_worker_runs(world, monkeypatch):
    from tiplab_web.jobs import queue

    monkeypatch.setattr(queue, "runs_inline", lambda: False)
    assert Client().get("/healthz", {"only": "queue"}).status_code == 200  # nothing waits
    job = Job.objects.create(kind="cases.import", label="x", owner=world.users["analyst"])
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    response = Client().get("/healthz", {"only": "queue"})
    assert response.status_code == 503
    assert "no worker is running" in response.json()["checks"]["queue"]["detail"]


def test_a_check_that_breaks_says_so_without_internals(db, monkeypatch):
    from tiplab_web.core import health

    def broken():
        raise OSError("/secret/path: permission denied")

    monkeypatch.setitem(health.CHECKS, "disk", broken)
    body = Client().get("/healthz", {"only": "disk"}).json()
    assert body["checks"]["disk"]["status"] == "fail"
    assert "/secret" not in json.dumps(body)


def _fail_session_reads(monkeypatch, exc: Exception) -> None:
    from django.contrib.sessions.backends.db import SessionStore

    def refuse(self):
        raise exc

    monkeypatch.setattr(SessionStore, "load", refuse)


def test_pages_answer_503_with_retry_after_while_the_database_is_away(world, monkeypatch):
    client = sign_in(Client(raise_request_exception=False), world.users["analyst"])
    # every session read fails as it does while the database restarts
    _fail_session_reads(monkeypatch, OperationalError(
        "connection to server at 127.0.0.1 failed: Connection refused"))
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "Briefly unavailable" in response.content.decode()
    assert "127.0.0.1" not in response.content.decode()


def test_api_answers_503_in_its_error_shape_while_the_database_is_away(world, monkeypatch):
    from tiplab_web.accounts import services

    def refuse(raw):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "authenticate_token", refuse)
    token = world.raw_token_of(world.users["analyst"])
    response = Client(raise_request_exception=False).get(
        "/api/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "unavailable"


def test_other_server_errors_stay_500(world, monkeypatch):
    client = sign_in(Client(raise_request_exception=False), world.users["analyst"])
    _fail_session_reads(monkeypatch, ValueError("a bug"))
    response = client.get("/")
    assert response.status_code == 500
    assert "Retry-After" not in response


def test_json_log_lines_carry_fields_extras_and_tracebacks():
    fmt = JsonFormatter()
    record = logging.LogRecord("tiplab.web.jobs", logging.WARNING, __file__, 1,
                               "job %s lost", ("abc",), None)
    record.job = "abc"
    line = json.loads(fmt.format(record))
    assert line["level"] == "WARNING"
    assert line["logger"] == "tiplab.web.jobs"
    assert line["message"] == "job abc lost"
    assert line["job"] == "abc"
    assert line["ts"].endswith("Z")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("tiplab", logging.ERROR, __file__, 1, "failed", (),
                                   sys.exc_info())
    assert "RuntimeError: boom" in json.loads(fmt.format(record))["exc"]
    access = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(h)s %(s)s",
                               ({"h": "127.0.0.1", "m": "GET", "U": "/healthz", "s": "200",
                                 "B": "157", "M": "12"},), None)
    line = json.loads(fmt.format(access))
    assert (line["method"], line["path"], line["status"], line["duration_ms"]) == (
        "GET", "/healthz", "200", "12")


def test_a_session_lost_with_the_database_is_503_not_400(world, monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore

    client = sign_in(Client(raise_request_exception=False), world.users["analyst"])

    def save_fails(self, must_create=False):
        try:
            raise OperationalError("the connection is lost")
        except OperationalError:
            from django.contrib.sessions.backends.base import UpdateError

            raise UpdateError from None  # what Django's db backend raises, in that context

    monkeypatch.setattr(SessionStore, "save", save_fails)
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
