"""The staff's side of the reporting channel (``/reporting/``, capability ``reporting.triage``):
the queue, a report (decrypted on the server, every read audited), triage, replies, internal
notes, referrals, duplicates and the conversion into an intake record. Thin: the work is in
``services`` and ``intake``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tiplab_web.core.access import capability_required, get_object_for

from . import intake, services
from .forms import ConvertForm, DuplicateForm, MessageForm, ReferralForm, TriageForm
from .models import Attachment, Report
from .sealing import SealError

CAP = "reporting.triage"


def _errors(request: HttpRequest, form: Any) -> None:
    for field, errs in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for e in errs:
            messages.error(request, f"{label}: {e}" if label else str(e))


def _back(report: Report) -> HttpResponse:
    return redirect("reporting:detail", pk=report.pk)


@require_GET
@capability_required(CAP)
def index(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in Report.Status.values:
        status = ""
    rows = services.queue(request.user, status)[:500]
    return render(request, "reporting/index.html", {
        "rows": rows, "status": status, "statuses": Report.Status.choices})


@require_GET
@capability_required(CAP)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = services.get_report_for(request.user, pk)
    try:
        opened = services.open_report(request, report)
    except SealError as e:
        return render(request, "reporting/sealed_error.html", {"report": report, "error": e},
                      status=503)
    return render(request, "reporting/detail.html", {
        "report": report, **opened,
        "triage": TriageForm(initial={"status": report.status if report.status !=
                                      Report.Status.DUPLICATE else Report.Status.CLOSED,
                                      "urgency": report.urgency,
                                      "category": report.category}),
        "reply_form": MessageForm(auto_id="reply_%s"), "note_form": MessageForm(
            auto_id="note_%s"),
        "referral_form": ReferralForm(), "duplicate_form": DuplicateForm(),
        "convert_form": ConvertForm(),
        "referrals": report.referrals.select_related("recorded_by"),
        "duplicates": report.duplicates.all(),
        "reporter": dict(_REPORTERS).get(opened["body"].get("reporter"), ""),
    })


_REPORTERS = (("victim", gettext_lazy("The person it happened to")),
              ("witness", gettext_lazy("A witness")), ("other", gettext_lazy("Someone else")))


@require_POST
@capability_required(CAP)
def triage(request: HttpRequest, pk: int) -> HttpResponse:
    report = services.get_report_for(request.user, pk)
    form = TriageForm(request.POST)
    if not form.is_valid():
        _errors(request, form)
        return _back(report)
    try:
        services.triage(request, report, **form.cleaned_data)
    except services.ReportingError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("Saved."))
    return _back(report)


def _message(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    report = services.get_report_for(request.user, pk)
    form = MessageForm(request.POST)
    if not form.is_valid():
        _errors(request, form)
        return _back(report)
    try:
        if kind == "reply":
            services.reply(request, report, form.cleaned_data["text"])
            messages.success(request, _("Reply saved. The reporter reads it when they come "
                                        "back with their receipt code."))
        else:
            services.note(request, report, form.cleaned_data["text"])
            messages.success(request, _("Note saved."))
    except services.ReportingError as e:
        messages.error(request, str(e))
    return _back(report)


@require_POST
@capability_required(CAP)
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    return _message(request, pk, "reply")


@require_POST
@capability_required(CAP)
def note(request: HttpRequest, pk: int) -> HttpResponse:
    return _message(request, pk, "note")


@require_POST
@capability_required(CAP)
def refer(request: HttpRequest, pk: int) -> HttpResponse:
    report = services.get_report_for(request.user, pk)
    form = ReferralForm(request.POST)
    if not form.is_valid():
        _errors(request, form)
        return _back(report)
    try:
        services.refer(request, report, **form.cleaned_data)
    except services.ReportingError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("Referral recorded."))
    return _back(report)


@require_POST
@capability_required(CAP)
def duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    report = services.get_report_for(request.user, pk)
    form = DuplicateForm(request.POST)
    if not form.is_valid():
        _errors(request, form)
        return _back(report)
    original = services.reports_for(request.user).filter(pk=form.cleaned_data["original"]) \
        .first()
    if original is None:
        messages.error(request, _("Duplicate of report: there is no report %(ref)s.")
                       % {"ref": request.POST.get("original", "")})
        return _back(report)
    try:
        services.mark_duplicate(request, report, original)
    except services.ReportingError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("Marked as a duplicate of %(ref)s.") % {"ref": original.ref})
    return _back(report)


@require_POST
@capability_required(CAP)
def convert(request: HttpRequest, pk: int) -> HttpResponse:
    report = services.get_report_for(request.user, pk)
    form = ConvertForm(request.POST)
    if not form.is_valid():
        _errors(request, form)
        return _back(report)
    try:
        report = intake.convert(request, report, intake.IntakeFields(**form.cleaned_data))
    except services.ReportingError as e:
        messages.error(request, _("Not converted: %(e)s") % {"e": e})
    else:
        messages.success(request, _("Intake record created in batch %(b)s (source “report”).")
                         % {"b": report.case_batch})
    return _back(report)


@require_GET
@capability_required(CAP)
def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    att = get_object_for(request.user, Attachment.objects.filter(
        report__in=services.reports_for(request.user)), pk=pk)
    try:
        name, ctype, data = services.read_attachment(request, att)
    except SealError as e:
        raise Http404 from e
    response = HttpResponse(data, content_type=ctype)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:100] or "attachment"
    # always a download: a file from an anonymous sender is never rendered in our origin
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
