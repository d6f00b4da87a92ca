"""A tiplab installation in a temporary directory, run as real processes: migrate, the job
worker, the web server (gunicorn), and a TCP proxy that can take the database away."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], Any], timeout: float = 60, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


class Site:
    """One data directory and database, and the processes that serve them."""

    def __init__(self, root: Path, *, settings: str = "tiplab_web.settings.dev",
                 database_url: str = "", **env: str) -> None:
        self.root = root
        self.data = root / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("TIPLAB_", "PYTEST_", "DJANGO_"))}
        self.env.update({
            "DJANGO_SETTINGS_MODULE": settings, "TIPLAB_DATA_DIR": str(self.data),
            # small numbers so that a lost worker is noticed in seconds, not a minute
            "TIPLAB_JOBS_STALE_SECONDS": "4", "TIPLAB_JOBS_HEARTBEAT_SECONDS": "1",
            "TIPLAB_JOBS_REAP_SECONDS": "1", "PYTHONPATH": str(REPO),
        })
        if database_url:
            self.env["TIPLAB_DATABASE_URL"] = database_url
        self.env.update(env)
        self.procs: list[subprocess.Popen[bytes]] = []

    # -- commands --------------------------------------------------------------------------
    def run(self, *cmd: str, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(list(cmd), env={**self.env, **(env or {})}, cwd=REPO,
                              capture_output=True, text=True, timeout=timeout, check=False)
        return done

    def manage(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        done = self.run(sys.executable, "-m", "tiplab_web.manage", *args, **kw)
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    def op(self, name: str, **args: Any) -> Any:
        """``tests.runtime.ops.<name>(**args)`` in a subprocess on this site's database."""
        done = self.run(sys.executable, "-m", "tests.runtime.ops", name, json.dumps(args))
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    # -- processes -------------------------------------------------------------------------
    def start(self, *cmd: str, env: dict[str, str] | None = None,
              log: str = "") -> subprocess.Popen[bytes]:
        with open(self.root / (log or "proc.log"), "ab") as out:  # the child keeps its copy
            proc = subprocess.Popen(list(cmd), env={**self.env, **(env or {})}, cwd=REPO,
                                    stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def start_worker(self, **env: str) -> subprocess.Popen[bytes]:
        return self.start(sys.executable, "-m", "tiplab_web.manage", "jobs_worker",
                          env=env, log="worker.log")

    def start_web(self, port: int, **env: str) -> subprocess.Popen[bytes]:
        proc = self.start(sys.executable, "-m", "gunicorn", "-c",
                          "python:tiplab_web.gunicorn_conf", "tiplab_web.wsgi:application",
                          env={"TIPLAB_BIND": f"127.0.0.1:{port}", "TIPLAB_WEB_WORKERS": "2",
                               "TIPLAB_WEB_THREADS": "2", **env}, log="web.log")
        wait_for(lambda: _answers(port) or proc.poll() is not None, 60, "the web server")
        assert proc.poll() is None, self.log("web.log")
        return proc

    def log(self, name: str, tail: int = 5000) -> str:
        path = self.root / name
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    def wait_job(self, job_id: str, statuses: tuple[str, ...] = ("succeeded", "failed",
                                                                  "cancelled"),
                 timeout: float = 120) -> dict[str, Any]:
        return wait_for(lambda: (j := self.op("job", job_id=job_id))["status"] in statuses
                        and j, timeout, f"job {job_id} to reach {statuses}")

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


# -- PostgreSQL ----------------------------------------------------------------------------


def postgres_url() -> str:
    return os.environ.get("TIPLAB_TEST_POSTGRES_URL", "")


@contextlib.contextmanager
def postgres_database(prefix: str = "tiplab_rt") -> Iterator[str]:
    """A fresh database on the test server; its URL, dropped afterwards."""
    import secrets

    import psycopg

    base = postgres_url()
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    u = urlparse(base)
    try:
        yield u._replace(path="/" + name).geturl()
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


class TcpProxy:
    """127.0.0.1:<port> → target, which the test can cut (every connection reset, new ones
    refused: what clients see while a database restarts) and restore."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.up()

    def url_for(self, url: str) -> str:
        u = urlparse(url)
        auth = u.netloc.rsplit("@", 1)[0] + "@" if "@" in u.netloc else ""
        return u._replace(netloc=f"{auth}127.0.0.1:{self.port}").geturl()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()

    def down(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for c in self._conns:
                with contextlib.suppress(OSError):
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00"
                                 b"\x00\x00\x00\x00")  # close with RST
                    c.close()
            self._conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, 5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()


class Browser:
    """A signed-in session over HTTP (cookies, CSRF), for pages that read the session."""

    def __init__(self, base: str) -> None:
        import http.cookiejar

        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _cookie(self, name: str) -> str:
        return next((c.value or "" for c in self.jar if c.name == name), "")

    def login(self, username: str, password: str = "correct horse battery staple 42") -> None:
        from urllib.parse import urlencode

        self.get("/accounts/login/")
        body = urlencode({"username": username, "password": password,
                          "csrfmiddlewaretoken": self._cookie("csrftoken")}).encode()
        status = self.request("/accounts/login/", data=body)[0]
        assert status in (200, 302), status
        assert self._cookie("sessionid"), "not signed in"

    def request(self, path: str, data: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(req, timeout=15) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        return self.request(path)
