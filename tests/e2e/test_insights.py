"""End-to-end: an analyst opens Trends and Hotspots; the chart loads, and the vendored
Leaflet map draws the regions (SVG paths in a .leaflet-pane) with no console errors (a CSP
violation would be one)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.test_browser import sign_in
from tests.web.conftest import make_user
from tests.web.test_insights_support import load, simulate

from tiplab_web.accounts.models import Organisation

pytestmark = pytest.mark.e2e


def test_analyst_sees_trends_and_the_hotspot_map(page: Page, live_server, transactional_db,
                                                 settings, tmp_path, console_errors):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    load(settings.DATA_DIR, simulate(tmp_path / "sim"))
    org = Organisation.objects.create(name="National Rapporteur's Office",
                                      kind=Organisation.Kind.COORDINATOR, country="ZZ")
    make_user("ana", ["analyst"], org)
    sign_in(page, live_server.url, "ana")
    menu = page.get_by_role("navigation", name="Main menu")

    menu.get_by_role("link", name="Trends").click()
    expect(page.get_by_role("heading", name="Trends", level=1)).to_be_visible()
    chart = page.locator("#chart-trends")  # drawn in the browser from its Vega-Lite spec
    expect(chart).to_have_attribute("data-chart-state", "ready", timeout=20000)
    expect(chart.locator("svg.marks")).to_be_visible()
    expect(page.locator("#trend-table tbody tr").first).to_be_visible()
    expect(page.get_by_text("Data version").first).to_be_visible()

    menu.get_by_role("link", name="Hotspots").click()
    expect(page.get_by_role("heading", name="Hotspots", level=1)).to_be_visible()
    expect(page.locator("#hotspot-map[data-ready=true]")).to_be_attached(timeout=15000)
    paths = page.locator("#hotspot-map .leaflet-pane path")
    expect(paths.first).to_be_attached()
    assert paths.count() == page.locator("#hotspot-table tbody tr").count() >= 20
    assert console_errors == []
