"""Scorecard status rules, worked by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from tiplab.policy import scorecard as sc
from tiplab.policy.plan import plan_from_dict

PLAN = {
    "id": "nap", "title": "Plan", "country": "Utopia", "period": [2025, 2028],
    "objectives": [{"id": "O1", "pillar": "protection", "title": "Support", "measures": [
        {"id": "M1", "title": "Shelter", "type": "protection", "lead": "Shelter NGO",
         "indicators": [
             # PROT-10-like count, higher is better: 10 in 2024 -> 20 in 2026 -> 30 in 2028
             {"indicator": "PROT-10", "baseline": 10, "baseline_year": 2024,
              "targets": {2026: 20, 2028: 30}}]},
        {"id": "M2", "title": "Faster cases", "type": "enforcement", "lead": "Police",
         "milestones": [{"date": "2025-06-30", "title": "Unit set up"}],
         "indicators": []},
    ]}],
}


def _plan():
    return plan_from_dict(PLAN)


def test_expected_value_is_the_target_or_the_straight_line_from_the_baseline():
    mi = _plan().measure("M1").indicators[0]
    assert sc.expected_value(mi, 2026, 2025) == 20
    assert sc.expected_value(mi, 2025, 2025) == 15  # halfway from 10 (2024) to 20 (2026)
    assert sc.expected_value(mi, 2027, 2025) == 25
    assert sc.expected_value(mi, 2030, 2025) == 30


@pytest.mark.parametrize(("value", "status", "progress"), [
    (20.0, "on_track", 1.0), (19.0, "on_track", 0.9), (18.0, "at_risk", 0.8),
    (15.0, "at_risk", 0.5), (14.0, "off_track", 0.4), (8.0, "off_track", -0.2),
    (25.0, "on_track", 1.5)])
def test_progress_against_the_expected_value_rates_the_indicator(value, status, progress):
    card = sc.scorecard(_plan(), {("M1", "PROT-10"): [("2026", value)]}, year=2026,
                        today=dt.date(2026, 12, 1))
    score = card.measures[0].indicators[0]
    assert score.status == status
    assert score.progress == pytest.approx(progress)
    assert score.expected == 20


def test_lower_is_better_reads_the_same_formula():
    plan = plan_from_dict({**PLAN, "objectives": [{**PLAN["objectives"][0], "measures": [
        {"id": "M1", "title": "Faster", "type": "enforcement", "indicators": [
            {"indicator": "PROS-08", "baseline": 400, "baseline_year": 2024,
             "targets": {2026: 300}}]}]}]})
    ind = plan.measure("M1").indicators[0]
    assert sc.expected_value(ind, 2026, 2025) == 300
    from tiplab.policy.indicators import library

    assert library().indicators["PROS-08"].direction == "lower_is_better"
    good = sc.scorecard(plan, {("M1", "PROS-08"): [("2026", 290.0)]}, year=2026)
    bad = sc.scorecard(plan, {("M1", "PROS-08"): [("2026", 420.0)]}, year=2026)
    assert good.measures[0].status == "on_track"
    assert bad.measures[0].status == "off_track"


def test_no_data_no_target_and_overdue_milestones():
    card = sc.scorecard(_plan(), {}, year=2026, today=dt.date(2026, 1, 15))
    m1, m2 = card.measures
    assert m1.status == "no_data"
    assert m2.status == "at_risk"  # no indicator, but its milestone is past and not done
    assert m2.overdue_milestones == ("Unit set up",)
    assert card.counts() == {"no_data": 1, "at_risk": 1}
    by_agency = {t.key: t for t in card.agencies}
    assert by_agency["Police"].counts == {"at_risk": 1}


def test_the_latest_value_up_to_the_year_is_used_and_the_series_kept():
    values = {("M1", "PROT-10"): [("2027", 26.0), ("2025", 16.0), ("2026-Q2", 19.0)]}
    card = sc.scorecard(_plan(), values, year=2026)
    score = card.measures[0].indicators[0]
    assert (score.period, score.latest) == ("2026-Q2", 19.0)
    assert [p for p, _ in score.series] == ["2025", "2026-Q2", "2027"]
    assert sc.sparkline(score.series).count(",") == 3
    assert card.to_dict()["measures"][0]["indicators"][0]["status"] == "on_track"


def test_a_period_without_a_year_is_refused():
    with pytest.raises(ValueError, match="start with a year"):
        sc.period_year("Q1-2026")
