"""The demo's evaluation: the demo plan's review schedule, the annual review of 2025 held on
the approved values of the demo's reporting rounds, with findings and two recommendations —
one accepted (a target raised: a plan revision that names the review), one not taken up — and
completed; and an impact evaluation of the labour-inspection measure on the simulated country,
whose true effect the simulator recorded (``tiplab simulate --effect``)."""

from __future__ import annotations

from typing import Any

from . import services
from .models import Review

PLAN = "xt-nap-2025"
#: the simulated pilot (setup_demo's DEMO_MEASURE) evaluated against measure PV1.1, which
#: scales it up
IMPACT_MEASURE = "PV1.1"
IMPACT_REGIONS = ["XT-03", "XT-05", "XT-12", "XT-17"]
IMPACT_START = 2021
IMPACT_METHODS = ("did", "event", "synth")
JOB_KIND = "evaluation.demo_impact"


def load(policy: Any) -> Review | None:
    """Once: None when the review exists or the demo plan is missing."""
    from tiplab_web.core.access import organisation_of
    from tiplab_web.plans.models import Plan

    plan = Plan.objects.filter(organisation=organisation_of(policy), ident=PLAN).first()
    if plan is None:
        return None
    services.schedule(policy, plan)
    review = Review.objects.get(plan=plan, kind="annual", year=2025)
    if review.status != Review.Status.SCHEDULED:
        return None
    services.hold(policy, review, findings=(
        "Identification rose where joint inspections took place, but shelter capacity for "
        "victims of labour exploitation lags behind and two agencies reported late. The "
        "prevention campaign has not started."))
    doc = services.plans.current(plan)
    target = _a_target(doc)
    if target is not None:
        measure, indicator, year, value = target
        raised = services.recommend(
            policy, review, "Raise the target: the first year went faster than planned.",
            measure=measure, change="target",
            proposal={"indicator": indicator, "year": year, "value": value})
        services.decide(policy, raised, True)
    other = services.recommend(
        policy, review, "Publish the reporting rounds' completeness by agency each quarter.")
    services.decide(policy, other, False, "Already in the annual report; quarterly adds "
                                          "work without new information.")
    services.complete(policy, review)
    return review


def _a_target(doc: Any) -> tuple[str, str, int, float] | None:
    """A measure indicator with a later target to raise by a tenth (in its direction)."""
    from tiplab.policy.indicators import library

    lib = library().indicators
    for _o, m in doc.measures():
        for mi in m.indicators:
            ind = mi.custom or lib.get(mi.indicator)
            if ind is None or ind.direction != "higher_is_better" or not mi.targets:
                continue
            year = max(mi.targets)
            return m.id, mi.indicator, year, round(float(mi.targets[year]) * 1.1, 2)
    return None


def impact(user: Any) -> int:
    """Queue the demo's impact evaluations (once; when the demo plan exists and a link run
    is designated — the truth counts persons); returns how many were queued."""
    from tiplab_web.core.access import organisation_of
    from tiplab_web.insights import services as insights
    from tiplab_web.plans.models import Plan

    from . import impact as impacts
    from .models import ImpactEvaluation

    plan = Plan.objects.filter(organisation=organisation_of(user), ident=PLAN).first()
    if plan is None or ImpactEvaluation.objects.filter(plan=plan,
                                                       measure=IMPACT_MEASURE).exists():
        return 0
    try:
        if not insights.linkage_available():
            return 0
    except insights.NoData:
        return 0
    for method in IMPACT_METHODS:
        impacts.start(user, plan, measure=IMPACT_MEASURE, method=method,
                      treated=IMPACT_REGIONS, start_year=IMPACT_START, unit="persons")
    return len(IMPACT_METHODS)


def truth() -> dict[str, Any] | None:
    """The simulator's record of the demo pilot's true effect, when this is the demo."""
    import json
    from pathlib import Path

    from django.conf import settings

    path = Path(settings.DATA_DIR) / "demo" / "truth" / "measure.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


def _run(ctx: Any) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    policy = get_user_model().objects.filter(username="demo-policy").first()
    return {"queued": impact(policy) if policy is not None else 0}


def then_impact() -> dict[str, Any]:
    from django.utils.translation import gettext_lazy

    from tiplab_web.jobs.kernel import follow_up

    return follow_up(JOB_KIND, {}, label=str(gettext_lazy(
        "Demo: evaluate the labour-inspection pilot")))


def register_jobs() -> None:
    from django.utils.translation import gettext_lazy

    from tiplab_web.jobs.kernel import JobKind, register

    register(JobKind(name=JOB_KIND, run=_run, label=gettext_lazy(
        "Demo: evaluate the labour-inspection pilot"), retry_safe=True,
        capability="evaluation.view"))
