"""Working groups: who sees what, and every change (the single write gate).

Scoping: the policy officers, analysts, data stewards and administrators of the convening
organisation see all its groups; anyone else with ``groups.view`` sees the groups where their
organisation or they themselves hold a current membership. A group the user may not see is a
404 (``get_object_for``), so its existence does not leak. Managing (``groups.manage``) is for
the convening organisation's drafting team.

Every write checks the whole change first and lands in one transaction with its audit entry
(``group.*`` actions, each with the group's id in ``details`` so the group page can show its
history). Problems are raised as :class:`GroupError`, whose ``field`` says where.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from tiplab_web.audit.services import record
from tiplab_web.core import roles as R
from tiplab_web.core.access import can, get_object_for, has_role, organisation_of

from .models import ActionItem, Attendance, Decision, Group, Meeting, Membership

#: roles that see every group of their own organisation (the others see the groups they are in)
SEE_ALL_ROLES = (R.POLICY_OFFICER, R.ANALYST, R.DATA_STEWARD, R.ADMINISTRATOR)


class GroupError(Exception):
    """A change refused; ``str(e)`` says what is wrong, ``field`` where (a form field)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def today() -> dt.date:
    return timezone.localdate()


def _user(request_or_user: Any) -> Any:
    return getattr(request_or_user, "user", request_or_user)


# --- who sees what ---------------------------------------------------------------------------


def member_filter(user: Any, day: dt.date | None = None) -> Q:
    """Current memberships of ``user`` or of their organisation (as a Membership filter)."""
    day = day or today()
    org = organisation_of(user)
    who = Q(user=user) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
    if org is not None:
        who |= Q(organisation=org)
    return who & Q(start__lte=day) & (Q(end__isnull=True) | Q(end__gte=day))


def groups_for(user: Any) -> QuerySet[Group]:
    """The groups ``user`` may see."""
    if not can(user, "groups.view"):
        return Group.objects.none()
    org = organisation_of(user)
    mine = Membership.objects.filter(member_filter(user)).values("group_id")
    visible = Q(pk__in=mine)
    if org is not None and has_role(user, *SEE_ALL_ROLES):
        visible |= Q(organisation=org)
    return Group.objects.filter(visible)


def managed_groups(user: Any) -> QuerySet[Group]:
    """The groups ``user`` may change: their own organisation's, with ``groups.manage``."""
    org = organisation_of(user)
    if org is None or not can(user, "groups.manage"):
        return Group.objects.none()
    return Group.objects.filter(organisation=org)


def get_group_for(user: Any, pk: int) -> Group:
    return get_object_for(user, groups_for(user).select_related("plan", "organisation"), pk=pk)


def get_managed_group(user: Any, pk: int) -> Group:
    return get_object_for(user, managed_groups(user).select_related("plan"), pk=pk)


def get_meeting_for(user: Any, pk: int) -> Meeting:
    return get_object_for(user, Meeting.objects.filter(group__in=groups_for(user))
                          .select_related("group", "group__plan"), pk=pk)


def get_managed_meeting(user: Any, pk: int) -> Meeting:
    return get_object_for(user, Meeting.objects.filter(group__in=managed_groups(user))
                          .select_related("group", "group__plan"), pk=pk)


def get_action_for(user: Any, pk: int) -> ActionItem:
    return get_object_for(user, ActionItem.objects.filter(group__in=groups_for(user))
                          .select_related("group", "meeting", "owner", "decision",
                                          "owner__organisation"), pk=pk)


def may_manage(user: Any, group: Group) -> bool:
    return managed_groups(user).filter(pk=group.pk).exists()


def may_update(user: Any, item: ActionItem) -> bool:
    """The group's managers, and the item's owner: the linked account, or anyone of the
    owning organisation."""
    if may_manage(user, item.group):
        return True
    owner = item.owner
    if owner is None:
        return False
    if owner.user_id is not None and owner.user_id == getattr(user, "pk", None):
        return True
    org = organisation_of(user)
    return org is not None and owner.organisation_id == org.pk


# --- measures of the linked plan -------------------------------------------------------------


