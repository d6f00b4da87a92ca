"""The analytics pages on demo-like data: they render, the GLOTIP figure equals the source,
policy officers only ever see protected tables, exports are audited, CSP holds."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse
from tests.web.test_insights_support import glotip_value, load, simulate

from tiplab_web.audit.models import AuditEntry


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
    assert client_as("analyst").get(reverse("insights:trends_export")).status_code == 404


def test_menu_lists_the_pages_for_insight_roles_only(db, client_as):
    html = client_as("policy_officer").get(reverse("core:home")).content.decode()
    for name in ("trends", "profiles", "routes", "hotspots"):
        assert reverse(f"insights:{name}") in html
    html = client_as("stakeholder").get(reverse("core:home")).content.decode()
    assert reverse("insights:trends") not in html
