"""The public portal (/public/) and the open-data API (/api/open/), without any login.

The state is realistic and built by code (:func:`build_state`): a release whose published
version holds a differentially private table, a suppressed plain table, k-anonymous
microdata and key figures; a version since withdrawn (compared with by the next one), a
draft, a blocked and a discarded version, a release whose only version was withdrawn; an
adopted plan with small counts of people among its indicator values, its next version in
draft and a plan never adopted. Every must-not-show thing carries a unique marker.

The crawl follows every link from /public/ and every route of the open API's OpenAPI
schema, and checks what no public response may ever hold.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from tiplab.policy import plan as plan_core
from tiplab.privacy import release as core
from tiplab.privacy.tables import protect_counts
from tiplab_web.publications import public_plans, public_views, services
from tiplab_web.publications.models import Brief, Release, ReleaseVersion

THRESHOLD = 5
REGIONS = ["R01", "R02", "R03", "R04"]
YEARS = [str(y) for y in range(2016, 2024)]
FORMS = ["SexualExploitation", "ForcedLabour"]

#: text that only versions, plans and notes the public must never see carry
MARKERS = {
    "WITHDRAWN-ITEM-QX71", "WITHDRAWN-NOTE-QX72", "777001",
    "DRAFT-ITEM-QX81", "888002",
    "BLOCKED-RELEASE-QX91", "999003",
    "DISCARDED-RELEASE-QX93",
    "ONLY-WITHDRAWN-ITEM-QX95", "555004",
    "DRAFT-PLAN-MEASURE-QX61", "INTERNAL-COMMENT-QX62", "UNADOPTED-PLAN-QX63",
    "Inspector Jane Lead-QX64", "VERSION-NOTE-QX65",
}
#: a column name that would be an identifier, a record id or a person id
ID_COLUMN = re.compile(r"(^|_)(id|ids|identifier|record|records|person|persons|name|"
                       r"names|uuid|case)(_|$)", re.I)
EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//""", re.I)
VEGA_SCHEMA = re.compile(r'"\$schema":\s*"https://vega\.github\.io/schema/[^"]*"')


# -- the state --------------------------------------------------------------------------------

def _dp_table(seed: int, *, marker: int | None = None) -> pa.Table:
    rng = np.random.default_rng(seed)
    rows = [(r, y, f) for r in REGIONS for y in YEARS for f in FORMS]
    counts = rng.integers(0, 60, len(rows)).tolist()
    if marker is not None:
        counts[0] = marker
    return pa.table({"region": [r for r, _y, _f in rows], "year": [y for _r, y, _f in rows],
                     "form": [f for _r, _y, f in rows],
                     "count": pa.array(counts, pa.int64()),
                     "error": pa.array(rng.uniform(3.0, 9.0, len(rows)).round(1))})


def _plain_table(seed: int) -> tuple[pa.Table, dict[str, Any]]:
    """Counts by region and year with small ones among them, protected as releases are."""
    rng = np.random.default_rng(seed)
    rows = [(r, y) for r in REGIONS for y in YEARS]
    counts = rng.integers(0, 40, len(rows))
    counts[[1, 6, 11, 17, 25]] = [1, 2, 3, 4, 2]  # small counts the suppression must hide
    full = pa.table({"region": [r for r, _y in rows], "year": [y for _r, y in rows],
                     "count": pa.array(counts.tolist(), pa.int64())})
    protected, prot = protect_counts(full, "count", rows="region", cols=["year"])
    return protected, prot.to_dict()


def _kanon_table() -> pa.Table:
    combos = [("2019", "Feminine", "18-20", "SexualExploitation"),
              ("2020", "Masculine", "30-38", "ForcedLabour"),
              ("2021", "Feminine", "21-23", "ForcedLabour")]
    rows = [c for c in combos for _ in range(12)]
    return pa.table({name: [r[i] for r in rows]
                     for i, name in enumerate(("year", "sex", "age_band", "form"))})


def _figures_table(value: int) -> pa.Table:
    return pa.table({"count": pa.array([value], pa.int64()), "error": pa.array([12.5])})


def _figures(identified: int, note: str = "differentially private count, ε=0.1") -> list[Any]:
    return [{"key": "identified", "label": "Victims identified", "value": identified,
             "error": 12.0, "unit": "persons", "period": "2016–2023",
             "source": "key_figures", "note": note},
            {"key": "estimated", "label": "Estimated victims (identified or not)",
             "value": 9100, "low": 7800.0, "high": 10900.0, "unit": "persons",
             "period": "2016–2023", "source": "estimate of record",
             "note": "multiple systems estimation"}]


