"""The analytics pages on demo-like data: they render, the GLOTIP figure equals the source,
policy officers only ever see protected tables, exports are audited, CSP holds."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.urls import reverse
from tests.web.test_insights_support import glotip_value, load, simulate

from tiplab_web.audit.models import AuditEntry
from tiplab_web.insights.forms import ROUTE_DATASETS


@pytest.fixture(scope="module")
def simulated_country(tmp_path_factory):
    return simulate(tmp_path_factory.mktemp("insights-sim"))


@pytest.fixture
def insights_data(settings, db, tmp_path, simulated_country):
    settings.DATA_DIR = tmp_path
    return load(tmp_path, simulated_country)


PAGES = [
    ("insights:trends", {}),
    ("insights:trends", {"by": "region_of_exploitation", "horizon": "0"}),
    ("insights:trends", {"dataset": "glotip", "country": "ROU", "agg_by": "sex"}),
    ("insights:hotspots", {}),
    ("insights:hotspots", {"year": "2020"}),
    ("insights:profiles", {"group": "means_of_control", "by": ["sex", "age_band"]}),
    ("insights:profiles", {"group": "recruiter_relation"}),
    ("insights:routes", {}),
    ("insights:routes", {"a_start": "2016", "a_end": "2019", "b_start": "2020",
                         "b_end": "2023"}),
    ("insights:hotspots", {"trend_start": "2017", "trend_end": "2023"}),
]


def _csv(response) -> list[dict[str, str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("role", ["analyst", "policy_officer"])
@pytest.mark.parametrize(("name", "query"), PAGES)
def test_pages_render_with_data_version(insights_data, client_as, role, name, query):
    response = client_as(role).get(reverse(name), query)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing to show" not in html
    assert re.search(r"Data version <code>dv-[0-9a-f]+</code>", html)
    assert "<table" in html


def test_glotip_trend_for_gbr_equals_the_source_csv(insights_data, client_as):
    expected = glotip_value("GBR", 2019)
    response = client_as("policy_officer").get(
        reverse("insights:trends"), {"dataset": "glotip", "country": "GBR"})
    html = response.content.decode()
    row = re.search(r'<th scope="row">2019</th>\s*<td class="num">([^<]*)</td>', html)
    assert row, html
    assert row.group(1) == f"{expected:,}"
    exported = _csv(client_as("analyst").get(
        reverse("insights:trends_export"), {"dataset": "glotip", "country": "GBR"}))
    assert [int(r["value"]) for r in exported if r["year"] == "2019"] == [expected]


def _small(rows: list[dict[str, str]], column: str) -> list[str]:
    return [r[column] for r in rows if r[column] and 0 < float(r[column]) < 5]


@pytest.mark.parametrize(("export", "query", "column"), [
    ("insights:trends_export", {"by": "region_of_exploitation"}, "value"),
    ("insights:trends_export", {"by": "citizenship"}, "value"),
    ("insights:hotspots_export", {"year": "2017"}, "n"),
    ("insights:profiles_export", {"group": "means_of_control", "by": ["sex", "age_band"]},
     "n"),
    ("insights:routes_export", {}, "n"),
])
def test_policy_officers_never_see_a_small_cell(insights_data, client_as, export, query,
                                                column):
    analyst = _csv(client_as("analyst").get(reverse(export), query))
    assert _small(analyst, column), "the selection has small cells: the test means something"
    officer = _csv(client_as("policy_officer").get(reverse(export), query))
    assert not _small(officer, column)
    assert any(r["suppressed"] == "True" for r in officer)
    page = reverse(export).replace("export.csv", "")
    html = client_as("policy_officer").get(page, query).content.decode()
    assert "Disclosure control applied." in html
    assert "secondary suppression" in html
    assert "Disclosure control applied." not in client_as("analyst").get(
        page, query).content.decode()


def test_policy_officer_tables_on_the_page_hide_small_counts(insights_data, client_as):
    html = client_as("policy_officer").get(
        reverse("insights:trends"), {"by": "region_of_exploitation", "horizon": "0"}
    ).content.decode()
    values = re.findall(r'<td>[^<]*</td>\s*<td class="num">([^<]*)</td>', html)
    assert values
    assert not [v for v in values if v and 0 < float(v.replace(",", "")) < 5]
    assert "suppressed</span>" in html


@pytest.mark.parametrize(("export", "query"), [
    ("insights:trends_export", {}),
    ("insights:trends_export", {"dataset": "glotip", "country": "GBR"}),
    ("insights:hotspots_export", {}),
    ("insights:profiles_export", {}),
    ("insights:routes_export", {}),
])
def test_csv_export_is_audited(insights_data, client_as, world, export, query):
    before = AuditEntry.objects.filter(action="insights.export").count()
    response = client_as("policy_officer").get(reverse(export), query)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    entries = AuditEntry.objects.filter(action="insights.export")
    assert entries.count() == before + 1
    entry = entries.latest("id")
    assert entry.actor == world.users["policy_officer"]
    assert entry.details["page"] == export.split(":")[1].replace("_export", "")
    assert entry.details["data_version"].startswith("dv-")
    assert entry.details["protected"] is (export != "insights:trends_export"
                                          or "dataset" not in query)


@pytest.mark.parametrize(("name", "kwargs", "kind"), [
    ("insights:trends_chart", {"fmt": "svg"}, "image/svg+xml"),
    ("insights:trends_chart", {"fmt": "png"}, "image/png"),
    ("insights:hotspots_map", {"fmt": "png"}, "image/png"),
    ("insights:routes_map", {"fmt": "svg"}, "image/svg+xml"),
])
def test_figures(insights_data, client_as, name, kwargs, kind):
    response = client_as("analyst").get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200
    assert response["Content-Type"] == kind
    assert len(response.content) > 1000
    assert client_as("analyst").get(reverse(name, kwargs={"fmt": "gif"})).status_code == 404


def test_hotspot_map_data_and_csp(insights_data, client_as):
    client = client_as("policy_officer")
    response = client.get(reverse("insights:hotspots"))
    html = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r"\sstyle=", html), "inline style"
    assert "<style" not in html
    assert "/static/insights/vendor/leaflet/leaflet.js" in html
    url = re.search(r'data-geojson="([^"]+)"', html).group(1).replace("&amp;", "&")
    fc = client.get(url).json()
    assert fc["type"] == "FeatureCollection"
    assert len(fc["features"]) == len(re.findall(r'<tr class="class-', html)) >= 20
    props = fc["features"][0]["properties"]
    assert {"code", "gi_class", "gi_z", "rate", "n"} <= set(props)
    assert all(p["n"] is None or not 0 < p["n"] < 5
               for p in (f["properties"] for f in fc["features"]))


def test_repeat_views_come_from_the_cache(insights_data, client_as):
    client = client_as("analyst")
    first = client.get(reverse("insights:hotspots")).content.decode()
    second = client.get(reverse("insights:hotspots")).content.decode()
    assert "(cached)" not in first
    assert "(cached)" in second


def test_bad_filters_show_errors_not_results(insights_data, client_as):
    html = client_as("analyst").get(reverse("insights:trends"),
                                    {"start": "2022", "end": "2018"}).content.decode()
    assert "The first year is after the last year." in html
    assert "trend-table" not in html


def test_pages_say_so_when_there_is_no_data(settings, db, tmp_path, client_as):
    settings.DATA_DIR = tmp_path
    for name in ("insights:trends", "insights:hotspots", "insights:profiles",
                 "insights:routes"):
        response = client_as("analyst").get(reverse(name))
        assert response.status_code == 200
        assert "Nothing to show" in response.content.decode()
    # charts, maps and exports of an empty data directory: not found, never a server error
    for name in ("insights:trends_export", "insights:profiles_export",
                 "insights:hotspots_export", "insights:hotspots_emerging_export",
                 "insights:hotspots_geojson", "insights:routes_export"):
        assert client_as("analyst").get(reverse(name)).status_code == 404, name
    for name in ("insights:trends_chart", "insights:hotspots_map", "insights:routes_map"):
        url = reverse(name, kwargs={"fmt": "png"})
        assert client_as("analyst").get(url).status_code == 404, name


def test_menu_lists_the_pages_for_insight_roles_only(db, client_as):
    html = client_as("policy_officer").get(reverse("core:home")).content.decode()
    for name in ("trends", "profiles", "routes", "hotspots"):
        assert reverse(f"insights:{name}") in html
    html = client_as("stakeholder").get(reverse("core:home")).content.decode()
    assert reverse("insights:trends") not in html


# --- emerging hotspots and route changes (issue #7) ----------------------------------------

PERIODS = {"a_start": "2016", "a_end": "2019", "b_start": "2020", "b_end": "2023"}


@pytest.mark.parametrize("role", ["analyst", "policy_officer"])
def test_hotspots_page_shows_emerging_patterns_per_region(insights_data, client_as, role):
    html = client_as(role).get(reverse("insights:hotspots")).content.decode()
    table = re.search(r'<table class="insights-table" id="emerging-table">(.*?)</table>', html,
                      re.S)
    assert table, "the emerging-hotspot table is on the page"
    years = re.findall(r'<th scope="col" class="year">(\d{4})</th>', table.group(1))
    assert years == [str(y) for y in range(2016, 2024)]
    regions = re.findall(r'<tr class="pattern-', table.group(1))
    hot_map_rows = re.findall(r'<tr class="class-', html)
    assert len(regions) == len(hot_map_rows) >= 20  # every region of the country
    patterns = set(re.findall(r'</th><td>([a-z ]+)</td>', table.group(1)))
    assert patterns <= {"new", "intensifying", "persistent", "sporadic", "diminishing",
                        "historical", "no pattern"}
    assert reverse("insights:hotspots_emerging_export") in html


def test_emerging_span_is_a_filter_and_too_short_a_span_is_refused(insights_data, client_as):
    client = client_as("analyst")
    html = client.get(reverse("insights:hotspots"),
                      {"trend_start": "2018", "trend_end": "2022"}).content.decode()
    table = re.search(r'id="emerging-table">(.*?)</table>', html, re.S).group(1)
    assert re.findall(r'class="year">(\d{4})</th>', table) == [str(y) for y in
                                                               range(2018, 2023)]
    html = client.get(reverse("insights:hotspots"),
                      {"trend_start": "2021", "trend_end": "2022"}).content.decode()
    assert "Emerging hotspots need at least three years" in html
    assert 'id="emerging-table"' not in html


def test_emerging_export_is_protected_for_policy_officers_and_audited(insights_data,
                                                                      client_as, world):
    url = reverse("insights:hotspots_emerging_export")
    analyst = _csv(client_as("analyst").get(url))
    assert {"region", "year", "n", "rate", "gi_z", "gi_q", "hot", "pattern",
            "data_version"} <= set(analyst[0])
    assert len({r["year"] for r in analyst}) == 8
    assert _small(analyst, "n"), "region-years with small counts exist: the test means something"
    before = AuditEntry.objects.filter(action="insights.export").count()
    officer = _csv(client_as("policy_officer").get(url))
    assert not _small(officer, "n")
    suppressed = [r for r in officer if r["suppressed"] == "True"]
    assert suppressed
    assert all(r["rate"] == "" for r in suppressed)
    # z-scores and patterns are the same for both roles; only counts and rates differ.
    key = [(r["region"], r["year"], r["gi_z"], r["pattern"]) for r in analyst]
    assert key == [(r["region"], r["year"], r["gi_z"], r["pattern"]) for r in officer]
    entry = AuditEntry.objects.filter(action="insights.export").latest("id")
    assert AuditEntry.objects.filter(action="insights.export").count() == before + 1
    assert entry.details["page"] == "hotspots-emerging"
    assert entry.details["protected"] is True


def test_routes_page_compares_two_periods(insights_data, client_as):
    html = client_as("analyst").get(reverse("insights:routes"), PERIODS).content.decode()
    table = re.search(r'id="changes-table">(.*?)</table>', html, re.S)
    assert table
    # countries in words, their codes in data-code
    rows = re.findall(r'<tr class="status-([a-z]+)"><th scope="row" data-code="([A-Z]{3})">'
                      r'[^<]+</th><td data-code="([A-Z]{3})">[^<]+</td>\s*'
                      r'<td class="num">([^<]*)</td><td class="num">([^<]*)</td>',
                      table.group(1))
    assert rows
    assert {r[0] for r in rows} <= {"new", "disappeared", "rising", "falling", "stable"}
    # The counts per period add up to the corridor totals of each period's own selection.
    exported = _csv(client_as("analyst").get(reverse("insights:routes_changes_export"),
                                             PERIODS))
    for period, col in (("a", "n_a"), ("b", "n_b")):
        corridors = _csv(client_as("analyst").get(reverse("insights:routes_export"), {
            "start": PERIODS[f"{period}_start"], "end": PERIODS[f"{period}_end"]}))
        assert sum(int(r[col]) for r in exported) == sum(int(r["n"]) for r in corridors)
    assert reverse("insights:routes_changes_export") in html


def test_route_changes_for_policy_officers_carry_status_only(insights_data, client_as):
    client = client_as("policy_officer")
    html = client.get(reverse("insights:routes"), PERIODS).content.decode()
    table = re.search(r'id="changes-table">(.*?)</table>', html, re.S).group(1)
    assert '<td class="num">' not in table
    exported = _csv(client.get(reverse("insights:routes_changes_export"), PERIODS))
    assert exported
    assert set(exported[0]) == {"origin_country", "country_of_exploitation", "status",
                                "origin_country_label", "country_of_exploitation_label",
                                "data_version", "unit"}  # status only: no period counts
    assert exported[0]["unit"] == "records"  # no link run designated in this data


def test_route_periods_must_be_complete(insights_data, client_as):
    client = client_as("analyst")
    html = client.get(reverse("insights:routes"),
                      {"a_start": "2016", "a_end": "2019"}).content.decode()
    assert "give the first and last year of both" in html
    assert 'id="corridor-table"' not in html
    assert client.get(reverse("insights:routes_changes_export")).status_code == 404


def test_the_simulated_country_is_on_the_routes_map(insights_data, client_as):
    """The demo's corridors lead into the simulated country, XTL: it joins the world layer
    from its own regions, so the default view draws them."""
    from tiplab_web.insights import services

    client = client_as("analyst")
    html = client.get(reverse("insights:routes")).content.decode()
    assert "not on map: XTL" not in html
    svg = client.get(reverse("insights:routes_map", args=["svg"])).content.decode()
    assert "No corridor can be drawn" not in svg
    assert "Tiplandia" in svg  # the country is outlined and named
    assert services.simulated_country()["iso_a3"].tolist() == ["XTL"]


def test_corridors_off_the_world_map_are_listed_not_dropped(insights_data, client_as):
    """Without the simulated country's regions, its corridors are listed, not dropped."""
    (insights_data / "demo" / "country" / "regions.geojson").unlink()
    html = client_as("analyst").get(reverse("insights:routes")).content.decode()
    note = re.search(r'<div class="notice" role="note" id="not-on-map">(.*?)</div>', html,
                     re.S)
    assert note, "the simulated country XTL is not on the world layer: the page says so"
    assert "XTL" in note.group(1)
    assert re.search(r'<span class="tag">not on map: XTL</span>', html)


