"""Evidence briefs and annual reports rendered from a release bundle: HTML, PDF and Word.

Two documents are drawn from one :class:`~tiplab.reports.bundle.ReleaseBundle`:

``brief``
    a four-page evidence brief: title and key messages with the key figures as large numbers
    (their interval or privacy error beside them); identification and the hidden number with
    one or two trend charts; where victims were identified (a map) with the progress of the
    National Action Plan; what was done with the public's input, the method and privacy box
    and how to cite the release. The brief shows the first four figures of the bundle (the
    release orders them) and lists any others on page two.
``annual``
    an annual report in the manner of a national rapporteur's report (the Dutch National
    Rapporteur, the UK Independent Anti-Slavery Commissioner): a cover and contents, then
    chapters — summary; identification and the hidden number; victim profiles; routes and
    forms of exploitation; legal and policy assessment; the National Action Plan's progress;
    consultation and survivors' input; methods and data protection — and the annex tables.
    A chart goes to the chapter its ``section`` names (identification when empty); every
    table is printed in the annex and named in its chapter.

**Numbers are never typed by hand.** Narrative sections (``narrative={"key_messages": ...}``;
the keys of each kind are in :data:`SECTIONS`) are plain text — paragraphs separated by blank
lines, lines starting with "- " as bullets — that cite figures with tokens: ``[[identified]]``
is the figure formatted with its interval or error ("1,234 (± 12)"), ``[[estimated.low]]`` one
part of it (parts: :data:`PARTS`). :func:`check_narrative` finds tokens naming a figure the
bundle lacks and digits typed by hand; allowed digits are years 1900–2099 (and "1990s"),
ISO dates and day-month dates, ordinals ("3rd"), numbers after a reference word (:data:
`REFERENCE_WORDS`: "article 4", "sections 2 and 3", "SDG 8.7"), numbered-list markers at the
start of a line ("1. ") and digits inside codes ("XT-01", "G7"). :func:`render` refuses a
narrative with any problem, listing them all with their line and column.

Every page carries the release id, version and data version, and the citation: in HTML a
``<footer>`` (and the release line under the title), in PDF the page-margin boxes (CSS paged media),
in Word the page footer. Charts are the bundle's Vega-Lite specs rendered by vl-convert with
no URL allowed: inline SVG for HTML and PDF (``role="img"``, ``aria-labelledby`` its
``<title>``, the alt text), PNG for Word (the picture's description, ``docPr/@descr``).

The regions are drawn as a choropleth by :func:`tiplab.reports.maps.choropleth` when the
bundle carries the workspace's region geometry (``map_geometry``); without it — or when no
released region code is on it — they are a ranked bar chart of the released counts, with a
note saying why. A suppressed region (``None``) is grey on the map and named in the note.

The PDF is WeasyPrint's, with ``pdf_variant="pdf/ua-1"`` (which turns on ``pdf_tags``):
tagged (structure tree with H1–H6, P, L/LI, Table/TR/TH/TD with header links, Figure with the
chart's alt text from the SVG ``<title>``), ``/Lang`` from ``<html lang>``, the document title
from ``<title>`` shown by viewers (``DisplayDocTitle``), bookmarks from the headings and the
PDF/UA identification in the XMP metadata. Not supported by WeasyPrint 70 (so the file is not
a validated PDF/UA document): the page-margin boxes (the footer stamps) are left out of the
structure tree rather than marked as artifacts (PDF 1.7 has no place for them), the text
*inside* an SVG chart is part of the figure, not separately tagged, and nothing checks
contrast or reading order beyond the HTML order. WeasyPrint fetches nothing: every URL but
``data:`` is refused.

The HTML comes from Jinja2 templates (``tiplab/reports/templates``: ``brief.html``,
``annual.html``, ``_macros.html`` and the CSS), autoescaped: every text of the bundle and the
narrative is escaped; charts are the only markup inserted, after their links to anything
outside the document are removed.

Localisation: every fixed word is in :data:`TEXTS` (English); ``language`` sets the
document language (``<html lang>``, the PDF ``/Lang``, Word's proofing language) only, until
translations come.

Usage::

    from tiplab.reports.brief import render
    pdf = render(bundle, kind="brief", fmt="pdf",
                 narrative={"key_messages": "Agencies identified [[identified]] victims."})
"""

from __future__ import annotations

import difflib
import functools
import io
import json
import logging
import re
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tiplab.reports.bundle import (
    CHAPTERS,
    BundleChart,
    BundleTable,
    KeyFigure,
    ReleaseBundle,
    ReportError,
)

__all__ = ["FORMATS", "KINDS", "PARTS", "REFERENCE_WORDS", "SECTIONS", "TEXTS",
           "NarrativeProblem", "ReportError", "check_narrative", "figure_text",
           "fill_narrative", "render"]

log = logging.getLogger(__name__)

KINDS = ("brief", "annual")
FORMATS = ("html", "pdf", "docx")

#: the narrative sections of each kind of document, in reading order
SECTIONS: dict[str, tuple[str, ...]] = {
    "brief": ("key_messages", "introduction", "identification", "plan", "consultation",
              "methods"),
    "annual": ("key_messages", "introduction", "identification", "profiles", "routes",
               "assessment", "plan", "consultation", "methods"),
}
#: the parts of a figure a token may cite: ``[[estimated.low]]``
PARTS = ("value", "low", "high", "error", "period", "label", "unit")
#: words after which a number is a reference (article, section, SDG target), not a figure
REFERENCE_WORDS = ("section", "chapter", "article", "art.", "paragraph", "para.", "§", "annex",
                   "appendix", "part", "table", "figure", "page", "pillar", "objective",
                   "measure", "recommendation", "goal", "target", "indicator", "SDG",
                   "protocol", "principle", "rule", "step", "phase", "level", "version")
#: the brief shows this many key figures as large numbers
BRIEF_FIGURES = 4
#: and this many charts, and rows of the plan-progress and "you said" summaries
BRIEF_CHARTS = 2
BRIEF_PLAN_ROWS = 6
BRIEF_EXAMPLES = 3

