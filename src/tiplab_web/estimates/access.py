"""Who sees which estimation run: runs belong to the organisation of whoever started them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from tiplab_web.core.access import get_object_for, organisation_of

from .models import EstimationRun


def runs_for(user: Any) -> QuerySet[EstimationRun]:
    org = organisation_of(user)
    if org is None:
        return EstimationRun.objects.none()
    return EstimationRun.objects.filter(organisation=org)


def get_run_for(user: Any, pk: int) -> EstimationRun:
    return get_object_for(user, runs_for(user).select_related("created_by", "link_run"), pk=pk)
