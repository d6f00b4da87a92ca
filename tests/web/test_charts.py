"""Interactive charts: Vega-Lite specs from ``tiplab.reports.charts`` carry exactly the
result's numbers inline; the ``vega_chart`` include writes the spec as JSON with the static
fallback and the exports; the vendored Vega builds are served by the app, match the npm
registry's tarballs (SHA256SUMS, written by scripts/vendor_vega.sh) and load nothing from a
third-party origin; on the analysis pages a policy officer's chart publishes no number the
protected export does not."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from django.contrib.staticfiles import finders
from django.template import Context, Template, TemplateSyntaxError
from django.urls import reverse
from tests.web.test_insights_support import load, simulate

from tiplab.analysis.results import AnalysisResult
from tiplab.reports.charts import (
    NOT_RECORDED,
    ChartError,
    _d3_winding,
    paired_bars_spec,
    region_map_spec,
    render_spec,
    trend_spec,
    vegalite_spec,
)

REPO = Path(__file__).resolve().parents[2]
CORE = REPO / "src" / "tiplab_web" / "core"
VENDOR = CORE / "static" / "vendor" / "vega"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- the specs -------------------------------------------------------------------------------

def _result(by: bool = False) -> AnalysisResult:
    """A small trend result with known numbers: a suppressed cell, a change point and (without
    a breakdown) a forecast."""
    if by:
        series = pa.table({
            "year": [2020, 2021, 2020, 2021],
            "sex": ["Feminine", "Feminine", None, None],
            "value": [12.0, 15.0, None, 7.0],
            "ci_low": [6.2, 8.4, None, 2.8],
            "ci_high": [21.0, 24.7, None, 14.4],
            "change": [None, 1.25, None, None],
            "suppressed": [False, False, True, False]})
        cps = pa.table({"sex": ["Feminine"], "year": [2021], "p_value": [0.01]})
        tables = {"series": series, "changepoints": cps}
    else:
        series = pa.table({
            "year": [2019, 2020, 2021],
            "value": [100.0, 120.0, 90.0],
            "ci_low": [81.4, 99.5, 72.4],
            "ci_high": [121.6, 143.5, 110.6],
            "change": [None, 1.2, 0.75]})
        tables = {"series": series,
                  "changepoints": pa.table({"year": [2021], "p_value": [0.004]}),
                  "forecast": pa.table({"year": [2022], "mean": [95.5], "low": [60.0],
                                        "high": [140.0]})}
    return AnalysisResult(kind="trends", tables=tables, data_version="dv-test",
                          parameters={"by": ["sex"] if by else [], "forecast_level": 0.95})


def _datasets(spec: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Every inline data set of a spec (Altair keeps data frames under ``datasets``)."""
    found = list(spec.get("datasets", {}).values())

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and "values" in data:
                found.append(data["values"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk({k: v for k, v in spec.items() if k != "datasets"})
    return found


def _values(spec: dict[str, Any], data: dict[str, Any]) -> Any:
    """The values a ``data`` entry of ``spec`` names (inline, or in ``datasets``)."""
    return data["values"] if "values" in data else spec["datasets"][data["name"]]


def _observed(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return next(d for d in _datasets(spec) if d and "change" in d[0])


def test_trend_spec_carries_the_results_numbers_inline():
    spec = trend_spec(_result(), title="Records per year")
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6.4")
    assert "url" not in json.dumps(spec).replace("$schema", "")  # no data read from a URL
    observed = _observed(spec)
    assert [(r["period"], r["value"], r["low"], r["high"]) for r in observed] == [
        (2019, 100.0, 81.4, 121.6), (2020, 120.0, 99.5, 143.5), (2021, 90.0, 72.4, 110.6)]
    # what the tooltip says, as the page's table writes it
    assert [(r["shown"], r["interval"], r["change"]) for r in observed] == [
        ("100", "81.4–121.6", ""), ("120", "99.5–143.5", "+20.0%"),
        ("90", "72.4–110.6", "-25.0%")]
    forecast = next(d for d in _datasets(spec) if d and "mean" in d[0])
    assert forecast == [{"period": 2022, "mean": 95.5, "low": 60.0, "high": 140.0,
                         "shown": "96", "interval": "60–140"}]
    assert next(d for d in _datasets(spec) if d and "p_value" in d[0])[0]["period"] == 2021
    assert spec["usermeta"]["tiplab"]["data_version"] == "dv-test"
    assert spec["title"]["text"] == "Records per year"


def test_a_suppressed_cell_is_a_gap_never_a_zero_and_groups_pick_from_the_legend():
    spec = trend_spec(_result(by=True))
    observed = _observed(spec)
    gap = [r for r in observed if r["group"] == NOT_RECORDED and r["period"] == 2020]
    assert gap == [{"period": 2020, "group": NOT_RECORDED, "value": None, "low": None,
                    "high": None, "shown": "suppressed", "interval": "", "change": ""}]
    assert {r["group"] for r in observed} == {"Feminine", NOT_RECORDED}
    assert [(p["name"], p["bind"], p["select"]["fields"]) for p in spec["params"]] == [
        ("pick", "legend", ["group"])]
    assert not [d for d in _datasets(spec) if d and "mean" in d[0]]  # no forecast by group


def test_a_spec_is_drawn_offline_as_svg_and_png():
    spec = trend_spec(_result())
    svg = render_spec(spec, "svg").decode()
    assert svg.startswith("<svg")
    assert re.search(r'aria-label="year: 2020[^"]*"', svg)
    assert render_spec(spec, "png")[:8] == PNG_SIGNATURE
    with pytest.raises(ChartError, match="use one of svg, png"):
        render_spec(spec, "pdf")


def test_a_chart_reading_a_url_is_refused():
    import altair as alt

    chart = alt.Chart(alt.Data(url="https://example.org/data.csv")).mark_bar().encode(x="a:Q")
    with pytest.raises(ChartError, match=r"https://example\.org/data\.csv"):
        vegalite_spec(chart)


def test_region_map_keeps_regions_without_a_value_and_winds_rings_for_d3():
    ccw = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ccw]},
         "properties": {"code": "XT-01", "name": "North", "rate": 12.345}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ccw]},
         "properties": {"code": "XT-02", "name": "South", "rate": None}}]}
    spec = region_map_spec(fc, value="rate", value_title="per 100,000")
    features = _values(spec, spec["data"])["features"]
    assert [(f["properties"]["key"], f["properties"]["shown"]) for f in features] == [
        ("XT-01", "12.3"), ("XT-02", "no value")]
    # d3-geo reads outer rings clockwise: the counter-clockwise square is reversed
    assert features[0]["geometry"]["coordinates"][0] == ccw[::-1]
    assert _d3_winding({"type": "Polygon", "coordinates": [ccw[::-1]]})["coordinates"] == [
        ccw[::-1]]
    svg = render_spec(spec, "svg").decode()
    assert 'aria-label="code: XT-02; region: South; per 100,000: no value"' in svg


