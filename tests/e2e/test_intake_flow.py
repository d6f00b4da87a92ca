"""End-to-end: an analyst uploads a file with errors, sees them in context, uploads the
corrected file, imports it (background job, polled by htmx), browses the records, opens one,
is refused the identifier reveal, and signs out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.test_browser import sign_in
from tests.web import test_cases_support as cs
from tests.web.conftest import make_user

from tiplab_web.accounts.models import Organisation
from tiplab_web.cases.models import CaseRecord

pytestmark = pytest.mark.e2e


def _file(name: str, text: str) -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode()}


def test_upload_fix_import_browse_and_be_refused(page: Page, live_server, transactional_db,
                                                 console_errors):
    org = Organisation.objects.create(name="National Rapporteur's Office",
                                      kind=Organisation.Kind.COORDINATOR, country="ZZ")
    make_user("ana", ["analyst"], org)
    profile_key = cs.write_local_profile()
    sign_in(page, live_server.url, "ana")
    menu = page.get_by_role("navigation", name="Main menu")
    menu.get_by_role("link", name="Data intake").click()
    expect(page.get_by_role("heading", name="Data intake", level=1)).to_be_visible()

    page.get_by_label("Data file").set_input_files(_file("police.csv", cs.BAD))
    page.get_by_label("Mapping profile").select_option(profile_key)
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("heading", name="Validation preview")).to_be_visible()
    problems = page.locator("#problems")
    bad_date = problems.locator("td.cell--error", has_text="31.02.2022")
    expect(bad_date).to_have_count(1)
    expect(bad_date).to_have_attribute("title", re.compile("not a valid date"))
    expect(problems.locator("td.cell--error", has_text="Q")).to_have_count(1)
    expect(problems).not_to_contain_text("Kovalenko")  # identifier columns are hidden
    expect(problems).to_contain_text("•••")

    page.get_by_label("Corrected file").set_input_files(_file("police-fixed.csv", cs.FIXED))
    page.get_by_role("button", name="Upload corrected file").click()
    expect(page.get_by_text("No problems found.")).to_be_visible()
    page.get_by_role("button", name="Confirm import").click()
    expect(page.get_by_text(re.compile(r"Imported as batch B\d{8}-"))).to_be_visible(
        timeout=20_000)

    page.get_by_role("link", name="Browse its records").click()
    expect(page.get_by_role("heading", name="Cases", level=1)).to_be_visible()
    expect(page.locator("#cases tbody tr")).to_have_count(4)
    page.get_by_label("Sex").select_option("Masculine")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#cases tbody tr")).to_have_count(2)
    page.get_by_role("link", name="P-2").click()
    expect(page.get_by_role("heading", name=re.compile("Record P-2"))).to_be_visible()
    expect(page.get_by_text("police-fixed.csv")).to_be_visible()  # provenance
    expect(page.get_by_role("button", name="Reveal identifiers")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("Kovalenko")

    record = CaseRecord.objects.get(record_id="P-2")
    response = page.goto(f"{live_server.url}/cases/{record.pk}/reveal/")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="Access denied")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    assert console_errors == []
