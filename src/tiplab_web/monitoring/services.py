"""The single gate for writes to reporting rounds: every change goes through a function here,
which checks it, saves it in one transaction and writes the audit entry. Views, the API, the
CLI, the reminder job and the demo call these; none writes the models itself.

Reading for other apps (the scorecards read approved values only)::

    from tiplab_web.monitoring.services import approved_values, latest_approved
    approved_values(plan)[("PR1.1", "PROT-11")]
    # -> [("2025", 410.0, 3, "National Police"), ("2026", 530.0, 5, "National Police")]
    latest_approved(plan, "PR1.1", "PROT-11")
    # -> ApprovedValue(period="2026", value=530.0, round_id=5, organisation="National Police")
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tiplab.policy.indicators import library
from tiplab.policy.plan import Measure, MeasureIndicator
from tiplab_web.accounts.models import Organisation
from tiplab_web.audit.services import record
from tiplab_web.core.access import can, organisation_of
from tiplab_web.plans import services as plan_services
from tiplab_web.plans.models import Plan

from . import rules
from .models import AgencyForm, FormEvent, FormItem, ReminderSent, Round, Value

PERIOD_RE = re.compile(r"^(\d{4})(?:-Q([1-4]))?$")
Status = AgencyForm.Status


class MonitoringError(ValidationError):
    """A change refused, with a message (or several) for the person who asked."""


class StateError(MonitoringError):
    """Refused because of the round's or form's state (closed, submitted, approved): the
    request itself was fine (the API answers 409)."""


def _user(request_or_user: Any) -> Any:
    return getattr(request_or_user, "user", request_or_user)


def today() -> dt.date:
    return timezone.localdate()


def change_threshold() -> float:
    """Percent change against the last approved value beyond which a comment is required."""
    return float(getattr(settings, "TIPLAB_MONITORING_CHANGE_PERCENT", 50))


def reminder_days() -> int:
    """Days before the deadline the first reminder goes out."""
    return int(getattr(settings, "TIPLAB_MONITORING_REMINDER_DAYS", 7))


# --- periods ---------------------------------------------------------------------------------


def parse_period(text: str) -> str:
    """``2025`` or ``2026-Q1`` (``2026q1`` is read too); MonitoringError otherwise."""
    raw = (text or "").strip().upper().replace(" ", "")
    raw = re.sub(r"^(\d{4})Q", r"\1-Q", raw)
    if not PERIOD_RE.match(raw):
        raise MonitoringError(_("“%(p)s” is not a period: write a year (2025) or a quarter "
                                "(2026-Q1).") % {"p": text})
    return raw


def period_kind(period: str) -> str:
    return "quarter" if "-Q" in period else "year"


def period_end(period: str) -> dt.date:
    m = PERIOD_RE.match(period)
    if m is None:
        raise MonitoringError(_("“%(p)s” is not a period.") % {"p": period})
    year, q = int(m.group(1)), m.group(2)
    if q is None:
        return dt.date(year, 12, 31)
    month = int(q) * 3
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def period_key(period: str) -> tuple[dt.date, int]:
    """Chronological order: by the period's last day; a year after its fourth quarter."""
    return period_end(period), 0 if period_kind(period) == "quarter" else 1


# --- access ----------------------------------------------------------------------------------


def oversees(user: Any, plan_or_round: Plan | Round) -> bool:
    """The plan's own organisation follows its rounds (policy officers, data stewards,
    analysts, the coordinator); agency reporters see only their own forms."""
    plan = plan_or_round.plan if isinstance(plan_or_round, Round) else plan_or_round
    org = organisation_of(user)
    return (org is not None and plan.organisation_id == org.pk
            and (can(user, "plans.view") or can(user, "monitoring.manage")
                 or can(user, "monitoring.review")) and can(user, "monitoring.view"))


def manages(user: Any, rnd: Round | Plan) -> bool:
    return can(user, "monitoring.manage") and oversees(user, rnd)


