"""Legal-framework assessment pages: the list, the item-by-item editor (htmx), review and
re-assessment, gaps, exports, the harmonisation matrix and the instruments. Thin: the work is
in ``services`` and ``tiplab.policy.legal``."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tiplab.policy import legal
from tiplab_web.core.access import can, capability_required, get_object_for, organisation_of
from tiplab_web.core.exports import download

from . import services
from .forms import AnswerForm, NewAssessmentForm, UploadForm
from .models import LegalAssessment


def assessments_for(user: Any) -> QuerySet[LegalAssessment]:
    org = organisation_of(user)
    if org is None:
        return LegalAssessment.objects.none()
    return LegalAssessment.objects.filter(organisation=org)


def _get(request: HttpRequest, pk: int) -> LegalAssessment:
    return get_object_for(request.user, assessments_for(request.user)
                          .select_related("assessor", "reviewer", "previous"), pk=pk)


def _form_errors(form: Any) -> str:
    return " ".join(str(e) for errs in form.errors.values() for e in errs)


def _message(e: Exception) -> str:
    return " ".join(e.messages) if isinstance(e, ValidationError) else str(e)


def _summary(a: LegalAssessment, inst: legal.Instrument) -> dict[str, Any]:
    core = services.as_core(a)
    scores = legal.score(inst, core)
    return {"a": a, "inst": inst, "scores": scores, "name": legal.country_name(a.country),
            "section_scores": [(s, scores.by_section[s.id]) for s in inst.sections]}


@require_GET
@capability_required("assessment.view")
def index(request: HttpRequest) -> HttpResponse:
    org = organisation_of(request.user)
    known = services.instruments_for(org)
    rows = []
    for a in assessments_for(request.user).select_related("assessor", "reviewer") \
            .prefetch_related("answers"):
        try:
            rows.append(_summary(a, services.instrument_of(a)))
        except services.AssessmentError:
            continue
    instruments = sorted({r["a"].instrument for r in rows})
    return render(request, "assessment/index.html", {
        "rows": rows, "form": NewAssessmentForm(instruments=known),
        "upload": UploadForm(), "can_edit": can(request.user, "assessment.edit"),
        "harmonise_with": [(i, known[i].short_title) for i in instruments if i in known]})


@require_POST
@capability_required("assessment.edit")
def new(request: HttpRequest) -> HttpResponse:
    org = organisation_of(request.user)
    known = services.instruments_for(org)
    form = NewAssessmentForm(request.POST, instruments=known)
    if form.is_valid():
        try:
            a = services.create(request, org, **form.cleaned_data)
        except services.AssessmentError as e:
            form.add_error(None, str(e))
        else:
            if a.previous_id:
                messages.success(request, _("Re-assessment started from the answers of %(d)s.")
                                 % {"d": a.previous.date if a.previous else ""})
            return redirect("assessment:detail", pk=a.pk)
    return render(request, "assessment/index.html", {
        "rows": [], "form": form, "upload": UploadForm(), "can_edit": True,
        "harmonise_with": []}, status=400)


@require_POST
@capability_required("assessment.edit")
def import_file(request: HttpRequest) -> HttpResponse:
    """An assessment file (YAML, as ``tiplab assess legal export`` writes it)."""
    form = UploadForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise services.AssessmentError(_form_errors(form))
        name = form.cleaned_data["file"].name
        a = services.import_yaml(request, organisation_of(request.user), form.text(), name)
    except (services.AssessmentError, ValidationError) as e:
        messages.error(request, _message(e))
        return redirect("assessment:index")
    messages.success(request, _("Imported the assessment of %(c)s.") % {"c": a.country})
    return redirect("assessment:detail", pk=a.pk)


def _item_rows(a: LegalAssessment, inst: legal.Instrument) -> list[dict[str, Any]]:
    answers = {x.item: x for x in a.answers.all()}
    before = ({x.item: x.answer for x in a.previous.answers.all()} if a.previous else {})
    out = []
    for section in inst.sections:
        for item in section.items:
            row = answers.get(item.id)
            out.append({"item": item, "section": section, "row": row,
                        "answer": row.answer if row else "unknown",
                        "before": before.get(item.id) if a.previous else None})
    return out


@require_GET
@capability_required("assessment.view")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    a = _get(request, pk)
    inst = services.instrument_of(a)
    core = services.as_core(a)
    changed = (legal.changes(inst, services.as_core(a.previous), core)
               if a.previous is not None else [])
    section = request.GET.get("section", "")
    rows = _item_rows(a, inst)
    if section:
        rows = [r for r in rows if r["section"].id == section]
    return render(request, "assessment/detail.html", {
        **_summary(a, inst), "rows": rows, "section": section,
        "sections": inst.sections, "gaps": legal.gaps(inst, core), "changes": changed,
        "can_edit": a.editable and can(request.user, "assessment.edit"),
        "can_review": (a.editable and can(request.user, "assessment.review")
                       and a.assessor_id != request.user.pk),
        "can_reassess": not a.editable and can(request.user, "assessment.edit"),
        "answer_labels": legal.ANSWER_LABELS, "upload": UploadForm(),
        "history": assessments_for(request.user).filter(
            country=a.country, instrument=a.instrument).order_by("-date")})


@require_POST
@capability_required("assessment.edit")
def answer(request: HttpRequest, pk: int, item: str) -> HttpResponse:
    """Save one item (htmx: the row and the scores come back; otherwise back to the page)."""
    a = _get(request, pk)
    inst = services.instrument_of(a)
    try:
        found = inst.item(item)
    except KeyError:
        return HttpResponse(_("Unknown item."), status=404)
    form = AnswerForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.save_answer(request, a, item, form.cleaned_data)
        except services.AssessmentError as e:
            error = str(e)
    else:
        error = "; ".join(f"{form.fields[k].label}: {' '.join(v)}" if k in form.fields
                          else " ".join(v) for k, v in form.errors.items())
    if not request.htmx:
        if error:
            messages.error(request, f"{found.label}: {error}")
        return redirect(f"{request.path.rsplit('/items/', 1)[0]}/#item-{item}")
    row = next(r for r in _item_rows(a, inst) if r["item"].id == item)
    return render(request, "assessment/_item_saved.html", {
        **_summary(a, inst), **row, "error": error, "can_edit": True,
        "answer_labels": legal.ANSWER_LABELS}, status=400 if error else 200)


@require_POST
@capability_required("assessment.review")
def review(request: HttpRequest, pk: int) -> HttpResponse:
    a = _get(request, pk)
    try:
        services.review(request, a, request.POST.get("note", "")[:2000])
    except services.AssessmentError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("Reviewed. The assessment is now read-only; re-assess to "
                                    "change it."))
    return redirect("assessment:detail", pk=a.pk)


@require_POST
@capability_required("assessment.edit")
def reassess(request: HttpRequest, pk: int) -> HttpResponse:
    a = _get(request, pk)
    try:
        date = dt.date.fromisoformat(request.POST.get("date") or dt.date.today().isoformat())
        new_one = services.create(request, a.organisation, country=a.country,
                                  instrument=a.instrument, date=date)
    except (ValueError, services.AssessmentError) as e:
        messages.error(request, str(e))
        return redirect("assessment:detail", pk=a.pk)
    messages.success(request, _("Re-assessment started from these answers; what changes "
                                "will show against them."))
    return redirect("assessment:detail", pk=new_one.pk)


@require_POST
@capability_required("assessment.edit")
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Answers from a filled-in CSV template: all of them, or none if any row is wrong."""
    a = _get(request, pk)
    form = UploadForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise services.AssessmentError(_form_errors(form))
        n = services.import_answers_csv(request, a, form.text())
    except (services.AssessmentError, ValidationError) as e:
        messages.error(request, _message(e))
    else:
        messages.success(request, _("%(n)s answers imported.") % {"n": n})
    return redirect("assessment:detail", pk=a.pk)