def measure_titles(plan: Any) -> dict[str, str]:
    """Measure id -> title in the plan's latest revision (empty without a plan)."""
    if plan is None:
        return {}
    from tiplab_web.plans import services as plans

    try:
        doc = plans.current(plan)
    except plans.PlanServiceError:
        return {}
    return {m.id: m.title for _o, m in doc.measures()}


def parse_ids(text: str | Iterable[str]) -> list[str]:
    """Measure ids from ``PV1.1, PR1.2`` (commas or spaces), in order, once each."""
    items = re.split(r"[,\s;]+", text) if isinstance(text, str) else list(text)
    out: list[str] = []
    for x in (str(i).strip() for i in items):
        if x and x not in out:
            out.append(x)
    return out


def check_measures(plan: Any, ids: list[str], field: str = "measures") -> list[str]:
    """``ids`` if they are all measures of ``plan``; else a :class:`GroupError` naming them."""
    if not ids:
        return []
    if plan is None:
        raise GroupError(_("Link the group to a plan before naming its measures."), field)
    known = measure_titles(plan)
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise GroupError(
            _("Not a measure of plan %(plan)s: %(ids)s. Its measures are %(known)s.")
            % {"plan": plan.ident, "ids": ", ".join(unknown),
               "known": ", ".join(known) or "–"}, field)
    return ids


# --- groups ----------------------------------------------------------------------------------


def _check_period(active_from: dt.date | None, active_to: dt.date | None) -> None:
    if active_from and active_to and active_to < active_from:
        raise GroupError(_("The group ends (%(to)s) before it starts (%(fr)s).")
                         % {"to": active_to.isoformat(), "fr": active_from.isoformat()},
                         "active_to")


def _check_plan(org: Any, plan: Any) -> None:
    if plan is not None and plan.organisation_id != org.pk:
        raise GroupError(_("That plan belongs to another organisation."), "plan")


@transaction.atomic
def create_group(request: Any, org: Any, *, name: str, kind: str = Group.Kind.WORKING_GROUP,
                 mandate: str = "", plan: Any = None, measures: Iterable[str] | str = (),
                 active_from: dt.date | None = None, active_to: dt.date | None = None,
                 pseudonymous: bool = False) -> Group:
    name = name.strip()
    if not name:
        raise GroupError(_("Give the group a name."), "name")
    if kind not in Group.Kind.values:
        raise GroupError(_("Unknown kind of group."), "kind")
    if Group.objects.filter(organisation=org, name__iexact=name).exists():
        raise GroupError(_("Your organisation already has a group named %(name)s.")
                         % {"name": name}, "name")
    _check_period(active_from, active_to)
    _check_plan(org, plan)
    ids = check_measures(plan, parse_ids(measures))
    group = Group.objects.create(
        organisation=org, name=name, kind=kind, mandate=mandate.strip(), plan=plan,
        measures=ids, active_from=active_from, active_to=active_to, pseudonymous=pseudonymous,
        created_by=_user(request))
    record(request, "group.created", group, group=group.pk, kind=kind,
           plan=plan.ident if plan else None, measures=ids)
    return group


@transaction.atomic
def update_group(request: Any, group: Group, *, name: str, kind: str, mandate: str = "",
                 plan: Any = None, measures: Iterable[str] | str = (),
                 active_from: dt.date | None = None, active_to: dt.date | None = None,
                 pseudonymous: bool = False) -> Group:
    group = Group.objects.select_for_update().get(pk=group.pk)
    name = name.strip()
    if not name:
        raise GroupError(_("Give the group a name."), "name")
    if kind not in Group.Kind.values:
        raise GroupError(_("Unknown kind of group."), "kind")
    if Group.objects.filter(organisation=group.organisation, name__iexact=name) \
            .exclude(pk=group.pk).exists():
        raise GroupError(_("Your organisation already has a group named %(name)s.")
                         % {"name": name}, "name")
    _check_period(active_from, active_to)
    _check_plan(group.organisation, plan)
    ids = check_measures(plan, parse_ids(measures))
    if pseudonymous and group.memberships.filter(user__isnull=False).exists():
        raise GroupError(_("Some members have an account linked; a group whose members are "
                           "named by pseudonyms only links none. End those memberships "
                           "first."), "pseudonymous")
    new = {"name": name, "kind": kind, "mandate": mandate.strip(), "plan_id":
           plan.pk if plan else None, "measures": ids, "active_from": active_from,
           "active_to": active_to, "pseudonymous": pseudonymous}
    changed = sorted(k.removesuffix("_id") for k, v in new.items() if getattr(group, k) != v)
    for k, v in new.items():
        setattr(group, k, v)
    group.save()
    if changed:
        record(request, "group.updated", group, group=group.pk, changed=changed)
    return group