SPEC = core.ReleaseSpec(
    title="Identified victims", years=(2016, 2023),
    items=(core.ItemSpec("key_figures", "figures", "Key figures", epsilon=0.1),
           core.ItemSpec("region_year_form", "dp_table", "Victims by region, year and form",
                         dimensions=("region", "year", "form"), epsilon=0.5),
           core.ItemSpec("region_year", "table", "Victims by region and year",
                         dimensions=("region", "year")),
           core.ItemSpec("micro", "kanon", "Victim microdata", k=11,
                         columns=("year", "sex", "age_band", "form"))))


def _version(rel: Release, number: int, status: str, user: Any,
             artefacts: list[tuple[str, str, str, pa.Table, dict[str, Any]]],
             figures: list[Any], *, note: str = "") -> ReleaseVersion:
    """A version with its files written as the workflow writes them (rows, then files)."""
    v = ReleaseVersion.objects.create(release=rel, number=number, status="preparing",
                                      spec=SPEC.to_dict(), data_version="dv-2024-06-01",
                                      prepared_by=user, note=note,
                                      unit={"unit": "persons", "link_run": 7})
    where = services.version_dir(v)
    where.mkdir(parents=True, exist_ok=True)
    items = []
    for key, kind, title, table, meta in artefacts:
        files = services.write_files(table, where, key)
        items.append({"key": key, "kind": kind, "title": title, "rows": table.num_rows,
                      "columns": table.column_names, "files": files, "meta": meta})
    v.items = items
    v.figures = figures
    v.status = status
    v.checked_at = timezone.now()
    v.save()
    return v


def _publish(v: ReleaseVersion, steward: Any) -> ReleaseVersion:
    """What services.approve stores (its checks and ledger are tested with the workflow)."""
    previous = v.release.latest_published()
    v.changes = services.changes(previous, v)
    v.content_hash = services.content_hash(v)
    v.approved_by = steward
    v.approved_at = timezone.now()
    v.citation = services.citation(v)
    v.status = ReleaseVersion.Status.PUBLISHED
    v.save()
    services._public_cache_bump()
    return v


DP_META = {"epsilon": 0.5, "delta": 0.0, "mechanism": "discrete Laplace", "unit": "persons",
           "error_method": "least-squares error quantile",
           "rows_truncated": 3, "out_of_domain": 2, "query": "count of persons"}
FIG_META = {"epsilon": 0.1, "delta": 0.0, "mechanism": "discrete Laplace", "unit": "persons",
            "query": "count of persons identified"}


def _artefacts(seed: int, identified: int, *, dp_title: str = "Victims by region, year "
               "and form", marker: int | None = None
               ) -> list[tuple[str, str, str, pa.Table, dict[str, Any]]]:
    plain, prot = _plain_table(seed)
    return [("key_figures", "figures", "Key figures", _figures_table(identified), FIG_META),
            ("region_year_form", "dp_table", dp_title, _dp_table(seed, marker=marker),
             DP_META),
            ("region_year", "table", "Victims by region and year", plain,
             {"protection": prot, "epsilon": 0.0, "query": "count by region × year",
              "unit": "persons"}),
            ("micro", "kanon", "Victim microdata", _kanon_table(),
             {"k": 11, "layout": "ctdc", "epsilon": 0.0, "suppressed_records": 2,
              "unit": "persons"})]


@dataclass
class State:
    release: Release
    published: ReleaseVersion
    first: ReleaseVersion
    withdrawn: ReleaseVersion
    draft: ReleaseVersion
    blocked: Release
    discarded: Release
    only_withdrawn: Release
    brief: Brief
    hidden_brief: Brief
    plan: Any
    unadopted: Any
    values: dict[tuple[str, str], list[tuple[str, float]]] = field(default_factory=dict)


def plan_doc(ident: str = "nap-pub", title: str = "National Action Plan 2024–2028"
             ) -> plan_core.Plan:
    return plan_core.plan_from_dict({
        "id": ident, "title": title, "country": "Utopia", "period": [2024, 2028],
        "objectives": [{"id": "O1", "pillar": "prosecution", "title": "Prosecute traffickers",
                        "measures": [
            {"id": "M1", "title": "Specialised prosecutors", "type": "enforcement",
             "lead": "Inspector Jane Lead-QX64", "partners": ["Inspector Jane Lead-QX64"],
             "description": "Prosecutors trained and assigned to trafficking cases.",
             "indicators": [
                 {"indicator": "PROS-04", "baseline": 3, "baseline_year": 2023,
                  "targets": {2026: 12, 2028: 20}},
                 {"indicator": "PROS-03", "baseline": 40, "baseline_year": 2023,
                  "targets": {2026: 60}}]},
            {"id": "M2", "title": "Data quality", "type": "data", "lead": "Statistics Office",
             "indicators": [{"indicator": "PART-10", "baseline": 2, "baseline_year": 2023,
                             "targets": {2026: 85}}]}]}]})


