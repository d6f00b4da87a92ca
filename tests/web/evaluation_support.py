"""Objects the evaluation ladder rows and tests need (no tests here)."""

from __future__ import annotations

from typing import Any

from tests.web import test_plans_support as _pl


def no_values(monkeypatch: Any) -> None:
    """Scorecards read no reporting round (the monitoring app's values are its own tests')."""
    from tiplab_web.evaluation import services

    monkeypatch.setattr(services, "approved_values", lambda plan: {})


def plan_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": _pl.make_plan(user).pk}


def make_review(user: Any, held: bool = False) -> Any:
    from tiplab_web.evaluation import services
    from tiplab_web.evaluation.models import Review

    plan = _pl.make_plan(user)
    services.schedule(user, plan)
    review = Review.objects.filter(plan=plan).order_by("due_on").first()
    if held and review.status == "scheduled":
        services.hold(user, review, "Shelter capacity lags.")
    return review


def review_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_review(user).pk}


def held_review_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_review(user, held=True).pk}


def recommendation_kwargs(world: Any, user: Any) -> dict[str, Any]:
    from tiplab_web.evaluation import services

    review = make_review(user, held=True)
    rec = review.recommendations.filter(status="proposed").first() or services.recommend(
        user, review, "Fund more places")
    return {"pk": review.pk, "number": rec.number}


def impact_kwargs(world: Any, user: Any) -> dict[str, Any]:
    from tiplab_web.evaluation.models import ImpactEvaluation

    plan = _pl.make_plan(user)
    ev = ImpactEvaluation.objects.filter(plan=plan).first() or ImpactEvaluation.objects.create(
        plan=plan, measure="M1", method="did", outcome="identified victims",
        treated=["XT-01"], start=2021, status="failed", error="no case records yet",
        created_by=user)
    return {"pk": ev.pk}
