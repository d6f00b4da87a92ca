"""Pages of qualitative evidence: notes, coding, suggestions, agreement, codebook, themes.

Thin: parse input, call :mod:`.services` / :mod:`.assist` / :mod:`.themes`, map their
:class:`~.services.EvidenceError` to a message on the page.
"""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tiplab.errors import TiplabError
from tiplab_web.core.access import can, capability_required, get_object_for, organisation_of

from . import assist, forms, jobs, services, themes
from .models import ClassifierVersion, Coding, Note, Suggestion


def _note(request: HttpRequest, pk: int) -> Note:
    return services.get_note_for(request.user, pk)


# --- notes ---------------------------------------------------------------------------------------


@require_GET
@capability_required("evidence.view")
def index(request: HttpRequest) -> HttpResponse:
    f = forms.FilterForm(request.GET or None)
    qs = services.notes_for(request.user)
    if f.is_valid():
        d = f.cleaned_data
        qs = services.note_filters(qs, source_type=d.get("source_type") or "",
                                   region=d.get("region") or "", year=d.get("year"),
                                   coded=d.get("coded") or "")
    from django.db.models import Count

    qs = qs.annotate(n_codings=Count("codings", distinct=True),
                     n_pending=Count("suggestions", distinct=True)).select_related(
                         "created_by").order_by("-created_at", "-id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    regions = services.regions()
    return render(request, "evidence/index.html", {
        "filters": f, "page": page, "regions": regions,
        "can_manage": can(request.user, "evidence.manage"),
        "can_code": can(request.user, "evidence.code"),
        "model": assist.model_available()})


def _created(request: HttpRequest, note: Note) -> HttpResponse:
    messages.success(request, _("The note is stored (sealed)."))
    if not note.language_supported:
        messages.warning(request, _(
            "Assisted coding is off for this note: the model reads English only and this note "
            "is in %(l)s. Code it by hand; everything else works.")
            % {"l": note.language or _("a language that could not be detected")})
    return redirect("evidence:note", note.pk)


@require_http_methods(["GET", "POST"])
@capability_required("evidence.manage")
def add(request: HttpRequest) -> HttpResponse:
    form = forms.NoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            note = services.create_note(request, form.cleaned_data["text"], form.note_input())
        except TiplabError as e:
            form.add_error(None, str(e))
        else:
            return _created(request, note)
    return render(request, "evidence/add.html", {"form": form, "upload": False})


@require_http_methods(["GET", "POST"])
@capability_required("evidence.manage")
def upload(request: HttpRequest) -> HttpResponse:
    form = forms.UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        from tiplab.qualitative.extract import extract

        f = form.cleaned_data["file"]
        try:
            if f.size > forms.MAX_UPLOAD:
                from tiplab.qualitative.extract import ExtractError

                raise ExtractError(_("%(f)s is %(n).1f MB; the limit is 10 MB.")
                                   % {"f": f.name, "n": f.size / 1e6})
            got = extract(f.read(), f.name)
            note = services.create_note(request, got.text, form.note_input(
                file_name=f.name, file_kind=got.kind))
        except TiplabError as e:
            form.add_error("file", str(e))
        else:
            for w in got.warnings:
                messages.warning(request, w)
            return _created(request, note)
    return render(request, "evidence/add.html", {"form": form, "upload": True})


def _segments(text: str, unit: Any, codings: list[Coding], labels: dict[str, str]
              ) -> list[dict[str, Any]]:
    """The unit's text cut at every coding boundary, each piece with the codes covering it."""
    cuts = {unit.start, unit.end}
    for c in codings:
        for x in (c.start, c.end):
            if unit.start < x < unit.end:
                cuts.add(x)
    points = sorted(cuts)
    out = []
    for a, b in itertools.pairwise(points):
        on = sorted({c.code for c in codings if c.start < b and c.end > a})
        out.append({"start": a, "end": b, "text": text[a:b], "codes": on,
                    "labels": ", ".join(labels.get(k, k) for k in on)})
    return out


def _body_context(request: HttpRequest, note: Note) -> dict[str, Any]:
    user = request.user
    text, full = services.read_text(request, note, why="note page")
    cb = services.codebook(user)
    labels = services.code_labels(cb)
    codings = list(services.visible_codings(user, note))
    suggestions = list(assist.visible_suggestions(user, note)) if full else []
    rows = []
    if full:
        for u in services.units(text):
            mine = [c for c in codings if services.overlapping(u, c.start, c.end)]
            rows.append({
                "unit": u, "segments": _segments(text, u, mine, labels),
                "codings": [{"c": c, "label": labels.get(c.code, c.code)}
                            for c in codings if u.start <= c.start < u.end],
                "suggestions": [{"s": s, "label": labels.get(s.code, s.code)}
                                for s in suggestions if u.start <= s.start < u.end]})
    else:
        rows = [{"paragraph": p} for p in text.split("\n") if p.strip()]
    summary: dict[str, int] = {}
    for c in codings:
        summary[c.code] = summary.get(c.code, 0) + 1
    may_code = can(user, "evidence.code") and full and note.consent_analysis
    return {"note": note, "full": full, "rows": rows, "codebook": cb,
            "summary": [{"code": k, "label": labels.get(k, k), "n": n}
                        for k, n in sorted(summary.items())],
            "may_code": may_code, "blind": services.blind_for(user, note),
            "pending": sum(1 for s in suggestions if s.status == "pending")}


def _body(request: HttpRequest, note: Note, error: str = "") -> HttpResponse:
    ctx = _body_context(request, note) | {"error": error}
    return render(request, "evidence/_note_body.html", ctx)


@require_GET
@capability_required("evidence.view")
def note(request: HttpRequest, pk: int) -> HttpResponse:
    n = _note(request, pk)
    ctx = _body_context(request, n)
    initial: dict[str, Any] = {}
    unit = request.GET.get("unit")
    if unit is not None and ctx["full"]:
        chosen = [r["unit"] for r in ctx["rows"] if str(r["unit"].index) == unit]
        if chosen:
            initial = {"start": chosen[0].start, "end": chosen[0].end}
    ctx.update({
        "form": forms.CodingForm(initial=initial, codebook=ctx["codebook"]),
        "chosen": initial, "region": services.region_label(n.region),
        "skip": assist.skip_reason(n), "model": assist.model_available(),
        "can_manage": can(request.user, "evidence.manage"),
        "done": request.user.pk in services.finished_coders(n),
        "quotations": n.quotations.all() if n.consent_quote else [],
        "languages": forms.LANGUAGES})
    return render(request, "evidence/note.html", ctx)


def _after(request: HttpRequest, note: Note, error: str = "") -> HttpResponse:
    """htmx: the note's body again; otherwise back to the note page with a message."""
    if request.htmx:  # type: ignore[attr-defined]
        return _body(request, note, error)
    if error:
        messages.error(request, error)
    return redirect(reverse("evidence:note", args=[note.pk]) + "#ev-text")


@require_POST
@capability_required("evidence.manage")
def note_settings(request: HttpRequest, pk: int) -> HttpResponse:
    n = _note(request, pk)
    lang = request.POST.get("language", n.language)
    if lang not in {k for k, _v in forms.LANGUAGES}:
        raise Http404
    try:
        services.update_note(request, n, language=lang or n.language_detected,
                             consent_analysis=request.POST.get("consent_analysis") == "on",
                             consent_quote=request.POST.get("consent_quote") == "on",
                             blind=request.POST.get("blind") == "on")
    except TiplabError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("Saved."))
    return redirect("evidence:note", n.pk)


