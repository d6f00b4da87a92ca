"""Who may see and import which case data.

* ``cases.import`` (analysts, data stewards): import for any source agency, see every batch.
* ``submissions.create`` (agency reporters): import for their own agency only, whose source
  agency is their organisation's name; they see only their own agency's batches.
* ``cases.view`` (analysts, data stewards): browse pseudonymised records.

Objects outside what a user may see are 404, never 403 (``core.access.get_object_for``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from tiplab_web.core.access import can, get_object_for, organisation_of

from .models import CaseRecord, ImportBatch


def may_import(user: Any) -> bool:
    return can(user, "cases.import") or can(user, "submissions.create")


def own_agency(user: Any) -> str | None:
    """The only source agency ``user`` may import and see, or None for "any" (analysts,
    stewards). A reporter without an organisation gets "" (matches nothing)."""
    if can(user, "cases.import"):
        return None
    org = organisation_of(user)
    return org.source if org is not None else ""


def batches_for(user: Any) -> QuerySet[ImportBatch]:
    qs = ImportBatch.objects.select_related("supersedes")
    if not may_import(user) and not can(user, "cases.view"):
        return qs.none()
    agency = None if can(user, "cases.view") else own_agency(user)
    return qs if agency is None else qs.filter(source_agency=agency)


def get_batch_for(user: Any, batch_id: str) -> ImportBatch:
    return get_object_for(user, batches_for(user), batch_id=batch_id)


def records_for(user: Any) -> QuerySet[CaseRecord]:
    if not can(user, "cases.view"):
        return CaseRecord.objects.none()
    return CaseRecord.objects.select_related("batch")


def get_record_for(user: Any, pk: Any) -> CaseRecord:
    return get_object_for(user, records_for(user), pk=pk)


def intake_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator: ``cases.import`` or ``submissions.create`` (login redirect, else 403)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not may_import(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