# --- members ---------------------------------------------------------------------------------


@transaction.atomic
def add_member(request: Any, group: Group, *, organisation: Any = None, person: str = "",
               user: Any = None, role: str = Membership.Role.MEMBER,
               start: dt.date | None = None) -> Membership:
    person = person.strip()
    if organisation is None and not person:
        raise GroupError(_("Name the member: an organisation, a person, or both."),
                         "organisation")
    if role not in Membership.Role.values:
        raise GroupError(_("Unknown role."), "role")
    if group.pseudonymous and user is not None:
        raise GroupError(_("Members of this group are named by pseudonyms only: no account "
                           "is linked, so no one can be identified through it."), "user")
    start = start or today()
    if role == Membership.Role.CHAIR and group.memberships.filter(
            role=Membership.Role.CHAIR, end__isnull=True).exists():
        raise GroupError(_("The group has a chair. End that membership first, or add this "
                           "member with another role."), "role")
    m = Membership.objects.create(group=group, organisation=organisation, person=person,
                                  user=user, role=role, start=start)
    # the person's name (or pseudonym) stays out of the audit log: ids only
    record(request, "group.member_added", m, group=group.pk, role=role,
           organisation=organisation.pk if organisation else None,
           user=user.pk if user else None)
    return m


@transaction.atomic
def end_member(request: Any, membership: Membership, end: dt.date | None = None) -> Membership:
    m = Membership.objects.select_for_update().get(pk=membership.pk)
    end = end or today()
    if m.end is not None:
        raise GroupError(_("This membership already ended on %(d)s.")
                         % {"d": m.end.isoformat()}, "end")
    if end < m.start:
        raise GroupError(_("The end (%(e)s) is before the start of the membership (%(s)s).")
                         % {"e": end.isoformat(), "s": m.start.isoformat()}, "end")
    m.end = end
    m.save(update_fields=["end"])
    record(request, "group.member_ended", m, group=m.group_id, end=end.isoformat())
    return m


def current_members(group: Group, day: dt.date | None = None) -> list[Membership]:
    day = day or today()
    return [m for m in group.memberships.select_related("organisation", "user")
            if m.active_on(day)]


# --- meetings --------------------------------------------------------------------------------


def _check_meeting(date: dt.date | None, online: bool, place: str, status: str,
                   on: dt.date) -> dt.date:
    if date is None:
        raise GroupError(_("Give the meeting's date."), "date")
    if not online and not place.strip():
        raise GroupError(_("Say where the meeting is, or tick online."), "place")
    if status not in Meeting.Status.values:
        raise GroupError(_("Unknown status."), "status")
    if status == Meeting.Status.HELD and date > on:
        raise GroupError(_("The meeting is on %(d)s: it cannot have been held yet.")
                         % {"d": date.isoformat()}, "status")
    return date


@transaction.atomic
def add_meeting(request: Any, group: Group, *, date: dt.date | None, online: bool = False,
                place: str = "", agenda: str = "", status: str = Meeting.Status.PLANNED,
                on: dt.date | None = None) -> Meeting:
    date = _check_meeting(date, online, place, status, on or today())
    meeting = Meeting.objects.create(group=group, date=date, online=online,
                                     place=place.strip(), agenda=agenda.strip(),
                                     status=status)
    record(request, "group.meeting_added", meeting, group=group.pk, date=date.isoformat(),
           status=status)
    return meeting


