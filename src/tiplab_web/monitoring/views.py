"""Reporting-round pages: the list (rounds followed, the agency's own forms: what it owes, by
when), the completeness dashboard (rounds × agencies), opening a round, a round's page
(completeness and timeliness, what each agency owes), and an agency's form (entry by web form
or template, submission, review, history). Thin: the work is in ``services`` and ``sheets``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tiplab_web.core.access import can, capability_required, get_object_for, organisation_of
from tiplab_web.plans.models import Plan

from . import rules, services, sheets
from .forms import AddItemForm, ReviewForm, RoundForm, UploadForm
from .models import AgencyForm, FormItem, Round


def _state_label(state: str) -> str:
    return str({"approved": _("approved"), "returned": _("returned for correction"),
                "submitted": _("submitted"), "overdue": _("late: not submitted"),
                "open": _("not submitted yet")}.get(state, state))


def _fail(request: HttpRequest, e: ValidationError) -> None:
    for m in e.messages:
        messages.error(request, m)


def _round(request: HttpRequest, pk: int) -> Round:
    return get_object_for(request.user, services.rounds_for(request.user).select_related(
        "plan", "plan__organisation"), pk=pk)


def _managed(request: HttpRequest, pk: int) -> Round:
    rnd = _round(request, pk)
    if not services.manages(request.user, rnd):
        raise Http404
    return rnd


def _form(request: HttpRequest, pk: int) -> AgencyForm:
    return get_object_for(request.user, services.forms_for(request.user).select_related(
        "round", "round__plan", "organisation"), pk=pk)


def _entry_form(request: HttpRequest, pk: int) -> AgencyForm:
    form = _form(request, pk)
    if not services.may_enter(request.user, form):
        raise Http404
    return form


def _own_plans(user: Any) -> list[Plan]:
    org = organisation_of(user)
    return list(Plan.objects.filter(organisation=org)) if org is not None else []


@require_GET
@capability_required("monitoring.view")
def index(request: HttpRequest) -> HttpResponse:
    day = services.today()
    rounds = []
    for rnd in services.rounds_for(request.user).select_related("plan"):
        c = services.completeness(rnd, day)
        rounds.append({"r": rnd, "c": c})
    org = organisation_of(request.user)
    own = []
    if org is not None:
        for f in (services.forms_for(request.user).filter(organisation=org, items__isnull=False)
                  .distinct().select_related("round", "round__plan")
                  .order_by("round__deadline")):
            s = services.form_state(f, f.round.deadline, day)
            own.append({"f": f, "s": s, "state": _state_label(s.state),
                        "n": f.items.count(), "days_left": (f.round.deadline - day).days})
    manage = can(request.user, "monitoring.manage")
    return render(request, "monitoring/index.html", {
        "rounds": rounds, "own": own, "manage": manage, "day": day,
        "late": services.late_forms(request.user, day) if manage else [],
    })


@require_GET
@capability_required("monitoring.view")
def overview(request: HttpRequest) -> HttpResponse:
    ov = services.overview(request.user)
    rows = [{"name": name, "cells": [{"s": s, "state": s.state if s else "",
                                      "label": _state_label(s.state) if s else ""}
                                     for s in cells], "totals": totals}
            for name, cells, totals in ov.agencies]
    return render(request, "monitoring/overview.html", {"rounds": ov.rounds, "rows": rows})


@require_http_methods(["GET", "POST"])
@capability_required("monitoring.manage")
def new(request: HttpRequest) -> HttpResponse:
    plans = [p for p in _own_plans(request.user) if services.manages(request.user, p)]
    form = RoundForm(request.POST or None, plans=plans)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        plan = next(p for p in plans if str(p.pk) == d["plan"])
        try:
            rnd = services.open_round(request, plan, period=d["period"], deadline=d["deadline"],
                                      opens_on=d["opens_on"])
        except ValidationError as e:
            _fail(request, e)
        else:
            messages.success(request, _("Round %(p)s opened: %(n)d agencies owe values.")
                             % {"p": rnd.period, "n": rnd.forms.count()})
            return redirect("monitoring:round", rnd.pk)
    return render(request, "monitoring/new.html", {"form": form, "plans": plans})


def _indicator_choices(rnd: Round) -> list[tuple[str, str]]:
    out = []
    for m, mi in services.plan_indicators(rnd.plan):
        name, _unit, _s = services.indicator_meta(mi)
        out.append((f"{m.id}|{mi.indicator}", f"{m.id} · {mi.indicator} {name}"))
    return out


@require_GET
@capability_required("monitoring.view")
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rnd = _round(request, pk)
    c = services.completeness(rnd)
    manage = services.manages(request.user, rnd)
    forms = list(rnd.forms.select_related("organisation").prefetch_related("items"))
    return render(request, "monitoring/round.html", {
        "r": rnd, "c": c, "manage": manage, "forms": forms,
        "rows": [{"s": s, "state": _state_label(s.state)} for s in c.rows],
        "unmatched": services.unmatched_leads(rnd.plan),
        "add_form": AddItemForm(choices=_indicator_choices(rnd)) if manage else None,
    })


@require_POST
@capability_required("monitoring.manage")
def add_item(request: HttpRequest, pk: int) -> HttpResponse:
    rnd = _managed(request, pk)
    form = AddItemForm(request.POST, choices=_indicator_choices(rnd))
    if not form.is_valid():
        messages.error(request, _("Choose an organisation and one of the plan's indicators."))
    else:
        measure, indicator = form.cleaned_data["indicator"].split("|", 1)
        try:
            services.add_item(request, rnd, form.cleaned_data["organisation"], measure,
                              indicator)
        except ValidationError as e:
            _fail(request, e)
        else:
            messages.success(request, _("%(org)s now owes %(i)s for measure %(m)s.") % {
                "org": form.cleaned_data["organisation"].name, "i": indicator, "m": measure})
    return redirect("monitoring:round", rnd.pk)


@require_POST
@capability_required("monitoring.manage")
def remove_item(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    rnd = _managed(request, pk)
    found = FormItem.objects.filter(form__round=rnd, pk=item).select_related(
        "form", "form__round", "form__organisation").first()
    if found is None:
        raise Http404
    try:
        services.remove_item(request, found)
    except ValidationError as e:
        _fail(request, e)
    else:
        messages.success(request, _("Removed %(i)s (measure %(m)s) from %(org)s's form.") % {
            "i": found.indicator_id, "m": found.measure_id, "org": found.form.organisation.name})
    return redirect("monitoring:round", rnd.pk)


@require_POST
@capability_required("monitoring.manage")
def close(request: HttpRequest, pk: int) -> HttpResponse:
    rnd = _managed(request, pk)
    services.close_round(request, rnd)
    messages.success(request, _("Round %(p)s is closed: no more submissions are accepted.")
                     % {"p": rnd.period})
    return redirect("monitoring:round", rnd.pk)


# --- an agency's form ------------------------------------------------------------------------


def _history(form: AgencyForm) -> list[dict[str, Any]]:
    items = {i.key: i for i in form.items.all()}
    out = []
    for e in form.events.select_related("by").order_by("-at", "-id"):
        vals = [{"key": k, "item": items.get(k), "value": v.get("value", ""),
                 "comment": v.get("comment", ""),
                 "sex": ", ".join(f"{rules.SEX_LABELS.get(s, s)} {n}"
                                  for s, n in (v.get("sex") or {}).items())}
                for k, v in sorted(e.values.items())]
        out.append({"e": e, "values": vals})
    return out


def _render_form(request: HttpRequest, form: AgencyForm, *, posted: dict[str, str] | None = None,
                 problems: list[str] | None = None, status: int = 200) -> HttpResponse:
    rows = []
    for r in services.item_rows(form):
        pk = r.item.pk
        sex = r.value.sex if r.value is not None else {}
        if posted is not None:
            value = posted.get(f"v-{pk}", "")
            comment = posted.get(f"c-{pk}", "")
            sex = {s: posted.get(f"sex-{pk}-{s}", "") for s in rules.SEXES}
        else:
            value = r.shown
            comment = r.value.comment if r.value is not None else ""
        rows.append({"r": r, "value": value, "comment": comment,
                     "sex": [(s, rules.SEX_LABELS[s], sex.get(s, "")) for s in rules.SEXES],
                     "previous": (rules.fmt(r.previous[1]), r.previous[0]) if r.previous
                     else None})
    day = services.today()
    state = services.form_state(form, form.round.deadline, day)
    may_enter = services.may_enter(request.user, form)
    editable = may_enter and form.editable and not form.round.is_closed
    return render(request, "monitoring/form.html", {
        "f": form, "r": form.round, "rows": rows, "editable": editable, "may_enter": may_enter,
        "state": _state_label(state.state), "s": state, "problems": problems or [],
        "history": _history(form), "threshold": f"{services.change_threshold():g}",
        "review_form": ReviewForm() if (services.may_review(request.user, form)
                                        and form.status == AgencyForm.Status.SUBMITTED) else None,
        "upload_form": UploadForm() if editable else None,
        "days_left": (form.round.deadline - day).days,
        "returned_reason": form.events.filter(kind="returned").values_list(
            "reason", flat=True).last() or "",
    }, status=status)


@require_GET
@capability_required("monitoring.view")
def form_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_form(request, _form(request, pk))


def _entries(form: AgencyForm, post: Any) -> list[services.Entry]:
    out = []
    for i in form.items.all():
        if f"v-{i.pk}" not in post:
            continue
        sex = {s: post.get(f"sex-{i.pk}-{s}", "") for s in rules.SEXES} if i.by_sex else {}
        out.append(services.Entry(i.measure_id, i.indicator_id, post.get(f"v-{i.pk}", ""),
                                  post.get(f"c-{i.pk}", ""), sex))
    return out


@require_POST
@capability_required("indicators.submit")
def values(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the draft, or save and submit (``action=submit``)."""
    form = _entry_form(request, pk)
    submit = request.POST.get("action") == "submit"
    entries = _entries(form, request.POST)
    try:
        changed = services.save_values(request, form, entries) if entries else 0
    except ValidationError as e:
        return _render_form(request, form, posted=request.POST.dict(), problems=e.messages)
    if submit:
        try:
            services.submit(request, form)
        except ValidationError as e:
            _fail(request, e)
            return redirect("monitoring:form", form.pk)
        messages.success(request, _("Submitted. A data steward will review the values; the "
                                    "form is read-only until then."))
    elif changed:
        messages.success(request, _("Draft saved (%(n)d values changed). Submit when every "
                                    "value is in.") % {"n": changed})
    else:
        messages.info(request, _("Nothing changed."))
    return redirect("monitoring:form", form.pk)


