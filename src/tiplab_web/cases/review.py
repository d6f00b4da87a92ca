"""Review of agency submissions: a data steward approves a submitted batch (it joins the
snapshot and every figure built on it) or returns it with a comment the reporter reads.

An agency reporter's upload lands as *submitted* (``DjangoCaseStore(submit=True)``); it
changes no figure until approved. Approval is a background job (kind ``cases.approve``):
it flips the batch to active — applying the correction it carries (``replaces``) — in one
transaction, then rebuilds the snapshot; re-running it after a lost worker finishes the
snapshot. Every decision is audited; returning a batch e-mails the reporter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, F
from django.db.models.functions import ExtractYear
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tiplab.store import refresh_snapshot
from tiplab_web import audit
from tiplab_web.jobs.kernel import JobContext, JobFailure, JobKind, register, submit

from . import services
from .models import CaseRecord, ImportBatch

log = logging.getLogger("tiplab.web.cases")

KIND = "cases.approve"


class ReviewError(Exception):
    """The batch cannot be approved or returned; the message says why."""


@dataclass(frozen=True)
class Change:
    """One row of a submission's effect on a key figure: before, after, difference."""

    label: str
    before: int
    after: int

    @property
    def difference(self) -> int:
        return self.after - self.before


def _counts(batches: Any, field: str) -> dict[Any, int]:
    qs = CaseRecord.objects.filter(batch__in=batches)
    key = ExtractYear("registration_date") if field == "year" else F(field)
    rows = qs.annotate(k=key).values("k").annotate(n=Count("id")).order_by()
    return {r["k"]: r["n"] for r in rows}


def impact(batch: ImportBatch) -> dict[str, list[Change]]:
    """What approving ``batch`` would do to the key figures: case records by year and by
    source agency, before and after (the batch it replaces taken out)."""
    active = ImportBatch.objects.filter(status=ImportBatch.ACTIVE)
    after_batches = active.exclude(batch_id=batch.replaces) if batch.replaces else active
    out: dict[str, list[Change]] = {}
    for field, title in (("year", _("Case records by year of registration")),
                         ("source_agency", _("Case records by source agency"))):
        before = _counts(active, field)
        after = _counts(after_batches, field)
        for k, n in _counts(ImportBatch.objects.filter(pk=batch.pk), field).items():
            after[k] = after.get(k, 0) + n
        keys = sorted(set(before) | set(after), key=lambda k: (k is None, str(k)))
        out[title] = [Change(str(k) if k is not None else _("not recorded"),
                             before.get(k, 0), after.get(k, 0)) for k in keys]
    return out


def pending() -> Any:
    return ImportBatch.objects.filter(status=ImportBatch.SUBMITTED).order_by("imported_at")


def approve(request: Any, batch: ImportBatch) -> Any:
    """Queue the approval of a submitted batch; returns the job."""
    if batch.status != ImportBatch.SUBMITTED:
        raise ReviewError(_("Batch %(b)s is %(s)s: only a submitted batch can be approved.")
                          % {"b": batch.batch_id, "s": batch.get_status_display()})
    return submit(request, KIND, {"batch_id": batch.batch_id},
                  label=_("Approval of batch %(b)s") % {"b": batch.batch_id}, target=batch)


def return_to_reporter(request: Any, batch: ImportBatch, comment: str) -> None:
    """Send a submitted batch back with ``comment``; the reporter is told by e-mail."""
    comment = comment.strip()
    if not comment:
        raise ReviewError(_("Say what the agency should correct."))
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != ImportBatch.SUBMITTED:
            raise ReviewError(_("Batch %(b)s is no longer awaiting review.")
                              % {"b": batch.batch_id})
        locked.status = ImportBatch.RETURNED
        locked.reviewed_by = request.user
        locked.reviewed_at = timezone.now()
        locked.review_comment = comment
        locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_comment"])
        audit.record(request, "cases.return", locked, comment=comment)
    _tell_reporter(request, locked)


def _tell_reporter(request: Any, batch: ImportBatch) -> None:
    reporter = get_user_model().objects.filter(username=batch.imported_by).first()
    if reporter is None or not reporter.email:
        return
    link = request.build_absolute_uri(reverse("cases:batch", args=[batch.batch_id]))
    try:
        send_mail(
            _("tiplab: your submission %(b)s was returned") % {"b": batch.batch_id},
            _("Your submission %(b)s (%(file)s) was returned by a data steward:\n\n"
              "%(comment)s\n\nCorrect the file and submit it again: %(link)s")
            % {"b": batch.batch_id, "file": batch.file_name, "comment": batch.review_comment,
               "link": link},
            settings.DEFAULT_FROM_EMAIL, [reporter.email])
    except OSError:  # the decision stands; the reporter still sees it on the batch page
        log.warning("could not e-mail %s about returned batch %s", reporter.pk,
                    batch.batch_id, exc_info=True)


def _run(ctx: JobContext) -> dict[str, Any]:
    batch_id = ctx.params["batch_id"]
    ctx.progress("approving", 0.1)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(batch_id=batch_id)
        if batch.status == ImportBatch.SUBMITTED:
            old = None
            if batch.replaces:
                old = ImportBatch.objects.select_for_update().get(batch_id=batch.replaces)
                if old.status != ImportBatch.ACTIVE:
                    raise JobFailure(_(
                        "Batch %(b)s corrects batch %(old)s, which was replaced meanwhile: "
                        "return this submission and ask for a correction of the current "
                        "batch.") % {"b": batch_id, "old": old.batch_id})
                old.status, old.superseded_at = ImportBatch.SUPERSEDED, timezone.now()
                old.save(update_fields=["status", "superseded_at"])
            batch.status, batch.supersedes = ImportBatch.ACTIVE, old
            batch.reviewed_by, batch.reviewed_at = ctx.user, timezone.now()
            batch.save(update_fields=["status", "supersedes", "reviewed_by", "reviewed_at"])
            audit.record(ctx.request, "cases.approve", batch,
                         supersedes=old.batch_id if old is not None else None)
        elif batch.status != ImportBatch.ACTIVE:  # a retry after the commit is fine
            raise JobFailure(_("Batch %(b)s is %(s)s: only a submitted batch can be approved.")
                             % {"b": batch_id, "s": batch.get_status_display()})
    ctx.report("snapshot", 0.5)
    refresh_snapshot(services.store())
    ctx.report("preparing analyses", 0.9)
    services.prepare_analyses()
    return {"batch_id": batch_id}


def _result_url(job: Any) -> str | None:
    return reverse("cases:batch", args=[job.params["batch_id"]])


register(JobKind(name=KIND, run=_run, label=gettext_lazy("Approval"), retry_safe=True,
                 result_url=_result_url, capability="submissions.review"))
