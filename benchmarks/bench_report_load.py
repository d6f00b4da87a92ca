"""Load on the safe reporting channel: many anonymous reporters at once, against 127.0.0.1.

Usage::

    .venv/bin/python benchmarks/bench_report_load.py [--submitters 50] [--each 10]
        [--web-workers 3] [--threads 4] [--attachment-every 5] [--warm 2] [--json out.json]

What it does, bounded and self-contained:

1. makes a temporary data directory (SQLite database, key directory, file cache) and runs
   ``tiplab-web prepare`` with ``settings.production``;
2. starts ``tiplab-web serve`` on a free port (gunicorn ``--web-workers`` x ``--threads``, as
   ``tiplab-web serve`` defaults to; no job worker), sending ``X-Forwarded-Proto: https`` as
   the TLS proxy of a deployment would; then warms it up, untimed: ``--warm`` rounds of 8
   concurrent clients each loading the form and sending one report (each worker compiles its
   templates and opens its database connection on its first requests);
3. starts ``--submitters`` threads at once; each one, ``--each`` times: loads the form
   (``GET /report/``), then sends a report (``POST /report/``, multipart as the browser sends
   it; every ``--attachment-every``-th one with a 40 kB PNG), and checks that the answer is
   the receipt page with a code;
4. counts the reports in the database afterwards (every receipt must be a stored report).

All requests come from one address, so the per-client limits of the anonymous routes would
stop the run after ten reports: the script raises ``TIPLAB_ANON_SUBMIT_LIMIT`` and
``TIPLAB_ANON_SUBMIT_ALL_LIMIT`` for its server (environment only; the defaults are unchanged).

Reported: p50/p95/max latency per request kind and overall, errors (any status other than
200, a missing receipt, a failed connection), requests per second, the server's CPU per
request (its processes, from /proc), the load average.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CODE = re.compile(rb"[0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){3}")
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(40 * 1024)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def multipart(fields: dict[str, str], files: dict[str, tuple[str, str, bytes]]) -> tuple[
        bytes, str]:
    boundary = secrets.token_hex(16)
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name, (filename, ctype, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'.encode()
                     + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


class Server:
    def __init__(self, web_workers: int, threads: int) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tiplab-report-load-"))
        self.port = free_port()
        self.web_workers = web_workers
        self.threads = threads
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("TIPLAB_",
                                                                            "DJANGO_"))}
        self.env.update({
            "DJANGO_SETTINGS_MODULE": "tiplab_web.settings.production",
            "TIPLAB_SECRET_KEY": secrets.token_urlsafe(64),
            "TIPLAB_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "TIPLAB_DATA_DIR": str(self.dir / "data"),
            "TIPLAB_ANON_SUBMIT_LIMIT": "1000000/600",
            "TIPLAB_ANON_SUBMIT_ALL_LIMIT": "1000000/60",
            "PYTHONPATH": str(REPO / "src"),
        })
        self.proc: subprocess.Popen[bytes] | None = None

    def run(self, *cmd: str) -> str:
        done = subprocess.run(cmd, env=self.env, cwd=REPO, capture_output=True, text=True,
                              check=False)
        if done.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def start(self) -> None:
        (self.dir / "data").mkdir()
        self.run(sys.executable, "-m", "tiplab_web.serve", "prepare")
        log = open(self.dir / "serve.log", "ab")  # noqa: SIM115 - the server's lifetime
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tiplab_web.serve", "serve", "--bind",
             f"127.0.0.1:{self.port}", "--web-workers", str(self.web_workers), "--threads",
             str(self.threads), "--workers", "0"], env=self.env, cwd=REPO, stdout=log,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/healthz", headers={"X-Forwarded-Proto": "https"})
                if c.getresponse().status == 200:
                    return
            time.sleep(0.5)
        raise SystemExit("the server did not become healthy; see " + str(self.dir))

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the server's processes: ``tiplab-web serve`` and its
        gunicorn descendants, from /proc."""
        assert self.proc is not None
        parent: dict[int, int] = {}
        for p in Path("/proc").iterdir():
            if p.name.isdigit():
                with contextlib.suppress(OSError):
                    parent[int(p.name)] = int((p / "stat").read_text().rsplit(")", 1)[1]
                                              .split()[1])

        def under(pid: int) -> bool:
            while pid > 1:
                if pid == self.proc.pid:  # type: ignore[union-attr]
                    return True
                pid = parent.get(pid, 0)
            return False

        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in [p for p in parent if under(p)]:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def count_reports(self) -> int:
        out = self.run(sys.executable, "-m", "tiplab_web.manage", "shell", "-c",
                       "from tiplab_web.reporting.models import Report; "
                       "print(Report.objects.count())")
        return int(out.strip().splitlines()[-1])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Submitter(threading.Thread):
    def __init__(self, port: int, n: int, each: int, attachment_every: int,
                 start_line: threading.Barrier) -> None:
        super().__init__(daemon=True)
        self.port, self.n, self.each = port, n, each
        self.attachment_every = attachment_every
        self.start_line = start_line
        self.samples: list[tuple[str, float, bool]] = []
        self.receipts = 0

    def _request(self, conn: http.client.HTTPConnection, method: str, body: bytes | None,
                 ctype: str | None) -> tuple[int, bytes]:
        headers = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
        if ctype:
            headers["Content-Type"] = ctype
        conn.request(method, "/report/", body=body, headers=headers)
        r = conn.getresponse()
        return r.status, r.read()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        self.start_line.wait()
        for i in range(self.each):
            kinds: list[tuple[str, bytes | None, str | None]] = [("GET form", None, None)]
            files = {}
            if self.attachment_every and (self.n * self.each + i) % self.attachment_every == 0:
                files["attachment"] = ("photo.png", "image/png", PNG)
            body, ctype = multipart({
                "reporter": "witness", "in_danger": "no", "lang": "en", "website": "",
                "what": f"Load test report {self.n}-{i}: workers locked in a warehouse.",
                "where": "North region", "when": "last week", "contact": ""}, files)
            kinds.append(("POST report" + (" + file" if files else ""), body, ctype))
            for kind, data, content_type in kinds:
                t0 = time.perf_counter()
                ok = False
                try:
                    status, content = self._request(conn, "POST" if data else "GET", data,
                                                    content_type)
                    ok = status == 200
                    if data is not None:
                        ok = ok and bool(CODE.search(content))
                        self.receipts += ok
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.samples.append((kind, time.perf_counter() - t0, ok))
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--submitters", type=int, default=50)
    ap.add_argument("--each", type=int, default=10)
    ap.add_argument("--web-workers", type=int, default=3)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--attachment-every", type=int, default=5)
    ap.add_argument("--warm", type=int, default=2)
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args()

    server = Server(args.web_workers, args.threads)
    try:
        server.start()
        warm_line = threading.Barrier(8)
        warm = [Submitter(server.port, n, args.warm, 0, warm_line)
                for n in range(8)] if args.warm else []
        for t in warm:
            t.start()
        for t in warm:
            t.join()
        warm_receipts = sum(t.receipts for t in warm)
        load_before = os.getloadavg()[0]
        cpu_before = server.cpu_seconds()
        line = threading.Barrier(args.submitters)
        threads = [Submitter(server.port, n, args.each, args.attachment_every, line)
                   for n in range(args.submitters)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        server_cpu = server.cpu_seconds() - cpu_before
        load_after = os.getloadavg()[0]
        stored = server.count_reports() - warm_receipts
    finally:
        server.stop()

    samples = [s for t in threads for s in t.samples]
    receipts = sum(t.receipts for t in threads)
    by_kind: dict[str, list[float]] = {}
    for kind, seconds, _ok in samples:
        by_kind.setdefault(kind, []).append(seconds)
    errors = sum(1 for _k, _s, ok in samples if not ok)
    result: dict[str, Any] = {
        "submitters": args.submitters, "each": args.each, "web_workers": args.web_workers,
        "threads": args.threads, "requests": len(samples), "errors": errors,
        "receipts": receipts, "reports_stored": stored, "wall_seconds": round(wall, 2),
        "requests_per_second": round(len(samples) / wall, 1),
        "server_cpu_ms_per_request": round(server_cpu * 1000 / max(1, len(samples)), 1),
        "load_before": round(load_before, 1), "load_after": round(load_after, 1),
        "kinds": {}}
    rows = [("all", [s for _k, s, _ok in samples]), *sorted(by_kind.items())]
    print(f"{'request':<22}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for kind, values in rows:
        stats = {"n": len(values), "p50_ms": round(percentile(values, 50) * 1000, 1),
                 "p95_ms": round(percentile(values, 95) * 1000, 1),
                 "max_ms": round(max(values) * 1000, 1)}
        result["kinds"][kind] = stats
        print(f"{kind:<22}{stats['n']:>6}{stats['p50_ms']:>10}{stats['p95_ms']:>10}"
              f"{stats['max_ms']:>10}")
    print(f"errors {errors}; receipts {receipts}; reports stored {stored}; "
          f"{result['requests_per_second']} requests/s over {result['wall_seconds']} s; "
          f"server CPU {result['server_cpu_ms_per_request']} ms per request; "
          f"load average {result['load_before']} before, {result['load_after']} after")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    if errors or stored != receipts:
        sys.exit(f"failed; the server's data and log are in {server.dir}")
    shutil.rmtree(server.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
