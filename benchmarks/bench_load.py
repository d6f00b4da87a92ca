"""Load on the production server: signed-in users over PostgreSQL, against 127.0.0.1 only.

Usage::

    .venv/bin/python benchmarks/bench_load.py [--users 50] [--minutes 5]
        [--ramp 4,8,16,32,48] [--step-seconds 40] [--web-workers 3] [--threads 4]
        [--database-url postgresql://root@127.0.0.1:5432/test] [--json out.json]

What it does, bounded and self-contained:

1. makes a fresh PostgreSQL database on the server of ``--database-url`` (dropped at the
   end) and a data directory, and loads the demo (``setup_demo``: GLOTIP and the six
   agencies of the simulated country);
2. starts ``tiplab-web serve`` with ``settings.production`` (gunicorn ``--web-workers`` x
   ``--threads``, one job worker), as a deployment runs it behind its TLS proxy (the
   script sends ``X-Forwarded-Proto: https`` and a distinct ``X-Forwarded-For`` per user);
3. signs in ``--users`` users — 40% analysts, 30% policy officers, 30% agency reporters —
   through the login form, and lets each loop over its pages with a think time drawn
   uniformly from 1-3 s for ``--minutes``: the dashboard, the case browser (analysts), the
   analysis pages (trends, profiles, routes, hotspots), the estimates, batches and jobs
   lists, the JSON API with a token; each analyst and reporter also submits **one import**
   (a small file of their own, through ``POST /api/cases/batches/jobs``) at a random moment,
   and the job's completion is followed;
4. then the **ramp**: closed loops with no think time at each concurrency of ``--ramp`` for
   ``--step-seconds`` each, to find the throughput at which the 95th percentile passes 1 s.
   The ramp requests the pages only: without think time one token would pass the API's
   limit (60 requests a minute per token) and be answered 429, as designed.

Reported: per page and overall p50/p95/p99 latency, errors (any status >= 400 other than
the expected, or a failed connection), requests/s, the server's CPU per request (gunicorn
processes, from /proc) and the load average; ``--json`` writes everything.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "load test password 2026 !"

ANALYST_PAGES = ["/", "/cases/", "/insights/trends/", "/insights/profiles/",
                 "/insights/routes/", "/insights/hotspots/", "/estimates/", "/jobs/",
                 "api:/api/cases/batches", "api:/api/jobs/"]
POLICY_PAGES = ["/", "/insights/trends/", "/insights/profiles/", "/insights/routes/",
                "/insights/hotspots/", "/estimates/", "/jobs/"]
REPORTER_PAGES = ["/", "/cases/intake/", "/cases/batches/", "/jobs/",
                  "api:/api/cases/batches", "api:/api/me"]

PROFILE = """\
profile: load_test
kind: case
schema_version: "1.0"
source_agency: Police
read:
  format: csv
  delimiter: ";"
fields:
  record_id: Case No
  registration_date:
    column: Registered
    date_formats: ["%d.%m.%Y"]
  given_name: First name
  family_name: Surname
  sex:
    column: Sex
    codes: {M: Masculine, F: Feminine}
  age: Age
  citizenship: Nationality
  exploitation_forms:
    column: Exploitation
    codes: {sexual: SexualExploitation, labour: ForcedLabour}
  country_of_exploitation:
    value: GBR
"""


def _csv_for(user: str, rows: int = 40) -> bytes:
    rng = random.Random(user)
    lines = ["Case No;Registered;First name;Surname;Sex;Age;Nationality;Exploitation"]
    for i in range(rows):
        lines.append(f"{user}-{i};{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}."
                     f"{rng.choice([2022, 2023, 2024])};Ana;Pop{rng.randint(1, 999)};"
                     f"{rng.choice('MF')};{rng.randint(18, 60)};Romania;"
                     f"{rng.choice(['sexual', 'labour'])}")
    return ("\n".join(lines) + "\n").encode()


# --- the site ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def database(base_url: str) -> Any:
    import psycopg

    name = f"tiplab_load_{secrets.token_hex(4)}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlparse(base_url)._replace(path="/" + name).geturl()
    finally:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


SETUP_USERS = r"""
import json, sys, secrets
from datetime import timedelta
import django; django.setup()
from django.contrib.auth import get_user_model
from django.utils import timezone
from tiplab_web.accounts.models import ApiToken, Organisation, Profile
from tiplab_web.accounts.services import TOKEN_PREFIX, hash_secret, set_roles
spec = json.loads(sys.argv[1])
out = {}
for name, role, org in spec["users"]:
    o, _ = Organisation.objects.get_or_create(name=org)
    if org == "National Police" and not o.source_agency:
        o.source_agency = "police"; o.save()
    u = get_user_model().objects.create_user(username=name, password=spec["password"])
    Profile.objects.create(user=u, organisation=o)
    set_roles(u, [role])
    raw = None
    if role in ("analyst", "agency_reporter"):
        raw = TOKEN_PREFIX + secrets.token_urlsafe(24)
        ApiToken.objects.create(owner=u, name="load", prefix=raw[:12], token_hash=hash_secret(raw),
                                expires_at=timezone.now() + timedelta(days=1))
    out[name] = raw
