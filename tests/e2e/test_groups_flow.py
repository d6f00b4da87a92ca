"""End-to-end: a policy officer creates a working group, adds a member with an account, plans
a past meeting, records attendance and minutes and assigns an action item already late; the
member signs in, finds it on the dashboard's overdue panel and marks it done from "My action
items". No console error (the strict CSP holds on every page)."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.test_browser import sign_in
from tests.web.conftest import make_user

from tiplab_web.accounts.models import Organisation
from tiplab_web.groups.models import ActionItem

pytestmark = pytest.mark.e2e


def test_create_meet_assign_and_close_an_action(page: Page, live_server, transactional_db,
                                                console_errors):
    home = Organisation.objects.create(name="National Rapporteur's Office",
                                       kind=Organisation.Kind.COORDINATOR, country="ZZ")
    ngo = Organisation.objects.create(name="Migrant Workers' Association",
                                      kind=Organisation.Kind.NGO, country="ZZ")
    make_user("pol", ["policy_officer"], home)
    make_user("assoc", ["stakeholder"], ngo)
    day = dt.date.today()

    sign_in(page, live_server.url, "pol")
    page.get_by_role("navigation", name="Main menu").get_by_role(
        "link", name="Working groups").click()
    page.get_by_role("link", name="New group").click()
    page.get_by_label("Name", exact=True).fill("Labour exploitation working group")
    page.get_by_label("Mandate and terms of reference").fill("Meets every quarter.")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Labour exploitation working group",
                            level=1)).to_be_visible()

    member = page.locator("form[action$='/members/']")
    member.get_by_label("Organisation", exact=True).select_option(
        label="Migrant Workers' Association")
    member.get_by_label("Person", exact=True).fill("L. Chen")
    member.get_by_label("Their account (username), if any").fill("assoc")
    member.get_by_label("Member since").fill((day - dt.timedelta(days=30)).isoformat())
    member.get_by_role("button", name="Add").click()
    expect(page.get_by_role("rowheader", name="L. Chen")).to_be_visible()

    meeting = page.locator("form[action$='/meetings/']")
    meeting.get_by_label("Date", exact=True).fill((day - dt.timedelta(days=7)).isoformat())
    meeting.get_by_label("Online", exact=True).check()
    meeting.get_by_label("Agenda", exact=True).fill("1. Inspections")
    meeting.get_by_role("button", name="Add the meeting").click()

    page.get_by_label("L. Chen (Migrant Workers' Association)").select_option("present")
    page.get_by_role("button", name="Save attendance").click()
    expect(page.get_by_text("1 of 1 recorded members present (100%).")).to_be_visible()
    page.locator("form[action$='/minutes/']").get_by_label("Minutes", exact=True).fill("We agreed.")
    page.get_by_role("button", name="Save the minutes").click()
    action = page.locator("form[action$='/actions/']")
    action.get_by_label("Action", exact=True).fill("Share the leaflets")
    action.get_by_label("Owner", exact=True).select_option(
        label="L. Chen (Migrant Workers' Association)")
    action.get_by_label("Due", exact=True).fill((day - dt.timedelta(days=1)).isoformat())
    action.get_by_role("button", name="Add").click()
    expect(page.get_by_role("link", name="Share the leaflets")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server.url, "assoc")
    panel = page.get_by_role("region", name="Overdue action items")
    expect(panel.get_by_role("link", name="Share the leaflets")).to_be_visible()
    page.get_by_role("navigation", name="Main menu").get_by_role(
        "link", name="Working groups").click()
    page.get_by_role("link", name="My action items").click()
    page.get_by_role("button", name="Mark as done").click()
    expect(page.get_by_text("Action item updated.")).to_be_visible()
    assert ActionItem.objects.get().status == "done"
    assert console_errors == []
