"""The screening app: upload → job → items (sealed, whole or nothing), the review queue (full
text audited), review actions and their permissions, the flags export (no text, audited),
case-record links, and the demo."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from tests.web import screening_support as support
from tests.web.screening_support import csv_bytes

from tiplab_web.audit.models import AuditEntry
from tiplab_web.jobs.models import Job
from tiplab_web.screening import services
from tiplab_web.screening.models import ScreeningBatch, ScreeningItem

pytestmark = pytest.mark.django_db

ADS = [
    ("ad-1", "Hostess work in Dubai. No experience needed! Earn 1500 EUR a week, cash. "
             "Travel and visa paid by us. Your passport is handled by our agency."),
    ("ad-2", "Accountant (m/f) in Vienna. Requirements: a degree in accounting and three "
             "years of experience. Salary according to the collective agreement."),
    ("ad-3", "Strawberry picking in Valencia. Costs of travel deducted from the first "
             "salaries. The agency keeps your documents safe during the contract. Leave this "
             "week!"),
    ("ad-4", "Bus driver wanted, part-time. We ask for a valid driving licence. Pay 16 EUR "
             "gross per hour, registered employer."),
]


def _upload(client, data: bytes, **fields):
    form = {"title": "Adverts", "kind": "texts", "id_column": "id", "text_column": "text",
            "threshold": "0.5", **fields,
            "file": SimpleUploadedFile("ads.csv", data, content_type="text/csv")}
    return client.post(reverse("screening:new"), form)


def _screened(client) -> ScreeningBatch:
    response = _upload(client, csv_bytes(ADS))
    assert response.status_code == 302, response.content[:500]
    return ScreeningBatch.objects.get()


# -- upload ------------------------------------------------------------------------------

def test_upload_screens_the_batch_in_a_job(client_as):
    batch = _screened(client_as("analyst"))
    assert batch.status == "done", batch.error
    job = Job.objects.get(kind="screening.run")
    assert job.status == "succeeded"
    assert job.params == {"batch": batch.pk}
    assert batch.job_id == str(job.pk)
    assert batch.rows == batch.accepted == batch.screened == 4
    assert batch.items.count() == 4
    assert batch.method in ("zero-shot", "classifier", "keywords")
    assert batch.codebook_hash
    assert batch.sealed_rows is None
    assert AuditEntry.objects.filter(action="screening.batch.create",
                                     object_id=str(batch.pk)).exists()


@pytest.mark.parametrize(("data", "fields", "message"), [
    (b"", {}, "The submitted file is empty"),
    (b"id,text\n", {}, "header but no rows"),
    (csv_bytes(ADS, header=("ref", "body")), {}, "no column “id”"),
    (csv_bytes(ADS, header=("ref", "body")), {"text_column": "body"}, "no column “id”"),
    (b"id,text\na,\nb,\n", {}, "None of the 2 rows can be screened; row 1"),
])
def test_bad_uploads_are_refused_with_the_reason_and_nothing_saved(client_as, data, fields,
                                                                   message):
    response = _upload(client_as("analyst"), data, **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ScreeningBatch.objects.exists()
    assert not Job.objects.exists()


def test_huge_upload_is_refused(client_as, monkeypatch):
    from tiplab_web.screening import forms

    monkeypatch.setattr(forms, "MAX_BYTES", 50)
    response = _upload(client_as("analyst"), csv_bytes(ADS))
    assert response.status_code == 400
    assert "Split it into several files" in response.content.decode()
    assert not ScreeningBatch.objects.exists()


def test_a_failing_job_leaves_no_items(client_as, monkeypatch):
    """The core fails half way (on the second chunk): the batch is failed, no item is kept,
    the job says why."""
    import tiplab.qualitative.screen as core
    from tiplab.errors import TiplabError

    real = core.screen
    calls = []

    def flaky(rows, suggester, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise TiplabError("the model broke down on chunk 2")
        return real(rows, suggester, **kw)

    monkeypatch.setattr(core, "screen", flaky)
    monkeypatch.setattr(services, "CHUNK", 2)
    client = client_as("analyst")
    response = _upload(client, csv_bytes(ADS))
    assert response.status_code == 302
    batch = ScreeningBatch.objects.get()
    assert batch.status == "failed"
    assert "chunk 2" in batch.error
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "the model broke down on chunk 2" in page.content.decode()
    assert client.get(reverse("screening:export", args=[batch.pk])).status_code == 404
    assert not ScreeningItem.objects.exists()
    job = Job.objects.get(kind="screening.run")
    assert job.status == "failed"
    assert "chunk 2" in job.error


def test_a_failure_while_saving_leaves_no_items(client_as, monkeypatch):
    """Sealing the third text fails after the items were inserted: all roll back."""
    real = services.seal_text
    n = {"calls": 0}

    def seal(text, purpose):
        if purpose.startswith("screening.item:"):
            n["calls"] += 1
            if n["calls"] == 3:
                raise RuntimeError("disk full")
        return real(text, purpose)

    monkeypatch.setattr(services, "seal_text", seal)
    _upload(client_as("analyst"), csv_bytes(ADS))
    batch = ScreeningBatch.objects.get()
    assert batch.status == "failed"
    assert not ScreeningItem.objects.exists()
    assert Job.objects.get(kind="screening.run").status == "failed"


# -- sealing, counts -----------------------------------------------------------------------

def _all_database_text() -> str:
    chunks = []
    with connection.cursor() as cur:
        for table in ("screening_screeningbatch", "screening_screeningitem", "jobs_job",
                      "audit_auditentry"):
            cur.execute(f"SELECT * FROM {table}")
            for row in cur.fetchall():
                for v in row:
                    chunks.append(bytes(v).decode("latin-1") if isinstance(
                        v, bytes | memoryview) else str(v))
    return "\n".join(chunks)


def test_texts_are_sealed_at_rest(client_as):
    batch = _screened(client_as("analyst"))
    dump = _all_database_text()
    for _id, text in ADS:
        for fragment in (text[:25], "passport is handled", "collective agreement"):
            assert fragment not in dump
    item = batch.items.get(external_id="ad-1")
    assert services.open_text(item.sealed_text, item.purpose) == ADS[0][1]
    other = batch.items.get(external_id="ad-2")
    with pytest.raises(services_seal_error()):
        services.open_text(item.sealed_text, other.purpose)


def services_seal_error():
    from tiplab_web.core.sealed import SealError

    return SealError


def test_batch_counts_equal_the_core_screen_report(client_as, settings):
    from tiplab.qualitative.screen import screen

    batch = _screened(client_as("analyst"))
    suggester, _cb, _clf = services.build_suggester(batch.organisation, batch.threshold)
    flags, report = screen(ADS, suggester, threshold=batch.threshold)
    assert batch.screened == report.texts == 4
    assert batch.flagged == report.flagged
    assert batch.report["by_code"] == dict(report.by_code)
    assert batch.method == report.method
    summary = services.summary(batch)
    assert {c["code"]: c["n"] for c in summary["by_code"]} == {
        k: v for k, v in report.by_code.items() if v}
    assert summary["flagged"] == report.flagged
    flagged_ids = {f.id for f in flags if f.codes}
    assert set(batch.items.filter(flagged=True).values_list("external_id", flat=True)) == \
        flagged_ids
    page = client_as("analyst").get(reverse("screening:batch", args=[batch.pk]))
    assert f'data-testid="flagged">{report.flagged}<' in page.content.decode()


def test_the_organisations_codebook_version_is_used(client_as, world):
    """The evidence app's latest codebook version of the organisation (here: a shortened
    one) is what the batch is screened with — its forced-labour indicators, as no classifier
    is trained — and its hash is recorded."""
    from tiplab.qualitative.codebook import Codebook, default_codebook
    from tiplab.qualitative.evaluate import restrict
    from tiplab_web.evidence.models import CodebookVersion

    base = default_codebook()
    cb = Codebook(name=base.name, version="org-2", codes=base.codes[:3])
    for n, book in enumerate((base, cb), start=1):
        CodebookVersion.objects.create(organisation=world.home, number=n,
                                       data=book.as_dict(), content_hash=book.content_hash())
    batch = _screened(client_as("analyst"))
    assert batch.codebook_hash == restrict(cb, group="forced_labour").content_hash()
    assert batch.codebook_version == "org-2"
    used = {c for codes in batch.items.values_list("codes", flat=True) for c in codes}
    assert used <= set(cb.keys())
    assert services.classifier_for(world.home) is None  # none trained


# -- queue, audit, review -----------------------------------------------------------------

def test_queue_shows_full_text_and_audits_the_read(client_as, world):
    batch = support.make_batch(world.users["analyst"])
    before = AuditEntry.objects.filter(action="screening.item.read").count()
    page = client_as("data_steward").get(reverse("screening:queue", args=[batch.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "passport is handled by our agency" in body
    assert "collective agreement" not in body  # ad-2 is not flagged: not in the queue
    entries = AuditEntry.objects.filter(action="screening.item.read")
    assert entries.count() == before + 1
    e = entries.latest("id")
    assert e.object_id == str(batch.pk)
    assert e.details["items"] == [batch.items.get(external_id="ad-1").pk]
    assert e.actor == world.users["data_steward"]


def test_queue_filters_by_code_and_status(client_as, world):
    batch = support.make_batch(world.users["analyst"])
    c = client_as("analyst")
    assert "ad-1" in c.get(reverse("screening:queue", args=[batch.pk]),
                           {"code": "FL01"}).content.decode()
    assert "ad-1" not in c.get(reverse("screening:queue", args=[batch.pk]),
                               {"code": "FL99"}).content.decode()
    assert "ad-1" not in c.get(reverse("screening:queue", args=[batch.pk]),
                               {"status": "confirmed"}).content.decode()


def test_review_actions_change_status_and_are_audited(client_as, world):
    batch = support.make_batch(world.users["analyst"])
    item = batch.items.get(external_id="ad-1")
    c = client_as("analyst")
    url = reverse("screening:review", args=[item.pk])
    r = c.post(url, {"action": "confirm", "note": "clear lures"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert f'data-testid="status-{item.pk}">confirmed<' in r.content.decode()
    item.refresh_from_db()
    assert (item.review_status, item.review_note, item.reviewer) == (
        "confirmed", "clear lures", world.users["analyst"])
    assert AuditEntry.objects.filter(action="screening.item.review",
                                     object_id=str(item.pk)).exists()
    # escalating needs a note; the card comes back with the error
    r = c.post(url, {"action": "escalate", "note": ""}, HTTP_HX_REQUEST="true")
    assert r.status_code == 400
    assert "note is required" in r.content.decode()
    item.refresh_from_db()
    assert item.review_status == "confirmed"
    # without htmx: back to the queue
    r = c.post(url, {"action": "dismiss"})
    assert r.status_code == 302
    assert r["Location"].endswith(f"#item-{item.pk}")
    item.refresh_from_db()
    assert item.review_status == "dismissed"
    r = c.post(url, {"action": "reopen"})
    item.refresh_from_db()
    assert (item.review_status, item.reviewer) == ("pending", None)


def test_review_permissions(client_as, world):
    batch = support.make_batch(world.users["analyst"])
    item = batch.items.get(external_id="ad-1")
    url = reverse("screening:review", args=[item.pk])
    for role in ("policy_officer", "agency_reporter", "administrator"):
        assert client_as(role).post(url, {"action": "confirm"}).status_code == 403
    from django.test import Client
    from tests.web.conftest import sign_in

    outsider = sign_in(Client(), world.outsiders["analyst"])
    assert outsider.post(url, {"action": "confirm"}).status_code == 404
    assert outsider.get(reverse("screening:queue", args=[batch.pk])).status_code == 404
    item.refresh_from_db()
    assert item.review_status == "pending"


def test_queue_without_review_capability_shows_no_text(world, monkeypatch):
    """A role that may view but not review sees flags only (no such role today: patched)."""
    from django.test import RequestFactory

    batch = support.make_batch(world.users["analyst"])
    monkeypatch.setattr(services, "may_read_full", lambda user: False)
    req = RequestFactory().get("/")
    req.user = world.users["analyst"]
    before = AuditEntry.objects.count()
    assert services.read_texts(req, batch, batch.items.all()) == {}
    assert AuditEntry.objects.count() == before


# -- export --------------------------------------------------------------------------------

def test_export_has_flags_but_no_text_and_is_audited(client_as, world):
    batch = support.make_batch(world.users["analyst"])
    r = client_as("analyst").get(reverse("screening:export", args=[batch.pk]))
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    body = r.content.decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["id", "flagged", "codes", "top_code", "score", "review_status"]
    assert rows[1:] == [["ad-1", "1", "FL01", "FL01", "0.8000", "pending"],
                        ["ad-2", "0", "", "", "0.1000", "pending"]]
    for text in support.TEXTS.values():
        assert text[:20] not in body
    e = AuditEntry.objects.filter(action="screening.export").latest("id")
    assert e.object_id == str(batch.pk)
    assert e.details["rows"] == 2


def test_export_asks_for_the_password_again(client_as, world):
    batch = support.make_batch(world.users["analyst"])
    r = client_as("analyst", reauth=False).get(reverse("screening:export", args=[batch.pk]))
    assert r.status_code == 302
    assert "confirm" in r["Location"]
    assert not AuditEntry.objects.filter(action="screening.export").exists()


# -- case narratives ------------------------------------------------------------------------

def test_narrative_items_link_to_their_case_record(client_as, world):
    from tests.web.test_cases_support import agency_of
    from tests.web.test_cases_support import make_batch as make_import

    analyst = world.users["analyst"]
    record = make_import(world, analyst).cases.get()
    agency = agency_of(analyst)
    batch = support.make_batch(analyst, kind="case_narratives",
                               items={"P-1": "She was promised a job abroad.",
                                      "P-9": "He was told to repay the debt."},
                               flagged=("P-1", "P-9"), agency=agency)
    body = client_as("analyst").get(reverse("screening:queue", args=[batch.pk])).content.decode()
    assert reverse("cases:detail", args=[record.pk]) in body
    assert "not among the imported records you may see" in body  # P-9 has no record


def test_narratives_upload_uses_the_simulator_layout(client_as, monkeypatch):
    from tiplab.qualitative import screen as core

    real, units = core.screen, []

    def spy(rows, suggester, **kw):
        units.append(kw.get("unit"))
        return real(rows, suggester, **kw)

    monkeypatch.setattr(core, "screen", spy)
    data = csv_bytes([("police", "P-1", ADS[0][1]), ("ngo", "N-7", ADS[1][1])],
                     header=("source_agency", "record_id", "text"))
    r = _upload(client_as("analyst"), data, kind="case_narratives", id_column="",
                text_column="")
    assert r.status_code == 302
    batch = ScreeningBatch.objects.get()
    assert batch.status == "done", batch.error
    assert sorted(batch.items.values_list("external_id", "source_agency", "record_id")) == [
        ("ngo:N-7", "ngo", "N-7"), ("police:P-1", "police", "P-1")]
    assert units == ["sentences"]  # a narrative states several indicators: one per sentence
    assert _upload(client_as("analyst"), csv_bytes(ADS)).status_code == 302
    assert units[-1] == "text"  # an advertisement is scored as one text


# -- demo ------------------------------------------------------------------------------------

def test_adverts_generator_is_seeded_and_mixed():
    from tiplab_web.screening import adverts

    a, b = adverts.generate(50), adverts.generate(50)
    assert a == b
    assert sum(x.deceptive for x in a) == 20
    assert all(x.indicators for x in a if x.deceptive)
    assert adverts.generate(50, seed=1) != a
    rows = list(csv.reader(io.StringIO(adverts.to_csv(a).decode())))
    assert rows[0] == ["id", "text"]
    assert len(rows) == 51


def test_demo_load_is_idempotent(world, settings, tmp_path):
    from tests.web.conftest import make_user

    from tiplab_web.accounts.models import Profile
    from tiplab_web.screening import demo

    settings.DATA_DIR = tmp_path
    make_user("demo-analyst", ["analyst"], world.home)
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "narratives.csv").write_bytes(csv_bytes(
        [("police", "P-1", ADS[0][1]), ("police", "P-2", ADS[1][1])],
        header=("source_agency", "record_id", "text")))
    made = demo.load()
    assert made is not None
    assert made["adverts"]["status"] == "done"
    truth = made["adverts"]["against_truth"]
    assert sum(truth.values()) == demo.N_ADS
    assert made["narratives"]["status"] == "done"
    assert demo.load() is None
    assert ScreeningBatch.objects.count() == 2
    assert Profile.objects.filter(user__username="demo-analyst").exists()
