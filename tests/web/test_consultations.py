"""Consultations on a plan: invited groups, threads, amendments, moderation, answers linked to
revisions, the "you said, we did" report, participation; one-time codes and the survivors'
pages; the review of anonymous input."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from tests.web import test_consultations_support as support
from tests.web.conftest import make_user, sign_in

from tiplab_web.accounts.models import Organisation
from tiplab_web.audit.models import AuditEntry
from tiplab_web.consultations import services
from tiplab_web.consultations.models import Contribution, VoiceAnswer, VoiceCode
from tiplab_web.core.roles import POLICY_OFFICER, STAKEHOLDER

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(world):
    police = Organisation.objects.create(name="Police Service", kind="police", country="ZZ")
    court = Organisation.objects.create(name="Court Office", kind="judiciary", country="ZZ")
    officer = world.users[POLICY_OFFICER]
    c = support.make_consultation(officer, invite=[(police, ""), (court, "")])
    cop = make_user("cop", [STAKEHOLDER], police)
    outsider = make_user("not-invited", [STAKEHOLDER], world.elsewhere)
    return {"c": c, "officer": officer, "cop": cop, "outsider": outsider, "police": police}


def _client(user):
    return sign_in(Client(), user)


def test_invited_stakeholder_comments_amends_replies_and_supports(setup):
    c, cop = setup["c"], setup["cop"]
    client = _client(cop)
    url = reverse("consultations:contribute", args=[c.pk, "measure:M1"])
    r = client.post(url, {"kind": "comment", "body": "Shelters need interpreters"})
    assert r.status_code == 302
    x = Contribution.objects.get(body="Shelters need interpreters")
    assert (x.group, x.organisation, x.author) == ("law_enforcement", setup["police"], cop)
    client.post(url, {"kind": "amendment", "body": "Say how many",
                      "suggested_text": "Open 400 shelter places."})
    am = Contribution.objects.get(kind="amendment")
    officer = _client(setup["officer"])
    officer.post(url, {"parent": str(x.pk), "body": "We will fund interpreters"})
    reply = Contribution.objects.get(kind="reply")
    assert reply.parent == x
    assert reply.group == 'government'
    react = reverse("consultations:react", args=[c.pk, x.pk])
    client.post(react, {"stance": "support"})
    officer.post(react, {"stance": "oppose"})
    x.refresh_from_db()
    assert (x.support, x.oppose) == (1, 1)
    client.post(react, {"stance": "support"})  # the same choice again withdraws it
    x.refresh_from_db()
    assert (x.support, x.oppose) == (0, 1)
    page = client.get(reverse("consultations:unit", args=[c.pk, "measure:M1"]))
    body = page.content.decode()
    assert "We will fund interpreters" in body
    assert f'id="c{am.pk}"' in body
    assert '<ins>' in body


def test_a_stakeholder_not_invited_sees_nothing(setup):
    client = _client(setup["outsider"])
    assert client.get(reverse("consultations:detail", args=[setup["c"].pk])).status_code == 404
    r = client.post(reverse("consultations:contribute", args=[setup["c"].pk, "measure:M1"]),
                    {"kind": "comment", "body": "hello"})
    assert r.status_code == 404
    index = client.get(reverse("consultations:index")).content.decode()
    assert setup["c"].title not in index
    assert not Contribution.objects.exists()


def test_comments_are_rendered_escaped(setup):
    client = _client(setup["cop"])
    client.post(reverse("consultations:contribute", args=[setup["c"].pk, "measure:M1"]),
                {"kind": "comment", "body": "<script>alert('x')</script>"})
    page = client.get(reverse("consultations:unit", args=[setup["c"].pk, "measure:M1"]))
    assert b"<script>alert" not in page.content
    assert b"&lt;script&gt;alert" in page.content


def test_a_closed_consultation_refuses_contributions_and_saves_nothing(setup):
    c = setup["c"]
    services.close(setup["officer"], c)
    client = _client(setup["cop"])
    r = client.post(reverse("consultations:contribute", args=[c.pk, "measure:M1"]),
                    {"kind": "amendment", "body": "late", "suggested_text": "new text"},
                    follow=True)
    assert "no longer accepted" in r.content.decode()
    assert not Contribution.objects.exists()


def test_moderation_hides_with_a_reason_and_is_audited(setup):
    c = setup["c"]
    x = services.contribute(setup["cop"], c, "measure:M1", "comment", "rude words")
    officer = _client(setup["officer"])
    url = reverse("consultations:hide", args=[c.pk, x.pk])
    officer.post(url, {"reason": ""})
    x.refresh_from_db()
    assert not x.hidden  # no reason, no hiding
    officer.post(url, {"reason": "abusive language"})
    x.refresh_from_db()
    assert x.hidden
    assert x.hidden_reason == 'abusive language'
    entry = AuditEntry.objects.filter(action="consultations.hide").get()
    assert entry.details["reason"] == "abusive language"
    page = _client(setup["cop"]).get(reverse("consultations:unit", args=[c.pk, "measure:M1"]))
    assert b"rude words" not in page.content
    assert services.participation(c).groups[0].comments == 0


def test_answers_link_the_revision_that_changed_the_text(setup):
    from tiplab_web.plans import services as plans

    c, officer = setup["c"], setup["officer"]
    x = services.contribute(setup["cop"], c, "measure:M1", "amendment", "More places",
                            suggested_text="Open 400 shelter places.")
    url = reverse("consultations:respond", args=[c.pk, x.pk])
    client = _client(officer)
    client.post(url, {"outcome": "accepted", "reason": "Agreed", "revision": c.revision.number})
    assert not hasattr(Contribution.objects.get(pk=x.pk), "response")  # not a later revision
    doc = plans.current(c.plan)
    doc.objectives[0].measures[0].description = "Open 400 shelter places."
    rev = plans.save(officer, c.plan, doc, comment="from the consultation")
    client.post(url, {"outcome": "not_accepted", "reason": "No", "revision": rev.number})
    assert not hasattr(Contribution.objects.get(pk=x.pk), "response")
    client.post(url, {"outcome": "accepted", "reason": "Agreed: 400 places",
                      "revision": rev.number})
    resp = Contribution.objects.get(pk=x.pk).response
    assert resp.revision == rev
    assert resp.outcome == 'accepted'
    text = client.get(reverse("consultations:report", args=[c.pk, "csv"])).content.decode()
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["answer"] == "Accepted"
    assert row["plan_revision"] == f"version {rev.version}, revision {rev.number}"
    html = client.get(reverse("consultations:report", args=[c.pk, "html"]))
    assert b"Agreed: 400 places" in html.content
    assert "style-src 'self' 'sha256-" in html["Content-Security-Policy"]
    pdf = client.get(reverse("consultations:report", args=[c.pk, "pdf"]))
    assert pdf.content.startswith(b"%PDF")


def test_participation_by_group_says_who_was_not_heard(setup):
    c = setup["c"]
    services.contribute(setup["cop"], c, "measure:M1", "comment", "We need training")
    page = _client(setup["officer"]).get(reverse("consultations:participation", args=[c.pk]))
    body = page.content.decode()
    assert "Invited but not heard: Judiciary and prosecution" in body
    part = services.participation(c)
    by = {g.group: g for g in part.groups}
    assert by["law_enforcement"].heard == ["Police Service"]
    assert by["judiciary"].not_heard == ["Court Office"]


# --- codes and the survivors' pages -------------------------------------------------------


def _flow(client: Client, code: str, text: str = "", **fields):
    r = client.post("/voice/", {"code": code, "lang": "en"})
    m = re.search(rb'name="t" value="([^"]+)"', r.content)
    assert m, r.content.decode()[:500]
    r = client.post("/voice/consent/", {"t": m.group(1).decode(), "agree": "yes"})
    m = re.search(rb'name="t" value="([^"]+)"', r.content)
    assert m, r.content.decode()[:500]
    return client.post("/voice/send/", {"t": m.group(1).decode(), "text": text, **fields})


def test_codes_are_printed_once_and_stored_only_as_fingerprints(setup):
    client = _client(setup["officer"])
    r = client.post(reverse("consultations:codes"), {
        "target": f"c:{setup['c'].pk}", "n": "3", "days": "30", "group": "survivor_board",
        "fmt": "html"})
    codes = re.findall(rb'class="code">([0-9A-Z-]{14})<', r.content)
    assert len(codes) == 3
    assert b'data:image/svg+xml' in r.content
    stored = " ".join(VoiceCode.objects.values_list("digest", flat=True))
    for code in codes:
        assert code.decode() not in stored
        assert services.redeem(code.decode().lower()) is not None  # typed in lower case
    pdf = client.post(reverse("consultations:codes"), {
        "target": "q:barriers-to-justice", "n": "2", "days": "30", "group": "public",
        "fmt": "pdf"})
    assert pdf.content.startswith(b"%PDF")


def test_a_survivor_answers_without_cookies_and_the_answer_is_sealed(setup):
    c = setup["c"]
    batch = services.issue_codes(setup["officer"], n=1, consultation=c)
    survivor = Client(REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="SurvivorPhone/1.0")
    text = "My name is Maria Lopez, call +34 612 345 678. The shelter had no interpreter."
    r = _flow(survivor, batch.codes[0], text, part="measure:M1")
    assert r.status_code == 200
    receipt = re.search(rb'class="receipt">([0-9A-Z-]+)<', r.content).group(1).decode()
    assert not survivor.cookies, "the survivors' pages set no cookie"
    assert r['Cache-Control'] == 'no-store'
    assert r['Referrer-Policy'] == 'no-referrer'
    answer = VoiceAnswer.objects.get()
    assert answer.status == 'pending'
    assert answer.unit == 'measure:M1'
    assert answer.findings == {"name": 1, "phone": 1}
    # nothing of it in clear anywhere in the database
    with connection.cursor() as cur:
        tables = connection.introspection.table_names(cur)
        dump = []
        for t in tables:
            cur.execute(f'SELECT * FROM "{t}"')
            dump.append(repr(cur.fetchall()))
    everything = "\n".join(dump)
    for secret in ("Maria Lopez", "612 345 678", "no interpreter", batch.codes[0], receipt,
                   "198.51.100.23", "SurvivorPhone"):
        assert secret not in everything, secret
    # the code works once; a used code gets the same neutral message as a wrong one
    again = survivor.post("/voice/", {"code": batch.codes[0]})
    wrong = survivor.post("/voice/", {"code": "AAAA-BBBB-CCCC"})
    assert b"This code does not work" in again.content
    assert again.content == wrong.content


def test_review_publishes_survivor_input_only_after_approval(setup):
    c, officer = setup["c"], setup["officer"]
    batch = services.issue_codes(officer, n=1, consultation=c)
    _flow(Client(), batch.codes[0], "I am Ana Silva from Lisbon. Police did not listen.",
          part="measure:M1")
    answer = VoiceAnswer.objects.get()
    unit_page = reverse("consultations:unit", args=[c.pk, "measure:M1"])
    assert b"Police did not listen" not in _client(setup["cop"]).get(unit_page).content
    client = _client(officer)
    page = client.get(reverse("consultations:review", args=[answer.pk])).content.decode()
    assert '[NAME]' in page
    assert '[PLACE]' in page
    assert 'Ana Silva' not in page
    shown = client.post(reverse("consultations:review", args=[answer.pk]), {"show": "original"})
    assert b"Ana Silva" in shown.content
    assert AuditEntry.objects.filter(action="voice.read", details__version="original").exists()
    client.post(reverse("consultations:review", args=[answer.pk]), {
        "decision": "approve", "text": "I am [NAME] from [PLACE]. Police did not listen."})
    answer.refresh_from_db()
    assert answer.status == 'approved'
    assert answer.sealed_original is None
    x = answer.contribution
    assert x.survivor
    assert x.group == 'survivor_board'
    assert x.organisation is None
    body = _client(setup["cop"]).get(unit_page).content.decode()
    assert 'Police did not listen' in body
    assert 'survivor input' in body
    assert services.participation(c).groups[-1].anonymous_inputs == 1


def test_a_receipt_shows_the_answer_and_allows_one_follow_up(setup):
    c, officer = setup["c"], setup["officer"]
    batch = services.issue_codes(officer, n=1, consultation=c)
    r = _flow(Client(), batch.codes[0], "Shelters are far away.", part="measure:M1")
    receipt = re.search(rb'class="receipt">([0-9A-Z-]+)<', r.content).group(1).decode()
    first = VoiceAnswer.objects.get()
    services.approve(officer, first, "Shelters are far away.")
    services.respond(officer, first.contribution, "partly", "Two new shelters in the north")
    page = Client().post("/voice/", {"code": receipt})
    assert b"Two new shelters in the north" in page.content
    _flow(Client(), receipt, "Also the south, please.")
    follow = VoiceAnswer.objects.exclude(pk=first.pk).get()
    assert follow.follows == first
    assert follow.unit == 'measure:M1'
    services.approve(officer, follow, "Also the south, please.")
    follow.refresh_from_db()
    assert follow.contribution.parent == first.contribution
    assert b"does not work" in Client().post("/voice/", {"code": receipt}).content


def test_expired_and_revoked_codes_do_not_work(setup):
    officer = setup["officer"]
    batch = services.issue_codes(officer, n=2, questionnaire="support-services", days=1)
    VoiceCode.objects.filter(batch=batch.batch).update(
        expires_on=timezone.localdate() - dt.timedelta(days=1))
    assert services.redeem(batch.codes[0]) is None
    other = services.issue_codes(officer, n=1, questionnaire="support-services")
    services.revoke_batch(officer, other.batch)
    r = Client().post("/voice/", {"code": other.codes[0]})
    assert b"This code does not work" in r.content


def test_questionnaire_answers_are_checked_and_tallied(setup):
    officer = setup["officer"]
    batch = services.issue_codes(officer, n=6, questionnaire="support-services")
    bad = _flow(Client(), batch.codes[0], q_safe="9")
    assert bad.status_code == 400
    assert b'could not be read' in bad.content
    assert VoiceCode.objects.filter(used_on__isnull=False).count() == 0  # nothing spent
    for code in batch.codes[:5]:
        _flow(Client(), code, q_received=["shelter", "legal"], q_safe="4",
              q_advice="Call me on 0612345678")
    for a in VoiceAnswer.objects.all():
        data = services.read(a)
        assert "0612345678" not in data["answers"]["advice"]
        services.approve(officer, a, "")
    page = _client(officer).get(reverse("consultations:questionnaire",
                                        args=["support-services"])).content.decode()
    assert "5 reviewed answers" in page
    assert re.search(r"A safe place to stay</th><td class=\"num\">5<", page)
    assert re.search(r"Medical or psychological care</th><td class=\"num\">0<", page)


def test_the_survivors_pages_work_in_french_and_spanish(setup):
    r = Client().get("/voice/?lang=fr")
    assert b'Votre code' in r.content
    assert r['Content-Language'] == 'fr'
    r = Client().get("/voice/?lang=es")
    assert r["Content-Language"] == "es"
    assert b'class="quick-exit"' in r.content


def test_too_many_code_attempts_get_a_calm_429(setup, settings):
    settings.TIPLAB_RATE_LIMITS = {**settings.TIPLAB_RATE_LIMITS, "anon_receipt": (3, 600)}
    client = Client()
    codes = [client.post("/voice/", {"code": f"AAAA-BBBB-CCC{i}"}).status_code
             for i in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]
    r = client.post("/voice/", {"code": "AAAA-BBBB-CCCC"})
    assert b'Nothing you typed was saved' in r.content
    assert r.has_header('Retry-After')


def test_the_plan_page_lists_its_consultations(setup):
    c = setup["c"]
    services.contribute(setup["cop"], c, "measure:M1", "comment", "A note")
    page = _client(setup["officer"]).get(reverse("plans:detail", args=[c.plan.pk]))
    body = page.content.decode()
    assert c.title in body
    assert "1 contribution" in body
    assert reverse("consultations:new", args=[c.plan.pk]) in body


def test_the_dashboard_shows_input_to_review_and_contributions_to_answer(setup):
    c = setup["c"]
    services.contribute(setup["cop"], c, "measure:M1", "comment", "Please answer")
    batch = services.issue_codes(setup["officer"], n=1, consultation=c)
    _flow(Client(), batch.codes[0], "A survivor's view")
    page = _client(setup["officer"]).get(reverse("core:home"))
    keys = [p.panel.key for p in page.context["panels"]]
    assert "consultation_work" in keys
    body = page.content.decode()
    assert "1 anonymous input waits for review" in body
    assert f"/consultations/{c.pk}/contributions/?state=unanswered" in body


def test_an_unknown_anonymous_address_answers_in_the_anonymous_shell():
    r = Client().get("/voice/nowhere/", HTTP_COOKIE="sessionid=abc")
    assert r.status_code == 404
    body = r.content.decode()
    assert 'class="quick-exit"' in body
    assert "/static/" not in body
    assert not r.cookies


def test_a_caseworkers_codes_bring_input_to_the_drafting_teams_review(setup, world):
    from tiplab_web.core.roles import AGENCY_REPORTER

    shelter = Organisation.objects.create(name="North Shelter", kind="shelter", country="ZZ")
    services.invite(setup["officer"], setup["c"], shelter)
    caseworker = make_user("caseworker", [AGENCY_REPORTER], shelter)
    client = _client(caseworker)
    page = client.get(reverse("consultations:codes")).content.decode()
    assert setup["c"].title in page
    assert "q:support-services" not in page  # questionnaires: the drafting team's
    r = client.post(reverse("consultations:codes"), {
        "target": f"c:{setup['c'].pk}", "n": "1", "days": "10", "group": "survivor_board",
        "fmt": "html"})
    code = re.search(rb'class="code">([0-9A-Z-]{14})<', r.content).group(1).decode()
    _flow(Client(), code, "Survivors need lawyers who speak Tigrinya.")
    assert services.review_queue(world.home).count() == 1
    assert services.review_queue(shelter).count() == 0
    with pytest.raises(services.ConsultationError):
        services.issue_codes(caseworker, n=1, questionnaire="support-services")
    other = support.make_consultation(setup["officer"], title="Not for the shelter")
    with pytest.raises(services.ConsultationError):
        services.issue_codes(caseworker, n=1, consultation=other)
