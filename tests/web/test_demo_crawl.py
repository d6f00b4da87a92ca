"""Crawl the demo as each role sees it: no page and no export shows a missing value as
"None", "nan" or "NaT" (they read "not recorded" or stay empty), and the demo is what the
README promises: approved data, a designated link run, persons in trends, an estimate of
record on the home page.

The demo is ``setup_demo`` itself (a smaller country: 3,000 victims), with the background jobs
run in place (the test settings' immediate backend), so what is crawled is what `make run`
builds.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections import Counter
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from tests.web.conftest import sign_in

#: a whole text node, or a cell of a CSV, that is a missing value printed raw
RAW_MISSING = {"None", "nan", "NaN", "NaT", "<NA>", "null", "NULL"}
#: a missing value printed inside a sentence or a label ("region: None", "None / F", "nan%")
RAW_IN_TEXT = re.compile(r"(?<![A-Za-z])(nan|NaN|NaT)(?![A-Za-z])|(: |/ |\(|=)None\b|"
                         r"\bNone( /|\)|,)")
SKIP = re.compile(r"^/(static|media|admin|i18n|accounts/logout|api/docs)|/logout")
PER_PATH = 3  # query-string variants crawled per path
LIMIT = 140  # pages per role


def _text_nodes(page: str) -> list[str]:
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<!--.*?-->", " ", page)
    return [html.unescape(t).strip() for t in re.findall(r">([^<]+)<", page) if t.strip()]


def _problems_in(url: str, response) -> list[str]:
    ctype = response.get("Content-Type", "")
    body = response.getvalue().decode("utf-8", "replace")  # file downloads stream
    out = []
    if "text/csv" in ctype:
        for i, row in enumerate(csv.reader(io.StringIO(body))):
            out += [f"{url} row {i}: {cell!r}" for cell in row if cell.strip() in RAW_MISSING]
    elif "text/html" in ctype:
        for node in _text_nodes(body):
            if node in RAW_MISSING or RAW_IN_TEXT.search(node):
                out.append(f"{url}: {node[:120]!r}")
    return out


def crawl(client: Client) -> tuple[list[str], dict[str, int]]:
    queue, seen, per_path = ["/"], set(), Counter()
    problems: list[str] = []
    statuses: dict[str, int] = {}
    while queue and len(seen) < LIMIT:
        url = queue.pop(0)
        if url in seen:
            continue
        path = urlsplit(url).path
        if per_path[path] >= PER_PATH:
            continue
        seen.add(url)
        per_path[path] += 1
        response = client.get(url)
        statuses[url] = response.status_code
        if response.status_code != 200:
            continue
        problems += _problems_in(url, response)
        if "text/html" in response.get("Content-Type", ""):
            for href in re.findall(r'href="(/[^"#]*)"', response.content.decode()):
                href = html.unescape(href)
                if not SKIP.search(href) and href not in seen:
                    queue.append(href)
    return problems, statuses


@pytest.fixture
def demo(world, settings, tmp_path):
    settings.DATA_DIR = tmp_path  # the demo's own data directory
    call_command("setup_demo", victims=3000, stdout=io.StringIO(), stderr=io.StringIO())
    return get_user_model().objects


#: role -> the fewest pages its crawl must reach (a reporter sees their submissions only)
ROLES = {"demo-analyst": 60, "demo-steward": 60, "demo-policy": 15, "demo-police": 5}


def test_the_demo_shows_no_raw_missing_value_in_any_page_or_export(demo):
    problems, errors, crawled = [], {}, {}
    for role in ROLES:  # one demo, crawled as each role sees it
        client = sign_in(Client(), demo.get(username=role))
        found, statuses = crawl(client)
        problems += [f"{role} {p}" for p in found]
        errors.update({f"{role} {u}": s for u, s in statuses.items() if s >= 500})
        crawled[role] = len(statuses)
    # it crawled the product, not a login page
    assert all(crawled[r] >= least for r, least in ROLES.items()), crawled
    assert errors == {}
    assert problems == []


def test_the_demo_counts_persons_with_a_designated_run_and_pins_its_estimate(demo):
    from tiplab_web.assessment.models import LegalAssessment
    from tiplab_web.cases.models import ImportBatch
    from tiplab_web.estimates.models import EstimateOfRecord
    from tiplab_web.linkage.models import LinkDesignation

    assert ImportBatch.objects.filter(status=ImportBatch.ACTIVE).count() >= 6
    assert not ImportBatch.objects.filter(status=ImportBatch.SUBMITTED).exists()
    designation = LinkDesignation.objects.get(ended_at=None)
    assert designation.designated_by.get_username() == "demo-steward"
    record = EstimateOfRecord.objects.get(ended_at=None)
    assert record.run.link_run_id == designation.run_id
    client = sign_in(Client(), demo.get(username="demo-policy"))
    home = client.get("/").content.decode()
    assert f"{round(record.run.overall['estimate']):,}" in home
    trends = client.get(reverse("insights:trends")).content.decode()
    assert "Counting <strong>persons</strong>" in trends
    assert f"link run #{designation.run_id}" in trends
    gap = client.get(reverse("insights:gap") + "?by=region_of_exploitation&nboot=200")
    assert 'id="gap-table"' in gap.content.decode()
    assert len(gap.context["rows"]) >= 20  # the simulated country's regions
    # the demo regions ranked by vulnerability, with their intervals
    vul = client.get(reverse("insights:vulnerability"))
    assert len(vul.context["rows"]) >= 20
    # the legal-framework assessments of three countries, compared
    harmonise = client.get(reverse("assessment:harmonise"))
    assert harmonise.context["h"].countries == ["DEU", "GBR", "JPN"]
    assert harmonise.context["h"].loopholes
    for a in LegalAssessment.objects.all():
        url = reverse("assessment:detail", kwargs={"pk": a.pk})
        response = client.get(url)
        assert "Illustrative" in response.content.decode()
        assert _problems_in(url, response) == []


def test_the_demo_publishes_a_release_with_a_brief_on_the_dashboard(demo):
    from tiplab_web.publications.models import Brief, LedgerEntry, ReleaseVersion

    v = ReleaseVersion.objects.get(status="published")
    assert v.prepared_by.get_username() == "demo-analyst"
    assert v.approved_by.get_username() == "demo-steward"
    assert v.unit["unit"] == "persons"  # the designated linkage counts persons
    keys = {f["key"] for f in v.figures}
    assert {"identified", "estimated", "detection_gap"} <= keys
    assert LedgerEntry.objects.filter(version=v).count() >= 3
    brief = Brief.objects.get(version=v, published=True)
    assert "[[estimated]]" in brief.narrative["key_messages"]
    client = sign_in(Client(), demo.get(username="demo-policy"))
    home = client.get("/").content.decode()
    assert reverse("publications:brief_file", args=[brief.pk, "pdf"]) in home
    public = Client().get(reverse("public:release", args=[v.release.identifier]))
    assert public.status_code == 200
    assert v.release.title in public.content.decode()


def test_the_checker_finds_the_raw_missing_values_it_looks_for():
    from django.http import HttpResponse

    page = HttpResponse("<table><tr><td>None</td><td>787</td></tr></table><p>form: None</p>"
                        "<li>nan</li><p>None yet: a sentence</p><script>var x = None</script>",
                        content_type="text/html")
    found = _problems_in("/x", page)
    assert found == ["/x: 'None'", "/x: 'form: None'", "/x: 'nan'"]
    export = HttpResponse("year,form,n\n2020,nan,3\n2021,,4\n", content_type="text/csv")
    assert _problems_in("/e.csv", export) == ["/e.csv row 1: 'nan'"]