#: approved values of the reporting rounds: PROS-04 counts people, 2 and 4 are small
VALUES = {("M1", "PROS-04"): [("2024", 2.0), ("2025", 4.0)],
          ("M1", "PROS-03"): [("2024", 45.0), ("2025", 52.0)],
          ("M2", "PART-10"): [("2025", 3.0)]}


def build_state(users: dict[str, Any], org: Any) -> State:
    """The portal's world; ``users`` holds an analyst, data steward, policy officer and
    administrator of ``org`` (the coordinator)."""
    from tiplab_web.plans import services as plans

    analyst, steward = users["analyst"], users["data_steward"]
    rel = services.create_release(analyst, title="Identified victims, 2016–2023",
                                  description="Victims identified by every agency.")
    first = _publish(_version(rel, 1, "checked", analyst, _artefacts(1, 4100),
                              _figures(4100)), steward)
    withdrawn = _publish(_version(
        rel, 2, "checked", analyst,
        _artefacts(2, 777001, dp_title="WITHDRAWN-ITEM-QX71", marker=777001),
        _figures(777001, note="WITHDRAWN-NOTE-QX72")), steward)
    published = _publish(_version(rel, 3, "checked", analyst, _artefacts(3, 4321),
                                  _figures(4321), note="VERSION-NOTE-QX65"), steward)
    services.withdraw(steward, withdrawn, "A coding error in region R03 inflated 2021.")
    draft = _version(rel, 4, "draft", analyst,
                     _artefacts(4, 888002, dp_title="DRAFT-ITEM-QX81", marker=888002),
                     _figures(888002))

    blocked = services.create_release(analyst, title="BLOCKED-RELEASE-QX91")
    _version(blocked, 1, "blocked", analyst, _artefacts(5, 999003, marker=999003),
             _figures(999003))
    discarded = services.create_release(analyst, title="DISCARDED-RELEASE-QX93")
    _version(discarded, 1, "discarded", analyst, _artefacts(6, 999003), _figures(999003))
    only_withdrawn = services.create_release(analyst, title="Routes of exploitation")
    gone = _publish(_version(only_withdrawn, 1, "checked", analyst,
                             _artefacts(7, 555004, dp_title="ONLY-WITHDRAWN-ITEM-QX95"),
                             _figures(555004)), steward)
    services.withdraw(steward, gone, "Published by mistake before review.")

    brief = Brief.objects.create(version=published, kind="brief", title="Evidence brief 2024",
                                 published=True, updated_by=users["policy_officer"])
    hidden_brief = Brief.objects.create(version=published, kind="annual",
                                        title="Unpublished annual report draft",
                                        published=False, updated_by=users["policy_officer"])

    plan = plans.create(users["policy_officer"], org, plan_doc(), comment="first draft")
    plans.transition(users["administrator"], plan, "adopted", comment="adopted by cabinet")
    plans.new_version(users["policy_officer"], plan)

    def add_measure(doc: plan_core.Plan) -> None:
        doc.objectives[0].measures.append(plan_core.Measure(
            id="M9", title="DRAFT-PLAN-MEASURE-QX61", type="data"))

    plans.mutate(users["policy_officer"], plan, add_measure, "INTERNAL-COMMENT-QX62")
    unadopted = plans.create(users["policy_officer"], org,
                             plan_doc("nap-draft", "UNADOPTED-PLAN-QX63"))
    return State(rel, published, first, withdrawn, draft, blocked, discarded, only_withdrawn,
                 brief, hidden_brief, plan, unadopted, dict(VALUES))


def use_values(monkeypatch: pytest.MonkeyPatch, values: dict[Any, Any]) -> None:
    """The scorecard reads these approved values (the monitoring app's rounds are its own
    tests'); no indicator is computed from case records (there are none)."""
    from tiplab_web.evaluation import services as evaluation

    monkeypatch.setattr(evaluation, "approved_values", lambda plan: values)
    monkeypatch.setattr(evaluation, "computed_values", lambda plan, doc=None: {})


@pytest.fixture
def state(world, settings, tmp_path, monkeypatch) -> State:
    settings.DATA_DIR = tmp_path
    settings.TIPLAB_RELEASE_THRESHOLD = THRESHOLD
    settings.TIPLAB_PUBLIC_CACHE_SECONDS = 300
    s = build_state(world.users, world.home)
    use_values(monkeypatch, s.values)
    return s


@pytest.fixture
def pdf(monkeypatch):
    """The brief's PDF (its rendering is the briefs module's test): a stand-in."""
    from tiplab_web.publications import briefs

    made = []

    def render_pdf(b):
        made.append(b.pk)
        return b"%PDF-1.7\n% brief " + str(b.pk).encode() + b"\n%%EOF\n"

    monkeypatch.setattr(briefs, "render_pdf", render_pdf)
    return made