#: every fixed word of the documents, in English; a translation replaces the values
TEXTS: dict[str, str] = {
    "kind.brief": "Evidence brief",
    "kind.annual": "Annual report",
    "section.summary": "Summary",
    "section.key_messages": "Key messages",
    "section.introduction": "Introduction",
    "section.identification": "Identification and the hidden number",
    "section.profiles": "Victim profiles",
    "section.routes": "Routes and forms of exploitation",
    "section.assessment": "Legal and policy assessment",
    "section.plan": "Progress of the National Action Plan",
    "section.consultation": "Consultation and survivors' input",
    "section.methods": "Methods and data protection",
    "section.annex": "Annex tables",
    "section.contents": "Contents",
    "section.regions": "Where victims were identified",
    "section.key_figures": "Key figures",
    "section.figures": "The released figures",
    "section.other_figures": "Other figures in this release",
    "section.you_said": "What we did with your input",
    "section.method_box": "Method and privacy",
    "section.cite": "How to cite",
    "section.release": "This release",
    "section.gaps": "Gaps found",
    "section.plan_rows": "Indicators",
    "section.examples": "You said, we did",
    "section.sources": "Where each figure comes from",
    "not_published": "not published",
    "interval": "{level}% interval {low}–{high}",
    "error": "± {error}",
    "error_long": "± {error} ({level}% margin of the privacy noise)",
    "nothing": "This release holds nothing on this topic.",
    "release_line": "Release {release_id}, version {version}, approved by {approved_by} "
                    "on {approved_at}",
    "data_version": "Data version {data_version}",
    "stamp": "{release_id} · version {version} · data version {data_version}",
    "page": "page",
    "of": "of",
    "cite_as": "Cite as: {citation}",
    "see_table": "Table {label}: {title}",
    "tables_for_chapter": "Tables for this chapter (in the annex)",
    "table_label": "Table {label}",
    "source": "Source: {source}",
    "col.figure": "Figure",
    "col.value": "Value",
    "col.interval": "Interval",
    "col.error": "Privacy error",
    "col.period": "Period",
    "col.source": "Source",
    "col.note": "Note",
    "col.status": "Status",
    "col.count": "Count",
    "col.indicator": "Indicator",
    "col.baseline": "Baseline",
    "col.target": "Target",
    "col.latest": "Latest",
    "col.ref": "Reference",
    "col.title": "Requirement",
    "col.said": "You said",
    "col.did": "We did",
    "col.item": "Item",
    "col.region": "Region",
    "fact.release_id": "Release",
    "fact.version": "Version",
    "fact.data_version": "Data version",
    "fact.approved_by": "Approved by",
    "fact.approved_at": "Approved on",
    "fact.period": "Period",
    "fact.jurisdiction": "Country",
    "fact.citation": "Citation",
    "fact.privacy": "Protection",
    "assessment.framework": "Assessed against {framework}: {met} met, {partly} partly met, "
                            "{not_met} not met.",
    "plan.summary": "{plan}: progress by status ({total} in all).",
    "plan.more": "{n} more indicators in the annual report.",
    "you_said.summary": "{consultation}: {contributions} contributions — {accepted} "
                        "accepted, {partly} partly accepted, {not_accepted} not accepted.",
    "status.met": "Met",
    "status.partly": "Partly met",
    "status.not_met": "Not met",
    "status.on_track": "On track",
    "status.at_risk": "At risk",
    "status.off_track": "Off track",
    "status.no_data": "No data yet",
    "status.no_target": "No target",
    "status.no_baseline": "No baseline",
    "status.context": "Context (not rated)",
    "map.title": "Released counts by region",
    "map.legend": "released count",
    "map.bar_note": "Ranked by the released count; the workspace's region map was not part "
                    "of the release.",
    "map.unmatched_note": "None of the released region codes is on the workspace's map, so "
                          "the regions are ranked instead.",
    "map.suppressed_note": "Not published (suppressed): {regions}.",
    "map.off_map_note": "Not on the map: {regions}.",
    "map.alt": "Map of {n} regions shaded by the released count of victims identified; the "
               "highest are {top}.",
    "map.bar_alt": "Bar chart ranking {n} regions by the released count of victims "
                   "identified; the highest are {top}.",
    "toc_field": "Right-click and choose Update Field to show the table of contents.",
    "privacy_box": "How the figures are protected",
}

_TOKEN = re.compile(r"\[\[([^\[\]\n]*)\]\]")
_TOKEN_BODY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_]+))?$")
#: a quotation of an interview note: ``[[quote:EVQ-0003]]``, a paragraph of its own
_QUOTE_BODY = re.compile(r"^\s*quote\s*:\s*([A-Za-z0-9][A-Za-z0-9_.\-]*)\s*$", re.IGNORECASE)
_QUOTE_LINE = re.compile(r"^\[\[(\s*quote\s*:[^\[\]\n]*)\]\]$", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.,])(\d+(?:[.,\u00a0\u202f]\d+)*)([A-Za-z]*)")
_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|"
           "December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec")
_ALLOWED_SPANS = re.compile(
    r"(?:19|20)\d{2}-\d{2}-\d{2}"                                   # ISO date
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\b"              # 1 March
    rf"|\b(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?\b"              # March 1st
    r"|^[ \t]*\d{1,3}[.)](?=\s)",                                   # numbered list item
    re.MULTILINE)
_REF_WORD = re.compile(
    r"(?:^|(?<=[\s(\[]))(?:" + "|".join(re.escape(w) + ("" if w.endswith(".") or w == "§"
                                                        else "s?")
                                        for w in REFERENCE_WORDS)
    + r")\s*$", re.IGNORECASE)
_REF_JOIN = re.compile(r"^\s*(?:,|and|or|to|&|–|-)\s*$|^\s*\([a-z0-9]{1,4}\)\s*(?:,|and|or|to|&"
                       r"|–|-)\s*$", re.IGNORECASE)
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


# --- figures ---------------------------------------------------------------------------------


def _n(x: float) -> str:
    """A number with thousands separators: whole numbers without decimals, others with at
    most two (trailing zeros dropped)."""
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def _number(x: float, unit: str) -> str:
    return _n(x) + ("%" if unit.strip() in ("%", "percent") else "")


def _level(f: KeyFigure) -> str:
    return f"{f.level * 100:g}"


def figure_text(f: KeyFigure, texts: Mapping[str, str] | None = None,
                part: str | None = None) -> str:
    """A figure as the narrative shows it: ``1,234 (± 12)``, ``5,600 (95% interval
    4,900–6,500)``, or "not published"; with ``part`` one of :data:`PARTS` only."""
    t = texts or TEXTS
    if part in ("period", "label", "unit"):
        return str(getattr(f, part))
    if f.value is None:
        return t["not_published"]
    if part in ("value", "low", "high", "error"):
        v = getattr(f, part)
        if v is None:
            raise ReportError(f"figure {f.key!r} has no {part}")
        return _number(v, f.unit)
    extra = []
    if f.error is not None:
        extra.append(t["error"].format(error=_number(f.error, f.unit)))
    if f.low is not None and f.high is not None:
        extra.append(t["interval"].format(level=_level(f), low=_number(f.low, f.unit),
                                          high=_number(f.high, f.unit)))
    text = _number(f.value, f.unit)
    return f"{text} ({'; '.join(extra)})" if extra else text