def test_paired_bars_keep_the_rows_order_and_values():
    import pandas as pd

    frame = pd.DataFrame([{"choice": "weights", "first": 0.31, "total": 0.52},
                          {"choice": "normalisation", "first": 0.05, "total": 0.11}])
    spec = paired_bars_spec(frame, label="choice", series={"first": "first order",
                                                           "total": "total order"})
    (data,) = _datasets(spec)
    assert [(r["label"], r["series"], r["value"]) for r in data] == [
        ("weights", "first order", 0.31), ("weights", "total order", 0.52),
        ("normalisation", "first order", 0.05), ("normalisation", "total order", 0.11)]


# --- the include -----------------------------------------------------------------------------

def _render(source: str, **context: Any) -> str:
    return Template("{% load charts %}" + source).render(Context(context))


def test_the_include_writes_the_spec_as_json_with_fallback_and_exports():
    spec = {"mark": "bar", "data": {"values": [{"a": "</script><b>x</b>"}]}}
    html = _render('{% vega_chart spec alt="Bars of a; the table has them." '
                   'svg_url=svg png_url="/c.png" name="Demo Chart" %}', spec=spec,
                   svg="/c.svg?x=1&y=2")
    # the spec as data, escaped so that no value can end the script element
    found = re.search(r'<script id="chart-demo-chart-spec" type="application/json">(.*?)'
                      r"</script>", html, re.S)
    assert found
    assert json.loads(found.group(1)) == spec
    assert "</script><b>" not in html
    assert 'data-chart-spec="chart-demo-chart-spec"' in html
    # without JavaScript the server-rendered chart, with its alt text
    assert re.search(r'<noscript><img class="chart" src="/c.svg\?x=1&amp;y=2" '
                     r'alt="Bars of a; the table has them."></noscript>', html)
    assert 'data-chart-fallback="/c.svg?x=1&amp;y=2"' in html
    assert '<a class="button button--quiet" href="/c.png" download>Export PNG</a>' in html
    assert '<a class="button button--quiet" href="/c.svg?x=1&amp;y=2" download>' in html
    assert "style=" not in html  # nothing the CSP would refuse
    assert "<script>" not in html


