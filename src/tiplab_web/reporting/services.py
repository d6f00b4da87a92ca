"""The single write gate of the reporting channel: the public form, the receipt page, the
demo and the staff pages all go through these functions. Each lands whole or not at all
(``transaction.atomic``); every staff read and change is audited."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tiplab_web.audit.services import record
from tiplab_web.core.access import can, get_object_for, organisation_of

from . import receipts, sealing
from .attachments import Checked
from .models import Attachment, Message, Referral, Report

#: who is reporting (the form's first question)
REPORTERS = ("victim", "witness", "other")
MAX_TEXT = 20000


class ReportingError(Exception):
    """Said to the user as it is."""


def _hour(moment: dt.datetime | None = None) -> dt.datetime:
    """Rounded down to the hour: enough to order reports, too coarse to match network logs."""
    return (moment or timezone.now()).replace(minute=0, second=0, microsecond=0)


def _user(request_or_user: Any) -> Any:
    user = getattr(request_or_user, "user", request_or_user)
    return user if getattr(user, "is_authenticated", False) else None


# -- the reporter's side ------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    reporter: str
    what: str
    where: str = ""
    when: str = ""
    in_danger: bool = False
    contact: str = ""
    attachment: Checked | None = None


def _seal_attachment(report: Report, message: Message | None, att: Checked) -> Attachment:
    a = Attachment(report=report, message=message, kind=att.kind)
    header = json.dumps({"name": att.name, "type": att.content_type}).encode()
    a.sealed = sealing.seal(header + b"\n" + att.data, f"attachment:{a.uid}")
    a.save()
    return a


def submit(sub: Submission, *, code: str | None = None) -> tuple[Report, str]:
    """Store a report (sealed) and return it with its receipt code — the only time the code
    exists in clear. Nothing about the sender is recorded. (``code``: the demo's fixed
    codes; the form always draws a new one.)"""
    if sub.reporter not in REPORTERS:
        raise ReportingError(_("Choose who is reporting."))
    if not sub.what.strip():
        raise ReportingError(_("Tell us what happened."))
    code = code or receipts.new_code()
    digest = receipts.digest(code)
    assert digest is not None
    body = {"reporter": sub.reporter, "what": sub.what[:MAX_TEXT], "where": sub.where[:500],
            "when": sub.when[:500], "in_danger": sub.in_danger, "contact": sub.contact[:1000]}
    with transaction.atomic():
        report = Report(receipt_digest=digest, received_at=_hour(), in_danger=sub.in_danger)
        report.body = sealing.seal_text(json.dumps(body), f"report:{report.uid}")
        report.save()
        if sub.attachment is not None:
            _seal_attachment(report, None, sub.attachment)
    return report, code


def find(code: str) -> Report | None:
    """The report a receipt code opens, or None — whatever the reason."""
    digest = receipts.digest(code)
    if digest is None:
        return None
    return Report.objects.filter(receipt_digest=digest).first()


def add_followup(report: Report, text: str, attachment: Checked | None = None) -> Message:
    if not text.strip() and attachment is None:
        raise ReportingError(_("Write what you want to add, or attach a file."))
    with transaction.atomic():
        msg = Message(report=report, kind=Message.Kind.FOLLOWUP, created_at=_hour())
        msg.body = sealing.seal_text(text[:MAX_TEXT], f"message:{msg.uid}")
        msg.save()
        if attachment is not None:
            _seal_attachment(report, msg, attachment)
        Report.objects.filter(pk=report.pk).update(needs_attention=True)
    return msg


def reporter_view(report: Report) -> dict[str, Any]:
    """What the receipt code shows: the staff's replies and when the reporter added
    something. Not the report itself: someone made to hand over the code learns little."""
    replies = []
    added = []
    for m in report.messages.exclude(kind=Message.Kind.NOTE):
        if m.kind == Message.Kind.REPLY:
            replies.append({"at": m.created_at,
                            "text": sealing.unseal_text(m.body, f"message:{m.uid}")})
        else:
            added.append(m.created_at)
    return {"received_at": report.received_at, "replies": replies, "added": added}


# -- the staff's side ---------------------------------------------------------------------------


def reading_kinds() -> tuple[str, ...]:
    """Organisation kinds whose data stewards triage reports (``TIPLAB_REPORTING_ORGANISATION_
    KINDS``; default the national coordinator or rapporteur): a shelter's steward does not
    read the country's reports."""
    return tuple(getattr(settings, "TIPLAB_REPORTING_ORGANISATION_KINDS", ("coordinator",)))


def reports_for(user: Any) -> QuerySet[Report]:
    org = organisation_of(user)
    if not can(user, "reporting.triage") or org is None or org.kind not in reading_kinds():
        return Report.objects.none()
    return Report.objects.all()


def get_report_for(user: Any, pk: Any) -> Report:
    return get_object_for(user, reports_for(user), pk=pk)


def queue(user: Any, status: str = "") -> QuerySet[Report]:
    """Open reports first by danger, then urgency set by staff, then newest."""
    from django.db.models import Case, Count, IntegerField, Value, When

    qs = reports_for(user)
    if status:
        qs = qs.filter(status=status)
    rank = Case(*(When(urgency=u, then=Value(i)) for i, u in enumerate(
        ("immediate", "high", "medium", "low", ""))), output_field=IntegerField())
    closed = Case(When(status__in=("closed", "duplicate"), then=Value(1)), default=Value(0),
                  output_field=IntegerField())
    return (qs.annotate(urgency_rank=rank, closed_rank=closed,
                        followups=Count("messages", distinct=True))
            .order_by("closed_rank", "-in_danger", "urgency_rank", "-received_at", "-id"))


