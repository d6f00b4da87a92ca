"""The home page of each role, with real panels (a linkage and its estimate made by the same
code as the demo), fits a laptop (1366 px) and a phone (390 px): no panel and not the page
itself scrolls sideways; on the laptop no table scrolls either. Tables too wide for a phone
scroll inside their own frame."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.test_browser import sign_in
from tests.web import test_linkage_support as ls
from tests.web.conftest import make_user

from tiplab_web.accounts.models import Organisation
from tiplab_web.core.access import can
from tiplab_web.estimates.models import EstimationRun
from tiplab_web.estimates.services import then_estimate
from tiplab_web.linkage.services import start_run

pytestmark = pytest.mark.e2e

ROLES = ("policy_officer", "analyst", "agency_reporter", "stakeholder")

OVERFLOWING = """(laptop) => {
  const out = [];
  if (laptop) {  // on a laptop every table fits its panel, no scrolling inside either
    for (const t of document.querySelectorAll("section.panel table, section.panel .table-wrap")) {
      if (t.scrollWidth > t.clientWidth + 1) {
        out.push(`table frame: ${t.scrollWidth} > ${t.clientWidth}`);
      }
    }
  }
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth) out.push(`page: ${doc.scrollWidth} > ${doc.clientWidth}`);
  for (const p of document.querySelectorAll("section.panel")) {
    if (p.scrollWidth > p.clientWidth + 1) {
      const title = p.querySelector("h2") ? p.querySelector("h2").textContent : "?";
      out.push(`panel ${title}: ${p.scrollWidth} > ${p.clientWidth}`);
    }
  }
  return out;
}"""


@pytest.fixture
def estimated(transactional_db):
    org = Organisation.objects.create(
        name="National Rapporteur's Office", kind=Organisation.Kind.COORDINATOR, country="ZZ"
    )
    users = {role: make_user(role.replace("_", "-"), [role], org) for role in ROLES}
    make_user("steward", ["data_steward"], org)
    ls.seed_records()
    start_run(users["analyst"], list(ls.AGENCIES), None, then=[then_estimate(
        {"method": "stepwise", "nboot": 50, "seed": 1, "by": ["year"], "pool_below": 0,
         "sensitivity": True}, designate_by="steward")])
    run = EstimationRun.objects.get()
    assert run.status == EstimationRun.DONE, run.error
    return users


@pytest.mark.parametrize("width", [1366, 390])
def test_no_home_panel_overflows(page: Page, live_server, estimated, console_errors,
                                 width: int):
    page.set_viewport_size({"width": width, "height": 900})
    problems = {}
    for role, user in estimated.items():
        page.context.clear_cookies()
        sign_in(page, live_server.url, user.username)
        expect(page.get_by_role("heading", name="Home")).to_be_visible()
        assert page.locator("section.panel").count() > 0
        if can(user, "insights.view"):
            expect(page.get_by_text("Not yet identified"), role).to_be_visible()
        found = page.evaluate(OVERFLOWING, width >= 1366)
        if found:
            problems[role] = found
    assert problems == {}
    assert console_errors == []
