"""End-to-end: an agency reporter enters and submits the police's values for a reporting round;
a data steward (with the second factor) returns the form with a reason; the reporter reads it,
corrects the value and submits again; the steward approves, and the round counts it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from tests.e2e.test_browser import sign_in
from tests.e2e.test_plan_flow import _second_factor
from tests.web import monitoring_support as M
from tests.web.conftest import make_user

from tiplab_web.accounts.models import Organisation
from tiplab_web.monitoring import services
from tiplab_web.plans import services as plan_services

pytestmark = pytest.mark.e2e

VALUES = {"PROS-02": "30", "PROS-03": "12", "PROS-04": "15", "PROT-01": "40", "PROT-02": "25"}


def test_submit_return_correct_approve(page: Page, live_server, transactional_db,
                                       console_errors):
    home = Organisation.objects.create(name="National Rapporteur's Office",
                                       kind=Organisation.Kind.COORDINATOR, country="ZZ")
    police = Organisation.objects.create(name=M.POLICE, kind=Organisation.Kind.POLICE,
                                         country="ZZ")
    pol = make_user("pol", ["policy_officer"], home)
    make_user("cop", ["agency_reporter"], police)
    steward = make_user("steward", ["data_steward"], home)
    plan = plan_services.create(pol, home, M.plan_doc(home.name))
    day = timezone.localdate()
    rnd = services.open_round(pol, plan, period="2025", deadline=day + dt.timedelta(days=10),
                              opens_on=day - dt.timedelta(days=1))
    form = rnd.forms.get(organisation=police)
    form_url = f"{live_server.url}/monitoring/forms/{form.pk}/"

    sign_in(page, live_server.url, "cop")
    page.get_by_role("navigation", name="Main menu").get_by_role("link",
                                                                 name="Monitoring").click()
    expect(page.get_by_role("heading", name="What your organisation owes")).to_be_visible()
    page.get_by_role("link", name="2025").click()
    for indicator, value in VALUES.items():
        page.get_by_label(f"Value of {indicator}, measure M-POL").fill(value)
    page.get_by_role("button", name="Submit for review").click()
    # convictions above prosecutions: nothing saved, the message names both indicators
    expect(page.locator("#problems")).to_contain_text("PROS-04 (Persons convicted of "
                                                      "trafficking), measure M-POL is 15")
    page.get_by_label("Value of PROS-04, measure M-POL").fill("5")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("#form-state")).to_have_text("submitted")

    # the steward works in a browser of their own (a TOTP code is accepted once only)
    desk = page.context.browser.new_context().new_page()
    desk.on("pageerror", lambda exc: console_errors.append(str(exc)))
    sign_in(desk, live_server.url, "steward")
    _second_factor(desk, steward)
    desk.goto(form_url)
    desk.get_by_label("Return for correction").check()
    desk.get_by_label("Reason (required to return)").fill("PROT-02 counts people, not "
                                                          "decisions: please check.")
    desk.get_by_role("button", name="Record the decision").click()
    expect(desk.locator("#form-state")).to_have_text("returned for correction")

    page.goto(form_url)
    expect(page.locator("#returned-reason")).to_contain_text("PROT-02 counts people")
    page.get_by_label("Value of PROT-02, measure M-POL").fill("21")
    page.get_by_label("Comment on PROT-02").fill("Counted each person once.")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("#form-state")).to_have_text("submitted")

    desk.goto(form_url)
    desk.get_by_label("Approve: the values count").check()
    desk.get_by_role("button", name="Record the decision").click()
    expect(desk.locator("#form-state")).to_have_text("approved")
    expect(desk.get_by_text("Counted each person once.").first).to_be_visible()
    desk.goto(f"{live_server.url}/monitoring/rounds/{rnd.pk}/")
    expect(desk.locator("dl.stat-list")).to_contain_text("Approved")
    # the scorecard updates: the corrected, approved value is the measure's latest
    desk.goto(f"{live_server.url}/evaluation/plans/{plan.pk}/scorecard/")
    row = desk.locator("tr.scorecard-measure", has_text="PROT-02")
    expect(row).to_contain_text("21")
    desk.context.close()
    assert services.latest_approved(plan, "M-POL", "PROT-02").value == 21.0
    assert console_errors == []