print(json.dumps(out))
"""


class Server:
    def __init__(self, database_url: str, web_workers: int, threads: int) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tiplab-load-"))
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("TIPLAB_",
                                                                            "DJANGO_"))}
        self.env.update({
            "DJANGO_SETTINGS_MODULE": "tiplab_web.settings.production",
            "TIPLAB_SECRET_KEY": secrets.token_urlsafe(64),
            "TIPLAB_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "TIPLAB_DATABASE_URL": database_url, "TIPLAB_DATA_DIR": str(self.dir / "data"),
            "TIPLAB_LOG_FORMAT": "json", "PYTHONPATH": str(REPO),
            # no worker recycling while measuring: a recycled worker takes its CPU time
            # with it, and the server's CPU per request would come out short (or negative)
            "GUNICORN_CMD_ARGS": "--max-requests 0"})
        self.web_workers, self.threads = web_workers, threads
        self.proc: subprocess.Popen[bytes] | None = None

    def run(self, *cmd: str, **env: str) -> str:
        done = subprocess.run(list(cmd), env={**self.env, **env}, cwd=REPO,
                              capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def prepare(self, users: list[tuple[str, str, str]]) -> dict[str, str | None]:
        py = sys.executable
        self.run(py, "-m", "tiplab_web.serve", "prepare")
        # the demo data (setup_demo refuses production settings: it also makes demo users)
        self.run(py, "-m", "tiplab_web.manage", "setup_demo",
                 DJANGO_SETTINGS_MODULE="tiplab_web.settings.dev")
        out = self.run(py, "-c", SETUP_USERS, json.dumps({"users": users,
                                                          "password": PASSWORD}))
        return json.loads(out.strip().splitlines()[-1])

    def start(self) -> None:
        log = open(self.dir / "serve.log", "ab")  # noqa: SIM115 - the server's lifetime
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tiplab_web.serve", "serve", "--bind",
             f"127.0.0.1:{self.port}", "--web-workers", str(self.web_workers), "--threads",
             str(self.threads), "--workers", "1"], env=self.env, cwd=REPO, stdout=log,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    return
            time.sleep(0.5)
        raise SystemExit("the server did not become healthy; see " + str(self.dir))

    def gunicorn_pids(self) -> list[int]:
        """The web server's processes: gunicorn descendants of ``tiplab-web serve``."""
        assert self.proc is not None
        parent: dict[int, int] = {}
        cmdline: dict[int, bytes] = {}
        for p in Path("/proc").iterdir():
            if not p.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (p / "stat").read_text().rsplit(")", 1)[1].split()
                parent[int(p.name)] = int(stat[1])
                cmdline[int(p.name)] = (p / "cmdline").read_bytes()

        def under(pid: int) -> bool:
            while pid > 1:
                if pid == self.proc.pid:  # type: ignore[union-attr]
                    return True
                pid = parent.get(pid, 0)
            return False

        return [pid for pid, cmd in cmdline.items() if b"gunicorn" in cmd and under(pid)]

    def cpu_seconds(self) -> float:
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.gunicorn_pids():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# --- the users --------------------------------------------------------------------------------


@dataclass
class Sample:
    page: str
    status: int
    seconds: float
    at: float


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, page: str, status: int, seconds: float) -> None:
        with self.lock:
            self.samples.append(Sample(page, status, seconds, time.monotonic()))