def rounds_for(user: Any) -> QuerySet[Round]:
    """The rounds ``user`` follows (their organisation's plans)."""
    org = organisation_of(user)
    if org is None or not can(user, "monitoring.view") or not (
            can(user, "plans.view") or can(user, "monitoring.manage")
            or can(user, "monitoring.review")):
        return Round.objects.none()
    return Round.objects.filter(plan__organisation=org)


def forms_for(user: Any) -> QuerySet[AgencyForm]:
    """The forms ``user`` may see: every form of the rounds they follow, and their own
    organisation's forms."""
    org = organisation_of(user)
    if org is None or not can(user, "monitoring.view"):
        return AgencyForm.objects.none()
    return AgencyForm.objects.filter(
        Q(round__in=rounds_for(user)) | Q(organisation=org)).distinct()


def may_enter(user: Any, form: AgencyForm) -> bool:
    org = organisation_of(user)
    return can(user, "indicators.submit") and org is not None and org.pk == form.organisation_id


def may_review(user: Any, form: AgencyForm) -> bool:
    return can(user, "monitoring.review") and oversees(user, form.round)


# --- what agencies owe -----------------------------------------------------------------------


def _org_index() -> dict[str, Organisation]:
    idx: dict[str, Organisation] = {}
    for org in Organisation.objects.all():
        idx.setdefault(org.name.strip().lower(), org)
        if org.source_agency:
            idx.setdefault(org.source_agency.strip().lower(), org)
    return idx


def indicator_meta(mi: MeasureIndicator) -> tuple[str, str, bool]:
    """Name, unit and "disaggregated by sex" of a measure's indicator (library or custom)."""
    ind = mi.custom
    if ind is None:
        lib = library()
        ind = lib.indicators.get(mi.indicator)
    if ind is None:
        return mi.indicator, "", False
    return ind.name, ind.unit, "sex" in ind.disaggregation


def plan_indicators(plan: Plan) -> list[tuple[Measure, MeasureIndicator]]:
    """Every (measure, indicator) of the plan's current revision, in the plan's order."""
    return [(m, mi) for _o, m in plan_services.current(plan).measures() for mi in m.indicators]


def unmatched_leads(plan: Plan) -> list[tuple[str, str]]:
    """(measure id, lead) of measures with indicators whose lead is no organisation here:
    nobody owes their indicators until a manager assigns them."""
    idx = _org_index()
    seen = []
    for m, _mi in plan_indicators(plan):
        if m.lead.strip().lower() not in idx and (m.id, m.lead) not in seen:
            seen.append((m.id, m.lead or "—"))
    return seen


def _item_defaults(measure: Measure, mi: MeasureIndicator) -> dict[str, Any]:
    name, unit, by_sex = indicator_meta(mi)
    return {"name": name[:300], "unit": unit[:120], "kind": rules.value_kind(unit),
            "by_sex": by_sex}


# --- rounds ----------------------------------------------------------------------------------


@transaction.atomic
def open_round(request: Any, plan: Plan, *, period: str, deadline: dt.date,
               opens_on: dt.date | None = None, illustrative: bool = False) -> Round:
    """Open a round on ``plan`` with one form per organisation that leads a measure with
    indicators (matched by name or source-agency code)."""
    user = _user(request)
    if not manages(user, plan):
        raise MonitoringError(_("Only a policy officer of the plan's organisation opens "
                                "reporting rounds."))
    period = parse_period(period)
    doc = plan_services.current(plan)
    year = int(period[:4])
    if not doc.start_year <= year <= doc.end_year:
        raise MonitoringError(_("The plan runs from %(a)s to %(b)s: %(p)s is outside it.")
                              % {"a": doc.start_year, "b": doc.end_year, "p": period})
    opens_on = opens_on or today()
    if deadline < opens_on:
        raise MonitoringError(_("The deadline (%(d)s) is before the round opens (%(o)s).")
                              % {"d": deadline, "o": opens_on})
    if Round.objects.filter(plan=plan, period=period).exists():
        raise MonitoringError(_("This plan already has a round for %(p)s.") % {"p": period})
    rnd = Round.objects.create(plan=plan, period=period, opens_on=opens_on, deadline=deadline,
                               created_by=user, illustrative=illustrative)
    idx = _org_index()
    n = 0
    for m, mi in plan_indicators(plan):
        org = idx.get(m.lead.strip().lower())
        if org is None:
            continue
        form, _c = AgencyForm.objects.get_or_create(round=rnd, organisation=org)
        _i, created = FormItem.objects.get_or_create(
            form=form, measure_id=m.id, indicator_id=mi.indicator,
            defaults=_item_defaults(m, mi))
        n += created
    record(request, "monitoring.open_round", rnd, plan=plan.ident, period=period,
           deadline=deadline.isoformat(), forms=rnd.forms.count(), items=n)
    return rnd


