"""End-to-end: the public portal without signing in. Open /public/, open a release, its
interactive charts draw under the Content-Security-Policy (no ``securitypolicyviolation``
event, no console error), a tooltip shows on hover, and a CSV download is the frozen file."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.web.conftest import make_user
from tests.web.test_public_portal import build_state, use_values

from tiplab_web.accounts.models import Organisation
from tiplab_web.core.roles import ADMINISTRATOR, ANALYST, DATA_STEWARD, POLICY_OFFICER

pytestmark = pytest.mark.e2e

#: reports every CSP violation to the test (an init script runs before the page's own)
LISTEN = """document.addEventListener("securitypolicyviolation", function (e) {
  window.cspViolation(e.violatedDirective + " " + e.blockedURI);
});"""


def test_the_public_reads_a_release_and_its_charts(page: Page, live_server, transactional_db,
                                                   settings, tmp_path, monkeypatch,
                                                   console_errors):
    settings.DATA_DIR = tmp_path
    settings.TIPLAB_RELEASE_THRESHOLD = 5
    org = Organisation.objects.create(name="National Rapporteur's Office",
                                      kind=Organisation.Kind.COORDINATOR, country="ZZ")
    users = {role: make_user(role, [role], org)
             for role in (ANALYST, DATA_STEWARD, POLICY_OFFICER, ADMINISTRATOR)}
    state = build_state(users, org)
    use_values(monkeypatch, state.values)
    violations: list[str] = []
    page.expose_function("cspViolation", lambda text: violations.append(text))
    page.add_init_script(LISTEN)

    response = page.goto(live_server.url + "/public/")
    assert response.status == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    expect(page).to_have_url(re.compile(r"/public/$"))  # no login page in between
    expect(page.get_by_role("heading", name="Published statistics", level=1)).to_be_visible()
    assert page.context.cookies() == []

    page.get_by_role("link", name=state.release.title).click()
    expect(page.get_by_role("heading", name=state.release.title, level=1)).to_be_visible()
    expect(page.get_by_text(state.published.citation)).to_be_visible()
    expect(page.get_by_role("button", name="Copy the citation")).to_be_visible()

    # every chart is drawn by vega-embed (the interpreter, no eval) as SVG marks
    charts = page.locator(".tiplab-chart")
    assert charts.count() == 4
    trend = page.locator("#chart-region_year_form-year")
    expect(trend).to_have_attribute("data-chart-state", "ready", timeout=15000)
    expect(trend.locator("svg .mark-line path").first).to_be_attached()
    expect(trend.locator("svg .mark-area path").first).to_be_attached()  # the error band
    bars = page.locator("#chart-region_year-region")
    expect(bars).to_have_attribute("data-chart-state", "ready", timeout=15000)
    assert bars.locator("svg .mark-rect path").count() == 4  # one bar per region
    # a tooltip on hover (vega-tooltip, styled by our CSS: no injected <style>)
    trend.scroll_into_view_if_needed()
    point = trend.locator("svg .mark-symbol path").first
    box = point.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#vg-tooltip-element")).to_contain_text("2016", timeout=5000)

    # a download is the file frozen at approval
    item = next(i for i in state.published.items if i["key"] == "region_year")
    section = page.locator("#item-region_year")
    with page.expect_download() as info:
        section.get_by_role("link", name="CSV").click()
    download = info.value
    assert download.suggested_filename.endswith("-v3-region_year.csv")
    body = Path(download.path()).read_bytes()
    assert hashlib.sha256(body).hexdigest() == item["files"]["csv"]["sha256"]

    assert page.context.cookies() == []  # nothing public sets a cookie
    assert violations == []
    assert console_errors == []
