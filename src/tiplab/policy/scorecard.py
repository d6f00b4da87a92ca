"""Scorecards: is each measure of a plan on track? (core; no Django)

For every indicator of every measure, the latest reported value is compared with where the
plan said it would be by then, and rated by documented rules (:class:`Rules`):

* the **expected value** for a year is the plan's target for that year, else the straight
  line from the baseline (its year, else the year before the plan starts) to the next target
  (and the last target after it);
* **progress** is ``(value - baseline) / (expected - baseline)``: 1 means exactly where the plan
  said; the formula reads the same for "lower is better" indicators (both differences are
  negative when things improve); a value past the expected one in the good direction is
  progress ≥ 1;
* **on track** when progress ≥ ``rules.on_track`` (0.9), **at risk** when ≥ ``rules.at_risk``
  (0.5), **off track** below (including moving the wrong way); when the expected value equals
  the baseline (a target to hold a level), on track when the value is no worse than the
  baseline, else off track;
* not rated: **no data** (no approved value yet), **no target** (no target set), **context**
  (a contextual indicator — more identified victims may mean better detection or more
  trafficking — shown with its values, never rated), **no baseline** (progress cannot be
  measured).

A measure's status is the worst rated status of its indicators, and **at risk** at best when
one of its milestones is past its date and not done. Objectives, pillars and agencies (the
measure's lead) count their measures by status. Every figure names the period it is from.

Usage::

    from tiplab.policy.plan import demo_plan
    from tiplab.policy.scorecard import scorecard
    card = scorecard(demo_plan(), {("PV1.1", "PREV-06"): [("2025", 140.0)]}, year=2025)
    card.measures[0].status
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from tiplab.policy.indicators import library
from tiplab.policy.plan import MeasureIndicator, Plan

#: rated statuses, worst first
RATED = ("off_track", "at_risk", "on_track")
STATUSES: dict[str, str] = {
    "off_track": "Off track",
    "at_risk": "At risk",
    "on_track": "On track",
    "no_data": "No data yet",
    "no_target": "No target",
    "no_baseline": "No baseline",
    "context": "Context (not rated)",
}

#: (measure id, indicator id) -> [(period, value)], any order
Values = Mapping[tuple[str, str], Sequence[tuple[str, float]]]


@dataclass(frozen=True)
class Rules:
    on_track: float = 0.9
    at_risk: float = 0.5

    def rate(self, progress: float) -> str:
        if progress >= self.on_track:
            return "on_track"
        if progress >= self.at_risk:
            return "at_risk"
        return "off_track"


def period_year(period: str) -> int:
    """The year of a period label: ``2026``, ``2026-Q1``, ``2026-03``, ``2026-S1``."""
    head = str(period).strip()[:4]
    if not head.isdigit():
        raise ValueError(f"period {period!r}: expected it to start with a year, e.g. 2026-Q1")
    return int(head)


def expected_value(mi: MeasureIndicator, year: int, plan_start: int) -> float | None:
    """Where the plan said the indicator would be in ``year`` (None without a target)."""
    if not mi.targets or mi.baseline is None:
        return mi.targets.get(year) if mi.targets else None
    if year in mi.targets:
        return float(mi.targets[year])
    points = sorted([(mi.baseline_year or plan_start - 1, float(mi.baseline))]
                    + [(y, float(v)) for y, v in mi.targets.items()])
    if year <= points[0][0]:
        return points[0][1]
    for (y0, v0), (y1, v1) in pairwise(points):
        if y0 <= year <= y1:
            return v0 + (v1 - v0) * (year - y0) / (y1 - y0) if y1 != y0 else v1
    return points[-1][1]


@dataclass(frozen=True)
class IndicatorScore:
    measure: str
    indicator: str
    name: str
    unit: str
    direction: str
    baseline: float | None
    expected: float | None
    latest: float | None
    period: str  # of the latest value ("" without one)
    progress: float | None
    status: str
    series: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class MeasureScore:
    measure: str
    title: str
    pillar: str
    objective: str
    lead: str
    implementation: str  # the plan's own measure status (not_started, in_progress, ...)
    status: str
    indicators: tuple[IndicatorScore, ...]
    overdue_milestones: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tally:
    key: str
    label: str
    counts: dict[str, int]
    measures: int

    @property
    def not_rated(self) -> int:
        return self.measures - sum(self.counts.get(s, 0) for s in RATED)

    @property
    def on_track_share(self) -> float | None:
        rated = sum(self.counts.get(s, 0) for s in RATED)
        return self.counts.get("on_track", 0) / rated if rated else None


@dataclass(frozen=True)
class Scorecard:
    plan: str
    version: int
    year: int
    as_of: str
    rules: Rules
    measures: tuple[MeasureScore, ...]
    pillars: tuple[Tally, ...] = ()
    objectives: tuple[Tally, ...] = ()
    agencies: tuple[Tally, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return dict(Counter(m.status for m in self.measures))

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``--json``, a review's snapshot)."""
        return {
            "plan": self.plan, "version": self.version, "year": self.year,
            "as_of": self.as_of, "rules": {"on_track": self.rules.on_track,
                                           "at_risk": self.rules.at_risk},
            "counts": self.counts(),
            "measures": [{
                "measure": m.measure, "title": m.title, "pillar": m.pillar,
                "objective": m.objective, "lead": m.lead, "implementation": m.implementation,
                "status": m.status, "overdue_milestones": list(m.overdue_milestones),
                "indicators": [{
                    "indicator": i.indicator, "name": i.name, "unit": i.unit,
                    "direction": i.direction, "baseline": i.baseline, "expected": i.expected,
                    "latest": i.latest, "period": i.period, "progress": i.progress,
                    "status": i.status, "series": [list(p) for p in i.series]}
                    for i in m.indicators]} for m in self.measures],
            "pillars": [_tally_dict(t) for t in self.pillars],
            "objectives": [_tally_dict(t) for t in self.objectives],
            "agencies": [_tally_dict(t) for t in self.agencies],
        }