# -- the crawl --------------------------------------------------------------------------------

LINK = re.compile(r"""(?:href|src)\s*=\s*"([^"]+)\"""", re.I)


def _links(base: str, html: str) -> list[str]:
    out = []
    for raw in LINK.findall(html):
        url = urljoin(base, raw.replace("&amp;", "&"))
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:
            continue  # only our own paths are followed (an external one fails elsewhere)
        out.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return out


def _schema_paths(client: Client, s: State) -> list[str]:
    schema = client.get("/api/open/openapi.json").json()
    values = {"identifier": s.release.identifier, "number": str(s.published.number),
              "key": "region_year", "pk": str(s.plan.pk)}
    out = []
    for path in schema["paths"]:
        out.append(re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path))
        if "{number}" in path:  # and the withdrawn version, whose notice only is served
            out.append(re.sub(r"\{(\w+)\}", lambda m: {**values, "number": str(
                s.withdrawn.number)}[m.group(1)], path))
    return out


def _check_response(url: str, r: Any) -> str:
    assert r.status_code in (200, 304, 410), (url, r.status_code)
    assert not r.cookies, (url, r.cookies)
    body = b"".join(r.streaming_content) if r.streaming else r.content
    text = body.decode("utf-8", "replace")
    for marker in MARKERS:
        assert marker not in text, (url, marker)
    if r["Content-Type"].startswith(("text/html", "application/json", "text/csv",
                                     "image/svg")):
        assert not EXTERNAL.search(text), url
        stripped = VEGA_SCHEMA.sub("", text)
        # the SVG namespace is a name, not a request; the docs page is checked the same way
        stripped = stripped.replace('xmlns="http://www.w3.org/2000/svg"', "")
        stripped = stripped.replace('xmlns:xlink="http://www.w3.org/1999/xlink"', "")
        assert "http://" not in stripped, url
        assert "https://" not in stripped, url
    return text


def _files_of(client: Client, s: State) -> dict[str, bytes]:
    out = {}
    for item in s.published.items:
        for fmt in item["files"]:
            url = public_views.file_url(s.published, item["key"], fmt)
            out[url] = client.get(url).content
    return out


def _columns(url: str, body: bytes) -> list[str]:
    if url.endswith(".parquet"):
        return pq.read_table(io.BytesIO(body)).column_names
    if url.endswith(".json"):
        return json.loads(body)["columns"]
    return next(csv.reader(io.StringIO(body.decode())))


def _counts(url: str, body: bytes) -> list[Any]:
    if url.endswith(".parquet"):
        return pq.read_table(io.BytesIO(body)).column("count").to_pylist()
    if url.endswith(".json"):
        return [r["count"] for r in json.loads(body)["rows"]]
    return [int(r["count"]) if r["count"] else None
            for r in csv.DictReader(io.StringIO(body.decode()))]


def _small(values: list[Any]) -> list[Any]:
    return [v for v in values if v is not None and 1 <= float(v) < THRESHOLD]


