"""End-to-end: the analysis pages' charts are interactive under the site's strict
Content-Security-Policy. The vendored Vega draws the chart (SVG marks appear), nothing
violates the policy (no ``securitypolicyviolation`` event, no console error), a tooltip
appears on hover, a legend entry highlights its group, the PNG export downloads a PNG, and
without JavaScript the server-rendered chart is shown instead."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.test_browser import sign_in
from tests.web.conftest import make_user
from tests.web.test_insights_support import load, simulate

from tiplab_web.accounts.models import Organisation

pytestmark = pytest.mark.e2e

#: recorded before any page script runs (a Playwright init script is not subject to the
#: page's policy); a violation anywhere on the page lands in window.__cspViolations
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile
                              + ":" + e.lineNumber);
});
"""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    return simulate(tmp_path_factory.mktemp("charts-sim"))


@pytest.fixture
def analyst(settings, tmp_path, simulated, transactional_db):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    load(settings.DATA_DIR, simulated)
    org = Organisation.objects.create(name="National Rapporteur's Office",
                                      kind=Organisation.Kind.COORDINATOR, country="ZZ")
    return make_user("ana", ["analyst"], org)


def _wait_ready(page: Page, selector: str) -> None:
    chart = page.locator(selector)
    expect(chart).to_have_attribute("data-chart-state", re.compile("ready|error"),
                                    timeout=20000)
    assert chart.get_attribute("data-chart-state") == "ready", chart.inner_text()


def _violations(page: Page) -> list[str]:
    return page.evaluate("() => window.__cspViolations")


def test_trend_chart_is_interactive_under_the_csp(page: Page, live_server, analyst,
                                                  console_errors):
    page.add_init_script(WATCH_CSP)
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    sign_in(page, live_server.url, "ana")
    page.goto(live_server.url + "/insights/trends/?dataset=cases&by=sex&unit=records")
    expect(page.get_by_role("heading", name="Trends", level=1)).to_be_visible()

    _wait_ready(page, "#chart-trends")
    svg = page.locator("#chart-trends svg.marks")
    expect(svg).to_be_visible()
    points = page.locator("#chart-trends svg [aria-roledescription='point']")
    assert points.count() >= 10  # one per group and year shown
    assert page.locator("#chart-trends noscript img, #chart-trends > img").count() == 0

    # a tooltip on hover, styled by our charts.css (vega-tooltip injects no <style>)
    points.first.scroll_into_view_if_needed()
    box = points.first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=4)
    tooltip = page.locator("#vg-tooltip-element.visible")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text("year")
    expect(tooltip).to_contain_text("records")
    assert page.locator("style").count() == 0

    # the legend picks a group: the other groups' lines fade
    lines = page.locator("#chart-trends svg [aria-roledescription='line mark']")
    assert lines.count() >= 2

    def opacity() -> dict[str, str | None]:
        return {lines.nth(i).get_attribute("stroke"): lines.nth(i).get_attribute("opacity")
                for i in range(lines.count())}

    assert set(opacity().values()) == {"1"}
    label = page.locator("#chart-trends svg .role-legend-label text", has_text="Masculine")
    label.scroll_into_view_if_needed()
    box = label.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    picked = page.locator("#chart-trends svg [aria-roledescription='line mark']"
                          "[aria-label*='Masculine']")
    expect(picked).to_have_attribute("opacity", "1")
    expect(lines.first).to_have_attribute("opacity", "0.15")  # Feminine, sorted first
    assert sorted(opacity().values()) == ["0.15"] * (lines.count() - 1) + ["1"]

    # the server-rendered PNG is the export
    with page.expect_download() as download:
        page.get_by_role("link", name="Export PNG").click()
    path = download.value.path()
    with open(path, "rb") as fh:
        assert fh.read(8) == PNG_SIGNATURE
    assert download.value.suggested_filename.endswith(".png")

    assert _violations(page) == []
    assert console_errors == []
    origin = urlparse(live_server.url).netloc
    assert {urlparse(u).netloc for u in requested if u.startswith("http")} == {origin}


def test_maps_and_bars_draw_on_routes_and_vulnerability(page: Page, live_server, analyst,
                                                        console_errors):
    page.add_init_script(WATCH_CSP)
    sign_in(page, live_server.url, "ana")
    page.goto(live_server.url + "/insights/routes/")
    _wait_ready(page, "#chart-routes")
    assert page.locator("#chart-routes svg [aria-roledescription='geoshape']").count() > 100

    page.goto(live_server.url + "/insights/vulnerability/")
    page.get_by_role("button", name="Compute the index").click()
    # the job runs in the test's worker; the page follows it with htmx and then draws the
    # charts it swaps in
    _wait_ready(page, "#chart-vulnerability-sensitivity")
    bars = page.locator("#chart-vulnerability-sensitivity svg [aria-roledescription='bar']")
    assert bars.count() >= 2
    _wait_ready(page, "#chart-vulnerability-map")
    assert _violations(page) == []
    assert console_errors == []

    # a chart added later (as an htmx swap does) is drawn; one that cannot be drawn says so
    # and shows the static chart instead of a blank box
    page.evaluate("""() => {
      const add = (name, spec) => {
        const el = document.createElement("div");
        el.className = "tiplab-chart";
        el.id = "chart-" + name;
        el.setAttribute("data-chart-spec", "chart-" + name + "-spec");
        el.setAttribute("data-chart-alt", "A test chart.");
        el.setAttribute("data-chart-error", "The interactive chart could not be drawn.");
        el.setAttribute("data-chart-fallback", "/static/tiplab/favicon.svg");
        const data = document.createElement("script");
        data.type = "application/json";
        data.id = "chart-" + name + "-spec";
        data.textContent = JSON.stringify(spec);
        document.querySelector("main").append(el, data);
        document.dispatchEvent(new CustomEvent("htmx:load", {detail: {elt: el}}));
      };
      add("later", {data: {values: [{a: "x", b: 3}]}, mark: "bar",
                    encoding: {x: {field: "b", type: "quantitative"},
                               y: {field: "a", type: "nominal"},
                               tooltip: {field: "b", type: "quantitative"}}});
      add("broken", {data: {values: []}, mark: "no-such-mark"});
    }""")
    _wait_ready(page, "#chart-later")
    expect(page.locator("#chart-later svg [aria-roledescription='bar']")).to_have_count(1)
    broken = page.locator("#chart-broken")
    expect(broken).to_have_attribute("data-chart-state", "error")
    expect(broken.get_by_role("status")).to_have_text("The interactive chart could not be drawn.")
    expect(broken.locator("img.chart")).to_have_attribute("alt", "A test chart.")
    console_errors.clear()  # the broken chart's warning is expected; nothing else

    # the watch works: an inline style, which the policy refuses, is reported
    page.evaluate("""() => { const s = document.createElement("style");
                             s.textContent = "body { color: red; }";
                             document.head.appendChild(s); }""")
    page.wait_for_timeout(200)
    assert [v for v in _violations(page) if v.startswith("style-src")]


def test_without_javascript_the_static_chart_is_shown(browser: Browser, live_server, analyst):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server.url, "ana")
    page.goto(live_server.url + "/insights/trends/?dataset=cases")
    chart = page.locator("#chart-trends img.chart")
    expect(chart).to_be_visible()
    for _ in range(100):
        if chart.evaluate("img => img.complete && img.naturalWidth > 0"):
            break
        page.wait_for_timeout(100)
    assert chart.evaluate("img => img.naturalWidth") > 0
    assert chart.get_attribute("alt", timeout=1000).startswith("Line chart")
    context.close()