@require_POST
@capability_required("evidence.code")
def code(request: HttpRequest, pk: int) -> HttpResponse:
    n = _note(request, pk)
    form = forms.CodingForm(request.POST, codebook=services.codebook(request.user))
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return _after(request, n, errors)
    d = form.cleaned_data
    try:
        services.add_coding(request, n, d["start"], d["end"], d["code"], d.get("comment", ""))
    except TiplabError as e:
        return _after(request, n, str(e))
    return _after(request, n)


@require_POST
@capability_required("evidence.code")
def uncode(request: HttpRequest, pk: int) -> HttpResponse:
    c = get_object_for(request.user, Coding.objects.filter(
        note__organisation=organisation_of(request.user)).select_related("note"), pk=pk)
    try:
        services.delete_coding(request, c)
    except TiplabError as e:
        return _after(request, c.note, str(e))
    return _after(request, c.note)


@require_POST
@capability_required("evidence.code")
def decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    s = get_object_for(request.user, Suggestion.objects.filter(
        note__organisation=organisation_of(request.user)).select_related("note"), pk=pk)
    if action not in ("accept", "reject"):
        raise Http404
    try:
        if action == "accept":
            assist.accept(request, s)
        else:
            assist.reject(request, s)
    except TiplabError as e:
        return _after(request, s.note, str(e))
    if request.POST.get("next") == "queue":
        return redirect("evidence:next")
    return _after(request, s.note)


