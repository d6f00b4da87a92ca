"""Survivors' voice: the pages behind a one-time code (``/voice/``). No account, no cookie, no
JavaScript needed, no address or browser kept (``tiplab_web.core.anonymous``); the code travels
in the form, never in an address. Three steps:

1. **code** — type the code (or a receipt kept from an earlier answer);
2. **consent** — what will happen to the answer, in plain words; agree or leave;
3. **answer** — the questionnaire, or a comment on the plan (on a part of it, if chosen);
   then a receipt to come back once: see whether the input was published and what the
   drafting team answered, and add to it.

Between steps the state is a signed, time-limited token in a hidden field (which code, which
step); a code is spent only when an answer is stored.
"""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tiplab.policy import questionnaires as qs
from tiplab_web.core.anonymous import anonymous_view, rate_limit

from . import services
from .labels import OUTCOME_LABELS
from .models import VoiceCode

TOKEN_SALT = "tiplab.voice"  # noqa: S105 - a signing namespace, not a secret
TOKEN_SECONDS = 2 * 3600


def _token(code: VoiceCode, step: str) -> str:
    return signing.dumps({"c": code.pk, "s": step}, salt=TOKEN_SALT, compress=True)


def _from_token(raw: str, step: str) -> VoiceCode | None:
    try:
        data = signing.loads(raw or "", salt=TOKEN_SALT, max_age=TOKEN_SECONDS)
    except signing.BadSignature:
        return None
    if data.get("s") != step:
        return None
    vc = VoiceCode.objects.select_related("consultation", "answer").filter(pk=data.get("c")
                                                                         ).first()
    if vc is None or vc.state != "unused":
        return None
    if vc.consultation is not None and vc.consultation.state == "closed":
        return None
    return vc


def _lang(request: HttpRequest) -> str:
    return str(getattr(request, "anonymous_lang", "en"))


def _what(vc: VoiceCode, lang: str) -> dict[str, Any]:
    """What the code is for, for the pages."""
    answer = vc.answer if vc.purpose == VoiceCode.Purpose.RECEIPT else None
    consultation = vc.consultation or (answer.consultation if answer else None)
    key = vc.questionnaire or (answer.questionnaire if answer else "")
    q = qs.get(key) if key else None
    return {"consultation": consultation, "q": q,
            "q_title": q.t("title", lang) if q else "",
            "q_intro": q.t("intro", lang) if q else "", "receipt": answer is not None,
            "earlier": answer}


def _start_page(request: HttpRequest, error: str = "", status: int = 200) -> HttpResponse:
    return render(request, "consultations/voice/start.html",
                  {"error": error, "lang": _lang(request)}, status=status)


NEUTRAL = "neutral"


@require_http_methods(["GET", "POST"])
@anonymous_view
def start(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _start_page(request)
    rate_limit(request, "anon_receipt")
    vc = services.redeem(request.POST.get("code", ""))
    if vc is None:
        return _start_page(request, NEUTRAL, status=200)
    ctx = _what(vc, _lang(request))
    status: dict[str, Any] | None = None
    if ctx["receipt"]:
        earlier = ctx["earlier"]
        resp = getattr(earlier.contribution, "response", None) if earlier.contribution else None
        status = {"state": earlier.status,
                  "outcome": OUTCOME_LABELS.get(resp.outcome, "") if resp else "",
                  "reason": resp.reason if resp else ""}
    return render(request, "consultations/voice/consent.html", {
        **ctx, "token": _token(vc, "consent"), "lang": _lang(request), "status": status})


@require_POST
@anonymous_view
def consent(request: HttpRequest) -> HttpResponse:
    vc = _from_token(request.POST.get("t", ""), "consent")
    if vc is None:
        return _start_page(request, "expired")
    if request.POST.get("agree") != "yes":
        return render(request, "consultations/voice/left.html", {"lang": _lang(request)})
    return _answer_page(request, vc)


def _answer_page(request: HttpRequest, vc: VoiceCode, error: list[str] | None = None,
                 values: dict[str, Any] | None = None) -> HttpResponse:
    ctx = _what(vc, _lang(request))
    lang = _lang(request)
    questions = []
    if ctx["q"] is not None:
        for question in ctx["q"].questions:
            questions.append({
                "q": question, "label": question.label(lang), "name": f"q_{question.id}",
                "options": [(o.id, o.text.get(lang) or o.text["en"]) for o in question.options],
                "range": list(range(question.min, question.max + 1))})
    parts = []
    if ctx["consultation"] is not None and not ctx["receipt"]:
        parts = [(u.key, u.title) for u in services.units(ctx["consultation"])]
    return render(request, "consultations/voice/answer.html", {
        **ctx, "token": _token(vc, "answer"), "lang": lang, "questions": questions,
        "parts": parts, "errors": error or [], "values": values or {}},
        status=400 if error else 200)


@require_POST
@anonymous_view
def send(request: HttpRequest) -> HttpResponse:
    rate_limit(request, "anon_submit")
    vc = _from_token(request.POST.get("t", ""), "answer")
    if vc is None:
        return _start_page(request, "expired")
    ctx = _what(vc, _lang(request))
    answers: dict[str, Any] = {}
    try:
        if ctx["q"] is not None:
            answers = qs.read_answers(ctx["q"], request.POST)
        done = services.submit(vc, text=request.POST.get("text", ""), answers=answers,
                               unit_key=request.POST.get("part", ""), consent=True)
    except qs.QuestionnaireError:
        return _answer_page(request, vc, [_("One of the answers could not be read. Please "
                                            "check your choices.")], request.POST.dict())
    except ValidationError as e:
        return _answer_page(request, vc, list(e.messages), request.POST.dict())
    return render(request, "consultations/voice/thanks.html",
                  {"receipt": done.receipt, "lang": _lang(request)})
