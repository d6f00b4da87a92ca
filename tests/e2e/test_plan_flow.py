"""End-to-end: a policy officer drafts a plan, adds a measure that cites a hotspot; the
coordinator (administrator, with the second factor) adopts it; editing the adopted version is
refused; a new version is started, the measure changed, and the diff shows the change."""

from __future__ import annotations

import re
import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect
from tests.e2e.test_browser import sign_in
from tests.web.conftest import make_user
from tests.web.test_insights_support import load, simulate

from tiplab_web.accounts.models import Organisation

pytestmark = pytest.mark.e2e


def _second_factor(page: Page, user) -> None:
    device = TOTPDevice.objects.get(user=user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    page.get_by_label("Six-digit code from your authenticator app").fill(f"{totp.token():06d}")
    page.get_by_role("button", name="Verify").click()


def test_draft_cite_adopt_refuse_revise_and_compare(page: Page, live_server, transactional_db,
                                                    settings, tmp_path, console_errors):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    load(settings.DATA_DIR, simulate(tmp_path / "sim"))
    org = Organisation.objects.create(name="National Rapporteur's Office",
                                      kind=Organisation.Kind.COORDINATOR, country="ZZ")
    make_user("pol", ["policy_officer"], org)
    boss = make_user("boss", ["administrator"], org)

    sign_in(page, live_server.url, "pol")
    page.get_by_role("navigation", name="Main menu").get_by_role("link",
                                                                 name="Action plans").click()
    expect(page.get_by_role("heading", name="National Action Plans", level=1)).to_be_visible()
    new = page.locator("form[action$='/plans/new/']")
    new.get_by_label("Short id").fill("nap-e2e")
    new.get_by_label("Title").fill("Plan against trafficking 2025-2027")
    new.get_by_label("Country or region").fill("Synthetic country")
    new.get_by_label("First year").fill("2025")
    new.get_by_label("Last year").fill("2027")
    new.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Plan against trafficking 2025-2027")).to_be_visible()
    plan_url = page.url

    objective = page.locator("form[action$='/objectives/']")
    objective.get_by_label("Id").fill("PV1")
    objective.get_by_label("Pillar").select_option("prevention")
    objective.get_by_label("Objective").fill("Act where victims concentrate")
    objective.get_by_role("button", name="Add").click()
    page.get_by_role("link", name="Add a measure to this objective").first.click()
    page.get_by_label("Id", exact=True).fill("PV1.1")
    page.get_by_label("Measure", exact=True).fill("Labour inspections in the hotspot region")
    page.get_by_label("Type").select_option("enforcement")
    page.locator("#id_budget-0-year").select_option("2025")
    page.locator("#id_budget-0-amount").fill("150000")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#measure-PV1\\.1")).to_contain_text("150,000")

    page.locator("#measure-PV1\\.1").get_by_role("link", name="Cite evidence").click()
    page.get_by_label("Kind of evidence").select_option("hotspot")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("button", name="Cite").first.click()
    measure = page.locator("#measure-PV1\\.1")
    measure.locator("summary").click()
    expect(measure).to_contain_text("Gi* z")
    expect(measure).to_contain_text("data ")

    page.context.clear_cookies()
    sign_in(page, live_server.url, "boss")
    _second_factor(page, boss)
    page.goto(plan_url)
    page.get_by_role("button", name="Mark as Adopted").click()
    expect(page.get_by_text("Version 1, ")).to_contain_text("Adopted")

    page.context.clear_cookies()
    sign_in(page, live_server.url, "pol")
    page.goto(plan_url)
    expect(page.get_by_text("it cannot be changed")).to_be_visible()
    expect(page.locator("#measure-PV1\\.1").get_by_role("link", name="Edit")).to_have_count(0)
    page.goto(plan_url + "measures/PV1.1/")
    expect(page.locator(".message--error")).to_contain_text(
        "cannot be changed. Start a new version")

    page.get_by_role("button", name="Start a new version").click()
    expect(page.get_by_text("Version 2, ")).to_contain_text("Draft")
    page.locator("#measure-PV1\\.1").get_by_role("link", name="Edit").click()
    page.get_by_label("Measure", exact=True).fill("Labour inspections in two hotspot regions")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Versions and changes").click()
    expect(page.get_by_role("heading", name="Measures changed")).to_be_visible()
    expect(page.locator("ins").filter(has_text="two hotspot regions")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/versions/"))
    assert console_errors == []
