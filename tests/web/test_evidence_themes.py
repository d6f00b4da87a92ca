"""Themes beside numbers against a simulated country: regions are the country's, and the
victims' counts are the insights' trends for the same breakdown."""

from __future__ import annotations

import pytest
from tests.web import evidence_support as ev
from tests.web.test_insights_support import load, simulate

from tiplab_web.evidence import services, themes

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def simulated_country(tmp_path_factory):
    return simulate(tmp_path_factory.mktemp("evidence-country"))


@pytest.fixture
def country(settings, db, tmp_path, simulated_country):
    settings.DATA_DIR = tmp_path
    settings.TIPLAB_ANALYTICS_JOBS_INLINE = True
    return load(tmp_path, simulated_country)


def test_regions_and_victims_beside_themes(country, world):
    from tiplab.analysis import TrendSettings, trends
    from tiplab_web.insights import services as ins

    analyst = world.users["analyst"]
    regions = services.regions()
    assert regions, "the simulated country's regions"
    code = next(iter(sorted(regions)))
    note = ev.make_note(analyst, region=code)
    services.add_coding(analyst, note, 0, 36, services.codebook(analyst).keys()[0])
    table = themes.theme_counts(analyst, "region")
    assert table.columns == [(code, regions[code])]
    got = themes.victim_counts(analyst, "region")
    assert "unavailable" not in got, got
    want = trends(ins.engine(), TrendSettings(by=("region_of_exploitation",)))
    series = want.tables["series"].to_pylist()
    last = max(r["year"] for r in series)
    expect = {r["region_of_exploitation"]: r["value"] for r in series if r["year"] == last}
    shown = {r["value"]: r["counts"][-1] for r in got["rows"]}
    assert got["years"][-1] == last
    assert shown == {k or "": v for k, v in expect.items()}
    assert themes.victim_counts(analyst, "source_type")["unavailable"]
    year = themes.victim_counts(world.users["policy_officer"], "year")
    assert len(year["rows"]) == 1
    assert year["years"][-1] == last
