"""The legal-framework assessment pages: answer item by item (htmx), scores follow; review by
a second person; re-assessment with changes; imports that land whole or not at all; the
harmonisation matrix on the demo assessments; instruments with errors by line and field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from tests.web.test_assessment_support import make_assessment

from tiplab.policy import legal
from tiplab_web.assessment import services
from tiplab_web.assessment.models import Instrument, LegalAnswer, LegalAssessment
from tiplab_web.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _answer(client, a, item, **data):
    return client.post(reverse("assessment:answer", kwargs={"pk": a.pk, "item": item}),
                       data, HTTP_HX_REQUEST="true")


def test_an_answer_saved_with_htmx_returns_the_row_and_the_new_scores(world, client_as):
    client = client_as("analyst")
    a = make_assessment(world.users["analyst"])
    r = _answer(client, a, "act.recruitment", answer="yes", statute="Act 2026",
                article="s. 2", excerpt="recruits a person", link="https://example.org/act")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="item-act.recruitment"' in html
    assert "recruits a person" in html
    assert 'hx-swap-oob="true"' in html  # the scores panel is replaced too
    assert 'data-testid="overall-score">100<' in html
    r = _answer(client, a, "act.transportation", answer="no")
    assert 'data-testid="overall-score">50<' in r.content.decode()  # (3*1 + 3*0) / 6
    row = LegalAnswer.objects.get(assessment=a, item="act.recruitment")
    assert (row.statute, row.updated_by) == ("Act 2026", world.users["analyst"])
    entry = AuditEntry.objects.filter(action="assessment.answer").latest("id")
    assert entry.details["item"] == "act.transportation"


def test_a_bad_answer_says_what_is_wrong_and_saves_nothing(world, client_as):
    client = client_as("analyst")
    a = make_assessment(world.users["analyst"])
    r = _answer(client, a, "act.recruitment", answer="yes", link="javascript:alert(1)")
    assert r.status_code == 400
    assert "Link" in r.content.decode()
    r = _answer(client, a, "act.recruitment", answer="maybe")
    assert r.status_code == 400
    assert not LegalAnswer.objects.filter(assessment=a).exists()
    assert client.post(reverse("assessment:answer", kwargs={"pk": a.pk, "item": "no.such"}),
                       {"answer": "yes"}).status_code == 404


def test_review_needs_a_second_person_and_freezes_the_answers(world, client_as):
    a = make_assessment(world.users["analyst"], act__recruitment="yes")
    own = client_as("analyst").post(reverse("assessment:review", kwargs={"pk": a.pk}))
    assert own.status_code == 302
    a.refresh_from_db()
    assert a.status == LegalAssessment.DRAFT
    other = client_as("policy_officer")
    other.post(reverse("assessment:review", kwargs={"pk": a.pk}), {"note": "checked"})
    a.refresh_from_db()
    assert (a.status, a.reviewer) == (LegalAssessment.REVIEWED, world.users["policy_officer"])
    r = _answer(client_as("analyst"), a, "act.recruitment", answer="no")
    assert r.status_code == 400
    assert "re-assess" in r.content.decode()
    assert LegalAnswer.objects.get(assessment=a, item="act.recruitment").answer == "yes"


def test_a_re_assessment_starts_from_the_answers_and_shows_what_changed(world, client_as):
    client = client_as("analyst")
    first = make_assessment(world.users["analyst"], act__recruitment="no", act__transfer="yes")
    r = client.post(reverse("assessment:reassess", kwargs={"pk": first.pk}),
                    {"date": "2026-06-01"})
    second = LegalAssessment.objects.get(date=dt.date(2026, 6, 1))
    assert r["Location"] == reverse("assessment:detail", kwargs={"pk": second.pk})
    assert second.previous == first
    assert second.answers.count() == 2
    _answer(client, second, "act.recruitment", answer="yes")
    page = client.get(reverse("assessment:detail", kwargs={"pk": second.pk})).content.decode()
    assert "What changed since" in page
    assert "better" in page
    # the same date twice is refused in words
    again = client.post(reverse("assessment:new"), {"country": "GBR", "instrument": "palermo",
                                                    "date": "2026-06-01"})
    assert again.status_code == 400
    assert "already has an assessment" in again.content.decode()


def test_a_csv_upload_replaces_the_answers_only_when_every_row_is_valid(world, client_as):
    client = client_as("analyst")
    a = make_assessment(world.users["analyst"], act__recruitment="no")
    inst = legal.builtin_instruments()["palermo"]
    template = legal.answers_to_csv(inst, None)
    lines = template.splitlines()
    assert lines[3].startswith("act.transfer,")
    lines[3] = lines[3].replace(",unknown,", ",yes,")  # act.transfer
    bad = lines.copy()
    bad[5] = bad[5].replace(",unknown,", ",perhaps,")
    url = reverse("assessment:upload", kwargs={"pk": a.pk})
    r = client.post(url, {"file": SimpleUploadedFile("a.csv", "\n".join(bad).encode())},
                    follow=True)
    assert "row 6: answer &#x27;perhaps&#x27;" in r.content.decode()
    assert LegalAnswer.objects.get(assessment=a, item="act.recruitment").answer == "no"
    client.post(url, {"file": SimpleUploadedFile("a.csv", "\n".join(lines).encode())})
    got = dict(LegalAnswer.objects.filter(assessment=a).values_list("item", "answer"))
    assert got["act.transfer"] == "yes"
    assert got["act.recruitment"] == "unknown"
    assert len(got) == len(inst.items)


def test_the_demo_assessments_fill_the_harmonisation_view(world, client_as):
    services.load_demo(world.users["analyst"], world.users["policy_officer"], world.home)
    assert LegalAssessment.objects.filter(organisation=world.home).count() == 4
    assert services.load_demo(world.users["analyst"], world.users["policy_officer"],
                              world.home) == 0  # once
    client = client_as("data_steward")
    page = client.get(reverse("assessment:harmonise")).content.decode()
    for c in ("GBR", "DEU", "JPN"):
        assert f'data-testid="score-{c}"' in page
    assert "Covered in GBR, not (or only partly) in JPN" in page
    assert "Spearman" in page
    assert "illustrative" in page
    csv_text = client.get(reverse("assessment:harmonise_export")).content.decode()
    assert csv_text.splitlines()[0] == "item,divergent,DEU,GBR,JPN"
    index = client.get(reverse("assessment:index")).content.decode()
    assert index.count("illustrative") >= 4
    gbr = LegalAssessment.objects.filter(country="GBR").order_by("-date").first()
    detail = client.get(reverse("assessment:detail", kwargs={"pk": gbr.pk})).content.decode()
    assert "What changed since" in detail
    assert "Suggested action" in detail


def test_an_instrument_upload_names_line_and_field_and_saves_nothing_when_wrong(world,
                                                                              client_as):
    client = client_as("policy_officer")
    text = ("id: regional\nversion: 1\ntitle: A regional convention\nsections:\n"
            "  - id: s\n    title: S\n    items:\n"
            "      - {id: a, label: A, question: 'A?', level: mandatory, article: art. 1}\n")
    r = client.post(reverse("assessment:instruments"),
                    {"file": SimpleUploadedFile("regional.yaml", text.encode())}, follow=True)
    assert "line 8, field &#x27;sections[0].items[0].level&#x27;" in r.content.decode()
    assert not Instrument.objects.exists()
    client.post(reverse("assessment:instruments"), {"file": SimpleUploadedFile(
        "regional.yaml", text.replace("mandatory", "core").encode())})
    assert Instrument.objects.get().ident == "regional"
    new = client.post(reverse("assessment:new"), {"country": "KEN", "instrument": "regional",
                                                  "date": "2026-01-01"})
    a = LegalAssessment.objects.get(instrument="regional")
    assert new["Location"] == reverse("assessment:detail", kwargs={"pk": a.pk})
    assert _answer(client, a, "a", answer="partial").status_code == 200
    steward = client_as("data_steward")
    assert steward.post(reverse("assessment:instruments")).status_code == 403


def test_an_assessment_file_imports_whole_or_not_at_all(world, client_as):
    client = client_as("analyst")
    path = legal.demo_assessments()[0]
    ok = client.post(reverse("assessment:import"),
                     {"file": SimpleUploadedFile(path.name, path.read_bytes())})
    a = LegalAssessment.objects.get()
    assert ok["Location"] == reverse("assessment:detail", kwargs={"pk": a.pk})
    bad = path.read_text(encoding="utf-8").replace("answer: partial", "answer: sort of", 1)
    r = client.post(reverse("assessment:import"),
                    {"file": SimpleUploadedFile("other.yaml", bad.encode())}, follow=True)
    assert "not on the scale" in r.content.decode()
    assert LegalAssessment.objects.count() == 1
    export = client.get(reverse("assessment:export", kwargs={"pk": a.pk, "fmt": "yaml"}))
    back = legal.load_assessment(export.content.decode(), legal.builtin_instruments())
    assert back.answers == legal.load_assessment(path, legal.builtin_instruments()).answers
    gaps = client.get(reverse("assessment:gaps_csv", kwargs={"pk": a.pk})).content.decode()
    assert gaps.splitlines()[0].startswith("instrument,country,item")