def _not_closed(rnd: Round) -> None:
    if rnd.is_closed:
        raise StateError(_("Round %(p)s is closed: late submissions and changes are no "
                                "longer accepted. Ask the policy officer who runs it.")
                              % {"p": rnd.period})


@transaction.atomic
def add_item(request: Any, rnd: Round, org: Organisation, measure_id: str,
             indicator_id: str) -> FormItem:
    """A manager asks ``org`` for one more (measure, indicator) of the plan in this round."""
    user = _user(request)
    if not manages(user, rnd):
        raise MonitoringError(_("Only a policy officer of the plan's organisation changes "
                                "what agencies owe."))
    _not_closed(rnd)
    found = next(((m, mi) for m, mi in plan_indicators(rnd.plan)
                  if m.id == measure_id and mi.indicator == indicator_id), None)
    if found is None:
        raise MonitoringError(_("Measure %(m)s has no indicator %(i)s in the plan.")
                              % {"m": measure_id, "i": indicator_id})
    form, _c = AgencyForm.objects.get_or_create(round=rnd, organisation=org)
    if not form.editable:
        raise MonitoringError(_("%(org)s's form is %(state)s: it cannot change now.")
                              % {"org": org.name, "state": form.get_status_display()})
    if form.items.filter(measure_id=measure_id, indicator_id=indicator_id).exists():
        raise MonitoringError(_("%(org)s already owes %(i)s for measure %(m)s.")
                              % {"org": org.name, "i": indicator_id, "m": measure_id})
    item = FormItem.objects.create(form=form, measure_id=measure_id, indicator_id=indicator_id,
                                   added=True, **_item_defaults(*found))
    record(request, "monitoring.add_item", form, organisation=org.name, measure=measure_id,
           indicator=indicator_id)
    return item


@transaction.atomic
def remove_item(request: Any, item: FormItem) -> None:
    form = item.form
    user = _user(request)
    if not manages(user, form.round):
        raise MonitoringError(_("Only a policy officer of the plan's organisation changes "
                                "what agencies owe."))
    _not_closed(form.round)
    if not form.editable:
        raise MonitoringError(_("%(org)s's form is %(state)s: it cannot change now.")
                              % {"org": form.organisation.name,
                                 "state": form.get_status_display()})
    record(request, "monitoring.remove_item", form, organisation=form.organisation.name,
           measure=item.measure_id, indicator=item.indicator_id)
    item.delete()
    if not form.items.exists() and form.version == 0:
        form.delete()


@transaction.atomic
def close_round(request: Any, rnd: Round, *, at: dt.datetime | None = None) -> None:
    """Close the round: nothing more is saved or submitted (submitted forms can still be
    reviewed)."""
    user = _user(request)
    if not manages(user, rnd):
        raise MonitoringError(_("Only a policy officer of the plan's organisation closes "
                                "rounds."))
    if rnd.closed_at is None:
        rnd.closed_at = at or timezone.now()
        rnd.closed_by = user
        rnd.save(update_fields=["closed_at", "closed_by"])
        record(request, "monitoring.close_round", rnd, period=rnd.period)


