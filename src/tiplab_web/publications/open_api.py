"""The open-data API (``/api/open/``): the public portal's content as JSON, read-only and
without authentication. OpenAPI schema at ``/api/open/openapi.json``, docs at
``/api/open/docs`` (Swagger UI from the app's own static files, like the main API's).

It shows exactly what the portal shows (:mod:`public_views` decides what is public): the
published releases, their versions' figures and items, an item's rows page by page (from
the frozen Parquet file, its sha256 checked), the notice of a withdrawn version (410), and the
protected progress of adopted plans (:mod:`public_plans`). Errors have the one shape of the
main API (:func:`tiplab_web.api.install_error_handlers`). Every answer carries an ``ETag``
and ``Cache-Control``; bodies are kept in Django's cache under the publication generation,
so an approval or a withdrawal shows at once.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from ninja import NinjaAPI, Query, Schema
from pydantic import BaseModel, Field

from tiplab_web.api import ErrorOut, install_error_handlers
from tiplab_web.api_errors import error_body

from . import public_plans, services
from . import public_views as portal
from .models import Release, ReleaseVersion

open_api = NinjaAPI(
    title="tiplab open data",
    version="1",
    description="Published statistics on trafficking in human beings and the progress of "
    "the National Action Plan, as JSON. No authentication. Every figure is from a "
    "published, frozen release version; counts of people below the publication threshold "
    "are never shown. Cite a version by its citation text or label.",
    urls_namespace="open_api",
    auth=None,
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(open_api)

MAX_LIMIT = 500


# -- schemas ----------------------------------------------------------------------------------

#: a count stays an integer in the JSON (a float only where the figure is one)
Number = int | float


class FigureOut(Schema):
    key: str
    label: str | None = None
    value: Number | None = None
    low: Number | None = None
    high: Number | None = None
    error: Number | None = Field(None, description="95% half-width of the privacy noise")
    unit: str | None = None
    period: str | None = None
    note: str | None = None
    source: str | None = None


class FileOut(Schema):
    format: str
    name: str
    bytes: int
    sha256: str
    url: str


class ItemPrivacyOut(Schema):
    kind: str
    epsilon: float
    delta: float
    mechanism: str
    unit: str
    k: int | None = None
    threshold: int | None = Field(None, description="counts from 1 to threshold - 1 are "
                                  "suppressed (tables without noise)")
    error_method: str
    text: str


class ItemOut(Schema):
    key: str
    kind: str = Field(description="dp_table, table, kanon, synthetic or figures")
    title: str
    rows: int
    columns: list[str]
    files: list[FileOut]
    privacy: ItemPrivacyOut
    rows_url: str


class FigureChangeOut(Schema):
    key: str | None = None
    label: str | None = None
    old: Number | None = None
    new: Number | None = None


class ChangesOut(Schema):
    first: bool = False
    previous: int | None = None
    previous_withdrawn: bool = False
    added: list[str] = []
    removed: list[str] = []
    changed: list[str] = []
    figures: list[FigureChangeOut] = []
    data_version: list[str] | None = None


class PrivacyOut(Schema):
    epsilon: float = Field(description="privacy loss this version spent (sum over items)")
    mechanisms: list[str]
    unit: str = Field(description="persons (linked records) or records")
    unit_text: str
    k: list[int]
    thresholds: list[int]


class BriefOut(Schema):
    id: int
    kind: str
    title: str
    url: str


class VersionSummaryOut(Schema):
    number: int
    status: str = Field(description="published or withdrawn")
    published_at: dt.datetime | None = None
    withdrawn_at: dt.datetime | None = None
    withdrawn_reason: str = ""
    content_hash: str | None = None
    url: str
    api_url: str


class ReleaseSummaryOut(Schema):
    identifier: str
    title: str
    description: str
    latest_version: int | None = None
    published_at: dt.datetime | None = None
    figures: list[FigureOut]
    url: str
    api_url: str


class ReleasePageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[ReleaseSummaryOut]


class ReleaseOut(ReleaseSummaryOut):
    versions: list[VersionSummaryOut]


class VersionOut(Schema):
    identifier: str
    title: str
    number: int
    label: str
    status: str
    published_at: dt.datetime | None
    data_version: str
    content_hash: str
    citation: str
    privacy: PrivacyOut
    figures: list[FigureOut]
    items: list[ItemOut]
    changes: ChangesOut
    briefs: list[BriefOut]
    url: str


class WithdrawnOut(Schema):
    """The notice of a withdrawn version (in the 410 error's ``details``)."""

    identifier: str
    title: str
    number: int
    status: str = "withdrawn"
    withdrawn_at: dt.datetime | None
    reason: str


class RowsOut(Schema):
    identifier: str
    number: int
    key: str
    columns: list[str]
    total: int
    limit: int
    offset: int
    rows: list[dict[str, Any]]


class ShownOut(Schema):
    value: float | None = Field(description="null when not reported or hidden")
    text: str
    protected: bool = Field(description="a count of people below the threshold, hidden")


class SeriesPointOut(ShownOut):
    period: str


class IndicatorOut(Schema):
    indicator: str
    name: str
    unit: str
    direction: str
    status: str
    status_label: str
    period: str
    latest: ShownOut
    baseline: ShownOut
    expected: ShownOut
    target: ShownOut
    target_year: int | None
    progress: float | None
    series: list[SeriesPointOut]


class MeasureOut(Schema):
    measure: str
    title: str
    description: str
    type: str
    implementation: str
    status: str
    status_label: str
    overdue_milestones: int
    indicators: list[IndicatorOut]


class ObjectiveOut(Schema):
    objective: str
    pillar: str
    pillar_title: str
    title: str
    description: str
    measures: list[MeasureOut]


class PlanBaseOut(Schema):
    """What every public view of an adopted plan says about it."""

    id: int
    ident: str
    title: str
    country: str
    version: int
    status: str
    start_year: int
    end_year: int
    adopted_at: str
    counts: dict[str, int]
    url: str


class PlanSummaryOut(PlanBaseOut):
    api_url: str


class PlanPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[PlanSummaryOut]


class ProgressOut(PlanBaseOut):
    year: int
    as_of: str
    threshold: int
    rules: dict[str, float]
    objectives: list[ObjectiveOut]


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)