@transaction.atomic
def update_meeting(request: Any, meeting: Meeting, *, date: dt.date | None, online: bool,
                   place: str, agenda: str, status: str, on: dt.date | None = None) -> Meeting:
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    date = _check_meeting(date, online, place, status, on or today())
    if date != meeting.date:
        early = meeting.action_items.filter(due__lt=date).order_by("due").first()
        if early is not None:
            raise GroupError(_("An action item of this meeting is due on %(d)s, before the "
                               "new date.") % {"d": early.due.isoformat()}, "date")
    new = {"date": date, "online": online, "place": place.strip(), "agenda": agenda.strip(),
           "status": status}
    changed = sorted(k for k, v in new.items() if getattr(meeting, k) != v)
    for k, v in new.items():
        setattr(meeting, k, v)
    meeting.save()
    if changed:
        record(request, "group.meeting_updated", meeting, group=meeting.group_id,
               changed=changed, status=status)
    return meeting


def _held_or_past(meeting: Meeting, on: dt.date, what: str) -> None:
    if meeting.status == Meeting.Status.CANCELLED:
        raise GroupError(_("The meeting was cancelled: it has no %(what)s.") % {"what": what})
    if meeting.date > on:
        raise GroupError(_("The meeting is on %(d)s: record its %(what)s after it.")
                         % {"d": meeting.date.isoformat(), "what": what})


@transaction.atomic
def save_minutes(request: Any, meeting: Meeting, text: str, *,
                 on: dt.date | None = None) -> Meeting:
    """Write the minutes; the meeting is then held."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    text = text.strip()
    if not text:
        raise GroupError(_("The minutes are empty: write what was discussed before saving."),
                         "minutes")
    _held_or_past(meeting, on or today(), _("minutes"))
    first = not meeting.minutes
    meeting.minutes = text
    meeting.status = Meeting.Status.HELD
    meeting.save(update_fields=["minutes", "status", "updated_at"])
    record(request, "group.minutes_saved", meeting, group=meeting.group_id, first=first,
           length=len(text))
    return meeting


@transaction.atomic
def record_attendance(request: Any, meeting: Meeting, marks: dict[int, str], *,
                      on: dt.date | None = None) -> int:
    """Attendance per membership id (present / apologies / absent; empty clears it). Only
    members on the meeting's date; the meeting is then held. Returns how many are recorded."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    _held_or_past(meeting, on or today(), _("attendance"))
    members = {m.pk: m for m in meeting.group.memberships.all()}
    for mid, status in marks.items():
        m = members.get(mid)
        if m is None or not m.active_on(meeting.date):
            raise GroupError(_("Membership %(id)s was not a member on %(d)s.")
                             % {"id": mid, "d": meeting.date.isoformat()})
        if status and status not in Attendance.Status.values:
            raise GroupError(_("Unknown attendance %(s)s for %(who)s.")
                             % {"s": status, "who": m.label})
    for mid, status in marks.items():
        if status:
            Attendance.objects.update_or_create(meeting=meeting, membership_id=mid,
                                                defaults={"status": status})
        else:
            Attendance.objects.filter(meeting=meeting, membership_id=mid).delete()
    if meeting.status != Meeting.Status.HELD:
        meeting.status = Meeting.Status.HELD
        meeting.save(update_fields=["status", "updated_at"])
    n = meeting.attendance.count()
    record(request, "group.attendance", meeting, group=meeting.group_id, recorded=n,
           present=meeting.attendance.filter(status=Attendance.Status.PRESENT).count())
    return n


# --- decisions and action items --------------------------------------------------------------


@transaction.atomic
def add_decision(request: Any, meeting: Meeting, *, text: str,
                 measures: Iterable[str] | str = (), on: dt.date | None = None) -> Decision:
    text = text.strip()
    if not text:
        raise GroupError(_("The decision is empty: write what was decided."), "text")
    _held_or_past(meeting, on or today(), _("decisions"))
    ids = check_measures(meeting.group.plan, parse_ids(measures))
    d = Decision.objects.create(meeting=meeting, text=text, measures=ids,
                                created_by=_user(request))
    record(request, "group.decision_added", d, group=meeting.group_id, meeting=meeting.pk,
           measures=ids)
    return d


def _check_owner(group: Group, owner: Membership | None, on: dt.date) -> None:
    if owner is None:
        return
    if owner.group_id != group.pk:
        raise GroupError(_("The owner is not a member of this group."), "owner")
    if owner.end is not None and owner.end < on:
        raise GroupError(_("%(who)s left the group on %(d)s: choose a current member.")
                         % {"who": owner.label, "d": owner.end.isoformat()}, "owner")


