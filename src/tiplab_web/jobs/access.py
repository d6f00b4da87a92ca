"""Who sees which job.

* Everyone sees the jobs they started.
* Colleagues in the same organisation see a job when they hold its kind's capability (an
  analyst sees the link runs an analyst colleague started, as on the linkage pages).
* Operators (``jobs.operate``: administrators) see every job's metadata — kind, label,
  owner, status, timings, worker — to keep the queue healthy, and may cancel one; they do
  not get its result pages unless their own roles allow those.

A job outside what a user may see is 404 (``core.access.get_object_for``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from tiplab_web.core.access import can, get_object_for, organisation_of

from .kernel import kinds
from .models import Job


def jobs_for(user: Any) -> QuerySet[Job]:
    if not can(user, "jobs.view"):
        return Job.objects.none()
    qs = Job.objects.select_related("owner")
    if can(user, "jobs.operate"):
        return qs
    visible = Q(owner=user)
    org = organisation_of(user)
    shared = [name for name, k in kinds().items() if k.capability and can(user, k.capability)]
    if org is not None and shared:
        visible |= Q(organisation=org, kind__in=shared)
    return qs.filter(visible)


def get_job_for(user: Any, job_id: Any) -> Job:
    return get_object_for(user, jobs_for(user), pk=job_id)


def may_cancel(user: Any, job: Job) -> bool:
    return not job.finished and (job.owner_id == user.pk or can(user, "jobs.operate"))


def may_retry(user: Any, job: Job) -> bool:
    from .kernel import may_retry as kind_allows

    return job.owner_id == user.pk and kind_allows(job)


def job_for_target(user: Any, obj: Any) -> Job | None:
    """The latest job that worked on ``obj`` and that ``user`` may see (None: none)."""
    return jobs_for(user).filter(target_type=obj._meta.label_lower,
                                 target_id=str(obj.pk)).first()
