"""The public pages of the safe reporting channel (``/report/``): no account, no cookie, no
JavaScript needed, nothing from another site. The anonymous-route middleware has removed the
visitor's address and browser before these views run (``tiplab_web.core.anonymous``).

The receipt code travels only in POST bodies — never in a URL, where it would end up in
logs and the browser's history."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tiplab_web.core.anonymous import anonymous_view, rate_limit

from . import attachments, pow, services
from .attachments import MemoryOnlyUploadHandler
from .forms import FollowupForm, ReceiptForm, ReportForm

NEUTRAL = gettext_lazy("No report could be opened with this code. Check each character and "
                       "try again; if it still does not open, you can send a new report.")


def emergency_numbers() -> list[tuple[str, str]]:
    """``TIPLAB_REPORT_EMERGENCY_NUMBERS``: (who, number) pairs shown on the report pages."""
    found = getattr(settings, "TIPLAB_REPORT_EMERGENCY_NUMBERS", None)
    if found:
        return [(str(who), str(number)) for who, number in found]
    return [(_("Emergency services (police, ambulance)"), "112")]


def memory_uploads(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Uploads to these pages stay in memory (never a temporary file in clear on disk).
    Outermost, so it runs before anything reads the request body."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            request.upload_handlers = [MemoryOnlyUploadHandler(request)]
        return view(request, *args, **kwargs)

    return wrapper


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {"lang": getattr(request, "anonymous_lang", ""), "emergency": emergency_numbers(),
            "pow_bits": pow.bits(), **extra}


def _report_form(request: HttpRequest, form: ReportForm | None = None) -> ReportForm:
    if form is None:
        form = ReportForm(initial={"lang": getattr(request, "anonymous_lang", "")})
    if pow.bits():
        form.initial["pow_challenge"] = pow.new_challenge()
        form.data = form.data.copy() if form.is_bound else form.data
        if form.is_bound:
            form.data["pow_challenge"] = pow.new_challenge()
            form.data["pow_counter"] = ""
    return form


#: the blank form page per language and settings: the same bytes for every visitor (no
#: token, no cookie), and rendering its widgets is most of a GET's cost under load
_BLANK_PAGES: dict[tuple[Any, ...], bytes] = {}


def _blank_form(request: HttpRequest) -> HttpResponse:
    if pow.bits():  # a fresh challenge on every page
        return render(request, "report/form.html", _context(request, form=_report_form(request)))
    key = (getattr(request, "anonymous_lang", ""), tuple(emergency_numbers()),
           attachments.max_bytes(), settings.TIPLAB_QUICK_EXIT_URL)
    page = _BLANK_PAGES.get(key)
    if page is None:
        page = render_to_string("report/form.html", _context(
            request, form=_report_form(request)), request=request).encode()
        if len(_BLANK_PAGES) > 32:
            _BLANK_PAGES.clear()
        _BLANK_PAGES[key] = page
    return HttpResponse(page)


@require_http_methods(["GET", "POST"])
def _form(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _blank_form(request)
    rate_limit(request, "anon_submit")
    form = ReportForm(request.POST, request.FILES)
    if form.is_valid():
        cd = form.cleaned_data
        try:
            _report, code = services.submit(services.Submission(
                reporter=cd["reporter"], what=cd["what"], where=cd["where"], when=cd["when"],
                in_danger=cd["in_danger"] == "yes", contact=cd["contact"],
                attachment=cd["attachment"]))
        except services.ReportingError as e:
            form.add_error(None, str(e))
        else:
            return render(request, "report/sent.html", _context(
                request, code=code, danger=cd["in_danger"] in ("yes", "unsure")))
    return render(request, "report/form.html",
                  _context(request, form=_report_form(request, form)), status=400)


def _thread(request: HttpRequest, report: Any, code: str, *, added: bool = False,
            form: FollowupForm | None = None, status: int = 200) -> HttpResponse:
    form = form or FollowupForm(initial={"code": code,
                                         "lang": getattr(request, "anonymous_lang", "")})
    return render(request, "report/thread.html", _context(
        request, view=services.reporter_view(report), form=form, added=added), status=status)


def _refuse(request: HttpRequest, form: ReceiptForm | None = None) -> HttpResponse:
    form = form or ReceiptForm(initial={"lang": getattr(request, "anonymous_lang", "")})
    return render(request, "report/receipt.html",
                  _context(request, form=form, refused=NEUTRAL), status=400)


@require_http_methods(["GET", "POST"])
def _receipt(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "report/receipt.html", _context(request, form=ReceiptForm(
            initial={"lang": getattr(request, "anonymous_lang", "")})))
    rate_limit(request, "anon_receipt")
    if request.POST.get("action") == "add":
        follow = FollowupForm(request.POST, request.FILES)
        report = services.find(request.POST.get("code", ""))
        if report is None:
            return _refuse(request)
        if not follow.is_valid():
            return _thread(request, report, request.POST.get("code", ""), form=follow,
                           status=400)
        try:
            services.add_followup(report, follow.cleaned_data["text"],
                                  follow.cleaned_data["attachment"])
        except services.ReportingError as e:
            follow.add_error("text", str(e))
            return _thread(request, report, follow.cleaned_data["code"], form=follow,
                           status=400)
        return _thread(request, report, follow.cleaned_data["code"], added=True)
    form = ReceiptForm(request.POST)
    if not form.is_valid():
        return _refuse(request, form) if form.has_error("website") else _refuse(request)
    report = services.find(form.cleaned_data["code"])
    if report is None:
        return _refuse(request)
    return _thread(request, report, form.cleaned_data["code"])


form = memory_uploads(anonymous_view(_form))
receipt = memory_uploads(anonymous_view(_receipt))
