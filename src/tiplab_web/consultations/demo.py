"""The demo consultation on the demo National Action Plan: invited law enforcement, the
judiciary, NGOs and a community organisation; a comment, an amendment, a reply or support
from each; one survivor's input sent with a one-time code, redacted, reviewed and published;
one from the public waiting for review; and answers — one accepted amendment linked to the
plan revision that took its text. Everything goes through ``services`` as a real
consultation would (the survivor's input through the same ``submit`` as the page).
Illustrative: the texts are written for the demo."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from tiplab_web.accounts.models import Organisation, Profile
from tiplab_web.accounts.services import set_roles
from tiplab_web.core import roles as R

from . import services
from .models import Consultation

TITLE = "Draft National Action Plan 2025-2028: public consultation"
PROSECUTION = "Public Prosecution Service"


def _user(username: str) -> Any:
    return get_user_model().objects.filter(username=username).first()


def _prosecutor() -> Any:
    """A stakeholder account of the prosecution service, without a password: the demo's
    voice of the judiciary (it cannot sign in)."""
    org, _ = Organisation.objects.get_or_create(
        name=PROSECUTION, defaults={"kind": Organisation.Kind.PROSECUTION, "country": "XT"})
    user = _user("demo-prosecutor")
    if user is None:
        user = get_user_model().objects.create_user("demo-prosecutor", password=None)
        Profile.objects.create(user=user, organisation=org)
        set_roles(user, [R.STAKEHOLDER])
    return user, org


def load(policy: Any) -> Consultation | None:
    """Create the demo consultation once; None when it exists or the demo plan is missing."""
    from tiplab_web.core.access import organisation_of
    from tiplab_web.plans import services as plans
    from tiplab_web.plans.models import Plan

    org = organisation_of(policy)
    plan = Plan.objects.filter(organisation=org, ident="xt-nap-2025").first()
    if plan is None or Consultation.objects.filter(plan=plan, title=TITLE).exists():
        return None
    if plan.status == "draft":
        plans.transition(policy, plan, "consultation", comment="opened for consultation")
    prosecutor, _prosecution = _prosecutor()
    # the migrant workers' association speaks for its community, not as a service provider
    invited = [(o, "community" if o.name == "Migrant Workers' Association" else "")
               for o in Organisation.objects.filter(name__in=[
                   "National Police", "Labour Inspectorate", "Shelter NGO",
                   "Migrant Workers' Association", PROSECUTION])]
    today = timezone.localdate()
    c = services.create(
        policy, plan, title=TITLE, opens_on=today - dt.timedelta(days=14),
        closes_on=today + dt.timedelta(days=28), invitations=invited, illustrative=True,
        description="Read the draft plan and tell us what is missing, what will not work and "
                    "what you would change. Every contribution will be answered.")
    police, shelter, association = _user("demo-police"), _user("demo-shelter"), _user(
        "demo-stakeholder")

    police_c = services.contribute(
        police, c, "measure:PV1.1", "comment",
        "Joint visits work, but our officers need interpreters for the main languages of "
        "seasonal workers; without them victims cannot speak freely.")
    amendment = services.contribute(
        shelter, c, "measure:PR1.1", "amendment",
        "Survivors tell us that training is most credible when they help deliver it.",
        suggested_text="Two-day course for police, labour inspectors, health and immigration "
                       "staff, co-delivered with survivor-led organisations, with a refresher "
                       "every two years.")
    services.react(association, amendment, "support")
    services.react(police, amendment, "support")
    services.contribute(
        association, c, "measure:PV1.2", "comment",
        "Campaigns should reach workers before they leave, through recruitment agencies and "
        "community radio in their languages, not only posters at the border.")
    judge = services.contribute(
        prosecutor, c, "objective:PS1", "comment",
        "The non-punishment principle should be written into the law, not left to guidance: "
        "victims are still prosecuted for offences they were forced to commit.")
    services.contribute(policy, c, judge.unit, "reply",
                        "Thank you: the drafting team is checking this with the ministry "
                        "of justice.", parent=judge)
    services.react(association, judge, "support")

    # a survivor's input, sent with a one-time code and reviewed before anyone read it
    batch = services.issue_codes(policy, n=5, consultation=c, group="survivor_board",
                                 note="survivor advisory board meeting")
    code = services.redeem(batch.codes[0])
    assert code is not None
    done = services.submit(
        code, consent=True, unit_key="measure:PR1.2",
        text="My name is Amina and I stayed in the shelter in Riverside for three months. "
             "Nobody spoke my language and I could not call my family on +44 7700 900123. "
             "The new shelters need interpreters and a phone we can use.")
    redacted = services.read(done.answer)["text"]
    services.approve(policy, done.answer, redacted)
    # the public's input, still waiting for review
    public = services.issue_codes(policy, n=3, consultation=c, group="public",
                                  note="public meeting in the capital")
    code = services.redeem(public.codes[0])
    assert code is not None
    services.submit(code, consent=True, unit_key="measure:PV1.2",
                    text="I saw workers living in the farm sheds near the river. Posters "
                         "alone will not help them; someone has to visit.")

    # the drafting team's answers: the amendment is taken into the next revision
    doc = plans.current(plan)
    for o in doc.objectives:
        for m in o.measures:
            if m.id == "PR1.1":
                m.description = amendment.suggested_text
    rev = plans.save(policy, plan, doc, comment="consultation: training co-delivered with "
                                                 "survivor-led organisations")
    services.respond(policy, amendment, "accepted",
                     "Taken into the plan: survivor-led organisations co-deliver the course.",
                     rev.number)
    services.respond(policy, police_c, "partly",
                     "Interpreters are funded for the joint visits in the three regions with "
                     "the most seasonal work; the other regions follow in 2027.")
    if done.answer.contribution is not None:
        services.respond(policy, done.answer.contribution, "accepted",
                         "Every new shelter place comes with interpreting and a free phone.")
    return c