@require_GET
@capability_required("assessment.view")
def export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    a = _get(request, pk)
    inst = services.instrument_of(a)
    core = services.as_core(a)
    stem = f"legal-{a.country}-{a.instrument}-{a.date}"
    if fmt == "csv":
        return download(request, legal.answers_to_csv(inst, core), filename=f"{stem}.csv",
                        action="assessment.export", obj=a)
    if fmt == "yaml":
        return download(request, core.to_yaml(), filename=f"{stem}.yaml",
                        action="assessment.export", obj=a,
                        content_type="application/yaml; charset=utf-8")
    return HttpResponse(status=404)


@require_GET
@capability_required("assessment.view")
def gaps_csv(request: HttpRequest, pk: int) -> HttpResponse:
    a = _get(request, pk)
    found = legal.gaps(services.instrument_of(a), services.as_core(a))
    buf = io.StringIO()
    fields = ["instrument", "country", "item", "label", "section", "level", "answer", "article",
              "why", "action", "statute", "comment"]
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for g in found:
        w.writerow(g.to_dict())
    return download(request, buf.getvalue(),
                    filename=f"legal-gaps-{a.country}-{a.instrument}-{a.date}.csv",
                    action="assessment.export_gaps", obj=a)


@require_GET
@capability_required("assessment.view")
def harmonise(request: HttpRequest) -> HttpResponse:
    org = organisation_of(request.user)
    known = services.instruments_for(org)
    instrument = request.GET.get("instrument", "palermo")
    if instrument not in known:
        instrument = "palermo"
    h = services.harmonise(org, instrument)
    inst = known[instrument]
    ctx: dict[str, Any] = {"inst": inst, "h": h, "instruments": known,
                           "instrument": instrument, "answer_labels": legal.ANSWER_LABELS}
    if h is not None:
        illustrative = set(assessments_for(request.user).filter(
            instrument=instrument, illustrative=True).values_list("country", flat=True))
        ctx.update(
            names={c: legal.country_name(c) for c in h.countries},
            illustrative=illustrative,
            matrix=[{"item": i, "section": i.section, "cells": [h.matrix[i.id][c]
                                                                 for c in h.countries],
                     "divergent": i.id in h.divergent} for i in inst.items],
            only_divergent=request.GET.get("only") == "divergent",
            pairs=sorted(h.pair_loopholes().items()))
    return render(request, "assessment/harmonise.html", ctx)


