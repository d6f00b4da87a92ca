"""Job kinds for "run" objects — a link run, an estimation run, … — that keep their own
outcome (``status`` running/done/failed, ``error``, ``finished_at``) beside the job.

``run_kind`` wraps the object's ``execute(obj, ctx)`` so that the object and its job always
agree: running while the job runs, done when it succeeds, failed (with the job's message)
when it fails, is cancelled or its worker is lost; queued again when the job is retried.
``execute`` writes its result files before it sets the fields that point to them, so a
lost worker leaves no half result that a page would show.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tiplab.errors import TiplabError
from tiplab_web.core.usererrors import for_page

from .kernel import JobCancelled, JobContext, JobFailure, JobKind
from .models import Job

log = logging.getLogger("tiplab.web.jobs")

RUNNING, DONE, FAILED = "running", "done", "failed"


def _mark(model: type[Model], pk: Any, status: str, error: str = "", *,
          only_if: str | None = None) -> None:
    qs = model._default_manager.filter(pk=pk)
    if only_if is not None:
        qs = qs.filter(status=only_if)
    qs.update(status=status, error=error[:2000],
              finished_at=None if status == RUNNING else timezone.now())


def run_kind(name: str, model: type[Model], execute: Callable[[Any, JobContext], None], *,
             label: Any, url_name: str, capability: str) -> JobKind:
    """A retry-safe job kind whose handler runs ``execute(obj, ctx)`` on the ``model`` row
    named by the job's ``run`` parameter. ``execute`` saves the object's results; raise
    :class:`JobFailure` (or a ``TiplabError``) for a failure the user should read as is;
    anything else is logged and shown as an unexpected failure."""

    def run(ctx: JobContext) -> dict[str, Any]:
        pk = ctx.params["run"]
        _mark(model, pk, RUNNING)
        obj = model._default_manager.get(pk=pk)
        try:
            execute(obj, ctx)
        except JobCancelled:
            _mark(model, pk, FAILED, _("Cancelled."))
            raise
        except JobFailure as e:
            _mark(model, pk, FAILED, e.message)
            raise
        except TiplabError as e:
            message = for_page(e)
            _mark(model, pk, FAILED, message)
            raise JobFailure(message) from e
        except Exception:
            _mark(model, pk, FAILED, _("The run failed unexpectedly; the error has been "
                                       "logged."))
            raise
        _mark(model, pk, DONE)
        return {"run": pk}

    def on_end(job: Job) -> None:
        pk = job.params.get("run")
        if pk is not None:
            _mark(model, pk, FAILED, job.error or _("The run did not finish."),
                  only_if=RUNNING)

    def on_retry(job: Job) -> None:
        pk = job.params.get("run")
        if pk is not None:
            _mark(model, pk, RUNNING)

    def result_url(job: Job) -> str | None:
        pk = job.params.get("run")
        return reverse(url_name, args=[pk]) if pk is not None else None

    return JobKind(name=name, run=run, label=label, retry_safe=True, on_end=on_end,
                   on_retry=on_retry, result_url=result_url, capability=capability)
