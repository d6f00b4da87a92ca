"""Plan progress for the public: the adopted National Action Plans and their scorecards, in a
**protected** public version (the portal's ``/public/plans/``, the open-data API's
``/plans``, and the scorecard summary of published briefs).

What is public about a plan is what was adopted: the latest revision whose status is
*adopted* or *under review* (a draft of the next version stays internal until it is adopted;
a superseded plan is no longer shown). Of it the public sees the objectives, the measures
(title, description, type, implementation status), their indicators and the scorecard's
ratings — never the lead or partner organisations' people, budgets, risks, cited evidence,
revision comments or who reported a value.

The scorecard is the one the platform computes (:func:`tiplab_web.evaluation.services.
scorecard`: approved values of the reporting rounds, and the indicators tiplab computes).
Its numbers are protected like a published table without noise: for an indicator that
counts people (:func:`counts_persons`, read from the indicator's unit), every number from 1
to ``TIPLAB_RELEASE_THRESHOLD - 1`` is shown as "fewer than N", never as the number. And
since the progress ratio ``(latest - baseline) / (expected - baseline)`` would give a hidden
value back from the others, progress is withheld when the latest value or the baseline is
hidden, and the expected value when the baseline is (it is interpolated from it). The
rating (on track, at risk, off track) stays: it says no more than a range.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from tiplab.policy import plan as core
from tiplab.policy import scorecard as sc
from tiplab_web.plans.models import Plan, PlanRevision

#: plan statuses whose document is the one in force (what the public sees)
PUBLIC_STATUSES = ("adopted", "review")
#: words of an indicator's unit that mean it counts people (or cases of people): the
#: library's units are "persons", "count", "cases", "persons; percent", "count; days"...
#: An indicator whose unit names any of them is protected (a percentage of 3 shown as
#: "fewer than 5" is the price of not guessing which part of "count; percent" was reported).
PERSON_UNITS = frozenset({"persons", "person", "people", "victims", "survivors", "count",
                          "counts", "cases", "number"})


class NotPublic(LookupError):
    """The plan does not exist or has no adopted version the public may see."""


def threshold() -> int:
    return int(settings.TIPLAB_RELEASE_THRESHOLD)


def counts_persons(unit: str) -> bool:
    """True when an indicator with this unit may count people (``"persons; percent"``)."""
    words = {w.strip().lower() for part in str(unit).split(";") for w in part.split()}
    return bool(words & PERSON_UNITS)


def _number(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Shown:
    """One number as the public sees it: ``value`` is None when it is hidden or missing."""

    value: float | None
    text: str
    protected: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def shown(value: float | None, *, persons: bool, limit: int | None = None) -> Shown:
    """``value`` for the public: a count of people from 1 to ``limit - 1`` is hidden."""
    limit = threshold() if limit is None else limit
    if value is None:
        return Shown(None, "—")
    if persons and 1 <= float(value) < limit:
        return Shown(None, _("fewer than %(n)d") % {"n": limit}, True)
    return Shown(float(value), _number(float(value)))


@dataclass(frozen=True)
class PublicIndicator:
    indicator: str
    name: str
    unit: str
    direction: str
    status: str
    status_label: str
    period: str
    latest: Shown
    baseline: Shown
    expected: Shown
    target: Shown
    target_year: int | None
    #: None when not rated or withheld (a hidden value could be computed back from it)
    progress: float | None
    series: tuple[tuple[str, Shown], ...] = ()

    @property
    def protected(self) -> bool:
        return any(s.protected for s in (self.latest, self.baseline, self.expected,
                                         self.target, *(v for _p, v in self.series)))

    def to_dict(self) -> dict[str, Any]:
        return {"indicator": self.indicator, "name": self.name, "unit": self.unit,
                "direction": self.direction, "status": self.status,
                "status_label": self.status_label, "period": self.period,
                "latest": self.latest.to_dict(), "baseline": self.baseline.to_dict(),
                "expected": self.expected.to_dict(), "target": self.target.to_dict(),
                "target_year": self.target_year, "progress": self.progress,
                "series": [{"period": p, **v.to_dict()} for p, v in self.series]}


@dataclass(frozen=True)
class PublicMeasure:
    measure: str
    title: str
    description: str
    type: str
    implementation: str
    status: str
    status_label: str
    indicators: tuple[PublicIndicator, ...]
    overdue_milestones: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"measure": self.measure, "title": self.title,
                "description": self.description, "type": self.type,
                "implementation": self.implementation, "status": self.status,
                "status_label": self.status_label,
                "overdue_milestones": self.overdue_milestones,
                "indicators": [i.to_dict() for i in self.indicators]}


@dataclass(frozen=True)
class PublicObjective:
    objective: str
    pillar: str
    pillar_title: str
    title: str
    description: str
    measures: tuple[PublicMeasure, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"objective": self.objective, "pillar": self.pillar,
                "pillar_title": self.pillar_title, "title": self.title,
                "description": self.description,
                "measures": [m.to_dict() for m in self.measures]}


@dataclass(frozen=True)
class PublicProgress:
    """The protected scorecard of one adopted plan."""

    id: int
    ident: str
    title: str
    country: str
    version: int
    status: str
    start_year: int
    end_year: int
    adopted_at: str
    year: int
    as_of: str
    threshold: int
    counts: dict[str, int]
    objectives: tuple[PublicObjective, ...]
    rules: dict[str, float] = field(default_factory=dict)

    @property
    def measures(self) -> list[PublicMeasure]:
        return [m for o in self.objectives for m in o.measures]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ident": self.ident, "title": self.title,
                "country": self.country, "version": self.version, "status": self.status,
                "start_year": self.start_year, "end_year": self.end_year,
                "adopted_at": self.adopted_at, "year": self.year, "as_of": self.as_of,
                "threshold": self.threshold, "rules": dict(self.rules),
                "counts": dict(self.counts),
                "objectives": [o.to_dict() for o in self.objectives]}


def status_labels() -> dict[str, str]:
    return {"off_track": _("Off track"), "at_risk": _("At risk"), "on_track": _("On track"),
            "no_data": _("No data yet"), "no_target": _("No target"),
            "no_baseline": _("No baseline"), "context": _("Context (not rated)")}


# -- which plans ------------------------------------------------------------------------------

def adopted_revision(plan: Plan) -> PlanRevision | None:
    """The revision of ``plan`` in force: the latest adopted (or under review) one, unless
    the plan was superseded since."""
    latest = plan.revisions.order_by("-number").first()
    if latest is None or latest.status == "superseded":
        return None
    return plan.revisions.filter(status__in=PUBLIC_STATUSES).order_by("-number").first()


def public_plans() -> list[tuple[Plan, PlanRevision]]:
    """Every plan with an adopted version in force, newest first, with that revision."""
    out = []
    candidates: QuerySet[Plan] = Plan.objects.filter(
        revisions__status__in=PUBLIC_STATUSES).distinct().order_by("-created_at", "-id")
    for plan in candidates:
        rev = adopted_revision(plan)
        if rev is not None:
            out.append((plan, rev))
    return out


def public_plan(pk: int) -> tuple[Plan, PlanRevision]:
    """The plan ``pk`` and its revision in force; :class:`NotPublic` when there is none."""
    plan = Plan.objects.filter(pk=pk).first()
    rev = adopted_revision(plan) if plan is not None else None
    if plan is None or rev is None:
        raise NotPublic(pk)
    return plan, rev


def fingerprint(rev: PlanRevision) -> str:
    """Part of a cache key: changes when another revision comes into force."""
    return hashlib.sha256(f"{rev.pk}:{rev.content_hash}".encode()).hexdigest()[:16]


def _adopted_at(plan: Plan, rev: PlanRevision) -> str:
    first = (plan.revisions.filter(version=rev.version, status="adopted")
             .order_by("number").first()) or rev
    return first.created_at.date().isoformat()


# -- the protected scorecard ------------------------------------------------------------------

def _protect_indicator(i: sc.IndicatorScore, mi: core.MeasureIndicator | None,
                       labels: dict[str, str], limit: int) -> PublicIndicator:
    persons = counts_persons(i.unit)

    def show(v: float | None) -> Shown:
        return shown(v, persons=persons, limit=limit)

    latest, baseline = show(i.latest), show(i.baseline)
    expected = Shown(None, "—", True) if baseline.protected and i.expected is not None \
        else show(i.expected)
    targets = dict(mi.targets) if mi is not None else {}
    target_year = max(targets) if targets else None
    target = show(targets[target_year]) if target_year is not None else Shown(None, "—")
    progress = None
    if i.progress is not None and not (latest.protected or baseline.protected):
        progress = round(float(i.progress), 3)
    return PublicIndicator(
        indicator=i.indicator, name=i.name, unit=i.unit, direction=i.direction,
        status=i.status, status_label=labels.get(i.status, i.status), period=i.period,
        latest=latest, baseline=baseline, expected=expected, target=target,
        target_year=target_year, progress=progress,
        series=tuple((p, show(v)) for p, v in i.series))


def protect(card: sc.Scorecard, doc: core.Plan, *, limit: int | None = None
            ) -> tuple[PublicObjective, ...]:
    """The public parts of ``doc`` with ``card``'s ratings and protected numbers."""
    limit = threshold() if limit is None else limit
    labels = status_labels()
    scores = {m.measure: m for m in card.measures}
    objectives = []
    for o in doc.objectives:
        measures = []
        for m in o.measures:
            ms = scores.get(m.id)
            mis = {mi.indicator: mi for mi in m.indicators}
            indicators = tuple(_protect_indicator(i, mis.get(i.indicator), labels, limit)
                               for i in (ms.indicators if ms else ()))
            status = ms.status if ms else "no_target"
            measures.append(PublicMeasure(
                measure=m.id, title=m.title, description=m.description, type=m.type,
                implementation=m.status, status=status,
                status_label=labels.get(status, status), indicators=indicators,
                overdue_milestones=len(ms.overdue_milestones) if ms else 0))
        objectives.append(PublicObjective(
            objective=o.id, pillar=o.pillar, pillar_title=doc.pillar_title(o.pillar),
            title=o.title, description=o.description, measures=tuple(measures)))
    return tuple(objectives)


