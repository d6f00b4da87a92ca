"""Permission-ladder rows of the groups app (appended to ``tests/web/ladder.py``'s LADDER).

Every group page is open to ``groups.view`` (all six account roles) for a group the user can
see — the rows' objects make the requesting user a member — and a 404 for outsiders; the
writes are ``groups.manage`` (policy officers of the convening organisation), except an
action item's update, which its owner may also make."""

from __future__ import annotations

from tests.web import groups_support as G
from tests.web.ladder import ALL, TOKEN_HOLDERS, Rung

from tiplab_web.core.roles import POLICY_OFFICER

MANAGE = frozenset({POLICY_OFFICER})

ROWS: list[Rung] = [
    Rung("groups:index"),
    Rung("groups:mine"),
    Rung("groups:new", allowed=MANAGE),
    Rung("groups:new", "post", allowed=MANAGE,
         data={"name": "A new group", "kind": "working_group"}),
    Rung("groups:detail", allowed=ALL, kwargs=G.group_kwargs, outsider=True),
    Rung("groups:edit", allowed=MANAGE, kwargs=G.group_kwargs, outsider=True),
    Rung("groups:edit", "post", allowed=MANAGE, kwargs=G.group_kwargs, outsider=True,
         data={"name": "Renamed group", "kind": "task_force"}),
    Rung("groups:member_add", "post", allowed=MANAGE, kwargs=G.group_kwargs, outsider=True,
         data={"person": "New member", "role": "observer"}),
    Rung("groups:member_end", "post", allowed=MANAGE, kwargs=G.end_kwargs, outsider=True),
    Rung("groups:meeting_new", "post", allowed=MANAGE, kwargs=G.group_kwargs, outsider=True,
         data={"date": "2031-01-15", "place": "Room 1", "status": "planned"}),
    Rung("groups:meeting", allowed=ALL, kwargs=G.meeting_kwargs, outsider=True),
    Rung("groups:meeting_edit", "post", allowed=MANAGE, kwargs=G.meeting_kwargs,
         outsider=True, data=G.meeting_edit_data),
    Rung("groups:minutes", "post", allowed=MANAGE, kwargs=G.meeting_kwargs, outsider=True,
         data={"minutes": "We met and agreed."}),
    Rung("groups:attendance", "post", allowed=MANAGE, kwargs=G.meeting_kwargs, outsider=True,
         data=G.attendance_data),
    Rung("groups:decision_add", "post", allowed=MANAGE, kwargs=G.meeting_kwargs,
         outsider=True, data={"text": "Agreed."}),
    Rung("groups:action_add", "post", allowed=MANAGE, kwargs=G.meeting_kwargs, outsider=True,
         data={"description": "Write to the ministry."}),
    Rung("groups:export", allowed=ALL, outsider=True,
         kwargs=lambda w, u: {**G.meeting_kwargs(w, u), "fmt": "html"}),
    Rung("groups:export", allowed=ALL, outsider=True,
         kwargs=lambda w, u: {**G.meeting_kwargs(w, u), "fmt": "docx"}),
    Rung("groups:action", allowed=ALL, kwargs=G.action_kwargs, outsider=True),
    Rung("groups:action", "post", allowed=ALL, kwargs=G.action_kwargs, outsider=True,
         data={"status": "done"}, note="the item's owner (every row's user) or a manager"),
    Rung("api:list_groups", api=True, allowed=TOKEN_HOLDERS, denied=401, ok=(200,)),
    Rung("api:get_group", api=True, allowed=TOKEN_HOLDERS, denied=401, ok=(200,),
         kwargs=lambda w, u: {"group_id": G.make_group(w, u).pk}, outsider=True),
]
