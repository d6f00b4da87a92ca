"""End-to-end: an analyst assesses a country's law item by item with evidence (htmx: the row
and the scores update in place), and the harmonisation matrix then compares it with the
demo's three countries, loopholes included."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.test_browser import sign_in
from tests.web.conftest import make_user

from tiplab_web.accounts.models import Organisation
from tiplab_web.assessment.services import load_demo

pytestmark = pytest.mark.e2e


def _answer(page: Page, item: str, answer: str, **evidence: str) -> None:
    row = page.locator(f'[id="item-{item}"]')
    row.get_by_text("Answer with evidence").click()
    row.get_by_label("Answer", exact=True).select_option(answer)
    for label, value in evidence.items():
        row.get_by_label(label.replace("_", " ").capitalize(), exact=True).fill(value)
    row.get_by_role("button", name="Save").click()


def test_answer_three_items_and_see_the_score_and_the_matrix_change(
        page: Page, live_server, transactional_db, console_errors):
    org = Organisation.objects.create(name="National Rapporteur's Office",
                                      kind=Organisation.Kind.COORDINATOR, country="ZZ")
    ana = make_user("ana", ["analyst"], org)
    load_demo(ana, make_user("pol", ["policy_officer"], org), org)
    sign_in(page, live_server.url, "ana")
    page.get_by_role("navigation", name="Main menu").get_by_role(
        "link", name="Legal framework").click()
    expect(page.get_by_role("heading", name="Legal framework against the international "
                                             "standards", level=1)).to_be_visible()
    page.get_by_label("Country").fill("France")
    page.get_by_label("Date of the assessment").fill("2026-09-01")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", name="France (FRA) — Palermo Protocol")).to_be_visible()
    score = page.get_by_test_id("overall-score")
    expect(score).to_have_text("–")

    _answer(page, "act.recruitment", "yes", statute="Code pénal", article="art. 225-4-1",
            quoted_excerpt="le fait de recruter une personne",
            link="https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000043409305")
    recruitment = page.locator('[id="item-act.recruitment"]')
    expect(recruitment.get_by_test_id("answer")).to_have_text("Yes")
    expect(recruitment.locator("dl.evidence q")).to_have_text("le fait de recruter une personne")
    expect(score).to_have_text("100")
    _answer(page, "means.abuse_of_vulnerability", "partial", statute="Code pénal",
            article="art. 225-4-1")
    expect(score).to_have_text("75")  # (3 + 3 x 0.5) / 6
    _answer(page, "crim.legal_persons", "no", comment="Only administrative fines.")
    expect(score).to_have_text("56")  # (3 + 1.5 + 2 x 0) / 8
    expect(page.get_by_test_id("coverage")).to_have_text("3 / 51")

    page.get_by_role("link", name="Compare countries").click()
    expect(page.get_by_role("heading", name="Harmonisation across countries")).to_be_visible()
    expect(page.get_by_test_id("score-FRA")).to_have_text("56")
    matrix = page.locator("table.matrix")
    expect(matrix.locator("thead th")).to_have_text(["Item", "Level", "DEU", "FRA", "GBR",
                                                     "JPN"])
    expect(matrix.locator('tr[data-item="act.recruitment"] td').nth(2)).to_have_text("Yes")
    expect(matrix.locator('tr[data-item="crim.legal_persons"] td').nth(2)).to_have_text("No")
    loophole = page.get_by_role("heading", name="Covered in GBR, not (or only partly) in FRA")
    expect(loophole).to_be_visible()
    expect(loophole.locator("xpath=following-sibling::ul[1]")).to_contain_text(
        "Abuse of a position of vulnerability")
    assert console_errors == []