ERRORS: dict[int, Any] = {404: ErrorOut, 422: ErrorOut, 429: ErrorOut}


# -- answering --------------------------------------------------------------------------------

def _answer(request: HttpRequest, key: str, schema: type[BaseModel],
            build: Callable[[], tuple[dict[str, Any], int]],
            timeout: int | None = None) -> HttpResponse:
    """The JSON of ``build()`` checked against ``schema``, cached, with ETag and
    Cache-Control (a 304 when the client has it)."""

    def render() -> tuple[bytes, int]:
        # one language for the data, whatever the browser asks: the API's texts are English
        with translation.override(settings.LANGUAGE_CODE):
            data, status = build()
            model = (ErrorOut if status >= 400 else schema).model_validate(data)
        return model.model_dump_json().encode(), status

    body, status = portal.cached_body(f"api:{key}", render, timeout)
    return portal.cacheable(request, body, "application/json", status=status)


def _summary(rel: Release, v: ReleaseVersion | None) -> dict[str, Any]:
    return {"identifier": rel.identifier, "title": rel.title, "description": rel.description,
            "latest_version": v.number if v else None,
            "published_at": v.approved_at if v else None,
            "figures": portal.public_figures(v) if v else [],
            "url": reverse("public:release", args=[rel.identifier]),
            "api_url": reverse("open_api:release", kwargs={"identifier": rel.identifier})}


def _withdrawn(v: ReleaseVersion) -> dict[str, Any]:
    """410 in the API's one error shape, the version's notice (and nothing else of it) in
    ``details``."""
    notice = WithdrawnOut(identifier=v.release.identifier, title=v.release.title,
                          number=v.number, withdrawn_at=v.withdrawn_at,
                          reason=v.withdrawn_reason).model_dump(mode="json")
    when = v.withdrawn_at.date().isoformat() if v.withdrawn_at else ""
    return error_body(410, code="withdrawn", details=[notice],
                      message=f"{v.label} was withdrawn on {when}: {v.withdrawn_reason}")


