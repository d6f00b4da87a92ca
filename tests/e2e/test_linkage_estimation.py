"""End-to-end: an analyst estimates the hidden number from a published table; the estimate
runs in a background thread and the page (polled by htmx) shows the result."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.test_browser import sign_in
from tests.web.conftest import make_user

from tiplab_web.accounts.models import Organisation

pytestmark = pytest.mark.e2e


def test_analyst_estimates_from_a_published_table(page: Page, live_server, transactional_db,
                                                  console_errors):
    org = Organisation.objects.create(name="National Rapporteur's Office",
                                      kind=Organisation.Kind.COORDINATOR, country="ZZ")
    make_user("ana", ["analyst"], org)
    sign_in(page, live_server.url, "ana")
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Estimates").click()
    page.get_by_role("link", name="New estimate").click()
    page.get_by_label("A published multiple-list table").check()
    page.get_by_label("Published table").select_option("korea_palembang_3lists.csv")
    page.get_by_label("Bootstrap replicates").fill("200")
    page.get_by_label("Sensitivity table across methods").uncheck()
    page.get_by_role("button", name="Estimate").click()
    # Korea (3 lists), stepwise: 268.7778 (MultipleSystemsEstimation 1.2.0 guide)
    expect(page.locator("#estimate")).to_have_text("269", timeout=30_000)
    expect(page.locator("#result")).to_contain_text("123 observed")
    expect(page.get_by_role("img", name="Histogram of the bootstrap estimates")).to_be_visible()
    assert console_errors == []