# --- the narrative ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NarrativeProblem:
    """One problem of a narrative section: where (1-based line and column, 0-based offset),
    the offending text and what to do."""

    section: str
    line: int
    column: int
    offset: int
    text: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}"
        return f"{self.section}, {where}: {self.message}" if self.section else \
            f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _where(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _suggest(key: str, keys: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, keys, n=1)
    listed = ", ".join(keys) if keys else "none"
    return (f" (did you mean [[{close[0]}]]?)" if close else "") + f"; figures: {listed}"


def _quote_problem(inner: str, bundle: ReleaseBundle) -> str | None:
    q = _QUOTE_BODY.match(inner)
    listed = ", ".join(x["id"] for x in bundle.quotations) or "none"
    if q is None or bundle.quotation(q.group(1)) is None:
        return (f"[[{inner}]] names no quotation this brief may show (quotations from notes "
                f"whose speakers agreed to be quoted: {listed})")
    return None


def _token_problem(inner: str, bundle: ReleaseBundle) -> str | None:
    if inner.strip().lower().startswith("quote"):
        return _quote_problem(inner, bundle)
    keys = [f.key for f in bundle.figures]
    m = _TOKEN_BODY.match(inner.strip())
    if not m:
        return (f"[[{inner}]] is not a figure token; write [[key]] or [[key.part]] "
                f"(parts: {', '.join(PARTS)}){_suggest(inner.strip(), keys)}")
    key, part = m.group(1), m.group(2)
    f = bundle.figure(key)
    if f is None:
        return f"[[{inner}]] names no figure of release {bundle.release_id}{_suggest(key, keys)}"
    if part is not None and part not in PARTS:
        return f"[[{inner}]]: a figure has no part {part!r}; parts: {', '.join(PARTS)}"
    if part in ("low", "high", "error") and f.value is not None and getattr(f, part) is None:
        has = [p for p in ("low", "high", "error") if getattr(f, p) is not None]
        return (f"[[{inner}]]: figure {key!r} has no {part}"
                + (f" (it has {', '.join(has)})" if has else "") + f"; cite [[{key}]]")
    return None


def _masked(text: str) -> str:
    """The text with every token blanked (same length, so positions stay)."""
    return _TOKEN.sub(lambda m: " " * len(m.group(0)), text)


def _number_problem(num: str, suffix: str) -> bool:
    """True when a number found outside an allowed span is typed by hand."""
    ordinal = suffix.lower() in ("st", "nd", "rd", "th") and num.isdigit()  # "3rd"
    year = num.isdigit() and len(num) == 4 and 1900 <= int(num) <= 2099 and suffix in ("", "s")
    return not (ordinal or year)


def check_narrative(text: str, bundle: ReleaseBundle, *,
                    section: str = "") -> list[NarrativeProblem]:
    """The problems of one narrative section: tokens that cite no figure of ``bundle``
    (unknown key or part, an interval the figure does not have, a malformed or unclosed
    token), and numbers typed by hand (see the module notes for what is allowed). Every
    problem is an error; an empty list means the text may be rendered."""
    out: list[NarrativeProblem] = []

    def add(offset: int, snippet: str, message: str) -> None:
        line, col = _where(text, offset)
        out.append(NarrativeProblem(section, line, col, offset, snippet, message))

    for m in _TOKEN.finditer(text):
        problem = _token_problem(m.group(1), bundle)
        if problem:
            add(m.start(), m.group(0), problem)
        elif _QUOTE_BODY.match(m.group(1)) and not _alone(text, m.start(), m.end()):
            add(m.start(), m.group(0), "a quotation stands in a paragraph of its own: put "
                                       f"{m.group(0)} between blank lines")
    masked = _masked(text)
    for m in re.finditer(r"\[\[|\]\]", masked):
        add(m.start(), m.group(0), f"{m.group(0)!r} without its other half: a token is "
                                   "[[key]] on one line")
    allowed = [(m.start(), m.end()) for m in _ALLOWED_SPANS.finditer(masked)]
    ref_end: int | None = None
    example = bundle.figures[0].key if bundle.figures else "identified"
    for m in _NUMBER.finditer(masked):
        start, end = m.start(), m.end()
        if any(a <= start and end <= b for a, b in allowed):
            continue
        before = masked[max(0, start - 40):start]  # the longest reference word, and room
        if _REF_WORD.search(before) or (ref_end is not None
                                        and _REF_JOIN.match(masked[ref_end:start])):
            ref_end = end
            continue
        ref_end = None
        if start >= 2 and masked[start - 1] in "-/" and masked[start - 2].isalpha():
            continue  # part of a code: "XT-01", "COVID-19"
        if not _number_problem(m.group(1), m.group(2)):
            continue
        add(start, m.group(0),
            f'"{m.group(0)}" is typed by hand: a number in a document must come from the '
            f"release; cite a figure with a token such as [[{example}]] or "
            f"[[{example}.value]] (years, dates, ordinals and references such as "
            f"'article 4' are allowed)")
    out.sort(key=lambda p: p.offset)
    return out


def fill_narrative(text: str, bundle: ReleaseBundle,
                   texts: Mapping[str, str] | None = None) -> str:
    """The text with every token replaced by its figure (see :func:`figure_text`); refuses
    a text with problems (:class:`ReportError`)."""
    problems = check_narrative(text, bundle)
    if problems:
        raise ReportError(_problems_message(problems), problems=problems)
    return "".join(s for s, _fig in _segments(text, bundle, texts or TEXTS))


def _segments(text: str, bundle: ReleaseBundle,
              t: Mapping[str, str]) -> list[tuple[str, bool]]:
    """The text as (piece, is_figure) pieces, tokens filled."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        if m.start() > pos:
            out.append((text[pos:m.start()], False))
        body = _TOKEN_BODY.match(m.group(1).strip())
        if body is None:  # checked before; kept as typed
            out.append((m.group(0), False))
        else:
            f = bundle.figure(body.group(1))
            out.append((m.group(0) if f is None else figure_text(f, t, body.group(2)), True))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def _alone(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is a paragraph of its own (blank lines or the text's ends
    around it)."""
    before = text[:start].rstrip(" \t")
    after = text[end:].lstrip(" \t")
    return ((not before.strip() or before.endswith("\n\n") or bool(re.search(r"\n\s*\n$",
                                                                           before)))
            and (not after.strip() or bool(re.match(r"^\n\s*\n", after))))


def _blocks(text: str) -> list[tuple[str, list[str]]]:
    """Paragraphs (blank-line separated; wrapped lines joined), bullet lists (every line
    of the paragraph starts with "-", "*" or "•") and quotations (a paragraph that is one
    ``[[quote:ID]]`` token: kind "quote", the item is the id)."""
    out: list[tuple[str, list[str]]] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = [ln.strip() for ln in chunk.splitlines() if ln.strip()]
        if not lines:
            continue
        quote = _QUOTE_LINE.match(" ".join(lines))
        if quote and _QUOTE_BODY.match(quote.group(1)):
            out.append(("quote", [_QUOTE_BODY.match(quote.group(1)).group(1)]))  # type: ignore[union-attr]
            continue
        if all(re.match(r"^[-*•]\s+", ln) for ln in lines):
            out.append(("ul", [re.sub(r"^[-*•]\s+", "", ln) for ln in lines]))
        else:
            out.append(("p", [" ".join(lines)]))
    return out


def _problems_message(problems: Sequence[NarrativeProblem]) -> str:
    head = ("the narrative has a problem" if len(problems) == 1 else
            f"the narrative has {len(problems)} problems")
    return head + ":\n" + "\n".join(f"  - {p}" for p in problems)


# --- what every format shows -----------------------------------------------------------------


@dataclass
class _Chart:
    key: str
    title: str
    alt: str
    caption: str
    source: str
    spec: dict[str, Any] | None = None
    #: the drawing of a chart that is not Vega-Lite (the choropleth): SVG or PNG
    svg: str | None = None
    png: bytes | None = None
    note: str = ""


@dataclass
class _Doc:
    """Everything a document shows, formatted once for HTML, PDF and Word."""

    bundle: ReleaseBundle
    kind: str
    language: str
    t: Mapping[str, str]
    narrative: dict[str, str]
    figures: list[KeyFigure]
    other_figures: list[KeyFigure]
    charts: dict[str, list[_Chart]]
    region_chart: _Chart | None
    table_labels: dict[str, str]

    def text(self, key: str, **kw: Any) -> str:
        return self.t[key].format(**kw) if kw else self.t[key]

    def section_title(self, key: str) -> str:
        if self.kind == "brief" and key == "consultation":
            return self.t["section.you_said"]
        if self.kind == "brief" and key == "methods":
            return self.t["section.method_box"]
        return self.t[f"section.{key}"]

    @property
    def stamp(self) -> str:
        b = self.bundle
        return self.text("stamp", release_id=b.release_id, version=b.version,
                         data_version=b.data_version)

    @property
    def release_line(self) -> str:
        b = self.bundle
        return self.text("release_line", release_id=b.release_id, version=b.version,
                         approved_by=b.approved_by or "—", approved_at=_day(b.approved_at))

    @property
    def title(self) -> str:
        return self.bundle.title or self.t[f"kind.{self.kind}"]

    def has(self, key: str) -> bool:
        """True when the narrative section ``key`` has text."""
        return bool(self.narrative.get(key, "").strip())

    def blocks(self, key: str) -> list[tuple[str, list[list[tuple[str, bool]]]]]:
        """A section's blocks; a quotation's items are its text and its reference (a
        quotation no longer in the bundle — consent withdrawn — is left out)."""
        text = self.narrative.get(key, "")
        out: list[tuple[str, list[list[tuple[str, bool]]]]] = []
        for kind, items in _blocks(text):
            if kind == "quote":
                q = self.bundle.quotation(items[0])
                if q is not None:
                    out.append(("quote", [[(q["text"], False)], [(q["reference"], False)]]))
                continue
            out.append((kind, [_segments(item, self.bundle, self.t) for item in items]))
        return out

    def key_messages(self) -> list[tuple[str, list[list[tuple[str, bool]]]]]:
        """The written key messages, else one line per key figure (label: value, period)."""
        if self.has("key_messages"):
            return self.blocks("key_messages")
        items = []
        for f in self.figures:
            when = f" ({f.period})" if f.period else ""
            items.append([(f"{f.label}{when}: ", False), (figure_text(f, self.t), True)])
        return [("ul", items)]

    def card(self, f: KeyFigure) -> dict[str, str]:
        t = self.t
        if f.value is None:
            return {"key": f.key, "label": f.label, "value": t["not_published"], "unit": "",
                    "detail": "", "period": f.period, "note": f.note, "published": ""}
        unit = "" if f.unit.strip() in ("%", "percent") else f.unit
        detail = []
        if f.low is not None and f.high is not None:
            detail.append(t["interval"].format(level=_level(f), low=_number(f.low, f.unit),
                                               high=_number(f.high, f.unit)))
        if f.error is not None:
            detail.append(t["error_long"].format(error=_number(f.error, f.unit),
                                                 level=_level(f)))
        return {"key": f.key, "label": f.label, "value": _number(f.value, f.unit),
                "unit": unit, "detail": "; ".join(detail), "period": f.period,
                "note": f.note, "published": "yes"}

    def figure_rows(self, figures: Sequence[KeyFigure]) -> list[list[str]]:
        """Figure, value, interval, privacy error, period, note (the figures table)."""
        rows = []
        for f in figures:
            c = self.card(f)
            interval = "" if f.low is None or f.high is None or f.value is None else \
                f"{_number(f.low, f.unit)}–{_number(f.high, f.unit)} ({_level(f)}%)"
            error = "" if f.error is None or f.value is None else \
                self.t["error"].format(error=_number(f.error, f.unit))
            value = c["value"] + (f" {c['unit']}" if c["unit"] else "")
            rows.append([f.label, value, interval, error, f.period, f.note])
        return rows

    def figure_columns(self) -> list[str]:
        return [self.t[f"col.{c}"] for c in ("figure", "value", "interval", "error", "period",
                                               "note")]

    def facts(self) -> list[tuple[str, str]]:
        b = self.bundle
        return [(self.t["fact.release_id"], b.release_id),
                (self.t["fact.version"], str(b.version)),
                (self.t["fact.data_version"], b.data_version),
                (self.t["fact.jurisdiction"], b.jurisdiction),
                (self.t["fact.period"], b.period),
                (self.t["fact.approved_by"], b.approved_by),
                (self.t["fact.approved_at"], _day(b.approved_at)),
                (self.t["fact.privacy"], b.privacy),
                (self.t["fact.citation"], b.citation)]

    def status(self, s: Any) -> str:
        return self.t.get(f"status.{s}", str(s).replace("_", " "))

    def plan_summary(self) -> str:
        sc = self.bundle.scorecard or {}
        total = sum(n for _k, _l, n in _plan_counts(self))
        return self.text("plan.summary", plan=sc.get("plan", ""), total=_n(total))

    def assessment_summary(self) -> str:
        a = self.bundle.assessment or {}
        return self.text("assessment.framework", framework=a.get("framework", ""),
                         met=_cell_text(a.get("met")), partly=_cell_text(a.get("partly")),
                         not_met=_cell_text(a.get("not_met")))

    def you_said_summary(self) -> str:
        y = self.bundle.you_said_we_did or {}
        return self.text("you_said.summary", consultation=y.get("consultation", ""),
                         **{k: _cell_text(y.get(k)) for k in ("contributions", "accepted",
                                                              "partly", "not_accepted")})

    def tables_of(self, chapter: str) -> list[BundleTable]:
        return [tb for tb in self.bundle.tables if tb.section == chapter]


def _day(text: str) -> str:
    """An ISO timestamp as its date; any other text as it is."""
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return text


def _cell_text(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | float):
        return _n(v)
    return str(v)


def _is_year_column(tb: BundleTable, j: int) -> bool:
    """A column of years (its name says so, every value a whole number 1900–2099): printed
    without a thousands separator."""
    return "year" in tb.columns[j].lower() and all(
        isinstance(r[j], int) and not isinstance(r[j], bool) and 1900 <= r[j] <= 2099
        for r in tb.rows if r[j] is not None)


def _table_rows(tb: BundleTable) -> list[list[str]]:
    years = [_is_year_column(tb, j) for j in range(len(tb.columns))]
    return [[str(v) if years[j] and v is not None else _cell_text(v) for j, v in enumerate(r)]
            for r in tb.rows]


def _numeric_columns(tb: BundleTable) -> list[bool]:
    cols = []
    for j in range(len(tb.columns)):
        vals = [r[j] for r in tb.rows if r[j] is not None]
        cols.append(bool(vals) and all(isinstance(v, int | float) and not isinstance(v, bool)
                                       for v in vals))
    return cols


def _need(d: Mapping[str, Any], keys: Sequence[str], what: str) -> None:
    missing = [k for k in keys if k not in d]
    if missing:
        raise ReportError(f"bundle {what}: missing {', '.join(missing)} (expected "
                          f"{', '.join(keys)})")


def _check_summaries(b: ReleaseBundle) -> None:
    if b.assessment is not None:
        _need(b.assessment, ("framework", "met", "partly", "not_met"), "assessment")
    if b.scorecard is not None:
        _need(b.scorecard, ("plan", "rows", "counts"), "scorecard")
        for i, r in enumerate(b.scorecard["rows"], start=1):
            if not isinstance(r, Mapping):
                raise ReportError(f"bundle scorecard, row {i}: not an object")
            _need(r, ("indicator", "baseline", "target", "latest", "status"),
                  f"scorecard, row {i}")
    if b.you_said_we_did is not None:
        _need(b.you_said_we_did, ("consultation", "contributions", "accepted", "partly",
                                  "not_accepted"), "you_said_we_did")


def _plan_rows(d: _Doc, limit: int | None) -> tuple[list[list[str]], int]:
    sc = d.bundle.scorecard or {}
    rows = list(sc.get("rows") or [])
    if limit is not None:
        # the brief shows the indicators that need attention first
        order = {"off_track": 0, "at_risk": 1}
        rows = sorted(rows, key=lambda r: order.get(str(r["status"]), 2))
    shown = rows if limit is None else rows[:limit]
    out = [[str(r["indicator"]), _cell_text(r["baseline"]), _cell_text(r["target"]),
            _cell_text(r["latest"]), d.status(r["status"])] for r in shown]
    return out, len(rows) - len(shown)


def _plan_counts(d: _Doc) -> list[tuple[str, str, int]]:
    counts = (d.bundle.scorecard or {}).get("counts") or {}
    return [(str(k), d.status(k), int(v)) for k, v in counts.items()]


# --- charts ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _vl(spec_json: str, fmt: str) -> str | bytes:
    """A Vega-Lite spec (as JSON, so it can be cached) drawn by vl-convert; no URL may be
    read (``allowed_base_urls=[]``)."""
    import vl_convert as vlc

    spec = json.loads(spec_json)
    if fmt == "svg":
        return vlc.vegalite_to_svg(spec, allowed_base_urls=[])  # type: ignore[no-any-return]
    return vlc.vegalite_to_png(spec, scale=2, allowed_base_urls=[])  # type: ignore[no-any-return]


def _vega(chart: _Chart, fmt: str) -> str | bytes:
    try:
        return _vl(json.dumps(chart.spec, sort_keys=True), fmt)
    except ValueError as exc:
        raise ReportError(f"chart {chart.key!r}: Vega-Lite cannot draw its spec: "
                          f"{str(exc).splitlines()[0][:300]}; check it with "
                          "altair.Chart.from_dict(spec)") from exc


def _svg(chart: _Chart) -> str:
    return chart.svg if chart.svg is not None else str(_vega(chart, "svg"))


def _png(chart: _Chart) -> bytes:
    if chart.png is not None:
        return chart.png
    png = _vega(chart, "png")
    if not isinstance(png, bytes):
        raise TypeError("vl-convert returned no PNG")
    return png


def _svg_inline(svg: str, prefix: str, alt: str) -> str:
    """An SVG to put inline in HTML: declarations and metadata dropped, ids made unique
    per chart (several charts share ids such as ``clip1``), ``role="img"`` and a
    ``<title>`` holding the alt text (WeasyPrint tags it as the figure's /Alt)."""
    from html import escape

    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    # a spec's href channel makes links; a document links nowhere outside itself
    svg = re.sub(r'\s(?:xlink:)?href="(?!#|data:)[^"]*"', "", svg)
    # Matplotlib writes style="fill: …"; inside HTML, WeasyPrint reads those as (unknown)
    # CSS and warns, so they become the equivalent SVG presentation attributes
    svg = re.sub(r'\sstyle="([^"]*)"', _style_attributes, svg)
    head_end = svg.index(">")
    head = svg[:head_end]
    head = re.sub(r'\s(?:role|aria-label|aria-labelledby)="[^"]*"', "", head)
    title_id = f"{prefix}-title"
    head += f' role="img" aria-labelledby="{title_id}"'
    return (head + ">" + f'<title id="{title_id}">{escape(alt)}</title>'
            + svg[head_end + 1:])


def _style_attributes(m: re.Match[str]) -> str:
    attrs = []
    for decl in m.group(1).split(";"):
        name, _, value = (x.strip() for x in decl.partition(":"))
        if re.fullmatch(r"[a-z-]+", name) and value:
            attrs.append(f' {name}="{value}"')
    return "".join(attrs)


def _region_chart(b: ReleaseBundle, t: Mapping[str, str], fmt: str) -> _Chart | None:
    """The regions as a choropleth (with the workspace's geometry) or a ranked bar chart."""
    if not b.map_regions:
        return None
    values = b.map_regions
    published = {k: v for k, v in values.items() if v is not None}
    suppressed = sorted(k for k, v in values.items() if v is None)
    ranked = sorted(published.items(), key=lambda kv: (-kv[1], kv[0]))
    geo = b.map_geometry
    names: dict[str, str] = {}
    if geo is not None:
        for f in geo["features"]:
            props = (f.get("properties") or {}) if isinstance(f, Mapping) else {}
            names[str(props.get("code"))] = str(props.get("name") or "")
    codes = set(names)
    top = ", ".join(f"{names[k]} ({k})" if names.get(k) else k for k, _v in ranked[:3]) or "—"
    notes = []
    if suppressed:
        notes.append(t["map.suppressed_note"].format(regions=", ".join(suppressed)))
    on_map = [k for k in values if k in codes]
    if geo is not None and on_map:
        off = sorted(k for k in values if k not in codes)
        if off:
            notes.append(t["map.off_map_note"].format(regions=", ".join(off)))
        chart = _Chart("map-regions", t["map.title"],
                       t["map.alt"].format(n=len(values), top=top), "", "",
                       note=" ".join(notes))
        svg, png = _choropleth(geo, values, t["map.legend"], fmt)
        chart.svg, chart.png = svg, png
        return chart
    notes.insert(0, t["map.unmatched_note"] if geo is not None else t["map.bar_note"])
    label, value = t["col.region"], t["map.legend"]
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "data": {"values": [{label: k, value: v} for k, v in ranked]},
        "mark": {"type": "bar", "color": "#1b6e7e"},
        "encoding": {"y": {"field": label, "type": "nominal", "sort": "-x", "title": None},
                     "x": {"field": value, "type": "quantitative", "title": value}},
        "width": 420, "height": {"step": 14} if len(ranked) > 12 else 220,
    }
    return _Chart("map-regions", t["map.title"], t["map.bar_alt"].format(n=len(ranked), top=top),
                  "", "", spec=spec, note=" ".join(notes))


