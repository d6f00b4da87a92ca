"""The estimate of record: which estimation run is the country's figure of the hidden number.

A data steward designates it (``estimates.designate``); the home page, briefs and plans quote
that run, never whatever ran last. Only a finished estimate from this organisation's linked
records can be designated (a published or uploaded table is practice). A new designation or
a withdrawal closes the current one; the history is kept and every decision is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from tiplab_web import audit
from tiplab_web.core.access import can, organisation_of

from .models import EstimateOfRecord, EstimationRun


class DesignationError(Exception):
    """The run cannot be designated; the message says why."""


def current(organisation: Any, *, with_result: bool = True) -> EstimateOfRecord | None:
    """The organisation's current designation (``with_result=False``: its run without the
    result JSON, for pages that do not show it)."""
    if organisation is None:
        return None
    qs = (EstimateOfRecord.objects.filter(organisation=organisation, ended_at=None)
          .select_related("run", "designated_by"))
    return (qs if with_result else qs.defer("run__result")).first()


def headline(organisation: Any) -> tuple[EstimateOfRecord | None, dict[str, Any]]:
    """The current designation (its run without the result JSON) and the run's overall
    result, cached per run: a finished run's result never changes, and parsing the whole
    result (strata, sensitivity, bootstrap) cost milliseconds of every home page."""
    from django.core.cache import cache

    designation = current(organisation, with_result=False)
    if designation is None:
        return None, {}
    key = f"tiplab:estimate-overall:{designation.run_id}"
    overall = cache.get(key)
    if overall is None:
        overall = EstimationRun.objects.values_list("result", flat=True).get(
            pk=designation.run_id).get("overall") or {}
        cache.set(key, overall, 24 * 3600)
    return designation, overall


def history(organisation: Any) -> list[EstimateOfRecord]:
    if organisation is None:
        return []
    return list(EstimateOfRecord.objects.filter(organisation=organisation)
                .select_related("run", "designated_by", "ended_by")[:50])


def check(run: EstimationRun) -> None:
    """Raise :class:`DesignationError` unless ``run`` may become the estimate of record."""
    if run.status != EstimationRun.DONE:
        raise DesignationError(_("Only a finished estimate can be designated."))
    if run.practice:
        raise DesignationError(_(
            "This estimate is from a published or uploaded table: practice or comparison, "
            "not the country's figure. Designate an estimate from a linkage of your data."))
    if run.overall.get("estimate") is None:
        raise DesignationError(_("This run has no estimate to designate."))


def designate(request_or_user: Any, run: EstimationRun, note: str = "") -> EstimateOfRecord:
    """Make ``run`` the estimate of record of its organisation (closing the current one)."""
    user = getattr(request_or_user, "user", request_or_user)
    if not can(user, "estimates.designate"):
        raise DesignationError(_("Your role does not designate estimates."))
    if organisation_of(user) != run.organisation:
        raise DesignationError(_("The estimate belongs to another organisation."))
    check(run)
    with transaction.atomic():
        previous = (EstimateOfRecord.objects.select_for_update()
                    .filter(organisation=run.organisation, ended_at=None).first())
        if previous is not None:
            if previous.run_id == run.pk:
                return previous
            previous.end(user, _("replaced by run #%(n)s") % {"n": run.pk})
        made = EstimateOfRecord.objects.create(organisation=run.organisation, run=run,
                                               designated_by=user, note=note.strip())
        audit.record(request_or_user, "estimates.designate", run, note=note.strip(),
                     replaces=previous.run_id if previous is not None else None)
    return made


def withdraw(request_or_user: Any, note: str) -> EstimateOfRecord | None:
    """End the current designation: the country has no estimate of record until the next."""
    user = getattr(request_or_user, "user", request_or_user)
    if not can(user, "estimates.designate"):
        raise DesignationError(_("Your role does not designate estimates."))
    with transaction.atomic():
        now = (EstimateOfRecord.objects.select_for_update()
               .filter(organisation=organisation_of(user), ended_at=None).first())
        if now is None:
            return None
        now.end(user, note.strip())
        audit.record(request_or_user, "estimates.withdraw", now.run, note=note.strip())
    return now


@dataclass(frozen=True)
class Freshness:
    """Whether the data have changed since the estimate of record was computed."""

    run_version: str
    current_version: str

    @property
    def stale(self) -> bool:
        return bool(self.run_version) and self.run_version != self.current_version


def freshness(designation: EstimateOfRecord) -> Freshness:
    from tiplab_web.linkage.services import data_version

    return Freshness(designation.run.data_version, data_version())
