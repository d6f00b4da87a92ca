"""End-to-end: an analyst uploads a small CSV of advertisements, the screening job runs, the
batch shows its flags, and the analyst confirms one in the review queue (htmx, keyboard)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.test_browser import sign_in
from tests.web.conftest import make_user
from tests.web.screening_support import csv_bytes

from tiplab_web.accounts.models import Organisation
from tiplab_web.screening.models import ScreeningItem

pytestmark = pytest.mark.e2e

ADS = [
    ("ad-1", "Hostess work in Dubai. No experience needed! Earn 1500 EUR a week, cash. "
             "Travel and visa paid by us. Your passport is handled by our agency. Costs of "
             "travel deducted from the first salaries."),
    ("ad-2", "Accountant (m/f) in Vienna. Requirements: a degree in accounting and three "
             "years of experience. Salary according to the collective agreement."),
    ("ad-3", "Girls 18-25 wanted for dancers in a private club abroad. Give us your passport, "
             "we do all the papers. Don't tell your family before you arrive. Leave this "
             "week!"),
]


def test_upload_see_flags_and_confirm_one(page: Page, live_server, transactional_db, settings,
                                          tmp_path, console_errors):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    org = Organisation.objects.create(name="National Rapporteur's Office",
                                      kind=Organisation.Kind.COORDINATOR, country="ZZ")
    make_user("ana", ["analyst"], org)
    csv_file = tmp_path / "ads.csv"
    csv_file.write_bytes(csv_bytes(ADS))

    sign_in(page, live_server.url, "ana")
    page.get_by_role("navigation", name="Main menu").get_by_role("link",
                                                                 name="Screening").click()
    expect(page.get_by_role("heading", name="Screening", level=1)).to_be_visible()
    page.get_by_role("link", name="Screen a CSV file").click()
    page.get_by_label("Title").fill("Adverts e2e")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload and screen").click()

    expect(page.get_by_role("heading", name="Adverts e2e", level=1)).to_be_visible()
    expect(page.get_by_test_id("screened")).to_have_text("3", timeout=60_000)
    flagged = int(page.get_by_test_id("flagged").inner_text())
    assert flagged >= 1

    page.get_by_role("link", name="Review the flags").click()
    expect(page.get_by_role("heading", name="Review queue", level=1)).to_be_visible()
    first = page.locator("article.screening-item").first
    expect(first).to_contain_text("passport")
    item_id = int(re.sub(r"\D", "", first.get_attribute("id") or ""))
    first.get_by_label("Note (required to escalate)").fill("clear recruitment lures")
    confirm = first.get_by_role("button", name="Confirm")
    confirm.focus()
    page.keyboard.press("Enter")
    card = page.locator(f"#item-{item_id}")
    expect(card.get_by_test_id(f"status-{item_id}")).to_have_text("confirmed")
    expect(card).to_contain_text("Reviewed by ana")
    expect(card).to_be_focused()
    item = ScreeningItem.objects.get(pk=item_id)
    assert item.review_status == "confirmed"
    assert item.review_note == "clear recruitment lures"
    assert console_errors == []