def open_report(request: Any, report: Report) -> dict[str, Any]:
    """Decrypt a report and its thread for a steward, and audit the read."""
    body = json.loads(sealing.unseal_text(report.body, f"report:{report.uid}"))
    thread = []
    for m in report.messages.select_related("author"):
        thread.append({"kind": m.kind, "label": m.get_kind_display(), "at": m.created_at,
                         "author": m.author, "text": sealing.unseal_text(
                             m.body, f"message:{m.uid}"),
                         "attachments": [a for a in report.attachments.all()
                                         if a.message_id == m.pk]})
    record(request, "reporting.view", report)
    if report.needs_attention:
        Report.objects.filter(pk=report.pk).update(needs_attention=False)
    return {"body": body, "thread": thread,
            "attachments": [a for a in report.attachments.all() if a.message_id is None]}


def read_attachment(request: Any, att: Attachment) -> tuple[str, str, bytes]:
    """(name, content type, bytes) of an attachment, audited."""
    plain = sealing.unseal(att.sealed, f"attachment:{att.uid}")
    header, _sep, data = plain.partition(b"\n")
    meta = json.loads(header)
    record(request, "reporting.attachment", att.report, attachment=att.pk)
    return str(meta.get("name") or "attachment"), str(meta.get("type")), data


def triage(request: Any, report: Report, *, status: str, urgency: str,
           category: str) -> Report:
    if status not in (Report.Status.NEW, Report.Status.TRIAGE, Report.Status.CLOSED,
                      Report.Status.REFERRED):
        raise ReportingError(_("Choose a status; a duplicate is marked with “Mark as "
                               "duplicate”."))
    if urgency not in Report.Urgency.values or category not in Report.Category.values:
        raise ReportingError(_("Choose an urgency and a category from the lists."))
    with transaction.atomic():
        r = Report.objects.select_for_update().get(pk=report.pk)
        before = {"status": r.status, "urgency": r.urgency, "category": r.category}
        r.status, r.urgency, r.category = status, urgency, category
        r.duplicate_of = None
        r.save(update_fields=["status", "urgency", "category", "duplicate_of"])
        record(request, "reporting.triage", r, before=before,
               after={"status": status, "urgency": urgency, "category": category})
    return r


def _message(request: Any, report: Report, kind: str, text: str) -> Message:
    text = text.strip()
    if not text:
        raise ReportingError(_("The message is empty."))
    if len(text) > MAX_TEXT:
        raise ReportingError(_("The message is longer than %(n)s characters.")
                             % {"n": MAX_TEXT})
    with transaction.atomic():
        msg = Message(report=report, kind=kind, created_at=timezone.now(),
                      author=_user(request))
        msg.body = sealing.seal_text(text, f"message:{msg.uid}")
        msg.save()
        record(request, f"reporting.{kind}", report, message=msg.pk)
        if report.status == Report.Status.NEW:
            Report.objects.filter(pk=report.pk).update(status=Report.Status.TRIAGE)
    return msg


def reply(request: Any, report: Report, text: str) -> Message:
    """A reply the reporter reads when they come back with their receipt code (sealed)."""
    return _message(request, report, Message.Kind.REPLY, text)


def note(request: Any, report: Report, text: str) -> Message:
    """An internal note: staff only (sealed too: notes quote the report)."""
    return _message(request, report, Message.Kind.NOTE, text)


def refer(request: Any, report: Report, *, to: str, organisation: str,
          on: dt.date) -> Referral:
    organisation = organisation.strip()
    if to not in Referral.To.values:
        raise ReportingError(_("Choose whom the report was referred to."))
    if not organisation:
        raise ReportingError(_("Name the organisation the report was referred to."))
    if on > timezone.localdate():
        raise ReportingError(_("The referral date %(d)s is in the future.") % {"d": on})
    with transaction.atomic():
        ref = Referral.objects.create(report=report, to=to, organisation=organisation[:200],
                                      referred_on=on, recorded_by=_user(request))
        Report.objects.filter(pk=report.pk).update(status=Report.Status.REFERRED)
        record(request, "reporting.refer", report, to=to, organisation=organisation[:200],
               on=on.isoformat())
    return ref


def mark_duplicate(request: Any, report: Report, original: Report) -> Report:
    """Mark ``report`` a duplicate of ``original`` (of its original, when that is itself a
    duplicate: chains are never stored)."""
    while original.duplicate_of_id is not None:
        original = original.duplicate_of  # type: ignore[assignment]
    if original.pk == report.pk:
        raise ReportingError(_("A report cannot be a duplicate of itself."))
    with transaction.atomic():
        r = Report.objects.select_for_update().get(pk=report.pk)
        r.status, r.duplicate_of = Report.Status.DUPLICATE, original
        r.save(update_fields=["status", "duplicate_of"])
        # reports that pointed at this one now point at its original
        Report.objects.filter(duplicate_of=r).update(duplicate_of=original)
        record(request, "reporting.duplicate", r, original=original.pk)
    return r
