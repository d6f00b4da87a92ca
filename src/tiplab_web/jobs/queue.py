"""The task queue under the job kernel: Django's tasks API (the ``django-tasks`` backport
on Django 5.2; ``django.tasks`` itself from Django 6), with the database backend of
``django-tasks-db`` by default — SQLite for the embedded default, PostgreSQL in production
(workers claim tasks with ``SELECT … FOR UPDATE SKIP LOCKED``). The queue carries only the
job's id: the job's state lives in :class:`~tiplab_web.jobs.models.Job`."""

from __future__ import annotations

from typing import Any

try:  # Django 6 ships the tasks framework; the backport provides the same API on 5.2
    from django.tasks import default_task_backend, task  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the Django version
    from django_tasks import default_task_backend, task

#: the queue every tiplab job goes to (workers take ``--queue-name`` to split them)
QUEUE_NAME = "default"


@task(queue_name=QUEUE_NAME)
def run_job(job_id: str) -> str:
    """The one task: run job ``job_id`` through the kernel."""
    from . import kernel
    from .worker import current_worker_id

    return kernel.execute(job_id, worker=current_worker_id())


def enqueue(job_id: str) -> str:
    """Queue job ``job_id``; returns the queue's task id."""
    result: Any = run_job.enqueue(job_id)
    return str(getattr(result, "id", "") or "")


def backend_name() -> str:
    """The class name of the configured backend (``DatabaseBackend``, ``ImmediateBackend``)."""
    try:
        from django.tasks import task_backends  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - depends on the Django version
        from django_tasks import task_backends
    return type(task_backends[default_task_backend.alias]).__name__


def runs_inline() -> bool:
    """True when tasks run at once in the submitting process (the test suite)."""
    return backend_name() == "ImmediateBackend"
