"""Errors on web pages speak the user's language: the file's own name, never a server path,
no library internals (DuckDB, Python codecs and conversions), no command-line flags."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from tests.web import test_cases_support as cs

from tiplab_web.cases.models import ImportBatch
from tiplab_web.core.usererrors import for_page
from tiplab_web.estimates.models import EstimationRun

BINARY = bytes(range(256)) * 8
INTERNALS = re.compile(
    r"Invalid Input Error|sniffing|codec can't|could not convert|invalid literal|Traceback|"
    r"--supersede|Error:|Exception", re.IGNORECASE)


def clean(text: str) -> None:
    """No server path and no library message in what the user reads."""
    assert str(settings.DATA_DIR) not in text
    assert "/tmp/" not in text
    assert "/uploads/" not in text
    found = INTERNALS.search(text)
    assert found is None, f"library wording {found.group(0)!r} in {text!r}"


@pytest.fixture
def profile_key():
    return cs.write_local_profile()


def _preview(client, profile_key, name: str, content: bytes | str):
    raw = content.encode() if isinstance(content, str) else content
    response = client.post(reverse("cases:intake"), {
        "file": SimpleUploadedFile(name, raw, content_type="text/csv"), "profile": profile_key})
    assert response.status_code == 302
    return client.get(response["Location"])


def test_binary_file_named_csv_on_the_intake_page(client_as, profile_key):
    page = _preview(client_as("analyst"), profile_key, "binary.csv", BINARY)
    error = page.context["error"]
    assert "binary.csv" in error
    clean(error)
    clean(page.content.decode())


def test_latin1_file_on_the_intake_page(client_as, profile_key):
    text = cs.FIXED.replace("Ana", "Ána")
    page = _preview(client_as("analyst"), profile_key, "latin1.csv", text.encode("latin-1"))
    body = page.content.decode()
    clean(body)


def test_duplicate_file_offers_the_replacement_as_a_button(client_as, profile_key):
    client = client_as("analyst")
    first = _preview(client, profile_key, "police.csv", cs.FIXED)
    upload_id = first.request["PATH_INFO"].rstrip("/").split("/")[-1]
    client.post(reverse("cases:intake_confirm", args=[upload_id]))
    batch = ImportBatch.objects.get()
    page = _preview(client, profile_key, "police.csv", cs.FIXED)
    error = page.context["error"]
    assert batch.batch_id in error
    assert "police.csv" in error
    clean(error)
    html = page.content.decode()
    clean(html)
    assert reverse("cases:batch_supersede", args=[batch.batch_id]) in html


@pytest.mark.parametrize(("name", "content", "says"), [
    ("bad.csv", b"A,B,count\n1,0,abc\n0,1,3\n", "abc"),
    ("binary.csv", BINARY, "bad.csv"),
    ("latin.csv", "A,B,count\n1,0,5\n0,1,3\n1,1,2\n# Ümlaut\n".encode("utf-16"), "latin.csv"),
])
def test_estimate_from_a_bad_table(client_as, world, name, content, says):
    client = client_as("analyst")
    client.post(reverse("estimates:new"), {
        "input_kind": "upload", "method": "stepwise", "nboot": 0, "seed": 1,
        "upload": SimpleUploadedFile(name, content, content_type="text/csv")})
    run = EstimationRun.objects.get()
    assert run.status == EstimationRun.FAILED
    clean(run.error)
    assert name in run.error or says in run.error, run.error
    clean(client.get(reverse("estimates:run", args=[run.pk])).content.decode())


def test_for_page_rewrites_paths_and_library_wording(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    upload = tmp_path / "uploads" / "intake" / "ab12" / "file.csv"
    text = for_page(f"{upload}, line 2: could not convert string to float: 'abc'",
                    files={upload: "police export.csv"})
    assert text.startswith("police export.csv, line 2:")
    assert "'abc' is not a number" in text
    clean(text)
    other = for_page(f"cannot open {tmp_path}/keys/pseudonym.key: Permission denied")
    assert "pseudonym.key" in other
    clean(other)
    # dates and fractions are not paths
    assert for_page("registered 01/02/2024, share 3/4") == "registered 01/02/2024, share 3/4"


def test_a_server_error_is_logged_with_its_traceback_and_not_shown(client_as, world,
                                                                    monkeypatch, caplog):
    """Where the operator looks (standard error, JSON in production): the traceback; on the
    page: a plain apology."""
    client = client_as("analyst")
    client.post(reverse("estimates:new"), {
        "input_kind": "shipped", "shipped": "korea_palembang_3lists.csv", "method": "main",
        "nboot": 0, "seed": 1})
    run = EstimationRun.objects.get()

    def broken(self):
        raise ZeroDivisionError("a bug in a template helper")

    monkeypatch.setattr(EstimationRun, "overall", property(broken))
    client.raise_request_exception = False
    with caplog.at_level("ERROR", logger="django.request"):
        response = client.get(reverse("estimates:run", args=[run.pk]))
    assert response.status_code == 500
    logged = [r for r in caplog.records if r.name == "django.request"]
    assert logged
    assert logged[0].exc_info is not None
    assert logged[0].exc_info[0] is ZeroDivisionError
    body = response.content.decode()
    assert "ZeroDivisionError" not in body
    assert "Traceback" not in body