# --- entry -----------------------------------------------------------------------------------


class Entry(NamedTuple):
    """One value as entered by web form, template or API."""

    measure_id: str
    indicator_id: str
    value: Any
    comment: str = ""
    sex: dict[str, Any] | None = None


def _infos(form: AgencyForm) -> list[rules.ItemInfo]:
    return [rules.ItemInfo(i.key, i.measure_id, i.indicator_id, i.name, i.kind, i.by_sex)
            for i in form.items.all()]


def current_values(form: AgencyForm) -> dict[str, Value]:
    return {v.item.key: v for v in Value.objects.filter(item__form=form).select_related("item")}


def snapshot(form: AgencyForm) -> dict[str, dict[str, Any]]:
    return {k: {"value": rules.fmt(v.value), "comment": v.comment, "sex": v.sex}
            for k, v in sorted(current_values(form).items())}


def previous_approved(form: AgencyForm) -> dict[str, tuple[str, Decimal]]:
    """The agency's last approved value for each item of ``form``: an earlier period of the
    same kind (year or quarter), same plan, organisation, measure and indicator."""
    rnd = form.round
    kind, key = period_kind(rnd.period), period_key(rnd.period)
    rows = (Value.objects.filter(item__form__organisation_id=form.organisation_id,
                                 item__form__round__plan_id=rnd.plan_id,
                                 item__form__status=Status.APPROVED)
            .exclude(item__form__round=rnd)
            .values_list("item__measure_id", "item__indicator_id", "item__form__round__period",
                         "value"))
    best: dict[str, tuple[str, Decimal]] = {}
    for m, i, p, v in rows:
        if period_kind(p) != kind or period_key(p) >= key:
            continue
        k = f"{m}/{i}"
        if k not in best or period_key(p) > period_key(best[k][0]):
            best[k] = (p, v)
    return best


def _validate(form: AgencyForm, entries: Iterable[Entry]
              ) -> tuple[dict[str, rules.Checked], set[str]]:
    """Check ``entries`` merged over the form's saved values; MonitoringError lists every
    problem. Returns every item's checked value and the keys the entries touch."""
    infos = _infos(form)
    known = {i.key for i in infos}
    proposed = {k: rules.Proposed(v.value, v.comment, dict(v.sex))
                for k, v in current_values(form).items()}
    touched: set[str] = set()
    problems = []
    for e in entries:
        key = f"{e.measure_id}/{e.indicator_id}"
        if key not in known:
            problems.append(_("Indicator %(i)s of measure %(m)s is not on %(org)s's form for "
                              "%(p)s.") % {"i": e.indicator_id, "m": e.measure_id,
                                           "org": form.organisation.name,
                                           "p": form.round.period})
            continue
        if key in touched:
            problems.append(_("Indicator %(i)s of measure %(m)s is given twice.")
                            % {"i": e.indicator_id, "m": e.measure_id})
            continue
        touched.add(key)
        proposed[key] = rules.Proposed(e.value, e.comment or "", dict(e.sex or {}))
    if problems:
        raise MonitoringError(problems)
    checked, problems = rules.check(infos, proposed, previous_approved(form),
                                    change_threshold())
    if problems:
        raise MonitoringError(problems)
    return checked, touched


def _entry_open(form: AgencyForm, at: dt.datetime) -> None:
    _not_closed(form.round)
    if timezone.localdate(at) < form.round.opens_on:
        raise StateError(_("Round %(p)s opens on %(d)s.") % {
            "p": form.round.period, "d": form.round.opens_on})
    if not form.editable:
        raise StateError(_("This form is %(state)s: it can no longer be changed.")
                              % {"state": form.get_status_display().lower()})


