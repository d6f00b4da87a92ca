"""``python -m tiplab_web.manage send_round_reminders``: send the reporting-round reminders
due today (job kind ``monitoring.reminders``). Run it once a day (a systemd timer or cron in
production, docs/monitoring.md); a reminder is never sent twice, so running it more often is
harmless. ``--queue --by USER`` hands the work to the job queue instead of running it here."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Send the reporting-round reminder e-mails due today (each only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="Act as if today were this day (YYYY-MM-DD).")
        parser.add_argument("--queue", action="store_true",
                            help="Queue a background job instead of sending here.")
        parser.add_argument("--by", default="", help="With --queue: the job's owner "
                            "(a policy officer's username).")

    def handle(self, *args: Any, **options: Any) -> None:
        from tiplab_web.monitoring import services
        from tiplab_web.monitoring.jobs import JOB_KIND

        day = None
        if options["date"]:
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError as e:
                raise CommandError(f"--date {options['date']}: write YYYY-MM-DD") from e
        if options["queue"]:
            from django.contrib.auth import get_user_model

            from tiplab_web.core.access import can
            from tiplab_web.jobs.kernel import submit

            user = get_user_model().objects.filter(username=options["by"],
                                                   is_active=True).first()
            if user is None or not can(user, "monitoring.manage"):
                raise CommandError("--queue needs --by USER: an active policy officer")
            job = submit(user, JOB_KIND, {"date": day.isoformat() if day else None})
            self.stdout.write(f"queued job {job.pk} ({job.status})")
            return
        result = services.send_reminders(day)
        self.stdout.write(json.dumps(result))
