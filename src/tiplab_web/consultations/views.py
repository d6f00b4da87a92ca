"""Consultation pages: the list, a consultation's overview (parts of the plan with their
contributions by stakeholder group), one part with its threads and forms, every contribution
with filters (what is left to answer), moderation and answers, participation statistics, the
"you said, we did" report, one-time codes and the review of anonymous input. Thin: the work is
in ``services`` and ``tiplab.policy.consultation``."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tiplab.policy import consultation as core
from tiplab.policy import questionnaires as qs
from tiplab_web.audit.services import record
from tiplab_web.core.access import can, capability_required, get_object_for, organisation_of
from tiplab_web.plans.models import Plan

from . import codes as code_sheets
from . import services
from .forms import (
    ConsultationForm,
    ContributionForm,
    HideForm,
    InviteForm,
    IssueCodesForm,
    ReplyForm,
    RespondForm,
    ReviewForm,
)
from .labels import GROUP_LABELS, KIND_LABELS, OUTCOME_LABELS, STATE_LABELS
from .models import Consultation, Contribution, VoiceAnswer

PAGE_SIZE = 50


def _get(request: HttpRequest, pk: int) -> Consultation:
    return get_object_for(request.user, services.visible_to(request.user).select_related(
        "plan", "revision", "organisation"), pk=pk)


def _managed(request: HttpRequest, pk: int) -> Consultation:
    c = _get(request, pk)
    if not services.manages(request.user, c):
        raise Http404
    return c


def _contribution(c: Consultation, cid: int) -> Contribution:
    try:
        return c.contributions.get(pk=cid)
    except Contribution.DoesNotExist:
        raise Http404 from None


def _fail(request: HttpRequest, e: Exception) -> None:
    messages.error(request, " ".join(e.messages) if isinstance(e, ValidationError) else str(e))


def _back(c: Consultation, unit_key: str = "", anchor: str = "") -> HttpResponse:
    url = (reverse("consultations:unit", args=[c.pk, unit_key]) if unit_key
           else reverse("consultations:detail", args=[c.pk]))
    return redirect(url + (f"#{anchor}" if anchor else ""))


def _own_plans(user: Any) -> list[Plan]:
    org = organisation_of(user)
    return list(Plan.objects.filter(organisation=org)) if org is not None else []


@require_GET
@capability_required("consultations.view")
def index(request: HttpRequest) -> HttpResponse:
    rows = []
    for c in services.visible_to(request.user).select_related("plan", "revision"):
        rows.append({"c": c, "state": STATE_LABELS[c.state],
                     "n": services.published(c).count(),
                     "invited": services.group_of(request.user, c) is not None})
    return render(request, "consultations/index.html", {
        "rows": rows, "plans": _own_plans(request.user) if can(
            request.user, "consultations.manage") else [],
        "can_codes": can(request.user, "voice.issue_codes"),
        "can_review": can(request.user, "voice.review"),
    })


@require_http_methods(["GET", "POST"])
@capability_required("consultations.manage")
def new(request: HttpRequest, plan_pk: int) -> HttpResponse:
    plan = get_object_for(request.user, Plan.objects.filter(
        organisation=organisation_of(request.user)), pk=plan_pk)
    rev = plan.revisions.order_by("-number").first()
    if rev is None:
        raise Http404
    unit_list = list(services._units_of(rev.pk))
    form = ConsultationForm(request.POST or None, units=unit_list, own=plan.organisation)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            c = services.create(
                request, plan, title=d["title"], description=d["description"],
                opens_on=d["opens_on"], closes_on=d["closes_on"], scope=d["scope"],
                invitations=[(o, "") for o in d["invited"]], revision=rev)
        except ValidationError as e:
            _fail(request, e)
        else:
            messages.success(request, _("Consultation created."))
            return redirect("consultations:detail", c.pk)
    return render(request, "consultations/new.html", {"plan": plan, "rev": rev, "form": form})


def _overview_rows(c: Consultation) -> list[dict[str, Any]]:
    counts = services.unit_counts(c)
    by_group: dict[str, dict[str, int]] = defaultdict(dict)
    for row in (services.published(c).values("unit", "group").order_by()
                .annotate(n=Count("id"))):
        by_group[row["unit"]][row["group"]] = row["n"]
    rows = []
    for u in services.units(c):
        cnt = counts.get(u.key, {})
        rows.append({"unit": u, "n": cnt.get("n", 0), "amendments": cnt.get("amendments", 0),
                     "unanswered": cnt.get("unanswered", 0),
                     "survivor": cnt.get("survivor", 0),
                     "groups": [(GROUP_LABELS.get(g, g), n)
                                for g, n in sorted(by_group[u.key].items())]})
    return rows


@require_GET
@capability_required("consultations.view")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    c = _get(request, pk)
    manage = services.manages(request.user, c)
    return render(request, "consultations/detail.html", {
        "c": c, "state": STATE_LABELS[c.state], "rows": _overview_rows(c), "manage": manage,
        "group": services.group_of(request.user, c),
        "may_contribute": services.may_contribute(request.user, c),
        "invitations": [(i.organisation.name, GROUP_LABELS.get(i.group, i.group))
                        for i in c.invitations.select_related("organisation")],
        "invite_form": InviteForm() if manage else None,
        "pending": (VoiceAnswer.objects.filter(consultation=c, status="pending").count()
                    if can(request.user, "voice.review") else 0),
    })


def _threads(c: Consultation, unit_key: str, show_hidden: bool) -> list[dict[str, Any]]:
    items = list(c.contributions.filter(unit=unit_key).select_related(
        "organisation", "response", "response__revision").order_by("created_at", "id"))
    children: dict[int, list[Contribution]] = defaultdict(list)
    roots = []
    for x in items:
        if x.hidden and not show_hidden:
            continue
        (children[x.parent_id] if x.parent_id else roots).append(x)

    def node(x: Contribution) -> dict[str, Any]:
        return {"x": x, "group": GROUP_LABELS.get(x.group, x.group),
                "kind": KIND_LABELS.get(x.kind, x.kind),
                "response": getattr(x, "response", None),
                "outcome": OUTCOME_LABELS.get(getattr(getattr(x, "response", None),
                                                      "outcome", ""), ""),
                "replies": [node(r) for r in children.get(x.pk, [])]}

    return [node(x) for x in roots]


@require_GET
@capability_required("consultations.view")
def unit(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    c = _get(request, pk)
    u = services.unit(c, key)
    if u is None:
        raise Http404
    manage = services.manages(request.user, c)
    threads = _threads(c, key, show_hidden=manage)
    for t in _walk(threads):
        x = t["x"]
        if x.suggested_text:
            t["diff"] = core.diff_html(u.text, x.suggested_text)
    return render(request, "consultations/unit.html", {
        "c": c, "u": u, "threads": threads, "manage": manage,
        "may_contribute": services.may_contribute(request.user, c),
        "form": ContributionForm(initial={"suggested_text": u.text}),
        "reply_form": ReplyForm(), "hide_form": HideForm(), "respond_form": RespondForm(),
        "revisions": list(c.plan.revisions.filter(number__gt=c.revision.number)
                          .order_by("number").values_list("number", "version")),
    })


def _walk(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for n in nodes:
        out.append(n)
        out.extend(_walk(n["replies"]))
    return out


@require_POST
@capability_required("consultations.comment")
def contribute(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    c = _get(request, pk)
    parent_id = request.POST.get("parent")
    if parent_id:
        form: Any = ReplyForm(request.POST)
        kind = "reply"
    else:
        form = ContributionForm(request.POST)
        kind = request.POST.get("kind", "comment")
    if not form.is_valid():
        messages.error(request, " ".join(" ".join(v) for v in form.errors.values()))
        return _back(c, key)
    try:
        parent = _contribution(c, int(parent_id)) if parent_id else None
        x = services.contribute(request, c, key, kind, form.cleaned_data["body"],
                                suggested_text=form.cleaned_data.get("suggested_text", ""),
                                parent=parent)
    except (ValidationError, ValueError) as e:
        _fail(request, e)
        return _back(c, key)
    messages.success(request, _("Thank you: your contribution is published."))
    return _back(c, key, f"c{x.pk}")


@require_POST
@capability_required("consultations.comment")
def react(request: HttpRequest, pk: int, cid: int) -> HttpResponse:
    c = _get(request, pk)
    x = _contribution(c, cid)
    try:
        services.react(request, x, request.POST.get("stance", ""))
    except ValidationError as e:
        _fail(request, e)
    return _back(c, x.unit, f"c{x.pk}")


@require_POST
@capability_required("consultations.manage")
def hide(request: HttpRequest, pk: int, cid: int) -> HttpResponse:
    c = _managed(request, pk)
    x = _contribution(c, cid)
    try:
        if request.POST.get("undo"):
            services.unhide(request, x)
        else:
            services.hide(request, x, request.POST.get("reason", ""))
    except ValidationError as e:
        _fail(request, e)
    return _back(c, x.unit, f"c{x.pk}")


@require_POST
@capability_required("consultations.manage")
def respond(request: HttpRequest, pk: int, cid: int) -> HttpResponse:
    c = _managed(request, pk)
    x = _contribution(c, cid)
    form = RespondForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(" ".join(v) for v in form.errors.values()))
    else:
        try:
            services.respond(request, x, form.cleaned_data["outcome"],
                             form.cleaned_data["reason"], form.cleaned_data["revision"])
            messages.success(request, _("Answer saved."))
        except ValidationError as e:
            _fail(request, e)
    nxt = request.POST.get("next", "")
    if nxt == "list":
        return redirect(reverse("consultations:contributions", args=[c.pk])
                        + "?" + request.POST.get("query", ""))
    return _back(c, x.unit, f"c{x.pk}")


@require_GET
@capability_required("consultations.view")
def contributions(request: HttpRequest, pk: int) -> HttpResponse:
    """Every published contribution, filtered: the drafting team's work list."""
    c = _get(request, pk)
    manage = services.manages(request.user, c)
    qs_ = (c.contributions.select_related("organisation", "response")
           .order_by("created_at", "id"))
    if not manage:
        qs_ = qs_.filter(hidden=False)
    group = request.GET.get("group", "")
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    if group in GROUP_LABELS:
        qs_ = qs_.filter(group=group)
    if kind in KIND_LABELS:
        qs_ = qs_.filter(kind=kind)
    if state == "unanswered":
        qs_ = qs_.filter(response__isnull=True).exclude(kind="reply")
    elif state in OUTCOME_LABELS:
        qs_ = qs_.filter(response__outcome=state)
    elif state == "hidden" and manage:
        qs_ = qs_.filter(hidden=True)
    page = Paginator(qs_, PAGE_SIZE).get_page(request.GET.get("page"))
    titles = {u.key: u.title for u in services.units(c)}
    rows = [{"x": x, "unit": titles.get(x.unit, x.unit),
             "group": GROUP_LABELS.get(x.group, x.group), "kind": KIND_LABELS.get(x.kind, x.kind),
             "outcome": OUTCOME_LABELS.get(getattr(getattr(x, "response", None), "outcome", ""),
                                           "")} for x in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "consultations/contributions.html", {
        "c": c, "rows": rows, "page": page, "manage": manage, "group": group, "state": state,
        "kind": kind, "query": query.urlencode(), "group_labels": GROUP_LABELS,
        "outcome_labels": OUTCOME_LABELS, "kind_labels": KIND_LABELS,
        "respond_form": RespondForm(),
    })


