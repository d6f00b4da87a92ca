"""Working groups and advisory boards: scoping (members see their groups, the drafting team
and the evidence roles all of their organisation's, everyone else a 404), the rules of every
write (bad input says what and where, and nothing is half-saved), overdue action items on
fixed dates, attendance rates, the dashboard panel, the measures a group follows, the minutes
documents, the API, the history and the demo loader."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from tests.web.conftest import make_token, make_user, sign_in
from tests.web.groups_support import make_action, make_group, make_meeting, membership_of, past
from tests.web.test_plans_support import make_plan

from tiplab.policy import plan as core
from tiplab_web.audit.models import AuditEntry
from tiplab_web.groups import demo, documents, services
from tiplab_web.groups.models import ActionItem, Attendance, Decision, Group, Meeting, Membership

pytestmark = pytest.mark.django_db

D = dt.date


def _po(world):
    return world.users["policy_officer"]


def _page(client: Client, name: str, *args) -> tuple[int, str]:
    r = client.get(reverse(name, args=args))
    return r.status_code, r.content.decode()


# --- scoping ---------------------------------------------------------------------------------


def test_members_see_their_groups_and_the_convening_team_sees_all(world):
    member = world.users["stakeholder"]
    mine = make_group(world, member, name="Members only")
    other = make_group(world, None, name="Not mine")
    # a stakeholder sees only the group they are a member of
    assert set(services.groups_for(member)) == {mine}
    # the home organisation's drafting and evidence roles see both
    for role in ("policy_officer", "analyst", "data_steward", "administrator"):
        assert set(services.groups_for(world.users[role])) == {mine, other}, role
    # an agency reporter of the home organisation who is no member sees nothing
    assert list(services.groups_for(world.users["agency_reporter"])) == []
    # an outsider's organisation membership makes the group visible to its people
    services.add_member(_po(world), other, organisation=world.elsewhere, start=past(5))
    assert set(services.groups_for(world.outsiders["stakeholder"])) == {other}
    # ... but an outsider policy officer cannot manage it
    assert list(services.managed_groups(world.outsiders["policy_officer"])) == []
    # an ended membership no longer shows the group
    services.end_member(_po(world), membership_of(mine, member), past(1))
    assert list(services.groups_for(member)) == []


def test_non_members_get_404_on_every_page_of_a_group(world):
    group = make_group(world, world.users["stakeholder"])
    meeting = make_meeting(world, world.users["stakeholder"])
    item = make_action(world, world.users["stakeholder"])
    stranger = sign_in(Client(), world.users["agency_reporter"])
    outsider = sign_in(Client(), world.outsiders["policy_officer"])
    for client in (stranger, outsider):
        assert _page(client, "groups:detail", group.pk)[0] == 404
        assert _page(client, "groups:meeting", meeting.pk)[0] == 404
        assert _page(client, "groups:action", item.pk)[0] == 404
        assert _page(client, "groups:export", meeting.pk, "html")[0] == 404
    assert outsider.post(reverse("groups:minutes", args=[meeting.pk]),
                         {"minutes": "x"}).status_code == 404
    status, page = _page(stranger, "groups:index")
    assert status == 200
    assert group.name not in page


def test_a_member_reads_but_does_not_manage(world, client_as):
    member = world.users["stakeholder"]
    group = make_group(world, member)
    meeting = make_meeting(world, member)
    client = client_as("stakeholder")
    status, page = _page(client, "groups:detail", group.pk)
    assert status == 200
    assert group.name in page
    assert "Add a member" not in page
    assert "Plan a meeting" not in page
    status, page = _page(client, "groups:meeting", meeting.pk)
    assert status == 200
    assert "Save attendance" not in page
    assert client.post(reverse("groups:minutes", args=[meeting.pk]),
                       {"minutes": "x"}).status_code == 403
    # an analyst of the convening organisation sees the group but edits nothing
    analyst = client_as("analyst")
    assert _page(analyst, "groups:detail", group.pk)[0] == 200
    assert analyst.post(reverse("groups:edit", args=[group.pk]),
                        {"name": "x", "kind": "task_force"}).status_code == 403
    assert Group.objects.get(pk=group.pk).name == group.name


def test_only_the_owner_or_a_manager_updates_an_action_item(world, client_as):
    owner = world.users["agency_reporter"]
    item = make_action(world, owner)
    services.add_member(_po(world), item.group, person="Other",
                        user=world.users["stakeholder"], start=past(30))
    other = client_as("stakeholder")
    status, page = _page(other, "groups:action", item.pk)
    assert status == 200
    assert "The owner of the action" in page
    assert other.post(reverse("groups:action", args=[item.pk]),
                      {"status": "done"}).status_code == 403
    r = client_as("agency_reporter").post(reverse("groups:action", args=[item.pk]),
                                          {"status": "done", "notes": "sent"})
    assert r.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.done_on, item.notes) == ("done", services.today(), "sent")


# --- pages and writes ------------------------------------------------------------------------


def test_create_a_group_following_plan_measures_and_run_a_meeting(world, client_as):
    client = client_as("policy_officer")
    plan = make_plan(_po(world))
    r = client.post(reverse("groups:new"), {
        "name": "Shelter task force", "kind": "task_force", "mandate": "Open shelter places.",
        "plan": plan.pk, "measures": "M1", "active_from": "2025-01-01"})
    assert r.status_code == 302, r.content.decode()[:3000]
    group = Group.objects.get(name="Shelter task force")
    assert (group.plan, group.measures, group.kind) == (plan, ["M1"], "task_force")
    r = client.post(reverse("groups:member_add", args=[group.pk]), {
        "organisation": world.elsewhere.pk, "person": "S. Haddad", "role": "chair",
        "start": "2025-01-01"})
    assert r.status_code == 302
    chair = group.memberships.get()
    assert group.chair == chair
    r = client.post(reverse("groups:meeting_new", args=[group.pk]), {
        "date": past(3).isoformat(), "online": "on", "agenda": "1. Places",
        "status": "planned"})
    meeting = group.meetings.get()
    assert r["Location"] == reverse("groups:meeting", args=[meeting.pk])
    client.post(reverse("groups:attendance", args=[meeting.pk]), {f"att-{chair.pk}": "present"})
    client.post(reverse("groups:minutes", args=[meeting.pk]), {"minutes": "We agreed."})
    client.post(reverse("groups:decision_add", args=[meeting.pk]),
                {"text": "Open 10 places.", "measures": "M1"})
    decision = Decision.objects.get(meeting=meeting)
    r = client.post(reverse("groups:action_add", args=[meeting.pk]), {
        "description": "Find a building", "owner": chair.pk, "due": past(1).isoformat(),
        "measure": "M1", "decision": decision.pk})
    assert r.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.status, meeting.minutes) == ("held", "We agreed.")
    item = ActionItem.objects.get()
    assert (item.owner, item.measure, item.decision, item.group) == (chair, "M1", decision,
                                                                     group)
    status, page = _page(client, "groups:detail", group.pk)
    assert status == 200
    assert "Shelter places" in page  # the measure's title from the plan
    assert f"{reverse('plans:detail', args=[plan.pk])}#measure-M1" in page
    assert "overdue" in page
    assert "Find a building" in page
    assert "None" not in page
    status, page = _page(client, "groups:meeting", meeting.pk)
    assert "Open 10 places." in page
    assert "100%" in page
    assert "None" not in page
    # every write is in the group's history
    actions = set(AuditEntry.objects.filter(details__group=group.pk)
                  .values_list("action", flat=True))
    assert actions >= {"group.created", "group.member_added", "group.meeting_added",
                       "group.attendance", "group.minutes_saved", "group.decision_added",
                       "group.action_added"}
    assert "decision recorded" in _page(client, "groups:detail", group.pk)[1]


def test_the_list_counts_open_and_overdue_items(world, client_as):
    item = make_action(world, world.users["stakeholder"])  # due two days ago
    services.add_action(_po(world), item.meeting, description="Later",
                        due=services.today() + dt.timedelta(days=5))
    page = _page(client_as("stakeholder"), "groups:index")[1]
    g = services.with_counts(Group.objects.filter(pk=item.group_id)).get()
    assert (g.open_items, g.overdue_items) == (2, 1)
    assert '<span class="tag tag--overdue">1</span>' in page


def test_nav_entry_for_every_groups_role(world, client_as):
    page = _page(client_as("stakeholder"), "core:home")[1]
    assert f'href="{reverse("groups:index")}"' in page
    assert "Working groups" in page


# --- bad input -------------------------------------------------------------------------------


def test_a_due_date_before_the_meeting_is_refused_where_it_was_entered(world, client_as):
    meeting = make_meeting(world, world.users["stakeholder"])
    r = client_as("policy_officer").post(reverse("groups:action_add", args=[meeting.pk]), {
        "description": "Too early", "due": (meeting.date - dt.timedelta(days=1)).isoformat()})
    assert r.status_code == 400
    page = r.content.decode()
    assert f"is before the meeting ({meeting.date.isoformat()})" in page
    assert 'id="id_due_error"' in page
    assert not ActionItem.objects.exists()


def test_ending_a_membership_twice_says_when_it_ended(world, client_as):
    group = make_group(world, world.users["stakeholder"])
    m = membership_of(group, world.users["stakeholder"])
    client = client_as("policy_officer")
    url = reverse("groups:member_end", args=[group.pk, m.pk])
    client.post(url, {"end": past(3).isoformat()})
    r = client.post(url, {"end": past(1).isoformat()}, follow=True)
    assert f"already ended on {past(3).isoformat()}" in r.content.decode()
    m.refresh_from_db()
    assert m.end == past(3)
    with pytest.raises(services.GroupError, match="already ended"):
        services.end_member(_po(world), m)
    fresh = services.add_member(_po(world), group, person="New", start=past(2))
    with pytest.raises(services.GroupError, match="before the start"):
        services.end_member(_po(world), fresh, past(5))


def test_empty_minutes_and_minutes_before_the_meeting_are_refused(world, client_as):
    meeting = make_meeting(world, world.users["stakeholder"])
    r = client_as("policy_officer").post(reverse("groups:minutes", args=[meeting.pk]),
                                         {"minutes": "   \n "})
    assert r.status_code == 400
    assert "The minutes are empty" in r.content.decode()
    meeting.refresh_from_db()
    assert (meeting.minutes, meeting.status) == ("", "planned")
    later = services.add_meeting(_po(world), meeting.group, date=services.today()
                                 + dt.timedelta(days=7), place="Room")
    with pytest.raises(services.GroupError, match="record its minutes after it"):
        services.save_minutes(_po(world), later, "Text")
    cancelled = services.add_meeting(_po(world), meeting.group, date=past(1), place="Room",
                                     status="cancelled")
    with pytest.raises(services.GroupError, match="cancelled"):
        services.save_minutes(_po(world), cancelled, "Text")


def test_more_bad_input(world, client_as):
    po = _po(world)
    client = client_as("policy_officer")
    plan = make_plan(po)
    # a measure the plan does not have, named with the ones it has
    r = client.post(reverse("groups:new"), {"name": "G", "kind": "working_group",
                                            "plan": plan.pk, "measures": "M1, M9"})
    assert r.status_code == 400
    assert "Not a measure of plan nap: M9. Its measures are M1." in r.content.decode()
    # ends before it starts
    r = client.post(reverse("groups:new"), {"name": "G", "kind": "working_group",
                                            "active_from": "2026-01-01",
                                            "active_to": "2025-01-01"})
    assert r.status_code == 400
    assert "before it starts" in r.content.decode()
    assert not Group.objects.exists()
    group = make_group(world, world.users["analyst"])
    # a meeting somewhere: a place or online
    r = client.post(reverse("groups:meeting_new", args=[group.pk]),
                    {"date": "2030-01-01", "status": "planned"})
    assert r.status_code == 400
    assert "Say where the meeting is" in r.content.decode()
    with pytest.raises(services.GroupError, match="cannot have been held yet"):
        services.add_meeting(po, group, date=D(2999, 1, 1), place="x", status="held")
    # a duplicate name, a second chair, a member without a name
    with pytest.raises(services.GroupError, match="already has a group named"):
        services.create_group(po, world.home, name=group.name.upper())
    services.add_member(po, group, person="Chair", role="chair", start=past(5))
    with pytest.raises(services.GroupError, match="has a chair"):
        services.add_member(po, group, person="Chair 2", role="chair")
    r = client.post(reverse("groups:member_add", args=[group.pk]), {"role": "member"})
    assert r.status_code == 400
    assert "Name the member" in r.content.decode()
    # a decision naming measures of a group without a plan
    meeting = make_meeting(world, world.users["analyst"])
    with pytest.raises(services.GroupError, match="Link the group to a plan"):
        services.add_decision(po, meeting, text="x", measures="M1")
    r = client.post(reverse("groups:decision_add", args=[meeting.pk]), {"text": " "})
    assert r.status_code == 400
    assert "The decision is empty" in r.content.decode()
    # done dates: not in the future, not before the meeting
    item = make_action(world, world.users["analyst"])
    with pytest.raises(services.GroupError, match="in the future"):
        services.update_action(po, item, status="done", done_on=D(2999, 1, 1))
    with pytest.raises(services.GroupError, match="before the meeting"):
        services.update_action(po, item, status="done", done_on=meeting.date
                               - dt.timedelta(days=1))
    r = client.post(reverse("groups:action", args=[item.pk]),
                    {"status": "done", "done_on": "2999-01-01"})
    assert r.status_code == 400
    assert 'id="id_done_on_error"' in r.content.decode()
    item.refresh_from_db()
    assert (item.status, item.done_on) == ("open", None)
    # an owner from another group
    other = make_group(world, world.users["data_steward"], name="Other")
    with pytest.raises(services.GroupError, match="not a member of this group"):
        services.add_action(po, meeting, description="x",
                            owner=membership_of(other, world.users["data_steward"]))


def test_attendance_lands_whole_or_not_at_all(world):
    meeting = make_meeting(world, world.users["analyst"])
    mine = membership_of(meeting.group, world.users["analyst"])
    other = make_group(world, world.users["stakeholder"], name="Other")
    foreign = membership_of(other, world.users["stakeholder"])
    with pytest.raises(services.GroupError, match="was not a member"):
        services.record_attendance(_po(world), meeting, {mine.pk: "present",
                                                         foreign.pk: "present"})
    with pytest.raises(services.GroupError, match="Unknown attendance"):
        services.record_attendance(_po(world), meeting, {mine.pk: "asleep"})
    assert not Attendance.objects.exists()
    assert Meeting.objects.get(pk=meeting.pk).status == "planned"
    # someone who joined after the meeting is not on its roll
    late = services.add_member(_po(world), meeting.group, person="Late",
                               start=meeting.date + dt.timedelta(days=1))
    with pytest.raises(services.GroupError, match="was not a member"):
        services.record_attendance(_po(world), meeting, {late.pk: "present"})


def test_a_survivor_board_never_links_an_account(world, client_as):
    board = make_group(world, None, name="Survivor board", kind="advisory_board",
                       pseudonymous=True)
    with pytest.raises(services.GroupError, match="pseudonyms only"):
        services.add_member(_po(world), board, person="Rose", user=world.users["stakeholder"])
    r = client_as("policy_officer").post(reverse("groups:member_add", args=[board.pk]),
                                         {"person": "Rose", "role": "member",
                                          "username": "stakeholder"})
    assert r.status_code == 302  # the form has no account field here: it is ignored
    assert board.memberships.get().user is None
    page = _page(client_as("policy_officer"), "groups:detail", board.pk)[1]
    assert "never named" in page
    assert "Pseudonym" in page
    normal = make_group(world, world.users["analyst"], name="Normal")
    with pytest.raises(services.GroupError, match="account linked"):
        services.update_group(_po(world), normal, name="Normal", kind="working_group",
                              pseudonymous=True)


# --- figures ---------------------------------------------------------------------------------


def test_overdue_on_fixed_dates(world):
    po = _po(world)
    group = make_group(world, world.users["stakeholder"])
    meeting = services.add_meeting(po, group, date=D(2025, 3, 1), place="Room")

    def item(due, status="open"):
        a = services.add_action(po, meeting, description=f"due {due}", due=due)
        if status != "open":
            services.update_action(po, a, status=status, done_on=D(2025, 3, 2))
        return a

    due_10 = item(D(2025, 3, 10))
    item(D(2025, 3, 5), status="done")
    item(D(2025, 3, 5), status="dropped")
    no_date = item(None)
    qs = ActionItem.objects.filter(group=group)
    assert list(services.overdue(qs, D(2025, 3, 10))) == []  # due today is not late
    assert list(services.overdue(qs, D(2025, 3, 11))) == [due_10]
    assert due_10.overdue_on(D(2025, 3, 11))
    assert not due_10.overdue_on(D(2025, 3, 10))
    assert not no_date.overdue_on(D(2100, 1, 1))
    g = services.with_counts(Group.objects.filter(pk=group.pk), D(2025, 3, 11)).get()
    assert (g.open_items, g.overdue_items) == (2, 1)
    stakeholder = world.users["stakeholder"]
    assert list(services.visible_overdue(stakeholder, D(2025, 3, 11))) == [due_10]
    assert list(services.visible_overdue(world.users["agency_reporter"],
                                         D(2025, 3, 11))) == []


def test_attendance_rates_per_member_and_per_meeting(world):
    po = _po(world)
    group = make_group(world, None)
    a = services.add_member(po, group, person="A", start=past(100))
    b = services.add_member(po, group, person="B", start=past(100))
    m1 = services.add_meeting(po, group, date=past(50), place="x")
    m2 = services.add_meeting(po, group, date=past(20), place="x")
    services.add_meeting(po, group, date=past(10), place="x")  # nothing recorded
    services.record_attendance(po, m1, {a.pk: "present", b.pk: "apologies"})
    services.record_attendance(po, m2, {a.pk: "present", b.pk: "present"})
    rates = services.member_attendance(group)
    assert (rates[a.pk]["present"], rates[a.pk]["recorded"], rates[a.pk]["pct"]) == (2, 2, 100)
    assert (rates[b.pk]["present"], rates[b.pk]["recorded"], rates[b.pk]["pct"]) == (1, 2, 50)
    one = services.meeting_attendance(m1)
    assert (one["counts"]["present"], one["recorded"], one["rate"]) == (1, 2, 0.5)
    none = services.meeting_attendance(group.meetings.order_by("-date").first())
    assert (none["recorded"], none["rate"], none["pct"]) == (0, None, None)
    # clearing a mark removes it
    services.record_attendance(po, m1, {b.pk: ""})
    assert services.meeting_attendance(m1)["recorded"] == 1


def test_groups_for_measure(world):
    po = _po(world)
    plan = make_plan(po)
    following = make_group(world, None, name="Follows", plan=plan, measures="M1")
    other = make_group(world, None, name="Acts on it", plan=plan)
    make_group(world, None, name="Unrelated", plan=plan)
    m_follow = services.add_meeting(po, following, date=past(10), place="x")
    m_other = services.add_meeting(po, other, date=past(10), place="x")
    late = services.add_action(po, m_follow, description="Late", measure="M1", due=past(1))
    done = services.add_action(po, m_follow, description="Done", measure="M1")
    services.update_action(po, done, status="done")
    services.add_action(po, m_follow, description="Not on M1")
    d = services.add_decision(po, m_other, text="On M1", measures="M1")
    via = services.add_action(po, m_other, description="Via decision", decision=d)
    found = services.groups_for_measure(plan, "M1")
    assert [(x.group.name, x.follows, [i.pk for i in x.open_items], x.overdue)
            for x in found] == [("Acts on it", False, [via.pk], 0),
                                ("Follows", True, [late.pk], 1)]
    assert services.groups_for_measure(plan, "M2") == []
    # scoped to what a user may see
    assert services.groups_for_measure(plan, "M1", user=world.users["agency_reporter"]) == []


# --- the panel -------------------------------------------------------------------------------


def test_the_dashboard_panel_lists_the_overdue_items_the_user_may_see(world, client_as):
    item = make_action(world, world.users["stakeholder"])
    services.add_action(_po(world), item.meeting, description="Not due yet",
                        due=services.today() + dt.timedelta(days=3))
    page = _page(client_as("stakeholder"), "core:panel", "overdue_actions")[1]
    assert "Write the memo" in page
    assert "Not due yet" not in page
    assert ">2</td>" in page  # days late
    home = _page(client_as("stakeholder"), "core:home")[1]
    assert "Overdue action items" in home
    stranger = _page(client_as("agency_reporter"), "core:panel", "overdue_actions")[1]
    assert "Write the memo" not in stranger
    assert "No overdue action items." in stranger


# --- my action items -------------------------------------------------------------------------


def test_my_action_items_through_my_account_or_my_organisation(world, client_as):
    reporter = world.users["agency_reporter"]
    item = make_action(world, reporter)
    colleague = make_user("colleague", ["agency_reporter"], world.home)
    org_item = services.add_action(
        _po(world), item.meeting, description="For the whole organisation",
        owner=services.add_member(_po(world), item.group, organisation=world.home,
                                  start=past(30)))
    assert set(services.my_actions(reporter)) == {item, org_item}
    assert list(services.my_actions(colleague)) == [org_item]
    client = sign_in(Client(), colleague)
    page = _page(client, "groups:mine")[1]
    assert "For the whole organisation" in page
    assert "Write the memo" not in page
    r = client.post(reverse("groups:action", args=[org_item.pk]),
                    {"status": "done", "next": "mine"})
    assert r["Location"] == reverse("groups:mine")
    assert ActionItem.objects.get(pk=org_item.pk).status == "done"


# --- documents -------------------------------------------------------------------------------


def _minuted(world):
    po = _po(world)
    meeting = make_meeting(world, world.users["analyst"])
    member = membership_of(meeting.group, world.users["analyst"])
    services.record_attendance(po, meeting, {member.pk: "present"})
    services.save_minutes(po, meeting, "First point <b>discussed</b>.\n\nSecond point.")
    services.add_decision(po, meeting, text="Write to the ministry.")
    services.add_action(po, meeting, description="Draft the letter", owner=member)
    return meeting


def test_minutes_as_html_with_its_style_allowed_by_hash(world, client_as):
    meeting = _minuted(world)
    r = client_as("analyst").get(reverse("groups:export", args=[meeting.pk, "html"]))
    body = r.content.decode()
    assert r.status_code == 200
    assert "First point &lt;b&gt;discussed&lt;/b&gt;." in body  # escaped
    assert "Write to the ministry." in body
    assert "Draft the letter" in body
    assert "Present: 1 of 1 recorded (100%)." in body
    assert "<script" not in body
    assert documents.csp_style_source(body) in r["Content-Security-Policy"]
    assert AuditEntry.objects.filter(action="group.minutes_exported").count() == 1


def test_minutes_as_word_and_pdf(world, client_as):
    from docx import Document

    meeting = _minuted(world)
    r = client_as("analyst").get(reverse("groups:export", args=[meeting.pk, "docx"]))
    assert r.status_code == 200
    assert r["Content-Disposition"].endswith(f'-{meeting.date.isoformat()}.docx"')
    doc = Document(io.BytesIO(r.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert "First point <b>discussed</b>." in text
    assert "Write to the ministry." in text
    assert "Draft the letter" in cells
    assert "Present" in cells
    assert doc.paragraphs[0].style.name == "Title"
    pdf = documents.minutes_pdf(meeting)
    assert pdf.startswith(b"%PDF")
    assert client_as("analyst").get(reverse("groups:export", args=[meeting.pk, "odt"])
                                    ).status_code == 404


# --- the API ---------------------------------------------------------------------------------


def test_api_lists_and_reads_only_visible_groups(world):
    reporter = world.users["agency_reporter"]
    item = make_action(world, reporter)
    hidden = make_group(world, None, name="Hidden")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {make_token(reporter)}"}
    r = Client().get("/api/groups/", **headers)
    assert r.status_code == 200
    assert [g["name"] for g in r.json()] == [item.group.name]
    assert r.json()[0]["overdue_items"] == 1
    r = Client().get(f"/api/groups/{item.group_id}", **headers)
    body = r.json()
    assert body["action_items"][0]["description"] == "Write the memo"
    assert body["action_items"][0]["overdue"] is True
    assert body["meetings"][0]["id"] == item.meeting_id
    missing = Client().get(f"/api/groups/{hidden.pk}", **headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == 404
    analyst = {"HTTP_AUTHORIZATION": f"Bearer {make_token(world.users['analyst'])}"}
    names = {g["name"] for g in Client().get("/api/groups/", **analyst).json()}
    assert names == {item.group.name, "Hidden"}


# --- the demo --------------------------------------------------------------------------------


def test_the_demo_loader_is_idempotent_and_ties_items_to_the_demo_plan(world, client_as):
    from tiplab_web.plans import services as plans

    po = _po(world)
    plan = plans.create(po, world.home, core.demo_plan())
    group = demo.load(po, world.home)
    assert group is not None
    assert group.name == demo.LABOUR
    counts = (Group.objects.count(), Membership.objects.count(), Meeting.objects.count(),
              Decision.objects.count(), ActionItem.objects.count())
    assert demo.load(po, world.home) is None
    assert counts == (Group.objects.count(), Membership.objects.count(),
                      Meeting.objects.count(), Decision.objects.count(),
                      ActionItem.objects.count())
    assert group.plan == plan
    titles = services.measure_titles(plan)
    assert group.measures
    assert all(m in titles for m in group.measures)
    orgs = {m.organisation.name for m in group.memberships.all() if m.organisation}
    assert {"National Police", "Labour Inspectorate", "Shelter NGO",
            "Migrant Workers' Association"} <= orgs
    held = group.meetings.filter(status="held")
    assert held.count() == 2
    assert all(m.minutes and m.agenda for m in held)
    assert all(m.attendance.exists() for m in held)
    late = list(services.overdue(group.action_items.all()))
    assert len(late) == 1
    assert late[0].measure in titles
    assert all(a.measure in titles for a in group.action_items.all())
    board = Group.objects.get(name=demo.SURVIVOR)
    assert board.pseudonymous
    assert not board.memberships.filter(user__isnull=False).exists()
    # the migrant workers' association's stakeholder sees the working group only
    assoc = group.memberships.get(organisation__name="Migrant Workers' Association")
    stakeholder = make_user("assoc", ["stakeholder"], assoc.organisation)
    assert list(services.groups_for(stakeholder)) == [group]
    page = _page(client_as("policy_officer"), "groups:detail", board.pk)[1]
    assert "never named" in page
    assert "None" not in page
    # the plan's measure shows the groups that follow it
    found = services.groups_for_measure(plan, late[0].measure)
    assert any(x.group == group and x.overdue == 1 for x in found)


def test_the_demo_loader_works_without_the_plan(world):
    group = demo.load(_po(world), world.home)
    assert group is not None
    assert group.plan is None
    assert group.measures == []
    assert services.overdue(group.action_items.all()).count() == 1
