"""End-to-end: an analyst codes a span of an interview note with the mouse, accepts one of
the model's suggestions, and sees the theme counts change."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.test_browser import sign_in
from tests.web import evidence_support as ev
from tests.web.conftest import make_user

from tiplab_web.accounts.models import Organisation
from tiplab_web.evidence import services

pytestmark = pytest.mark.e2e


def _theme_total(page: Page, base: str, code: str) -> str:
    page.goto(base + "/evidence/themes/?by=source_type")
    row = page.locator(f"tr[data-code='{code}']")
    if row.count() == 0:
        return "0"
    return row.get_by_test_id("theme-total").inner_text().strip()


def test_code_a_span_accept_a_suggestion_see_the_theme_count(page: Page, live_server,
                                                            transactional_db, settings,
                                                            tmp_path, console_errors):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    org = Organisation.objects.create(name="National Rapporteur's Office",
                                      kind=Organisation.Kind.COORDINATOR, country="ZZ")
    ana = make_user("ana", ["analyst"], org)
    note = ev.make_note(ana, title="Survivor, farm work")
    cb = services.codebook(ana)
    manual, suggested = cb.codes[0], cb.codes[1]
    units = services.units(ev.TEXT)
    ev.make_suggestion(ana, note, code=suggested.key, start=units[1].start,
                       end=units[1].end, confidence=0.62)

    sign_in(page, live_server.url, "ana")
    assert _theme_total(page, live_server.url, manual.key) == "0"
    assert _theme_total(page, live_server.url, suggested.key) == "0"

    page.goto(live_server.url + f"/evidence/notes/{note.pk}/")
    expect(page.get_by_role("heading", name="Survivor, farm work")).to_be_visible()
    first = page.locator(".ev-unit__text").first
    box = first.bounding_box()
    assert box is not None
    y = box["y"] + 8
    page.mouse.move(box["x"] + 1, y)
    page.mouse.down()
    page.mouse.move(box["x"] + min(box["width"] - 2, 180), y, steps=5)
    page.mouse.up()
    expect(page.get_by_test_id("selection")).to_contain_text("“")
    page.get_by_label("Find a code").fill(manual.label)
    page.locator("#id_code").select_option(manual.key)
    page.get_by_label("Comment").fill("from the browser")
    page.get_by_role("button", name="Apply the code").click()
    coded = page.locator(f"[data-testid='coding'][data-code='{manual.key}']")
    expect(coded).to_have_count(1)
    expect(page.locator(".ev-seg--coded").first).to_be_visible()

    page.get_by_role("button", name=f"Accept {suggested.label}").click()
    expect(page.locator(f"[data-testid='coding'][data-code='{suggested.key}']")).to_have_count(1)
    expect(page.locator(".ev-suggestion--accepted")).to_have_count(1)

    assert _theme_total(page, live_server.url, manual.key) == "1"
    assert _theme_total(page, live_server.url, suggested.key) == "1"
    assert console_errors == []