def _choropleth(geo: Mapping[str, Any], values: Mapping[str, float | None], legend: str,
                fmt: str) -> tuple[str | None, bytes | None]:
    import geopandas as gpd
    import pandas as pd

    from tiplab.reports.maps import choropleth

    layer = gpd.GeoDataFrame.from_features(list(geo["features"]), crs="EPSG:4326")
    frame = pd.DataFrame({"code": list(values), legend: [
        float("nan") if v is None else float(v) for v in values.values()]})
    suffix = "png" if fmt == "docx" else "svg"
    with tempfile.TemporaryDirectory(prefix="tiplab-map-") as tmp:
        path = choropleth(layer, frame, key="code", layer_key="code", value=legend,
                          path=Path(tmp) / f"regions.{suffix}")
        if suffix == "png":
            return None, path.read_bytes()
        return path.read_text(encoding="utf-8"), None


def _chart(c: BundleChart) -> _Chart:
    return _Chart(c.key, c.title, c.alt, c.caption, c.source, spec=c.vega_lite)


# --- the document model ----------------------------------------------------------------------


def _doc(bundle: ReleaseBundle, kind: str, fmt: str, narrative: Mapping[str, str] | None,
         language: str) -> _Doc:
    if not isinstance(bundle, ReleaseBundle):
        raise ReportError(f"render: expected a ReleaseBundle, got {type(bundle).__name__}; "
                          "read a stored bundle with ReleaseBundle.from_dict")
    if kind not in KINDS:
        raise ReportError(f"render: kind {kind!r} is not one of {', '.join(KINDS)}")
    if fmt not in FORMATS:
        raise ReportError(f"render: fmt {fmt!r} is not one of {', '.join(FORMATS)}")
    if not isinstance(language, str) or not _LANGUAGE.match(language):
        raise ReportError(f"render: language {language!r} is not a language tag such as "
                          "'en' or 'fr-BE'")
    if not bundle.figures:
        raise ReportError(f"release {bundle.release_id} version {bundle.version} has no key "
                          "figures: a brief or report opens with them; add a 'figures' item "
                          "to the release and prepare a new version")
    _check_summaries(bundle)
    text = dict(narrative or {})
    allowed = SECTIONS[kind]
    problems: list[NarrativeProblem] = []
    unknown = [k for k in text if k not in allowed]
    if unknown:
        raise ReportError(f"narrative section(s) {', '.join(map(repr, unknown))} are not "
                          f"part of the {kind}; its sections are {', '.join(allowed)}")
    for key in allowed:
        value = text.get(key, "")
        if not isinstance(value, str):
            raise ReportError(f"narrative section {key!r}: give text, not "
                              f"{type(value).__name__}")
        problems.extend(check_narrative(value, bundle, section=key))
    if problems:
        raise ReportError(_problems_message(problems), problems=problems)
    t = TEXTS
    shown = bundle.figures[:BRIEF_FIGURES] if kind == "brief" else list(bundle.figures)
    other = bundle.figures[BRIEF_FIGURES:] if kind == "brief" else []
    charts: dict[str, list[_Chart]] = {c: [] for c in CHAPTERS}
    for c in bundle.charts:
        charts[c.section or "identification"].append(_chart(c))
    if kind == "brief":
        # the brief's trend charts: identification ones first, then any others
        ordered = charts["identification"] + [x for c in CHAPTERS if c != "identification"
                                              for x in charts[c]]
        charts = {c: [] for c in CHAPTERS}
        charts["identification"] = ordered[:BRIEF_CHARTS]
    labels = {tb.key: f"A{i}" for i, tb in enumerate(bundle.tables, start=1)}
    return _Doc(bundle, kind, language, t, text, list(shown), list(other), charts,
                _region_chart(bundle, t, fmt), labels)


