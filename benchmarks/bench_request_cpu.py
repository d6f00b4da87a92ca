"""CPU time of one signed-in request per main page (in process, Django's test client).

Usage::

    .venv/bin/python benchmarks/bench_request_cpu.py [--data-dir DIR] [--runs 30]
        [--json out.json] [--profile PATH]

Builds (once; reused when ``--data-dir`` already holds it) a data directory with the demo of
``make run``: ``setup_demo`` (GLOTIP and the six agencies of the simulated country, the demo
users) and its queued jobs run to the end (the linkage and the estimate of record). Then, in
this process with the development settings, signs in the demo users of each role and
requests each page: three warm-up requests (the analysis results are then cached), and
``--runs`` measured ones. Measured is the process's CPU time (``time.process_time``) around
``Client.get`` - the whole request: middleware, session, permissions, context processors,
navigation, panels, templates, the audit entry - which a busy or slow machine inflates far
less than wall time. Reported per page: median and 90th percentile in milliseconds.

``--profile PATH`` writes a cProfile of the runs of each page to ``PATH.<page>.prof``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: (label, user, path): the pages people open most, as the role that opens them
PAGES = [
    ("dashboard (policy officer)", "demo-policy", "/"),
    ("dashboard (analyst)", "demo-analyst", "/"),
    ("dashboard (agency reporter)", "demo-police", "/"),
    ("trends (cached)", "demo-policy", "/insights/trends/"),
    ("profiles (cached)", "demo-policy", "/insights/profiles/"),
    ("routes (cached)", "demo-policy", "/insights/routes/"),
    ("hotspots (cached)", "demo-policy", "/insights/hotspots/"),
    ("case browser", "demo-analyst", "/cases/"),
    ("estimates list", "demo-policy", "/estimates/"),
    ("jobs list", "demo-analyst", "/jobs/"),
    ("import history", "demo-analyst", "/cases/batches/"),
    ("audit log (administrator)", "demo-admin", "/audit/"),
]


def build(data_dir: Path) -> None:
    if (data_dir / "tiplab.sqlite3").exists() or (data_dir / "db.sqlite3").exists():
        return
    env = {**os.environ, "TIPLAB_DATA_DIR": str(data_dir),
           "DJANGO_SETTINGS_MODULE": "tiplab_web.settings.dev"}
    manage = [sys.executable, "-m", "tiplab_web.manage"]
    subprocess.run([*manage, "setup_demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    for _ in range(2):  # the linkage, then the estimate it queues
        subprocess.run([*manage, "jobs_worker", "--batch"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure(runs: int, profile: str | None) -> list[dict[str, object]]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    clients: dict[str, Client] = {}

    def client(username: str) -> Client:
        if username not in clients:
            c = Client(HTTP_HOST="127.0.0.1")
            user = get_user_model().objects.get(username=username)
            c.force_login(user)
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            if device is not None:  # as if the second factor was passed
                session = c.session
                session[DEVICE_ID_SESSION_KEY] = device.persistent_id
                session.save()
            clients[username] = c
        return clients[username]

    out: list[dict[str, object]] = []
    for label, username, path in PAGES:
        c = client(username)
        for _ in range(3):
            r = c.get(path)
            if r.status_code != 200:
                raise SystemExit(f"{label}: {path} answered {r.status_code}")
        prof = cProfile.Profile() if profile else None
        times = []
        for _ in range(runs):
            t0 = time.process_time()
            if prof is not None:
                prof.enable()
            c.get(path)
            if prof is not None:
                prof.disable()
            times.append((time.process_time() - t0) * 1000)
        if prof is not None:
            slug = "".join(ch if ch.isalnum() else "_" for ch in label)
            prof.dump_stats(f"{profile}.{slug}.prof")
        times.sort()
        out.append({"page": label, "path": path, "user": username, "runs": runs,
                    "median_ms": round(statistics.median(times), 1),
                    "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1)})
        print(f"{label:32} {out[-1]['median_ms']:7.1f} ms median  "
              f"{out[-1]['p90_ms']:7.1f} ms p90", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/tiplab-bench-cpu"))
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--profile")
    a = ap.parse_args()
    a.data_dir.mkdir(parents=True, exist_ok=True)
    build(a.data_dir)
    os.environ["TIPLAB_DATA_DIR"] = str(a.data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tiplab_web.settings.dev"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                            capture_output=True, text=True).stdout.strip()
    print(f"commit {commit}, {a.runs} runs per page, CPU ms per request")
    rows = measure(a.runs, a.profile)
    if a.json:
        a.json.write_text(json.dumps({"commit": commit, "pages": rows}, indent=2))


if __name__ == "__main__":
    main()