@transaction.atomic
def add_action(request: Any, meeting: Meeting, *, description: str,
               owner: Membership | None = None, due: dt.date | None = None,
               measure: str = "", decision: Decision | None = None, notes: str = "",
               on: dt.date | None = None) -> ActionItem:
    """An action item agreed at ``meeting`` (optionally under one of its decisions)."""
    group = meeting.group
    description = description.strip()
    if not description:
        raise GroupError(_("Describe the action."), "description")
    if meeting.status == Meeting.Status.CANCELLED:
        raise GroupError(_("The meeting was cancelled: it agreed no actions."))
    _check_owner(group, owner, on or today())
    if due is not None and due < meeting.date:
        raise GroupError(_("The due date (%(due)s) is before the meeting (%(m)s).")
                         % {"due": due.isoformat(), "m": meeting.date.isoformat()}, "due")
    if decision is not None and decision.meeting_id != meeting.pk:
        raise GroupError(_("That decision was taken at another meeting."), "decision")
    measure = measure.strip()
    if measure:
        check_measures(group.plan, [measure], "measure")
    item = ActionItem.objects.create(
        group=group, meeting=meeting, decision=decision, description=description,
        owner=owner, due=due, measure=measure, notes=notes.strip(), created_by=_user(request))
    record(request, "group.action_added", item, group=group.pk, meeting=meeting.pk,
           owner=owner.pk if owner else None, due=due.isoformat() if due else None,
           measure=measure)
    return item


@transaction.atomic
def update_action(request: Any, item: ActionItem, *, status: str,
                  done_on: dt.date | None = None, notes: str | None = None,
                  on: dt.date | None = None) -> ActionItem:
    """Change an item's status (done needs a date: today unless given) and notes."""
    item = ActionItem.objects.select_for_update().select_related("meeting").get(pk=item.pk)
    day = on or today()
    if status not in ActionItem.Status.values:
        raise GroupError(_("Unknown status."), "status")
    if status == ActionItem.Status.DONE:
        done_on = done_on or day
        if done_on > day:
            raise GroupError(_("The done date (%(d)s) is in the future.")
                             % {"d": done_on.isoformat()}, "done_on")
        if item.meeting is not None and done_on < item.meeting.date:
            raise GroupError(_("The done date (%(d)s) is before the meeting that agreed the "
                               "action (%(m)s).") % {"d": done_on.isoformat(),
                                                    "m": item.meeting.date.isoformat()},
                             "done_on")
    else:
        done_on = None
    before = (item.status, item.done_on, item.notes)
    item.status, item.done_on = status, done_on
    if notes is not None:
        item.notes = notes.strip()
    item.save()
    if (item.status, item.done_on, item.notes) != before:
        record(request, "group.action_updated", item, group=item.group_id, status=status,
               previous=before[0], done_on=done_on.isoformat() if done_on else None,
               notes_changed=item.notes != before[2])
    return item


# --- figures ---------------------------------------------------------------------------------


def overdue(items: QuerySet[ActionItem], day: dt.date | None = None) -> QuerySet[ActionItem]:
    """Open and past the due date."""
    return items.filter(status=ActionItem.Status.OPEN, due__lt=day or today())


def with_counts(groups: QuerySet[Group], day: dt.date | None = None) -> QuerySet[Group]:
    """``open_items`` and ``overdue_items`` on every group."""
    day = day or today()
    is_open = Q(action_items__status=ActionItem.Status.OPEN)
    return groups.annotate(
        open_items=Count("action_items", filter=is_open, distinct=True),
        overdue_items=Count("action_items", filter=is_open & Q(action_items__due__lt=day),
                            distinct=True))


def rate(present: int, recorded: int) -> float | None:
    return present / recorded if recorded else None


def pct(x: float | None) -> int | None:
    """A rate in whole percent (None stays None: nothing recorded)."""
    return None if x is None else round(100 * x)


def meeting_attendance(meeting: Meeting) -> dict[str, Any]:
    """Counts per attendance status and the rate present / recorded (None when no one is
    recorded)."""
    counts = dict.fromkeys(Attendance.Status.values, 0)
    for status in meeting.attendance.values_list("status", flat=True):
        counts[status] += 1
    recorded = sum(counts.values())
    r = rate(counts[Attendance.Status.PRESENT], recorded)
    return {"counts": counts, "recorded": recorded, "rate": r, "pct": pct(r)}