def _version_summary(v: ReleaseVersion) -> dict[str, Any]:
    published = v.status == ReleaseVersion.Status.PUBLISHED
    return {"number": v.number, "status": v.status,
            "published_at": v.approved_at if published else None,
            "withdrawn_at": v.withdrawn_at if not published else None,
            "withdrawn_reason": v.withdrawn_reason if not published else "",
            "content_hash": v.content_hash if published else None,
            "url": portal.version_url(v),
            "api_url": reverse("open_api:version", kwargs={
                "identifier": v.release.identifier, "number": v.number})}


def _item(v: ReleaseVersion, item: dict[str, Any]) -> dict[str, Any]:
    files = [{"format": fmt, "name": meta["name"], "bytes": int(meta["bytes"]),
              "sha256": meta["sha256"], "url": portal.file_url(v, item["key"], fmt)}
             for fmt, meta in item["files"].items() if fmt in services.FORMATS]
    return {"key": item["key"], "kind": item["kind"], "title": item["title"],
            "rows": int(item.get("rows") or 0), "columns": list(item.get("columns") or []),
            "files": files, "privacy": portal.item_privacy(item),
            "rows_url": reverse("open_api:item_rows", kwargs={
                "identifier": v.release.identifier, "number": v.number, "key": item["key"]})}


def _version(v: ReleaseVersion) -> dict[str, Any]:
    return {"identifier": v.release.identifier, "title": v.release.title, "number": v.number,
            "label": v.label, "status": v.status, "published_at": v.approved_at,
            "data_version": v.data_version, "content_hash": v.content_hash,
            "citation": v.citation, "privacy": portal.privacy_statement(v),
            "figures": portal.public_figures(v), "items": [_item(v, i) for i in v.items],
            "changes": portal.public_changes(v),
            "briefs": [{"id": b.pk, "kind": b.kind, "title": b.title,
                        "url": reverse("public:brief", args=[
                            v.release.identifier, v.number, b.pk])}
                       for b in portal.public_briefs(v)],
            "url": portal.version_url(v)}


def _json_value(x: Any) -> Any:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dt.date | dt.datetime):
        return x.isoformat()
    if isinstance(x, bytes):
        return x.decode("utf-8", "replace")
    if isinstance(x, list):
        return [_json_value(y) for y in x]
    return x


# -- releases ---------------------------------------------------------------------------------

@open_api.get("/releases", response={200: ReleasePageOut, **ERRORS}, tags=["releases"],
              url_name="releases", summary="Published releases, newest first")
def releases(request: HttpRequest, page: Query[PageParams]) -> HttpResponse:
    def build() -> tuple[dict[str, Any], int]:
        rows = portal.latest_versions()
        shown = rows[page.offset:page.offset + page.limit]
        return {"count": len(rows), "limit": page.limit, "offset": page.offset,
                "items": [_summary(v.release, v) for v in shown]}, 200

    return _answer(request, f"releases:{page.limit}:{page.offset}", ReleasePageOut, build)


@open_api.get("/releases/{identifier}", response={200: ReleaseOut, **ERRORS},
              tags=["releases"], url_name="release",
              summary="A release: its latest version's figures and every public version")
def release(request: HttpRequest, identifier: str) -> HttpResponse:
    rel = portal.public_release(identifier)

    def build() -> tuple[dict[str, Any], int]:
        v = rel.latest_published()
        return {**_summary(rel, v),
                "versions": [_version_summary(x) for x in portal.history(rel)]}, 200

    return _answer(request, f"release:{rel.pk}", ReleaseOut, build)


@open_api.get("/releases/{identifier}/versions/{number}",
              response={200: VersionOut, 410: ErrorOut, **ERRORS}, tags=["releases"],
              url_name="version",
              summary="A version: figures, items and their files, privacy, citation "
                      "(410 when it was withdrawn, its notice in the error's details)")
