"""Objects the consultation ladder rows and tests need (no tests here)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from tests.web import test_plans_support as _pl

NARRATIVE = ("Trafficking for forced labour is rising in agriculture.\n\n"
             "This plan sets out what the government will do.")


def make_consultation(user: Any, *, title: str = "Draft plan consultation",
                      invite: list[tuple[Any, str]] | None = None) -> Any:
    from tiplab_web.consultations import services
    from tiplab_web.consultations.models import Consultation

    plan = _pl.make_plan(user)
    found = Consultation.objects.filter(plan=plan, title=title).first()
    if found is not None:
        return found
    today = timezone.localdate()
    return services.create(user, plan, title=title, opens_on=today - dt.timedelta(days=1),
                           closes_on=today + dt.timedelta(days=30),
                           invitations=invite or [], description="Tell us what you think")


def consultation_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_consultation(user).pk}


def unit_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {**consultation_kwargs(world, user), "key": "measure:M1"}


def contribution_kwargs(world: Any, user: Any) -> dict[str, Any]:
    from tiplab_web.consultations.models import Contribution

    c = make_consultation(user)
    x = Contribution.objects.filter(consultation=c).first()
    if x is None:
        x = Contribution.objects.create(consultation=c, unit="measure:M1", kind="comment",
                                        group="ngo", body="More shelter places, please")
    return {"pk": c.pk, "cid": x.pk}


def report_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {**consultation_kwargs(world, user), "fmt": "csv"}


def answer_kwargs(world: Any, user: Any) -> dict[str, Any]:
    from tiplab_web.consultations import services

    batch = services.issue_codes(user, n=1, consultation=make_consultation(user))
    vc = services.redeem(batch.codes[0])
    done = services.submit(vc, text="The shelter was full.", consent=True)
    return {"aid": done.answer.pk}


def batch_kwargs(world: Any, user: Any) -> dict[str, Any]:
    from tiplab_web.consultations import services

    return {"batch": services.issue_codes(user, n=2,
                                          consultation=make_consultation(user)).batch}