def member_attendance(group: Group) -> dict[int, dict[str, Any]]:
    """Per membership id: meetings recorded, present, and the rate — over the group's held
    meetings where the member's attendance was recorded (apologies count as not present)."""
    out: dict[int, dict[str, Any]] = {}
    rows = Attendance.objects.filter(meeting__group=group,
                                     meeting__status=Meeting.Status.HELD) \
        .values_list("membership_id", "status")
    for mid, status in rows:
        x = out.setdefault(mid, {"recorded": 0, "present": 0, "rate": None, "pct": None})
        x["recorded"] += 1
        x["present"] += status == Attendance.Status.PRESENT
    for x in out.values():
        x["rate"] = rate(x["present"], x["recorded"])
        x["pct"] = pct(x["rate"])
    return out


# --- views across groups ---------------------------------------------------------------------


def my_actions(user: Any) -> QuerySet[ActionItem]:
    """Action items owned by ``user``'s memberships (their account, or their organisation's
    memberships), in the groups they may see."""
    org = organisation_of(user)
    who = Q(owner__user=user)
    if org is not None:
        who |= Q(owner__organisation=org)
    return ActionItem.objects.filter(who, group__in=groups_for(user)) \
        .select_related("group", "owner", "owner__organisation", "meeting")


def visible_overdue(user: Any, day: dt.date | None = None) -> QuerySet[ActionItem]:
    return overdue(ActionItem.objects.filter(group__in=groups_for(user)), day) \
        .select_related("group", "owner", "owner__organisation").order_by("due", "id")


@dataclass
class MeasureGroup:
    """A group on a plan measure: whether it follows the measure and its open action items
    on it (their own link, or their decision's)."""

    group: Group
    follows: bool
    open_items: list[ActionItem] = field(default_factory=list)
    overdue: int = 0


def groups_for_measure(plan: Any, measure_id: str, *, user: Any = None,
                       day: dt.date | None = None) -> list[MeasureGroup]:
    """The groups that follow ``measure_id`` of ``plan`` or hold action items on it, with
    their open action items on the measure. With ``user``, only the groups they may see."""
    day = day or today()
    groups = Group.objects.filter(plan=plan)
    if user is not None:
        groups = groups.filter(pk__in=groups_for(user).values("pk"))
    items = ActionItem.objects.filter(group__in=groups, status=ActionItem.Status.OPEN) \
        .select_related("owner", "owner__organisation", "decision").order_by("due", "id")
    on_measure: dict[int, list[ActionItem]] = {}
    for it in items:
        if it.measure == measure_id or (it.decision is not None
                                        and measure_id in (it.decision.measures or [])):
            on_measure.setdefault(it.group_id, []).append(it)
    out = []
    for g in groups.order_by("name"):
        follows = measure_id in (g.measures or [])
        if follows or g.pk in on_measure:
            its = on_measure.get(g.pk, [])
            out.append(MeasureGroup(g, follows, its, sum(i.overdue_on(day) for i in its)))
    return out


#: the audit actions of this app, in words
ACTIONS = {
    "group.created": _l("group created"), "group.updated": _l("group edited"),
    "group.member_added": _l("member added"), "group.member_ended": _l("membership ended"),
    "group.meeting_added": _l("meeting added"), "group.meeting_updated": _l("meeting edited"),
    "group.minutes_saved": _l("minutes saved"), "group.attendance": _l("attendance recorded"),
    "group.decision_added": _l("decision recorded"), "group.action_added": _l("action added"),
    "group.action_updated": _l("action updated"),
}


def history(group: Group, limit: int = 30) -> list[dict[str, Any]]:
    """The group's recent changes from the audit log: when, who, what (reads, such as
    exports of the minutes, are in the audit log but not here)."""
    from tiplab_web.audit.models import AuditEntry

    entries = AuditEntry.objects.filter(action__in=list(ACTIONS), details__group=group.pk) \
        .order_by("-id")[:limit]
    return [{"when": e.created_at, "who": e.actor_username or "–",
             "what": ACTIONS.get(e.action, e.action)} for e in entries]
