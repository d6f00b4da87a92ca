"""Objects the assessment ladder rows and tests need (no tests here)."""

from __future__ import annotations

import datetime as dt
from typing import Any


def make_assessment(user: Any, country: str = "GBR", date: dt.date = dt.date(2026, 1, 1),
                    **answers: str) -> Any:
    from tiplab_web.assessment.models import LegalAnswer, LegalAssessment
    from tiplab_web.core.access import organisation_of

    a, created = LegalAssessment.objects.get_or_create(
        organisation=organisation_of(user), country=country, instrument="palermo", date=date,
        defaults={"instrument_version": 1, "assessor": user})
    if created:
        for item, answer in answers.items():
            LegalAnswer.objects.create(assessment=a, item=item.replace("__", "."),
                                       answer=answer)
    return a


def assessment_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_assessment(user, act__recruitment="no").pk}


def answer_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {**assessment_kwargs(world, user), "item": "act.recruitment"}


def export_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {**assessment_kwargs(world, user), "fmt": "csv"}
