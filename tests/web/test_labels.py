"""Codes in words: HTCDS codes by the codebook, countries and subdivisions by pycountry in
the user's language, the simulated country and its regions by the simulator's names."""

from __future__ import annotations

import json

from django.utils import translation

from tiplab_web.core.labels import label


def test_codebook_codes_and_lists():
    assert label("ForcedLabour", "exploitation_forms") == "Forced labour"
    assert label(["SexualExploitation", "ForcedLabour"], "exploitation_forms") == \
        "Sexual exploitation, Forced labour"
    assert label("Feminine", "sex") == "Female / woman"
    assert label(None, "sex") == "not recorded"
    assert label("SomethingElse", "sex") == "SomethingElse"  # unknown: as it is


def test_countries_and_subdivisions_in_the_users_language():
    assert label("MAR", "citizenship") == "Morocco"
    assert label("RO-CJ", "region_of_exploitation") == "Cluj"
    with translation.override("fr"):
        assert label("MAR", "citizenship") == "Maroc"
    with translation.override("es"):
        assert label("MAR", "citizenship") == "Marruecos"


def test_the_simulated_country_and_its_regions(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    country = tmp_path / "demo" / "country"
    country.mkdir(parents=True)
    (country / "regions.geojson").write_text(json.dumps({"type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"code": "XT-02", "name": "Velora"},
                      "geometry": None}]}), encoding="utf-8")
    truth = tmp_path / "demo" / "truth"
    truth.mkdir()
    (truth / "parameters.json").write_text(json.dumps(
        {"settings": {"country_code": "XTL", "country_name": "Tiplandia"}}), encoding="utf-8")
    assert label("XT-02", "region_of_exploitation") == "Velora"
    assert label("XTL", "country_of_exploitation") == "Tiplandia"


def test_the_case_browser_shows_words(client_as, world):
    from django.urls import reverse
    from tests.web import test_cases_support as cs

    cs.make_batch(world, world.users["analyst"])
    import re

    html = client_as("analyst").get(reverse("cases:list")).content.decode()
    text = re.sub(r"<[^>]+>", " ", html)  # what a reader sees (codes stay in values)
    assert "ForcedLabour" not in text
    assert "SexualExploitation" not in text
    assert "Forced labour" in text