# --- HTML and PDF ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _env() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("tiplab.reports", "templates"),
                       autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def _css_string(s: str) -> str:
    """Text as a CSS string literal (for ``content:``), safe inside ``<style>``."""
    s = re.sub(r"[\x00-\x1f\x7f]+", " ", s)
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace(">", "\\3e ")
    return f'"{s}"'


def _page_css(d: _Doc) -> str:
    cite = d.text("cite_as", citation=d.bundle.citation) if d.bundle.citation else ""
    return ("@page { @bottom-left { content: " + _css_string(cite) + "; } "
            "@bottom-right { white-space: pre-line; content: "
            + _css_string(d.stamp) + ' "\\A " ' + _css_string(d.t["page"] + " ")
            + " counter(page) " + _css_string(" " + d.t["of"] + " ") + " counter(pages); } }")


def _html(d: _Doc) -> str:
    from markupsafe import Markup

    svgs: dict[str, Markup] = {}
    all_charts = [c for cs in d.charts.values() for c in cs]
    if d.region_chart is not None:
        all_charts.append(d.region_chart)
    for i, c in enumerate(all_charts, start=1):
        svgs[c.key] = Markup(_svg_inline(_svg(c), f"chart{i}", c.alt))  # noqa: S704
    template = _env().get_template(f"{d.kind}.html")
    plan_rows, plan_more = _plan_rows(d, BRIEF_PLAN_ROWS if d.kind == "brief" else None)
    ysd = d.bundle.you_said_we_did or {}
    examples = list(ysd.get("examples") or [])
    if d.kind == "brief":
        examples = examples[:BRIEF_EXAMPLES]
    return str(template.render(
        d=d, b=d.bundle, t=d.t, svgs=svgs, page_css=Markup(_page_css(d)),  # noqa: S704
        tables=[_table_view(d, tb) for tb in d.bundle.tables],
        plan_rows=plan_rows, plan_more=plan_more, plan_counts=_plan_counts(d),
        examples=examples, chapters=_chapters(d)))