class User:
    def __init__(self, name: str, role: str, token: str | None, port: int, index: int,
                 rec: Recorder) -> None:
        self.name, self.role, self.token, self.port, self.rec = name, role, token, port, rec
        self.ip = f"10.{index // 250}.{index % 250}.{10 + index % 200}"
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self.pages = {"analyst": ANALYST_PAGES, "policy_officer": POLICY_PAGES,
                      "agency_reporter": REPORTER_PAGES}[role]
        self.job: str | None = None

    def _request(self, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None, api: bool = False
                 ) -> tuple[int, bytes, http.client.HTTPResponse | None]:
        h = {"Host": f"127.0.0.1:{self.port}", "X-Forwarded-Proto": "https",
             "X-Forwarded-For": self.ip, **(headers or {})}
        if api:
            h["Authorization"] = f"Bearer {self.token}"
        elif self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    return 0, b"", None
                continue
            if not api:
                for cookie in r.headers.get_all("Set-Cookie") or []:
                    k, _, rest = cookie.partition("=")
                    self.cookies[k.strip()] = rest.split(";", 1)[0]
            return r.status, data, r
        return 0, b"", None

    def login(self) -> None:
        self._request("GET", "/accounts/login/")
        csrf = next((v for k, v in self.cookies.items() if "csrf" in k), "")
        body = urlencode({"username": self.name, "password": PASSWORD,
                          "csrfmiddlewaretoken": csrf}).encode()
        origin = f"https://127.0.0.1:{self.port}"
        status, _, _ = self._request("POST", "/accounts/login/", body, {
            "Content-Type": "application/x-www-form-urlencoded", "Origin": origin,
            "Referer": origin + "/accounts/login/"})
        if status != 302:
            raise SystemExit(f"{self.name}: sign-in answered {status}")

    def visit(self, page: str) -> None:
        api = page.startswith("api:")
        path = page[4:] if api else page
        started = time.perf_counter()
        status, _, _ = self._request("GET", path, api=api)
        self.rec.add(page, status, time.perf_counter() - started)

    def submit_import(self) -> None:
        boundary = secrets.token_hex(12)
        parts = [("file", f"{self.name}.csv", _csv_for(self.name)),
                 ("profile_file", "load.yaml", PROFILE.encode())]
        body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{n}"; '
                        f'filename="{f}"\r\n\r\n'.encode() + c + b"\r\n" for n, f, c in parts)
        body += f"--{boundary}--\r\n".encode()
        started = time.perf_counter()
        status, data, _ = self._request("POST", "/api/cases/batches/jobs", body, {
            "Content-Type": f"multipart/form-data; boundary={boundary}"}, api=True)
        self.rec.add("import (submit)", status, time.perf_counter() - started)
        if status == 202:
            self.job = json.loads(data)["id"]

    def job_status(self) -> str:
        if self.job is None:
            return "none"
        status, data, _ = self._request("GET", f"/api/jobs/{self.job}", api=True)
        return json.loads(data)["status"] if status == 200 else f"http {status}"


def think_loop(user: User, until: float, imports: bool, think: tuple[float, float]) -> None:
    rng = random.Random(user.name)
    import_at = time.monotonic() + rng.uniform(5, max(6.0, until - time.monotonic() - 60))
    # Without think time a loop would pass the API's limit of 60 requests a minute per token
    # and be answered 429 by design: the ramp measures the pages (and the API with think time)
    pages = user.pages if think[1] else [p for p in user.pages if not p.startswith("api:")]
    while time.monotonic() < until:
        if imports and user.job is None and time.monotonic() >= import_at:
            user.submit_import()
        else:
            user.visit(rng.choice(pages))
        if think[1]:
            time.sleep(rng.uniform(*think))


