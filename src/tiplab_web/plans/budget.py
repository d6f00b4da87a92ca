"""The budget page of a plan: the summary by pillar, year and source with its chart; spend
tracking (committed and disbursed per budget line and period, execution rate, variance
flags); and the funding-allocation scenarios (``tiplab.policy.allocation``, HiGHS) side by
side."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tiplab.policy import plan as core
from tiplab_web.audit.services import record
from tiplab_web.core.access import can, capability_required

from . import services
from .forms import SpendForm, UploadForm
from .models import AllocationScenario, Plan, SpendRecord
from .views import _get


def planned_lines(doc: core.Plan) -> dict[str, float]:
    """Budget line id (``measure|year-source``) -> planned amount."""
    return {f"{m.id}|{b.key}": b.amount for _o, m in doc.measures() for b in m.budget}


def spend_rows(plan: Plan, doc: core.Plan) -> list[dict[str, Any]]:
    """Execution per budget line: the latest record of each period counts (a correction
    replaces what it corrects), summed over the periods. A line of year Y is judged against
    the share of Y that has passed (underspent: less than half the linear pace)."""
    from tiplab.policy.allocation import SpendRecord as CoreSpend
    from tiplab.policy.allocation import execution

    latest: dict[tuple[str, str], SpendRecord] = {}
    for r in plan.spend.order_by("recorded_at", "id"):
        latest[(f"{r.measure}|{r.line}", r.period)] = r
    planned = planned_lines(doc)
    years = {f"{m.id}|{b.key}": b.year for _o, m in doc.measures() for b in m.budget}
    today = services.today()
    out = []
    for year in sorted(set(years.values())):
        lines = {k: v for k, v in planned.items() if years[k] == year}
        start = dt.date(year, 1, 1)
        elapsed = min(1.0, max(0.0, (today - start).days / 365.0))
        records = [CoreSpend(line, period, float(r.committed), float(r.disbursed))
                   for (line, period), r in latest.items() if line in lines]
        out += [row.to_dict() for row in execution(lines, records, elapsed=elapsed)]
    unplanned = [CoreSpend(line, period, float(r.committed), float(r.disbursed))
                 for (line, period), r in latest.items() if line not in planned]
    if unplanned:
        out += [row.to_dict() for row in execution({}, unplanned)]
    return out


def summary_context(doc: core.Plan) -> dict[str, Any]:
    s = core.budget_summary(doc)
    years = doc.years
    grid = []
    for p in doc.pillars:
        row = dict.fromkeys(years, 0.0)
        for c in s["cells"]:
            if c["pillar"] == p.id:
                row[c["year"]] += c["amount"]
        grid.append({"pillar": p.title, "years": [row[y] for y in years],
                     "total": sum(row.values())})
    return {"summary": s, "years": years, "grid": grid}


@require_GET
@capability_required("plans.view")
def page(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _get(request, pk)
    doc = services.current(plan)
    can_edit = can(request.user, "plans.edit")
    scenarios = list(plan.scenarios.select_related("created_by").order_by("-created_at")[:8])
    return render(request, "plans/budget.html", {
        "plan": plan, "doc": doc, **summary_context(doc), "spend": spend_rows(plan, doc),
        "spend_form": SpendForm(plan=doc) if can_edit else None, "can_edit": can_edit,
        "scenarios": scenarios, "comparison": compare(scenarios),
        "upload": UploadForm() if can_edit else None})


@require_GET
@capability_required("plans.view")
def chart(request: HttpRequest, pk: int) -> HttpResponse:
    """Budget by year, stacked by pillar (SVG; cached per revision)."""
    import pandas as pd

    from tiplab.reports.charts import stacked_bars

    plan = _get(request, pk)
    rev = services.latest(plan)
    key = f"plans-budget-chart:{rev.content_hash}"
    svg = cache.get(key)
    if svg is None:
        doc = services.as_core(rev)
        s = core.budget_summary(doc)
        rows = [{"year": y, "pillar": doc.pillar_title(c["pillar"]), "amount": c["amount"]}
                for y in doc.years for c in s["cells"] if c["year"] == y] or \
            [{"year": y, "pillar": "", "amount": 0.0} for y in doc.years]
        with tempfile.TemporaryDirectory() as tmp:
            path = stacked_bars(pd.DataFrame(rows), x="year", stack="pillar", value="amount",
                                path=Path(tmp) / "budget.svg",
                                title=_("Budget by year and pillar"), ylabel=doc.currency)
            svg = path.read_text(encoding="utf-8")
        cache.set(key, svg, 24 * 3600)
    return HttpResponse(svg, content_type="image/svg+xml")


@require_POST
@capability_required("plans.edit")
def spend(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _get(request, pk)
    doc = services.current(plan)
    form = SpendForm(request.POST, plan=doc)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("plans:budget", pk=plan.pk)
    cd = form.cleaned_data
    measure, line = cd["line"].split("|", 1)
    with transaction.atomic():
        r = SpendRecord.objects.create(
            plan=plan, measure=measure, line=line, period=cd["period"],
            committed=Decimal(cd["committed"]), disbursed=Decimal(cd["disbursed"]),
            recorded_by=request.user)
        record(request, "plan.spend", plan, measure=measure, line=line, period=r.period,
               committed=str(r.committed), disbursed=str(r.disbursed))
    messages.success(request, _("Recorded the spending of %(m)s for %(p)s.")
                     % {"m": measure, "p": r.period})
    return redirect("plans:budget", pk=plan.pk)


def compare(scenarios: list[AllocationScenario]) -> dict[str, Any] | None:
    """The stored scenarios side by side: objective, spend by pillar, binding constraints."""
    done = [s for s in scenarios if s.result.get("status") == "optimal"]
    if not done:
        return None
    pillars = sorted({p for s in done for p in s.result.get("totals", {}).get("pillar", {})})
    return {"names": [s.name for s in done],
            "objective": [s.result.get("objective") for s in done],
            "pillars": [(p, [s.result["totals"]["pillar"].get(p, 0.0) for s in done])
                        for p in pillars],
            "binding": [len(s.result.get("binding", [])) for s in done]}


@require_POST
@capability_required("plans.edit")
def scenario(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a scenario file (YAML) against the plan's measures and keep it with its result."""
    from tiplab.policy.allocation import AllocationError
    from tiplab.policy.funding import allocate_plan

    plan = _get(request, pk)
    form = UploadForm(request.POST, request.FILES)
    name = (request.POST.get("name") or "").strip()[:120]
    try:
        if not form.is_valid():
            raise AllocationError([" ".join(str(e) for errs in form.errors.values()
                                            for e in errs)])
        text = form.text()
        result = allocate_plan(services.current(plan), text)
    except AllocationError as e:
        messages.error(request, str(e))
        return redirect("plans:budget", pk=plan.pk)
    s = AllocationScenario.objects.create(plan=plan, name=name or form.cleaned_data["file"].name,
                                          yaml=text, result=result.to_dict(),
                                          created_by=request.user)
    record(request, "plan.allocation", plan, scenario=s.name, status=result.status)
    messages.success(request, _("Scenario %(n)s: %(s)s.") % {"n": s.name, "s": result.status})
    return redirect(reverse("plans:budget", kwargs={"pk": plan.pk}) + "#scenarios")