def _table_view(d: _Doc, tb: BundleTable) -> dict[str, Any]:
    return {"key": tb.key, "label": d.table_labels[tb.key], "title": tb.title,
            "columns": tb.columns, "numeric": _numeric_columns(tb),
            "rows": _table_rows(tb), "notes": tb.notes,
            "source": tb.source, "section": tb.section}


def _chapters(d: _Doc) -> list[tuple[str, str, str]]:
    """(anchor, number, title) of the annual report's chapters, for the contents."""
    keys = ["summary", *CHAPTERS]
    out = [(f"ch-{k}", str(i), d.t[f"section.{k}"]) for i, k in enumerate(keys, start=1)]
    if d.bundle.tables:
        out.append(("ch-annex", "A", d.t["section.annex"]))
    return out


def _pdf(html: str) -> tuple[bytes, int]:
    """The PDF and its number of pages: WeasyPrint, tagged (the PDF/UA-1 variant),
    fetching nothing but ``data:`` URIs.

    :func:`tiplab.policy.documents.html_to_pdf` does the same untagged; once it accepts
    WeasyPrint's options (``pdf_variant``) this should call it.
    """
    with warnings.catch_warnings():
        # WeasyPrint warns at import when the system lacks libharfbuzz-subset (it then
        # subsets fonts with fontTools): an environment note, not ours to raise
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        from weasyprint import DEFAULT_OPTIONS, HTML
        from weasyprint.urls import URLFetcher

    class _NoFetch(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            raise ValueError(f"tiplab documents fetch nothing ({url[:80]})")

    options = {**DEFAULT_OPTIONS, "pdf_variant": "pdf/ua-1"}
    document = HTML(string=html, url_fetcher=_NoFetch()).render(**options)
    pdf = document.write_pdf(**options)
    if not isinstance(pdf, bytes):
        raise TypeError("WeasyPrint returned no PDF")
    return pdf, len(document.pages)


# --- Word ------------------------------------------------------------------------------------

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: object) -> str:
    """Text Word accepts (no XML-forbidden control characters)."""
    return _XML_BAD.sub("", str(text))