def version(request: HttpRequest, identifier: str, number: int) -> HttpResponse:
    v = portal.public_version(portal.public_release(identifier), number)

    def build() -> tuple[dict[str, Any], int]:
        if v.status == ReleaseVersion.Status.WITHDRAWN:
            return _withdrawn(v), 410
        return _version(v), 200

    return _answer(request, f"version:{v.pk}", VersionOut, build)


@open_api.get("/releases/{identifier}/versions/{number}/items/{key}",
              response={200: RowsOut, 410: ErrorOut, **ERRORS}, tags=["releases"],
              url_name="item_rows",
              summary="An item's rows, page by page (limit, offset), from its frozen file")
def item_rows(request: HttpRequest, identifier: str, number: int, key: str,
              page: Query[PageParams]) -> HttpResponse:
    v = portal.public_version(portal.public_release(identifier), number)
    if v.status == ReleaseVersion.Status.PUBLISHED and not any(
            i["key"] == key for i in v.items):
        raise Http404

    def build() -> tuple[dict[str, Any], int]:
        if v.status == ReleaseVersion.Status.WITHDRAWN:
            return _withdrawn(v), 410
        try:
            t = services.item_table(v, key)
        except services.PublicationError as e:
            raise Http404 from e
        part = t.slice(page.offset, page.limit).to_pylist()
        return {"identifier": v.release.identifier, "number": v.number, "key": key,
                "columns": list(t.column_names), "total": t.num_rows, "limit": page.limit,
                "offset": page.offset,
                "rows": [{k: _json_value(x) for k, x in r.items()} for r in part]}, 200

    return _answer(request, f"rows:{v.pk}:{key}:{page.limit}:{page.offset}", RowsOut, build)


# -- plans ------------------------------------------------------------------------------------

def _plan_summary(prog: public_plans.PublicProgress) -> dict[str, Any]:
    return {"id": prog.id, "ident": prog.ident, "title": prog.title, "country": prog.country,
            "version": prog.version, "status": prog.status, "start_year": prog.start_year,
            "end_year": prog.end_year, "adopted_at": prog.adopted_at, "counts": prog.counts,
            "url": reverse("public:plan", args=[prog.id]),
            "api_url": reverse("open_api:plan_progress", kwargs={"pk": prog.id})}


@open_api.get("/plans", response={200: PlanPageOut, **ERRORS}, tags=["plans"],
              url_name="plans", summary="Adopted action plans with their ratings' counts")
def plans(request: HttpRequest, page: Query[PageParams]) -> HttpResponse:
    found = public_plans.public_plans()

    def build() -> tuple[dict[str, Any], int]:
        shown = found[page.offset:page.offset + page.limit]
        return {"count": len(found), "limit": page.limit, "offset": page.offset,
                "items": [_plan_summary(public_plans.progress(p, r)) for p, r in shown]}, 200

    key = ",".join(f"{p.pk}:{public_plans.fingerprint(r)}" for p, r in found)
    return _answer(request, f"plans:{key}:{portal.today()}:{page.limit}:{page.offset}",
                   PlanPageOut, build, timeout=portal.max_age())


@open_api.get("/plans/{pk}/progress", response={200: ProgressOut, **ERRORS}, tags=["plans"],
              url_name="plan_progress",
              summary="An adopted plan's scorecard, protected: counts of people below the "
                      "threshold read \"fewer than N\"")
def plan_progress(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        plan, rev = public_plans.public_plan(pk)
    except public_plans.NotPublic as e:
        raise Http404 from e

    def build() -> tuple[dict[str, Any], int]:
        prog = public_plans.progress(plan, rev)
        return {**prog.to_dict(), "url": reverse("public:plan", args=[plan.pk])}, 200

    return _answer(request, f"progress:{public_plans.fingerprint(rev)}:{portal.today()}",
                   ProgressOut, build, timeout=portal.max_age())
