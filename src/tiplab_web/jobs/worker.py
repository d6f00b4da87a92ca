"""The worker process: takes jobs from the queue and runs them, one at a time.

It is ``django-tasks-db``'s worker loop with what the kernel adds around it:

* a worker id ``host:pid:random`` that the kernel writes on each job it claims, so a job
  whose process is gone is recognised at once on this host (and by its stale heartbeat on
  any other);
* a heartbeat thread that records the worker as alive (``jobs.Worker``; ``/healthz`` and the
  Jobs page read it) and runs the reaper (:func:`tiplab_web.jobs.kernel.reap`) every
  ``TIPLAB_JOBS_REAP_SECONDS`` — at start-up too, so jobs of a worker killed a moment ago
  are settled when it is restarted;
* survival of a database restart: the loop waits and reconnects instead of exiting.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone

log = logging.getLogger("tiplab.web.jobs.worker")

_current: dict[str, str] = {}


def current_worker_id() -> str:
    """The id of the worker process running this code ("" outside a worker)."""
    return _current.get("id", "")


def new_worker_id() -> str:
    from .kernel import this_process

    return f"{this_process()}:{secrets.token_hex(4)}"


class _Heartbeat(threading.Thread):
    def __init__(self, worker_id: str, state: dict[str, Any]) -> None:
        super().__init__(name="jobs-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.state = state
        self.stop = threading.Event()
        self.started_at = timezone.now()

    def run(self) -> None:
        from . import kernel

        every = kernel.heartbeat_every()
        reap_every = float(getattr(settings, "TIPLAB_JOBS_REAP_SECONDS", 30))
        last_reap = -1e9
        while True:
            try:
                kernel.beat(self.worker_id, started_at=self.started_at,
                            current_job=self.state.get("job"),
                            jobs_done=self.state.get("done", 0))
                if time.monotonic() - last_reap >= reap_every:
                    kernel.reap()
                    kernel.prune_workers()
                    last_reap = time.monotonic()
            except DatabaseError as e:  # the database is restarting: try again later
                log.warning("worker %s: heartbeat not written (%s)", self.worker_id, e)
                close_old_connections()
            except Exception:
                log.exception("worker %s: heartbeat failed", self.worker_id)
            if self.stop.wait(every):
                break
        with contextlib.suppress(DatabaseError):
            kernel.forget_worker(self.worker_id)
        connections.close_all()


def run_worker(*, worker_id: str = "", interval: float = 1.0, max_tasks: int | None = None,
               batch: bool = False, queue_names: list[str] | None = None) -> None:
    """Run a worker in this process until it is told to stop (SIGTERM/SIGINT: the running
    job finishes first; a second signal ends it at once)."""
    from django_tasks_db.management.commands.db_worker import Worker as DBWorker
    from django_tasks_db.models import DBTaskResult

    from .queue import QUEUE_NAME, default_task_backend

    worker_id = worker_id or new_worker_id()
    _current["id"] = worker_id
    state: dict[str, Any] = {"done": 0}

    class Worker(DBWorker):
        def run_task(self, db_task_result: DBTaskResult) -> None:
            args = db_task_result.args_kwargs.get("args") or []
            state["job"] = args[0] if args else None
            try:
                super().run_task(db_task_result)
            finally:
                state["job"] = None
                state["done"] += 1

    worker = Worker(queue_names=queue_names or [QUEUE_NAME], interval=interval, batch=batch,
                    backend_name=default_task_backend.alias, startup_delay=False,
                    max_tasks=max_tasks, worker_id=worker_id[:64], excluded_queue_names=[])
    beat = _Heartbeat(worker_id, state)
    beat.start()
    worker.configure_signals()
    log.info("worker %s started", worker_id)
    try:
        while True:
            try:
                worker.run()
                return
            except DatabaseError as e:
                if not worker.running:
                    return
                log.warning("worker %s: database unavailable (%s); retrying in 2 s",
                            worker_id, e)
                close_old_connections()
                time.sleep(2)
    finally:
        beat.stop.set()
        beat.join(timeout=10)
        log.info("worker %s stopped after %d job(s)", worker_id, state["done"])