class _Word:
    """python-docx with headings in the built-in Heading styles (Word's navigation pane),
    tables with a repeated, bold header row, pictures with descriptions, and a footer."""

    def __init__(self, d: _Doc) -> None:
        from docx import Document
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Mm, Pt

        self.d = d
        self.doc = Document()
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Mm(210), Mm(297)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(sec, side, Mm(20))
        self.width_mm = 170
        styles = self.doc.styles
        styles["Normal"].font.name = "DejaVu Sans"
        styles["Normal"].font.size = Pt(10)
        # the proofing language of every run (Word's equivalent of <html lang>)
        rpr = styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
        lang = OxmlElement("w:lang")
        lang.set(qn("w:val"), d.language)
        lang.set(qn("w:eastAsia"), d.language)
        lang.set(qn("w:bidi"), d.language)
        rpr.append(lang)
        props = self.doc.core_properties
        b = d.bundle
        props.title = _x(d.title)
        props.subject = _x(f"{d.t[f'kind.{d.kind}']} · {b.jurisdiction} · {b.period}")
        props.language = d.language
        props.identifier = _x(b.release_id)
        props.keywords = _x(d.stamp)
        props.author = _x(b.approved_by)
        props.comments = _x(b.citation)

    def heading(self, text: str, level: int) -> Any:
        return self.doc.add_heading(_x(text), level)

    def para(self, text: str = "", *, style: str | None = None, bold: bool = False,
             italic: bool = False) -> Any:
        p = self.doc.add_paragraph(style=style)
        if text:
            r = p.add_run(_x(text))
            r.bold = bold or None
            r.italic = italic or None
        return p

    def segments(self, segs: Sequence[tuple[str, bool]], style: str | None = None) -> None:
        p = self.doc.add_paragraph(style=style)
        for text, fig in segs:
            p.add_run(_x(text)).bold = fig or None

    def narrative(self, blocks: Sequence[tuple[str, list[list[tuple[str, bool]]]]]) -> None:
        for kind, items in blocks:
            if kind == "quote":
                text, ref = ("".join(s for s, _f in segs) for segs in items)
                self.doc.add_paragraph(_x(f"“{text}”"), style="Quote")
                self.doc.add_paragraph(_x(f"— {ref}"))
                continue
            for segs in items:
                self.segments(segs, "List Bullet" if kind == "ul" else None)

    def table(self, head: Sequence[str], rows: Sequence[Sequence[str]],
              numeric: Sequence[bool] = ()) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        table = self.doc.add_table(rows=1, cols=len(head))
        table.style = self.doc.styles["Table Grid"]
        hdr = table.rows[0]
        tr_pr = hdr._tr.get_or_add_trPr()
        for tag in ("w:tblHeader", "w:cantSplit"):
            tr_pr.append(OxmlElement(tag))
        for cell, text in zip(hdr.cells, head, strict=True):
            cell.paragraphs[0].add_run(_x(text)).bold = True
        right = set(i for i, n in enumerate(numeric) if n)
        for row in rows:
            r = table.add_row()
            r._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
            for j, (cell, text) in enumerate(zip(r.cells, row, strict=True)):
                p = cell.paragraphs[0]
                p.add_run(_x(text))
                if j in right:
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        look = table._tbl.tblPr.find(qn("w:tblLook"))
        if look is not None:
            look.set(qn("w:firstRow"), "1")
        self.doc.add_paragraph()

    def picture(self, png: bytes, alt: str, title: str) -> None:
        from docx.shared import Mm

        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        p = self.doc.add_paragraph()
        w_mm = min(self.width_mm, 170.0)
        if height and width and w_mm * height / width > 180:
            shape = p.add_run().add_picture(io.BytesIO(png), height=Mm(180))
        else:
            shape = p.add_run().add_picture(io.BytesIO(png), width=Mm(w_mm))
        doc_pr = shape._inline.docPr
        doc_pr.set("descr", _x(alt))
        doc_pr.set("title", _x(title))

    def chart(self, c: _Chart) -> None:
        self.para(c.title, bold=True)
        self.picture(_png(c), c.alt, c.title)
        for text in (c.caption, c.note, self.d.text("source", source=c.source) if c.source
                     else ""):
            if text:
                self.para(text, style="Caption")

    def page_break(self) -> None:
        from docx.enum.text import WD_BREAK

        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def field(self, paragraph: Any, instruction: str, placeholder: str) -> None:
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        def char(kind: str) -> Any:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            return el

        paragraph.add_run()._r.append(char("begin"))
        instr = OxmlElement("w:instrText")
        instr.set(qn("xml:space"), "preserve")
        instr.text = f" {instruction} "
        paragraph.add_run()._r.append(instr)
        paragraph.add_run()._r.append(char("separate"))
        paragraph.add_run(placeholder)
        paragraph.add_run()._r.append(char("end"))

    def footer(self) -> None:
        from docx.shared import Pt

        foot = self.doc.sections[0].footer
        p = foot.paragraphs[0]
        if self.d.bundle.citation:
            p.add_run(_x(self.d.text("cite_as", citation=self.d.bundle.citation)))
            p = foot.add_paragraph()
        p.add_run(_x(f"{self.d.stamp} · {self.d.t['page']} "))
        self.field(p, "PAGE", "1")
        p.add_run(f" {self.d.t['of']} ")
        self.field(p, "NUMPAGES", "1")
        for para in foot.paragraphs:
            for r in para.runs:
                r.font.size = Pt(7.5)

    def bytes(self) -> bytes:
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()


def _docx_figures(w: _Word, d: _Doc, figures: Sequence[KeyFigure]) -> None:
    w.table(d.figure_columns(), d.figure_rows(figures))


def _docx_plan(w: _Word, d: _Doc, limit: int | None) -> None:
    sc = d.bundle.scorecard
    if sc is None:
        return
    counts = _plan_counts(d)
    w.para(d.plan_summary())
    if counts:
        w.table([d.t["col.status"], d.t["col.count"]], [[lab, _n(n)] for _k, lab, n in counts],
                [False, True])
    rows, more = _plan_rows(d, limit)
    if rows:
        w.table([d.t[f"col.{c}"] for c in ("indicator", "baseline", "target", "latest",
                                           "status")], rows, [False, True, True, True, False])
    if more:
        w.para(d.text("plan.more", n=more), italic=True)


