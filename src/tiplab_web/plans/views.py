"""National Action Plan pages: the list, the outline with its evidence flags and lifecycle
actions, the measure editor, the evidence picker, versions and their diff, documents, the
budget with spend tracking and allocation scenarios, and the cooperation register. Thin: the
work is in ``services``, ``evidence`` and ``tiplab.policy``."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tiplab.policy import plan as core
from tiplab_web.audit.services import record
from tiplab_web.core.access import can, capability_required, get_object_for, organisation_of

from . import evidence, services
from .forms import (
    AgreementForm,
    MeasureForm,
    NewPlanForm,
    ObjectiveForm,
    UploadForm,
    budget_formset,
    indicator_formset,
)
from .models import Plan

EXPORTS = {
    "yaml": ("application/yaml", "yaml"), "json": ("application/json", "json"),
    "html": ("text/html; charset=utf-8", "html"), "pdf": ("application/pdf", "pdf"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "csv": ("text/csv; charset=utf-8", "csv"),
}
FLAG_SECONDS = 3600


def plans_for(user: Any) -> QuerySet[Plan]:
    org = organisation_of(user)
    if org is None:
        return Plan.objects.none()
    return Plan.objects.filter(organisation=org)


def _get(request: HttpRequest, pk: int) -> Plan:
    return get_object_for(request.user, plans_for(request.user), pk=pk)


def _fail(request: HttpRequest, e: Exception) -> None:
    messages.error(request, " ".join(e.messages) if isinstance(e, ValidationError) else str(e))


def _editable_or_refuse(request: HttpRequest, plan: Plan) -> bool:
    if core.editable(plan.status):
        return True
    messages.error(request, _("Version %(v)s is %(s)s and cannot be changed. Start a new "
                              "version to revise it.")
                   % {"v": plan.version, "s": core.PLAN_STATUSES[plan.status].lower()})
    return False


@require_GET
@capability_required("plans.list")
def index(request: HttpRequest) -> HttpResponse:
    if not can(request.user, "plans.view"):
        led = services.led_by(organisation_of(request.user))
        return render(request, "plans/mine.html", {"rows": led})
    rows = []
    for p in plans_for(request.user):
        doc = services.current(p)
        rows.append({"plan": p, "doc": doc, "measures": sum(1 for _ in doc.measures()),
                     "budget": core.budget_summary(doc)["total"],
                     "status": core.PLAN_STATUSES[doc.status]})
    return render(request, "plans/index.html", {
        "rows": rows, "form": NewPlanForm(), "upload": UploadForm(),
        "can_edit": can(request.user, "plans.edit")})


@require_POST
@capability_required("plans.edit")
def new(request: HttpRequest) -> HttpResponse:
    form = NewPlanForm(request.POST)
    if form.is_valid():
        cd = form.cleaned_data
        pillars = cd["custom_pillars"] if cd["pillars"] == "custom" else cd["pillars"]
        try:
            doc = core.new_plan(cd["ident"], cd["title"], cd["country"], cd["start_year"],
                                cd["end_year"], currency=cd["currency"], pillars=pillars)
            plan = services.create(request, organisation_of(request.user), doc)
        except (core.PlanError, services.PlanServiceError) as e:
            form.add_error(None, str(e))
        else:
            return redirect("plans:detail", pk=plan.pk)
    return render(request, "plans/index.html", {
        "rows": [], "form": form, "upload": UploadForm(), "can_edit": True}, status=400)


@require_POST
@capability_required("plans.edit")
def import_file(request: HttpRequest) -> HttpResponse:
    """A plan file (YAML or JSON, as ``tiplab plan export`` writes it): a new plan, or the
    next revision of the plan with its id."""
    form = UploadForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise services.PlanServiceError(" ".join(str(e) for errs in form.errors.values()
                                                      for e in errs))
        plan, created = services.import_document(request, organisation_of(request.user),
                                                 form.text(), form.cleaned_data["file"].name)
    except (services.PlanServiceError, ValidationError) as e:
        _fail(request, e)
        return redirect("plans:index")
    messages.success(request, _("Imported plan %(id)s.") % {"id": plan.ident} if created
                     else _("Imported as the next revision of %(id)s.") % {"id": plan.ident})
    return redirect("plans:detail", pk=plan.pk)


def flags_for(request: HttpRequest, rev: Any, doc: core.Plan
              ) -> tuple[dict[str, list[core.EvidenceFlag]], str]:
    """Evidence flags per measure — every citation against the same figure now — and the
    key they are cached under: the revision, the data version, what else moves cited
    figures (assessment answers, finished jobs, the estimate of record) and whether the
    user gets protected figures. Recomputing a figure reads the analysis pages' cache."""
    try:
        version = evidence.data_version()
    except Exception:  # no data at all: nothing to compare against
        return {}, "no-data"
    stamp = evidence.state_stamp(request.user)
    protected = evidence._services().aggregate_only(request.user)
    key = "plans-flags:" + hashlib.sha256(
        f"{rev.content_hash}|{version}|{stamp}|{protected}".encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        memo: dict[Any, Any] = {}
        found = core.check_evidence(
            doc, lambda c: evidence.current_value(c, request.user, memo), version)
        cache.set(key, found, FLAG_SECONDS)
    out: dict[str, list[core.EvidenceFlag]] = {}
    for f in found:
        out.setdefault(f.measure, []).append(f)
    return out, key


def _outline(doc: core.Plan, flags: dict[str, list[core.EvidenceFlag]]) -> list[dict[str, Any]]:
    pillars = []
    for p in doc.pillars:
        objectives = []
        for o in (o for o in doc.objectives if o.pillar == p.id):
            measures = []
            for m in o.measures:
                by_key = {f.citation.key: f for f in flags.get(m.id, [])}
                measures.append({"m": m, "budget": m.budget_total(doc.currency),
                                 "type": core.MEASURE_TYPES[m.type],
                                 "status": core.MEASURE_STATUSES[m.status],
                                 "evidence": [(c, by_key.get(c.key)) for c in m.evidence],
                                 "changed": any(f.state == "changed"
                                                for f in flags.get(m.id, []))})
            objectives.append({"o": o, "measures": measures})
        pillars.append({"p": p, "objectives": objectives})
    return pillars


@require_GET
@capability_required("plans.view")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _get(request, pk)
    rev = services.latest(plan)
    doc = services.as_core(rev)
    flags, flags_key = flags_for(request, rev, doc)
    changed = [f for fs in flags.values() for f in fs if f.state == "changed"]
    can_edit = can(request.user, "plans.edit") and core.editable(plan.status)
    # the outline (200 measures: most of the page's time) is cached per revision, evidence
    # check, permission and CSRF secret (its forms carry the token)
    outline_key = hashlib.sha256(
        f"{flags_key}|{can_edit}|{request.META.get('CSRF_COOKIE', '')}"
        .encode()).hexdigest()
    return render(request, "plans/detail.html", {
        "outline_key": outline_key,
        "plan": plan, "doc": doc, "rev": rev, "pillars": _outline(doc, flags),
        "changed": changed, "budget": core.budget_summary(doc),
        "status_label": core.PLAN_STATUSES[doc.status],
        "transitions": [(t, core.PLAN_STATUSES[t]) for t in core.TRANSITIONS[doc.status]],
        "can_edit": can_edit, "can_draft": can(request.user, "plans.edit"),
        "can_adopt": can(request.user, "plans.adopt"),
        "objective_form": ObjectiveForm(plan=doc) if can_edit else None,
        "agreements": doc.agreements, "kinds": core.AGREEMENT_KINDS,
        "scopes": core.AGREEMENT_SCOPES, "measure_statuses": core.MEASURE_STATUSES,
        **_engagement(request, plan)})


def _engagement(request: HttpRequest, plan: Plan) -> dict[str, Any]:
    """The consultations on this plan and the working groups that follow it (what the user
    may see of them), for the plan page."""
    from django.db.models import Count, Q

    from tiplab_web.consultations import services as consultations
    from tiplab_web.groups import services as groups

    cons = [{"c": c, "n": c.n} for c in consultations.visible_to(request.user).filter(
        plan=plan).annotate(n=Count("contributions", filter=Q(contributions__hidden=False),
                                 distinct=True))]
    today = services.today()
    rows = []
    for g in groups.groups_for(request.user).filter(plan=plan).order_by("name").annotate(
            n_open=Count("action_items", filter=Q(action_items__status="open"),
                         distinct=True),
            n_overdue=Count("action_items", filter=Q(action_items__status="open",
                                                     action_items__due__lt=today),
                            distinct=True)):
        rows.append(g)
    return {"consultations": cons, "groups": rows,
            "can_consult": can(request.user, "consultations.manage")}


@require_POST
@capability_required("plans.edit")
def narrative(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _get(request, pk)
    if _editable_or_refuse(request, plan):
        try:
            services.set_narrative(request, plan, request.POST.get("narrative", ""))
        except (core.PlanError, services.PlanServiceError) as e:
            _fail(request, e)
    return redirect("plans:detail", pk=plan.pk)


@require_POST
@capability_required("plans.edit")
def objective_new(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _get(request, pk)
    if _editable_or_refuse(request, plan):
        form = ObjectiveForm(request.POST, plan=services.current(plan))
        if form.is_valid():
            cd = form.cleaned_data
            try:
                services.add_objective(request, plan, core.Objective(
                    cd["ident"].strip(), cd["pillar"], cd["title"].strip()))
            except (core.PlanError, services.PlanServiceError) as e:
                _fail(request, e)
        else:
            messages.error(request, " ".join(str(e) for errs in form.errors.values()
                                             for e in errs))
    return redirect("plans:detail", pk=plan.pk)


def _measure_page(request: HttpRequest, plan: Plan, doc: core.Plan, form: Any, budget: Any,
                  indicators: Any, measure: core.Measure | None, status: int = 200
                  ) -> HttpResponse:
    return render(request, "plans/measure.html", {
        "plan": plan, "doc": doc, "form": form, "budget": budget, "indicators": indicators,
        "measure": measure, "years": doc.years}, status=status)


def _budget_lines(formset: Any) -> list[core.BudgetLine]:
    out = []
    for f in formset.forms:
        cd = f.cleaned_data
        if cd.get("year") and cd.get("amount") is not None:
            out.append(core.BudgetLine(int(cd["year"]), cd.get("source") or "government",
                                       float(cd["amount"])))
    return out


@require_http_methods(["GET", "POST"])
@capability_required("plans.edit")
def measure_edit(request: HttpRequest, pk: int, measure: str | None = None) -> HttpResponse:
    """Add a measure (no ``measure``) or edit one: the form, its budget lines and
    indicators; saved as a new revision once the whole plan is valid."""
    plan = _get(request, pk)
    if not _editable_or_refuse(request, plan):
        return redirect("plans:detail", pk=plan.pk)
    doc = services.current(plan)
    keep = None
    if measure is not None:
        try:
            keep, objective = doc.measure(measure), doc.objective_of(measure)
        except core.PlanError as e:
            raise Http404(str(e)) from e
    if not doc.objectives:
        messages.error(request, _("Add an objective first: every measure serves one."))
        return redirect("plans:detail", pk=plan.pk)
    if request.method == "GET":
        initial = MeasureForm.initial_for(objective, keep) if keep else {
            "objective": request.GET.get("objective") or doc.objectives[0].id}
        return _measure_page(request, plan, doc, MeasureForm(initial=initial, plan=doc),
                             budget_formset(doc, lines=keep.budget if keep else []),
                             indicator_formset(doc, items=keep.indicators if keep else []),
                             keep)
    form = MeasureForm(request.POST, plan=doc)
    budget = budget_formset(doc, request.POST)
    indicators = indicator_formset(doc, request.POST)
    if form.is_valid() and budget.is_valid() and indicators.is_valid():
        items = [x for f in indicators.forms if (x := f.value()) is not None]
        if keep is not None:  # custom indicators are edited in the file, kept here
            items += [mi for mi in keep.indicators if mi.custom is not None]
        new_measure = form.measure(_budget_lines(budget), items, keep)
        try:
            services.put_measure(request, plan, form.cleaned_data["objective"], new_measure,
                                 replacing=measure)
        except (core.PlanError, services.PlanServiceError) as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("Saved measure %(m)s.") % {"m": new_measure.id})
            return redirect(f"{plan_url(plan)}#measure-{new_measure.id}")
    return _measure_page(request, plan, doc, form, budget, indicators, keep, status=400)


def plan_url(plan: Plan) -> str:
    from django.urls import reverse

    return reverse("plans:detail", kwargs={"pk": plan.pk})


@require_POST
@capability_required("plans.edit")
def measure_status(request: HttpRequest, pk: int, measure: str) -> HttpResponse:
    """Change a measure's status in place (htmx: the measure's card comes back; without
    JavaScript, the plan page)."""
    plan = _get(request, pk)
    status = request.POST.get("status", "")
    ok = _editable_or_refuse(request, plan)
    if ok:
        def change(doc: core.Plan) -> None:
            if status not in core.MEASURE_STATUSES:
                raise services.PlanServiceError(_("Unknown status."))
            doc.measure(measure).status = status

        try:
            services.mutate(request, plan, change, f"measure {measure}: status {status}")
        except (core.PlanError, services.PlanServiceError) as e:
            _fail(request, e)
            ok = False
    if not request.htmx:
        return redirect(f"{plan_url(plan)}#measure-{measure}")
    rev = services.latest(plan)
    doc = services.as_core(rev)
    flags, _key = flags_for(request, rev, doc)
    x = next((x for p in _outline(doc, flags) for o in p["objectives"]
              for x in o["measures"] if x["m"].id == measure), None)
    if x is None:
        raise Http404(_("No such measure."))
    return render(request, "plans/_measure.html", {
        "x": x, "plan": plan, "doc": doc, "can_edit": core.editable(plan.status),
        "measure_statuses": core.MEASURE_STATUSES}, status=200 if ok else 400)


@require_POST
@capability_required("plans.edit")
def measure_delete(request: HttpRequest, pk: int, measure: str) -> HttpResponse:
    plan = _get(request, pk)
    if _editable_or_refuse(request, plan):
        try:
            services.delete_measure(request, plan, measure)
        except (core.PlanError, services.PlanServiceError) as e:
            _fail(request, e)
        else:
            messages.success(request, _("Removed measure %(m)s.") % {"m": measure})
    return redirect("plans:detail", pk=plan.pk)


@require_http_methods(["GET", "POST"])
@capability_required("plans.edit")
def cite(request: HttpRequest, pk: int, measure: str) -> HttpResponse:
    """The evidence picker: the figures of one kind, each with its data version; picking one
    stores it in the measure as it is now."""
    plan = _get(request, pk)
    if not _editable_or_refuse(request, plan):
        return redirect("plans:detail", pk=plan.pk)
    doc = services.current(plan)
    try:
        m = doc.measure(measure)
    except core.PlanError as e:
        raise Http404(str(e)) from e
    kind = request.POST.get("kind") or request.GET.get("kind") or "trend"
    if kind not in evidence.KINDS:
        kind = "trend"
    params = {k: request.GET.get(k) for k in ("by", "unit", "year") if request.GET.get(k)}
    problem, rows = "", []
    try:
        rows = evidence.candidates(kind, request.user, params)
    except evidence.NoEvidence as e:
        problem = str(e)
    if request.method == "POST":
        index = request.POST.get("pick", "")
        if not index.isdigit() or int(index) >= len(rows):
            messages.error(request, _("That figure is no longer offered; pick again."))
        else:
            c = rows[int(index)].citation()
            try:
                services.cite(request, plan, measure, c)
            except (core.PlanError, services.PlanServiceError) as e:
                _fail(request, e)
            else:
                messages.success(request, _("Measure %(m)s now cites: %(l)s")
                                 % {"m": measure, "l": c.label})
                return redirect(f"{plan_url(plan)}#measure-{measure}")
    from tiplab_web.insights.forms import CASE_BREAKDOWNS

    return render(request, "plans/cite.html", {
        "plan": plan, "doc": doc, "m": m, "kind": kind, "rows": rows, "problem": problem,
        "breakdowns": CASE_BREAKDOWNS,
        "kinds": [(k, core.EVIDENCE_KINDS[k]) for k in evidence.KINDS], "params": params})


@require_POST
@capability_required("plans.edit")
def uncite(request: HttpRequest, pk: int, measure: str) -> HttpResponse:
    plan = _get(request, pk)
    if _editable_or_refuse(request, plan):
        try:
            services.uncite(request, plan, measure, request.POST.get("key", ""))
        except (core.PlanError, services.PlanServiceError) as e:
            _fail(request, e)
    return redirect(f"{plan_url(plan)}#measure-{measure}")


@require_http_methods(["GET", "POST"])
@capability_required("plans.edit")
def from_gap(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn a legal gap of the assessments into a legislative measure citing it."""
    plan = _get(request, pk)
    if not _editable_or_refuse(request, plan):
        return redirect("plans:detail", pk=plan.pk)
    doc = services.current(plan)
    problem, rows = "", []
    try:
        rows = evidence.candidates("legal_gap", request.user)
    except evidence.NoEvidence as e:
        problem = str(e)
    if request.method == "POST":
        index, objective = request.POST.get("pick", ""), request.POST.get("objective", "")
        if not index.isdigit() or int(index) >= len(rows) or \
                objective not in {o.id for o in doc.objectives}:
            messages.error(request, _("Pick a gap and the objective the measure serves."))
        else:
            c = rows[int(index)]
            try:
                _rev, mid = services.from_gap(request, plan, objective, c.gap,
                                              c.data_version)
            except (core.PlanError, services.PlanServiceError) as e:
                _fail(request, e)
            else:
                messages.success(request, _("Measure %(m)s drafted from the gap; complete it.")
                                 % {"m": mid})
                return redirect("plans:measure", pk=plan.pk, measure=mid)
    return render(request, "plans/from_gap.html", {
        "plan": plan, "doc": doc, "rows": rows, "problem": problem})


def _move(request: HttpRequest, pk: int, default: str) -> HttpResponse:
    plan = _get(request, pk)
    try:
        services.transition(request, plan, request.POST.get("to", default),
                            comment=request.POST.get("comment", ""))
    except (core.PlanError, services.PlanServiceError) as e:
        _fail(request, e)
    else:
        plan.refresh_from_db()
        messages.success(request, _("Version %(v)s is %(s)s.")
                         % {"v": plan.version, "s": core.PLAN_STATUSES[plan.status].lower()})
    return redirect("plans:detail", pk=plan.pk)


@require_POST
@capability_required("plans.edit")
def transition(request: HttpRequest, pk: int) -> HttpResponse:
    """Lifecycle moves of the drafters (to consultation, back to draft, under review,
    revised); adopting and superseding are refused here (``services.transition``)."""
    return _move(request, pk, "")


@require_POST
@capability_required("plans.adopt")
def adopt(request: HttpRequest, pk: int) -> HttpResponse:
    """Adopt or supersede: the coordinator's decision (``plans.adopt``)."""
    return _move(request, pk, "adopted")


@require_POST
@capability_required("plans.edit")
def new_version(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _get(request, pk)
    try:
        rev = services.new_version(request, plan)
    except (core.PlanError, services.PlanServiceError) as e:
        _fail(request, e)
    else:
        messages.success(request, _("Version %(v)s started as a draft; version %(p)s stays "
                                    "as adopted.") % {"v": rev.version, "p": rev.version - 1})
    return redirect("plans:detail", pk=plan.pk)


def shown(value: Any) -> str:
    """A changed field's value in words (lists of citations or milestones by their labels,
    lists joined, nothing as a dash) — never a Python repr on the page."""
    if value is None or value == "" or value == [] or value == {}:
        return "–"
    if isinstance(value, list):
        return "; ".join(shown(v) for v in value)
    if isinstance(value, dict):
        for key in ("label", "title"):
            if key in value:
                head = f"{value['date']} " if "date" in value else ""
                return f"{head}{value[key]}"
        return ", ".join(f"{k}: {shown(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def readable(d: core.PlanDiff) -> core.PlanDiff:
    for h in d.header:
        h["old"], h["new"] = shown(h["old"]), shown(h["new"])
    for m in d.measures_changed:
        for f in m["fields"]:
            f["old"], f["new"] = shown(f["old"]), shown(f["new"])
    return d


@require_GET
@capability_required("plans.view")
def versions(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _get(request, pk)
    revs = services.revisions(plan)
    a, b = request.GET.get("a", ""), request.GET.get("b", "")
    d = None
    if a.isdigit() and b.isdigit():
        try:
            d = readable(core.diff(services.as_core(services.revision(plan, int(a))),
                                   services.as_core(services.revision(plan, int(b)))))
        except services.PlanServiceError as e:
            _fail(request, e)
    elif len(revs) >= 2:
        a, b = str(revs[-2].number), str(revs[-1].number)
        d = readable(core.diff(services.as_core(revs[-2]), services.as_core(revs[-1])))
    return render(request, "plans/versions.html", {
        "plan": plan, "revs": revs, "diff": d, "a": a, "b": b,
        "statuses": core.PLAN_STATUSES})


@require_GET
@capability_required("plans.view")
def export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    from tiplab.policy import documents

    if fmt not in EXPORTS:
        raise Http404(_("Unknown format."))
    plan = _get(request, pk)
    number = request.GET.get("revision", "")
    try:
        rev = services.revision(plan, int(number)) if number.isdigit() else \
            services.latest(plan)
    except services.PlanServiceError as e:
        raise Http404(str(e)) from e
    doc = services.as_core(rev)
    flags = [f for fs in flags_for(request, rev, doc)[0].values() for f in fs] \
        if fmt in ("html", "pdf", "docx") else []
    body: str | bytes
    if fmt in ("yaml", "json"):
        body = core.dump_plan(doc, fmt)
    elif fmt == "csv":
        body = documents.logframe_csv(doc)
    else:
        render_fn = {"html": documents.plan_html, "pdf": documents.plan_pdf,
                     "docx": documents.plan_docx}[fmt]
        body = render_fn(doc, flags=flags, data_version=evidence.data_version()
                         if flags else "")
    record(request, "plan.exported", plan, format=fmt, revision=rev.number)
    content_type, ext = EXPORTS[fmt]
    response = HttpResponse(body, content_type=content_type)
    if fmt == "html":
        # the self-contained document has one <style> element: allowed by its hash only
        response._csp_update = {  # type: ignore[attr-defined]
            "style-src": "'self' " + documents.csp_style_source(str(body))}
    if fmt != "html":
        response["Content-Disposition"] = (f'attachment; filename="{plan.ident}-v{rev.version}'
                                           f'-r{rev.number}.{ext}"')
    return response


@require_POST
@capability_required("plans.edit")
def agreement(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _get(request, pk)
    if _editable_or_refuse(request, plan):
        form = AgreementForm(request.POST)
        if form.is_valid():
            try:
                services.put_agreement(request, plan, form.agreement())
            except (core.PlanError, services.PlanServiceError) as e:
                _fail(request, e)
        else:
            messages.error(request, " ".join(str(e) for errs in form.errors.values()
                                             for e in errs))
    return redirect(f"{plan_url(plan)}#agreements")