def _event(form: AgencyForm, kind: str, user: Any, at: dt.datetime, *, reason: str = "",
           via: str = "", late: bool = False) -> FormEvent:
    return FormEvent.objects.create(form=form, kind=kind, version=form.version, by=user, at=at,
                                    reason=reason, via=via, late=late, values=snapshot(form))


def _lock(form: AgencyForm) -> AgencyForm:
    return AgencyForm.objects.select_for_update().select_related("round", "organisation").get(
        pk=form.pk)


def _require_enter(user: Any, form: AgencyForm) -> None:
    if not may_enter(user, form):
        raise MonitoringError(_("Only %(org)s's reporters enter its values.")
                              % {"org": form.organisation.name})


def save_values(request: Any, form: AgencyForm, entries: Iterable[Entry], *, via: str = "web",
                at: dt.datetime | None = None) -> int:
    """Save a draft: the entries' values (an empty value clears one), checked against every
    rule with the form's other saved values. All or nothing. Returns how many changed."""
    _require_enter(_user(request), form)
    return _save(request, form, list(entries), via=via, at=at)


@transaction.atomic
def _save(request: Any, form: AgencyForm, entries: list[Entry], *, via: str,
          at: dt.datetime | None = None) -> int:
    user = _user(request)
    at = at or timezone.now()
    form = _lock(form)
    _entry_open(form, at)
    if not entries:
        raise MonitoringError(_("No values to save."))
    checked, touched = _validate(form, entries)
    items = {i.key: i for i in form.items.all()}
    existing = current_values(form)
    changed = 0
    for key in sorted(touched):
        c = checked[key]
        old = existing.get(key)
        if c.value is None:
            if old is not None:
                old.delete()
                changed += 1
            continue
        if old is not None and (old.value, old.comment, old.sex) == (c.value, c.comment, c.sex):
            continue
        Value.objects.update_or_create(item=items[key], defaults={
            "value": c.value, "comment": c.comment, "sex": c.sex, "updated_by": user,
            "updated_at": at})
        changed += 1
    if changed:
        _event(form, FormEvent.Kind.SAVED, user, at, via=via)
        record(request, "monitoring.save_values", form, values=changed, via=via,
               organisation=form.organisation.name, period=form.round.period)
    return changed


def submit(request: Any, form: AgencyForm, *, via: str = "web",
           at: dt.datetime | None = None) -> AgencyForm:
    """Submit the form for review: every indicator needs a value and every rule must hold;
    the form is read-only until a data steward returns it."""
    _require_enter(_user(request), form)
    return _submit(request, form, via=via, at=at)


@transaction.atomic
def _submit(request: Any, form: AgencyForm, *, via: str = "web",
            at: dt.datetime | None = None) -> AgencyForm:
    user = _user(request)
    at = at or timezone.now()
    form = _lock(form)
    _entry_open(form, at)
    values = current_values(form)
    missing = [i for i in form.items.all() if i.key not in values]
    if missing:
        raise MonitoringError(_("Enter a value for every indicator before submitting; "
                                "missing: %(items)s.") % {"items": "; ".join(
                                    rules.label(rules.ItemInfo(i.key, i.measure_id,
                                                               i.indicator_id, i.name, i.kind,
                                                               i.by_sex)) for i in missing)})
    _validate(form, [])  # the last approved values may have changed since the draft
    late = timezone.localdate(at) > form.round.deadline
    form.status = Status.SUBMITTED
    form.version += 1
    form.submitted_at = at
    form.submitted_by = user
    form.first_submitted_at = form.first_submitted_at or at
    form.save()
    _event(form, FormEvent.Kind.SUBMITTED, user, at, via=via, late=late)
    record(request, "monitoring.submit", form, version=form.version, late=late, via=via,
           organisation=form.organisation.name, period=form.round.period)
    return form


def review(request: Any, form: AgencyForm, decision: str, reason: str = "", *,
           at: dt.datetime | None = None) -> AgencyForm:
    """A data steward approves a submitted form (its values then count) or returns it with
    a reason (the agency corrects and submits again)."""
    if not may_review(_user(request), form):
        raise MonitoringError(_("Only a data steward of the plan's organisation reviews "
                                "forms."))
    return _review(request, form, decision, reason, at=at)