def _docx_you_said(w: _Word, d: _Doc, limit: int | None) -> None:
    y = d.bundle.you_said_we_did
    if y is None:
        return
    w.para(d.you_said_summary())
    examples = list(y.get("examples") or [])[:limit]
    if examples:
        w.table([d.t["col.said"], d.t["col.did"]],
                [[str(e.get("said", "")), str(e.get("did", ""))] for e in examples])


def _docx_assessment(w: _Word, d: _Doc, full: bool) -> None:
    a = d.bundle.assessment
    if a is None:
        return
    w.para(d.assessment_summary())
    gaps = list(a.get("gaps") or [])
    if full and gaps:
        w.heading(d.t["section.gaps"], 2)
        w.table([d.t["col.ref"], d.t["col.title"], d.t["col.status"]],
                [[str(g.get("ref", "")), str(g.get("title", "")), d.status(g.get("status"))]
                 for g in gaps])


def _docx_table(w: _Word, d: _Doc, tb: BundleTable) -> None:
    w.heading(d.text("see_table", label=d.table_labels[tb.key], title=tb.title), 2)
    view = _table_view(d, tb)
    w.table(tb.columns, view["rows"], view["numeric"])
    for n in tb.notes:
        w.para(n, style="Caption")
    if tb.source:
        w.para(d.text("source", source=tb.source), style="Caption")


def _docx_cover(w: _Word, d: _Doc) -> None:
    b = d.bundle
    w.para(f"{d.t[f'kind.{d.kind}']} · {b.jurisdiction} · {b.period}", bold=True)
    w.heading(d.title, 0)
    w.para(d.release_line)
    w.para(d.text("data_version", data_version=b.data_version))


def _docx_brief(w: _Word, d: _Doc) -> None:
    b = d.bundle
    _docx_cover(w, d)
    w.heading(d.section_title("key_messages"), 1)
    w.narrative(d.key_messages())
    w.heading(d.t["section.key_figures"], 1)
    _docx_figures(w, d, d.figures)
    if d.has("introduction"):
        w.heading(d.section_title("introduction"), 1)
        w.narrative(d.blocks("introduction"))
    w.page_break()
    w.heading(d.section_title("identification"), 1)
    w.narrative(d.blocks("identification"))
    for c in d.charts["identification"]:
        w.chart(c)
    if d.other_figures:
        w.heading(d.t["section.other_figures"], 2)
        _docx_figures(w, d, d.other_figures)
    plan = b.scorecard is not None or b.assessment is not None or d.has("plan")
    if d.region_chart is not None or plan:
        w.page_break()
        if d.region_chart is not None:
            w.heading(d.t["section.regions"], 1)
            w.chart(d.region_chart)
        if plan:
            w.heading(d.section_title("plan"), 1)
            w.narrative(d.blocks("plan"))
            _docx_plan(w, d, BRIEF_PLAN_ROWS)
            _docx_assessment(w, d, full=False)
    w.page_break()
    if b.you_said_we_did is not None or d.has("consultation"):
        w.heading(d.section_title("consultation"), 1)
        w.narrative(d.blocks("consultation"))
        _docx_you_said(w, d, BRIEF_EXAMPLES)
    w.heading(d.section_title("methods"), 1)
    w.para(b.privacy)
    w.narrative(d.blocks("methods"))
    w.table([d.t["col.item"], d.t["col.value"]], [[k, v] for k, v in d.facts()[:7]])
    w.heading(d.t["section.cite"], 2)
    w.para(b.citation)


def _docx_annual(w: _Word, d: _Doc) -> None:
    b = d.bundle
    _docx_cover(w, d)
    w.heading(d.t["section.contents"], 1)
    w.field(w.para(), 'TOC \\o "1-2" \\h \\z \\u', d.t["toc_field"])
    chapters = _chapters(d)

    def chapter(i: int) -> None:
        w.page_break()
        _anchor, num, title = chapters[i]
        w.heading(f"{num} {title}", 1)

    chapter(0)
    w.heading(d.t["section.key_messages"], 2)
    w.narrative(d.key_messages())
    w.heading(d.t["section.key_figures"], 2)
    _docx_figures(w, d, d.figures)
    if d.has("introduction"):
        w.heading(d.t["section.introduction"], 2)
        w.narrative(d.blocks("introduction"))
    for i, key in enumerate(CHAPTERS, start=1):
        chapter(i)
        before = len(w.doc.paragraphs), len(w.doc.tables), len(w.doc.inline_shapes)
        w.narrative(d.blocks(key))
        if key == "identification":
            w.heading(d.t["section.figures"], 2)
            _docx_figures(w, d, d.figures)
        for c in d.charts[key]:
            w.chart(c)
        if key == "identification" and d.region_chart is not None:
            w.heading(d.t["section.regions"], 2)
            w.chart(d.region_chart)
        if key == "assessment":
            _docx_assessment(w, d, full=True)
        if key == "plan":
            _docx_plan(w, d, None)
        if key == "consultation":
            _docx_you_said(w, d, None)
        if key == "methods":
            w.para(b.privacy)
            w.heading(d.t["section.release"], 2)
            w.table([d.t["col.item"], d.t["col.value"]], [[k, v] for k, v in d.facts()])
            w.heading(d.t["section.sources"], 2)
            w.table([d.t["col.figure"], d.t["col.source"]],
                    [[f.label, f.source] for f in b.figures])
        refs = d.tables_of(key)
        if refs:
            w.para(d.t["tables_for_chapter"], bold=True)
            for tb in refs:
                w.para(d.text("see_table", label=d.table_labels[tb.key], title=tb.title),
                       style="List Bullet")
        after = len(w.doc.paragraphs), len(w.doc.tables), len(w.doc.inline_shapes)
        if after == before:
            w.para(d.t["nothing"], italic=True)
    if b.tables:
        chapter(len(chapters) - 1)
        for tb in b.tables:
            _docx_table(w, d, tb)


def _docx(d: _Doc) -> bytes:
    w = _Word(d)
    w.footer()
    if d.kind == "brief":
        _docx_brief(w, d)
    else:
        _docx_annual(w, d)
    return w.bytes()


# --- the entry point -------------------------------------------------------------------------


def render(bundle: ReleaseBundle, *, kind: str = "brief", fmt: str = "html",
           narrative: Mapping[str, str] | None = None, language: str = "en") -> bytes:
    """The brief or annual report of ``bundle`` as HTML (UTF-8), PDF or Word bytes.

    Refuses (:class:`ReportError`, every problem listed): an unknown ``kind``, ``fmt`` or
    language tag, a bundle without key figures, a narrative section the kind does not have,
    and narrative text with tokens naming no figure or numbers typed by hand (see
    :func:`check_narrative`). Nothing is fetched: charts are drawn from their inline data.
    """
    d = _doc(bundle, kind, fmt, narrative, language)
    if fmt == "docx":
        return _docx(d)
    html = _html(d)
    if fmt == "html":
        return html.encode("utf-8")
    pdf, pages = _pdf(html)
    if d.kind == "brief" and pages > 4:
        log.info("the brief of %s has %d pages (it is designed for 4): shorten the narrative",
                 bundle.release_id, pages)
    return pdf