def summarise(samples: list[Sample], seconds: float) -> dict[str, Any]:
    def pct(values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        values = sorted(values)
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    by_page: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_page[s.page].append(s)
    rows = {}
    for page, ss in sorted(by_page.items()):
        t = [s.seconds for s in ss]
        rows[page] = {"requests": len(ss), "p50_ms": pct(t, 0.5), "p95_ms": pct(t, 0.95),
                      "p99_ms": pct(t, 0.99),
                      "errors": sum(1 for s in ss if s.status == 0 or s.status >= 400)}
    t = [s.seconds for s in samples]
    errors = [s for s in samples if s.status == 0 or s.status >= 400]
    return {"requests": len(samples), "seconds": round(seconds, 1),
            "requests_per_s": round(len(samples) / seconds, 2) if seconds else 0.0,
            "p50_ms": pct(t, 0.5), "p95_ms": pct(t, 0.95), "p99_ms": pct(t, 0.99),
            "errors": len(errors),
            "error_statuses": dict(sorted(
                {str(k): sum(1 for e in errors if e.status == k)
                 for k in {e.status for e in errors}}.items())),
            "pages": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--ramp", default="4,8,16,32,48")
    ap.add_argument("--step-seconds", type=float, default=40.0)
    ap.add_argument("--web-workers", type=int, default=3)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--database-url", default=os.environ.get(
        "TIPLAB_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test"))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    n_analysts = round(args.users * 0.4)
    n_policy = round(args.users * 0.3)
    spec = ([(f"analyst{i}", "analyst", "National Rapporteur's Office")
             for i in range(n_analysts)]
            + [(f"policy{i}", "policy_officer", "National Rapporteur's Office")
               for i in range(n_policy)]
            + [(f"reporter{i}", "agency_reporter", "National Police")
               for i in range(args.users - n_analysts - n_policy)])
    report: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()
                                       if k != "database_url"}}
    with database(args.database_url) as url:
        server = Server(url, args.web_workers, args.threads)
        t0 = time.monotonic()
        tokens = server.prepare(spec)
        report["setup_seconds"] = round(time.monotonic() - t0, 1)
        server.start()
        try:
            rec = Recorder()
            users = [User(n, r, tokens[n], server.port, i, rec)
                     for i, (n, r, _) in enumerate(spec)]
            for u in users:
                u.login()
            rec.samples.clear()
            print(f"{len(users)} users signed in; {args.minutes} min of load ...",
                  file=sys.stderr)
            load0, cpu0, start = os.getloadavg()[0], server.cpu_seconds(), time.monotonic()
            until = start + args.minutes * 60
            threads = [threading.Thread(target=think_loop, args=(
                u, until, u.role != "policy_officer", (1.0, 3.0))) for u in users]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.monotonic() - start
            cpu = server.cpu_seconds() - cpu0
            steady = summarise(rec.samples, seconds)
            steady["server_cpu_ms_per_request"] = round(1000 * cpu / max(1, steady["requests"]),
                                                       1)
            steady["load_average"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
            deadline = time.monotonic() + 120
            states: dict[str, int] = {}
            while time.monotonic() < deadline:
                states = {}
                for u in users:
                    if u.job:
                        s = u.job_status()
                        states[s] = states.get(s, 0) + 1
                if set(states) <= {"succeeded", "failed"}:
                    break
                time.sleep(2)
            steady["import_jobs"] = states
            report["steady"] = steady
            ramp = []
            for n in [int(x) for x in args.ramp.split(",") if x]:
                rec = Recorder()
                for u in users:
                    u.rec = rec
                pool = [users[i % len(users)] for i in range(n)][:len(users)]
                cpu0, start = server.cpu_seconds(), time.monotonic()
                until = start + args.step_seconds
                threads = [threading.Thread(target=think_loop, args=(u, until, False,
                                                                      (0.0, 0.0)))
                           for u in pool]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                seconds = time.monotonic() - start
                s = summarise(rec.samples, seconds)
                s.pop("pages")
                s["concurrency"] = len(pool)
                s["server_cpu_ms_per_request"] = round(
                    1000 * (server.cpu_seconds() - cpu0) / max(1, s["requests"]), 1)
                s["load_average"] = round(os.getloadavg()[0], 2)
                ramp.append(s)
                print(f"ramp {len(pool)}: {s['requests_per_s']} req/s, "
                      f"p95 {s['p95_ms']:.0f} ms, errors {s['errors']}", file=sys.stderr)
                if s["p95_ms"] > 1000:
                    break
            report["ramp"] = ramp
        finally:
            server.stop()
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


def render(report: dict[str, Any]) -> str:
    s = report["steady"]
    lines = [f"steady: {s['requests']} requests in {s['seconds']} s ({s['requests_per_s']}/s), "
             f"p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms, p99 {s['p99_ms']:.0f} ms, "
             f"errors {s['errors']} {s['error_statuses']}, server CPU "
             f"{s['server_cpu_ms_per_request']} ms/request, load {s['load_average']}, "
             f"imports {s['import_jobs']}", "",
             "| page | requests | p50 ms | p95 ms | p99 ms | errors |",
             "|---|---:|---:|---:|---:|---:|"]
    for page, r in s["pages"].items():
        lines.append(f"| {page} | {r['requests']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | "
                     f"{r['p99_ms']:.0f} | {r['errors']} |")
    lines += ["", "| concurrency | requests/s | p50 ms | p95 ms | p99 ms | errors | "
              "server CPU ms/req | load |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report.get("ramp", []):
        lines.append(f"| {r['concurrency']} | {r['requests_per_s']} | {r['p50_ms']:.0f} | "
                     f"{r['p95_ms']:.0f} | {r['p99_ms']:.0f} | {r['errors']} | "
                     f"{r['server_cpu_ms_per_request']} | {r['load_average']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
