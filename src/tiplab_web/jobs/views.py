"""The Jobs page: every background job the user may see, its progress, cancel and retry."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from tiplab_web import audit
from tiplab_web.core.access import can, capability_required

from . import kernel
from .access import get_job_for, jobs_for, may_cancel, may_retry
from .models import Job

PAGE = 200


def job_context(request: HttpRequest, job: Job | None, next_url: str = "") -> dict[str, Any]:
    """What ``jobs/_progress.html`` and ``jobs/_actions.html`` need about ``job``."""
    from django.urls import reverse

    if job is None:
        return {"job": None, "may_cancel": False, "may_retry": False, "result_url": None}
    kind = kernel.kind_of(job)
    url = None
    if job.status == Job.SUCCEEDED and kind is not None and kind.result_url is not None:
        url = kind.result_url(job)
    return {"job": job, "result_url": url, "result_template": kind.result_template if kind else "",
            "may_cancel": may_cancel(request.user, job),
            "may_retry": may_retry(request.user, job),
            "next_url": next_url or reverse("jobs:detail", args=[job.pk])}


def target_context(request: HttpRequest, obj: Any, next_url: str) -> dict[str, Any]:
    """``job_context`` for the latest job that worked on ``obj`` (a run's page)."""
    from .access import job_for_target

    return job_context(request, job_for_target(request.user, obj), next_url)


@require_GET
@capability_required("jobs.view")
def job_list(request: HttpRequest) -> HttpResponse:
    qs = jobs_for(request.user)
    status = request.GET.get("status", "")
    if status in dict(Job.STATUS):
        qs = qs.filter(status=status)
    kind = request.GET.get("kind", "")
    if kind in kernel.kinds():
        qs = qs.filter(kind=kind)
    mine = request.GET.get("mine") == "1"
    if mine:
        qs = qs.filter(owner=request.user)
    workers = list(kernel.live_workers())
    return render(request, "jobs/list.html", {
        "jobs": qs[:PAGE], "status": status, "kind": kind, "mine": mine,
        "statuses": Job.STATUS, "kinds": sorted(kernel.kinds().items()),
        "workers": workers, "operator": can(request.user, "jobs.operate"),
        "queued": jobs_for(request.user).filter(status=Job.QUEUED).count(),
        "inline": _inline()})


def _inline() -> bool:
    from .queue import runs_inline

    return runs_inline()


@require_GET
@capability_required("jobs.view")
def job_detail(request: HttpRequest, job_id: Any) -> HttpResponse:
    job = get_job_for(request.user, job_id)
    return render(request, "jobs/detail.html", job_context(request, job))


@require_GET
@capability_required("jobs.view")
def job_status(request: HttpRequest, job_id: Any) -> HttpResponse:
    """The progress fragment; htmx polls it every second while the job runs."""
    job = get_job_for(request.user, job_id)
    response = render(request, "jobs/_progress.html", job_context(request, job))
    if job.finished and request.headers.get("HX-Request") and request.GET.get("refresh"):
        response["HX-Refresh"] = "true"  # a result page: show the result in full
    return response


def _control(request: HttpRequest, job_id: Any, allowed: Any, change: Any,
             action: str) -> HttpResponse:
    """Cancel or retry: check the right, change the job, audit, go back."""
    job = get_job_for(request.user, job_id)
    if not allowed(request.user, job):
        raise PermissionDenied
    try:
        change(job)
    except kernel.JobStateError as e:
        messages.error(request, str(e))
    else:
        audit.record(request, action, job, kind=job.kind, label=job.label, status=job.status)
    return redirect(_next(request, job))


@require_POST
@capability_required("jobs.view")
def job_cancel(request: HttpRequest, job_id: Any) -> HttpResponse:
    return _control(request, job_id, may_cancel, kernel.cancel, "jobs.cancel")


@require_POST
@capability_required("jobs.view")
def job_retry(request: HttpRequest, job_id: Any) -> HttpResponse:
    return _control(request, job_id, may_retry, kernel.retry, "jobs.retry")


def _next(request: HttpRequest, job: Job) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    from django.urls import reverse

    return reverse("jobs:detail", args=[job.pk])
