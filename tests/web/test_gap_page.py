"""The detection gap page: computed in the background from the designated linkage's persons,
shown to every analytics role (policy officers through the disclosure rule), exported with its
data version and unit; without a designated link run it says what is missing."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from tests.web import test_linkage_support as ls

from tiplab_web.jobs.models import Job
from tiplab_web.linkage.models import LinkRun


@pytest.fixture(autouse=True)
def _own_data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def test_the_gap_needs_a_designated_linkage(client_as, world):
    ls.seed_records()
    page = client_as("analyst").get(reverse("insights:gap")).content.decode()
    assert "no link run is designated yet" in page
    assert "no link run is designated yet" in client_as("analyst").post(
        reverse("insights:gap")).content.decode()
    assert not Job.objects.filter(kind="insights.gap").exists()


def test_compute_show_and_export_the_gap(client_as, world):
    ls.seed_records()
    analyst, steward = client_as("analyst"), client_as("data_steward")
    analyst.post(reverse("linkage:runs"), {"sources": list(ls.AGENCIES)})
    run = LinkRun.objects.get()
    steward.post(reverse("linkage:designate", args=[run.pk]), {"note": "for the gap"})
    url = reverse("insights:gap") + "?by=region_of_exploitation&nboot=0"
    assert "Compute the detection gap" in analyst.get(url).content.decode()
    response = analyst.post(url)
    assert response.status_code == 302
    job = Job.objects.get(kind="insights.gap")
    assert job.status == Job.SUCCEEDED, job.error
    page = analyst.get(url)
    html = page.content.decode()
    assert 'id="gap-table"' in html
    assert "Compute the detection gap" not in html
    rows = page.context["rows"]
    assert {r["cells"][0][0] for r in rows} == set(ls.REGIONS)
    identified = sum(r["identified"] for r in rows)
    assert identified == run.persons  # every person of the designated run, once
    for r in rows:
        assert r["gap"] == pytest.approx(r["estimate"] - r["identified"])
    # asking again for the same data and strata starts nothing: the answer would be the same
    analyst.post(url)
    assert Job.objects.filter(kind="insights.gap").count() == 1
    # the export carries the data version and the unit, at the page's precision
    export = analyst.get(reverse("insights:gap_export") + "?by=region_of_exploitation&nboot=0")
    text = b"".join(export.streaming_content if export.streaming else [export.content])
    table = list(csv.DictReader(io.StringIO(text.decode())))
    assert {r["region_of_exploitation"] for r in table} == set(ls.REGIONS)
    assert table[0]["unit"] == f"persons (link run {run.pk})"
    assert "." not in table[0]["identified"]
    # policy officers see it too (no case-level access needed); other strata: not computed
    officer = client_as("policy_officer")
    assert 'id="gap-table"' in officer.get(url).content.decode()
    other = officer.get(reverse("insights:gap") + "?by=sex&nboot=0").content.decode()
    assert "Compute the detection gap" in other
    # too many strata: the form says so
    bad = analyst.get(reverse("insights:gap") + "?by=sex&by=year&by=age_band")
    assert "at most two strata" in bad.content.decode()


def test_the_gap_by_latent_classes(client_as, world, monkeypatch):
    from tiplab.estimation import api

    real = api._bayesian
    monkeypatch.setattr(api, "_bayesian", lambda t, m, lv, sd, b, w: real(
        t, m, lv, sd, {"chains": 2, "burnin": 50, "samples": 50, "thin": 2}, w))
    ls.seed_records()
    analyst, steward = client_as("analyst"), client_as("data_steward")
    analyst.post(reverse("linkage:runs"), {"sources": list(ls.AGENCIES)})
    run = LinkRun.objects.get()
    steward.post(reverse("linkage:designate", args=[run.pk]), {"note": "for the gap"})
    url = reverse("insights:gap") + "?by=region_of_exploitation&nboot=0&method=lcmcr"
    analyst.post(url)
    job = Job.objects.get(kind="insights.gap")
    assert job.params["method"] == "lcmcr"
    assert job.status == Job.SUCCEEDED, job.error
    assert job.result["gap"]["parameters"]["method"] == "lcmcr"
    assert 'id="gap-table"' in analyst.get(url).content.decode()
    # the stepwise page for the same strata is a different question: not computed yet
    assert "Compute the detection gap" in analyst.get(
        reverse("insights:gap") + "?by=region_of_exploitation&nboot=0").content.decode()