def test_without_a_spec_the_static_chart_shows_and_alt_text_is_required():
    html = _render('{% vega_chart None alt="A map." svg_url="/m.svg" exports=False %}')
    assert "<noscript>" not in html
    assert "application/json" not in html
    assert '<img class="chart" src="/m.svg" alt="A map.">' in html
    assert "Export" not in html
    # a page whose view passes no spec (yet): the static chart as before
    html = _render('{% vega_chart chart_specs.bootstrap alt="A histogram." svg_url="/h.svg" %}')
    assert '<img class="chart" src="/h.svg" alt="A histogram.">' in html
    assert "<noscript>" not in html
    with pytest.raises(TemplateSyntaxError, match="alt text"):
        _render('{% vega_chart spec alt="" %}', spec={})


def test_assets_load_in_order_with_defer():
    html = _render("{% chart_assets %}")
    scripts = re.findall(r'<script src="([^"]+)" defer></script>', html)
    assert scripts == ["/static/vendor/vega/vega.min.js", "/static/vendor/vega/vega-lite.min.js",
                       "/static/vendor/vega/vega-embed.min.js", "/static/tiplab/charts.js"]
    assert '<link rel="stylesheet" href="/static/tiplab/charts.css">' in html
    assert _render("{{ u|with_query:q }}", u="/a", q="b=1") == "/a?b=1"
    assert _render("{{ u|with_query:q }}", u="/a", q="") == "/a"


# --- the vendored files --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["vendor/vega/vega.min.js", "vendor/vega/vega-lite.min.js",
                                  "vendor/vega/vega-embed.min.js", "tiplab/charts.js"])
def test_the_scripts_are_served_by_the_app(client, db, name):
    def get(path: str) -> tuple[int, str, bytes]:
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        response.close()
        return response.status_code, response["Content-Type"].split(";")[0], body

    status, kind, body = get(f"/static/{name}")
    assert (status, kind) in ((200, "text/javascript"), (200, "application/javascript"))
    assert body == Path(finders.find(name)).read_bytes()
    assert get("/static/tiplab/charts.css")[:2] == (200, "text/css")


def test_the_vendored_files_are_the_registry_tarballs_files():
    """SHA256SUMS is written by scripts/vendor_vega.sh from the npm tarballs it verified
    against their sha512 integrity; ``scripts/vendor_vega.sh --check`` re-downloads."""
    sums = (VENDOR / "SHA256SUMS").read_text().splitlines()
    listed = {}
    for line in sums:
        digest, name = line.split(maxsplit=1)
        listed[name] = digest
    on_disk = {p.name for p in VENDOR.iterdir()} - {"SHA256SUMS", "README.md"}
    assert set(listed) == on_disk
    for name, digest in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    readme = (VENDOR / "README.md").read_text()
    for pkg in ("vega@6.4.0", "vega-lite@6.4.3", "vega-embed@7.3.0", "vega-interpreter@2.3.2"):
        assert pkg in readme
        assert pkg in (REPO / "scripts" / "vendor_vega.sh").read_text()


#: every http(s) URL in the vendored scripts, and why it loads nothing
KNOWN_URLS = {
    "http://www.w3.org/2000/svg": "SVG namespace",
    "http://www.w3.org/1999/xlink": "XLink namespace",
    "http://www.w3.org/2000/xmlns/": "XML namespace",
    "https://vega.github.io/schema/vega/v6.json": "a $schema name written into compiled specs",
    "https://github.com/vega/vega-lite/issues/2415": "a link in a warning message",
    "https://github.com/Starcounter-Jack/JSON-Patch": "the licence comment of a bundled library",
    "https://vega.github.io/editor/": "the 'Open in Vega Editor' action: charts.js turns the "
                                      "actions off",
    "http://": "a prefix test (is a string a URL?)",
    "https://": "a prefix test (is a string a URL?)",
}


