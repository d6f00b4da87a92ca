"""Objects the monitoring ladder rows and tests need (no tests here).

The plan ``mon`` of the standing users' organisation (world.home) has measures led by the
National Police (prosecution and victim counts: the cross-field rules), Shelter NGO (units of
every kind: percent, count, yes/no, days), the home organisation itself (what the ladder's
users owe) and an organisation that does not exist on the platform."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tiplab.policy import plan as core
from tiplab_web.core.roles import AGENCY_REPORTER, DATA_STEWARD, POLICY_OFFICER

POLICE = "National Police"
SHELTER = "Shelter NGO"


def plan_doc(home: str, ident: str = "mon") -> core.Plan:
    return core.plan_from_dict({
        "id": ident, "title": "Monitored plan", "country": "Utopia", "period": [2024, 2028],
        "objectives": [{"id": "O1", "pillar": "prosecution", "title": "Prosecute", "measures": [
            {"id": "M-POL", "title": "Investigations", "type": "enforcement", "lead": POLICE,
             "indicators": [{"indicator": i} for i in ("PROS-02", "PROS-03", "PROS-04",
                                                        "PROT-01", "PROT-02")]},
            {"id": "M-SH", "title": "Shelter", "type": "protection", "lead": SHELTER,
             "indicators": [{"indicator": i} for i in ("PROT-10", "PROT-03", "PART-07",
                                                        "PROT-04")]},
            {"id": "M-HOME", "title": "Data", "type": "data", "lead": home,
             "indicators": [{"indicator": "PART-10", "baseline": 70, "targets": {2026: 85}}]},
            {"id": "M-NONE", "title": "Elsewhere", "type": "prevention",
             "lead": "Ministry of Nothing", "indicators": [{"indicator": "PREV-05"}]},
        ]}]})


def police(world: Any) -> Any:
    from tiplab_web.accounts.models import Organisation

    org, _c = Organisation.objects.get_or_create(
        name=POLICE, defaults={"kind": Organisation.Kind.POLICE, "country": "ZZ"})
    return org


def police_reporter(world: Any) -> Any:
    from django.contrib.auth import get_user_model
    from tests.web.conftest import make_user

    found = get_user_model().objects.filter(username="police-reporter").first()
    return found or make_user("police-reporter", [AGENCY_REPORTER], police(world))


def make_plan(world: Any, ident: str = "mon") -> Any:
    from tiplab_web.plans import services
    from tiplab_web.plans.models import Plan

    found = Plan.objects.filter(organisation=world.home, ident=ident).first()
    if found is not None:
        return found
    police(world)
    return services.create(world.users[POLICY_OFFICER], world.home,
                           plan_doc(world.home.name, ident))


def make_round(world: Any, period: str = "2025", *, deadline: dt.date | None = None,
               opens_on: dt.date | None = None, ident: str = "mon") -> Any:
    from tiplab_web.monitoring import services
    from tiplab_web.monitoring.models import Round

    plan = make_plan(world, ident)
    found = Round.objects.filter(plan=plan, period=period).first()
    if found is not None:
        return found
    day = timezone.localdate()
    return services.open_round(world.users[POLICY_OFFICER], plan, period=period,
                               deadline=deadline or day + dt.timedelta(days=20),
                               opens_on=opens_on or day - dt.timedelta(days=10))


def form_of(rnd: Any, org: Any) -> Any:
    return rnd.forms.get(organisation=org)


def at(y: int, m: int, d: int, h: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime(y, m, d, h))


# --- ladder kwargs -----------------------------------------------------------------------------


def round_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_round(world).pk}


def item_kwargs(world: Any, user: Any) -> dict[str, Any]:
    rnd = make_round(world)
    return {"pk": rnd.pk, "item": form_of(rnd, world.home).items.get().pk}


def form_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": form_of(make_round(world), world.home).pk}


def template_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {**form_kwargs(world, user), "fmt": "csv"}


def submitted_form_kwargs(world: Any, user: Any) -> dict[str, Any]:
    """The home organisation's form, entered and submitted by its policy officer."""
    from tiplab_web.monitoring import services

    form = form_of(make_round(world), world.home)
    if form.status == "draft":
        officer = world.users[POLICY_OFFICER]
        services.save_values(officer, form, [services.Entry("M-HOME", "PART-10", 80)])
        services.submit(officer, form)
    return {"pk": form.pk}


def values_json(world: Any, user: Any) -> str:
    import json

    return json.dumps({"values": [{"measure": "M-HOME", "indicator": "PART-10",
                                   "value": 81}]})


def steward(world: Any) -> Any:
    return world.users[DATA_STEWARD]
