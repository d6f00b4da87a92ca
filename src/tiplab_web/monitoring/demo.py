"""Two past reporting rounds on the demo plan (``xt-nap-2025``), for ``setup_demo``.

* **2025** (due 31 January 2026, closed): every agency's values approved; Shelter NGO
  submitted twelve days late. The Labour Inspectorate has no account on the demo, so the
  coordinator's office entered its values from the inspectorate's letter.
* **2026-Q1** (due 30 April 2026, still open): National Police's value was returned for
  correction (it counted training sessions, not officials) and corrected, then approved;
  Shelter NGO approved; the Rapporteur's Office submitted and waits for review; the Labour
  Inspectorate has not submitted (late).

Acts as the demo users of ``seed_demo_users`` (demo-police, demo-shelter, demo-steward,
demo-policy), falling back on ``policy_user`` where one is missing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from tiplab_web.core.access import organisation_of
from tiplab_web.plans.models import Plan

from . import services
from .models import AgencyForm, Round

PLAN = "xt-nap-2025"


def _at(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime(y, m, d, h, 0))


def _users(policy_user: Any) -> dict[str, Any]:
    found = {u.username: u for u in get_user_model().objects.filter(
        username__in=["demo-police", "demo-shelter", "demo-steward", "demo-policy"])}
    return {k: found.get(k, policy_user) for k in ("demo-police", "demo-shelter",
                                                   "demo-steward", "demo-policy")}


def _form(rnd: Round, org_name: str) -> AgencyForm | None:
    return rnd.forms.filter(organisation__name=org_name).first()


def _enter(user: Any, rnd: Round, org_name: str, values: dict[tuple[str, str], Any],
           at: dt.datetime, comment: str = "") -> AgencyForm | None:
    form = _form(rnd, org_name)
    if form is None:
        return None
    entries = [services.Entry(m, i, v, comment) for (m, i), v in values.items()
               if form.items.filter(measure_id=m, indicator_id=i).exists()]
    if entries:
        services._save(user, form, entries, via="demo", at=at)
    return form


def _submit(user: Any, form: AgencyForm | None, at: dt.datetime) -> AgencyForm | None:
    if form is None or not services.current_values(form):
        return None
    return services._submit(user, form, via="demo", at=at)


def _approve(user: Any, form: AgencyForm | None, at: dt.datetime) -> None:
    if form is not None:
        services._review(user, form, "approve", at=at)


@transaction.atomic
def load(policy_user: Any) -> int:
    """Create the demo rounds not made yet; returns how many were created."""
    plan = Plan.objects.filter(organisation=organisation_of(policy_user), ident=PLAN).first()
    if plan is None:
        return 0
    u = _users(policy_user)
    made = 0
    if not Round.objects.filter(plan=plan, period="2025").exists():
        rnd = services.open_round(policy_user, plan, period="2025", deadline=dt.date(2026, 1, 31),
                                  opens_on=dt.date(2026, 1, 5), illustrative=True)
        li = _enter(u["demo-policy"], rnd, "Labour Inspectorate", {("PV1.1", "PREV-04"): 164},
                    _at(2026, 1, 19), "Entered by the coordinator's office from the "
                    "inspectorate's letter of 16 January.")
        li = _submit(u["demo-policy"], li, _at(2026, 1, 19, 11))
        police = _enter(u["demo-police"], rnd, "National Police", {("PR1.1", "PROT-11"): 310},
                        _at(2026, 1, 27))
        police = _submit(u["demo-police"], police, _at(2026, 1, 28))
        office = _enter(u["demo-policy"], rnd, "National Rapporteur's Office",
                        {("PA1.1", "PART-10"): 74, ("PA1.2", "PART-09"): 1}, _at(2026, 1, 29))
        office = _submit(u["demo-policy"], office, _at(2026, 1, 30))
        shelter = _enter(u["demo-shelter"], rnd, "Shelter NGO", {("PR1.2", "PROT-10"): 64},
                         _at(2026, 2, 11))
        shelter = _submit(u["demo-shelter"], shelter, _at(2026, 2, 12))
        for i, f in enumerate((li, police, office, shelter)):
            _approve(u["demo-steward"], f, _at(2026, 2, 16 + i))
        services.close_round(policy_user, rnd, at=_at(2026, 3, 2))
        made += 1
    if not Round.objects.filter(plan=plan, period="2026-Q1").exists():
        rnd = services.open_round(policy_user, plan, period="2026-Q1",
                                  deadline=dt.date(2026, 4, 30), opens_on=dt.date(2026, 4, 1),
                                  illustrative=True)
        police = _enter(u["demo-police"], rnd, "National Police", {("PR1.1", "PROT-11"): 1450},
                        _at(2026, 4, 21))
        police = _submit(u["demo-police"], police, _at(2026, 4, 22))
        if police is not None:
            services._review(u["demo-steward"], police, "return",
                             "1,450 looks like training sessions attended; PROT-11 counts "
                             "officials trained, each once. Please check and correct.",
                             at=_at(2026, 4, 24))
            _enter(u["demo-police"], rnd, "National Police", {("PR1.1", "PROT-11"): 145},
                   _at(2026, 4, 27), "Corrected: 145 officials trained (1,450 was the number "
                   "of session attendances).")
            police = _submit(u["demo-police"], police, _at(2026, 4, 27, 11))
            _approve(u["demo-steward"], police, _at(2026, 4, 29))
        shelter = _enter(u["demo-shelter"], rnd, "Shelter NGO", {("PR1.2", "PROT-10"): 66},
                         _at(2026, 4, 28))
        shelter = _submit(u["demo-shelter"], shelter, _at(2026, 4, 29))
        _approve(u["demo-steward"], shelter, _at(2026, 4, 30, 15))
        office = _enter(u["demo-policy"], rnd, "National Rapporteur's Office",
                        {("PA1.1", "PART-10"): 78, ("PA1.2", "PART-09"): 2}, _at(2026, 4, 30))
        _submit(u["demo-policy"], office, _at(2026, 4, 30, 12))
        made += 1
    return made