@require_POST
@capability_required("consultations.manage")
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    c = _managed(request, pk)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            services.invite(request, c, form.cleaned_data["organisation"],
                            form.cleaned_data["group"])
            messages.success(request, _("Invited."))
        except ValidationError as e:
            _fail(request, e)
    else:
        messages.error(request, _("Choose an organisation."))
    return _back(c)


@require_POST
@capability_required("consultations.manage")
def close(request: HttpRequest, pk: int) -> HttpResponse:
    c = _managed(request, pk)
    services.close(request, c)
    messages.success(request, _("The consultation is closed; contributions are no longer "
                                "accepted. Answer the remaining ones and publish the report."))
    return _back(c)


@require_GET
@capability_required("consultations.view")
def participation(request: HttpRequest, pk: int) -> HttpResponse:
    c = _get(request, pk)
    part = services.participation(c)
    unit_list = services.units(c)
    groups = [g.group for g in part.groups]
    matrix = [{"unit": u, "cells": [part.by_unit.get(u.key, {}).get(g, 0) for g in groups]}
              for u in unit_list]
    return render(request, "consultations/participation.html", {
        "c": c, "part": part, "group_labels": GROUP_LABELS,
        "groups": [GROUP_LABELS.get(g, g) for g in groups], "matrix": matrix,
        "not_heard": [GROUP_LABELS.get(g, g) for g in part.not_heard_groups],
    })


