"""Background jobs: the one kernel every app's background work runs on.

Public surface (see :mod:`tiplab_web.jobs.kernel`)::

    from tiplab_web import jobs

    jobs.register(jobs.JobKind(name="linkage.run", run=handler, label="Record linkage",
                               retry_safe=True, on_end=mark_failed, capability="linkage.run"))
    job = jobs.submit(request, "linkage.run", {"run": run.pk}, target=run)
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:  # keep ``import tiplab_web.jobs`` free of models
    from . import kernel

    if name in ("JobKind", "JobContext", "JobCancelled", "JobFailure", "register", "submit",
                "cancel", "retry", "reap", "execute", "JobStateError"):
        return getattr(kernel, name)
    raise AttributeError(name)
