"""The designated linkage: which link run defines a person in the figures.

A data steward designates a finished link run (``linkage.designate``); the analytics snapshot
then carries that run's person ids (``tiplab.snapshot.designate_linkage``) and trends,
profiles, routes and hotspots count persons by default. A new designation or a withdrawal
closes the current one; the history stays and every decision is audited. When approved data
arrive after the run, the designation is *stale*: the new records count as their own persons
until a re-link (incremental: the designated run's model scores only the new records) is
designated in its place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from tiplab_web import audit
from tiplab_web.core.access import can

from .models import LinkDesignation, LinkRun

log = logging.getLogger("tiplab.web.linkage")


class DesignationError(Exception):
    """The run cannot be designated; the message says why."""


def current() -> LinkDesignation | None:
    return (LinkDesignation.objects.filter(ended_at=None)
            .select_related("run", "designated_by").first())


def history() -> list[LinkDesignation]:
    return list(LinkDesignation.objects.select_related("run", "designated_by", "ended_by")[:50])


def check(run: LinkRun) -> None:
    """Raise :class:`DesignationError` unless ``run`` may define persons."""
    from .services import run_dir

    if run.status != LinkRun.DONE:
        raise DesignationError(_("Only a finished link run can be designated."))
    if not (run_dir(run) / "clusters.parquet").exists():
        raise DesignationError(_("The result files of this link run are missing; link again."))


def designate(request_or_user: Any, run: LinkRun, note: str = "") -> LinkDesignation:
    """Make ``run`` the designated linkage (closing the current one) and write its person
    map into the analytics snapshot."""
    user = getattr(request_or_user, "user", request_or_user)
    if not can(user, "linkage.designate"):
        raise DesignationError(_("Your role does not designate link runs."))
    check(run)
    with transaction.atomic():
        previous = LinkDesignation.objects.select_for_update().filter(ended_at=None).first()
        if previous is not None:
            if previous.run_id == run.pk:
                return previous
            _end(previous, user, _("replaced by link run #%(n)s") % {"n": run.pk})
        made = LinkDesignation.objects.create(run=run, designated_by=user, note=note.strip())
        audit.record(request_or_user, "linkage.designate", run, note=note.strip(),
                     replaces=previous.run_id if previous is not None else None)
        # the snapshot follows the database; if writing it fails, the decision is rolled back
        sync_snapshot(made)
    return made


def withdraw(request_or_user: Any, note: str) -> LinkDesignation | None:
    """End the current designation: the figures count records until the next one."""
    user = getattr(request_or_user, "user", request_or_user)
    if not can(user, "linkage.designate"):
        raise DesignationError(_("Your role does not designate link runs."))
    with transaction.atomic():
        now = LinkDesignation.objects.select_for_update().filter(ended_at=None).first()
        if now is None:
            return None
        _end(now, user, note.strip())
        audit.record(request_or_user, "linkage.withdraw", now.run, note=note.strip())
        sync_snapshot(None)
    return now


def _end(designation: LinkDesignation, user: Any, note: str) -> None:
    designation.slot = None
    designation.end(user, note, also=("slot",))


def sync_snapshot(designation: LinkDesignation | bool | None = True) -> bool:
    """Make the snapshot's designated linkage the database's (``True``: look it up). Returns
    whether the snapshot changed. Called on every decision and when the analytics open a new
    data version, so a restored or rebuilt snapshot regains its designation."""
    from tiplab.snapshot import clear_linkage, designate_linkage, open_snapshot

    from .services import run_dir

    if designation is True:
        designation = current()
    data_dir = Path(settings.DATA_DIR)
    linkage = open_snapshot(data_dir).linkage
    if not isinstance(designation, LinkDesignation):
        if linkage is None:
            return False
        clear_linkage(data_dir)
        return True
    run = designation.run
    if linkage is not None and linkage.run == str(run.pk):
        return False
    clusters = pq.read_table(run_dir(run) / "clusters.parquet",
                             columns=["source", "record_id", "person_id"])
    designate_linkage(data_dir, run.pk, clusters, data_version=run.data_version,
                      designated_by=designation.designated_by.get_username())
    log.info("snapshot: link run %s designated", run.pk)
    return True


@dataclass(frozen=True)
class Coverage:
    """How much of the approved data the designated run covers."""

    run: LinkRun
    stale: bool
    records: int
    persons: int
    records_not_linked: int
    agencies_not_linked: tuple[str, ...]


def coverage(designation: LinkDesignation | None) -> Coverage | None:
    """The designated run's coverage of the current snapshot (None without a designation)."""
    if designation is None:
        return None
    from tiplab_web.insights import services as insights

    from .services import available_sources

    try:
        eng = insights.engine().for_unit("persons")
        info = eng.unit_info()
    except Exception as e:  # the page still shows the designation; the log says why
        log.warning("coverage of link run %s not computed: %s", designation.run_id, e)
        return None
    agencies = tuple(a for a, _n in available_sources() if a not in designation.run.sources)
    return Coverage(designation.run, bool(info.get("stale")), int(info.get("records", 0)),
                    int(info.get("persons", 0)), int(info.get("records_not_linked", 0)),
                    agencies)
