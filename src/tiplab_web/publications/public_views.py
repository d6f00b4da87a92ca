"""The public portal (``/public/``): published releases, their files and charts, and the
progress of adopted plans — for anyone, without an account (the ``public`` role).

What the public may see, and nothing else:

* a **published** version's frozen content: its key figures, its items' files (served from
  the files frozen at approval, their sha256 checked on every read by
  :func:`services.item_file`), tables and charts drawn from those files, the privacy
  statement, citation, data version, content hash and its changes from the previous
  *published* version;
* a **withdrawn** version's notice only (title, when, why): its figures, files and
  changes are never shown again;
* nothing of a version in preparation, checked, blocked, failed or discarded (404, as if it
  did not exist), and nothing from the case records except the published files;
* plan progress in its protected public version (:mod:`public_plans`).

Responses are cacheable (``Cache-Control: public, max-age=TIPLAB_PUBLIC_CACHE_SECONDS``; a
request that carries a session cookie gets ``private`` instead, because the session
middleware may add a ``Set-Cookie`` to it). Each has a strong ``ETag`` (the sha256 of the
body) and ``If-None-Match`` gets a 304. Rendered pages are kept in Django's cache under a
key with :func:`services.public_generation` (which every approval, withdrawal and published
brief increments) and :func:`state_stamp` (the same, read from the database): a change is
visible at once, not after the cache expires. Plan progress moves with reporting rounds
that bump no generation: its pages are kept for ``TIPLAB_PUBLIC_CACHE_SECONDS`` only. No page sets a
cookie: there is no form, no CSRF token and no session write, and the language is chosen with
``?lang=`` (or the browser's preference), like the anonymous routes.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from . import public_plans, services
from .models import Brief, Release, ReleaseVersion

#: rows of a table shown on a page (the files and the open-data API have all of them)
PAGE_ROWS = 200
#: what the public may see of a version at all
VISIBLE = (ReleaseVersion.Status.PUBLISHED, ReleaseVersion.Status.WITHDRAWN)
#: chart images (the static fallback and export of an interactive chart)
CHART_TYPES = {"svg": "image/svg+xml", "png": "image/png"}
#: bump when what a cached page or chart holds changes shape (old entries are then unused)
CACHE_VERSION = 1


# -- responses: language, cache, ETag ---------------------------------------------------------

def language(request: HttpRequest) -> str:
    """``?lang=`` when it names a language of the site, else the request's language."""
    codes = {code for code, _name in settings.LANGUAGES}
    asked = request.GET.get("lang", "")
    if asked in codes:
        return asked
    return translation.get_language() or settings.LANGUAGE_CODE


