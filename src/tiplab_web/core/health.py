"""``/healthz``: is this server able to do its work? For load balancers, monitoring and
``tiplab-web serve``'s start-up check.

Checks, each ``ok`` or ``fail`` with a short detail (never a path or a secret):

* ``database`` — a round trip to the system of record;
* ``queue`` — the tasks backend, live workers, the oldest waiting job (fails when jobs wait
  and no worker has been heard of: they would wait for ever);
* ``snapshot`` — the analytics snapshot's manifest reads and every file it names exists;
* ``keys`` — the key directory holds readable keys of the right size, not readable by
  others (fails when batches exist but keys do not: identifiers could not be read);
* ``disk`` — free space in the data directory above ``TIPLAB_MIN_FREE_MB`` (default 500).

``?only=database,keys`` limits the checks (a load balancer that should keep a web server in
rotation while the workers restart asks for ``only=database,snapshot,keys,disk``). The
answer is 200 when every check asked for is ok, 503 otherwise.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tiplab import __version__

Check = Callable[[], tuple[bool, str]]


def _database() -> tuple[bool, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return True, connection.vendor


def _queue() -> tuple[bool, str]:
    from tiplab_web.jobs import kernel
    from tiplab_web.jobs.models import Job
    from tiplab_web.jobs.queue import backend_name, runs_inline

    if runs_inline():
        return True, "jobs run inside the request (immediate backend)"
    workers = kernel.live_workers().count()
    oldest = Job.objects.filter(status=Job.QUEUED).order_by("created_at").first()
    waiting = (timezone.now() - oldest.created_at).total_seconds() if oldest else 0.0
    detail = f"{backend_name()}; {workers} live worker(s)"
    if oldest is not None:
        detail += f"; oldest queued job waiting {waiting:.0f} s"
    if workers == 0 and oldest is not None and waiting > kernel.stale_after():
        return False, detail + "; no worker is running"
    return True, detail


def _snapshot() -> tuple[bool, str]:
    from tiplab.snapshot import open_snapshot

    snap = open_snapshot(Path(settings.DATA_DIR))
    missing = [b.file for b in snap.batches if not (snap.root / "batches" / b.file).exists()]
    if missing:
        return False, f"{len(missing)} of {len(snap.batches)} batch file(s) missing " \
                      "(tiplab snapshot refresh rebuilds them)"
    return True, f"{snap.data_version}; {len(snap.batches)} batch(es)"


def _keys() -> tuple[bool, str]:
    from tiplab.config import key_dir
    from tiplab.keys import KEY_BYTES

    directory = key_dir(Path(settings.DATA_DIR))
    names = ("field.key", "pseudonym.key")
    present = [n for n in names if (directory / n).exists()]
    if not present:
        from tiplab_web.cases.models import ImportBatch

        if ImportBatch.objects.filter(kind="case").exists():
            return False, "case records exist but the key directory holds no keys: " \
                          "identifiers cannot be read (restore the keys from backup)"
        return True, "no keys yet (made at the first import of case records)"
    problems = []
    for name in names:
        path = directory / name
        if not path.exists():
            problems.append(f"{name} missing")
            continue
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            problems.append(f"{name} is readable by others (mode {stat.S_IMODE(mode):o})")
        try:
            if len(path.read_bytes()) < KEY_BYTES:
                problems.append(f"{name} is too short")
        except OSError as e:
            problems.append(f"{name} cannot be read ({e.strerror})")
    return (not problems), "; ".join(problems) or "field and pseudonym keys readable"


def _disk() -> tuple[bool, str]:
    minimum = int(os.environ.get("TIPLAB_MIN_FREE_MB", "") or 500)
    free = shutil.disk_usage(Path(settings.DATA_DIR)).free // (1024 * 1024)
    return free >= minimum, f"{free} MB free (minimum {minimum} MB)"


CHECKS: dict[str, Check] = {"database": _database, "queue": _queue, "snapshot": _snapshot,
                            "keys": _keys, "disk": _disk}


def run_checks(only: list[str] | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, check in CHECKS.items():
        if only and name not in only:
            continue
        started = time.perf_counter()
        try:
            ok, detail = check()
        except Exception as e:  # a check that cannot run has failed
            # the exception's class only: its text may hold hosts or paths, and this
            # endpoint answers anyone; the server log has the rest
            ok, detail = False, f"cannot run the check ({type(e).__name__})"
            logging.getLogger("tiplab.web.health").warning("health check %s: %s", name, e)
        results[name] = {"status": "ok" if ok else "fail", "detail": detail[:300],
                         "ms": round(1000 * (time.perf_counter() - started), 1)}
    status = "ok" if all(r["status"] == "ok" for r in results.values()) else "fail"
    return {"status": status, "version": __version__, "checks": results}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    only = [n for n in request.GET.get("only", "").split(",") if n in CHECKS] or None
    body = run_checks(only)
    response = JsonResponse(body, status=200 if body["status"] == "ok" else 503,
                            json_dumps_params={"indent": 1})
    return response


def main_text(body: dict[str, Any]) -> str:
    """The report as text, for ``tiplab-web check``."""
    lines = [f"tiplab {body['version']}: {body['status']}"]
    for name, r in body["checks"].items():
        lines.append(f"  {r['status']:4}  {name:9} {r['detail']} ({r['ms']} ms)")
    return "\n".join(lines) if lines else json.dumps(body)