def test_an_anchor_places_the_simulated_country(insights_data, settings):
    from tiplab.reports import country_centroids
    from tiplab_web.insights import services

    settings.TIPLAB_DEMO_COUNTRY_ANCHOR = (21.5, 8.0)
    point = country_centroids(services.simulated_country()).set_index("iso_a3").loc["XTL"]
    assert point["lon"] == pytest.approx(21.5, abs=0.5)
    assert point["lat"] == pytest.approx(8.0, abs=0.5)


@pytest.mark.parametrize("raw", ["21.5", "east,north", "200,0", "0,89"])
def test_a_bad_anchor_is_refused_when_the_settings_load(monkeypatch, raw):
    from django.core.exceptions import ImproperlyConfigured

    from tiplab_web.settings.base import _env_lonlat

    monkeypatch.setenv("TIPLAB_DEMO_COUNTRY_ANCHOR", raw)
    with pytest.raises(ImproperlyConfigured, match="longitude,latitude"):
        _env_lonlat("TIPLAB_DEMO_COUNTRY_ANCHOR")


@pytest.mark.skipif(not Path(__file__).resolve().parents[3].joinpath(
    "shared", "data", "du_tip_directionality", "Human_Traffic_data.csv").exists(),
    reason="the shared Denver route coding is not present")