@require_GET
@capability_required("assessment.view")
def harmonise_export(request: HttpRequest) -> HttpResponse:
    org = organisation_of(request.user)
    instrument = request.GET.get("instrument", "palermo")
    h = services.harmonise(org, instrument) if instrument in services.instruments_for(org) \
        else None
    if h is None:
        return HttpResponse(_("Fewer than two countries are assessed against this "
                              "instrument."), status=404, content_type="text/plain")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["item", "divergent", *h.countries])
    for item, row in h.matrix.items():
        w.writerow([item, item in h.divergent, *(row[c] for c in h.countries)])
    return download(request, buf.getvalue(), filename=f"legal-harmonisation-{instrument}.csv",
                    action="assessment.export_harmonisation", instrument=instrument)


@capability_required("assessment.view")
def instruments(request: HttpRequest) -> HttpResponse:
    org = organisation_of(request.user)
    form = UploadForm()
    if request.method == "POST":
        if not can(request.user, "assessment.edit"):
            return HttpResponse(status=403)
        form = UploadForm(request.POST, request.FILES)
        try:
            if not form.is_valid():
                raise services.AssessmentError(_form_errors(form))
            row = services.add_instrument(request, org, form.text(),
                                          form.cleaned_data["file"].name)
        except (services.AssessmentError, ValidationError) as e:
            messages.error(request, _message(e))
        else:
            messages.success(request, _("Instrument %(k)s added.") % {"k": str(row)})
            return redirect("assessment:instruments")
    elif request.method != "GET":
        return HttpResponse(status=405)
    known = services.instruments_for(org)
    return render(request, "assessment/instruments.html", {
        "instruments": [{"i": i, "levels": {lv: sum(1 for x in i.items if x.level == lv)
                                             for lv in legal.LEVELS}}
                        for i in known.values()],
        "form": form, "can_edit": can(request.user, "assessment.edit")})
