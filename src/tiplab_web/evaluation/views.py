"""Evaluation pages: a plan's scorecard (by pillar, objective, measure and agency, with
sparklines), its periodic reviews (schedule, snapshot, findings, recommendations that become
plan revisions) and impact evaluations. Thin: the work is in ``services`` and
``tiplab.policy.scorecard``."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tiplab.policy import plan as core
from tiplab.policy import scorecard as sc
from tiplab_web.audit.services import record
from tiplab_web.core.access import can, capability_required, get_object_for, organisation_of
from tiplab_web.plans.models import Plan

from . import services
from .models import Recommendation, Review


def _labels() -> dict[str, str]:
    return {
        "off_track": _("Off track"), "at_risk": _("At risk"), "on_track": _("On track"),
        "no_data": _("No data yet"), "no_target": _("No target"),
        "no_baseline": _("No baseline"), "context": _("Context (not rated)")}


def _plans(user: Any) -> Any:
    org = organisation_of(user)
    return Plan.objects.filter(organisation=org) if org is not None else Plan.objects.none()


def _plan(request: HttpRequest, pk: int) -> Plan:
    return get_object_for(request.user, _plans(request.user), pk=pk)


def _review(request: HttpRequest, pk: int) -> Review:
    return get_object_for(request.user, Review.objects.filter(
        plan__in=_plans(request.user)).select_related("plan", "revision"), pk=pk)


def _fail(request: HttpRequest, e: Exception) -> None:
    messages.error(request, " ".join(e.messages) if isinstance(e, ValidationError) else str(e))


@require_GET
@capability_required("evaluation.view")
def index(request: HttpRequest) -> HttpResponse:
    rows = []
    for p in _plans(request.user).order_by("-created_at"):
        reviews = list(p.reviews.all())
        rows.append({"plan": p, "reviews": reviews,
                     "impacts": p.impact_evaluations.count()})
    return render(request, "evaluation/index.html", {
        "rows": rows, "can_review": can(request.user, "evaluation.review"),
        "can_impact": can(request.user, "evaluation.impact")})


def _year(request: HttpRequest, doc: core.Plan) -> int | None:
    raw = request.GET.get("year", "")
    if raw.isdigit() and doc.start_year <= int(raw) <= doc.end_year:
        return int(raw)
    return None


@require_GET
@capability_required("evaluation.view")
def scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    doc = services.current_doc(plan)
    card = services.scorecard(plan, _year(request, doc), doc)
    labels = _labels()
    agency = request.GET.get("agency", "")
    status = request.GET.get("status", "")
    measures = [m for m in card.measures
                if (not agency or m.lead == agency) and (not status or m.status == status)]
    pillars: list[dict[str, Any]] = []
    titles = {p.id: p.title for p in doc.pillars}
    objective_titles = {o.id: f"{o.id} {o.title}" for o in doc.objectives}
    for m in measures:
        if not pillars or pillars[-1]["id"] != m.pillar:
            pillars.append({"id": m.pillar, "title": titles.get(m.pillar, m.pillar),
                            "objectives": []})
        objs = pillars[-1]["objectives"]
        if not objs or objs[-1]["id"] != m.objective:
            objs.append({"id": m.objective, "title": objective_titles.get(m.objective, ""),
                         "measures": []})
        objs[-1]["measures"].append({
            "m": m, "label": labels[m.status],
            "indicators": [{"i": i, "label": labels[i.status],
                            "spark": sc.sparkline(i.series)} for i in m.indicators]})
    fmt = request.GET.get("format", "")
    if fmt == "csv":
        return _scorecard_csv(plan, card, labels)
    if fmt == "json":
        from django.http import JsonResponse

        return JsonResponse(card.to_dict())
    return render(request, "evaluation/scorecard.html", {
        "plan": plan, "doc": doc, "card": card, "pillars": pillars, "labels": labels,
        "tallies": {"pillars": card.pillars, "agencies": card.agencies},
        "counts": [(labels[k], card.counts().get(k, 0), k) for k in labels
                   if card.counts().get(k)],
        "years": list(range(doc.start_year, doc.end_year + 1)), "agency": agency,
        "status": status, "agencies": sorted({m.lead for m in card.measures if m.lead})})


def _scorecard_csv(plan: Plan, card: sc.Scorecard, labels: dict[str, str]) -> HttpResponse:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["pillar", "objective", "measure", "lead", "measure_status", "indicator", "name",
                "baseline", "expected", "latest", "period", "progress", "indicator_status"])
    for m in card.measures:
        for i in m.indicators or [None]:  # type: ignore[list-item]
            w.writerow([m.pillar, m.objective, m.measure, m.lead, m.status,
                        *(([i.indicator, i.name, i.baseline, i.expected, i.latest, i.period,
                            None if i.progress is None else round(i.progress, 3), i.status])
                          if i else [""] * 8)])
    response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="scorecard-{plan.ident}-'
                                       f'{card.year}.csv"')
    return response


# --- reviews ---------------------------------------------------------------------------------


@require_POST
@capability_required("evaluation.review")
def schedule(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    made = services.schedule(request, plan)
    messages.success(request, _("%(n)d reviews scheduled.") % {"n": len(made)})
    return redirect("evaluation:index")


@require_GET
@capability_required("evaluation.view")
def review(request: HttpRequest, pk: int) -> HttpResponse:
    r = _review(request, pk)
    labels = _labels()
    snap = r.snapshot.get("scorecard") if r.snapshot else None
    counts = [(labels.get(k, k), n) for k, n in (snap or {}).get("counts", {}).items()]
    doc = services.current_doc(r.plan)
    measures = [(m.id, f"{m.id} {m.title}",
                 [mi.indicator for mi in m.indicators]) for _o, m in doc.measures()]
    return render(request, "evaluation/review.html", {
        "r": r, "snap": snap, "counts": counts, "labels": labels,
        "recommendations": r.recommendations.select_related("applied_revision"),
        "can_review": can(request.user, "evaluation.review"), "measures": measures,
        "changes": Recommendation.Change.choices[1:],
        "measure_statuses": list(core.MEASURE_STATUSES.items()),
        "off_track": [m for m in (snap or {}).get("measures", [])
                      if m["status"] in ("off_track", "at_risk")]})


@require_POST
@capability_required("evaluation.review")
def review_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    r = _review(request, pk)
    try:
        if action == "hold":
            services.hold(request, r, request.POST.get("findings", ""))
            messages.success(request, _("The review is held: the scorecard is kept as it is "
                                        "today."))
        elif action == "findings":
            services.save_findings(request, r, request.POST.get("findings", ""))
            messages.success(request, _("Findings saved."))
        elif action == "recommend":
            change = request.POST.get("change", "")
            proposal = {k: request.POST.get(k, "") for k in
                        ("indicator", "year", "value", "description", "status")}
            services.recommend(request, r, request.POST.get("text", ""),
                               measure=request.POST.get("measure", ""), change=change,
                               proposal=proposal)
            messages.success(request, _("Recommendation added."))
        elif action == "complete":
            services.complete(request, r)
            messages.success(request, _("The review is completed."))
        else:
            raise Http404
    except ValidationError as e:
        _fail(request, e)
    return redirect("evaluation:review", r.pk)


@require_POST
@capability_required("evaluation.review")
def decide(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    r = _review(request, pk)
    rec = r.recommendations.filter(number=number).first()
    if rec is None:
        raise Http404
    try:
        services.decide(request, rec, request.POST.get("accept") == "yes",
                        request.POST.get("reason", ""))
        messages.success(request, _("Decision saved."))
    except ValidationError as e:
        _fail(request, e)
    return redirect("evaluation:review", r.pk)


@require_GET
@capability_required("evaluation.view")
def snapshot(request: HttpRequest, pk: int) -> HttpResponse:
    """The review's snapshot as JSON: what the reviewers saw."""
    from django.http import JsonResponse

    r = _review(request, pk)
    if not r.snapshot:
        raise Http404
    record(request, "evaluation.snapshot", r)
    return JsonResponse(r.snapshot)


