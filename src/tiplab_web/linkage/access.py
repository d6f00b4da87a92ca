"""Who sees which link run: runs belong to the organisation of whoever started them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from tiplab_web.core.access import get_object_for, organisation_of

from .models import LinkRun


def runs_for(user: Any) -> QuerySet[LinkRun]:
    org = organisation_of(user)
    if org is None:
        return LinkRun.objects.none()
    return LinkRun.objects.filter(organisation=org)


def get_run_for(user: Any, pk: int) -> LinkRun:
    """The run if the user's organisation made it, else 404."""
    return get_object_for(user, runs_for(user).select_related("created_by"), pk=pk)