@transaction.atomic
def _review(request: Any, form: AgencyForm, decision: str, reason: str = "", *,
            at: dt.datetime | None = None) -> AgencyForm:
    user = _user(request)
    at = at or timezone.now()
    form = _lock(form)
    if form.status != Status.SUBMITTED:
        raise StateError(_("Only a submitted form can be reviewed; this one is %(s)s.")
                              % {"s": form.get_status_display().lower()})
    reason = (reason or "").strip()
    if decision == "return":
        if not reason:
            raise MonitoringError(_("Say why the form is returned: the agency reads it to "
                                    "correct its values."))
        form.status = Status.RETURNED
    elif decision == "approve":
        form.status = Status.APPROVED
    else:
        raise MonitoringError(_("Choose approve or return."))
    form.decided_at = at
    form.decided_by = user
    form.save()
    kind = FormEvent.Kind.APPROVED if decision == "approve" else FormEvent.Kind.RETURNED
    _event(form, kind, user, at, reason=reason)
    record(request, f"monitoring.{decision}", form, version=form.version,
           organisation=form.organisation.name, period=form.round.period)
    return form


# --- reading: form page ----------------------------------------------------------------------


@dataclass
class ItemRow:
    item: FormItem
    value: Value | None
    previous: tuple[str, Decimal] | None

    @property
    def shown(self) -> str:
        return rules.fmt(self.value.value) if self.value is not None else ""


def item_rows(form: AgencyForm) -> list[ItemRow]:
    values = current_values(form)
    prev = previous_approved(form)
    return [ItemRow(i, values.get(i.key), prev.get(i.key)) for i in form.items.all()]


# --- completeness and timeliness -------------------------------------------------------------


@dataclass
class FormState:
    """One agency's form in one round, as the completeness table shows it."""

    form: AgencyForm
    submitted: bool
    on_time: bool
    approved: bool
    returned: bool
    #: days after the deadline of the first submission (or of today, when not submitted)
    days_late: int
    overdue: bool

    @property
    def state(self) -> str:
        if self.approved:
            return "approved"
        if self.returned:
            return "returned"
        if self.submitted:
            return "submitted"
        return "overdue" if self.overdue else "open"


@dataclass
class Completeness:
    expected: int
    submitted: int
    on_time: int
    approved: int
    returned: int
    rows: list[FormState]

    @property
    def completeness(self) -> float | None:
        """Share of expected forms submitted, in percent (None when none expected)."""
        return 100.0 * self.submitted / self.expected if self.expected else None

    @property
    def timeliness(self) -> float | None:
        """Share of expected forms submitted by the deadline, in percent."""
        return 100.0 * self.on_time / self.expected if self.expected else None

    def as_dict(self) -> dict[str, Any]:
        return {"expected": self.expected, "submitted": self.submitted,
                "on_time": self.on_time, "approved": self.approved, "returned": self.returned,
                "completeness": self.completeness, "timeliness": self.timeliness,
                "agencies": [{"organisation": r.form.organisation.name, "form": r.form.pk,
                              "status": r.form.status, "state": r.state,
                              "submitted": r.submitted, "on_time": r.on_time,
                              "approved": r.approved, "returned": r.returned,
                              "days_late": r.days_late,
                              "first_submitted_at": (r.form.first_submitted_at.isoformat()
                                                     if r.form.first_submitted_at else None)}
                             for r in self.rows]}


def form_state(form: AgencyForm, deadline: dt.date, day: dt.date) -> FormState:
    """Timeliness counts the first submission: on time when made on or before the deadline
    (local date). A form not submitted is overdue once the deadline has passed."""
    first = form.first_submitted_at
    if first is not None:
        submitted_on = timezone.localdate(first)
        late = max(0, (submitted_on - deadline).days)
        return FormState(form, True, late == 0, form.status == Status.APPROVED,
                         form.status == Status.RETURNED, late, False)
    late = max(0, (day - deadline).days)
    return FormState(form, False, False, False, False, late, late > 0)


