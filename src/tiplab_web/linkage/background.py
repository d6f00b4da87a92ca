"""Run heavy analytics (a linkage, an estimation with its bootstrap) off the request thread.

The state of a run is its database row (status, stage), so the page that polls it works from
any worker process. The work itself runs in a daemon thread of the web process, which suits
the demo server and a single-process deployment. **Production with several worker processes
should hand ``work`` to a task queue** (Celery, RQ, django-q2) — ``start`` is the one function
to change. ``TIPLAB_ANALYTICS_JOBS_INLINE = True`` runs the work inside the request (tests:
their transaction is invisible to other threads).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import OperationalError, close_old_connections, connections

log = logging.getLogger("tiplab.web.analytics")


def start(name: str, work: Callable[[], None]) -> None:
    """Run ``work()`` now (inline setting) or in a background thread. ``work`` must record
    its own success or failure on the run's row; exceptions escaping it are logged."""

    def guarded() -> None:
        try:
            work()
        except Exception:  # the run's row says "failed"; the traceback goes to the log
            log.exception("background job %s failed", name)

    if getattr(settings, "TIPLAB_ANALYTICS_JOBS_INLINE", False):
        guarded()
        return

    def in_thread() -> None:
        close_old_connections()
        try:
            guarded()
        finally:
            connections.close_all()

    threading.Thread(target=in_thread, name=name, daemon=True).start()


def save(obj: Any, update_fields: list[str] | None = None, attempts: int = 50) -> None:
    """``obj.save()``, retried while SQLite reports the table locked (a page polling the run
    reads it at the same moment; WAL files mostly avoid this, the test suite's shared-cache
    in-memory database does not)."""
    for i in range(attempts):
        try:
            obj.save(update_fields=update_fields)
            return
        except OperationalError as e:
            if "locked" not in str(e) or i == attempts - 1:
                raise
            time.sleep(0.1)