@pytest.mark.django_db
def test_crawl_every_public_page_and_api_route(state, client, pdf):
    s = state
    seen: dict[str, str] = {}
    queue = deque(["/public/", *_schema_paths(client, s), "/api/open/docs"])
    while queue:
        url = queue.popleft()
        if url in seen or url.startswith("/static/"):
            continue
        r = client.get(url)
        text = _check_response(url, r)
        seen[url] = text
        # a page in another language is checked, not followed: its links are this page's
        if r["Content-Type"].startswith("text/html") and "lang=" not in url:
            queue.extend(u for u in _links(url, text)
                         if u.startswith(("/public/", "/api/open/")) and u not in seen)
        if r["Content-Type"].startswith("application/json") and r.status_code == 200:
            data = r.json()
            queue.extend(u for u in _json_links(data) if u not in seen)
    # everything the portal is about was reached by following links
    expected = {"/public/", "/public/plans/", f"/public/plans/{s.plan.pk}/",
                public_views.version_url(s.published), public_views.version_url(s.first),
                public_views.version_url(s.withdrawn),
                f"/public/releases/{s.only_withdrawn.identifier}/",
                f"/api/open/plans/{s.plan.pk}/progress", "/api/open/releases",
                f"/public/releases/{s.release.identifier}/v3/brief-{s.brief.pk}.pdf"}
    expected |= {public_views.file_url(s.published, i["key"], f)
                 for i in s.published.items for f in i["files"]}
    assert expected <= set(seen), sorted(expected - set(seen))
    assert any("/charts/" in u and u.endswith(".svg") for u in seen)
    # never reached, and never linked: drafts, blocked and discarded versions, the
    # unpublished brief, the plan never adopted
    for never in (f"/public/releases/{s.release.identifier}/v4/",
                  f"/public/releases/{s.blocked.identifier}/",
                  f"/public/releases/{s.discarded.identifier}/",
                  f"/public/releases/{s.release.identifier}/v3/brief-{s.hidden_brief.pk}.pdf",
                  f"/public/plans/{s.unadopted.pk}/"):
        assert never not in seen
        assert client.get(never).status_code == 404, never
    # the files: no identifier column anywhere, no small count in a plain table
    files = _files_of(client, s)
    for url, body in files.items():
        cols = _columns(url, body)
        assert not [c for c in cols if ID_COLUMN.search(c)], (url, cols)
        assert not set(cols) & core.NEVER_RELEASED, url
    plain = {u: b for u, b in files.items() if "/region_year." in u}
    assert len(plain) == 3
    for url, body in plain.items():
        counts = _counts(url, body)
        assert any(c is None for c in counts), url  # the small cells were suppressed...
        assert not _small(counts), url  # ...and none is left
    rows = client.get(f"/api/open/releases/{s.release.identifier}/versions/3/items/"
                      "region_year?limit=500").json()
    assert rows["total"] == len(REGIONS) * len(YEARS)
    assert not _small([r["count"] for r in rows["rows"]])
    # the plan's progress: no count of people from 1 to 4, in the API or on the page
    progress = client.get(f"/api/open/plans/{s.plan.pk}/progress").json()
    for o in progress["objectives"]:
        for m in o["measures"]:
            for i in m["indicators"]:
                if public_plans.counts_persons(i["unit"]):
                    shown = [i[k]["value"] for k in ("latest", "baseline", "expected",
                                                    "target")]
                    shown += [p["value"] for p in i["series"]]
                    assert not _small(shown), i
    page = seen[f"/public/plans/{s.plan.pk}/"]
    row = re.search(r"Persons convicted of trafficking.*?</tr>", page, re.S).group(0)
    assert not re.search(r">\s*[1-4]\s*(<|\()", row), row
    assert "fewer than 5" in row


def _json_links(data: Any) -> list[str]:
    out: list[str] = []
    if isinstance(data, dict):
        for k, v in data.items():
            if k.endswith("url") and isinstance(v, str) and v.startswith("/"):
                out.append(v)
            else:
                out.extend(_json_links(v))
    elif isinstance(data, list):
        for v in data:
            out.extend(_json_links(v))
    return out


# -- caching ------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/public/", "release", "/api/open/releases", "plan",
                                  "download"])