def test_nothing_loads_from_a_third_party_origin():
    found: set[str] = set()
    for js in VENDOR.glob("*.js"):
        found |= set(re.findall(r"https?://[^\s\"'`)<>\\]*", js.read_text(encoding="utf-8")))
    assert found == set(KNOWN_URLS)
    charts_js = (CORE / "static" / "tiplab" / "charts.js").read_text()
    for option in ("actions: false", "ast: true", "defaultStyle: false",
                   "disableDefaultStyle: true"):
        assert option in charts_js
    # our code and every template: no script, style, image or font from another origin
    ours = [CORE / "static" / "tiplab" / "charts.js", CORE / "static" / "tiplab" / "charts.css"]
    templates = list((REPO / "src" / "tiplab_web").rglob("templates/**/*.html"))
    assert len(templates) > 50
    loads = re.compile(r"""(<(script|img|iframe|source|audio|video)[^>]*\ssrc|<link[^>]*\shref"""
                       r"""|url\(|@import)\s*=?\s*["']?\s*(https?:)?//""", re.I)
    offenders = [str(p) for p in ours + templates if loads.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


# --- the analysis pages ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def simulated_country(tmp_path_factory):
    return simulate(tmp_path_factory.mktemp("charts-sim"))


@pytest.fixture
def insights_data(settings, db, tmp_path, simulated_country):
    settings.DATA_DIR = tmp_path
    return load(tmp_path, simulated_country)


def _page_spec(html: str, name: str) -> dict[str, Any]:
    found = re.search(rf'<script id="chart-{name}-spec" type="application/json">(.*?)</script>',
                      html, re.S)
    assert found, f"no spec for chart {name}"
    return json.loads(found.group(1))


def test_trends_page_embeds_the_chart_it_exports(insights_data, client_as):
    client = client_as("analyst")
    query = {"by": "sex"}
    html = client.get(reverse("insights:trends"), query).content.decode()
    spec = _page_spec(html, "trends")
    version = re.search(r"Data version <code>(dv-[0-9a-f]+)</code>", html).group(1)
    assert spec["usermeta"]["tiplab"]["data_version"] == version
    assert '<script src="/static/vendor/vega/vega-embed.min.js" defer></script>' in html
    svg_url = reverse("insights:trends_chart", args=["svg"]) + "?by=sex"
    assert f'<noscript><img class="chart" src="{svg_url}" alt="Line chart' in html
    # the exported SVG is the same chart: drawn from the same spec
    svg = client.get(reverse("insights:trends_chart", args=["svg"]), query)
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg.content == render_spec(spec, "svg")
    png = client.get(reverse("insights:trends_chart", args=["png"]), query)
    assert png.content[:8] == PNG_SIGNATURE
    assert f'filename="tiplab-trends-{version}.png"' in png["Content-Disposition"]


def _exported_values(response) -> set[float]:
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    return {float(r["value"]) for r in rows if r["value"]}


def test_a_policy_officers_chart_publishes_no_number_the_protected_export_does_not(
        insights_data, client_as):
    query = {"by": "region_of_exploitation", "horizon": "0"}
    officer = client_as("policy_officer")
    spec = _page_spec(officer.get(reverse("insights:trends"), query).content.decode(),
                      "trends")
    charted = {r["value"] for r in _observed(spec) if r["value"] is not None}
    published = _exported_values(officer.get(reverse("insights:trends_export"), query))
    assert charted == published
    assert any(r["shown"] == "suppressed" and r["value"] is None for r in _observed(spec))
    # the analyst's chart has the small cells the officer's has not
    analyst = _page_spec(client_as("analyst").get(reverse("insights:trends"), query)
                         .content.decode(), "trends")
    small = {r["value"] for r in _observed(analyst) if r["value"] and 0 < r["value"] < 5}
    assert small
    assert not small & charted


def test_routes_page_maps_the_top_corridors_with_their_volumes(insights_data, client_as):
    client = client_as("analyst")
    html = client.get(reverse("insights:routes"), {"top": "10"}).content.decode()
    spec = _page_spec(html, "routes")
    layers = [_values(spec, layer["data"])["features"] for layer in spec["layer"]]
    lines = next(f for f in layers if f[0]["geometry"]["type"] == "LineString")
    assert 0 < len(lines) <= 10
    rows = list(csv.DictReader(io.StringIO(client.get(reverse("insights:routes_export"))
                                           .content.decode())))
    volumes = {float(r["n"]) for r in rows if r["n"]}
    assert {f["properties"]["value"] for f in lines} <= volumes
    assert len(json.dumps(spec)) < 250_000  # the world layer is simplified for the page