def _tally_dict(t: Tally) -> dict[str, Any]:
    return {"key": t.key, "label": t.label, "counts": t.counts, "measures": t.measures,
            "on_track_share": t.on_track_share}


def _score(plan: Plan, measure: str, mi: MeasureIndicator, values: Values, year: int,
           rules: Rules) -> IndicatorScore:
    lib = library().indicators
    ind = mi.custom or lib.get(mi.indicator)
    name = ind.name if ind else mi.indicator
    unit = ind.unit if ind else ""
    direction = ind.direction if ind else "contextual"
    series = tuple(sorted(((str(p), float(v)) for p, v in values.get((measure, mi.indicator),
                                                                       ())),
                          key=lambda pv: pv[0]))
    upto = [(p, v) for p, v in series if period_year(p) <= year]
    latest_p, latest = (upto[-1] if upto else ("", None))
    expected = (expected_value(mi, period_year(latest_p), plan.start_year) if latest_p
                else expected_value(mi, year, plan.start_year))
    progress = None
    if direction == "contextual":
        status = "context"
    elif not mi.targets:
        status = "no_target"
    elif latest is None:
        status = "no_data"
    elif mi.baseline is None or expected is None:
        status = "no_baseline"
    elif expected == mi.baseline:
        better = latest >= mi.baseline if direction == "higher_is_better" \
            else latest <= mi.baseline
        status = "on_track" if better else "off_track"
    else:
        progress = (latest - mi.baseline) / (expected - mi.baseline)
        status = rules.rate(progress)
    return IndicatorScore(measure, mi.indicator, name, unit, direction, mi.baseline, expected,
                          latest, latest_p, progress, status, series)


def _worst(statuses: Sequence[str]) -> str:
    for s in RATED:
        if s in statuses:
            return s
    for s in ("no_data", "no_baseline", "no_target", "context"):
        if s in statuses:
            return s
    return "no_target"


def scorecard(plan: Plan, values: Values, *, year: int | None = None,
              today: dt.date | None = None, rules: Rules | None = None) -> Scorecard:
    """The plan's scorecard for ``year`` (default: this year, within the plan's period), from
    approved indicator values ``{(measure, indicator): [(period, value)]}``."""
    rules = rules or Rules()
    today = today or dt.date.today()
    year = year or min(max(today.year, plan.start_year), plan.end_year)
    pillar_titles = {p.id: p.title for p in plan.pillars}
    measures: list[MeasureScore] = []
    for o in plan.objectives:
        for m in o.measures:
            scores = tuple(_score(plan, m.id, mi, values, year, rules) for mi in m.indicators)
            status = _worst([s.status for s in scores]) if scores else "no_target"
            overdue = tuple(ms.title for ms in m.milestones
                            if not ms.done and ms.date < today)
            if overdue and status in ("on_track", "no_data", "no_target", "context",
                                      "no_baseline"):
                status = "at_risk"
            measures.append(MeasureScore(m.id, m.title, o.pillar, o.id, m.lead, m.status,
                                         status, scores, overdue))

    def tally(key_of: Any, label_of: Any) -> tuple[Tally, ...]:
        groups: dict[str, list[MeasureScore]] = {}
        for ms in measures:
            groups.setdefault(key_of(ms), []).append(ms)
        return tuple(Tally(k, label_of(k), dict(Counter(x.status for x in ms)), len(ms))
                     for k, ms in groups.items())

    objective_titles = {o.id: f"{o.id} {o.title}" for o in plan.objectives}
    return Scorecard(
        plan=plan.id, version=plan.version, year=year, as_of=today.isoformat(), rules=rules,
        measures=tuple(measures),
        pillars=tally(lambda m: m.pillar, lambda k: pillar_titles.get(k, k)),
        objectives=tally(lambda m: m.objective, lambda k: objective_titles.get(k, k)),
        agencies=tally(lambda m: m.lead or "—", lambda k: k),
        params={"year": year, "on_track": rules.on_track, "at_risk": rules.at_risk})


def sparkline(series: Sequence[tuple[str, float]], width: int = 80,
              height: int = 20) -> str:
    """The ``points`` of an SVG polyline for a series (empty for fewer than two values)."""
    if len(series) < 2:
        return ""
    vals = [v for _, v in series]
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    step = (width - 2) / (len(vals) - 1)
    return " ".join(f"{1 + i * step:.1f},{height - 1 - (v - lo) / span * (height - 2):.1f}"
                    for i, v in enumerate(vals))