def max_age() -> int:
    return int(settings.TIPLAB_PUBLIC_CACHE_SECONDS)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def _matches(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    if header.strip() == "*":
        return True
    # weak comparison (RFC 9110 13.1.2): W/"x" matches "x"
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in tags


def cacheable(request: HttpRequest, body: bytes, content_type: str, *, status: int = 200,
              etag: str | None = None, headers: dict[str, str] | None = None
              ) -> HttpResponse:
    """``body`` with the public cache headers, or a 304 when the client has it already."""
    etag = etag or etag_of(body)
    scope = "private" if settings.SESSION_COOKIE_NAME in request.COOKIES else "public"
    response: HttpResponse
    if status == 200 and _matches(request, etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=content_type, status=status)
        for name, value in (headers or {}).items():
            response[name] = value
    response["ETag"] = etag
    response["Cache-Control"] = f"{scope}, max-age={max_age()}"
    response["X-Content-Type-Options"] = "nosniff"
    patch_vary_headers(response, ("Accept-Language",))
    return response


def state_stamp() -> str:
    """What is public now, in a few characters: the number of published and withdrawn
    versions, the latest approval and withdrawal, the published briefs.

    Part of every cache key with the generation: the generation is itself a cache entry,
    which a full cache may evict (it would then read 0 again, and pages cached under an old
    generation 0 could be served); this stamp comes from the database, so a page cached
    before a withdrawal is never served after it."""
    from django.db.models import Count, Max, Q

    v = ReleaseVersion.objects.filter(status__in=VISIBLE).aggregate(
        n=Count("pk"), p=Count("pk", filter=Q(status=ReleaseVersion.Status.PUBLISHED)),
        a=Max("approved_at"), w=Max("withdrawn_at"))
    b = Brief.objects.filter(published=True).aggregate(n=Count("pk"), u=Max("updated_at"))
    blob = json.dumps([v["n"], v["p"], v["a"], v["w"], b["n"], b["u"]], default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cached_body(key: str, build: Callable[[], tuple[bytes, int]],
                timeout: int | None = None) -> tuple[bytes, int]:
    """``build()`` (body, status), kept in the cache under ``key``, the generation and the
    :func:`state_stamp`."""
    full = (f"tiplab:public:v{CACHE_VERSION}:{services.public_generation()}:"
            f"{state_stamp()}:{key}")
    hit = cache.get(full)
    if hit is not None:
        return bytes(hit[0]), int(hit[1])
    body, status = build()
    cache.set(full, (body, status), max_age() * 12 if timeout is None else timeout)
    return body, status


def page(request: HttpRequest, template: str, context: Callable[[], dict[str, Any]], *,
         key: str = "", timeout: int | None = None) -> HttpResponse:
    """A portal page, rendered once per generation, language and address."""
    lang = language(request)

    def build() -> tuple[bytes, int]:
        with translation.override(lang):
            ctx = context()
            status = int(ctx.pop("status", 200))
            ctx.update({"lang": lang, "lang_query": _lang_query(request),
                        "languages": settings.LANGUAGES, "path": request.path})
            return render_to_string(template, ctx).encode(), status

    # the path, not the query: only ?lang= changes a page, and it is in the key already
    body, status = cached_body(f"page:{lang}:{key}:{request.path}", build, timeout)
    response = cacheable(request, body, "text/html; charset=utf-8", status=status)
    response["Content-Language"] = lang
    return response


def _lang_query(request: HttpRequest) -> str:
    lang = request.GET.get("lang", "")
    return f"?lang={lang}" if lang in {c for c, _n in settings.LANGUAGES} else ""


def public_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """GET and HEAD only, and "not found" as the portal's own page: the site's error pages
    are drawn in the signed-in shell, whose forms set a CSRF cookie."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return not_found(request)

    return require_safe(wrapper)


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    lang = language(request)
    with translation.override(lang):
        body = render_to_string("publications/public/404.html", {
            "lang": lang, "lang_query": _lang_query(request),
            "languages": settings.LANGUAGES, "path": request.path}).encode()
    response = cacheable(request, body, "text/html; charset=utf-8", status=404)
    response["Content-Language"] = lang
    return response


# -- what the public may see ------------------------------------------------------------------

def public_release(identifier: str) -> Release:
    """A release with at least one published or withdrawn version, else 404."""
    rel = Release.objects.filter(identifier=identifier).first()
    if rel is None or not rel.versions.filter(status__in=VISIBLE).exists():
        raise Http404
    return rel


def public_version(rel: Release, number: int) -> ReleaseVersion:
    """Version ``number`` of ``rel`` if it is published or withdrawn, else 404."""
    v = (rel.versions.filter(number=number, status__in=VISIBLE)
         .select_related("release").first())
    if v is None:
        raise Http404
    return v


def published_version(identifier: str, number: int) -> ReleaseVersion:
    """A published version (a withdrawn one has no content to serve): else 404."""
    v = public_version(public_release(identifier), number)
    if v.status != ReleaseVersion.Status.PUBLISHED:
        raise Http404
    return v


def latest_versions() -> list[ReleaseVersion]:
    """The latest published version of every release, newest release first."""
    latest: dict[int, ReleaseVersion] = {}
    for v in services.published_versions():
        if v.release_id not in latest or v.number > latest[v.release_id].number:
            latest[v.release_id] = v
    return sorted(latest.values(), key=lambda v: v.release.number, reverse=True)


def history(rel: Release) -> list[ReleaseVersion]:
    return list(rel.versions.filter(status__in=VISIBLE).order_by("-number"))


def public_changes(v: ReleaseVersion) -> dict[str, Any]:
    """``v.changes`` for the public: when the version it was compared with has since been
    withdrawn, only that fact (its old figures are that version's content)."""
    ch = dict(v.changes or {})
    if not ch or ch.get("first"):
        return {"first": True}
    prev = v.release.versions.filter(number=ch.get("previous")).first()
    if prev is None or prev.status != ReleaseVersion.Status.PUBLISHED:
        return {"previous": ch.get("previous"), "previous_withdrawn": True}
    return {"previous": ch.get("previous"), "previous_withdrawn": False,
            "added": list(ch.get("added") or []), "removed": list(ch.get("removed") or []),
            "changed": list(ch.get("changed") or []),
            "figures": [{"key": f.get("key"), "label": f.get("label"), "old": f.get("old"),
                         "new": f.get("new")} for f in ch.get("figures") or []],
            "data_version": ch.get("data_version")}


def public_figures(v: ReleaseVersion) -> list[dict[str, Any]]:
    keys = ("key", "label", "value", "low", "high", "error", "unit", "period", "note",
            "source")
    return [{k: f.get(k) for k in keys} for f in v.figures or []]


def _float(x: Any) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def item_privacy(item: dict[str, Any]) -> dict[str, Any]:
    """How an item was protected, in words and numbers fit for the public. Only these
    fields of the item's metadata are shown: the rest (e.g. a differentially private
    table's exact diagnostics) is for the analysts."""
    m = item.get("meta") or {}
    kind = item["kind"]
    out: dict[str, Any] = {"kind": kind, "epsilon": _float(m.get("epsilon")) or 0.0,
                           "delta": _float(m.get("delta")) or 0.0,
                           "mechanism": str(m.get("mechanism") or ""),
                           "unit": str(m.get("unit") or ""), "k": None, "threshold": None,
                           "error_method": str(m.get("error_method") or ""), "text": ""}
    if kind in ("dp_table", "synthetic", "figures"):
        out["text"] = _("Differentially private (ε = %(e)s, %(m)s): counts carry noise; "
                        "“error” is the 95%% half-width of that noise.") % {
            "e": f"{out['epsilon']:g}", "m": out["mechanism"] or _("noise")}
    elif kind == "table":
        rule = ((m.get("protection") or {}).get("rule") or {})
        limit = int(rule.get("threshold") or settings.TIPLAB_RELEASE_THRESHOLD)
        out["threshold"] = limit
        out["text"] = _("Counts from 1 to %(n)d are suppressed (empty cells), with others "
                        "where needed so that none can be worked out from the totals.") % {
            "n": limit - 1}
    elif kind == "kanon":
        out["k"] = int(m.get("k") or 0) or None
        out["text"] = _("Microdata, %(k)s-anonymous: every combination of the released "
                        "columns is shared by at least %(k)s records.") % {"k": out["k"]}
    return out


def privacy_statement(v: ReleaseVersion) -> dict[str, Any]:
    unit = (v.unit or {}).get("unit", "records")
    mechanisms = sorted({str(i["meta"].get("mechanism")) for i in v.items
                         if float(i.get("meta", {}).get("epsilon") or 0) > 0
                         and i["meta"].get("mechanism")})
    ks = sorted({int(i["meta"]["k"]) for i in v.items
                 if i["kind"] == "kanon" and i.get("meta", {}).get("k")})
    thresholds = sorted({p["threshold"] for i in v.items if i["kind"] == "table"
                         for p in [item_privacy(i)]})
    return {"epsilon": round(v.epsilon, 6), "epsilon_text": f"{v.epsilon:.3g}",
            "mechanisms": mechanisms, "unit": unit,
            "k": ks, "thresholds": thresholds,
            "unit_text": _("persons: the records of one victim, linked across agencies, "
                           "count once") if unit == "persons" else
            _("records: a victim known to several agencies counts once per record")}


def file_url(v: ReleaseVersion, key: str, fmt: str) -> str:
    return reverse("public:download", args=[v.release.identifier, v.number, key, fmt])


def version_url(v: ReleaseVersion) -> str:
    return reverse("public:version", args=[v.release.identifier, v.number])


def public_briefs(v: ReleaseVersion) -> list[Brief]:
    return list(Brief.objects.filter(version=v, published=True).order_by("pk"))


# -- tables and charts of a version -----------------------------------------------------------

@dataclass
class ItemView:
    key: str
    kind: str
    title: str
    rows: int
    columns: list[str]
    head: list[list[Any]]
    files: list[dict[str, Any]]
    privacy: dict[str, Any]
    charts: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""


def _dims(t: pa.Table) -> list[str]:
    return [c for c in t.column_names if c not in ("count", "error", "suppressed")]


def totals(t: pa.Table, dim: str) -> list[dict[str, Any]]:
    """Totals of a released table's ``count`` by ``dim``, summed over its other dimensions.

    Parameters
    ----------
    t : pyarrow.Table
        A released table: dimension columns, ``count`` (null where suppressed) and, for a
        differentially private table, ``error`` (each cell's 95% noise half-width).
    dim : str
        The dimension to total by.

    Returns
    -------
    list of dict
        One row per value of ``dim`` in the table's order: ``{dim, count, complete, error}``.
        ``complete`` is False when a cell of the total is suppressed; ``count`` is then the
        sum of the published cells, a lower bound of the total. ``error`` is None without an
        ``error`` column.

    Notes
    -----
    ``error`` is the root of the sum of the cells' squared half-widths: the 95% half-width
    of a sum of independent, roughly normal noises. The released cells' errors are not
    independent (post-processing ties them to the measured margins, usually making the
    margin more precise), so it is an approximation, labelled as such where it is shown:
    the released files hold the cells' errors, not the margins'.
    """
    counts = t.column("count").to_pylist()
    errors = t.column("error").to_pylist() if "error" in t.column_names else None
    out: dict[str, dict[str, Any]] = {}
    for i, key in enumerate(t.column(dim).to_pylist()):
        row = out.setdefault(str(key), {dim: str(key), "count": 0.0, "complete": True,
                                        "_var": 0.0})
        n = counts[i]
        if n is None:
            row["complete"] = False
        else:
            row["count"] += float(n)
        if errors is not None and errors[i] is not None:
            row["_var"] += float(errors[i]) ** 2
    result = []
    for row in out.values():
        var = row.pop("_var")
        row["error"] = math.sqrt(var) if errors is not None else None
        result.append(row)
    return result


def _trend_spec(item: dict[str, Any], rows: list[dict[str, Any]], v: ReleaseVersion,
                alt_text: str) -> dict[str, Any]:
    import altair as alt
    import pandas as pd

    from tiplab.reports.charts import HEIGHT, WIDTH, vegalite_spec

    label = _("Count")
    frame = pd.DataFrame([{
        "year": r["year"], "count": r["count"],
        "low": None if r["error"] is None else max(0.0, r["count"] - r["error"]),
        "high": None if r["error"] is None else r["count"] + r["error"],
        "note": "" if r["complete"] else _("at least: some cells are suppressed")}
        for r in rows])
    base = alt.Chart(frame).encode(x=alt.X("year:O", title=_("Year")))
    tooltip = [alt.Tooltip("year:O", title=_("Year")),
               alt.Tooltip("count:Q", title=label, format=",.0f")]
    layers = []
    if any(r["error"] is not None for r in rows):
        tooltip += [alt.Tooltip("low:Q", title=_("Noise interval, low"), format=",.0f"),
                    alt.Tooltip("high:Q", title=_("Noise interval, high"), format=",.0f")]
        layers.append(base.mark_area(opacity=0.2, color="#2e86c1").encode(
            y=alt.Y("low:Q", title=label), y2="high:Q"))
    if not all(r["complete"] for r in rows):
        tooltip.append(alt.Tooltip("note:N", title=_("Note")))
    layers.append(base.mark_line(point=True, color="#2e86c1").encode(
        y=alt.Y("count:Q", title=label), tooltip=tooltip))
    chart = alt.layer(*layers).properties(
        width=WIDTH, height=HEIGHT,
        title=alt.TitleParams(_("%(t)s, by year") % {"t": item["title"]}, anchor="start"))
    return vegalite_spec(chart, description=alt_text, provenance={
        "release": v.label, "item": item["key"], "data_version": v.data_version,
        "content_hash": v.content_hash})


def _bar_spec(item: dict[str, Any], rows: list[dict[str, Any]], v: ReleaseVersion,
              dim: str) -> dict[str, Any]:
    import pandas as pd

    from tiplab.reports.charts import bar_spec

    frame = pd.DataFrame([{dim: r[dim], "count": r["count"]} for r in rows])
    return bar_spec(frame, label=dim, value="count", value_title=_("Count"),
                    value_format=",.0f", top=60,
                    title=_("%(t)s, by %(d)s (largest first)") % {"t": item["title"],
                                                                   "d": _dim_label(dim)},
                    provenance={"release": v.label, "item": item["key"],
                                "data_version": v.data_version,
                                "content_hash": v.content_hash})


def _dim_label(dim: str) -> str:
    return {"year": _("year"), "region": _("region"), "form": _("form of exploitation"),
            "sex": _("sex"), "age_band": _("age band"),
            "citizenship": _("citizenship")}.get(dim, dim)


def _trend_alt(item: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    if not rows:
        return _("Line chart by year: no year has a count.")
    first, last = rows[0], rows[-1]
    peak = max(rows, key=lambda r: r["count"])
    return _("Line chart of “%(t)s” by year, from %(a)s in %(ya)s to %(b)s in %(yb)s, "
             "highest in %(yp)s (%(p)s); the table and its files give every count.") % {
        "t": item["title"], "a": f"{first['count']:,.0f}", "ya": first["year"],
        "b": f"{last['count']:,.0f}", "yb": last["year"], "yp": peak["year"],
        "p": f"{peak['count']:,.0f}"}


def _bar_alt(item: dict[str, Any], rows: list[dict[str, Any]], dim: str) -> str:
    top = sorted(rows, key=lambda r: -r["count"])[:3]
    return _("Bar chart of “%(t)s” by %(d)s, largest first (%(top)s); the table and its "
             "files give every count.") % {
        "t": item["title"], "d": _dim_label(dim),
        "top": ", ".join(f"{r[dim]} {r['count']:,.0f}" for r in top) or "—"}


def chart_specs(v: ReleaseVersion) -> dict[str, dict[str, Any]]:
    """Every chart of a published version: ``{name: {item, title, spec, alt, caption}}``
    (a trend for each table by year, a ranked bar chart for each table by region), kept
    in the cache by content hash and language."""
    lang = translation.get_language() or settings.LANGUAGE_CODE
    key = f"tiplab:public:v{CACHE_VERSION}:charts:{v.pk}:{v.content_hash}:{lang}"
    hit = cache.get(key)
    if hit is not None:
        return dict(hit)
    out: dict[str, dict[str, Any]] = {}
    for item in v.items:
        if item["kind"] not in ("dp_table", "table"):
            continue
        t = services.item_table(v, item["key"])
        dims = _dims(t)
        partial = item["kind"] == "table"
        if "year" in dims:
            rows = sorted(totals(t, "year"), key=lambda r: r["year"])
            alt_text = _trend_alt(item, rows)
            caption = (_("The band is an approximate 95% noise interval of each year's "
                         "total (the cells' errors combined as if independent).")
                       if item["kind"] == "dp_table" else
                       _("A year with suppressed cells shows the sum of its published "
                         "cells: at least that many."))
            out[f"{item['key']}-year"] = {"item": item["key"], "alt": alt_text,
                                          "caption": caption,
                                          "spec": _trend_spec(item, rows, v, alt_text)}
        if "region" in dims:
            rows = totals(t, "region")
            alt_text = _bar_alt(item, rows, "region")
            spec = _bar_spec(item, rows, v, "region")
            spec["description"] = alt_text
            out[f"{item['key']}-region"] = {
                "item": item["key"], "alt": alt_text, "spec": spec,
                "caption": _("A region with suppressed cells shows the sum of its published "
                             "cells: at least that many.") if partial else ""}
    cache.set(key, out, None)
    return out


def _cell(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def item_views(v: ReleaseVersion, request: HttpRequest) -> list[ItemView]:
    charts = chart_specs(v)
    q = _lang_query(request)
    out = []
    for item in v.items:
        files = [{"fmt": fmt, "url": file_url(v, item["key"], fmt), **meta}
                 for fmt, meta in item["files"].items() if fmt in services.FORMATS]
        view = ItemView(key=item["key"], kind=item["kind"], title=item["title"],
                        rows=int(item.get("rows") or 0), columns=list(item.get("columns") or []),
                        head=[], files=files, privacy=item_privacy(item))
        try:
            t = services.item_table(v, item["key"])
        except services.PublicationError as e:
            view.error = str(e)
            out.append(view)
            continue
        view.columns = list(t.column_names)
        view.head = [[_cell(r.get(c)) for c in t.column_names]
                     for r in t.slice(0, PAGE_ROWS).to_pylist()]
        for name, c in charts.items():
            if c["item"] != item["key"]:
                continue
            args = [v.release.identifier, v.number, name]
            view.charts.append({
                "name": name, "spec": c["spec"], "alt": c["alt"], "caption": c["caption"],
                "svg_url": reverse("public:chart", args=[*args, "svg"]) + q,
                "png_url": reverse("public:chart", args=[*args, "png"]) + q})
        out.append(view)
    return out


# -- views --------------------------------------------------------------------------------

def _summary(v: ReleaseVersion) -> dict[str, Any]:
    return {"release": v.release, "version": v, "figures": public_figures(v)[:3],
            "url": reverse("public:release", args=[v.release.identifier])}


@public_view
def index(request: HttpRequest) -> HttpResponse:
    def context() -> dict[str, Any]:
        rows = [_summary(v) for v in latest_versions()]
        # releases whose every version was withdrawn: their notices stay findable
        withdrawn = (Release.objects.filter(versions__status=ReleaseVersion.Status.WITHDRAWN)
                     .exclude(versions__status=ReleaseVersion.Status.PUBLISHED)
                     .distinct().order_by("-number"))
        return {"rows": rows, "withdrawn": list(withdrawn),
                "plans": len(public_plans.public_plans())}

    # the plans' part of the key: it links to plan progress once a plan is adopted
    return page(request, "publications/public/index.html", context,
                key=f"index:{_plans_key()}")


@public_view
def release(request: HttpRequest, identifier: str) -> HttpResponse:
    rel = public_release(identifier)
    v = rel.latest_published()
    if v is None:  # every version withdrawn: the notices
        return page(request, "publications/public/withdrawn.html", lambda: {
            "release": rel, "versions": history(rel), "status": 410}, key="release")
    return _version_page(request, v, latest=True)


@public_view
def version(request: HttpRequest, identifier: str, number: int) -> HttpResponse:
    v = public_version(public_release(identifier), number)
    if v.status == ReleaseVersion.Status.WITHDRAWN:
        return page(request, "publications/public/withdrawn.html", lambda: {
            "release": v.release, "versions": [v], "status": 410}, key="withdrawn")
    return _version_page(request, v, latest=False)


def _version_page(request: HttpRequest, v: ReleaseVersion, *, latest: bool) -> HttpResponse:
    rel = v.release

    def context() -> dict[str, Any]:
        versions = history(rel)
        return {"release": rel, "v": v, "latest": latest,
                "is_latest": v.number == max(x.number for x in versions
                                             if x.status == ReleaseVersion.Status.PUBLISHED),
                "figures": public_figures(v), "items": item_views(v, request),
                "privacy": privacy_statement(v), "changes": public_changes(v),
                "history": [{"v": x, "changes": public_changes(x)
                             if x.status == ReleaseVersion.Status.PUBLISHED else None}
                            for x in versions],
                "briefs": public_briefs(v), "api_url": _api_url(v),
                "threshold": int(settings.TIPLAB_RELEASE_THRESHOLD)}

    return page(request, "publications/public/version.html", context, key="version")


def _api_url(v: ReleaseVersion) -> str:
    return reverse("open_api:version", kwargs={"identifier": v.release.identifier,
                                               "number": v.number})


def _filename(v: ReleaseVersion, name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", v.release.identifier)
    return f"{safe}-v{v.number}-{name}"


@public_view
def download(request: HttpRequest, identifier: str, number: int, key: str,
             fmt: str) -> HttpResponse:
    """One file of a published version, as frozen (sha256 checked before it is served)."""
    if fmt not in services.FORMATS:
        raise Http404
    v = published_version(identifier, number)
    item = next((i for i in v.items if i["key"] == key), None)
    if item is None or fmt not in item.get("files", {}):
        raise Http404
    try:
        path = services.item_file(v, key, fmt)
    except services.PublicationError as e:
        raise Http404 from e
    meta = item["files"][fmt]
    body = path.read_bytes()
    return cacheable(request, body, services.FORMATS[fmt], etag=f'"{meta["sha256"]}"',
                     headers={"Content-Disposition":
                              f'attachment; filename="{_filename(v, f"{key}.{fmt}")}"',
                              # RFC 9530: the digest of the file as stored and published
                              "Repr-Digest": f"sha-256=:{_b64(meta['sha256'])}:"})


def _b64(hexdigest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hexdigest)).decode()


@public_view
def chart(request: HttpRequest, identifier: str, number: int, name: str,
          fmt: str) -> HttpResponse:
    """A chart of a published version drawn on the server (the interactive chart's static
    fallback, and its PNG/SVG export)."""
    if fmt not in CHART_TYPES:
        raise Http404
    v = published_version(identifier, number)
    lang = language(request)
    with translation.override(lang):
        spec = chart_specs(v).get(name)
        if spec is None:
            raise Http404

        def build() -> tuple[bytes, int]:
            from tiplab.reports.charts import render_spec

            return render_spec(spec["spec"], fmt), 200

        body, _status = cached_body(f"chart:{v.pk}:{v.content_hash}:{name}:{lang}:{fmt}",
                                    build)
    disposition = "inline" if fmt == "svg" else "attachment"
    response = cacheable(request, body, CHART_TYPES[fmt], headers={
        "Content-Disposition": f'{disposition}; filename="{_filename(v, f"{name}.{fmt}")}"'})
    response["Content-Language"] = lang
    return response


@public_view
def brief_pdf(request: HttpRequest, identifier: str, number: int, pk: int) -> HttpResponse:
    """A published brief of a published version, as PDF."""
    v = published_version(identifier, number)
    b = Brief.objects.filter(pk=pk, version=v, published=True).first()
    if b is None:
        raise Http404
    from . import briefs

    stamp = b.updated_at.isoformat() if b.updated_at else ""
    body, _status = cached_body(f"brief:{b.pk}:{stamp}:{v.content_hash}",
                                lambda: (briefs.render_pdf(b), 200))
    return cacheable(request, body, "application/pdf", headers={
        "Content-Disposition": f'inline; filename="{_filename(v, f"brief-{b.pk}.pdf")}"'})


# -- plan progress ----------------------------------------------------------------------------

@public_view
def plans(request: HttpRequest) -> HttpResponse:
    def context() -> dict[str, Any]:
        rows = []
        for plan, rev in public_plans.public_plans():
            prog = public_plans.progress(plan, rev)
            labels = public_plans.status_labels()
            rows.append({"p": prog, "counts": [(labels[k], prog.counts[k], k) for k in labels
                                               if prog.counts.get(k)]})
        return {"rows": rows}

    return page(request, "publications/public/plans.html", context,
                key=f"plans:{_plans_key()}", timeout=max_age())


@public_view
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        found = public_plans.public_plan(pk)
    except public_plans.NotPublic as e:
        raise Http404 from e

    def context() -> dict[str, Any]:
        prog = public_plans.progress(*found)
        labels = public_plans.status_labels()
        return {"p": prog, "counts": [(labels[k], prog.counts[k], k) for k in labels
                                      if prog.counts.get(k)],
                "api_url": reverse("open_api:plan_progress", kwargs={"pk": pk})}

    return page(request, "publications/public/plan.html", context,
                key=f"plan:{public_plans.fingerprint(found[1])}:{today()}", timeout=max_age())


def _plans_key() -> str:
    """Part of the plan pages' cache key: the revisions in force (and today, as the
    scorecard's ratings move with the date)."""
    blob = json.dumps([(p.pk, public_plans.fingerprint(r)) for p, r in
                       public_plans.public_plans()])
    return hashlib.sha256(blob.encode()).hexdigest()[:16] + ":" + today()


def today() -> str:
    from django.utils import timezone

    return timezone.localdate().isoformat()
