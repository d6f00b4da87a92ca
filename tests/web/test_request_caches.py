"""Dashboard figures cached per state of the approved data: a new approved batch is seen at
once, a submission is not, and a reporter's cached problems are never an analyst's."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from tests.web import test_cases_support as cs
from tests.web.conftest import sign_in

from tiplab_web.cases import memo
from tiplab_web.cases.models import ImportBatch


def _panel(html: str, title: str) -> str:
    start = html.index(title)
    return html[start:html.index("</section>", start)]


def test_the_records_panel_follows_imports_and_approvals(world, client_as, settings,
                                                          tmp_path):
    settings.DATA_DIR = tmp_path
    profile = cs.write_local_profile()
    analyst = client_as("analyst")
    empty_state = memo.active_state()
    before = _panel(analyst.get("/").content.decode(), "Records by source and year")
    reporter = sign_in(Client(), world.users["agency_reporter"])
    r = reporter.post(reverse("cases:intake"), {"file": cs.upload("p.csv", cs.FIXED),
                                                "profile": profile})
    reporter.post(reverse("cases:intake_confirm", args=[r["Location"].rstrip("/")
                                                        .split("/")[-1]]))
    batch = ImportBatch.objects.get()
    assert memo.active_state() == empty_state  # a submission is not approved data
    assert _panel(analyst.get("/").content.decode(), "Records by source and year") == before
    client_as("data_steward").post(reverse("cases:batch_approve", args=[batch.batch_id]))
    assert memo.active_state() != empty_state
    after = _panel(analyst.get("/").content.decode(), "Records by source and year")
    assert after != before
    assert "<strong>4</strong>" in after  # the total of the approved batch's four records


def test_cached_problems_are_per_agency(world):
    """The panel is for importers today, but its cache is keyed by agency: a reporter's
    figures (their agency's batches only) never reach an analyst, or back."""
    from django.test import RequestFactory

    from tiplab_web.cases.panels import open_problems

    mine = cs.make_batch(world, world.users["agency_reporter"])
    theirs = cs.make_batch(world, world.outsiders["agency_reporter"])
    for b in (mine, theirs):
        b.issues.create(source_row=1, column="Sex", field="sex", code="E_CODE_UNKNOWN",
                        severity="error", message="unknown", value="Q")

    def worst(user) -> set[str]:
        request = RequestFactory().get("/")
        request.user = user
        return {r["worst_batch"] for r in open_problems(request)["rows"]}

    assert worst(world.users["agency_reporter"]) == {mine.batch_id}
    assert worst(world.users["analyst"]) <= {mine.batch_id, theirs.batch_id}
    assert worst(world.users["analyst"])
    assert worst(world.outsiders["agency_reporter"]) == {theirs.batch_id}


def test_the_state_changes_when_a_batch_is_superseded(world):
    first = cs.make_batch(world, world.users["analyst"])
    state = memo.active_state()
    first.status = ImportBatch.SUPERSEDED
    first.save()
    assert memo.active_state() != state
