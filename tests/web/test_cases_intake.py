"""Data intake pages: upload, profile editor, preview in context, import (audited),
duplicates, corrected files, supersede, rejects CSV, reporter isolation."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from tests.web import test_cases_support as cs
from tests.web.conftest import sign_in

from tiplab_web.audit.models import AuditEntry
from tiplab_web.cases.models import ImportBatch


@pytest.fixture
def profile_key():
    return cs.write_local_profile()


def _upload(client, profile_key, text=cs.BAD, name="police.csv", **extra):
    response = client.post(reverse("cases:intake"),
                           {"file": cs.upload(name, text), "profile": profile_key, **extra})
    assert response.status_code == 302, response.content[:2000]
    return response["Location"]


def _import(client, preview_url):
    upload_id = preview_url.rstrip("/").split("/")[-1]
    response = client.post(reverse("cases:intake_confirm", args=[upload_id]), follow=True)
    assert response.status_code == 200
    return response


def test_preview_shows_errors_in_context_with_identifiers_hidden(client_as, profile_key):
    client = client_as("analyst")
    preview = client.get(_upload(client, profile_key))
    html = preview.content.decode()
    s = preview.context["preview"]["summary"]
    assert (s["rows"], s["accepted"], s["rejected"]) == (4, 1, 3)
    reasons = {r["code"]: r["count"] for r in preview.context["preview"]["by_reason"]}
    assert reasons["E_DATE_INVALID"] == 1
    assert reasons["E_CODE_UNKNOWN"] == 1
    columns = {c["column"] for c in preview.context["preview"]["by_column"]}
    assert {"Registered", "Sex", "Age", "Nationality"} <= columns
    # the offending cell is marked in its row, with the message
    assert '<td class="cell--error" title="row 3, column &#x27;Registered&#x27;' in html
    assert "<mark>31.02.2022</mark>" in html
    assert "<mark>Q</mark>" in html
    # identifier columns (names, date of birth, phone) never appear
    for secret in ("Kovalenko", "Oleksandr", "11.05.1994", "+999 222"):
        assert secret not in html
    assert "•••" in html
    assert not ImportBatch.objects.exists()  # a preview stores nothing


def test_import_creates_a_batch_and_is_audited(client_as, world, profile_key):
    client = client_as("analyst")
    page = _import(client, _upload(client, profile_key))
    batch = ImportBatch.objects.get()
    assert batch.batch_id in page.content.decode()
    assert (batch.rows, batch.accepted, batch.rejected) == (4, 1, 3)
    assert batch.imported_by == "analyst"
    assert batch.source_agency == "police"
    assert batch.cases.count() == 1
    assert batch.rejects.count() == 3
    entry = AuditEntry.objects.get(action="cases.import")
    assert entry.object_id == str(batch.pk)
    assert entry.details["sha256"] == batch.sha256
    assert entry.details["rejected"] == 3
    assert entry.actor == world.users["analyst"]
    history = client.get(reverse("cases:batches")).content.decode()
    assert batch.batch_id in history
    detail = client.get(reverse("cases:batch", args=[batch.batch_id])).content.decode()
    for text in (batch.sha256, "test_police", "analyst", "1.0"):
        assert text in detail
    # the job also wrote the analysis pages' flat tables for the new data version
    from django.conf import settings

    derived = Path(settings.DATA_DIR) / "derived" / batch.data_version
    assert (derived / "legs.parquet").exists()
    assert (derived / "explode-exploitation_forms.parquet").exists()


def test_duplicate_file_is_refused_naming_the_earlier_batch(client_as, profile_key):
    client = client_as("analyst")
    _import(client, _upload(client, profile_key))
    first = ImportBatch.objects.get()
    preview = client.get(_upload(client, profile_key))
    assert first.batch_id in preview.context["error"]
    assert preview.context["earlier_batch"] == first.batch_id
    page = _import(client, preview.request["PATH_INFO"])
    assert page.context["job"].status == "failed"
    assert page.context["job"].result["earlier_batch"] == first.batch_id
    assert ImportBatch.objects.count() == 1


def test_corrected_file_replaces_the_upload_before_import(client_as, profile_key):
    client = client_as("analyst")
    preview_url = _upload(client, profile_key)
    upload_id = preview_url.rstrip("/").split("/")[-1]
    response = client.post(reverse("cases:intake_replace", args=[upload_id]),
                           {"file": cs.upload("police-fixed.csv", cs.FIXED)}, follow=True)
    s = response.context["preview"]["summary"]
    assert (s["rows"], s["accepted"], s["rejected"]) == (4, 4, 0)
    _import(client, preview_url)
    assert ImportBatch.objects.get().file_name == "police-fixed.csv"


def test_profile_editor_shows_line_and_field_of_an_error(client_as, profile_key):
    client = client_as("analyst")
    location = client.post(reverse("cases:intake"), {
        "file": cs.upload("police.csv", cs.BAD), "profile": "__infer__"})["Location"]
    draft = client.get(location)
    assert draft.status_code == 200
    assert "profile:" in draft.context["form"].initial["text"]  # a draft inferred from the file
    broken = cs.PROFILE.replace("  age: Age\n", "  agge: Age\n")
    response = client.post(location, {"text": broken})
    assert response.status_code == 422
    error = response.context["error"]
    assert error.field == "agge"
    assert error.line == broken.splitlines().index("  agge: Age") + 1
    html = response.content.decode()
    assert f"<dd>{error.line}</dd>" in html
    assert "<code>agge</code>" in html
    ok = client.post(location, {"text": cs.PROFILE})
    assert ok.status_code == 302
    assert ok["Location"].endswith(location.replace("profile/", ""))


def test_upload_limits_and_types(client_as, profile_key, settings):
    client = client_as("analyst")
    bad_type = client.post(reverse("cases:intake"),
                           {"file": cs.upload("notes.exe", "x"), "profile": profile_key})
    assert bad_type.status_code == 400
    assert "unsupported file type" in bad_type.content.decode()
    settings.TIPLAB_INTAKE_MAX_MB = 0
    too_big = client.post(reverse("cases:intake"),
                          {"file": cs.upload("police.csv", cs.BAD), "profile": profile_key})
    assert too_big.status_code == 400
    assert "the limit is" in too_big.content.decode()


def test_supersede_needs_reauth_and_replaces_the_batch(world, profile_key):
    analyst = world.users["analyst"]
    client = sign_in(Client(), analyst)
    _import(client, _upload(client, profile_key))
    old = ImportBatch.objects.get()
    url = reverse("cases:batch_supersede", args=[old.batch_id])
    stale = sign_in(Client(), analyst, reauth=False)
    assert stale.get(url)["Location"].startswith(reverse("core:confirm_password"))
    response = client.post(url, {"file": cs.upload("police-v2.csv", cs.FIXED),
                                 "profile": profile_key})
    assert response.status_code == 302
    preview = client.get(response["Location"])
    assert preview.context["meta"]["supersede"] == old.batch_id
    _import(client, response["Location"])
    old.refresh_from_db()
    new = ImportBatch.objects.get(status="active")
    assert old.status == "superseded"
    assert new.supersedes == old
    assert new.accepted == 4  # the old batch's record ids do not count as existing
    assert AuditEntry.objects.filter(action="cases.supersede", object_id=str(new.pk)).exists()
    html = client.get(reverse("cases:batch", args=[old.batch_id])).content.decode()
    assert new.batch_id in html  # "superseded by"


def test_rejects_csv_is_redacted_reauthenticated_and_audited(world, profile_key):
    analyst = world.users["analyst"]
    client = sign_in(Client(), analyst)
    _import(client, _upload(client, profile_key))
    batch = ImportBatch.objects.get()
    url = reverse("cases:batch_rejects", args=[batch.batch_id])
    stale = sign_in(Client(), analyst, reauth=False)
    assert stale.get(url)["Location"].startswith(reverse("core:confirm_password"))
    response = client.get(url)
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode()
    lines = body.splitlines()
    assert lines[0].startswith("row,reasons,Case No,Registered")
    assert len(lines) == 4
    assert "E_DATE_INVALID" in body
    assert "P-2" in body
    for secret in ("Kovalenko", "Oleksandr", "11.05.1994", "+999 222", "Smith"):
        assert secret not in body
    assert "•••" in body
    assert AuditEntry.objects.filter(action="cases.export_rejects",
                                     object_id=str(batch.pk)).exists()


def test_reporter_imports_for_own_agency_and_sees_only_its_batches(world, profile_key):
    reporter = world.users["agency_reporter"]
    client = sign_in(Client(), reporter)
    form = client.get(reverse("cases:intake")).context["form"]
    assert "source_agency" not in form.fields  # no choosing another agency
    _import(client, _upload(client, profile_key))
    own = ImportBatch.objects.get()
    assert own.source_agency == world.home.name  # not the profile's "police"
    other = cs.make_batch(world, world.outsiders["agency_reporter"])
    assert other.source_agency == world.elsewhere.name
    assert client.get(reverse("cases:batch", args=[own.batch_id])).status_code == 200
    assert client.get(reverse("cases:batch", args=[other.batch_id])).status_code == 404
    assert client.get(reverse("cases:batch_rejects", args=[other.batch_id])).status_code == 404
    assert client.get(reverse("cases:batch_supersede",
                              args=[other.batch_id])).status_code == 404
    history = client.get(reverse("cases:batches")).content.decode()
    assert own.batch_id in history
    assert other.batch_id not in history
    # and the reporter's uploads are theirs alone
    preview_url = _upload(client, profile_key, text=cs.FIXED, name="x.csv")
    outsider = sign_in(Client(), world.outsiders["agency_reporter"])
    assert outsider.get(preview_url).status_code == 404


def test_background_job_reports_progress_and_result(client_as, profile_key):
    client = client_as("analyst")
    page = _import(client, _upload(client, profile_key))
    job = page.context["job"]
    assert job.status == "succeeded"
    assert job.percent == 100
    fragment = client.get(reverse("jobs:status", args=[job.pk]))
    html = fragment.content.decode()
    assert reverse("cases:batch", args=[job.result["batch_id"]]) in html
    assert "hx-trigger" not in html


def test_the_profile_is_not_chosen_for_the_user_unless_it_is_their_agencys(world, settings):
    """A police reporter was offered the UNODC GLOTIP profile first; now nothing is chosen,
    unless a profile carries the reporter's own agency's name."""
    reporter = world.users["agency_reporter"]
    client = sign_in(Client(), reporter)
    field = client.get(reverse("cases:intake")).context["form"].fields["profile"]
    assert field.initial is None
    assert field.choices[0][0] == ""
    folder = Path(settings.DATA_DIR) / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{world.home.source}.yaml").write_text(cs.PROFILE, encoding="utf-8")
    field = client.get(reverse("cases:intake")).context["form"].fields["profile"]
    assert field.initial == f"local:{world.home.source}"
    analyst = sign_in(Client(), world.users["analyst"])
    assert analyst.get(reverse("cases:intake")).context["form"].fields["profile"].initial is None