def completeness(rnd: Round, day: dt.date | None = None,
                 forms: Iterable[AgencyForm] | None = None) -> Completeness:
    """Forms expected, submitted, submitted on time, approved and returned (now waiting for
    correction) in a round, with one row per agency."""
    day = day or today()
    if forms is None:
        forms = rnd.forms.select_related("organisation").filter(items__isnull=False).distinct()
    rows = [form_state(f, rnd.deadline, day) for f in forms]
    return Completeness(expected=len(rows), submitted=sum(r.submitted for r in rows),
                        on_time=sum(r.on_time for r in rows),
                        approved=sum(r.approved for r in rows),
                        returned=sum(r.returned for r in rows), rows=rows)


@dataclass
class Overview:
    rounds: list[Round]
    #: organisation name -> [FormState or None per round]
    agencies: list[tuple[str, list[FormState | None], dict[str, int]]]


def overview(user: Any, day: dt.date | None = None) -> Overview:
    """The completeness dashboard: rounds (columns, oldest first) by agencies (rows), with each
    agency's totals: forms expected, submitted, on time, approved."""
    day = day or today()
    forms = list(forms_for(user).filter(items__isnull=False).distinct()
                 .select_related("round", "round__plan", "organisation"))
    rounds = sorted({f.round for f in forms}, key=lambda r: (r.plan_id, period_key(r.period)))
    cells: dict[str, dict[int, FormState]] = defaultdict(dict)
    for f in forms:
        cells[f.organisation.name][f.round_id] = form_state(f, f.round.deadline, day)
    agencies = []
    for name in sorted(cells):
        row = [cells[name].get(r.pk) for r in rounds]
        states = [s for s in row if s is not None]
        agencies.append((name, row, {"expected": len(states),
                                     "submitted": sum(s.submitted for s in states),
                                     "on_time": sum(s.on_time for s in states),
                                     "approved": sum(s.approved for s in states)}))
    return Overview(rounds, agencies)


def late_forms(user: Any, day: dt.date | None = None) -> list[FormState]:
    """Forms of open rounds the user manages whose deadline passed without a submission, or
    returned and not yet corrected after the deadline."""
    day = day or today()
    forms = (AgencyForm.objects.filter(round__in=rounds_for(user), round__closed_at__isnull=True,
                                       round__deadline__lt=day,
                                       status__in=[Status.DRAFT, Status.RETURNED])
             .select_related("round", "round__plan", "organisation")
             .order_by("round__deadline", "organisation__name"))
    return [form_state(f, f.round.deadline, day) for f in forms]


# --- approved values (what scorecards read) --------------------------------------------------


class ApprovedValue(NamedTuple):
    period: str
    value: float
    round_id: int
    organisation: str


def approved_values(plan: Plan) -> dict[tuple[str, str], list[ApprovedValue]]:
    """Every approved value of ``plan``'s rounds, by (measure id, indicator id), in
    chronological order of period (a year after its quarters): ``(period, value, round id,
    organisation name)``. Only forms a data steward approved count; drafts, submitted and
    returned forms never appear."""
    rows = (Value.objects.filter(item__form__round__plan=plan,
                                 item__form__status=Status.APPROVED)
            .values_list("item__measure_id", "item__indicator_id", "item__form__round__period",
                         "value", "item__form__round_id", "item__form__organisation__name"))
    out: dict[tuple[str, str], list[ApprovedValue]] = defaultdict(list)
    for m, i, p, v, r, o in rows:
        out[(m, i)].append(ApprovedValue(p, float(v), r, o))
    for lst in out.values():
        lst.sort(key=lambda a: (period_key(a.period), a.organisation))
    return dict(out)


