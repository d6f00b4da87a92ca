"""A plan measure cites qualitative evidence by reference: a coded theme's count of interview
notes (flagged when more notes are coded) and a redacted quotation (by its id), never a
number or a sentence typed by hand; a quotation whose consent is withdrawn is flagged."""

from __future__ import annotations

import pytest
from django.urls import reverse
from tests.web import evidence_support as ev
from tests.web.test_plans_support import make_plan

from tiplab_web.plans import evidence, services

pytestmark = pytest.mark.django_db


def _code_notes(analyst, n: int, code: str = "FL02") -> None:
    for _ in range(n):
        ev.make_coding(analyst, code=code)


def test_a_theme_is_offered_only_above_the_threshold_to_a_policy_officer(world):
    analyst, officer = world.users["analyst"], world.users["policy_officer"]
    _code_notes(analyst, 4)
    with pytest.raises(evidence.NoEvidence, match="No coded interview notes"):
        evidence.candidates("theme", officer)
    # the analyst, who may read the notes, sees the small count
    [c] = evidence.candidates("theme", analyst)
    assert (c.value, c.selector, c.unit) == (4.0, {"code": "FL02"}, "interview notes")
    _code_notes(analyst, 1)
    [c] = evidence.candidates("theme", officer)
    assert c.value == 5.0
    assert c.data_version.startswith("notes-")


def test_cite_a_theme_and_see_the_flag_when_more_notes_are_coded(world, client_as):
    analyst, officer = world.users["analyst"], world.users["policy_officer"]
    _code_notes(analyst, 5)
    plan = make_plan(officer)
    client = client_as("policy_officer")
    r = client.get(reverse("plans:cite", args=[plan.pk, "M1"]), {"kind": "theme"})
    assert "Deception: in 5 consented interview notes" in r.content.decode()
    r = client.post(reverse("plans:cite", args=[plan.pk, "M1"]) + "?kind=theme",
                    {"kind": "theme", "pick": "0"})
    assert r.status_code == 302
    c = services.current(plan).measure("M1").evidence[0]
    assert (c.kind, c.value, c.selector) == ("theme", 5.0, {"code": "FL02"})
    assert 'id="evidence-changed"' not in client.get(
        reverse("plans:detail", args=[plan.pk])).content.decode()
    _code_notes(analyst, 2)  # 7 notes now: +40%
    page = client.get(reverse("plans:detail", args=[plan.pk])).content.decode()
    assert 'id="evidence-changed"' in page
    assert "now 7 (was 5)" in page


def test_cite_a_quotation_by_its_id(world, client_as):
    analyst, officer = world.users["analyst"], world.users["policy_officer"]
    from tiplab_web.evidence import services as notes

    note = ev.make_note(analyst, consent_quote=True)
    q = notes.quote(analyst, note, 0, len(ev.TEXT))  # the whole note, phone number included
    plan = make_plan(officer)
    client = client_as("policy_officer")
    r = client.post(reverse("plans:cite", args=[plan.pk, "M1"]) + "?kind=quotation",
                    {"kind": "quotation", "pick": "0"})
    assert r.status_code == 302
    c = services.current(plan).measure("M1").evidence[0]
    assert (c.kind, c.ref, c.value) == ("quotation", q.identifier, None)
    assert q.text[:40] in c.label
    assert "tiplab evidence " + q.identifier in c.note
    assert ev.PHONE not in q.text  # redacted before it is cited
    assert "[PHONE]" in q.text
    page = client.get(reverse("plans:detail", args=[plan.pk])).content.decode()
    assert "no longer in the results" not in page
    # the speaker withdraws consent to quotation: the plan says the quotation is gone
    notes.update_note(analyst, note, consent_quote=False)
    page = client.get(reverse("plans:detail", args=[plan.pk])).content.decode()
    assert "no longer in the results" in page