@require_POST
@capability_required("evidence.code")
def finish(request: HttpRequest, pk: int) -> HttpResponse:
    n = _note(request, pk)
    services.finish(request, n)
    messages.success(request, _("Marked as finished by you."))
    return redirect("evidence:note", n.pk)


@require_POST
@capability_required("evidence.code")
def quote(request: HttpRequest, pk: int) -> HttpResponse:
    n = _note(request, pk)
    form = forms.SpanForm(request.POST)
    if not form.is_valid():
        return _after(request, n, _("Select the text to quote first."))
    try:
        q = services.quote(request, n, form.cleaned_data["start"], form.cleaned_data["end"])
    except TiplabError as e:
        return _after(request, n, str(e))
    messages.success(request, _("Quotation %(q)s saved (redacted).") % {"q": q.identifier})
    if request.htmx:  # type: ignore[attr-defined]
        resp = HttpResponse(status=204)
        resp["HX-Redirect"] = reverse("evidence:note", args=[n.pk])
        return resp
    return redirect("evidence:note", n.pk)


# --- suggestions ---------------------------------------------------------------------------------


@require_POST
@capability_required("evidence.code")
def suggest(request: HttpRequest, pk: int) -> HttpResponse:
    n = _note(request, pk)
    why = assist.skip_reason(n)
    if why:
        messages.error(request, _("No suggestions for this note: %(why)s.") % {"why": why})
        return redirect("evidence:note", n.pk)
    job = jobs.submit_suggest(request, [n.pk])
    if job.status == "succeeded":
        messages.success(request, _("%(n)d suggestions.") % {
            "n": (job.result or {}).get("suggestions", 0)})
        return redirect("evidence:note", n.pk)
    return redirect("jobs:detail", job.pk)


@require_POST
@capability_required("evidence.code")
def suggest_all(request: HttpRequest) -> HttpResponse:
    job = jobs.submit_suggest(request, None)
    if job.status == "succeeded":
        messages.success(request, _("%(n)d suggestions for %(k)d notes.") % {
            "n": (job.result or {}).get("suggestions", 0),
            "k": (job.result or {}).get("notes", 0)})
        return redirect("evidence:next")
    return redirect("jobs:detail", job.pk)


@require_GET
@capability_required("evidence.code")
def ask_next(request: HttpRequest) -> HttpResponse:
    items = assist.ask_next(request.user)
    labels = services.code_labels(services.codebook(request.user))
    rows = []
    texts: dict[int, str] = {}
    for s in items:
        if s.note_id not in texts:
            texts[s.note_id] = services.read_text(request, s.note, why="ask me next")[0]
        rows.append({"s": s, "label": labels.get(s.code, s.code),
                     "excerpt": texts[s.note_id][s.start:s.end]})
    return render(request, "evidence/next.html", {"rows": rows,
                                                  "model": assist.model_available()})


# --- agreement, codebook, training ---------------------------------------------------------------