def test_cache_headers_etag_and_304(state, client, path, settings):
    url = {"release": f"/public/releases/{state.release.identifier}/",
           "plan": f"/api/open/plans/{state.plan.pk}/progress",
           "download": public_views.file_url(state.published, "region_year", "csv")
           }.get(path, path)
    r = client.get(url)
    assert r.status_code == 200
    assert r["Cache-Control"] == "public, max-age=300"
    etag = r["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{40,64}"', etag)
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert again["Cache-Control"] == "public, max-age=300"
    assert client.get(url, HTTP_IF_NONE_MATCH='"stale"').status_code == 200
    assert client.get(url, HTTP_IF_NONE_MATCH=f"W/{etag}, \"x\"").status_code == 304


@pytest.mark.django_db
def test_a_signed_in_visitor_gets_private_caching(state, client_as):
    r = client_as("analyst").get("/public/")
    assert r.status_code == 200
    assert r["Cache-Control"] == "private, max-age=300"


@pytest.mark.django_db
def test_a_withdrawal_shows_at_once_despite_the_cache(state, client, world):
    url = f"/public/releases/{state.release.identifier}/"
    first = client.get(url)
    assert "4,321" in first.content.decode()
    services.withdraw(world.users["data_steward"], state.published, "Superseded by errata.")
    after = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200
    html = after.content.decode()
    assert "4,321" not in html  # version 3's figures are gone...
    assert "4,100" in html  # ...version 1 is the latest published one again
    api = client.get(f"/api/open/releases/{state.release.identifier}/versions/3")
    assert api.status_code == 410
    assert api.json()["error"]["details"][0]["reason"] == "Superseded by errata."


@pytest.mark.django_db
def test_an_evicted_generation_never_brings_back_a_withdrawn_version(state, client, world):
    from django.core.cache import cache

    url = f"/public/releases/{state.release.identifier}/"
    cache.set("tiplab:public:generation", 0, None)
    assert "4,321" in client.get(url).content.decode()  # kept under generation 0
    services.withdraw(world.users["data_steward"], state.published, "Errata.")
    cache.delete("tiplab:public:generation")  # a full cache evicts it: 0 again
    assert services.public_generation() == 0
    assert "4,321" not in client.get(url).content.decode()


@pytest.mark.django_db
def test_pages_come_from_the_cache(state, client, django_assert_max_num_queries):
    url = public_views.version_url(state.published)
    assert client.get(url).status_code == 200
    with django_assert_max_num_queries(6):  # the version's lookup, not its rendering
        assert client.get(url).status_code == 200


# -- downloads ----------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_downloads_are_the_frozen_files(state, client, fmt):
    v = state.published
    for item in v.items:
        r = client.get(public_views.file_url(v, item["key"], fmt))
        assert r.status_code == 200
        assert r["Content-Type"] == services.FORMATS[fmt]
        safe = v.release.identifier.replace(":", "_")
        assert r["Content-Disposition"] == (f'attachment; filename="{safe}-v3-'
                                            f'{item["key"]}.{fmt}"')
        assert hashlib.sha256(r.content).hexdigest() == item["files"][fmt]["sha256"]
        assert r["ETag"] == f'"{item["files"][fmt]["sha256"]}"'


@pytest.mark.django_db
def test_a_changed_file_is_not_served(state, client):
    v = state.published
    path = services.version_dir(v) / v.items[1]["files"]["csv"]["name"]
    path.write_text(path.read_text().replace("R01", "R99", 1))
    assert client.get(public_views.file_url(v, v.items[1]["key"], "csv")).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("url", [
    "/public/releases/tiplab:XT-1999-0001/",
    "/public/releases/{rel}/v9/",
    "/public/releases/{rel}/v4/",  # the draft
    "/public/releases/{rel}/v3/nothing.csv",
    "/public/releases/{rel}/v3/region_year.xlsx",
    "/public/releases/{rel}/v2/region_year.csv",  # withdrawn: no file
    "/public/releases/{rel}/v4/region_year.csv",  # draft: no file
    "/public/releases/{rel}/v3/charts/region_year-year.gif",
    "/public/releases/{rel}/v3/charts/micro-year.svg",
    "/public/releases/{blocked}/",
    "/public/releases/{blocked}/v1/",
    "/public/releases/{blocked}/v1/region_year.csv",
    "/public/plans/999999/",
    "/public/no/such/page/",
])
def test_unknown_and_unpublished_things_are_404(state, client, url):
    url = url.format(rel=state.release.identifier, blocked=state.blocked.identifier)
    r = client.get(url)
    assert r.status_code == 404
    assert not r.cookies


@pytest.mark.django_db
@pytest.mark.parametrize("url", [
    "/api/open/releases/tiplab:XT-1999-0001",
    "/api/open/releases/{rel}/versions/4",
    "/api/open/releases/{rel}/versions/9/items/region_year",
    "/api/open/releases/{rel}/versions/3/items/nothing",
    "/api/open/releases/{blocked}",
    "/api/open/plans/999999/progress",
])
def test_the_api_answers_404_in_the_one_error_shape(state, client, url):
    r = client.get(url.format(rel=state.release.identifier, blocked=state.blocked.identifier))
    assert r.status_code == 404
    assert r.json() == {"error": {"status": 404, "code": "not_found", "message": "Not found.",
                                  "details": []}}


@pytest.mark.django_db
def test_the_api_validates_paging(state, client):
    r = client.get("/api/open/releases?limit=0")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"
    page = client.get(f"/api/open/releases/{state.release.identifier}/versions/3/items/"
                      "region_year_form?limit=10&offset=50").json()
    assert page["total"] == len(REGIONS) * len(YEARS) * len(FORMS)
    assert len(page["rows"]) == 10
    whole = pq.read_table(services.version_dir(state.published) / "region_year_form.parquet")
    assert page["rows"] == whole.slice(50, 10).to_pylist()


# -- what the pages say -------------------------------------------------------------------

@pytest.mark.django_db
def test_the_release_page(state, client, pdf):
    r = client.get(f"/public/releases/{state.release.identifier}/")
    html = r.content.decode()
    v = state.published
    assert r.status_code == 200
    assert escape(v.citation) in html  # the publisher may be "Rapporteur's Office"
    assert 'data-copy-target="citation-text"' in html
    assert v.content_hash in html
    assert "dv-2024-06-01" in html
    assert "spent ε = 0.6 of" in html  # spent on this version: 0.1 (figures) + 0.5 (table)
    assert "11-anonymous" in html
    assert "from 1 to 4 are suppressed" in html
    assert "4,321" in html
    assert "± 12" in html
    assert "7,800 – 10,900" in html
    # the charts: a trend by year with its band, ranked regions; their static fallback
    assert html.count('class="tiplab-chart"') == 4
    assert 'id="chart-region_year_form-year-spec"' in html
    assert "/v3/charts/region_year_form-year.svg" in html
    # history: the withdrawn version's notice, the first one, and no withdrawn content
    assert "A coding error in region R03 inflated 2021." in html
    assert "which has since been withdrawn" in html
    assert "/v1/" in html
    assert f"brief-{state.brief.pk}.pdf" in html
    assert f"brief-{state.hidden_brief.pk}.pdf" not in html
    # the analysts' diagnostics are not public (exact, not noisy, counts)
    api = client.get(f"/api/open/releases/{state.release.identifier}/versions/3").json()
    assert "rows_truncated" not in json.dumps(api)
    assert "suppressed_records" not in json.dumps(api)


@pytest.mark.django_db
def test_a_withdrawn_version_shows_its_notice_only(state, client):
    r = client.get(public_views.version_url(state.withdrawn))
    html = r.content.decode()
    assert r.status_code == 410
    assert "A coding error in region R03 inflated 2021." in html
    assert state.withdrawn.label in html
    assert "tiplab-chart" not in html
    assert "table-wrap" not in html
    only = client.get(f"/public/releases/{state.only_withdrawn.identifier}/")
    assert only.status_code == 410
    assert "Published by mistake before review." in only.content.decode()
    api = client.get(f"/api/open/releases/{state.release.identifier}/versions/2")
    assert api.status_code == 410
    error = api.json()["error"]
    assert error["code"] == "withdrawn"
    assert error["message"].endswith("A coding error in region R03 inflated 2021.")
    [notice] = error["details"]
    assert set(notice) == {"identifier", "title", "number", "status", "withdrawn_at", "reason"}
    rows = client.get(f"/api/open/releases/{state.release.identifier}/versions/2/items/"
                      "region_year")
    assert rows.status_code == 410


@pytest.mark.django_db
def test_the_open_api_lists_published_releases(state, client):
    data = client.get("/api/open/releases").json()
    assert data["count"] == 1
    [rel] = data["items"]
    assert rel["identifier"] == state.release.identifier
    assert rel["latest_version"] == 3
    assert rel["figures"][0]["value"] == 4321
    detail = client.get(rel["api_url"]).json()
    assert [(v["number"], v["status"]) for v in detail["versions"]] == [
        (3, "published"), (2, "withdrawn"), (1, "published")]
    assert detail["versions"][1]["content_hash"] is None
    version = client.get(detail["versions"][0]["api_url"]).json()
    assert version["citation"] == state.published.citation
    assert version["privacy"]["epsilon"] == pytest.approx(0.6)
    assert version["privacy"]["k"] == [11]
    assert version["changes"] == {"first": False, "previous": 2, "previous_withdrawn": True,
                                  "added": [], "removed": [], "changed": [], "figures": [],
                                  "data_version": None}
    kinds = {i["key"]: i["privacy"] for i in version["items"]}
    assert kinds["region_year"]["threshold"] == 5
    assert kinds["region_year_form"]["mechanism"] == "discrete Laplace"
    first = client.get(detail["versions"][2]["api_url"]).json()
    assert first["changes"]["first"] is True


def test_the_open_api_documents_its_schemas_and_errors(client, db):
    schema = client.get("/api/open/openapi.json").json()
    version = schema["paths"]["/api/open/releases/{identifier}/versions/{number}"]["get"]
    assert {"200", "404", "410", "422", "429"} <= set(version["responses"])
    assert "securitySchemes" not in schema.get("components", {})
    assert {"VersionOut", "ProgressOut", "RowsOut", "ErrorOut"} <= set(
        schema["components"]["schemas"])
    docs = client.get("/api/open/docs")
    html = docs.content.decode()
    assert docs.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert "https://" not in html
    assert "http://" not in html
    assert not docs.cookies


# -- plan progress ------------------------------------------------------------------------

@pytest.mark.django_db
def test_plan_progress_is_the_adopted_version_protected(state, client):
    data = client.get(f"/api/open/plans/{state.plan.pk}/progress").json()
    assert data["version"] == 1
    assert data["status"] == "adopted"
    assert data["threshold"] == 5
    measures = {m["measure"]: m for o in data["objectives"] for m in o["measures"]}
    assert set(measures) == {"M1", "M2"}  # not the draft's M9
    convicted = next(i for i in measures["M1"]["indicators"] if i["indicator"] == "PROS-04")
    assert convicted["latest"] == {"value": None, "text": "fewer than 5", "protected": True}
    assert convicted["baseline"]["protected"] is True
    assert convicted["expected"]["protected"] is True  # interpolated from the baseline
    assert convicted["progress"] is None  # it would give the hidden value back
    assert convicted["target"] == {"value": 20.0, "text": "20", "protected": False}
    assert convicted["status"] == "off_track"  # the rating stays
    assert [p["text"] for p in convicted["series"]] == ["fewer than 5", "fewer than 5"]
    prosecuted = next(i for i in measures["M1"]["indicators"] if i["indicator"] == "PROS-03")
    assert prosecuted["latest"]["value"] == 52.0
    # 52 against 40 → 60 expected in 2025 (straight line 2023 → 2026): progress 12/13.33
    assert prosecuted["progress"] == pytest.approx(0.9, abs=1e-3)
    completeness = measures["M2"]["indicators"][0]
    assert completeness["unit"] == "percent"
    assert completeness["latest"] == {"value": 3.0, "text": "3", "protected": False}
    assert "lead" not in json.dumps(data)
    listed = client.get("/api/open/plans").json()
    assert [p["id"] for p in listed["items"]] == [state.plan.pk]


def test_which_units_count_people():
    assert public_plans.counts_persons("persons")
    assert public_plans.counts_persons("persons; percent")
    assert public_plans.counts_persons("count; days")
    assert public_plans.counts_persons("FTE; persons")
    assert not public_plans.counts_persons("percent")
    assert not public_plans.counts_persons("currency; currency per capita")
    assert not public_plans.counts_persons("yes/no; days late")


@pytest.mark.parametrize(("value", "text", "protected"), [
    (0.0, "0", False), (1.0, "fewer than 5", True), (4.0, "fewer than 5", True),
    (4.5, "fewer than 5", True), (5.0, "5", False), (1234.0, "1,234", False),
    (None, "—", False)])
def test_a_small_count_of_people_is_hidden(value, text, protected):
    shown = public_plans.shown(value, persons=True, limit=5)
    assert (shown.text, shown.protected) == (text, protected)
    assert shown.value == (None if protected else value)
    assert public_plans.shown(3.0, persons=False, limit=5).text == "3"


@pytest.mark.django_db
def test_the_brief_carries_the_protected_scorecard(state, world):
    sc = public_plans.bundle_scorecard(world.home)
    assert sc["plan"] == "National Action Plan 2024–2028"
    convicted = next(r for r in sc["rows"] if r["indicator"] == "Persons convicted of "
                     "trafficking")
    assert convicted["latest"] == "fewer than 5"
    assert convicted["baseline"] == "fewer than 5"
    assert sc["counts"]
    assert public_plans.bundle_scorecard(world.elsewhere) is None


@pytest.mark.django_db
def test_the_plan_page(state, client):
    html = client.get(f"/public/plans/{state.plan.pk}/").content.decode()
    assert "Specialised prosecutors" in html
    assert "Prosecutors trained and assigned to trafficking cases." in html
    assert "fewer than 5" in html
    assert "Off track" in html
    listing = client.get("/public/plans/").content.decode()
    assert f"/public/plans/{state.plan.pk}/" in listing


@pytest.mark.django_db
def test_a_published_brief_is_its_pdf_with_the_protected_scorecard(state, client):
    import pypdf

    r = client.get(f"/public/releases/{state.release.identifier}/v3/brief-{state.brief.pk}.pdf")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    assert r["Cache-Control"] == "public, max-age=300"
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(r.content)).pages)
    text = " ".join(text.split())
    assert "4,321" in text
    assert "fewer than 5" in text  # the plan's small counts of people, protected
    for marker in MARKERS:
        assert marker not in text


