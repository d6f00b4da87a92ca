"""``manage.py jobs_worker``: run a background worker (``make run`` and ``tiplab-web serve``
start them for you)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run a worker that takes tiplab's background jobs (imports, linkage, estimation)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=1.0,
                            help="seconds between looks at an empty queue (default 1)")
        parser.add_argument("--max-tasks", type=int, default=None,
                            help="stop after this many jobs")
        parser.add_argument("--batch", action="store_true",
                            help="run the jobs waiting now, then stop")
        parser.add_argument("--worker-id", default="", help="an id unique in the pool "
                            "(default host:pid:random)")

    def handle(self, *args: Any, **options: Any) -> None:
        from tiplab_web.jobs.queue import runs_inline
        from tiplab_web.jobs.worker import run_worker

        if runs_inline():
            raise CommandError("TASKS uses the immediate backend: jobs run inside the "
                               "request and need no worker.")
        if options["max_tasks"] is not None and options["max_tasks"] <= 0:
            raise CommandError("--max-tasks must be a positive number")
        run_worker(worker_id=options["worker_id"], interval=options["interval"],
                   max_tasks=options["max_tasks"], batch=options["batch"])
