"""Qualitative evidence: sealed notes and who reads what, uploads, coding, suggestions,
agreement between coders, themes with small-count protection, quotations, the codebook."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from tests.web import evidence_support as ev
from tests.web.conftest import make_user, sign_in

from tiplab_web.audit.models import AuditEntry
from tiplab_web.core.roles import ANALYST
from tiplab_web.core.sealed import SealError
from tiplab_web.evidence import assist, services, themes
from tiplab_web.evidence.models import Coding, Note, Quotation, Suggestion

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def analyst(world):
    return world.users["analyst"]


@pytest.fixture
def policy(world):
    return world.users["policy_officer"]


@pytest.fixture
def steward(world):
    return world.users["data_steward"]


def _client(user) -> Client:
    return sign_in(Client(), user)


def _code_key(user, i: int = 0) -> str:
    return services.codebook(user).keys()[i]


# --- sealing and reading -------------------------------------------------------------------------


def test_the_database_holds_no_plaintext(analyst):
    note = ev.make_note(analyst)
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM evidence_note WHERE id = %s", [note.pk])
        row = cur.fetchone()
    raw = b"".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
                   for v in row)
    for phrase in ("fourteen hours", "passport", ev.PHONE, "owed him"):
        assert phrase.encode() not in raw
    assert services.full_text(note) == ev.TEXT
    assert note.text_sha256 == services.sha256(ev.TEXT)


def test_a_sealed_text_moved_to_another_note_does_not_open(analyst):
    a = ev.make_note(analyst)
    b = ev.make_note(analyst, text="Another note, about something else entirely.")
    Note.objects.filter(pk=b.pk).update(sealed_text=a.sealed_text,
                                        sealed_redacted=a.sealed_redacted)
    b.refresh_from_db()
    with pytest.raises(SealError):
        services.full_text(b)
    with pytest.raises(SealError):
        services.redacted_text(b)


def test_every_full_read_is_audited(analyst):
    note = ev.make_note(analyst)
    c = _client(analyst)
    for _ in range(2):
        r = c.get(reverse("evidence:note", args=[note.pk]))
        assert r.status_code == 200
        assert "fourteen hours" in r.content.decode()
    reads = AuditEntry.objects.filter(action="evidence.note.read", object_id=str(note.pk))
    assert reads.count() == 2
    assert {e.actor_id for e in reads} == {analyst.pk}


def test_a_policy_officer_sees_the_redacted_text_and_no_full_read(analyst, policy):
    note = ev.make_note(analyst)
    r = _client(policy).get(reverse("evidence:note", args=[note.pk]))
    assert r.status_code == 200
    body = r.content.decode()
    assert ev.PHONE not in body
    assert "fourteen hours" in body  # the rest of the text is there
    assert 'data-testid="redacted"' in body
    assert 'id="ev-code-form"' not in body
    assert not AuditEntry.objects.filter(action="evidence.note.read",
                                         object_id=str(note.pk)).exists()
    assert ev.PHONE not in services.redacted_text(note)


def test_outsiders_get_404(analyst, world):
    note = ev.make_note(analyst)
    outsider = world.outsiders["analyst"]
    assert _client(outsider).get(reverse("evidence:note", args=[note.pk])).status_code == 404


# --- adding notes -------------------------------------------------------------------------------


def _meta(**extra):
    return {"title": "Upload", "source_type": "ngo", "consent_analysis": "on", **extra}


def _upload(client, name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("evidence:upload"),
                       _meta(file=SimpleUploadedFile(name, data)))


def _scanned_pdf() -> bytes:
    import pypdf

    w = pypdf.PdfWriter()
    w.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


@pytest.mark.parametrize(("name", "data", "says"), [
    ("empty.txt", b"", "empty"),
    ("scan.pdf", _scanned_pdf(), "scan"),
    ("huge.txt", b"x" * (10 * 1024 * 1024 + 1), "10 MB"),
    ("notes.xls", b"\x00\x01binary", "xls"),
])
def test_bad_uploads_say_why_and_store_nothing(analyst, name, data, says):
    r = _upload(_client(analyst), name, data)
    assert r.status_code == 200
    body = r.content.decode()
    assert says.lower() in body.lower(), body[:3000]
    assert Note.objects.count() == 0
    assert not AuditEntry.objects.filter(action="evidence.note.create").exists()


def test_a_text_file_upload_is_stored_sealed(analyst):
    r = _upload(_client(analyst), "interview.txt", ev.TEXT.encode())
    assert r.status_code == 302
    note = Note.objects.get()
    assert note.source_file_name == "interview.txt"
    assert note.source_file_kind == "txt"
    assert services.full_text(note) == ev.TEXT
    assert note.language == "en"
    assert note.language_supported


FRENCH = ("Les jeunes femmes que nous accueillons ont souvent été recrutées sur les réseaux "
          "sociaux avec des promesses de travail dans la restauration. Elles arrivent sans "
          "papiers, car le passeur les a gardés, et elles doivent une dette qui ne cesse "
          "d'augmenter. La plupart ont peur de porter plainte auprès de la police.")


def test_an_unsupported_language_is_saved_with_a_notice(analyst):
    c = _client(analyst)
    r = c.post(reverse("evidence:add"), _meta(text=FRENCH), follow=True)
    assert r.status_code == 200
    note = Note.objects.get()
    assert note.language == "fr"
    assert not note.language_supported
    body = r.content.decode()
    assert "Assisted coding is off" in body
    assert 'id="ev-code-form"' in body  # manual coding still works
    assert "fr" in assist.skip_reason(note)
    out = assist.suggest_notes(analyst, [note])
    assert out["suggestions"] == 0
    assert out["skipped"][0]["note"] == note.pk
    c.post(reverse("evidence:code", args=[note.pk]),
           {"start": 0, "end": 30, "code": _code_key(analyst)})
    assert Coding.objects.filter(note=note).count() == 1


def test_the_language_can_be_overridden(analyst):
    note = ev.make_note(analyst)
    r = _client(analyst).post(reverse("evidence:note_settings", args=[note.pk]),
                              {"language": "es", "consent_analysis": "on"})
    assert r.status_code == 302
    note.refresh_from_db()
    assert note.language == "es"
    assert note.language_detected == "en"


# --- coding -------------------------------------------------------------------------------------


def test_code_a_span_and_remove_it(analyst):
    note = ev.make_note(analyst)
    code = _code_key(analyst)
    c = _client(analyst)
    r = c.post(reverse("evidence:code", args=[note.pk]),
               {"start": 0, "end": 36, "code": code, "comment": "the passport"},
               HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert 'data-testid="coding"' in r.content.decode()
    coding = Coding.objects.get(note=note)
    assert (coding.start, coding.end, coding.code, coding.coder) == (0, 36, code, analyst)
    assert coding.origin == "human"
    assert coding.comment == "the passport"
    # the same code on the same span again: refused, nothing added
    r = c.post(reverse("evidence:code", args=[note.pk]),
               {"start": 0, "end": 36, "code": code}, HTTP_HX_REQUEST="true")
    assert "already applied" in r.content.decode()
    assert Coding.objects.filter(note=note).count() == 1
    r = c.post(reverse("evidence:uncode", args=[coding.pk]))
    assert r.status_code == 302
    assert not Coding.objects.filter(note=note).exists()
    actions = list(AuditEntry.objects.filter(action__startswith="evidence.coding")
                   .order_by("pk").values_list("action", flat=True))
    assert actions == ["evidence.coding.add", "evidence.coding.delete"]


def test_coding_is_refused_without_consent_or_outside_the_text(analyst):
    note = ev.make_note(analyst, consent_analysis=False)
    with pytest.raises(services.EvidenceError, match="did not agree"):
        services.add_coding(analyst, note, 0, 10, _code_key(analyst))
    ok = ev.make_note(analyst)
    with pytest.raises(services.EvidenceError, match="not inside"):
        services.add_coding(analyst, ok, 0, len(ev.TEXT) + 5, _code_key(analyst))
    with pytest.raises(services.EvidenceError, match="Unknown code"):
        services.add_coding(analyst, ok, 0, 10, "NOPE.NOT.A.CODE")
    assert not Coding.objects.exists()


def test_only_the_coder_removes_a_code(analyst, world):
    other = make_user("second-analyst", [ANALYST], world.home)
    coding = ev.make_coding(analyst)
    r = _client(other).post(reverse("evidence:uncode", args=[coding.pk]), follow=True)
    assert "Only the coder" in r.content.decode()
    assert Coding.objects.filter(pk=coding.pk).exists()


def test_blind_mode_hides_the_other_coders_codes_until_both_finish(analyst, world):
    other = make_user("second-analyst", [ANALYST], world.home)
    note = ev.make_note(analyst, blind=True)
    code = _code_key(analyst)
    services.add_coding(analyst, note, 0, 36, code)
    services.add_coding(other, note, 37, 90, code)
    assert list(services.visible_codings(other, note).values_list("coder", flat=True)) == \
        [other.pk]
    services.finish(analyst, note)
    assert services.blind_for(other, note)
    services.finish(other, note)
    note.refresh_from_db()
    assert note.status == "finished"
    assert not services.blind_for(other, note)
    assert services.visible_codings(other, note).count() == 2


# --- suggestions --------------------------------------------------------------------------------


def test_accept_and_reject_suggestions(analyst):
    note = ev.make_note(analyst)
    a = ev.make_suggestion(analyst, note, code=_code_key(analyst, 0), start=0, end=36)
    b = ev.make_suggestion(analyst, note, code=_code_key(analyst, 1), start=37, end=90)
    c = _client(analyst)
    r = c.post(reverse("evidence:decide", args=[a.pk, "accept"]), HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    r = c.post(reverse("evidence:decide", args=[b.pk, "reject"]), HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.decided_by) == ("accepted", analyst)
    assert (b.status, b.decided_by) == ("rejected", analyst)
    coding = Coding.objects.get(note=note)
    assert (coding.start, coding.end, coding.code, coding.origin) == \
        (0, 36, a.code, "suggestion-accepted")
    # a decided suggestion is not decided again
    r = c.post(reverse("evidence:decide", args=[b.pk, "accept"]), HTTP_HX_REQUEST="true")
    assert "already decided" in r.content.decode()
    assert Coding.objects.filter(note=note).count() == 1
    live = assist.model_agreement(analyst.profile.organisation)
    assert live[a.code]["accepted"] == 1
    assert live[b.code]["rejected"] == 1


def test_the_suggest_job_stores_suggestions_and_keeps_decisions(analyst):
    note = ev.make_note(analyst)
    r = _client(analyst).post(reverse("evidence:suggest", args=[note.pk]))
    assert r.status_code == 302
    rows = list(Suggestion.objects.filter(note=note))
    assert rows, "the note's cue phrases give suggestions whatever the method"
    assert all(0 <= s.confidence <= 1 and s.method for s in rows)
    first = rows[0]
    assist.reject(analyst, first)
    assist.suggest_notes(analyst, [note])  # again: the rejected one is not suggested again
    again = Suggestion.objects.filter(note=note, start=first.start, end=first.end,
                                      code=first.code)
    assert list(again.values_list("status", flat=True)) == ["rejected"]


def test_keywords_when_the_model_is_not_installed(analyst, monkeypatch):
    from tiplab.qualitative import embed

    monkeypatch.setattr(embed, "available", lambda: False)
    note = ev.make_note(analyst)
    out = assist.suggest_notes(analyst, [note])
    assert out["method"] == "keywords"
    assert out["suggestions"] > 0
    assert set(Suggestion.objects.values_list("method", flat=True)) == {"keywords"}
    body = _client(analyst).get(reverse("evidence:codebook")).content.decode()
    assert 'data-testid="model-missing"' in body
    with pytest.raises(services.EvidenceError, match="not installed"):
        assist.train_classifier(analyst)


def test_ask_me_next_lists_the_most_uncertain_first(analyst):
    note = ev.make_note(analyst)
    sure = ev.make_suggestion(analyst, note, start=0, end=36, confidence=0.98)
    unsure = ev.make_suggestion(analyst, note, start=37, end=90, confidence=0.51)
    assert [s.pk for s in assist.ask_next(analyst)] == [unsure.pk, sure.pk]
    r = _client(analyst).get(reverse("evidence:next"))
    assert r.content.decode().count('data-testid="next-item"') == 2


# --- agreement between coders -------------------------------------------------------------------


def test_the_agreement_page_shows_agreement_by_code(analyst, world):
    from tiplab.qualitative.agreement import agreement_by_code

    other = make_user("second-analyst", [ANALYST], world.home)
    k0, k1 = _code_key(analyst, 0), _code_key(analyst, 1)
    units_of = []
    for i in range(3):
        note = ev.make_note(analyst, title=f"n{i}")
        us = services.units(ev.TEXT)
        units_of.append(us)
        services.add_coding(analyst, note, us[0].start, us[0].end, k0)
        services.add_coding(other, note, us[0].start, us[0].end, k0)
        services.add_coding(analyst, note, us[1].start, us[1].end, k1)
        if i:
            services.add_coding(other, note, us[1].start, us[1].end, k1)
        else:
            services.add_coding(other, note, us[2].start, us[2].end, k1)
    # the same data, by hand: coder -> "note:sentence" -> codes
    notes = list(Note.objects.order_by("pk"))
    hand = {analyst.username: {}, other.username: {}}
    unit_ids = []
    for i, note in enumerate(notes):
        for u in units_of[i]:
            uid = f"{note.pk}:{u.index}"
            unit_ids.append(uid)
            hand[analyst.username][uid] = {k0} if u.index == 0 else {k1} if u.index == 1 \
                else set()
            hand[other.username][uid] = {k0} if u.index == 0 else (
                {k1} if (u.index == 1 and i) or (u.index == 2 and not i) else set())
    expected = agreement_by_code(hand, unit_ids, sorted({k0, k1}))
    _data, got = services.agreement(analyst.profile.organisation)
    assert got == expected
    body = _client(analyst).get(reverse("evidence:agreement")).content.decode()
    for row in expected:
        assert f'data-code="{row.code}"' in body
        assert f"{row.kappa:.3f}" in body


# --- themes and quotations ----------------------------------------------------------------------


def test_theme_counts_and_small_count_protection(analyst, policy, world):
    code = _code_key(analyst)
    region_less = [ev.make_note(analyst, title=f"n{i}", source_type="ngo") for i in range(2)]
    for n in region_less:
        services.add_coding(analyst, n, 0, 36, code)
    refused = ev.make_note(analyst, consent_analysis=False, source_type="ngo")
    Coding.objects.create(note=refused, start=0, end=10, code=code, coder=analyst)
    full = themes.theme_counts(analyst, "source_type")
    row = next(r for r in full.rows if r["code"] == code)
    assert [c.n for c in row["cells"]] == [2]  # the note without consent is not counted
    assert not full.protected
    assert row["total"].n == 2
    safe = themes.theme_counts(policy, "source_type")
    row = next(r for r in safe.rows if r["code"] == code)
    assert safe.protected
    assert row["cells"][0].suppressed
    assert safe.as_dict()["themes"][0]["counts"] == [{"suppressed": True, "below": 5}]
    body = _client(policy).get(reverse("evidence:themes") + "?by=source_type").content.decode()
    assert "fewer than 5" in body
    body = _client(analyst).get(reverse("evidence:themes") + "?by=source_type").content.decode()
    assert "fewer than 5" not in body


def test_theme_counts_at_the_threshold_are_shown(analyst, policy, settings):
    settings.TIPLAB_RELEASE_THRESHOLD = 3
    code = _code_key(analyst)
    for i in range(3):
        services.add_coding(analyst, ev.make_note(analyst, title=f"n{i}"), 0, 36, code)
    row = next(r for r in themes.theme_counts(policy, "year").rows if r["code"] == code)
    assert [c.n for c in row["cells"]] == [3]
    assert not row["cells"][0].suppressed


def test_quotations_need_consent_and_are_redacted(analyst, policy):
    no = ev.make_note(analyst)
    with pytest.raises(services.EvidenceError, match="may not be quoted"):
        services.quote(analyst, no, 0, 40)
    r = _client(analyst).post(reverse("evidence:quote", args=[no.pk]),
                              {"start": 0, "end": 40}, follow=True)
    assert "may not be quoted" in r.content.decode()
    assert not Quotation.objects.exists()
    yes = ev.make_note(analyst, consent_quote=True)
    start = ev.TEXT.index("Call my sister")
    q = services.quote(analyst, yes, start, start + 60)
    assert ev.PHONE not in q.text
    assert q.identifier == "EVQ-0001"
    ref = services.quotation_reference(q)
    assert "EVQ-0001" in ref
    assert "survivor" in ref
    assert "2023" in ref
    d = services.quotation_dict(q)
    assert d["id"] == "EVQ-0001"
    assert d["reference"] == ref
    body = _client(policy).get(reverse("evidence:themes")).content.decode()
    assert ref in body
    r = _client(policy).get(reverse("evidence:quotation", args=["EVQ-0001"]))
    assert r.json()["text"] == q.text
    # consent withdrawn: the quotation is no longer listed or served
    Note.objects.filter(pk=yes.pk).update(consent_quote=False)
    assert not services.quotations_for(policy).exists()
    assert _client(policy).get(reverse("evidence:quotation",
                                       args=["EVQ-0001"])).status_code == 404


# --- the codebook -------------------------------------------------------------------------------


def test_editing_the_codebook_makes_a_version_and_refuses_duplicates(analyst):
    c = _client(analyst)
    existing = _code_key(analyst)
    r = c.post(reverse("evidence:codebook_edit"), {
        "mode": "add", "key": existing, "label": "Twice", "group": "barriers",
        "description": "A second code with the same key.", "change": "duplicate"})
    assert r.status_code == 200
    assert existing in r.content.decode()
    assert services.codebook_version(analyst.profile.organisation).number == 1
    r = c.post(reverse("evidence:codebook_edit"), {
        "mode": "add", "key": "TH.BARRIERS.TEST", "label": "Fear of reprisals",
        "group": "barriers", "description": "Victims fear what the exploiters will do.",
        "cues": "they know where my family lives\nfear of reprisals", "change": "new code"})
    assert r.status_code == 302
    cv = services.codebook_version(analyst.profile.organisation)
    assert cv.number == 2
    cb = services.codebook_of(cv)
    assert cb.get("TH.BARRIERS.TEST").cues == ("they know where my family lives",
                                                "fear of reprisals")
    r = c.post(reverse("evidence:codebook_edit"), {
        "mode": "edit", "key": "TH.BARRIERS.TEST", "cues": "afraid of revenge",
        "change": "one more cue"})
    assert r.status_code == 302
    cb = services.codebook(analyst)
    assert cb.get("TH.BARRIERS.TEST").cues[-1] == "afraid of revenge"
    assert services.codebook_version(analyst.profile.organisation).number == 3


def test_reseal_all_moves_notes_to_a_new_key(analyst, settings):
    import os
    from pathlib import Path

    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from tiplab.config import key_dir
    from tiplab.keys import KeyRing, load_keyring

    note = ev.make_note(analyst)
    old = load_keyring(key_dir(Path(settings.DATA_DIR)))
    new = KeyRing(os.urandom(32), os.urandom(32))
    assert services.reseal_all({"": old}, new) == 1
    note.refresh_from_db()
    raw = bytes(note.sealed_text)
    assert raw[:12].decode() == new.key_id
    plain = AESGCM(new.field_key).decrypt(raw[12:24], raw[24:], note.purpose().encode())
    assert plain.decode() == ev.TEXT
    with pytest.raises(InvalidTag):
        AESGCM(new.field_key).decrypt(raw[12:24], raw[24:], b"evidence.note:999999")
