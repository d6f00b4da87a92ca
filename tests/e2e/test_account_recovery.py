"""Account recovery in the browser: "Forgot your password?" on the sign-in page, the link
from the e-mail, a new password, and signing in with it."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect
from tests.web.conftest import PASSWORD, make_user

from tiplab_web.accounts.models import Organisation

pytestmark = pytest.mark.e2e

NEW = "a new long passphrase 2026!"


def test_forgotten_password_reset_by_email(page: Page, live_server, transactional_db,
                                           console_errors):
    org = Organisation.objects.create(name="National Rapporteur's Office",
                                      kind=Organisation.Kind.COORDINATOR, country="ZZ")
    make_user("ana", ["analyst"], org)  # ana@example.org
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("ana@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Set a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("New password confirmation").fill(NEW)
    page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    page.get_by_role("link", name="Sign in").last.click()
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill(NEW)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    assert console_errors == []


def test_lost_authenticator_recovery_code_in_the_browser(page: Page, live_server,
                                                         transactional_db, console_errors):
    from tiplab_web.accounts import security

    org = Organisation.objects.create(name="National Rapporteur's Office",
                                      kind=Organisation.Kind.COORDINATOR, country="ZZ")
    steward = make_user("stew", ["data_steward"], org)  # holds a TOTP device
    codes = security.new_codes(None, steward)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("stew")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    page.get_by_text("Lost your device? Use a recovery code").click()
    page.get_by_label("Recovery code").fill(codes[3])
    page.get_by_role("button", name="Sign in with the code").click()
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    expect(page.get_by_text("9 remain")).to_be_visible()
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Security").click()
    expect(page.get_by_text("9 unused recovery codes.")).to_be_visible()
    assert console_errors == []
