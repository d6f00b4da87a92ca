"""National Action Plan pages: create, edit a measure (whole-plan checks), cite a legal gap
and see the flag when the assessment changes, adopt (the coordinator only), edits refused on
an adopted version — on the page, in the service and through the API — a new version and
its diff; imports that land whole or not at all; documents; the reporters' view."""

from __future__ import annotations

import json

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from tests.web.test_assessment_support import make_assessment
from tests.web.test_plans_support import make_plan

from tiplab.policy import plan as core
from tiplab_web.audit.models import AuditEntry
from tiplab_web.plans import services
from tiplab_web.plans.models import Plan, PlanRevision, RevisionImmutable

pytestmark = pytest.mark.django_db


def _measure_post(**over):
    data = {
        "objective": "O1", "ident": "M2", "title": "Train labour inspectors",
        "type": "training", "status": "not_started", "lead": "Labour Inspectorate",
        "partners": "Police, NGO", "milestones": "2026-06-30 Curriculum approved [done]",
        "budget-TOTAL_FORMS": "2", "budget-INITIAL_FORMS": "0",
        "budget-0-year": "2026", "budget-0-source": "international_aid",
        "budget-0-amount": "40000", "budget-1-year": "", "budget-1-source": "government",
        "budget-1-amount": "",
        "indicators-TOTAL_FORMS": "1", "indicators-INITIAL_FORMS": "0",
        "indicators-0-indicator": "PROS-03", "indicators-0-baseline": "12",
        "indicators-0-baseline_year": "2024", "indicators-0-target_2026": "18",
        "indicators-0-target_2027": "25",
    }
    data.update(over)
    return data


def test_create_a_plan_and_add_a_measure_as_a_revision(world, client_as):
    client = client_as("policy_officer")
    r = client.post(reverse("plans:new"), {
        "ident": "nap-2026", "title": "NAP 2026-2027", "country": "Utopia",
        "start_year": 2026, "end_year": 2027, "currency": "EUR", "pillars": "4p"})
    plan = Plan.objects.get(ident="nap-2026")
    assert r.status_code == 302
    r = client.post(reverse("plans:objective_new", args=[plan.pk]),
                    {"ident": "O1", "pillar": "prosecution", "title": "Prosecute"})
    r = client.post(reverse("plans:measure_new", args=[plan.pk]), _measure_post())
    assert r.status_code == 302, r.content.decode()[:2000]
    doc = services.current(plan)
    m = doc.measure("M2")
    assert (m.type, m.lead, m.partners) == ("training", "Labour Inspectorate", ["Police", "NGO"])
    assert [(b.year, b.source, b.amount) for b in m.budget] == [(2026, "international_aid",
                                                                 40000.0)]
    assert m.indicators[0].targets == {2026: 18.0, 2027: 25.0}
    assert m.milestones[0].done
    assert [r.number for r in services.revisions(plan)] == [1, 2, 3]
    assert AuditEntry.objects.filter(action="plan.revised").count() == 2
    page = client.get(reverse("plans:detail", args=[plan.pk])).content.decode()
    assert "Train labour inspectors" in page
    assert "40,000" in page or "40 000" in page or "40000" in page


def test_a_bad_measure_says_what_is_wrong_and_saves_nothing(world, client_as):
    client = client_as("policy_officer")
    plan = make_plan(world.users["policy_officer"])
    before = PlanRevision.objects.filter(plan=plan).count()
    # PROS-03 is higher-is-better: a target under the baseline is refused
    r = client.post(reverse("plans:measure_new", args=[plan.pk]),
                    _measure_post(**{"indicators-0-target_2026": "8"}))
    assert r.status_code == 400
    assert "is below the baseline (12)" in r.content.decode()
    r = client.post(reverse("plans:measure_new", args=[plan.pk]), _measure_post(ident="M1"))
    assert r.status_code == 400
    assert "A measure with the id M1 exists" in r.content.decode()
    assert PlanRevision.objects.filter(plan=plan).count() == before


def test_cite_a_legal_gap_and_see_the_flag_when_the_assessment_changes(world, client_as):
    from tiplab_web.assessment.models import LegalAnswer

    officer = world.users["policy_officer"]
    client = client_as("policy_officer")
    plan = make_plan(officer)
    a = make_assessment(officer, country="JPN", act__recruitment="no")
    r = client.get(reverse("plans:cite", args=[plan.pk, "M1"]), {"kind": "legal_gap"})
    assert "act.recruitment" in r.content.decode() or "Recruitment" in r.content.decode()
    r = client.post(reverse("plans:cite", args=[plan.pk, "M1"]) + "?kind=legal_gap",
                    {"kind": "legal_gap", "pick": "0"})
    assert r.status_code == 302
    c = services.current(plan).measure("M1").evidence[0]
    assert (c.kind, c.value, c.selector["item"]) == ("legal_gap", 0.0, "act.recruitment")
    assert c.data_version == f"assessment-{a.pk}"
    page = client.get(reverse("plans:detail", args=[plan.pk])).content.decode()
    assert "evidence changed" not in page
    # the law was amended: the answer saved as on the assessment page (no cache cleared:
    # the evidence check sees the change at once)
    answer = LegalAnswer.objects.get(assessment=a, item="act.recruitment")
    answer.answer = "yes"
    answer.save()
    page = client.get(reverse("plans:detail", args=[plan.pk])).content.decode()
    assert 'id="evidence-changed"' in page
    assert "now 1 (was 0)" in page


