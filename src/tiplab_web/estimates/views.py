"""Estimation pages: choose data and method, follow the background run, read the result.
Thin: the work is in ``services``."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tiplab_web.core.access import can, capability_required, organisation_of
from tiplab_web.core.exports import JSON, download
from tiplab_web.core.reauth import require_recent_password
from tiplab_web.jobs.views import target_context
from tiplab_web.linkage.access import runs_for as link_runs_for

from . import record, services
from .access import get_run_for, runs_for
from .forms import EstimateForm
from .models import EstimationRun

#: the list's filters: input kind ("" = all) and status ("" = all but failed)
KIND_FILTERS = {"": _("All inputs"), EstimationRun.LINK_RUN: _("Linked records"),
                "practice": _("Practice (published or uploaded tables)")}
STATUS_FILTERS = {"": _("Finished and running"), EstimationRun.DONE: _("Finished"),
                  EstimationRun.RUNNING: _("Running"), EstimationRun.FAILED: _("Failed"),
                  "all": _("All, failed too")}


@require_GET
@capability_required("insights.view")
def runs(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "")
    kind = kind if kind in KIND_FILTERS else ""
    status = status if status in STATUS_FILTERS else ""
    qs = runs_for(request.user).select_related("created_by")
    if kind == EstimationRun.LINK_RUN:
        qs = qs.filter(input_kind=EstimationRun.LINK_RUN)
    elif kind == "practice":
        qs = qs.exclude(input_kind=EstimationRun.LINK_RUN)
    if status == "":
        qs = qs.exclude(status=EstimationRun.FAILED)
    elif status != "all":
        qs = qs.filter(status=status)
    org = organisation_of(request.user)
    return render(request, "estimates/runs.html", {
        "runs": qs[:200], "kind": kind, "status": status,
        "kind_filters": KIND_FILTERS, "status_filters": STATUS_FILTERS,
        "hidden_failed": (runs_for(request.user).filter(status=EstimationRun.FAILED).count()
                          if status == "" else 0),
        "designation": record.current(org), "history": record.history(org),
        "can_run": can(request.user, "estimates.run"),
        "can_designate": can(request.user, "estimates.designate")})


@require_POST
@capability_required("estimates.designate")
@require_recent_password()
def designate(request: HttpRequest, pk: int) -> HttpResponse:
    """Make the run the estimate of record (the home page, briefs and plans quote it)."""
    run = get_run_for(request.user, pk)
    try:
        record.designate(request, run, request.POST.get("note", "")[:2000])
    except record.DesignationError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("Estimate #%(n)s is now the estimate of record.")
                         % {"n": run.pk})
    return redirect("estimates:run", pk=run.pk)


@require_POST
@capability_required("estimates.designate")
@require_recent_password()
def withdraw(request: HttpRequest) -> HttpResponse:
    note = request.POST.get("note", "").strip()[:2000]
    if not note:
        messages.error(request, _("Say why the estimate of record is withdrawn."))
    elif record.withdraw(request, note) is not None:
        messages.success(request, _("The estimate of record was withdrawn."))
    return redirect("estimates:runs")


@require_http_methods(["GET", "POST"])
@capability_required("estimates.run")
def new(request: HttpRequest) -> HttpResponse:
    link_runs = link_runs_for(request.user).filter(status="done")
    initial = {}
    if request.method == "GET" and request.GET.get("link_run", "").isdigit():
        initial = {"input_kind": EstimationRun.LINK_RUN, "link_run": int(request.GET["link_run"])}
    form = EstimateForm(request.POST or None, request.FILES or None, link_runs=link_runs,
                        initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        run = services.start_run(request, input_kind=d["input_kind"],
                                 parameters=form.parameters(), link_run=d.get("link_run"),
                                 shipped=d.get("shipped"), upload=d.get("upload"))
        return redirect("estimates:run", pk=run.pk)
    return render(request, "estimates/new.html", {"form": form})


@require_GET
@capability_required("insights.view")
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_run_for(request.user, pk)
    o = run.overall
    strata = (run.result.get("strata") or {}).get("strata", [])
    designation = record.current(run.organisation)
    try:
        record.check(run)
        why_not = ""
    except record.DesignationError as e:
        why_not = str(e)
    return render(request, "estimates/run.html", {
        "run": run, "o": o, "strata": strata,
        "is_record": designation is not None and designation.run_id == run.pk,
        "designation": designation, "why_not": why_not,
        "can_designate": can(request.user, "estimates.designate"),
        "sensitivity": (run.result.get("sensitivity") or {}).get("rows", []),
        "comparison": run.result.get("comparison"),
        "charts": run.result.get("charts", []),
        "chart_specs": services.chart_specs(run),
        "can_run": can(request.user, "estimates.run"),
        **target_context(request, run, reverse("estimates:run", args=[run.pk]))})


@require_GET
@capability_required("insights.view")
def run_status(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_run_for(request.user, pk)
    response = render(request, "estimates/_status.html", {
        "run": run, **target_context(request, run, reverse("estimates:run", args=[run.pk]))})
    if run.finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@require_GET
@capability_required("insights.view")
def run_json(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole run — provenance, parameters, result — as one JSON document."""
    run = get_run_for(request.user, pk)
    body = {
        "id": run.pk, "status": run.status, "error": run.error or None,
        "created_at": run.created_at.isoformat(), "created_by": run.created_by.get_username(),
        "input": {"kind": run.input_kind, "name": run.input_name, "sha256": run.input_sha256,
                  "link_run": run.link_run_id, "data_version": run.data_version},
        "parameters": run.parameters, "result": run.result,
    }
    return download(request, json.dumps(body, indent=2, ensure_ascii=False),
                    filename=f"estimate-{run.pk}.json", content_type=JSON,
                    action="estimates.download", obj=run, format="json")


@require_GET
@capability_required("insights.view")
def chart(request: HttpRequest, pk: int, name: str, fmt: str) -> HttpResponse:
    run = get_run_for(request.user, pk)
    path = services.chart_path(run, name, fmt)
    if path is None:
        raise Http404
    return HttpResponse(path.read_bytes(), content_type=services.CHART_FORMATS[fmt])
