"""Working groups in the JSON API (read-only): the groups the token's owner may see, and one
group with its members, meetings and action items. Scoped exactly like the pages
(``services.groups_for``): analysts see their organisation's groups, agency reporters the
groups their organisation or they are members of; any other group is a 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from tiplab_web.api import ERROR_RESPONSES, require

from . import services

router = Router(tags=["groups"])


class GroupOut(Schema):
    id: int
    name: str
    kind: str
    organisation: str
    plan: str | None
    measures: list[str]
    active_from: dt.date | None
    active_to: dt.date | None
    open_items: int
    overdue_items: int


class MemberOut(Schema):
    id: int
    name: str
    organisation: str | None
    role: str
    start: dt.date
    end: dt.date | None


class AttendanceOut(Schema):
    member: int
    status: str


class DecisionOut(Schema):
    id: int
    text: str
    measures: list[str]


class MeetingOut(Schema):
    id: int
    date: dt.date
    place: str
    online: bool
    status: str
    agenda: str
    minutes: str
    attendance: list[AttendanceOut]
    decisions: list[DecisionOut]


class ActionOut(Schema):
    id: int
    meeting: int | None
    decision: int | None
    description: str
    owner: int | None
    due: dt.date | None
    status: str
    done_on: dt.date | None
    measure: str
    overdue: bool


class GroupDetailOut(GroupOut):
    mandate: str
    members_pseudonymous: bool
    members: list[MemberOut]
    meetings: list[MeetingOut]
    action_items: list[ActionOut]


def _out(g: Any) -> dict[str, Any]:
    return {"id": g.pk, "name": g.name, "kind": g.kind, "organisation": g.organisation.name,
            "plan": g.plan.ident if g.plan else None, "measures": list(g.measures or []),
            "active_from": g.active_from, "active_to": g.active_to,
            "open_items": g.open_items, "overdue_items": g.overdue_items}


def _visible(request: HttpRequest) -> Any:
    return services.with_counts(services.groups_for(request.user)
                                .select_related("organisation", "plan"))


@router.get("", response={200: list[GroupOut], **ERROR_RESPONSES},
            summary="The working groups and advisory boards you may see")
def list_groups(request: HttpRequest) -> Any:
    require(request, "groups.view")
    return [_out(g) for g in _visible(request)]


@router.get("/{group_id}", response={200: GroupDetailOut, **ERROR_RESPONSES},
            summary="One group with its members, meetings and action items")
def get_group(request: HttpRequest, group_id: int) -> Any:
    from django.http import Http404

    require(request, "groups.view")
    g = _visible(request).filter(pk=group_id).first()
    if g is None:
        raise Http404
    day = services.today()
    members = list(g.memberships.select_related("organisation"))
    meetings = []
    for m in g.meetings.prefetch_related("attendance", "decisions"):
        meetings.append({
            "id": m.pk, "date": m.date, "place": m.place, "online": m.online,
            "status": m.status, "agenda": m.agenda, "minutes": m.minutes,
            "attendance": [{"member": a.membership_id, "status": a.status}
                           for a in m.attendance.all()],
            "decisions": [{"id": d.pk, "text": d.text, "measures": list(d.measures or [])}
                          for d in m.decisions.all()]})
    return {**_out(g), "mandate": g.mandate, "members_pseudonymous": g.pseudonymous,
            "members": [{"id": m.pk, "name": m.person or (m.organisation.name
                                                         if m.organisation else ""),
                         "organisation": m.organisation.name if m.organisation else None,
                         "role": m.role, "start": m.start, "end": m.end} for m in members],
            "meetings": meetings,
            "action_items": [{"id": a.pk, "meeting": a.meeting_id, "decision": a.decision_id,
                              "description": a.description, "owner": a.owner_id,
                              "due": a.due, "status": a.status, "done_on": a.done_on,
                              "measure": a.measure, "overdue": a.overdue_on(day)}
                             for a in g.action_items.all()]}