def latest_approved(plan: Plan, measure_id: str, indicator_id: str) -> ApprovedValue | None:
    """The most recent approved value of one measure's indicator (None: none approved yet)."""
    found = approved_values(plan).get((measure_id, indicator_id))
    return found[-1] if found else None


# --- reminders -------------------------------------------------------------------------------


def _recipients(form: AgencyForm) -> list[str]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(profile__organisation=form.organisation,
                                            is_active=True).exclude(email="")
    return sorted({u.email for u in users if can(u, "indicators.submit")})


def _reminder_text(form: AgencyForm, kind: str, day: dt.date) -> tuple[str, str]:
    from django.urls import reverse

    rnd = form.round
    base = str(getattr(settings, "TIPLAB_PUBLIC_URL", "")).rstrip("/")
    link = base + reverse("monitoring:form", args=[form.pk])
    n = form.items.count()
    if kind == ReminderSent.Kind.BEFORE:
        subject = _("Reminder: %(plan)s, indicator values for %(p)s due on %(d)s") % {
            "plan": rnd.plan.ident, "p": rnd.period, "d": rnd.deadline.isoformat()}
        lead = _("%(org)s's indicator values for %(p)s (%(n)d indicators) are due on %(d)s, "
                 "in %(days)d days.") % {"org": form.organisation.name, "p": rnd.period, "n": n,
                                          "d": rnd.deadline.isoformat(),
                                          "days": (rnd.deadline - day).days}
    else:
        subject = _("Overdue: %(plan)s, indicator values for %(p)s (deadline %(d)s)") % {
            "plan": rnd.plan.ident, "p": rnd.period, "d": rnd.deadline.isoformat()}
        lead = _("%(org)s's indicator values for %(p)s (%(n)d indicators) were due on %(d)s "
                 "and have not been submitted. Please submit them as soon as you can.") % {
            "org": form.organisation.name, "p": rnd.period, "n": n,
            "d": rnd.deadline.isoformat()}
    body = "\n\n".join([lead, _("Enter them here: %(link)s") % {"link": link},
                        _("This message was sent once by tiplab; you will not get it again "
                          "for this round.")])
    return subject, body


def send_reminders(day: dt.date | None = None) -> dict[str, int]:
    """Send the reminders due on ``day``: ``before`` (the deadline is ``reminder_days()`` away
    or less) and ``late`` (the deadline passed), to the agency reporters of every form of an
    open round not yet submitted (or returned and not resubmitted). Each (form, kind) is sent
    at most once: the :class:`ReminderSent` row is written in the same transaction as the
    e-mail goes out. A form with no one to write to is left for a later run."""
    from django.core.mail import send_mail

    day = day or today()
    sent = {"before": 0, "late": 0, "skipped_no_recipient": 0}
    forms = (AgencyForm.objects.filter(round__closed_at__isnull=True, round__opens_on__lte=day,
                                       status__in=[Status.DRAFT, Status.RETURNED],
                                       items__isnull=False).distinct()
             .select_related("round", "round__plan", "organisation"))
    for form in forms:
        deadline = form.round.deadline
        if day > deadline:
            kind = ReminderSent.Kind.LATE
        elif (deadline - day).days <= reminder_days():
            kind = ReminderSent.Kind.BEFORE
        else:
            continue
        if ReminderSent.objects.filter(form=form, kind=kind).exists():
            continue
        to = _recipients(form)
        if not to:
            sent["skipped_no_recipient"] += 1
            continue
        with transaction.atomic():
            _r, created = ReminderSent.objects.get_or_create(
                form=form, kind=kind, defaults={"sent_at": timezone.now(),
                                                "recipients": len(to)})
            if not created:
                continue
            subject, body = _reminder_text(form, kind, day)
            send_mail(subject, body, None, to)
            record(None, "monitoring.reminder", form, kind=kind, recipients=len(to),
                   organisation=form.organisation.name, period=form.round.period)
        sent[kind] += 1
    return sent