# -- charts ---------------------------------------------------------------------------------

def test_totals_by_year_with_errors_and_suppressed_cells():
    t = pa.table({"region": ["A", "B", "A", "B"], "year": ["2020", "2020", "2021", "2021"],
                  "count": pa.array([10, 20, None, 7], pa.int64()),
                  "error": [3.0, 4.0, 3.0, 4.0]})
    rows = {r["year"]: r for r in public_views.totals(t, "year")}
    assert rows["2020"]["count"] == 30
    assert rows["2020"]["complete"]
    assert rows["2020"]["error"] == pytest.approx(5.0)  # √(3² + 4²)
    assert rows["2021"]["count"] == 7
    assert not rows["2021"]["complete"]
    regions = {r["region"]: r for r in public_views.totals(t.drop_columns(["error"]),
                                                           "region")}
    assert regions["B"]["count"] == 27
    assert regions["B"]["error"] is None


@pytest.mark.django_db
def test_the_static_chart_is_served(state, client):
    v = state.published
    svg = client.get(f"/public/releases/{v.release.identifier}/v3/charts/"
                     "region_year_form-year.svg")
    assert svg.status_code == 200
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg.content.lstrip().startswith(b"<svg")
    png = client.get(f"/public/releases/{v.release.identifier}/v3/charts/"
                     "region_year-region.png")
    assert png.status_code == 200
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert "attachment" in png["Content-Disposition"]
