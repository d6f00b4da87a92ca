"""Scorecards read approved values; reviews keep what they saw and turn recommendations into
plan revisions that name the review."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from tests.web import evaluation_support as support
from tests.web import test_plans_support as _pl
from tests.web.conftest import sign_in

from tiplab_web.audit.models import AuditEntry
from tiplab_web.core.roles import ANALYST, POLICY_OFFICER
from tiplab_web.evaluation import services
from tiplab_web.evaluation.models import Review
from tiplab_web.plans import services as plans

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(world):
    return world.users[POLICY_OFFICER]


def _values(monkeypatch, values):
    monkeypatch.setattr(services, "approved_values", lambda plan: values)


def test_the_scorecard_rates_measures_from_approved_values(world, officer, monkeypatch):
    plan = _pl.make_plan(officer)  # M1: PROT-10 baseline 10, target 20 in 2026
    _values(monkeypatch, {("M1", "PROT-10"): [("2025", 12.0), ("2026", 19.0)]})
    client = sign_in(Client(), world.users[ANALYST])
    page = client.get(reverse("evaluation:scorecard", args=[plan.pk]) + "?year=2026")
    body = page.content.decode()
    assert page.context["card"].measures[0].status == "on_track"
    assert "status--on_track" in body
    assert "<polyline" in body  # the sparkline of two values
    rows = list(csv.DictReader(io.StringIO(client.get(
        reverse("evaluation:scorecard", args=[plan.pk]) + "?year=2026&format=csv"
    ).content.decode())))
    assert rows[0]["measure"] == "M1"
    assert rows[0]["latest"] == "19.0"
    assert rows[0]["indicator_status"] == "on_track"
    _values(monkeypatch, {("M1", "PROT-10"): [("2026", 11.0)]})
    page = client.get(reverse("evaluation:scorecard", args=[plan.pk]) + "?year=2026")
    assert page.context["card"].measures[0].status == "off_track"


def test_the_scorecard_filters_by_agency_and_status(world, officer, monkeypatch):
    plan = _pl.make_plan(officer)
    support.no_values(monkeypatch)
    client = sign_in(Client(), officer)
    url = reverse("evaluation:scorecard", args=[plan.pk])
    assert "M1" in client.get(url + "?agency=Shelter+NGO").content.decode()
    page = client.get(url + "?agency=Police")
    assert page.context["pillars"] == []


def test_a_review_keeps_the_scorecard_it_saw(world, officer, monkeypatch):
    plan = _pl.make_plan(officer)
    made = services.schedule(officer, plan)
    assert [(r.kind, r.year) for r in made] == [
        ("annual", 2025), ("annual", 2026), ("mid_term", 2026), ("final", 2027)]
    assert services.schedule(officer, plan) == []  # idempotent
    review = Review.objects.get(plan=plan, kind="annual", year=2025)
    _values(monkeypatch, {("M1", "PROT-10"): [("2025", 15.0)]})
    client = sign_in(Client(), officer)
    client.post(reverse("evaluation:review_action", args=[review.pk, "hold"]))
    review.refresh_from_db()
    assert review.status == "held"
    kept = review.snapshot["scorecard"]["measures"][0]["indicators"][0]
    assert kept["latest"] == 15.0
    # later values do not change what the review saw
    _values(monkeypatch, {("M1", "PROT-10"): [("2025", 30.0)]})
    snap = client.get(reverse("evaluation:snapshot", args=[review.pk])).json()
    assert snap["scorecard"]["measures"][0]["indicators"][0]["latest"] == 15.0


def test_an_accepted_proposal_becomes_a_plan_revision_naming_the_review(world, officer,
                                                                      monkeypatch):
    support.no_values(monkeypatch)
    plan = _pl.make_plan(officer)
    services.schedule(officer, plan)
    review = Review.objects.get(plan=plan, kind="annual", year=2025)
    client = sign_in(Client(), officer)
    url = reverse("evaluation:review_action", args=[review.pk, "recommend"])
    client.post(url, {"text": "Aim higher"})
    assert not review.recommendations.exists()  # not held yet: refused
    services.hold(officer, review)
    client.post(url, {"text": "Aim higher", "measure": "M1", "change": "target",
                      "indicator": "PROT-10", "year": "2031", "value": "40"})
    assert not review.recommendations.exists()  # 2031 is outside the plan
    client.post(url, {"text": "Aim higher", "measure": "M1", "change": "target",
                      "indicator": "PROT-10", "year": "2027", "value": "40"})
    rec = review.recommendations.get()
    assert rec.proposal == {"indicator": "PROT-10", "year": 2027, "value": 40.0}
    before = plans.latest(plan).number
    client.post(reverse("evaluation:decide", args=[review.pk, rec.number]), {"accept": "yes"})
    rec.refresh_from_db()
    assert rec.status == "accepted"
    rev = plans.latest(plan)
    assert rev.number == before + 1
    assert rec.applied_revision == rev
    assert "Annual review 2025, recommendation 1" in rev.comment
    assert plans.current(plan).measure("M1").indicators[0].targets[2027] == 40
    assert AuditEntry.objects.filter(action="evaluation.decide").exists()


def test_a_proposal_waits_for_the_next_version_of_an_adopted_plan(world, officer,
                                                                  monkeypatch):
    support.no_values(monkeypatch)
    plan = _pl.make_plan(officer, ident="adopted-nap", status="adopted")
    services.schedule(officer, plan)
    review = Review.objects.get(plan=plan, kind="annual", year=2025)
    services.hold(officer, review)
    rec = services.recommend(officer, review, "Say more", measure="M1",
                             change="description", proposal={"description": "New words"})
    with pytest.raises(services.EvaluationError, match="Start its next version"):
        services.decide(officer, rec, True)
    rec.refresh_from_db()
    assert rec.status == "proposed"
    plans.new_version(officer, plan)
    services.decide(officer, rec, True)
    assert plans.current(plan).measure("M1").description == "New words"


def test_completing_needs_findings_and_every_recommendation_decided(world, officer,
                                                                    monkeypatch):
    support.no_values(monkeypatch)
    review = support.make_review(officer, held=True)
    rec = services.recommend(officer, review, "Publish the data")
    with pytest.raises(services.EvaluationError, match="undecided"):
        services.complete(officer, review)
    with pytest.raises(services.EvaluationError, match="why"):
        services.decide(officer, rec, False, "")
    services.decide(officer, rec, False, "Already done by the statistics office")
    services.complete(officer, review)
    review.refresh_from_db()
    assert review.status == "completed"
    with pytest.raises(services.EvaluationError):
        services.hold(officer, review)


# --- impact evaluation on the simulated country's records -----------------------------------


@pytest.fixture(scope="module")
def simulated_country(tmp_path_factory):
    from tests.web.test_insights_support import simulate

    return simulate(tmp_path_factory.mktemp("impact-country"))


@pytest.fixture
def country_data(settings, db, tmp_path, simulated_country):
    from tests.web.test_insights_support import load

    settings.DATA_DIR = tmp_path
    settings.TIPLAB_ANALYTICS_JOBS_INLINE = True
    return load(tmp_path, simulated_country)


@pytest.mark.parametrize("method", ["did", "synth", "event"])
def test_an_impact_evaluation_runs_as_a_job_and_shows_its_assumptions(
        country_data, world, officer, method):
    from tiplab_web.evaluation import impact
    from tiplab_web.evaluation.models import ImpactEvaluation

    plan = _pl.make_plan(officer)
    regions = impact.regions()
    assert len(regions) >= 5
    client = sign_in(Client(), officer)
    r = client.post(reverse("evaluation:impact", args=[plan.pk]), {
        "measure": "M1", "method": method, "treated": regions[:2], "start": "2020",
        "unit": "records"})
    ev = ImpactEvaluation.objects.get()
    assert r.status_code == 302
    assert ev.status == "done", ev.error
    assert ev.result["method"] == method
    assert ev.data_version
    page = client.get(reverse("evaluation:impact_detail", args=[ev.pk])).content.decode()
    assert "What this rests on" in page
    assert "<svg" in page
    assert "None" not in re.sub(r"<[^>]+>", " ", page).split()


def test_an_impact_request_without_regions_is_refused(country_data, world, officer):
    from tiplab_web.evaluation.models import ImpactEvaluation

    plan = _pl.make_plan(officer)
    client = sign_in(Client(), officer)
    r = client.post(reverse("evaluation:impact", args=[plan.pk]), {
        "measure": "M1", "method": "did", "start": "2020"}, follow=True)
    assert "Choose the regions" in r.content.decode()
    assert not ImpactEvaluation.objects.exists()


def test_computed_indicators_come_from_the_records_of_the_data_version(
        country_data, world, officer, monkeypatch):
    from tiplab.policy import plan as core
    from tiplab_web.core.access import organisation_of

    support.no_values(monkeypatch)
    doc = core.plan_from_dict({**_pl.SMALL, "id": "computed", "objectives": [{
        "id": "O1", "pillar": "protection", "title": "Identify", "measures": [{
            "id": "M9", "title": "Identify more", "type": "protection",
            "indicators": [{"indicator": "PROT-01", "baseline": 100, "baseline_year": 2016,
                            "targets": {2025: 200}}]}]}]})
    plan = plans.create(officer, organisation_of(officer), doc)
    values = services.computed_values(plan)
    series = dict(values[("M9", "PROT-01")])
    assert set(series) >= {"2016", "2020", "2023"}
    assert all(v >= 0 for v in series.values())
    card = services.scorecard(plan, 2025)
    score = card.measures[0].indicators[0]
    assert score.period == "2023"
    assert score.latest == series["2023"]


def test_tiplab_scorecard_prints_the_card_as_json(world, officer, monkeypatch):
    import json

    from typer.testing import CliRunner

    from tiplab.cli import app

    plan = _pl.make_plan(officer)
    _values(monkeypatch, {("M1", "PROT-10"): [("2026", 20.0)]})
    r = CliRunner().invoke(app, ["scorecard", plan.ident, "--by", officer.username, "--year",
                                 "2026", "--json"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    card = json.loads(r.output)
    assert card["counts"] == {"on_track": 1}
    assert card["measures"][0]["indicators"][0]["latest"] == 20.0
    r = CliRunner().invoke(app, ["scorecard", plan.ident, "--by", officer.username, "--year",
                                 "2031", "--json"])
    assert r.exit_code == 2
    assert "outside the plan's period" in json.loads(r.output)["error"]["message"]
    r = CliRunner().invoke(app, ["scorecard", "nope", "--by", officer.username, "--json"])
    assert r.exit_code == 2
