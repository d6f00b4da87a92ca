"""The demo's working groups: a "Labour exploitation working group" (the coordinator chairs;
police, labour inspectorate, shelter NGO and the migrant workers' association take part) with
two meetings, their minutes, attendance, decisions and action items on measures of the demo
plan — one of them overdue — and a "Survivor advisory board" whose members are named by
pseudonyms only. Dates are relative to the day it is loaded, so "overdue" stays true.

``load(user, organisation)`` is called by ``setup_demo`` after the demo plan: it creates both
groups once (by ``user``, normally the demo policy officer, in ``organisation``, the
coordinator) and returns the working group; on later runs it returns None and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from . import services
from .models import Attendance, Group, Membership

LABOUR = "Labour exploitation working group"
SURVIVOR = "Survivor advisory board"

P, A, X = (Attendance.Status.PRESENT, Attendance.Status.APOLOGIES, Attendance.Status.ABSENT)


def _organisations() -> dict[str, Any]:
    """The demo organisations of ``seed_demo_users`` (created here when missing)."""
    from tiplab_web.accounts.management.commands.seed_demo_users import (
        DEMO_SOURCE_AGENCY,
        ORGANISATIONS,
    )
    from tiplab_web.accounts.models import Organisation

    out = {}
    for name, kind in ORGANISATIONS.items():
        out[name], _created = Organisation.objects.get_or_create(
            name=name, defaults={"kind": kind, "country": "ZZ",
                                 "source_agency": DEMO_SOURCE_AGENCY.get(name, "")})
    return out


def _demo_plan(organisation: Any) -> Any:
    from tiplab.policy import plan as core
    from tiplab_web.plans.models import Plan

    return Plan.objects.filter(organisation=organisation, ident=core.demo_plan().id).first()


def _ids(plan: Any, *wanted: str) -> list[str]:
    """The wanted measure ids the plan has (none without the plan)."""
    known = services.measure_titles(plan)
    return [m for m in wanted if m in known]


def _one(plan: Any, wanted: str) -> str:
    return next(iter(_ids(plan, wanted)), "")


def load(user: Any, organisation: Any) -> Group | None:
    """Create the demo groups once; the working group, or None when they exist."""
    if Group.objects.filter(organisation=organisation, name=LABOUR).exists():
        return None
    with transaction.atomic():
        orgs = _organisations()
        plan = _demo_plan(organisation)
        today = services.today()
        group = _labour_group(user, organisation, orgs, plan, today)
        if not Group.objects.filter(organisation=organisation, name=SURVIVOR).exists():
            _survivor_board(user, organisation, plan, today)
    return group


def _labour_group(user: Any, org: Any, orgs: dict[str, Any], plan: Any,
                  today: dt.date) -> Group:
    def day(n: int) -> dt.date:
        return today + dt.timedelta(days=n)

    g = services.create_group(
        user, org, name=LABOUR, kind=Group.Kind.WORKING_GROUP, plan=plan,
        measures=_ids(plan, "PV1.1", "PV1.2", "PR1.1", "PR1.2"), active_from=day(-200),
        mandate=(
            "Coordinates the plan's response to trafficking for labour exploitation.\n\n"
            "Terms of reference: meets at least every three months; follows the measures on "
            "labour inspections, information for migrant workers, frontline training and "
            "shelter places; agrees action items with an owner and a due date, and reports "
            "progress to the national coordinator before each plan review. Decisions are "
            "taken by consensus; the secretariat keeps the minutes."))
    member = Membership.Role
    chair = services.add_member(user, g, organisation=org, person=user.get_full_name(),
                                user=user, role=member.CHAIR, start=day(-200))
    secretariat = services.add_member(user, g, organisation=org, person="A. Lindqvist",
                                      role=member.SECRETARIAT, start=day(-200))
    police = services.add_member(user, g, organisation=orgs["National Police"],
                                 person="Insp. M. Novak", start=day(-200))
    inspectorate = services.add_member(user, g, organisation=orgs["Labour Inspectorate"],
                                       person="R. Okafor", start=day(-200))
    shelter = services.add_member(user, g, organisation=orgs["Shelter NGO"],
                                  person="S. Haddad", start=day(-200))
    migrants = services.add_member(user, g, organisation=orgs["Migrant Workers' Association"],
                                   start=day(-150))

    first = services.add_meeting(
        user, g, date=day(-120), place="Ministry of Labour, room 3.12",
        agenda="1. Hotspot regions and the sectors at risk\n2. Joint inspections: who, where, "
               "when\n3. Shelter places for men and women exploited at work\n4. Next meeting")
    services.record_attendance(user, first, {chair.pk: P, secretariat.pk: P, police.pk: P,
                                             inspectorate.pk: P, shelter.pk: A, migrants.pk: P})
    services.save_minutes(user, first, (
        "The chair opened the meeting and recalled the group's terms of reference.\n\n"
        "The analysts' hotspot map shows most identified victims of labour exploitation in "
        "agriculture and construction in two regions. The labour inspectorate and the police "
        "agreed to inspect together there, with the shelter NGO on call for referrals.\n\n"
        "The shelter NGO (apologies, written input) reports that no shelter place is reserved "
        "for men exploited at work; the group asked it to cost 40 places."))
    joint = services.add_decision(
        user, first, text="Joint inspections by the labour inspectorate and the police in "
                          "agriculture and construction in the two hotspot regions.",
        measures=_ids(plan, "PV1.1"))
    places = services.add_decision(
        user, first, text="The shelter NGO prepares a costed proposal for 40 shelter places "
                          "for victims of labour exploitation.", measures=_ids(plan, "PR1.2"))
    protocol = services.add_action(
        user, first, description="Draft the joint inspection protocol with the police.",
        owner=inspectorate, due=day(-60), decision=joint, measure=_one(plan, "PV1.1"))
    services.update_action(user, protocol, status="done", done_on=day(-70),
                           notes="Protocol signed by both agencies.")
    services.add_action(
        user, first, description="Cost the 40 shelter places and name the regions where they "
                                 "are needed.",
        owner=shelter, due=day(-20), decision=places, measure=_one(plan, "PR1.2"))

    second = services.add_meeting(
        user, g, date=day(-30), online=True, place="video call",
        agenda="1. First joint inspections: results\n2. Recruitment fraud seen by the "
               "migrant workers' association\n3. Action items")
    services.record_attendance(user, second, {chair.pk: P, secretariat.pk: P, police.pk: X,
                                              inspectorate.pk: P, shelter.pk: P,
                                              migrants.pk: A})
    services.save_minutes(user, second, (
        "The labour inspectorate presented the first joint inspections: 14 workplaces "
        "visited, 9 workers referred for identification.\n\n"
        "The migrant workers' association (written input) described recruitment fees and "
        "confiscated passports in seasonal agriculture; the group agreed that frontline "
        "officers should learn these signs.\n\n"
        "The shelter places proposal is late; the shelter NGO will send it before the next "
        "meeting."))
    training = services.add_decision(
        user, second, text="Frontline officers are trained on the signs of recruitment fraud "
                           "reported by the migrant workers' association.",
        measures=_ids(plan, "PR1.1", "PV1.2"))
    services.add_action(
        user, second, description="Add recruitment-fraud indicators to the frontline "
                                  "training curriculum.",
        owner=police, due=day(45), decision=training, measure=_one(plan, "PR1.1"))
    services.add_action(
        user, second, description="Share the association's leaflets on recruitment fraud "
                                  "(six languages) with the labour inspectorate.",
        owner=migrants, due=day(14), decision=training, measure=_one(plan, "PV1.2"))
    services.add_meeting(
        user, g, date=day(30), place="Ministry of Labour, room 3.12",
        agenda="1. Shelter places proposal\n2. Training curriculum\n3. Report to the "
               "coordinator for the plan review")
    return g


def _survivor_board(user: Any, org: Any, plan: Any, today: dt.date) -> Group:
    def day(n: int) -> dt.date:
        return today + dt.timedelta(days=n)

    g = services.create_group(
        user, org, name=SURVIVOR, kind=Group.Kind.ADVISORY_BOARD, plan=plan,
        measures=_ids(plan, "PA1.2"), active_from=day(-180), pseudonymous=True,
        mandate=(
            "Survivors of trafficking advise on the plan's protection measures and on how "
            "victims are treated by the agencies.\n\n"
            "Members are never named: each chooses a pseudonym, no account is linked to them "
            "and where they meet is not recorded. Members are paid for their time and may "
            "leave at any moment without giving a reason."))
    secretariat = services.add_member(user, g, organisation=org,
                                      role=Membership.Role.SECRETARIAT, start=day(-180))
    rose = services.add_member(user, g, person="Rose", role=Membership.Role.CHAIR,
                               start=day(-180))
    amal = services.add_member(user, g, person="Amal", start=day(-180))
    jun = services.add_member(user, g, person="Jun", start=day(-180))
    teo = services.add_member(user, g, person="Teodor", start=day(-120))
    meeting = services.add_meeting(
        user, g, date=day(-45), place="a safe venue chosen by the members",
        agenda="1. The draft protection chapter\n2. How identification interviews feel")
    services.record_attendance(user, meeting, {secretariat.pk: P, rose.pk: P, amal.pk: P,
                                               jun.pk: A, teo.pk: P})
    services.save_minutes(user, meeting, (
        "Members read the draft protection chapter with the secretariat.\n\n"
        "They asked that shelter places be open to men and to people who do not want to "
        "cooperate with the police, and that identification interviews happen with a "
        "support worker present."))
    advice = services.add_decision(
        user, meeting, text="The board reviews each draft protection measure before the "
                            "consultation opens.", measures=_ids(plan, "PR1.2", "PR2.1"))
    services.add_action(
        user, meeting, description="Send the draft protection chapter to the board in plain "
                                   "language.",
        owner=secretariat, due=day(10), decision=advice, measure=_one(plan, "PA1.2"))
    return g


__all__ = ["LABOUR", "SURVIVOR", "load"]
