"""End-to-end: sign in, dashboard, navigation, refusals, 2FA, keyboard use, sign out."""

from __future__ import annotations

import re
import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect
from tests.web.conftest import PASSWORD, make_user

from tiplab_web.accounts.models import Organisation

pytestmark = pytest.mark.e2e


@pytest.fixture
def org(transactional_db):
    return Organisation.objects.create(
        name="National Rapporteur's Office", kind=Organisation.Kind.COORDINATOR, country="ZZ"
    )


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_navigate_be_refused_and_sign_out(page: Page, live_server, org, console_errors):
    make_user("ana", ["analyst"], org)
    sign_in(page, live_server.url, "ana")
    expect(page.get_by_role("heading", name="Home", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Your recent activity")).to_be_visible()
    menu = page.get_by_role("navigation", name="Main menu")
    expect(menu.get_by_role("link")).to_have_text(
        ["Home", "Data intake", "Cases", "Linkage", "Estimates", "Trends", "Profiles", "Routes",
         "Hotspots", "Detection gap", "Vulnerability", "Interview notes", "Screening",
         "Legal framework", "Action plans",
         "Consultations", "Monitoring", "Scorecards and reviews", "Working groups",
         "Publications", "Jobs", "API tokens", "Security"])
    menu.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", level=1)).to_be_visible()
    expect(menu.get_by_role("link", name="API tokens")).to_have_attribute("aria-current", "page")

    page.get_by_label("Name").fill("etl")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).to_contain_text("tip_")

    response = page.goto(live_server.url + "/audit/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Access denied")).to_be_visible()
    response = page.goto(live_server.url + "/accounts/users/1/")
    assert response.status == 403
    response = page.goto(live_server.url + "/no-such-page/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert console_errors == []  # no CSP violations, no script errors


def test_administrator_passes_two_factor_then_sees_audit_log(
    page: Page, live_server, org, console_errors
):
    admin = make_user("boss", ["administrator"], org)
    sign_in(page, live_server.url, "boss")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/"))
    device = TOTPDevice.objects.get(user=admin)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    page.get_by_label("Six-digit code from your authenticator app").fill(f"{totp.token():06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Users and roles")).to_be_visible()
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    expect(page.locator("table")).to_contain_text("auth.otp_verified")
    page.get_by_label("Action").fill("auth.login")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    assert console_errors == []


def test_keyboard_only_reaches_the_main_menu(page: Page, live_server, org, console_errors):
    make_user("kb", ["agency_reporter"], org)
    sign_in(page, live_server.url, "kb")
    expect(page.get_by_role("heading", name="Home", level=1)).to_be_visible()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None
    assert box["y"] >= 0
    for _ in range(10):  # Tab until the focus is inside the main menu
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.closest('#main-nav')"):
            break
    else:
        pytest.fail("the main menu cannot be reached with the keyboard")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Home"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/cases/intake/$"))
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle + ''")
    assert outline  # focus styles exist (checked visually in docs/screenshots)
    assert console_errors == []


def test_language_switcher_in_the_browser(page: Page, live_server, org):
    make_user("lang", ["policy_officer"], org)
    sign_in(page, live_server.url, "lang")
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("heading", name="Accueil", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def test_api_docs_render_offline(page: Page, live_server, console_errors, transactional_db):
    external = []
    page.on(
        "request",
        lambda r: (
            external.append(r.url) if not r.url.startswith((live_server.url, "data:")) else None
        ),
    )
    page.goto(live_server.url + "/api/docs")
    expect(page.get_by_text("tiplab API").first).to_be_visible()
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert external == []
    assert console_errors == []
