"""End-to-end, JavaScript off: a survivor types a one-time code, agrees, answers, keeps the
receipt and comes back with it. The browser keeps no cookie and asks for nothing outside the
anonymous routes (no /static/, no /favicon.ico: those would be logged with its address)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect
from tests.web.conftest import make_user
from tests.web.test_plans_support import make_plan

from tiplab_web.accounts.models import Organisation
from tiplab_web.consultations import services
from tiplab_web.consultations.models import VoiceAnswer

pytestmark = pytest.mark.e2e


def test_a_survivor_answers_and_returns_without_javascript(browser: Browser, live_server,
                                                           transactional_db, settings,
                                                           tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    org = Organisation.objects.create(name="Office", kind="coordinator", country="ZZ")
    officer = make_user("pol", ["policy_officer"], org)
    today = timezone.localdate()
    c = services.create(officer, make_plan(officer), title="Plan consultation",
                        opens_on=today, closes_on=today + dt.timedelta(days=7))
    code = services.issue_codes(officer, n=1, consultation=c).codes[0]

    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(urlparse(r.url).path))

    page.goto(live_server.url + "/voice/?lang=en")
    expect(page.get_by_role("link", name="Quick exit")).to_be_visible()
    page.get_by_label("Your code").fill(code.lower())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Before you start")).to_be_visible()
    page.get_by_role("button", name="I understand and want to continue").click()
    page.get_by_label("Which part of the plan is it about?").select_option("measure:M1")
    page.get_by_label("What would you like the people who write the plan to know?").fill(
        "My name is Rosa. The shelter was far from any bus.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    receipt = page.locator(".receipt").inner_text().strip()
    assert len(receipt) == 19

    page.goto(live_server.url + "/voice/")
    page.get_by_label("Your code").fill(receipt)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("A person is reading it")).to_be_visible()
    page.get_by_role("button", name="I understand and want to continue").click()
    page.get_by_label("What would you like to add?").fill("Also no interpreter.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()

    assert context.cookies() == []
    outside = [p for p in asked if not p.startswith(("/voice/", "/a/"))]
    assert outside == []
    answers = list(VoiceAnswer.objects.order_by("id"))
    assert len(answers) == 2
    assert answers[1].follows == answers[0]
    context.close()