def test_a_legal_gap_becomes_a_measure_in_one_step(world, client_as):
    officer = world.users["policy_officer"]
    client = client_as("policy_officer")
    plan = make_plan(officer)
    make_assessment(officer, country="JPN", act__recruitment="partial")
    r = client.post(reverse("plans:from_gap", args=[plan.pk]), {"pick": "0", "objective": "O1"})
    assert r.status_code == 302
    m = services.current(plan).measure("O1.1")
    assert m.type == "legislative"
    assert m.evidence[0].kind == "legal_gap"
    assert m.evidence[0].value == 0.5


def test_only_the_coordinator_adopts_and_an_adopted_version_never_changes(world, client_as):
    officer = world.users["policy_officer"]
    plan = make_plan(officer)
    officer_client, admin_client = client_as("policy_officer"), client_as("administrator")
    # the policy officer cannot adopt, not even through the general lifecycle action
    officer_client.post(reverse("plans:transition", args=[plan.pk]), {"to": "adopted"})
    plan.refresh_from_db()
    assert plan.status == "draft"
    assert officer_client.post(reverse("plans:adopt", args=[plan.pk]),
                               {"to": "adopted"}).status_code == 403
    admin_client.post(reverse("plans:adopt", args=[plan.pk]), {"to": "adopted"})
    plan.refresh_from_db()
    assert (plan.status, plan.version) == ("adopted", 1)
    n = PlanRevision.objects.filter(plan=plan).count()
    # refused on the page ...
    r = officer_client.post(reverse("plans:measure", args=[plan.pk, "M1"]),
                            _measure_post(ident="M1", objective="O1"))
    assert r.status_code == 302
    r = officer_client.post(reverse("plans:narrative", args=[plan.pk]), {"narrative": "x"})
    # ... in the service ...
    doc = services.current(plan)
    doc.title = "Changed behind the page's back"
    with pytest.raises(services.PlanServiceError, match="cannot be changed"):
        services.save(officer, plan, doc)
    # ... and at the row: a saved revision is never updated or deleted
    rev = services.latest(plan)
    rev.comment = "tampered"
    with pytest.raises(RevisionImmutable):
        rev.save()
    with pytest.raises(RevisionImmutable):
        rev.delete()
    assert PlanRevision.objects.filter(plan=plan).count() == n
    # a new version starts as a draft; the adopted one stays as adopted
    officer_client.post(reverse("plans:new_version", args=[plan.pk]))
    plan.refresh_from_db()
    assert (plan.status, plan.version) == ("draft", 2)
    r = officer_client.post(reverse("plans:measure", args=[plan.pk, "M1"]),
                            _measure_post(ident="M1", title="Shelter places for men"))
    assert r.status_code == 302
    adopted = next(x for x in services.revisions(plan) if x.status == "adopted")
    assert services.as_core(adopted).measure("M1").title == "Shelter places"
    page = officer_client.get(reverse("plans:versions", args=[plan.pk]),
                              {"a": adopted.number, "b": services.latest(plan).number})
    html = page.content.decode()
    assert "Shelter places for men" in html
    assert "Measures changed" in html


def test_the_api_refuses_to_change_an_adopted_version(world, monkeypatch):
    from tiplab_web.core import roles

    monkeypatch.setitem(roles.CAPABILITIES, "plans.edit",
                        roles.CAPABILITIES["plans.edit"] | {roles.ANALYST})
    analyst = world.users["analyst"]
    plan = make_plan(analyst, status="adopted")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {world.raw_token_of(analyst)}"}
    url = reverse("api:put_plan", kwargs={"ident": plan.ident})
    doc = services.current(plan).to_dict() | {"title": "Changed through the API"}
    r = Client().put(url, json.dumps(doc), content_type="application/json", **headers)
    assert r.status_code == 409
    assert "cannot be changed" in r.json()["error"]["message"]
    assert services.current(plan).title == "Test plan"
    draft = make_plan(analyst, ident="draft-plan")
    doc = services.current(draft).to_dict() | {"title": "Changed through the API"}
    r = Client().put(reverse("api:put_plan", kwargs={"ident": "draft-plan"}), json.dumps(doc),
                     content_type="application/json", **headers)
    assert r.status_code == 200
    assert r.json()["revision"] == 2
    bad = doc | {"period": [2030, 2020]}
    r = Client().put(reverse("api:put_plan", kwargs={"ident": "draft-plan"}), json.dumps(bad),
                     content_type="application/json", **headers)
    assert r.status_code == 422
    assert "before it starts" in r.json()["error"]["message"]


