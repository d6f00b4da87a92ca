"""The reminder job: ``monitoring.reminders`` sends the reminder e-mails due today (before
the deadline and after it), each (form, kind) once. ``manage.py send_round_reminders`` runs
it; in production a daily timer runs that command (docs/monitoring.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy

JOB_KIND = "monitoring.reminders"


def run(ctx: Any) -> dict[str, Any]:
    from . import services

    day = ctx.job.params.get("date") if ctx is not None else None
    return services.send_reminders(dt.date.fromisoformat(day) if day else None)


def register_jobs() -> None:
    from tiplab_web.jobs.kernel import JobKind, register

    register(JobKind(name=JOB_KIND, run=run,
                     label=gettext_lazy("Reporting rounds: send reminders"), retry_safe=True,
                     capability="monitoring.manage"))
