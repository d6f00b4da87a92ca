"""Import jobs: run ``run_import`` off the request thread and report its progress.

The registry lives in the web process's memory and each import runs in a daemon thread, which
is enough for the demo server and a single-process deployment. **Production with several
worker processes should hand the job to a task queue** (Celery, RQ, django-q2, Django 6's
tasks framework) and keep the job state in the database or cache; ``start`` is the one place
to change. Settings: ``TIPLAB_IMPORT_JOBS_INLINE = True`` runs the import inside the request
(tests use it: their database transaction is invisible to other threads).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections

log = logging.getLogger("tiplab.web.jobs")

#: How long finished jobs stay visible (seconds).
KEEP_SECONDS = 6 * 3600


@dataclass
class ImportJob:
    id: str
    user_id: int
    file_name: str
    stage: str = "queued"
    fraction: float = 0.0
    status: str = "running"  # running, done, failed
    batch_id: str | None = None
    error: str | None = None
    error_batch: str | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    @property
    def percent(self) -> int:
        return round(100 * self.fraction)

    @property
    def finished(self) -> bool:
        return self.status != "running"


_JOBS: dict[str, ImportJob] = {}
_LOCK = threading.Lock()


def get(job_id: str, user_id: int) -> ImportJob | None:
    """The job if it exists and belongs to ``user_id`` (others get None → 404)."""
    with _LOCK:
        job = _JOBS.get(job_id)
    return job if job is not None and job.user_id == user_id else None


def _prune() -> None:
    cutoff = time.time() - KEEP_SECONDS
    with _LOCK:
        for key in [k for k, j in _JOBS.items() if j.finished_at and j.finished_at < cutoff]:
            del _JOBS[key]


def start(user_id: int, file_name: str,
          work: Callable[[Callable[[str, float], None]], tuple[str, Any]],
          on_error: Callable[[Exception], tuple[str, str | None]]) -> ImportJob:
    """Run ``work(progress)`` (returns (batch_id, anything)) as a job.

    ``on_error(exc)`` turns an exception into (message shown to the user, earlier batch id)."""
    _prune()
    job = ImportJob(id=uuid.uuid4().hex, user_id=user_id, file_name=Path(file_name).name)
    with _LOCK:
        _JOBS[job.id] = job

    def progress(stage: str, fraction: float) -> None:
        job.stage, job.fraction = stage, max(job.fraction, fraction)

    def run() -> None:
        try:
            job.batch_id, _ = work(progress)
            job.status = "done"
            job.stage, job.fraction = "done", 1.0
        except Exception as exc:  # reported on the page; unexpected ones are logged
            job.error, job.error_batch = on_error(exc)
            job.status = "failed"
        finally:
            job.finished_at = time.time()

    if getattr(settings, "TIPLAB_IMPORT_JOBS_INLINE", False):
        run()
    else:
        def in_thread() -> None:
            close_old_connections()
            try:
                run()
            finally:
                connections.close_all()

        threading.Thread(target=in_thread, name=f"import-{job.id[:8]}", daemon=True).start()
    return job
