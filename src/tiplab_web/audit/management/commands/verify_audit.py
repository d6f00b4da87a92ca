"""``python -m tiplab_web.manage verify_audit``: recompute the audit hash chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tiplab_web.audit.services import verify_chain


class Command(BaseCommand):
    help = (
        "Check that no audit entry was altered or removed: recompute each entry's hash "
        "and its link to the previous one. Exit status 1 names the first broken entry."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.intact:
            raise CommandError(
                f"audit chain broken at entry id={report.broken_id}: {report.reason}. "
                f"{report.entries} entries before it are intact."
            )
        self.stdout.write(f"chain intact: {report.entries} entries (head {report.head})")