def test_denver_routes_are_suppressed_for_policy_officers(insights_data, client_as):
    query = {"dataset": "denver"}
    analyst = _csv(client_as("analyst").get(reverse("insights:routes_export"), query))
    assert _small(analyst, "n")
    officer = _csv(client_as("policy_officer").get(reverse("insights:routes_export"), query))
    assert not _small(officer, "n")
    assert any(r["suppressed"] == "True" for r in officer)
    html = client_as("policy_officer").get(reverse("insights:routes"), query).content.decode()
    assert "Disclosure control applied." in html


#: each page's option sets: every choice of every other field is tried on top of each base
OPTION_BASES = {
    "insights:trends": [{}, {"dataset": "glotip"}],
    "insights:hotspots": [{}],
    "insights:profiles": [{}],
    "insights:routes": [{"dataset": d} for d, _label in ROUTE_DATASETS],
}


def _sample(values: list) -> list:
    """Every value of a short list; the ends and the middle of a long one (countries)."""
    return values if len(values) <= 12 else [values[0], values[len(values) // 2], values[-1]]


@pytest.mark.parametrize("name", sorted(OPTION_BASES))
def test_every_option_of_every_analysis_page_renders(insights_data, client_as, name):
    """Made from runs of the code on simulated data, not fixtures: one request per choice of
    each select on the page (a choice that a form refuses must answer 200 with its error)."""
    client = client_as("analyst")
    tried = 0
    for base in OPTION_BASES[name]:
        form = client.get(reverse(name), base).context["form"]
        for field_name, field in form.fields.items():
            choices = [v for v, _label in getattr(field, "choices", []) if v not in ("", None)]
            if field_name == "dataset" or not choices:
                continue
            for value in _sample(choices):
                query = {**base, field_name: value}
                response = client.get(reverse(name), query)
                assert response.status_code == 200, query
                html = response.content.decode()
                if response.context["form"].is_valid():
                    assert "Data version" in html, query  # a result, with its provenance
                else:
                    assert 'class="errorlist' in html, query  # the refusal, said on the page
                tried += 1
    assert tried >= 5


def test_exports_keep_codes_and_add_their_labels(insights_data, client_as):
    rows = _csv(client_as("analyst").get(reverse("insights:routes_export")))
    assert rows
    first = rows[0]
    assert {"origin_country", "origin_country_label", "country_of_exploitation",
            "country_of_exploitation_label"} <= set(first)
    by_code = {r["origin_country"]: r["origin_country_label"] for r in rows}
    if "ROU" in by_code:
        assert by_code["ROU"] == "Romania"
    assert any(code != label for code, label in by_code.items())
    destinations = {r["country_of_exploitation_label"] for r in rows}
    assert "XTL" not in destinations  # the simulated country by its name


def test_a_breakdown_also_comes_as_a_year_by_category_grid(insights_data, client_as):
    from tiplab_web.insights import analyses

    client = client_as("analyst")
    query = {"by": "sex", "horizon": "0"}
    response = client.get(reverse("insights:trends"), query)
    grid = response.context["grid"]
    assert grid is not None
    assert 'id="trend-grid"' in response.content.decode()
    series = response.context["result"].tables["series"].to_pylist()
    # each row total is the sum of its cells, and the grand total the sum of the series
    for row in grid["rows"]:
        cells = [int(c.replace(",", "")) for c in row["cells"] if c]
        assert int(row["total"].replace(",", "")) == sum(cells)
    assert int(grid["grand"].replace(",", "")) == sum(r["value"] for r in series)
    assert client.get(reverse("insights:trends")).context["grid"] is None  # no breakdown
    # a policy officer's suppressed cells blank the totals that would reveal them
    officer = client_as("policy_officer").get(reverse("insights:trends"), query).context
    result = officer["result"]
    hidden = {(r["year"], analyses._label(r, ["sex"]))
              for r in result.tables["series"].to_pylist() if r.get("suppressed")}
    for row in officer["grid"]["rows"]:
        if any(y == row["period"] for y, _g in hidden):
            assert row["total"] == ""