# --- impact evaluation -----------------------------------------------------------------------


def _impact(request: HttpRequest, pk: int) -> Any:
    from .models import ImpactEvaluation

    return get_object_for(request.user, ImpactEvaluation.objects.filter(
        plan__in=_plans(request.user)).select_related("plan"), pk=pk)


@require_http_methods(["GET", "POST"])
@capability_required("evaluation.view")
def impact(request: HttpRequest, pk: int) -> HttpResponse:
    """A plan's impact evaluations, and the form to start one."""
    from . import impact as impacts

    plan = _plan(request, pk)
    doc = services.current_doc(plan)
    if request.method == "POST":
        if not can(request.user, "evaluation.impact"):
            raise PermissionDenied
        try:
            year = int(request.POST.get("start", ""))
        except ValueError:
            messages.error(request, _("Give the year the measure started."))
        else:
            try:
                ev = impacts.start(request, plan, measure=request.POST.get("measure", ""),
                                   method=request.POST.get("method", ""),
                                   treated=request.POST.getlist("treated"), start_year=year,
                                   unit=request.POST.get("unit", "persons"))
            except impacts.ImpactRequestError as e:
                messages.error(request, str(e))
            else:
                return redirect("evaluation:impact_detail", ev.pk)
    return render(request, "evaluation/impact.html", {
        "plan": plan, "doc": doc, "evaluations": plan.impact_evaluations.all(),
        "methods": list(impacts.METHOD_LABELS.items()), "regions": impacts.regions(),
        "measures": [(m.id, f"{m.id} {m.title}") for _o, m in doc.measures()],
        "can_run": can(request.user, "evaluation.impact"),
        "years": list(range(doc.start_year - 5, doc.end_year + 1))})


@require_GET
@capability_required("evaluation.view")
def impact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from . import charts, demo
    from . import impact as impacts

    ev = _impact(request, pk)
    r = ev.result or {}
    truth = demo.truth()
    measure = (truth or {}).get("measure") or {}
    if not (measure and sorted(measure.get("regions", [])) == sorted(ev.treated)
            and measure.get("year") == ev.start):
        truth = None
    return render(request, "evaluation/impact_detail.html", {
        "truth": truth,
        "ev": ev, "r": r, "method": impacts.METHOD_LABELS.get(ev.method, ev.method),
        "chart": charts.impact_svg(r) if r else "",
        "level": round(100 * float(r.get("confidence") or 0.95)),
        "coefficients": [c for c in r.get("coefficients", []) if c.get("estimate") is not None],
        "checks": sorted((r.get("checks") or {}).items())})