def test_import_lands_whole_or_not_at_all(world, client_as):
    client = client_as("policy_officer")
    good = core.dump_plan(core.demo_plan())
    r = client.post(reverse("plans:import"),
                    {"file": SimpleUploadedFile("demo.yaml", good.encode())})
    plan = Plan.objects.get(ident="xt-nap-2025")
    assert r.status_code == 302
    assert services.current(plan).to_dict() == core.demo_plan().to_dict()
    d = core.demo_plan().to_dict()
    d["objectives"][0]["measures"][0]["budget"][1].update(year=2031, source="lottery")
    d["objectives"][0]["measures"][0]["colour"] = "red"
    bad = yaml.safe_dump(d, sort_keys=False)
    r = client.post(reverse("plans:import"),
                    {"file": SimpleUploadedFile("demo.yaml", bad.encode())}, follow=True)
    text = r.content.decode()
    assert "2031 is outside the plan period 2025-2028" in text
    assert "&#x27;lottery&#x27; is not one of" in text
    assert "unknown field &#x27;colour&#x27;" in text
    assert "line " in text
    assert PlanRevision.objects.filter(plan=plan).count() == 1


def test_documents_round_trip_and_render(world, client_as):
    client = client_as("analyst")
    plan = make_plan(world.users["policy_officer"])
    r = client.get(reverse("plans:export", args=[plan.pk, "yaml"]))
    assert core.load_plan(r.content.decode()).to_dict() == services.current(plan).to_dict()
    r = client.get(reverse("plans:export", args=[plan.pk, "pdf"]))
    assert r.content.startswith(b"%PDF")
    r = client.get(reverse("plans:export", args=[plan.pk, "docx"]))
    assert r.content[:2] == b"PK"
    r = client.get(reverse("plans:export", args=[plan.pk, "html"]))
    html = r.content.decode()
    assert "Shelter places" in html
    # its one inline <style> is allowed by its hash, nothing else inline
    import base64
    import hashlib
    import re

    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = r["Content-Security-Policy"]
    assert f"style-src 'self' 'sha256-{digest}'" in policy
    assert "unsafe-inline" not in policy
    assert "https://" not in html.split("<body", 1)[0]  # no third-party resources
    assert AuditEntry.objects.filter(action="plan.exported").count() == 4


def test_agency_reporters_see_the_measures_they_lead(world, client_as):
    make_plan(world.users["policy_officer"])
    # the standing agency reporter belongs to the home organisation; the measure's lead is
    # "Shelter NGO", the outsider organisation's name
    client = Client()
    from tests.web.conftest import sign_in

    sign_in(client, world.outsiders["agency_reporter"])
    page = client.get(reverse("plans:index")).content.decode()
    assert "Shelter places" in page
    page = client_as("agency_reporter").get(reverse("plans:index")).content.decode()
    assert "Shelter places" not in page
    assert client_as("agency_reporter").get(
        reverse("plans:detail", args=[Plan.objects.get().pk])).status_code == 403


def test_spend_tracking_flags(world, client_as):
    client = client_as("policy_officer")
    plan = make_plan(world.users["policy_officer"])
    r = client.post(reverse("plans:spend", args=[plan.pk]), {
        "line": "M1|2025-government", "period": "2025", "committed": "120000",
        "disbursed": "110000"})
    assert r.status_code == 302
    page = client.get(reverse("plans:budget", args=[plan.pk])).content.decode()
    assert "overspen" in page
    assert "110%" in page
    svg = client.get(reverse("plans:budget_chart", args=[plan.pk]))
    assert svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content


def test_a_measure_status_changes_in_place_with_htmx(world, client_as):
    client = client_as("policy_officer")
    plan = make_plan(world.users["policy_officer"])
    url = reverse("plans:measure_status", args=[plan.pk, "M1"])
    r = client.post(url, {"status": "delayed"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    html = r.content.decode()
    assert html.lstrip().startswith('<article class="card" id="measure-M1">')
    assert '<option value="delayed" selected>' in html
    assert services.current(plan).measure("M1").status == "delayed"
    assert services.latest(plan).comment == "measure M1: status delayed"
    r = client.post(url, {"status": "done-ish"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 400
    assert services.current(plan).measure("M1").status == "delayed"
    # without JavaScript: back to the plan
    assert client.post(url, {"status": "completed"}).status_code == 302
    assert services.current(plan).measure("M1").status == "completed"
