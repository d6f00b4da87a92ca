"""Evidence briefs and annual reports drawn from a **published** release version.

Every number in a brief comes from the version's frozen files and figures
(:func:`bundle_for`): tables and charts are computed from its differentially private or
suppressed tables, the key figures are its own, and the narrative may only cite them with
``[[identified]]``-style tokens — a number typed by hand is refused
(:func:`tiplab.reports.brief.check_narrative`). The legal assessment summary, the plan's
scorecard and "you said, we did" are added where the organisation has them; the scorecard is
the protected public version (small counts of persons shown as "fewer than N").
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tiplab_web.audit.services import record
from tiplab_web.core.access import can

from . import services
from .models import Brief, ReleaseVersion

log = logging.getLogger(__name__)

#: labels of the narrative sections (the keys are the renderer's: tiplab.reports.brief.SECTIONS)
SECTION_LABELS: dict[str, Any] = {
    "key_messages": gettext_lazy("Key messages"),
    "introduction": gettext_lazy("Introduction"),
    "identification": gettext_lazy("Identification and the hidden number"),
    "profiles": gettext_lazy("Victim profiles"),
    "routes": gettext_lazy("Routes and forms of exploitation"),
    "assessment": gettext_lazy("Legal and policy assessment"),
    "plan": gettext_lazy("The National Action Plan's progress"),
    "consultation": gettext_lazy("Consultation and survivors' input"),
    "methods": gettext_lazy("Methods and data protection"),
}


def sections(kind: str) -> list[tuple[str, Any]]:
    from tiplab.reports.brief import SECTIONS

    return [(k, SECTION_LABELS.get(k, k)) for k in SECTIONS.get(kind, SECTIONS["brief"])]


def create(request_or_user: Any, v: ReleaseVersion, *, kind: str = "brief") -> Brief:
    user = getattr(request_or_user, "user", request_or_user)
    if not (can(user, "publications.brief") or can(user, "publications.view")):
        raise services.PublicationError(_("Your role does not write briefs."))
    if v.status != ReleaseVersion.Status.PUBLISHED:
        raise services.PublicationError(_("A brief is written from a published version "
                                          "only."))
    title = (_("Evidence brief: %(t)s") if kind == "brief" else _("Annual report: %(t)s")) \
        % {"t": v.release.title}
    b = Brief.objects.create(version=v, kind=kind, title=title[:200], updated_by=user,
                             language=(getattr(settings, "LANGUAGE_CODE", "en") or "en")[:2])
    record(request_or_user, "publications.brief_create", b, kind=kind, version=v.label)
    return b


def save_narrative(request_or_user: Any, b: Brief, narrative: dict[str, str], *,
                   publish: bool | None = None) -> list[str]:
    """Save the narrative if every section passes :func:`check_narrative`; else return the
    problems (nothing saved)."""
    from tiplab.reports import brief as core_brief

    bundle = bundle_for(b.version)
    problems: list[str] = []
    labels = dict(sections(b.kind))
    for key, text in narrative.items():
        if key not in labels:
            problems.append(_("Unknown section %(k)s.") % {"k": key})
            continue
        for p in core_brief.check_narrative(text, bundle, section=key):
            problems.append(f"{labels[key]}: {p.message}")
    if problems:
        return problems
    b.narrative = dict(narrative)
    if publish is not None:
        b.published = bool(publish)
    b.updated_by = getattr(request_or_user, "user", request_or_user)
    b.save()
    record(request_or_user, "publications.brief_save", b, sections=sorted(narrative),
           published=b.published)
    services._public_cache_bump()
    return []


def tokens(b: Brief) -> list[dict[str, Any]]:
    """The figures the narrative may cite, as ``[[key]]`` tokens with their values."""
    out = []
    for f in b.version.figures:
        out.append({"token": f"[[{f['key']}]]", "label": f.get("label", f["key"]),
                    "value": f.get("value")})
        for part in ("low", "high"):
            if f.get(part) is not None:
                out.append({"token": f"[[{f['key']}.{part}]]",
                            "label": f"{f.get('label', f['key'])} ({part})",
                            "value": f[part]})
    for q in _quotations(b.version.release.organisation):
        short = q["text"] if len(q["text"]) <= 90 else q["text"][:87] + "…"
        out.append({"token": f"[[quote:{q['id']}]]", "label": f"“{short}”",
                    "value": q["reference"], "quote": True})
    return out


def _quotations(org: Any) -> list[dict[str, str]]:
    """The organisation's quotations a brief may show: redacted excerpts of interview notes
    whose speakers agreed to analysis and to quotation (``tiplab_web.evidence``); one whose
    consent is withdrawn drops out of every brief rendered after."""
    from tiplab_web.evidence import services as evidence
    from tiplab_web.evidence.models import Quotation

    qs = (Quotation.objects.filter(organisation=org, note__consent_quote=True,
                                   note__consent_analysis=True)
          .select_related("note").order_by("number"))
    return [{"id": q.identifier, "text": q.text, "reference": evidence.quotation_reference(q)}
            for q in qs]


def render(b: Brief, fmt: str) -> bytes:
    """The brief as PDF, DOCX or HTML (PDF cached by the brief's content: it takes seconds)."""
    from tiplab.reports import brief as core_brief

    key = None
    if fmt == "pdf":
        import hashlib
        import json

        sig = hashlib.sha256(json.dumps(
            [b.pk, b.kind, b.narrative, b.language, b.version.content_hash,
             b.updated_at.isoformat() if b.updated_at else "",
             _quotations(b.version.release.organisation)],
            sort_keys=True).encode()).hexdigest()
        key = f"tiplab:brief:{sig}"
        hit = cache.get(key)
        if hit is not None:
            return bytes(hit)
    data = core_brief.render(bundle_for(b.version), kind=b.kind, fmt=fmt,
                             narrative=b.narrative, language=b.language)
    if key is not None:
        cache.set(key, data, 24 * 3600)
    return data


def render_pdf(b: Brief) -> bytes:
    """The published brief's PDF (the public portal's download)."""
    return render(b, "pdf")


# -- the bundle -------------------------------------------------------------------------------

def bundle_for(v: ReleaseVersion) -> Any:
    """The :class:`tiplab.reports.bundle.ReleaseBundle` of a published version."""
    from tiplab.reports.bundle import BundleChart, BundleTable, KeyFigure, ReleaseBundle

    if v.status != ReleaseVersion.Status.PUBLISHED:
        raise services.PublicationError(_("Only a published version feeds a brief."))
    spec = v.spec
    years = spec.get("years") or []
    period = f"{years[0]}–{years[1]}" if years else ""
    figures = [KeyFigure(key=f["key"], label=str(f.get("label", f["key"])),
                         value=f.get("value"), low=f.get("low"), high=f.get("high"),
                         error=f.get("error"), unit=str(f.get("unit", "persons")),
                         period=str(f.get("period") or period), note=str(f.get("note", "")),
                         source=str(f.get("source", ""))) for f in v.figures]
    tables: list[Any] = []
    charts: list[Any] = []
    map_regions: dict[str, float] | None = None
    for item in v.items:
        if item["kind"] not in ("dp_table", "table"):
            continue
        t = services.item_table(v, item["key"])
        note = _noise_note(item)
        dims = [c for c in t.column_names if c not in ("count", "error", "suppressed")]
        for dim in dims:
            margin = _margin(t, dim)
            if dim == "year":
                charts.append(BundleChart(
                    key=f"{item['key']}_by_year",
                    title=_("%(t)s, by year") % {"t": item["title"]},
                    alt=_trend_alt(margin), vega_lite=_trend_spec(margin), caption=note,
                    source=item["key"], section="identification"))
            elif dim == "region" and map_regions is None:
                map_regions = {str(r): float(n) for r, n in margin if n is not None}
            elif dim in ("form", "sex", "age_band"):
                charts.append(BundleChart(
                    key=f"{item['key']}_by_{dim}",
                    title=_("%(t)s, by %(d)s") % {"t": item["title"],
                                                   "d": _DIM_LABELS.get(dim, dim)},
                    alt=_bar_alt(margin, dim), vega_lite=_bar_spec(margin, dim), caption=note,
                    source=item["key"], section="routes" if dim == "form" else "profiles"))
        if len(dims) <= 2:
            rows = [[r.get(c) for c in t.column_names] for r in t.to_pylist()][:60]
            tables.append(BundleTable(key=item["key"], title=str(item["title"]),
                                      columns=list(t.column_names), rows=rows, notes=[note],
                                      source=item["key"]))
        elif map_regions is not None and "region" in dims:
            region_rows = sorted(((r, n) for r, n in _margin(t, "region") if n is not None),
                                 key=lambda x: -x[1])
            tables.append(BundleTable(
                key=f"{item['key']}_by_region", title=_("%(t)s: totals by region")
                % {"t": item["title"]}, columns=["region", "count"],
                rows=[[r, n] for r, n in region_rows], notes=[note], source=item["key"]))
    privacy = _privacy_sentence(v)
    return ReleaseBundle(
        release_id=v.release.identifier, version=v.number, title=v.release.title,
        jurisdiction=services.jurisdiction(v.release.organisation),
        period=period, data_version=v.data_version,
        approved_by=v.approved_by.get_username() if v.approved_by else "",
        approved_at=v.approved_at.isoformat() if v.approved_at else "",
        citation=v.citation, privacy=privacy, figures=figures, tables=tables, charts=charts,
        assessment=_assessment(v.release.organisation),
        scorecard=_scorecard(v.release.organisation),
        you_said_we_did=_you_said(v.release.organisation), map_regions=map_regions,
        quotations=_quotations(v.release.organisation),
        map_geometry=_geometry() if map_regions else None)


def _geometry() -> dict[str, Any] | None:
    import json

    from tiplab_web.insights.services import country_dir

    path = country_dir() / "regions.geojson"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


_DIM_LABELS: dict[str, Any] = {
    "form": gettext_lazy("form of exploitation"), "sex": gettext_lazy("sex"),
    "age_band": gettext_lazy("age band"), "region": gettext_lazy("region"),
    "year": gettext_lazy("year"), "citizenship": gettext_lazy("citizenship")}


def _margin(t: pa.Table, dim: str) -> list[tuple[str, float | None]]:
    """Totals of ``count`` by ``dim`` (a suppressed cell makes its total unknown)."""
    sums: dict[str, float] = defaultdict(float)
    unknown: set[str] = set()
    for key, n in zip(t.column(dim).to_pylist(), t.column("count").to_pylist(), strict=True):
        if n is None:
            unknown.add(str(key))
        else:
            sums[str(key)] += float(n)
    keys = list(dict.fromkeys(str(k) for k in t.column(dim).to_pylist()))
    return [(k, None if k in unknown else sums[k]) for k in keys]


def _noise_note(item: dict[str, Any]) -> str:
    m = item.get("meta", {})
    if item["kind"] == "dp_table":
        return _("Counts carry differential-privacy noise (ε = %(e)s, %(m)s); totals are "
                 "consistent with the cells.") % {"e": f"{float(m.get('epsilon', 0)):g}",
                                                  "m": m.get("mechanism", "")}
    return _("Counts from 1 to %(n)s are suppressed, with others where needed so that none "
             "can be recovered.") % {"n": int(settings.TIPLAB_RELEASE_THRESHOLD) - 1}


def _trend_spec(margin: list[tuple[str, float | None]]) -> dict[str, Any]:
    import altair as alt

    data = pa.table({"year": [k for k, _n in margin], "count": [n for _k, n in margin]})
    chart = alt.Chart(data.to_pandas()).mark_line(point=True).encode(
        x=alt.X("year:O", title="Year"), y=alt.Y("count:Q", title="Victims identified"),
        tooltip=["year:O", alt.Tooltip("count:Q", format=",.0f")]).properties(
        width=440, height=220)
    return dict(chart.to_dict())


def _bar_spec(margin: list[tuple[str, float | None]], dim: str) -> dict[str, Any]:
    import altair as alt

    data = pa.table({dim: [k for k, _n in margin], "count": [n for _k, n in margin]})
    chart = alt.Chart(data.to_pandas()).mark_bar().encode(
        y=alt.Y(f"{dim}:N", sort="-x", title=str(_DIM_LABELS.get(dim, dim)).capitalize()),
        x=alt.X("count:Q", title="Victims identified"),
        tooltip=[f"{dim}:N", alt.Tooltip("count:Q", format=",.0f")]).properties(
        width=440, height=max(80, 18 * len(margin)))
    return dict(chart.to_dict())


def _trend_alt(margin: list[tuple[str, float | None]]) -> str:
    known = [(k, n) for k, n in margin if n is not None]
    if not known:
        return _("Line chart by year; no year has a published total.")
    lo, hi = known[0], known[-1]
    peak = max(known, key=lambda x: x[1])
    return (_("Line chart of victims identified by year, from %(a)s in %(ya)s to %(b)s in "
              "%(yb)s; highest in %(yp)s (%(p)s).")
            % {"a": f"{lo[1]:,.0f}", "ya": lo[0], "b": f"{hi[1]:,.0f}", "yb": hi[0],
               "yp": peak[0], "p": f"{peak[1]:,.0f}"})


def _bar_alt(margin: list[tuple[str, float | None]], dim: str) -> str:
    known = sorted(((k, n) for k, n in margin if n is not None), key=lambda x: -x[1])
    top = ", ".join(f"{k} {n:,.0f}" for k, n in known[:3])
    return _("Bar chart of victims identified by %(d)s; largest: %(top)s.") % {
        "d": _DIM_LABELS.get(dim, dim), "top": top or "—"}


def _privacy_sentence(v: ReleaseVersion) -> str:
    unit = (v.unit or {}).get("unit", "records")
    parts = [_("Figures count %(u)s.") % {"u": _("persons (records linked across agencies)")
                                          if unit == "persons" else _("records")}]
    eps = v.epsilon
    if eps:
        parts.append(_("Differentially private: this release spent ε = %(e)s of the privacy "
                       "budget; each figure's ± gives its 95%% noise error.") % {"e": f"{eps:.2g}"})
    ks = [i["meta"].get("k") for i in v.items if i["kind"] == "kanon"]
    if ks:
        parts.append(_("Microdata are %(k)s-anonymous.") % {"k": ks[0]})
    if any(i["kind"] == "table" for i in v.items):
        parts.append(_("Small counts are suppressed."))
    return " ".join(parts)


def _assessment(org: Any) -> dict[str, Any] | None:
    from tiplab.policy import legal
    from tiplab_web.assessment import services as assessment
    from tiplab_web.assessment.models import LegalAssessment

    a = (LegalAssessment.objects.filter(organisation=org, status=LegalAssessment.REVIEWED)
         .order_by("-date").first())
    if a is None:
        return None
    inst = assessment.instrument_of(a)
    doc = assessment.as_core(a)
    scores = legal.score(inst, doc)
    counts = scores.overall.counts
    return {"framework": inst.title if hasattr(inst, "title") else a.instrument,
            "date": a.date.isoformat(), "score": scores.overall.score,
            "met": counts.get("yes", 0), "partly": counts.get("partial", 0),
            "not_met": counts.get("no", 0),
            "gaps": [{"ref": g.article or g.item, "title": g.label, "status": g.answer}
                     for g in legal.gaps(inst, doc)[:12]]}


def _scorecard(org: Any) -> dict[str, Any] | None:
    from tiplab_web.publications import public_plans

    return public_plans.bundle_scorecard(org)


def _you_said(org: Any) -> dict[str, Any] | None:
    from tiplab_web.consultations import services as consultations
    from tiplab_web.consultations.models import Consultation

    c = (Consultation.objects.filter(plan__organisation=org).order_by("-closes_on").first())
    if c is None:
        return None
    rows = consultations.report_rows(c)
    answered = [r for r in rows if r.outcome]
    counts: dict[str, int] = defaultdict(int)
    for r in answered:
        counts[r.outcome] += 1
    examples = [{"said": r.text[:300], "did": (getattr(r, "reason", "") or r.outcome)[:300]}
                for r in answered if r.outcome in ("accepted", "partly")][:4]
    return {"consultation": c.title, "contributions": len(rows),
            "accepted": counts.get("accepted", 0), "partly": counts.get("partly", 0),
            "not_accepted": counts.get("not_accepted", 0), "examples": examples,
            "survivor_inputs": sum(1 for r in rows if r.survivor)}

