"""Approval of submissions: an agency's file changes no figure until a data steward approves
it; the steward sees what it would change, approves (a job) or returns it with a comment the
reporter reads and receives by e-mail; corrections replace the old batch only when approved."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from tests.web import test_cases_support as cs
from tests.web.conftest import sign_in

from tiplab.snapshot import open_snapshot
from tiplab_web.audit.models import AuditEntry
from tiplab_web.cases.models import ImportBatch


@pytest.fixture
def profile_key(settings, tmp_path):
    settings.DATA_DIR = tmp_path  # a snapshot of this test's own
    return cs.write_local_profile()


def _submit(client: Client, profile_key: str, text: str = cs.FIXED, name: str = "police.csv",
            **extra) -> ImportBatch:
    response = client.post(reverse("cases:intake"),
                           {"file": cs.upload(name, text), "profile": profile_key, **extra})
    assert response.status_code == 302, response.content[:2000]
    upload_id = response["Location"].rstrip("/").split("/")[-1]
    client.post(reverse("cases:intake_confirm", args=[upload_id]))
    return ImportBatch.objects.latest("imported_at")


def _version() -> str:
    try:
        return open_snapshot(Path(settings.DATA_DIR)).data_version
    except Exception:  # no snapshot yet
        return ""


def _records_panel(client: Client) -> str:
    html = client.get("/").content.decode()
    start = html.index("Records by source and year")
    return html[start:html.index("</section>", start)]


def test_a_submission_changes_no_figure_until_approved(world, client_as, profile_key):
    reporter = sign_in(Client(), world.users["agency_reporter"])
    analyst = client_as("analyst")
    steward = client_as("data_steward")
    before_version, before_panel = _version(), _records_panel(analyst)
    batch = _submit(reporter, profile_key)
    assert batch.status == ImportBatch.SUBMITTED
    assert _version() == before_version
    assert _records_panel(analyst) == before_panel
    assert "Awaiting review" in reporter.get(
        reverse("cases:batch", args=[batch.batch_id])).content.decode()
    # the steward sees it waiting, and what it would change
    assert batch.batch_id in steward.get(reverse("cases:submissions")).content.decode()
    page = steward.get(reverse("cases:batch", args=[batch.batch_id]))
    impact = page.context["impact"]
    by_source = next(rows for title, rows in impact.items() if "source agency" in title)
    mine = next(c for c in by_source if c.label == batch.source_agency)
    assert (mine.before, mine.after, mine.difference) == (0, 4, 4)
    by_year = next(rows for title, rows in impact.items() if "year" in title)
    assert sum(c.difference for c in by_year) == batch.accepted
    # an analyst cannot approve; the steward can
    assert analyst.post(reverse("cases:batch_approve",
                                args=[batch.batch_id])).status_code == 403
    response = steward.post(reverse("cases:batch_approve", args=[batch.batch_id]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportBatch.ACTIVE
    assert batch.reviewed_by == world.users["data_steward"]
    assert _version() != before_version
    assert escape(batch.source_agency) in _records_panel(analyst)
    assert AuditEntry.objects.filter(action="cases.approve", object_id=str(batch.pk),
                                     actor=world.users["data_steward"]).exists()


def test_a_returned_submission_tells_the_reporter(world, client_as, profile_key):
    reporter = sign_in(Client(), world.users["agency_reporter"])
    steward = client_as("data_steward")
    batch = _submit(reporter, profile_key)
    refused = steward.post(reverse("cases:batch_return", args=[batch.batch_id]),
                           {"comment": ""}, follow=True)
    assert "Say what the agency should correct" in refused.content.decode()
    steward.post(reverse("cases:batch_return", args=[batch.batch_id]),
                 {"comment": "Row 4: the age is 16, not 300."})
    batch.refresh_from_db()
    assert batch.status == ImportBatch.RETURNED
    page = reporter.get(reverse("cases:batch", args=[batch.batch_id])).content.decode()
    assert "Row 4: the age is 16, not 300." in page
    assert [m.to for m in mail.outbox] == [[world.users["agency_reporter"].email]]
    assert batch.batch_id in mail.outbox[0].subject
    assert AuditEntry.objects.filter(action="cases.return", object_id=str(batch.pk)).exists()
    # nothing to approve any more
    steward.post(reverse("cases:batch_approve", args=[batch.batch_id]))
    batch.refresh_from_db()
    assert batch.status == ImportBatch.RETURNED


def test_a_correction_replaces_the_old_batch_only_when_approved(world, client_as,
                                                                 profile_key):
    reporter = sign_in(Client(), world.users["agency_reporter"])
    steward = client_as("data_steward")
    first = _submit(reporter, profile_key, cs.BAD)
    steward.post(reverse("cases:batch_approve", args=[first.batch_id]))
    first.refresh_from_db()
    assert first.status == ImportBatch.ACTIVE
    response = reporter.post(reverse("cases:batch_supersede", args=[first.batch_id]),
                             {"file": cs.upload("fixed.csv", cs.FIXED), "profile": profile_key})
    upload_id = response["Location"].rstrip("/").split("/")[-1]
    reporter.post(reverse("cases:intake_confirm", args=[upload_id]))
    fix = ImportBatch.objects.get(file_name="fixed.csv")
    first.refresh_from_db()
    assert (fix.status, fix.replaces, first.status) == (ImportBatch.SUBMITTED,
                                                        first.batch_id, ImportBatch.ACTIVE)
    steward.post(reverse("cases:batch_approve", args=[fix.batch_id]))
    first.refresh_from_db()
    fix.refresh_from_db()
    assert (fix.status, first.status) == (ImportBatch.ACTIVE, ImportBatch.SUPERSEDED)
    assert fix.supersedes == first


def test_analysts_approve_their_own_imports_in_the_same_step(world, client_as, profile_key):
    batch = _submit(client_as("analyst"), profile_key)
    assert batch.status == ImportBatch.ACTIVE
    entry = AuditEntry.objects.get(action="cases.approve", object_id=str(batch.pk))
    assert entry.details.get("same_step") is True
