"""The safe reporting channel in a browser with JavaScript switched off (Tor Browser's
"Safest" setting): send a report with a file, read the receipt code, come back with it,
read the staff's reply and add information. The browser requests nothing outside the
anonymous routes, and no answer sets a cookie or may be cached."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, expect

from tiplab_web.reporting import services
from tiplab_web.reporting.models import Message, Report

pytestmark = pytest.mark.e2e


def test_report_and_come_back_without_javascript(browser: Browser, live_server,
                                                  transactional_db):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    seen: list[tuple[str, dict[str, str]]] = []
    page.on("response", lambda r: seen.append((r.url, r.all_headers())))
    page.goto(live_server.url + "/report/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("safely")
    expect(page.get_by_role("link", name="Quick exit")).to_be_visible()

    page.get_by_label("I saw it or know about it").check()
    page.get_by_label("Yes, someone is in danger now").check()
    page.get_by_label("What happened?").fill("Workers sleep in the warehouse and are locked in.")
    page.get_by_label("Where? (optional)").fill("North region")
    page.get_by_label("A file (optional)").set_input_files(
        {"name": "note.txt", "mimeType": "text/plain", "buffer": b"licence plate AB-123"})
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_role("heading", name="Your receipt code")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("112")
    code = page.locator("#receipt-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{5}(-[0-9A-Z]{5}){3}", code)
    assert "/report/" in page.url
    assert code not in page.url

    report = Report.objects.get()
    assert report.in_danger
    assert report.attachments.count() == 1
    services.reply(None, report, "Thank you. Inspectors will visit discreetly.")

    page.get_by_role("link", name="Come back with a receipt code").click()
    page.get_by_label("Your receipt code").fill(code.lower())
    page.get_by_role("button", name="Open").click()
    expect(page.get_by_text("Inspectors will visit discreetly.")).to_be_visible()
    assert code not in page.url

    page.get_by_label("What would you like to add?").fill("They move them on Fridays.")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_contain_text("What you added has been received")
    assert Message.objects.filter(report=report, kind="followup").count() == 1

    page.goto(live_server.url + "/report/receipt/")
    page.get_by_label("Your receipt code").fill("AAAAA-BBBBB-CCCCC-DDDDD")
    page.get_by_role("button", name="Open").click()
    expect(page.get_by_role("alert")).to_contain_text("No report could be opened")

    # the browser asked for nothing outside the anonymous routes (no /static/, no favicon),
    # and no answer set a cookie or may be cached
    assert len([url for url, _h in seen if "/report/" in url]) >= 5
    for url, headers in seen:
        assert urlparse(url).path.startswith(("/report/", "/a/")), url
        assert "set-cookie" not in headers, url
        assert headers["cache-control"] == "no-store", url
    assert context.cookies() == []
    context.close()
