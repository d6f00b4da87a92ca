"""The safe reporting channel: the public form and the receipt code, what the database holds
(nothing in clear), wrong codes, uploads, the honeypot, proof of work, rate limits; the staff's
queue, triage, replies, duplicates, referrals and the conversion into an intake record (all or
nothing); keys; the demo."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import ClassVar

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from tests.web.reporting_support import PNG, REPORT_POST, make_report

from tiplab_web.audit.models import AuditEntry
from tiplab_web.cases.models import CaseRecord, ImportBatch
from tiplab_web.reporting import demo, intake, pow, receipts, sealing, services
from tiplab_web.reporting.models import Message, RecipientKey, Referral, Report

pytestmark = pytest.mark.django_db

CODE = re.compile(r"\b([0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){3})\b")


def _send(client: Client, **over) -> tuple[object, str | None]:
    response = client.post(reverse("report:form"), {**REPORT_POST, **over})
    found = CODE.search(response.content.decode())
    return response, found.group(1) if found else None


def _open(client: Client, code: str, **extra):
    return client.post(reverse("report:receipt"), {"code": code, **extra})


# -- the public pages ----------------------------------------------------------------------------


def test_the_form_explains_itself_and_leaves_no_trace(client):
    response = client.get(reverse("report:form"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "112" in html  # the emergency number
    assert "Never kept: your internet address" in html
    assert 'enctype="multipart/form-data"' in html
    assert "<script" not in html.split("</head>", 1)[1]  # no JavaScript needed (PoW is off)
    assert not response.cookies
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    # no resource from another site: every src/href is local, except the quick exit; and
    # none outside the anonymous routes (a /static/ request would be logged with the address)
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/", "?", "#", "data:")) or \
            url == settings.TIPLAB_QUICK_EXIT_URL, url
        assert not url.startswith("/static/"), url


def test_french_page_from_the_query_not_a_cookie(client):
    english = client.get(reverse("report:form") + "?lang=en")  # the blank page is kept
    response = client.get(reverse("report:form") + "?lang=fr")  # per language
    assert response["Content-Language"] == "fr"
    assert 'name="lang" value="fr"' in response.content.decode()
    assert '<html lang="fr">' in response.content.decode()
    assert 'name="lang" value="en"' in english.content.decode()
    assert not response.cookies


def test_submit_read_the_receipt_and_add_information(client):
    response, code = _send(client, what="They took our passports.", in_danger="yes")
    assert response.status_code == 200
    assert code is not None
    html = response.content.decode()
    assert "Write this code down" in html
    assert "You said someone may be in danger now" in html
    assert "112" in html
    assert not response.cookies
    report = Report.objects.get()
    assert report.in_danger
    assert report.status == "new"
    assert report.received_at.minute == 0
    assert report.received_at.second == 0

    # the code is never in a URL: the receipt page takes it by POST only
    assert code not in reverse("report:receipt")
    back = _open(client, code.lower().replace("-", " "))  # forgiving about case and dashes
    assert back.status_code == 200
    assert "No reply yet" in back.content.decode()
    # the reporter's own text is not shown back (a coerced code reveals little)
    assert "They took our passports." not in back.content.decode()

    added = _open(client, code, action="add", text="The van is white.")
    assert added.status_code == 200
    assert "What you added has been received" in added.content.decode()
    msg = Message.objects.get()
    assert msg.kind == "followup"
    report.refresh_from_db()
    assert report.needs_attention  # flagged for the staff until they open it
    assert services.open_report(None, report)["thread"][0]["text"] == "The van is white."
    report.refresh_from_db()
    assert not report.needs_attention


def test_staff_reply_is_read_with_the_code(client, world):
    report, code = make_report()
    services.reply(world.users["data_steward"], report, "We have passed this on safely.")
    services.note(world.users["data_steward"], report, "INTERNAL: call the police liaison")
    html = _open(client, code).content.decode()
    assert "We have passed this on safely." in html
    assert "INTERNAL" not in html  # notes stay with the staff


def test_the_database_holds_no_report_text_in_clear(client, world):
    marks = ["SECRETWHATMARK", "SECRETWHEREMARK", "SECRETCONTACTMARK", "SECRETFILEMARK",
             "SECRETFOLLOWMARK", "SECRETREPLYMARK", "SECRETNOTEMARK"]
    response, code = _send(client, what=f"text {marks[0]}", where=marks[1], contact=marks[2],
                           attachment=SimpleUploadedFile("notes.txt",
                                                         f"file {marks[3]}".encode()))
    assert response.status_code == 200, response.content.decode()[:2000]
    assert code is not None
    _open(client, code, action="add", text=marks[4])
    report = Report.objects.get()
    services.reply(world.users["data_steward"], report, marks[5])
    services.note(world.users["data_steward"], report, marks[6])
    staff = Client()
    from tests.web.conftest import sign_in
    sign_in(staff, world.users["data_steward"])
    assert marks[0] in staff.get(reverse("reporting:detail", args=[report.pk])).content.decode()

    normalised = receipts.normalise(code)
    assert normalised is not None
    needles = [m.encode() for m in marks] + [code.encode(), normalised.encode()]
    found = []
    with connection.cursor() as cur:
        for table in connection.introspection.table_names(cur):
            cur.execute(f'SELECT * FROM "{table}"')
            for row in cur.fetchall():
                for value in row:
                    blob = (bytes(value) if isinstance(value, bytes | memoryview)
                            else str(value).encode())
                    found += [(table, n) for n in needles if n in blob]
    assert found == []
    # and it is all there for the staff, sealed
    opened = services.open_report(None, report)
    assert opened["body"]["where"] == marks[1]
    assert opened["body"]["contact"] == marks[2]


def test_wrong_codes_get_one_neutral_answer(client):
    _report, good = make_report()
    answers = set()
    for wrong in ["", "nonsense", "UUUUU-UUUUU-UUUUU-UUUUU", receipts.new_code(),
                  good[:-1] + ("0" if good[-1] != "0" else "1")]:
        response = _open(client, wrong)
        text = response.content.decode()
        answers.add((response.status_code, "No report could be opened with this code" in text))
    assert answers == {(400, True)}
    # a wrong code cannot add information either
    added = _open(client, receipts.new_code(), action="add", text="spam")
    assert added.status_code == 400
    assert Message.objects.count() == 0


def test_too_many_wrong_codes_get_a_clear_429(client, settings):
    settings.TIPLAB_RATE_LIMITS = {**settings.TIPLAB_RATE_LIMITS, "anon_receipt": (3, 600)}
    for _ in range(3):
        assert _open(client, receipts.new_code()).status_code == 400
    response = _open(client, receipts.new_code())
    assert response.status_code == 429
    assert "Please try again in" in response.content.decode()
    assert int(response["Retry-After"]) > 0


def test_too_many_reports_get_a_clear_429_and_nothing_is_kept(client, settings):
    settings.TIPLAB_RATE_LIMITS = {**settings.TIPLAB_RATE_LIMITS, "anon_submit": (2, 600)}
    assert _send(client)[0].status_code == 200
    assert _send(client)[0].status_code == 200
    response, code = _send(client, what="third")
    assert response.status_code == 429
    assert code is None
    assert "Nothing you typed was saved" in response.content.decode()
    assert Report.objects.count() == 2


def test_oversized_upload_is_refused_with_the_limit(client, settings):
    settings.TIPLAB_REPORT_ATTACHMENT_MB = 1
    big = SimpleUploadedFile("big.png", PNG + b"\0" * (1024 * 1024))
    response, code = _send(client, attachment=big)
    assert response.status_code == 400
    assert code is None
    assert "larger than 1 MB" in response.content.decode()
    assert Report.objects.count() == 0


def test_binary_upload_is_refused_whatever_its_name(client):
    exe = SimpleUploadedFile("holiday.jpg", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\xff\xff")
    response, code = _send(client, attachment=exe)
    assert response.status_code == 400
    assert code is None
    assert "This kind of file cannot be accepted" in response.content.decode()
    assert Report.objects.count() == 0


def test_upload_is_recognised_by_content_and_never_touches_the_disk(client, monkeypatch):
    from django.core.files import uploadhandler

    def no_temp_files(*args, **kwargs):
        raise AssertionError("an upload was about to be written to a temporary file")

    monkeypatch.setattr(uploadhandler.TemporaryFileUploadHandler, "new_file", no_temp_files)
    # 3 MB: beyond Django's 2.5 MB in-memory threshold, within the 5 MB limit
    photo = SimpleUploadedFile("scan.txt", PNG + b"\1" * (3 * 1024 * 1024))
    response, code = _send(client, attachment=photo)
    assert response.status_code == 200
    assert code is not None
    att = Report.objects.get().attachments.get()
    assert att.kind == "image"
    name, ctype, data = services.read_attachment(None, att)
    assert (name, ctype, len(data)) == ("scan.txt", "image/png", len(PNG) + 3 * 1024 * 1024)


def test_honeypot_refuses_robots(client):
    response, code = _send(client, website="http://spam.example")
    assert response.status_code == 400
    assert code is None
    assert "must stay empty" in response.content.decode()
    assert Report.objects.count() == 0


def test_missing_answers_say_which(client):
    response = client.post(reverse("report:form"), {"in_danger": "no", "what": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert html.count('class="error"') >= 2  # who is reporting, what happened
    assert Report.objects.count() == 0


def test_proof_of_work_when_switched_on(client, settings):
    settings.TIPLAB_REPORT_POW_BITS = 8
    page = client.get(reverse("report:form")).content.decode()
    assert "pow.js" in page
    assert 'data-pow="8"' in page
    challenge = re.search(r'name="pow_challenge" value="([^"]+)"', page).group(1)
    refused, code = _send(client, pow_challenge=challenge, pow_counter="")
    assert refused.status_code == 400
    assert code is None
    assert "needs JavaScript" in refused.content.decode()
    counter = pow.solve(challenge)
    ok, code = _send(client, pow_challenge=challenge, pow_counter=counter)
    assert ok.status_code == 200
    assert code is not None
    again, code = _send(client, pow_challenge=challenge, pow_counter=counter)
    assert again.status_code == 400
    assert code is None
    assert not pow.verify("forged:challenge", "0")


# -- receipts and keys ---------------------------------------------------------------------------


def test_receipt_codes():
    code = receipts.new_code()
    assert CODE.fullmatch(code)
    assert receipts.ENTROPY_BITS == 100
    assert len(receipts.ALPHABET) == 32
    assert receipts.normalise(code.lower().replace("-", "")) == code.replace("-", "")
    assert receipts.normalise("OIL00-00000-00000-00000") == "01100000000000000000"
    assert receipts.normalise("too short") is None
    assert receipts.digest(code) == receipts.digest(code.lower())
    assert len({receipts.new_code() for _ in range(1000)}) == 1000


def test_content_is_sealed_to_every_active_key_and_bound_to_its_row(tmp_path):
    make_report()  # creates the first server key
    first = RecipientKey.objects.get()
    assert oct(sealing.private_path(first.key_id).stat().st_mode & 0o777) == "0o600"
    second = sealing.create_key("second")
    report, _code = make_report("two keys")
    assert sealing.recipients_of(report.body) == [first.key_id, second.key_id]
    # the first key's private file gone (say, that server lost it): the second opens it
    path = sealing.private_path(first.key_id)
    saved = path.read_bytes()
    path.unlink()
    try:
        assert services.open_report(None, report)["body"]["what"] == "two keys"
    finally:
        path.write_bytes(saved)
        path.chmod(0o600)
    # a box moved to another report does not open there
    other, _ = make_report("other")
    with pytest.raises(sealing.SealError):
        sealing.unseal(other.body, f"report:{report.uid}")
    sealing.retire_key(first.key_id)
    assert sealing.recipients_of(make_report()[0].body) == [second.key_id]
    with pytest.raises(sealing.KeyManagementError):
        sealing.retire_key(second.key_id)  # the last key the server can read with


def test_offline_recipient_and_the_key_command(capsys):
    from nacl.public import PrivateKey

    offline = PrivateKey.generate()
    public = base64.b64encode(bytes(offline.public_key)).decode()
    call_command("reporting_keys", "create", "--label", "server")
    call_command("reporting_keys", "add", "--public", public, "--label", "air-gapped")
    out = capsys.readouterr().out
    assert "created" in out
    assert "added" in out
    report, _ = make_report("for the offline key too")
    from nacl.public import SealedBox

    kid = sealing.key_id_of(bytes(offline.public_key))
    box = dict(sealing._boxes(report.body))[kid]
    plain = SealedBox(offline).decrypt(box)
    assert json.loads(plain.split(b"\0", 1)[1])["what"] == "for the offline key too"
    call_command("reporting_keys", "list")
    listed = capsys.readouterr().out
    assert "private key held elsewhere" in listed
    assert "air-gapped" in listed
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="32 bytes"):
        call_command("reporting_keys", "add", "--public", "bm90IGEga2V5")


# -- the staff's side ----------------------------------------------------------------------------


def test_queue_puts_danger_first_and_outsiders_see_nothing(world, client_as):
    calm, _ = make_report("calm")
    urgent, _ = make_report("urgent", in_danger=True)
    later, _ = make_report("later")
    services.triage(world.users["data_steward"], later, status="triage", urgency="high",
                    category="")
    html = client_as("data_steward").get(reverse("reporting:index")).content.decode()
    order = [m for m in re.findall(r"R-\d{5}", html)]
    assert order == [urgent.ref, later.ref, calm.ref]
    from tests.web.conftest import sign_in

    outsider = sign_in(Client(), world.outsiders["data_steward"])
    assert "R-0" not in outsider.get(reverse("reporting:index")).content.decode()
    assert outsider.get(reverse("reporting:detail", args=[urgent.pk])).status_code == 404


def test_opening_a_report_is_audited_and_text_is_escaped(world, client_as):
    report, _ = make_report("<script>alert('x')</script> & more")
    client = client_as("data_steward")
    html = client.get(reverse("reporting:detail", args=[report.pk])).content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in html
    assert "<script>alert" not in html
    entry = AuditEntry.objects.filter(action="reporting.view").get()
    assert entry.object_id == str(report.pk)
    assert entry.actor == world.users["data_steward"]
    assert "script" not in json.dumps(entry.details)  # no report text in the audit log


def test_triage_reply_note_referral(world, client_as):
    report, code = make_report()
    client = client_as("data_steward")
    url = reverse("reporting:triage", args=[report.pk])
    client.post(url, {"status": "triage", "urgency": "immediate", "category": "forced_labour"})
    report.refresh_from_db()
    assert (report.status, report.urgency, report.category) == \
        ("triage", "immediate", "forced_labour")
    bad = client.post(url, {"status": "duplicate", "urgency": "x"}, follow=True)
    assert "Select a valid choice" in bad.content.decode()
    client.post(reverse("reporting:reply", args=[report.pk]), {"text": "We are on it."})
    client.post(reverse("reporting:note", args=[report.pk]), {"text": "Spoke to NGO."})
    kinds = list(report.messages.values_list("kind", flat=True))
    assert kinds == ["reply", "note"]
    assert "We are on it." in _open(Client(), code).content.decode()
    future = client.post(reverse("reporting:refer", args=[report.pk]),
                         {"to": "ngo", "organisation": "Shelter NGO", "on": "2999-01-01"},
                         follow=True)
    assert "in the future" in future.content.decode()
    assert not Referral.objects.exists()
    client.post(reverse("reporting:refer", args=[report.pk]),
                {"to": "ngo", "organisation": "Shelter NGO", "on": "2025-03-01"})
    ref = Referral.objects.get()
    assert (ref.to, ref.organisation, str(ref.referred_on)) == ("ngo", "Shelter NGO",
                                                                "2025-03-01")
    report.refresh_from_db()
    assert report.status == "referred"
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"reporting.triage", "reporting.reply", "reporting.note",
            "reporting.refer"} <= actions


def test_duplicates(world, client_as):
    first, _ = make_report("first")
    second, _ = make_report("second")
    third, _ = make_report("third")
    client = client_as("data_steward")
    client.post(reverse("reporting:duplicate", args=[second.pk]), {"original": first.ref})
    second.refresh_from_db()
    assert second.status == "duplicate"
    assert second.duplicate_of == first
    # a duplicate of a duplicate points at the original
    client.post(reverse("reporting:duplicate", args=[third.pk]), {"original": second.ref})
    third.refresh_from_db()
    assert third.duplicate_of == first
    self_dup = client.post(reverse("reporting:duplicate", args=[first.pk]),
                           {"original": first.ref}, follow=True)
    assert "cannot be a duplicate of itself" in self_dup.content.decode()
    missing = client.post(reverse("reporting:duplicate", args=[first.pk]),
                          {"original": "R-99999"}, follow=True)
    assert "there is no report R-99999" in missing.content.decode()


def test_conversion_makes_one_intake_record_with_provenance(world, client_as):
    report, _ = make_report("They work in the fields without pay.")
    client = client_as("data_steward")
    url = reverse("reporting:convert", args=[report.pk])
    refused = client.post(url, {}, follow=True)
    assert "category to a form of exploitation before converting" in refused.content.decode()
    assert not ImportBatch.objects.exists()
    services.triage(world.users["data_steward"], report, status="triage", urgency="high",
                    category="forced_labour")
    bad_country = client.post(url, {"country_of_exploitation": "XYZ"}, follow=True)
    assert "XYZ is not an ISO 3166-1 alpha-3 country code" in bad_country.content.decode()
    done = client.post(url, {"country_of_exploitation": "fra", "sex": "Feminine"}, follow=True)
    assert "Intake record created" in done.content.decode()
    rec = CaseRecord.objects.get()
    assert (rec.source_agency, rec.record_id) == ("report", f"report-{report.pk}")
    assert rec.batch.status == ImportBatch.ACTIVE
    assert rec.batch.source_agency == "report"
    report.refresh_from_db()
    assert report.case_record == rec
    assert report.case_batch == rec.batch.batch_id
    assert report.converted_by == world.users["data_steward"]
    assert "fields without pay" not in json.dumps(CaseRecord.objects.values().get(),
                                                  default=str)
    again = client.post(url, {}, follow=True)
    assert "already an intake record" in again.content.decode()
    assert CaseRecord.objects.count() == 1
    assert {"cases.import", "reporting.convert"} <= set(
        AuditEntry.objects.values_list("action", flat=True))


def test_conversion_failing_midway_saves_nothing(world, monkeypatch):
    report, _ = make_report()
    steward = world.users["data_steward"]
    services.triage(steward, report, status="triage", urgency="", category="begging")

    snapshot = Path(settings.DATA_DIR) / "snapshot"
    seen = {}

    def broken(*args, **kwargs):
        # the batch, its record and its snapshot file exist at this point
        assert CaseRecord.objects.filter(record_id=f"report-{report.pk}").exists()
        seen["batch"] = ImportBatch.objects.get().batch_id
        assert (snapshot / "batches" / f"case-{seen['batch']}.parquet").exists()
        raise RuntimeError("disk unplugged")

    monkeypatch.setattr(intake, "_link", broken)

    class Request:
        user = steward
        META: ClassVar[dict[str, str]] = {}

    with pytest.raises(RuntimeError, match="disk unplugged"):
        intake.convert(Request(), report, intake.IntakeFields())
    assert not ImportBatch.objects.exists()
    assert not CaseRecord.objects.exists()
    report.refresh_from_db()
    assert report.case_record is None
    assert report.case_batch == ""
    assert not AuditEntry.objects.filter(action="cases.import").exists()
    # the snapshot was brought back in line: no file and no manifest entry for the batch
    assert not (snapshot / "batches" / f"case-{seen['batch']}.parquet").exists()
    assert seen["batch"] not in (snapshot / "manifest.json").read_text()


def test_attachment_is_a_download_and_audited(world, client_as):
    report, _ = make_report(attachment=True)
    att = report.attachments.get()
    response = client_as("data_steward").get(reverse("reporting:attachment", args=[att.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="photo.png"'
    assert response.content == PNG
    assert AuditEntry.objects.filter(action="reporting.attachment").count() == 1


# -- the demo ------------------------------------------------------------------------------------


def test_demo_loads_two_reports_once(world, client_as):
    assert demo.load(world.users["data_steward"]) == 2
    assert demo.load() == 0
    assert Report.objects.count() == 2
    urgent = services.find(demo.URGENT_CODE)
    assert urgent is not None
    assert urgent.in_danger
    answered = services.find(demo.FOLLOWUP_CODE)
    assert answered is not None
    assert sorted(answered.messages.values_list("kind", flat=True)) == ["followup", "reply"]
    html = client_as("data_steward").get(reverse("reporting:index")).content.decode()
    assert urgent.ref in html
    assert answered.ref in html
    thread = _open(Client(), demo.FOLLOWUP_CODE).content.decode()
    assert "A labour inspector" in thread
