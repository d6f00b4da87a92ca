"""The plans app's link to ``tiplab.policy.plan``: every change goes through :func:`save`,
which validates the whole plan, refuses to touch an adopted version, writes a new revision
and audits it — in one transaction, so a change lands whole or not at all."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tiplab.policy import plan as core
from tiplab_web.audit.services import record
from tiplab_web.core.access import can

from .models import Plan, PlanRevision


class PlanServiceError(Exception):
    """Said to the user as it is."""


def _error(e: core.PlanError) -> PlanServiceError:
    return PlanServiceError(str(e))


def latest(plan: Plan) -> PlanRevision:
    rev = plan.revisions.order_by("-number").first()
    if rev is None:
        raise PlanServiceError(_("The plan has no revision."))
    return rev


def as_core(rev: PlanRevision) -> core.Plan:
    return core.plan_from_dict(rev.document)


def current(plan: Plan) -> core.Plan:
    return as_core(latest(plan))


def _user(request_or_user: Any) -> Any:
    return getattr(request_or_user, "user", request_or_user)


@transaction.atomic
def create(request: Any, org: Any, doc: core.Plan, *, comment: str = "created",
           illustrative: bool = False) -> Plan:
    if Plan.objects.filter(organisation=org, ident=doc.id).exists():
        raise PlanServiceError(_("A plan with the id %(id)s exists; choose another id.")
                               % {"id": doc.id})
    plan = Plan.objects.create(organisation=org, ident=doc.id, title=doc.title,
                               country=doc.country, status=doc.status, version=doc.version,
                               created_by=_user(request), illustrative=illustrative)
    _append(request, plan, doc, comment, previous=None)
    record(request, "plan.created", plan, version=doc.version, status=doc.status)
    return plan


def _append(request: Any, plan: Plan, doc: core.Plan, comment: str,
            previous: PlanRevision | None) -> PlanRevision:
    number = (previous.number if previous else 0) + 1
    rev = PlanRevision.objects.create(
        plan=plan, number=number, version=doc.version, status=doc.status,
        document=doc.to_dict(), content_hash=doc.content_hash(), author=_user(request),
        comment=comment[:500])
    Plan.objects.filter(pk=plan.pk).update(title=doc.title, country=doc.country,
                                           status=doc.status, version=doc.version)
    plan.title, plan.country, plan.status, plan.version = (doc.title, doc.country, doc.status,
                                                           doc.version)
    return rev


@transaction.atomic
def save(request: Any, plan: Plan, doc: core.Plan, *, comment: str = "") -> PlanRevision:
    """A new revision with ``doc``'s content. Refused when the current version is adopted
    (or later): a change then starts the next version. The whole plan is validated first."""
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    prev = latest(plan)
    try:
        doc = core.plan_from_dict(doc.to_dict())  # validated whole, like a file
    except core.PlanError as e:
        raise _error(e) from e
    if doc.id != plan.ident:
        raise PlanServiceError(_("The file is plan %(a)s; this is plan %(b)s.")
                               % {"a": doc.id, "b": plan.ident})
    if not core.editable(prev.status):
        raise PlanServiceError(
            _("Version %(v)s is %(s)s and cannot be changed. Start a new version to revise "
              "it.") % {"v": prev.version, "s": core.PLAN_STATUSES[prev.status].lower()})
    if doc.version != prev.version or doc.status != prev.status:
        raise PlanServiceError(_("Status and version change through the lifecycle actions, "
                                 "not by editing."))
    if doc.content_hash() == prev.content_hash:
        return prev
    rev = _append(request, plan, doc, comment, prev)
    record(request, "plan.revised", plan, revision=rev.number, version=rev.version,
           comment=comment[:200])
    return rev


@transaction.atomic
def transition(request: Any, plan: Plan, target: str, *, comment: str = "") -> PlanRevision:
    """Move along the lifecycle. Adoption needs ``plans.adopt`` (the coordinator); the
    other moves ``plans.edit``."""
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    prev = latest(plan)
    need = "plans.adopt" if target in ("adopted", "superseded") else "plans.edit"
    if not can(_user(request), need):
        raise PlanServiceError(_("Only the coordinator can adopt or supersede a plan."))
    try:
        core.check_transition(prev.status, target)
    except core.PlanError as e:
        raise _error(e) from e
    doc = replace(as_core(prev), status=target)
    rev = _append(request, plan, doc, comment or f"status: {target}", prev)
    record(request, "plan.status", plan, status=target, previous=prev.status,
           version=rev.version, revision=rev.number)
    return rev


@transaction.atomic
def new_version(request: Any, plan: Plan) -> PlanRevision:
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    prev = latest(plan)
    try:
        doc = core.next_version(as_core(prev))
    except core.PlanError as e:
        raise _error(e) from e
    rev = _append(request, plan, doc, f"version {doc.version} started", prev)
    record(request, "plan.new_version", plan, version=doc.version, revision=rev.number)
    return rev


def import_document(request: Any, org: Any, text: str, name: str) -> tuple[Plan, bool]:
    """A plan file (YAML or JSON): a new plan, or the next revision of the plan with its
    id. Checked whole; nothing is kept unless all of it is valid."""
    try:
        doc = core.load_plan(text, name=name)
    except core.PlanError as e:
        raise _error(e) from e
    existing = Plan.objects.filter(organisation=org, ident=doc.id).first()
    if existing is None:
        if doc.status not in ("draft", "consultation"):
            doc = replace(doc, status="draft")
        return create(request, org, doc, comment=f"imported from {name}"), True
    prev = latest(existing)
    doc = replace(doc, status=prev.status, version=prev.version)
    save(request, existing, doc, comment=f"imported from {name}")
    return existing, False


# --- measure edits ---------------------------------------------------------------------------


def mutate(request: Any, plan: Plan, change: Any, comment: str) -> PlanRevision:
    """Apply ``change(doc)`` to a copy of the current plan and save it as a revision."""
    doc = core.load_plan(core.dump_plan(current(plan)))
    try:
        change(doc)
    except core.PlanError as e:
        raise _error(e) from e
    return save(request, plan, doc, comment=comment)


def put_measure(request: Any, plan: Plan, objective_id: str, measure: core.Measure,
                *, replacing: str | None = None) -> PlanRevision:
    def change(doc: core.Plan) -> None:
        target = next((o for o in doc.objectives if o.id == objective_id), None)
        if target is None:
            raise PlanServiceError(_("No objective %(o)s.") % {"o": objective_id})
        position = len(target.measures)
        if replacing is not None:
            doc.measure(replacing)  # it exists
            for o in doc.objectives:
                for i, m in enumerate(o.measures):
                    if m.id == replacing:
                        if o is target:
                            position = i
                        del o.measures[i]
                        break
        if any(m.id == measure.id for _o, m in doc.measures()):
            raise PlanServiceError(_("A measure with the id %(m)s exists.")
                                   % {"m": measure.id})
        target.measures.insert(position, measure)

    verb = "edited" if replacing else "added"
    return mutate(request, plan, change, f"measure {measure.id} {verb}")


def delete_measure(request: Any, plan: Plan, measure_id: str) -> PlanRevision:
    def change(doc: core.Plan) -> None:
        doc.measure(measure_id)
        for o in doc.objectives:
            o.measures = [m for m in o.measures if m.id != measure_id]

    return mutate(request, plan, change, f"measure {measure_id} removed")


def add_objective(request: Any, plan: Plan, objective: core.Objective) -> PlanRevision:
    def change(doc: core.Plan) -> None:
        if any(o.id == objective.id for o in doc.objectives):
            raise PlanServiceError(_("An objective with the id %(o)s exists.")
                                   % {"o": objective.id})
        doc.objectives.append(objective)

    return mutate(request, plan, change, f"objective {objective.id} added")


def cite(request: Any, plan: Plan, measure_id: str, citation: core.Citation) -> PlanRevision:
    def change(doc: core.Plan) -> None:
        m = doc.measure(measure_id)
        m.evidence = [c for c in m.evidence if c.key != citation.key] + [citation]

    return mutate(request, plan, change, f"measure {measure_id} cites {citation.label}")


def uncite(request: Any, plan: Plan, measure_id: str, key: str) -> PlanRevision:
    def change(doc: core.Plan) -> None:
        m = doc.measure(measure_id)
        m.evidence = [c for c in m.evidence if c.key != key]

    return mutate(request, plan, change, f"measure {measure_id}: citation removed")


def set_narrative(request: Any, plan: Plan, text: str) -> PlanRevision:
    def change(doc: core.Plan) -> None:
        doc.narrative = text.strip()

    return mutate(request, plan, change, "narrative edited")


def put_agreement(request: Any, plan: Plan, agreement: core.Agreement) -> PlanRevision:
    def change(doc: core.Plan) -> None:
        doc.agreements = [a for a in doc.agreements if a.id != agreement.id] + [agreement]

    return mutate(request, plan, change, f"agreement {agreement.id} recorded")


def from_gap(request: Any, plan: Plan, objective_id: str, gap: dict[str, Any],
             data_version: str) -> tuple[PlanRevision, str]:
    """One step from a legal gap to a legislative measure citing it."""
    doc = current(plan)
    taken = {m.id for _o, m in doc.measures()}
    n = 1
    while f"{objective_id}.{n}" in taken:
        n += 1
    mid = f"{objective_id}.{n}"
    measure = core.measure_from_gap(gap, measure_id=mid, data_version=data_version,
                                    cited_at=timezone.now().date().isoformat())
    return put_measure(request, plan, objective_id, measure), mid


def revisions(plan: Plan) -> list[PlanRevision]:
    return list(plan.revisions.select_related("author").order_by("number"))


def revision(plan: Plan, number: int) -> PlanRevision:
    rev = plan.revisions.filter(number=number).first()
    if rev is None:
        raise PlanServiceError(_("No revision %(n)s.") % {"n": number})
    return rev


def led_by(org: Any) -> list[tuple[Plan, core.Plan, core.Objective, core.Measure]]:
    """The measures an organisation leads, in every plan (agency reporters' view)."""
    if org is None:
        return []
    names = {org.name.strip().lower()}
    if getattr(org, "source_agency", ""):
        names.add(org.source_agency.strip().lower())
    out = []
    for p in Plan.objects.all():
        doc = current(p)
        for o, m in doc.measures():
            if m.lead.strip().lower() in names:
                out.append((p, doc, o, m))
    return out


def today() -> dt.date:
    return timezone.localdate()