REPORT_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf",
                "csv": "text/csv; charset=utf-8"}


@require_GET
@capability_required("consultations.view")
def report(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    c = _get(request, pk)
    if fmt not in REPORT_TYPES:
        raise Http404
    rows = services.report_rows(c)
    meta = services.report_meta(c)
    if fmt == "csv":
        body: bytes | str = core.report_csv(rows)
    elif fmt == "pdf":
        body = core.report_pdf(meta, rows, services.participation(c))
    else:
        body = core.report_html(meta, rows, services.participation(c))
    record(request, "consultations.report", c, format=fmt)
    response = HttpResponse(body, content_type=REPORT_TYPES[fmt])
    name = f"you-said-we-did-{c.pk}.{fmt}"
    disposition = "inline" if fmt == "html" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    if fmt == "html":
        # the self-contained document has one <style> element: allowed by its hash only
        from tiplab.policy.documents import csp_style_source

        response._csp_update = {  # type: ignore[attr-defined]
            "style-src": "'self' " + csp_style_source(str(body))}
    return response


# --- one-time codes --------------------------------------------------------------------------


def _code_targets(user: Any) -> list[Consultation]:
    org = organisation_of(user)
    if org is None:
        return []
    return [c for c in Consultation.objects.filter(
        organisation=org).select_related("plan") if c.state != "closed"] + [
        c for c in Consultation.objects.filter(invitations__organisation=org).distinct()
        if c.state != "closed"]


@require_http_methods(["GET", "POST"])
@capability_required("voice.issue_codes")
def codes(request: HttpRequest) -> HttpResponse:
    targets = _code_targets(request.user)
    form = IssueCodesForm(request.POST or None, consultations=targets,
                          questionnaires=can(request.user, "voice.review"))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        kind, _sep, ref = d["target"].partition(":")
        consultation = next((c for c in targets if str(c.pk) == ref), None) \
            if kind == "c" else None
        try:
            batch = services.issue_codes(
                request, n=d["n"], consultation=consultation,
                questionnaire=ref if kind == "q" else "", days=d["days"], group=d["group"],
                note=d["note"])
        except ValidationError as e:
            _fail(request, e)
        else:
            base = request.build_absolute_uri(reverse("voice:start"))
            if d["fmt"] == "pdf":
                pdf = code_sheets.sheet_pdf(batch, base)
                response = HttpResponse(pdf, content_type="application/pdf")
                response["Content-Disposition"] = (
                    f'attachment; filename="codes-{batch.batch}.pdf"')
                return response
            return render(request, "consultations/codes_sheet.html", {
                "batch": batch, "cards": code_sheets.cards(batch, base),
                "title_text": code_sheets.target_title(batch)})
    org = organisation_of(request.user)
    rows = services.batches(org) if org is not None else []
    titles = {q.key: q.t("title", getattr(request, "LANGUAGE_CODE", "en"))
              for q in qs.shipped().values()}
    for r in rows:
        r["questionnaire_title"] = titles.get(r["questionnaire"], r["questionnaire"])
        r["group_label"] = GROUP_LABELS.get(r["group"], r["group"])
    return render(request, "consultations/codes.html", {"form": form, "rows": rows})


@require_POST
@capability_required("voice.issue_codes")
def revoke(request: HttpRequest, batch: str) -> HttpResponse:
    n = services.revoke_batch(request, batch)
    messages.success(request, _("%(n)d unused codes of this batch no longer work.") % {"n": n})
    return redirect("consultations:codes")


# --- review of anonymous input ---------------------------------------------------------------


def _answer(request: HttpRequest, aid: int) -> VoiceAnswer:
    org = organisation_of(request.user)
    return get_object_for(request.user, services.reviewable(org).select_related(
        "consultation", "code"), pk=aid)


@require_GET
@capability_required("voice.review")
def review_queue(request: HttpRequest) -> HttpResponse:
    org = organisation_of(request.user)
    pending = list(services.review_queue(org)) if org is not None else []
    titles = {q.key: q.t("title", getattr(request, "LANGUAGE_CODE", "en"))
              for q in qs.shipped().values()}
    for a in pending:
        a.title = (a.consultation.title if a.consultation  # type: ignore[attr-defined]
                   else titles.get(a.questionnaire, a.questionnaire))
    done = (services.reviewable(org).exclude(status="pending")
            .select_related("consultation").order_by("-reviewed_at")[:20])
    return render(request, "consultations/review_queue.html", {"pending": pending,
                                                               "done": done})


@require_http_methods(["GET", "POST"])
@capability_required("voice.review")
def review(request: HttpRequest, aid: int) -> HttpResponse:
    a = _answer(request, aid)
    data = services.read(a)
    record(request, "voice.read", a, version="redacted")
    original = None
    form = ReviewForm(request.POST or None, initial={"text": data.get("text", ""),
                                                    "decision": "approve"})
    if request.method == "POST":
        if request.POST.get("show") == "original":
            if a.sealed_original:
                original = services.read(a, "original")
                record(request, "voice.read", a, version="original")
            form = ReviewForm(initial={"text": data.get("text", ""), "decision": "approve"})
        elif form.is_valid():
            try:
                if form.cleaned_data["decision"] == "approve":
                    services.approve(request, a, form.cleaned_data["text"])
                    messages.success(request, _("Approved: the input is published as survivor "
                                                "input."))
                else:
                    services.reject(request, a, form.cleaned_data["note"])
                    messages.success(request, _("The input is not published."))
                return redirect("consultations:review_queue")
            except ValidationError as e:
                _fail(request, e)
    q = qs.get(a.questionnaire) if a.questionnaire else None
    structured = []
    if q is not None:
        for question in q.questions:
            if question.id in data.get("answers", {}):
                v = data["answers"][question.id]
                shown = ", ".join(question.option_label(x, "en") for x in v) \
                    if isinstance(v, list) else (question.option_label(v, "en")
                                                 if question.type == "single" else v)
                structured.append((question.label("en"), shown))
    unit_title = ""
    if a.consultation is not None and a.unit:
        u = services.unit(a.consultation, a.unit)
        unit_title = u.title if u else a.unit
    return render(request, "consultations/review.html", {
        "a": a, "data": data, "form": form, "original": original, "structured": structured,
        "unit_title": unit_title, "q": q,
        "findings": sorted(a.findings.items()) if a.findings else []})


@require_GET
@capability_required("consultations.view")
def questionnaire_results(request: HttpRequest, key: str) -> HttpResponse:
    try:
        q = qs.get(key)
    except qs.QuestionnaireError:
        raise Http404 from None
    org = organisation_of(request.user)
    answers = services.questionnaire_answers(org, key) if org is not None else []
    lang = getattr(request, "LANGUAGE_CODE", "en")
    tallies = [{"label": t.question.label(lang), "counts": t.counts, "mean": t.mean,
                "answered": t.answered} for t in qs.tally(q, answers, lang)]
    record(request, "voice.results", ("questionnaire", key), answers=len(answers))
    return render(request, "consultations/questionnaire.html", {
        "q": q, "title": q.t("title", lang), "n": len(answers), "tallies": tallies})