@require_GET
@capability_required("indicators.submit")
def template(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    form = _entry_form(request, pk)
    if fmt == "csv":
        resp = HttpResponse(sheets.write_csv(form), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        resp = HttpResponse(sheets.write_xlsx(form), content_type=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    else:
        raise Http404
    resp["Content-Disposition"] = f'attachment; filename="{sheets.filename(form, fmt)}"'
    return resp


@require_POST
@capability_required("indicators.submit")
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    form = _entry_form(request, pk)
    up = UploadForm(request.POST, request.FILES)
    if not up.is_valid():
        messages.error(request, _("Choose the filled-in template to upload."))
        return redirect("monitoring:form", form.pk)
    f = up.cleaned_data["file"]
    try:
        n = sheets.upload(request, form, f.name, f.read())
    except ValidationError as e:
        return _render_form(request, form, problems=e.messages)
    messages.success(request, _("Template read: %(n)d values changed, saved as a draft.")
                     % {"n": n})
    return redirect("monitoring:form", form.pk)


@require_POST
@capability_required("monitoring.review")
def review(request: HttpRequest, pk: int) -> HttpResponse:
    form = _form(request, pk)
    if not services.may_review(request.user, form):
        raise Http404
    rf = ReviewForm(request.POST)
    if not rf.is_valid():
        messages.error(request, _("Choose approve or return."))
        return redirect("monitoring:form", form.pk)
    try:
        services.review(request, form, rf.cleaned_data["decision"], rf.cleaned_data["reason"])
    except ValidationError as e:
        _fail(request, e)
    else:
        messages.success(request, _("Approved: the values count.")
                         if rf.cleaned_data["decision"] == "approve"
                         else _("Returned to %(org)s for correction.")
                         % {"org": form.organisation.name})
    return redirect("monitoring:form", form.pk)
