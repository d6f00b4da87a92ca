"""The case browser (filters, provenance, audit), identifier reveal, dashboard panels, and
import jobs running in a background thread."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from tests.web import test_cases_support as cs
from tests.web.conftest import sign_in

from tiplab.store import run_import
from tiplab_web.audit.models import AuditEntry
from tiplab_web.cases import services
from tiplab_web.cases.models import CaseRecord

SECRETS = ("Florentina", "Popescu", "26.02.1998", "1998-02-26", "+999 111")


@pytest.fixture
def imported(db):
    path = Path(settings.DATA_DIR) / "browser-test.csv"
    path.write_text(cs.BAD, encoding="utf-8")
    batch, _ = run_import(services.store(), path, services.parse(cs.PROFILE, "test"),
                          user="setup")
    return batch


def test_case_list_filters_and_is_audited(client_as, imported):
    client = client_as("analyst")
    response = client.get(reverse("cases:list"), {"sex": "Feminine", "year": 2022})
    assert response.status_code == 200
    assert response.context["total"] == 1
    html = response.content.decode()
    assert "P-1" in html
    assert imported.batch_id in html
    for secret in SECRETS:
        assert secret not in html
    entry = AuditEntry.objects.filter(action="cases.view").latest("id")
    assert entry.details["filter"] == {"sex": "Feminine", "year": 2022}
    assert entry.details["page"] == "list"
    assert client.get(reverse("cases:list"), {"sex": "Masculine"}).context["total"] == 0
    assert client.get(reverse("cases:list"), {"year": 2019}).context["total"] == 0


def test_record_page_shows_provenance_and_is_audited(client_as, imported):
    record = CaseRecord.objects.get()
    client = client_as("analyst")
    html = client.get(reverse("cases:detail", args=[record.pk])).content.decode()
    for text in (imported.batch_id, imported.file_name, "test_police", "setup",
                 f"<dd>{record.source_row}</dd>"):
        assert text in html
    for secret in SECRETS:
        assert secret not in html
    assert "Reveal identifiers" not in html  # analysts never see the button
    entry = AuditEntry.objects.filter(action="cases.view").latest("id")
    assert entry.object_id == str(record.pk)
    assert entry.details["page"] == "record"


def test_steward_reveals_identifiers_after_reauth_and_it_is_audited(world, imported):
    record = CaseRecord.objects.get()
    url = reverse("cases:reveal", args=[record.pk])
    steward = world.users["data_steward"]
    stale = sign_in(Client(), steward, reauth=False)
    page = stale.get(reverse("cases:detail", args=[record.pk])).content.decode()
    assert "Reveal identifiers" in page
    response = stale.post(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:confirm_password"))
    assert not AuditEntry.objects.filter(action="cases.reveal_identifiers").exists()

    client = sign_in(Client(), steward)
    assert client.get(url).status_code == 200  # the confirmation page
    response = client.post(url)
    assert response.status_code == 200
    html = response.content.decode()
    for secret in ("Florentina", "Popescu", "1998-02-26", "+999 111"):
        assert secret in html
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action="cases.reveal_identifiers")
    assert entry.object_id == str(record.pk)
    assert entry.details["record_id"] == "P-1"
    assert entry.actor == steward
    for secret in SECRETS:
        assert secret not in str(entry.details)


def test_analyst_cannot_reveal(client_as, imported):
    record = CaseRecord.objects.get()
    client = client_as("analyst")
    assert client.get(reverse("cases:reveal", args=[record.pk])).status_code == 403
    response = client.post(reverse("cases:reveal", args=[record.pk]))
    assert response.status_code == 403
    assert "Florentina" not in response.content.decode()
    assert not AuditEntry.objects.filter(action="cases.reveal_identifiers").exists()


def test_dashboard_panels(client_as, imported):
    client = client_as("analyst")
    home = client.get(reverse("core:home")).content.decode()
    assert "Records by source and year" in home
    assert "Recent imports" in home
    assert imported.batch_id in home  # the recent-imports panel is rendered in place
    by_source = client.get(reverse("core:panel", args=["records_by_source"])).content.decode()
    assert "<th scope=\"row\">police</th>" in by_source
    assert "2022" in by_source
    assert "<svg class=\"bar\"" in by_source  # server-side bar, no script
    fresh = client.get(reverse("core:panel", args=["data_freshness"])).content.decode()
    assert "2022-01-09" in fresh
    problems = client.get(reverse("core:panel", args=["open_problems"])).content.decode()
    assert "E_DATE_INVALID" in problems
    assert imported.batch_id in problems
    policy = client_as("policy_officer")
    assert policy.get(reverse("core:panel", args=["open_problems"])).status_code == 404
    assert policy.get(reverse("core:panel", args=["records_by_source"])).status_code == 200


