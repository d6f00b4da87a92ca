"""Jobs in the JSON API: follow, cancel and retry background work started by the token's
owner (or visible to them, as on the Jobs page)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Router, Schema

from tiplab_web import audit
from tiplab_web.api import ERROR_RESPONSES, ErrorOut, require
from tiplab_web.api_errors import error_response

from . import kernel
from .access import get_job_for, jobs_for, may_cancel, may_retry
from .models import Job

router = Router(tags=["jobs"])


class JobOut(Schema):
    id: UUID
    kind: str
    label: str
    owner: str
    status: str
    stage: str
    fraction: float
    message: str
    result: dict[str, Any]
    error: str | None
    error_code: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    url: str


def job_out(job: Job) -> dict[str, Any]:
    from django.urls import reverse

    return {"id": job.pk, "kind": job.kind, "label": job.label,
            "owner": job.owner.get_username(), "status": job.status, "stage": job.stage,
            "fraction": job.fraction, "message": job.message, "result": job.result,
            "error": job.error or None, "error_code": job.error_code or None,
            "attempts": job.attempts, "created_at": job.created_at,
            "started_at": job.started_at, "finished_at": job.finished_at,
            "url": reverse("api:job", args=[job.pk])}


@router.get("", response={200: list[JobOut], **ERROR_RESPONSES},
            summary="Background jobs you may see, newest first")
def list_jobs(request: HttpRequest, status: str = "", kind: str = "") -> Any:
    require(request, "jobs.view")
    qs = jobs_for(request.user)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return [job_out(j) for j in qs[:200]]


@router.get("/{job_id}", response={200: JobOut, **ERROR_RESPONSES}, url_name="job",
            summary="One job: status, progress, result or error")
def get_job(request: HttpRequest, job_id: UUID) -> Any:
    require(request, "jobs.view")
    return job_out(get_job_for(request.user, job_id))


@router.post("/{job_id}/cancel", response={200: JobOut, 409: ErrorOut, **ERROR_RESPONSES},
             summary="Cancel a queued or running job")
def cancel_job(request: HttpRequest, job_id: UUID) -> Any:
    require(request, "jobs.view")
    job = get_job_for(request.user, job_id)
    if not may_cancel(request.user, job):
        if job.finished:
            return error_response(409, message="The job has already finished.")
        raise PermissionDenied
    kernel.cancel(job)
    audit.record(request, "jobs.cancel", job, kind=job.kind, status=job.status, via="api")
    return job_out(job)


@router.post("/{job_id}/retry", response={200: JobOut, 409: ErrorOut, **ERROR_RESPONSES},
             summary="Run a failed or cancelled job again (kinds safe to re-run)")
def retry_job(request: HttpRequest, job_id: UUID) -> Any:
    require(request, "jobs.view")
    job = get_job_for(request.user, job_id)
    if job.owner_id != request.user.pk:
        raise PermissionDenied
    if not may_retry(request.user, job):
        return error_response(409, message="This job cannot be run again.")
    kernel.retry(job)
    audit.record(request, "jobs.retry", job, kind=job.kind, via="api")
    return job_out(job)
