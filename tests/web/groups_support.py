"""Objects the groups ladder rows and tests need (no tests here)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tiplab_web.groups import services
from tiplab_web.groups.models import ActionItem, Group, Meeting, Membership

NAME = "Ladder working group"


def past(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


def make_group(world: Any, user: Any, name: str = NAME, **kw: Any) -> Group:
    """A group of ``world.home`` with ``user`` a member through their account (once)."""
    found = Group.objects.filter(organisation=world.home, name=name).first()
    if found is not None:
        return found
    g = services.create_group(world.users["policy_officer"], world.home, name=name, **kw)
    if user is not None:
        services.add_member(world.users["policy_officer"], g, person=user.get_username(),
                            user=None if g.pseudonymous else user, start=past(400))
    return g


def membership_of(group: Group, user: Any) -> Membership:
    return group.memberships.get(person=user.get_username())


def make_meeting(world: Any, user: Any) -> Meeting:
    g = make_group(world, user)
    found = g.meetings.first()
    if found is not None:
        return found
    return services.add_meeting(world.users["policy_officer"], g, date=past(10),
                                place="Room 1", agenda="1. Start")


def make_action(world: Any, user: Any) -> ActionItem:
    m = make_meeting(world, user)
    found = m.action_items.first()
    if found is not None:
        return found
    return services.add_action(world.users["policy_officer"], m, description="Write the memo",
                               owner=membership_of(m.group, user), due=past(2))


def group_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_group(world, user).pk}


def meeting_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_meeting(world, user).pk}


def action_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_action(world, user).pk}


def end_kwargs(world: Any, user: Any) -> dict[str, Any]:
    g = make_group(world, user)
    m = services.add_member(world.users["policy_officer"], g, organisation=world.home,
                            start=past(30))
    return {"pk": g.pk, "member": m.pk}


def attendance_data(world: Any, user: Any) -> dict[str, Any]:
    m = make_meeting(world, user)
    return {f"att-{membership_of(m.group, user).pk}": "present"}


def meeting_edit_data(world: Any, user: Any) -> dict[str, Any]:
    m = make_meeting(world, user)
    return {"date": m.date.isoformat(), "place": "Room 2", "status": "held",
            "agenda": "1. Start\n2. Next"}