@require_GET
@capability_required("evidence.view")
def agreement(request: HttpRequest) -> HttpResponse:
    data, rows = services.agreement(organisation_of(request.user))
    labels = services.code_labels(services.codebook(request.user))
    return render(request, "evidence/agreement.html", {
        "data": data, "rows": [{"r": r, "label": labels.get(r.code, r.code)} for r in rows]})


@require_GET
@capability_required("evidence.view")
def codebook(request: HttpRequest) -> HttpResponse:
    org = organisation_of(request.user)
    cv = services.codebook_version(org)
    cb = services.codebook_of(cv)
    clf = assist.latest_classifier(org, cv)
    live = assist.model_agreement(org)
    held = (clf.agreement.get("per_code", {}) if clf else {})
    positives = assist.human_positives(org)
    groups = [{"group": g, "codes": [{"c": c, "positives": positives.get(c.key, 0),
                                      "live": live.get(c.key), "held": held.get(c.key)}
                                     for c in codes]}
              for g, codes in cb.groups().items()]
    return render(request, "evidence/codebook.html", {
        "cv": cv, "groups": groups, "classifier": clf, "model": assist.model_available(),
        "versions": cv.__class__.objects.filter(organisation=org)[:10],
        "classifiers": ClassifierVersion.objects.filter(organisation=org)[:5],
        "can_manage": can(request.user, "evidence.manage")})


@require_http_methods(["GET", "POST"])
@capability_required("evidence.manage")
def codebook_edit(request: HttpRequest) -> HttpResponse:
    cv = services.codebook_version(organisation_of(request.user))
    form = forms.CodeEditForm(request.POST or None, initial={"mode": request.GET.get("mode"),
                                                             "key": request.GET.get("key")})
    if request.method == "POST" and form.is_valid():
        from django.core.exceptions import ValidationError

        try:
            new = services.save_codebook(request, form.new_data(cv.data),
                                         form.cleaned_data["change"])
        except (TiplabError, ValidationError) as e:
            form.add_error(None, e.messages if isinstance(e, ValidationError) else str(e))
        else:
            messages.success(request, _("Codebook version %(n)d saved.") % {"n": new.number})
            return redirect("evidence:codebook")
    return render(request, "evidence/codebook_edit.html", {"form": form, "cv": cv})


@require_POST
@capability_required("evidence.manage")
def train(request: HttpRequest) -> HttpResponse:
    if not assist.model_available():
        messages.error(request, _("The embedded model is not installed: no classifier can be "
                                  "trained. Suggestions use the codebook's cue phrases."))
        return redirect("evidence:codebook")
    job = jobs.submit_train(request)
    if job.status == "succeeded":
        messages.success(request, _("Classifier version %(n)s trained.") % {
            "n": (job.result or {}).get("classifier")})
        return redirect("evidence:codebook")
    if job.status == "failed":
        messages.error(request, job.error)
        return redirect("evidence:codebook")
    return redirect("jobs:detail", job.pk)


# --- themes beside numbers -----------------------------------------------------------------------


@require_GET
@capability_required("evidence.view")
def themes_page(request: HttpRequest) -> HttpResponse:
    by = request.GET.get("by") or "region"
    if by not in themes.BREAKDOWNS:
        by = "region"
    table = themes.theme_counts(request.user, by)
    victims = themes.victim_counts(request.user, by)
    quotations = list(services.quotations_for(request.user)[:50])
    if request.GET.get("format") == "json":
        return JsonResponse({"themes": table.as_dict(), "victims": victims,
                             "quotations": [services.quotation_dict(q) for q in quotations]})
    return render(request, "evidence/themes.html", {
        "table": table, "by": by, "breakdowns": themes.BREAKDOWNS, "victims": victims,
        "quotations": [{"q": q, "ref": services.quotation_reference(q)} for q in quotations]})


@require_GET
@capability_required("evidence.view")
def quotation(request: HttpRequest, identifier: str) -> HttpResponse:
    try:
        q = services.find_quotation(request.user, identifier)
    except TiplabError:
        raise Http404 from None
    return JsonResponse(services.quotation_dict(q))