def progress(plan: Plan, rev: PlanRevision, *, year: int | None = None) -> PublicProgress:
    """The protected scorecard of ``plan`` as adopted in ``rev``."""
    from tiplab_web.evaluation import services as evaluation
    from tiplab_web.plans import services as plans

    doc = plans.as_core(rev)
    if year is not None and not doc.start_year <= year <= doc.end_year:
        year = None
    card = evaluation.scorecard(plan, year, doc)
    limit = threshold()
    return PublicProgress(
        id=plan.pk, ident=plan.ident, title=doc.title, country=doc.country,
        version=doc.version, status=rev.status, start_year=doc.start_year,
        end_year=doc.end_year, adopted_at=_adopted_at(plan, rev), year=card.year,
        as_of=card.as_of, threshold=limit, counts=card.counts(),
        objectives=protect(card, doc, limit=limit),
        rules={"on_track": card.rules.on_track, "at_risk": card.rules.at_risk})


def bundle_scorecard(org: Any) -> dict[str, Any] | None:
    """The scorecard summary a published brief carries (``ReleaseBundle.scorecard``): the
    protected public version of ``org``'s latest adopted plan, or None."""
    found = next(((p, r) for p, r in public_plans() if p.organisation_id == getattr(
        org, "pk", None)), None)
    if found is None:
        return None
    prog = progress(*found)
    rows = []
    for m in prog.measures:
        for i in m.indicators:
            rows.append({"measure": m.measure, "indicator": i.name,
                         "baseline": _cell(i.baseline), "target": _cell(i.target),
                         "latest": _cell(i.latest), "period": i.period,
                         "status": i.status})
    return {"plan": prog.title, "year": prog.year, "rows": rows, "counts": prog.counts}


def _cell(s: Shown) -> float | str | None:
    if s.protected:
        return s.text
    return s.value
