"""A National Action Plan as a document to share: HTML, PDF (WeasyPrint) and Word (python-docx),
and the logframe as CSV (core; no Django).

Every format carries the same content, in this order: a title page (title, country, period,
status and version, the date it was generated, the data version of the figures), a table of
contents, the narrative, the **logframe** (objective -> measure -> indicator -> baseline ->
targets per year -> responsible -> budget), then per pillar -> objective -> measure a section
with every field of the measure (type, lead and partners, target groups and regions, dates,
milestones, budget lines, indicators with baseline, targets and means of verification, risks
and assumptions, status) and the **evidence it cites** (label, value and unit, "data version X,
cited on D", the parameters that produced it), the **budget summary** (by pillar with shares,
by year, by funding source, pillar x year) in the plan currency, and the **international
cooperation register** (agreements and the measures that cite them).

Given ``flags`` (the :class:`~tiplab.policy.plan.EvidenceFlag` list of
:func:`~tiplab.policy.plan.check_evidence`), citations whose figure changed are marked with the
old and the new value, and a section lists them all.

The HTML is self-contained: inline CSS only, no script, no external resource; every text from
the plan is escaped. Its print CSS (A4, page numbers, rows that do not split, headings kept
with what follows, the logframe on landscape pages) is what WeasyPrint renders to PDF. The Word
file uses the built-in heading styles (Heading 1 for chapters and pillars, 2 for objectives, 3
for measures) so Word's navigation pane works, and a real table-of-contents field (Word fills
it on right-click -> Update field).

Usage::

    from pathlib import Path
    from tiplab.policy.plan import demo_plan
    from tiplab.policy.documents import plan_html, plan_pdf, plan_docx, logframe_csv
    plan = demo_plan()
    Path("nap.html").write_text(plan_html(plan), encoding="utf-8")
    Path("nap.pdf").write_bytes(plan_pdf(plan, data_version="2025-06"))
    # flags: tiplab.policy.plan.check_evidence(plan, current_value, "2025-06")
    Path("nap.docx").write_bytes(plan_docx(plan, flags=flags))
    Path("logframe.csv").write_text(logframe_csv(plan), encoding="utf-8")

The PDF of a 200-measure plan (about 160 pages) takes about 10 s: WeasyPrint's time grows
with the number of boxes, so the print layout keeps measures to paragraphs of lines and one
small table, and the table of contents lists measures only for plans of up to
:data:`TOC_MEASURES_MAX` of them (``benchmarks/bench_plan_documents.py``).
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import json
import logging
import re
import warnings
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from typing import Any

from tiplab.policy.plan import (
    AGREEMENT_KINDS,
    AGREEMENT_SCOPES,
    AGREEMENT_STATUSES,
    EVIDENCE_KINDS,
    FUNDING_SOURCES,
    MEASURE_STATUSES,
    MEASURE_TYPES,
    PLAN_STATUSES,
    Agreement,
    BudgetLine,
    Citation,
    EvidenceFlag,
    Measure,
    MeasureIndicator,
    Objective,
    Pillar,
    Plan,
    budget_summary,
    logframe,
)

__all__ = ["PLAN_CSS", "csp_style_source", "format_amount", "format_number", "format_share",
           "logframe_csv", "plan_docx", "plan_html", "plan_pdf"]

FONT_STACK = '"DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif'
#: accents of the pillars, in the order of the plan's pillars (cycled)
PILLAR_COLOURS = ("#1b6e7e", "#2f5d9e", "#8c2f39", "#3c7a3b", "#7a5c1e", "#5d3f8c")
DIRECTION_LABELS = {"higher_is_better": "higher is better", "lower_is_better": "lower is better",
                    "contextual": "contextual"}
DASH = "—"
#: the table of contents lists the measures of a plan that has at most this many (a longer plan
#: lists its pillars and objectives; every measure stays a PDF bookmark, a Word heading and a
#: link from the logframe)
TOC_MEASURES_MAX = 60
LOGGERS = ("weasyprint", "weasyprint.progress", "fontTools", "fontTools.subset",
           "fontTools.ttLib")


# --- numbers, dates and small texts ----------------------------------------------------------


def format_number(x: float | None, decimals: int = 2) -> str:
    """A figure with thousands separators: integers without decimals, others with at most
    ``decimals`` (trailing zeros dropped); ``None`` is a dash."""
    if x is None:
        return DASH
    if float(x).is_integer():
        return f"{int(x):,}"
    text = f"{x:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_amount(x: float | None) -> str:
    """Money with thousands separators: whole amounts without decimals, others with two."""
    if x is None:
        return DASH
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.2f}"


def format_share(share: float) -> str:
    return f"{share * 100:.1f} %"


def _date(d: dt.date | None) -> str:
    return d.isoformat() if d else DASH


def _day(text: str) -> str:
    """An ISO timestamp as its date; any other text as it is."""
    text = text.strip()
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return text


def _label(labels: dict[str, str], key: str) -> str:
    return labels.get(key, key)


def _list(xs: Sequence[str]) -> str:
    return ", ".join(xs) if xs else DASH


def _value_text(value: float | None, unit: str) -> str:
    if value is None:
        return "value not recorded"
    return f"{format_number(value)} {unit}".strip()


def _param_value(v: Any) -> str:
    if isinstance(v, list | tuple):
        return ", ".join(str(x) for x in v)
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
    return str(v)


def _mapping_text(d: dict[str, Any]) -> str:
    return "; ".join(f"{k} = {_param_value(v)}" for k, v in d.items())


def _provenance(c: Citation) -> str:
    parts = []
    if c.data_version:
        parts.append(f"data version {c.data_version}")
    if c.cited_at:
        parts.append(f"cited on {_day(c.cited_at)}")
    return ", ".join(parts) or "provenance not recorded"


def _change_text(change: float | None) -> str:
    if change is None or change != change or change in (float("inf"), float("-inf")):
        return ""
    return f" ({'+' if change >= 0 else ''}{change * 100:.1f} %)"


def _flag_text(f: EvidenceFlag) -> str:
    unit = f.citation.unit
    if f.state == "changed":
        return (f"Evidence changed on data version {f.data_version}: "
                f"{format_number(f.old)} → {format_number(f.new)} {unit}".rstrip()
                + _change_text(f.change))
    if f.state == "gone":
        return f"This figure no longer exists on data version {f.data_version}."
    return ""


def _blocks(text: str) -> list[tuple[str, list[str]]]:
    """Plain text as paragraphs (blank-line separated; wrapped lines joined) and bullet lists
    (paragraphs whose every line starts with "-", "*" or "•")."""
    out: list[tuple[str, list[str]]] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in chunk.splitlines() if line.strip()]
        if not lines:
            continue
        if all(re.match(r"^[-*•]\s+", line) for line in lines):
            out.append(("ul", [re.sub(r"^[-*•]\s+", "", line) for line in lines]))
        else:
            out.append(("p", [" ".join(lines)]))
    return out


def _budget_lines(m: Measure) -> list[BudgetLine]:
    order = {s: i for i, s in enumerate(FUNDING_SOURCES)}
    return sorted(m.budget, key=lambda b: (b.year, order.get(b.source, 99), b.currency))


def _indicator_name(mi: MeasureIndicator) -> tuple[str, str, str]:
    """(label, unit, direction) of a measure's indicator."""
    ind = mi.definition()
    if ind is None:
        return f"{mi.indicator} (not in the indicator library)", "", ""
    label = f"{mi.indicator} {ind.name}" + (" (custom)" if ind.custom else "")
    return label, ind.unit, _label(DIRECTION_LABELS, ind.direction)


def _baseline(mi: MeasureIndicator) -> str:
    text = format_number(mi.baseline)
    return f"{text} ({mi.baseline_year})" if mi.baseline is not None and mi.baseline_year \
        else text


# --- what every format shows -------------------------------------------------------------------


@dataclass
class _Content:
    plan: Plan
    generated_at: str
    data_version: str
    summary: dict[str, Any]
    #: logframe rows with their measure and objective
    rows: list[tuple[Objective, Measure, dict[str, Any]]]
    #: pillars in the plan's order (then pillars named by objectives but not declared), each
    #: with its objectives
    groups: list[tuple[int, Pillar, list[Objective]]]
    cited_by: dict[str, list[Measure]]
    flags: dict[tuple[str, str, str], EvidenceFlag]
    flags_by_key: dict[tuple[str, str], EvidenceFlag]
    n_measures: int = 0
    anchors: dict[int, str] = field(default_factory=dict)
    agreement_anchors: dict[str, str] = field(default_factory=dict)
    used_anchors: set[str] = field(default_factory=set)

    def flag(self, m: Measure, c: Citation) -> EvidenceFlag | None:
        return self.flags.get((m.id, c.key, c.label)) or self.flags_by_key.get((m.id, c.key))

    def flagged(self) -> list[tuple[Measure, Citation, EvidenceFlag]]:
        out = []
        for _o, m in self.plan.measures():
            for c in m.evidence:
                f = self.flag(m, c)
                if f is not None and f.state in ("changed", "gone"):
                    out.append((m, c, f))
        return out

    def anchor(self, obj: object, prefix: str, ident: str) -> str:
        """A unique, valid HTML id for a pillar, objective or measure (stable per object)."""
        key = id(obj)
        if key not in self.anchors:
            safe = re.sub(r"[^A-Za-z0-9_.-]", lambda x: f"_{ord(x.group()):x}", ident)
            base = f"{prefix}-{safe}"
            name, n = base, 1
            while name in self.used_anchors:
                n += 1
                name = f"{base}-{n}"
            self.used_anchors.add(name)
            self.anchors[key] = name
        return self.anchors[key]


def _content(plan: Plan, generated_at: str | None, data_version: str,
             flags: Sequence[EvidenceFlag] | None) -> _Content:
    if generated_at is None:
        generated_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lf = logframe(plan)
    rows: list[tuple[Objective, Measure, dict[str, Any]]] = []
    pairs = list(plan.measures())
    for o, m in pairs:
        for _ in range(max(1, len(m.indicators))):
            row = lf[len(rows)] if len(rows) < len(lf) else {}
            if row.get("measure") != f"{m.id} {m.title}":
                raise RuntimeError("tiplab.policy.plan.logframe no longer gives one row per "
                                   "measure and indicator in plan order")
            rows.append((o, m, row))
    declared = [p.id for p in plan.pillars]
    extra = [Pillar(pid, pid) for pid in dict.fromkeys(o.pillar for o in plan.objectives)
             if pid not in declared]
    groups = [(k, p, [o for o in plan.objectives if o.pillar == p.id])
              for k, p in enumerate([*plan.pillars, *extra])]
    cited_by: dict[str, list[Measure]] = defaultdict(list)
    for _o, m in plan.measures():
        for a in dict.fromkeys(m.agreements):
            cited_by[a].append(m)
    by_full: dict[tuple[str, str, str], EvidenceFlag] = {}
    by_key: dict[tuple[str, str], EvidenceFlag] = {}
    for f in flags or ():
        by_full.setdefault((f.measure, f.citation.key, f.citation.label), f)
        by_key.setdefault((f.measure, f.citation.key), f)
    content = _Content(plan, generated_at, data_version, budget_summary(plan), rows, groups,
                       dict(cited_by), by_full, by_key, len(pairs))
    for chapter in ("contents", "narrative", "evidence-changed", "logframe", "budget",
                    "budget-pillar", "budget-year", "budget-source", "budget-pillar-year",
                    "budget-other", "cooperation"):
        content.used_anchors.add(chapter)
    for ag in plan.agreements:
        content.agreement_anchors.setdefault(ag.id, content.anchor(ag, "a", ag.id))
    return content


def _pillar_year(c: _Content) -> dict[tuple[str, int], float]:
    cells: dict[tuple[str, int], float] = defaultdict(float)
    for x in c.summary["cells"]:
        cells[(x["pillar"], x["year"])] += x["amount"]
    return cells


def _glance(c: _Content) -> list[tuple[str, str]]:
    p = c.plan
    n_measures = sum(1 for _ in p.measures())
    n_ind = sum(len(m.indicators) for _o, m in p.measures())
    n_cit = sum(len(m.evidence) for _o, m in p.measures())
    return [("Pillars", format_number(len(p.pillars))),
            ("Objectives", format_number(len(p.objectives))),
            ("Measures", format_number(n_measures)),
            ("Indicators", format_number(n_ind)),
            ("Evidence cited", format_number(n_cit)),
            ("International agreements", format_number(len(p.agreements))),
            (f"Total budget ({p.currency})", format_amount(c.summary["total"]))]


def _kicker(p: Plan) -> str:
    return f"National Action Plan · {p.country} · {p.start_year}–{p.end_year}"


def _cover_lines(c: _Content) -> list[tuple[str, str]]:
    p = c.plan
    lines = [("Country", p.country), ("Period", f"{p.start_year}–{p.end_year}"),
             ("Status", f"{_label(PLAN_STATUSES, p.status)}, version {p.version}"),
             ("Plan", p.id), ("Currency", p.currency), ("Generated", c.generated_at)]
    if c.data_version:
        lines.append(("Data version", c.data_version))
    return lines


# --- HTML ------------------------------------------------------------------------------------


def _pillar_css() -> str:
    rules = []
    for i, colour in enumerate(PILLAR_COLOURS):
        rules.append(f".pillar-{i} > h1 {{ color: {colour}; border-color: {colour}; }}\n"
                     f".pillar-{i} h3 {{ border-left-color: {colour}; }}\n"
                     f".pillar-{i} h2 {{ color: {colour}; }}\n"
                     f"tr.group-{i} th {{ background: {colour}; color: #fff; }}")
    return "\n".join(rules)


PLAN_CSS = """
@page {
  size: A4;
  margin: 15mm 15mm 16mm 15mm;
  @bottom-left { content: string(doctitle); font-size: 7.5pt; color: #555; }
  @bottom-right { content: counter(page); font-size: 8pt; color: #333; }
}
@page :first {
  @bottom-left { content: none; }
  @bottom-right { content: none; }
}
@page wide { size: A4 landscape; margin: 14mm 15mm 16mm 15mm; }
html { font-family: FONTS; font-size: 9pt; line-height: 1.35; color: #1b1b1b; }
body { margin: 0; }
@media screen {
  body { max-width: 60rem; margin: 2rem auto; padding: 0 1.5rem; background: #fff; }
  .chapter, .title-page { border-top: 1px solid #ccd3da; padding-top: 1rem; margin-top: 2rem; }
}
h1, h2, h3 { line-height: 1.25; break-after: avoid; page-break-after: avoid; }
h1 { font-size: 16pt; margin: 0 0 .7em; padding-bottom: .2em; color: #1f3b57;
     border-bottom: 2px solid #1f3b57; }
h2 { font-size: 12.5pt; margin: 1.3em 0 .4em; color: #1f3b57; }
h3 { font-size: 10.5pt; margin: 0 0 .35em; }
p { margin: 0 0 .45em; orphans: 2; widows: 2; }
a { color: #1f4f7a; text-decoration: none; }
.chapter { break-before: page; page-break-before: always; }
.wide { page: wide; }
.title-page { break-after: page; page-break-after: always; padding-top: 30mm; }
.title-page .kicker { font-size: 10pt; letter-spacing: .08em; text-transform: uppercase;
                      color: #555; margin-bottom: 4mm; }
.doc-title { font-size: 24pt; font-weight: bold; line-height: 1.2; color: #1f3b57;
             margin: 0 0 10mm; string-set: doctitle content(); }
.title-page table { width: auto; min-width: 55%; font-size: 10pt; margin-bottom: 8mm; }
.title-page th { width: 12em; }
table { border-collapse: separate; border-spacing: 0; width: 100%; margin: .3em 0 .8em;
        font-size: 8.5pt; border-top: 1pt solid #44586c; border-bottom: 1pt solid #44586c; }
th, td { padding: 1.5pt 4pt; vertical-align: top; text-align: left; }
table.rules td, table.rules tbody th { border-bottom: 0.5pt solid #d5dbe1; }
td { overflow-wrap: break-word; }
table.fixed { table-layout: fixed; }
thead { display: table-header-group; }
thead th, th.head { background: #e6ebf0; border-bottom: 0.75pt solid #9aa5b1; }
tr.head { background: #e6ebf0; }
tr.alt { background: #f1f4f7; }
tr { break-inside: avoid; page-break-inside: avoid; }
tr.group, tr.obj { break-after: avoid; page-break-after: avoid; }
.num { text-align: right; }
td.num { white-space: nowrap; }
tr.total td, tr.total th { font-weight: bold; background: #f2f4f6; }
tr.group th { font-size: 9pt; }
tr.obj td { font-weight: bold; border-bottom: 0.75pt solid #9aa5b1; padding-top: 4pt; }
table.budget th.first { width: 30%; }
.logframe { font-size: 7.5pt; }
.logframe th, .logframe td { padding: 1.5pt 3pt; }
nav.toc ol { list-style: none; margin: 0; padding-left: 0; }
nav.toc ol ol { padding-left: 1.4em; }
nav.toc li { margin: .15em 0; }
nav.toc li.l1 { margin-top: .45em; font-weight: bold; }
nav.toc li.l1 li { font-weight: normal; }
nav.toc a { color: inherit; }
@media print {
  /* the page number, right-aligned (a dotted leader() costs a box per dot in WeasyPrint) */
  nav.toc a::after { content: target-counter(attr(href), page); float: right;
                     padding-left: 1em; font-weight: normal; color: #333; }
}
h3.measure { border-left: 3pt solid #1f3b57; padding: 1pt 0 1pt 6pt; margin: 1.3em 0 .4em; }
p.desc { font-style: italic; }
.lines, .facts, .cite { white-space: pre-line; }
.facts { background: #f3f5f7; padding: 2pt 5pt; line-height: 1.5; break-inside: avoid;
         page-break-inside: avoid; }
table.budget { break-inside: avoid; page-break-inside: avoid; }
.cite { font-size: 8.5pt; break-inside: avoid; page-break-inside: avoid; }
.cite.changed { border-left: 2pt solid #c0392b; background: #fdf1ef; padding: 2pt 5pt; }
.flag { color: #a02c2c; }
ul { margin: .2em 0 .6em; padding-left: 1.3em; }
.small { font-size: 8pt; color: #444; }
.muted { color: #666; font-style: italic; }
.bar { display: inline-block; height: 6pt; background: #6b8aa8; vertical-align: middle; }
""".replace("FONTS", FONT_STACK) + _pillar_css() + "\n" + " ".join(
    f".w{h} {{ width: {h / 2:g}%; }}" for h in range(201)) + "\n"


class _Html:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, *parts: str) -> None:
        self.parts.extend(parts)

    def text(self) -> str:
        return "".join(self.parts)


def _e(x: object) -> str:
    return escape(str(x), quote=True)


def _html_blocks(out: _Html, text: str, cls: str = "") -> None:
    attr = f' class="{cls}"' if cls else ""
    for kind, items in _blocks(text):
        if kind == "ul":
            out.add(f"<ul{attr}>", *(f"<li>{_e(x)}</li>" for x in items), "</ul>\n")
        else:
            out.add(f"<p{attr}>{_e(items[0])}</p>\n")


def _width(pct: float) -> str:
    """The class of a width in percent (``w0`` ... ``w200``, half percents, rounded down so
    that a row never adds up to more than 100 %): no style attribute anywhere, so a
    Content-Security-Policy can allow the one style element by its hash."""
    return f"w{max(0, min(200, int(pct * 2 + 1e-9)))}"


def _colgroup(widths: Sequence[float]) -> str:
    """Column widths (relative) of a fixed-layout table: WeasyPrint then skips measuring the
    content of every cell, which is most of the time of a long document."""
    total = sum(widths) or 1.0
    return "<colgroup>" + "".join(f'<col class="{_width(w * 100 / total)}">'
                                  for w in widths) + "</colgroup>"


def _html_table(out: _Html, head: Sequence[str], rows: Sequence[Sequence[str]], *,
                widths: Sequence[float], num: Sequence[int] = (), cls: str = "",
                foot: Sequence[str] | None = None, escaped: Sequence[int] = ()) -> None:
    """A fixed-layout table (``widths``: relative column widths); ``num`` are right-aligned
    columns, cells in ``escaped`` are HTML already."""
    numeric, raw = set(num), set(escaped)

    def cell(tag: str, i: int, v: str) -> str:
        c = ' class="num"' if i in numeric else ""
        return f"<{tag}{c}>{v if i in raw else _e(v)}</{tag}>"

    out.add(f'<table class="fixed rules {cls}">' if cls else '<table class="fixed rules">',
            _colgroup(widths), "<thead><tr>",
            *(("<th class=\"num\">" if i in numeric else "<th>") + f"{_e(h)}</th>"
              for i, h in enumerate(head)), "</tr></thead><tbody>")
    for r in rows:
        out.add("<tr>", *(cell("td", i, v) for i, v in enumerate(r)), "</tr>")
    if foot is not None:
        out.add('<tr class="total">', *(cell("td", i, v) for i, v in enumerate(foot)), "</tr>")
    out.add("</tbody></table>\n")


def _html_cover(out: _Html, c: _Content) -> None:
    p = c.plan
    out.add('<section class="title-page">\n',
            f'<div class="kicker">{_e(_kicker(p))}</div>',
            f'<div class="doc-title">{_e(p.title)}</div>\n<table class="rules">')
    for k, v in _cover_lines(c):
        out.add(f'<tr><th class="head">{_e(k)}</th><td>{_e(v)}</td></tr>')
    out.add('</table>\n<table class="rules">')
    for k, v in _glance(c):
        out.add(f'<tr><th class="head">{_e(k)}</th><td class="num">{_e(v)}</td></tr>')
    out.add("</table>\n</section>\n")


def _html_toc(out: _Html, c: _Content) -> None:
    out.add('<nav class="toc chapter" id="contents">\n<h1>Contents</h1>\n<ol>')

    def item(href: str, text: str, level: int, close: bool = True) -> None:
        out.add(f'<li class="l{level}"><a href="#{_e(href)}">{_e(text)}</a>'
                + ("</li>" if close else ""))

    item("narrative", "Narrative", 1)
    if c.flagged():
        item("evidence-changed", "Evidence changed since it was cited", 1)
    item("logframe", "Logframe", 1)
    for _k, p, objectives in c.groups:
        item(c.anchor(p, "p", p.id), p.title, 1, close=False)
        if objectives:
            out.add("<ol>")
            for o in objectives:
                item(c.anchor(o, "o", o.id), f"{o.id} {o.title}", 2, close=False)
                if o.measures and c.n_measures <= TOC_MEASURES_MAX:
                    out.add("<ol>")
                    for m in o.measures:
                        item(c.anchor(m, "m", m.id), f"{m.id} {m.title}", 3)
                    out.add("</ol>")
                out.add("</li>")
            out.add("</ol>")
        out.add("</li>")
    item("budget", "Budget summary", 1)
    item("cooperation", "International cooperation register", 1)
    out.add("</ol>\n</nav>\n")


def _html_narrative(out: _Html, c: _Content) -> None:
    out.add('<section class="chapter" id="narrative">\n<h1>Narrative</h1>\n')
    if c.plan.narrative.strip():
        _html_blocks(out, c.plan.narrative)
    else:
        out.add('<p class="muted">No narrative has been written for this plan yet.</p>\n')
    out.add("</section>\n")


def _html_flagged(out: _Html, c: _Content) -> None:
    flagged = c.flagged()
    if not flagged:
        return
    out.add('<section class="chapter" id="evidence-changed">\n'
            "<h1>Evidence changed since it was cited</h1>\n"
            f"<p>{len(flagged):,} cited figure(s) moved beyond the threshold or no longer "
            "exist on newer data. The measures that cite them may need to be reviewed.</p>\n")
    rows = []
    for m, cit, f in flagged:
        now = (f"{_e(format_number(f.new))} {_e(cit.unit)}".strip() if f.state == "changed"
               else "no longer in the data")
        rows.append([f'<a href="#{_e(c.anchor(m, "m", m.id))}">{_e(m.id)}</a>', _e(cit.label),
                     f"{_e(_value_text(f.old, cit.unit))}<br><span class=\"small\">"
                     f"{_e(_provenance(cit))}</span>",
                     f"{now}<br><span class=\"small\">data version {_e(f.data_version)}"
                     "</span>",
                     _e(_change_text(f.change).strip(" ()") or DASH)])
    _html_table(out, ["Measure", "Evidence", "As cited", "Now", "Change"], rows,
                widths=[11, 31, 23, 23, 12], escaped=range(5))
    out.add("</section>\n")


def _html_logframe(out: _Html, c: _Content) -> None:
    """One table row per logframe row (``tr.lf``); the measure, its lead and its budget span
    the rows of its indicators; pillars and objectives are group rows."""
    p = c.plan
    years = p.years
    ncols = 5 + len(years)
    out.add('<section class="chapter wide" id="logframe">\n<h1>Logframe</h1>\n'
            "<p>Objective → measure → indicator → baseline → targets per year → "
            f"responsible → budget ({_e(p.currency)}; lines in other currencies are not "
            "included).</p>\n<table class=\"fixed logframe\">",
            _colgroup([22, 25, 8, *([24 / max(1, len(years))] * len(years)), 12, 9]),
            "<thead><tr><th>Measure</th><th>Indicator (unit)</th>"
            "<th class=\"num\">Baseline</th>",
            *(f'<th class="num">{y}</th>' for y in years),
            f'<th>Responsible</th><th class="num">Budget ({_e(p.currency)})</th>'
            "</tr></thead><tbody>\n")
    pillar_index = {p.id: k for k, p, _objs in c.groups}
    last_pillar: str | None = None
    last_obj: Objective | None = None
    last_measure: Measure | None = None
    alt, tr = True, '<tr class="lf">'
    for o, m, row in c.rows:
        if o.pillar != last_pillar:
            k = pillar_index.get(o.pillar, 0) % len(PILLAR_COLOURS)
            out.add(f'<tr class="group group-{k}"><th colspan="{ncols}">'
                    f"{_e(row['pillar'])}</th></tr>\n")
            last_pillar = o.pillar
        if o is not last_obj:
            out.add(f'<tr class="obj"><td colspan="{ncols}">{_e(row["objective"])}</td></tr>\n')
            last_obj, alt = o, True
        unit = row.get("unit", "")
        cells = (f"<td>{_e(row['indicator']) or DASH}{f' ({_e(unit)})' if unit else ''}</td>"
                 f'<td class="num">{_e(format_number(row["baseline"]))}'
                 + (f" ({row['baseline_year']})" if row.get("baseline_year")
                    and row["baseline"] is not None else "") + "</td>"
                 + "".join(f'<td class="num">{_e(format_number(row["targets"][y]))}</td>'
                           if y in row["targets"] else "<td></td>" for y in years))
        if m is not last_measure:
            alt = not alt
            tr = '<tr class="lf alt">' if alt else '<tr class="lf">'
            span = max(1, len(m.indicators))
            rs = f' rowspan="{span}"' if span > 1 else ""
            out.add(f'{tr}<td{rs}><a href="#{_e(c.anchor(m, "m", m.id))}">'
                    f'{_e(row["measure"])}</a></td>', cells,
                    f"<td{rs}>{_e(row['responsible'])}</td>"
                    f'<td{rs} class="num">{_e(format_amount(row["budget"]))}</td></tr>\n')
            last_measure = m
        else:
            out.add(tr, cells, "</tr>\n")
    out.add(f'<tr class="total"><td colspan="{ncols - 1}">Total</td><td class="num">'
            f'{_e(format_amount(c.summary["total"]))}</td></tr>\n'
            if c.rows else
            f'<tr><td colspan="{ncols}" class="muted">No measures yet.</td></tr>\n')
    out.add("</tbody></table>\n</section>\n")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _facts(c: _Content, m: Measure) -> list[list[tuple[str, str]]]:
    """The fields of a measure, as lines of (label, value)."""
    cur = c.plan.currency
    period = f"{_date(m.start)} to {_date(m.end)}" if m.start or m.end else DASH
    return [[("Type", _label(MEASURE_TYPES, m.type)),
             ("Status", _label(MEASURE_STATUSES, m.status))],
            [("Lead", m.lead or DASH), ("Partners", _list(m.partners))],
            [("Target groups", _list(m.target_groups)), ("Regions", _list(m.regions))],
            [("Period", period), ("Budget", f"{cur} {format_amount(m.budget_total(cur))}")]]


def _budget_pivot(c: _Content, m: Measure) -> tuple[list[str], list[list[str]],
                                                        list[str] | None, list[str]]:
    """A measure's budget lines as sources x years (+ total): header, rows, total row (when
    more than one row), notes. (The HTML leaves the total row out: the measure's total is in
    its facts and a row more per measure costs WeasyPrint time.)"""
    cur = c.plan.currency
    years = sorted({b.year for b in m.budget})
    order = {s: i for i, s in enumerate(FUNDING_SOURCES)}
    cells: dict[tuple[str, str], dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for b in m.budget:
        cells[(b.source, b.currency if b.currency and b.currency != cur else "")][b.year] \
            += b.amount
    keys = sorted(cells, key=lambda k: (k[1] != "", k[1], order.get(k[0], 99), k[0]))
    rows = []
    for source, currency in keys:
        by_year = cells[(source, currency)]
        rows.append([_label(FUNDING_SOURCES, source) + (f" ({currency})" if currency else ""),
                     *(format_amount(by_year[y]) if y in by_year else "" for y in years),
                     format_amount(sum(by_year.values()))])
    foot = None
    if len(rows) > 1:
        own = [k for k in keys if not k[1]]
        foot = [f"Total ({cur})" if len(own) < len(keys) else "Total",
                *(format_amount(sum(cells[k].get(y, 0.0) for k in own)) for y in years),
                format_amount(m.budget_total(cur))]
    notes = [f"{b.year}, {_label(FUNDING_SOURCES, b.source)}: {_one_line(b.note)}"
             for b in _budget_lines(m) if b.note]
    return ["Source", *(str(y) for y in years), "Total"], rows, foot, notes


def _indicator_lines(mi: MeasureIndicator) -> tuple[str, str, list[str]]:
    """An indicator as (name, unit and direction, [baseline and targets, verification])."""
    name, unit, direction = _indicator_name(mi)
    what = "; ".join(x for x in (unit, direction) if x)
    targets = " · ".join(f"{y}: {format_number(v)}" for y, v in sorted(mi.targets.items()))
    lines = [f"Baseline {_baseline(mi)}" + (f" → targets {targets}" if targets
                                              else "; no targets set")]
    if mi.means_of_verification:
        lines.append(f"Means of verification: {_one_line(mi.means_of_verification)}")
    return name, what, lines


def _citation_lines(cit: Citation) -> list[str]:
    details = [_provenance(cit)]
    if cit.params:
        details.append(f"parameters: {_mapping_text(cit.params)}")
    if cit.selector:
        details.append(f"figure: {_mapping_text(cit.selector)}")
    if cit.ref:
        details.append(f"source: {cit.ref}")
    lines = ["; ".join(_one_line(x) for x in details)]
    if cit.note:
        lines.append(_one_line(cit.note))
    return lines


def _html_measure(out: _Html, c: _Content, m: Measure) -> None:
    """A measure in few elements: WeasyPrint's time grows with the number of boxes (a table
    cell costs about as much as a paragraph), so fields are lines of ``white-space: pre-line``
    paragraphs with run-in labels, and the one table is the budget."""
    out.add(f'<h3 class="measure" id="{_e(c.anchor(m, "m", m.id))}">'
            f"{_e(m.id)} {_e(m.title)}</h3>\n")
    lines = [" · ".join(f"{_e(k)}: {_e(_one_line(v))}" for k, v in line)
             for line in _facts(c, m)]
    if m.agreements:
        lines[-1] += " · Agreements: " + ", ".join(
            f'<a href="#{_e(c.agreement_anchors[a])}">{_e(a)}</a>'
            if a in c.agreement_anchors else _e(a) for a in m.agreements)
    out.add('<p class="facts">', "\n".join(lines), "</p>\n")
    if m.description:
        _html_blocks(out, m.description)
    if m.milestones:
        out.add('<p class="lines"><b>Milestones</b>', "".join(
            f"\n{'✓' if x.done else '○'} {_date(x.date)} — {_e(_one_line(x.title))}"
            + (" (done)" if x.done else "")
            for x in sorted(m.milestones, key=lambda x: x.date)), "</p>\n")
    if m.budget:
        head, rows, _foot, notes = _budget_pivot(c, m)
        n = len(head)
        out.add('<table class="fixed budget"><tr class="head"><th class="first">Budget '
                f"({_e(c.plan.currency)})</th>",
                *(f'<th class="num">{_e(h)}</th>' for h in head[1:]), "</tr>")
        for r in rows:
            out.add("<tr>", f"<td>{_e(r[0])}</td>",
                    *(f'<td class="num">{_e(v)}</td>' for v in r[1:n]), "</tr>")
        out.add("</table>\n")
        if notes:
            out.add('<p class="lines small">', "\n".join(_e(x) for x in notes), "</p>\n")
    else:
        out.add('<p class="lines"><b>Budget</b>\n<i>No budget lines.</i></p>\n')
    out.add('<p class="lines"><b>Indicators</b>')
    for mi in m.indicators:
        name, what, ind_lines = _indicator_lines(mi)
        out.add(f'\n<b class="ind">{_e(name)}</b>' + (f" ({_e(what)})" if what else ""),
                "".join(f"\n{_e(x)}" for x in ind_lines))
    out.add("" if m.indicators else "\n<i>No indicators.</i>", "</p>\n")
    if m.risks or m.assumptions:
        out.add('<p class="lines"><b>Risks and assumptions</b>', "".join(
            [*(f"\nRisk: {_e(_one_line(x))}" for x in m.risks),
             *(f"\nAssumption: {_e(_one_line(x))}" for x in m.assumptions)]), "</p>\n")
    if not m.evidence:
        out.add('<p class="lines"><b>Evidence cited</b>\n<i>No evidence cited.</i></p>\n')
    for i, cit in enumerate(m.evidence):
        _html_citation(out, c, m, cit, first=i == 0)


def _html_citation(out: _Html, c: _Content, m: Measure, cit: Citation, *,
                   first: bool) -> None:
    f = c.flag(m, cit)
    marked = f is not None and f.state in ("changed", "gone")
    out.add('<p class="lines cite changed">' if marked else '<p class="lines cite">',
            "<b>Evidence cited</b>\n" if first else "",
            f"{_e(_one_line(cit.label))}: <b>{_e(_value_text(cit.value, cit.unit))}</b>"
            f" ({_e(_label(EVIDENCE_KINDS, cit.kind))})",
            "".join(f"\n{_e(x)}" for x in _citation_lines(cit)))
    if f is not None and marked:
        out.add(f'\n<strong class="flag">{_e(_flag_text(f))}</strong>')
    out.add("</p>\n")


def _html_pillars(out: _Html, c: _Content) -> None:
    for k, p, objectives in c.groups:
        out.add(f'<section class="chapter pillar pillar-{k % len(PILLAR_COLOURS)}" '
                f'id="{_e(c.anchor(p, "p", p.id))}">\n<h1>{_e(p.title)}</h1>\n')
        if not objectives:
            out.add('<p class="muted">No objectives under this pillar yet.</p>\n')
        for o in objectives:
            out.add(f'<h2 class="objective" id="{_e(c.anchor(o, "o", o.id))}">'
                    f"{_e(o.id)} {_e(o.title)}</h2>\n")
            if o.description:
                _html_blocks(out, o.description, "desc")
            if not o.measures:
                out.add('<p class="muted">No measures under this objective yet.</p>\n')
            for m in o.measures:
                _html_measure(out, c, m)
        out.add("</section>\n")


_SHARE_WIDTHS = (34, 20, 14, 32)


def _bar(share: float) -> str:
    return f'<span class="bar {_width(max(0.0, min(share, 1.0)) * 100)}"></span>'


def _html_budget(out: _Html, c: _Content) -> None:
    s, p = c.summary, c.plan
    cur = p.currency
    total = s["total"]
    out.add('<section class="chapter" id="budget">\n<h1>Budget summary</h1>\n'
            f"<p>Total budget: <strong>{_e(cur)} {_e(format_amount(total))}</strong> over "
            f"{p.start_year}–{p.end_year}, in the plan currency.")
    if s["other_currencies"]:
        out.add(" Lines in other currencies are listed apart and not converted.")
    out.add("</p>\n")

    def share(x: float) -> float:
        return x / total if total else 0.0

    def shares(label: str, rows: list[tuple[str, float]]) -> None:
        _html_table(out, [label, f"Amount ({cur})", "Share", ""],
                    [[_e(k), _e(format_amount(v)), _e(format_share(share(v))), _bar(share(v))]
                     for k, v in rows],
                    widths=_SHARE_WIDTHS, num=[1, 2], escaped=range(4),
                    foot=["Total", _e(format_amount(total)),
                          _e(format_share(1.0 if total else 0.0)), ""])

    out.add('<h2 id="budget-pillar">By pillar</h2>\n')
    shares("Pillar", [(x["title"], x["amount"]) for x in s["by_pillar"]])
    out.add('<h2 id="budget-year">By year</h2>\n')
    shares("Year", [(str(x["year"]), x["amount"]) for x in s["by_year"]])
    out.add('<h2 id="budget-source">By funding source</h2>\n')
    if s["by_source"]:
        shares("Source", [(x["title"], x["amount"]) for x in s["by_source"]])
    else:
        out.add('<p class="muted">No budget lines.</p>\n')
    out.add('<h2 id="budget-pillar-year">By pillar and year</h2>\n')
    head, rows, foot = _pillar_year_table(c)
    _html_table(out, head, rows, widths=[2.5, *([1.0] * (len(head) - 1))],
                num=range(1, len(head)), foot=foot)
    if s["other_currencies"]:
        out.add('<h2 id="budget-other">Lines in other currencies (not converted, not in the '
                "totals)</h2>\n")
        _html_table(out, ["Measure", "Year", "Source", "Amount", "Currency"],
                    [[x["measure"], str(x["year"]), _label(FUNDING_SOURCES, x["source"]),
                      format_amount(x["amount"]), x["currency"]]
                     for x in s["other_currencies"]], widths=[20, 10, 30, 25, 15], num=[3])
    out.add("</section>\n")


def _pillar_year_table(c: _Content) -> tuple[list[str], list[list[str]], list[str]]:
    years = c.plan.years
    cells = _pillar_year(c)
    head = ["Pillar", *(str(y) for y in years), f"Total ({c.plan.currency})"]
    rows = []
    for x in c.summary["by_pillar"]:
        rows.append([x["title"], *(format_amount(cells.get((x["pillar"], y), 0.0))
                                   for y in years), format_amount(x["amount"])])
    foot = ["Total", *(format_amount(x["amount"]) for x in c.summary["by_year"]),
            format_amount(c.summary["total"])]
    return head, rows, foot


def _agreement_row(a: Agreement) -> list[str]:
    return [_label(AGREEMENT_KINDS, a.kind), _list(a.partners),
            _list([_label(AGREEMENT_SCOPES, s) for s in a.scope]),
            _label(AGREEMENT_STATUSES, a.status), _date(a.signed)]


def _html_cooperation(out: _Html, c: _Content) -> None:
    out.add('<section class="chapter" id="cooperation">\n'
            "<h1>International cooperation register</h1>\n")
    if not c.plan.agreements:
        out.add('<p class="muted">No agreements in the register.</p>\n</section>\n')
        return
    out.add('<table class="fixed rules">', _colgroup([28, 9, 15, 15, 10, 9, 14]),
            "<thead><tr><th>Agreement</th><th>Kind</th><th>Partners</th><th>Scope</th>"
            "<th>Status</th><th>Signed</th><th>Cited by measures</th></tr></thead><tbody>\n")
    for a in c.plan.agreements:
        first = f' id="{_e(c.anchor(a, "a", a.id))}"'
        measures = c.cited_by.get(a.id, [])
        cited = ", ".join(f'<a href="#{_e(c.anchor(m, "m", m.id))}">{_e(m.id)}</a>'
                          for m in measures) or DASH
        extra = ""
        if a.gap_items:
            extra += f'<br><span class="small">Legal gaps answered: {_e(_list(a.gap_items))}'\
                     "</span>"
        if a.note:
            extra += f'<br><span class="small">{_e(a.note)}</span>'
        out.add(f"<tr{first}><td><strong>{_e(a.id)}</strong> {_e(a.title)}{extra}</td>",
                *(f"<td>{_e(v)}</td>" for v in _agreement_row(a)), f"<td>{cited}</td></tr>\n")
    out.add("</tbody></table>\n</section>\n")


def csp_style_source(html: str) -> str:
    """The Content-Security-Policy source that allows the style element of a document of
    :func:`plan_html` and nothing else (``style-src 'self' 'sha256-...'``): the document has
    no style attribute and no script."""
    import base64
    import hashlib

    found = re.search(r"<style>(.*?)</style>", html, re.S)
    if found is None:
        return ""
    digest = hashlib.sha256(found.group(1).encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def plan_html(plan: Plan, *, generated_at: str | None = None, data_version: str = "",
              flags: Sequence[EvidenceFlag] | None = None, standalone: bool = True) -> str:
    """The plan as one self-contained HTML document (inline CSS, no script, no external
    resource; every text from the plan escaped). ``generated_at`` is shown on the title page
    (default: now, UTC); ``data_version`` is the version of the data the figures come from;
    ``flags`` (from :func:`~tiplab.policy.plan.check_evidence`) mark the citations whose
    figure changed. With ``standalone=False`` the result is an ``<article>`` fragment to embed
    in a page that includes :data:`PLAN_CSS`. A page served under a Content-Security-Policy
    allows the style element with :func:`csp_style_source`."""
    c = _content(plan, generated_at, data_version, flags)
    out = _Html()
    if standalone:
        out.add('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
                f"<title>{_e(plan.title)}</title>\n",
                '<meta name="generator" content="tiplab">\n',
                f'<meta name="description" content="{_e(plan.country)}, '
                f'{plan.start_year}-{plan.end_year}">\n',
                f"<style>{PLAN_CSS}</style>\n</head>\n<body>\n")
    out.add('<article class="tiplab-plan">\n')
    _html_cover(out, c)
    _html_toc(out, c)
    _html_narrative(out, c)
    _html_flagged(out, c)
    _html_logframe(out, c)
    _html_pillars(out, c)
    _html_budget(out, c)
    _html_cooperation(out, c)
    out.add("</article>\n")
    if standalone:
        out.add("</body>\n</html>\n")
    return out.text()


# --- PDF -------------------------------------------------------------------------------------


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while WeasyPrint builds its millions of boxes: the
    collector would walk them again and again (a third of the time of a long plan)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _quiet(names: Sequence[str] = LOGGERS, level: int = logging.ERROR) -> Iterator[None]:
    """Raise the level of WeasyPrint's and fontTools' loggers while rendering."""
    loggers = [logging.getLogger(n) for n in names]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield
    finally:
        for lg, lvl in zip(loggers, before, strict=True):
            lg.setLevel(lvl)


def html_to_pdf(text: str) -> bytes:
    """A self-contained HTML document rendered to PDF by WeasyPrint; no URL is ever fetched
    (an image or style sheet by address is refused). Used by every tiplab document."""
    with warnings.catch_warnings():
        # WeasyPrint warns at import when the system lacks libharfbuzz-subset (it then
        # subsets fonts with fontTools): an environment note, not ours to raise
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher

    class _NoFetch(URLFetcher):  # type: ignore[misc]
        """The document is self-contained: refuse every fetch (``data:`` URIs, which are
        part of the document, are read)."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            raise ValueError(f"tiplab documents fetch nothing ({url[:80]})")

    with _quiet(), _gc_paused():
        pdf = HTML(string=text, url_fetcher=_NoFetch()).write_pdf()
    if not isinstance(pdf, bytes):
        raise TypeError("WeasyPrint returned no PDF")
    return pdf


def plan_pdf(plan: Plan, *, generated_at: str | None = None, data_version: str = "",
             flags: Sequence[EvidenceFlag] | None = None, standalone: bool = True) -> bytes:
    """The HTML of :func:`plan_html` rendered to PDF by WeasyPrint (A4; the logframe on
    landscape pages; page numbers; bookmarks from the headings). No URL is ever fetched.
    ``standalone`` is accepted for symmetry; a PDF is always a whole document."""
    return html_to_pdf(plan_html(plan, generated_at=generated_at, data_version=data_version,
                                 flags=flags, standalone=True))


# --- Word ------------------------------------------------------------------------------------

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: text width in twentieths of a point: A4 less 2 x 20 mm margins, portrait and landscape
_TWIPS_PORTRAIT, _TWIPS_LANDSCAPE = 9638, 14570


def _x(text: object) -> str:
    """Text Word accepts (no XML-forbidden control characters)."""
    return _XML_BAD.sub("", str(text))


def _xe(text: object) -> str:
    return escape(_x(text), quote=False)


class _Word:
    """python-docx with the few things it lacks: fields, and tables written as XML in one go
    (header row repeated on each page, rows that do not split, fixed column widths) — the
    style look-ups of python-docx's cell-by-cell API cost seconds on a long plan."""

    def __init__(self) -> None:
        from docx import Document
        from docx.enum.style import WD_STYLE_TYPE
        from docx.shared import Mm, Pt

        self.doc = Document()
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Mm(210), Mm(297)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(sec, side, Mm(20))
        styles = self.doc.styles
        styles["Normal"].font.size = Pt(10)
        cell = styles.add_style("Table Text", WD_STYLE_TYPE.PARAGRAPH)
        cell.base_style = styles["Normal"]
        cell.font.size = Pt(8.5)
        cell.paragraph_format.space_after = Pt(0)
        cell.paragraph_format.space_before = Pt(0)
        small = styles.add_style("Small Text", WD_STYLE_TYPE.PARAGRAPH)
        small.base_style = styles["Normal"]
        small.font.size = Pt(8.5)
        small.paragraph_format.space_after = Pt(2)
        self.ids = {name: styles[name].style_id for name in (
            "Table Text", "Small Text", "List Bullet", "Table Grid", "Title", "Subtitle",
            "TOC Heading", "Heading 1", "Heading 2", "Heading 3")}
        self.width = _TWIPS_PORTRAIT

    def element(self, tag: str, **attrs: str) -> Any:
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        el = OxmlElement(tag)
        for k, v in attrs.items():
            el.set(qn(k.replace("_", ":", 1)), v)
        return el

    def field(self, paragraph: Any, instruction: str, placeholder: str) -> None:
        """A complex field (begin, instruction, separate, shown text, end)."""
        from docx.oxml.ns import qn

        paragraph.add_run()._r.append(self.element("w:fldChar", w_fldCharType="begin"))
        instr = self.element("w:instrText")
        instr.set(qn("xml:space"), "preserve")
        instr.text = f" {instruction} "
        paragraph.add_run()._r.append(instr)
        paragraph.add_run()._r.append(self.element("w:fldChar", w_fldCharType="separate"))
        paragraph.add_run(placeholder)
        paragraph.add_run()._r.append(self.element("w:fldChar", w_fldCharType="end"))

    def para(self, text: str = "", style: str | None = None, *, italic: bool = False,
             bold: bool = False) -> Any:
        p = self.doc.add_paragraph()
        if style:
            p._p.style = self.ids[style]
        if text:
            run = p.add_run(_x(text))
            run.italic = italic or None
            run.bold = bold or None
        return p

    def heading(self, text: str, level: int, colour: str | None = None) -> None:
        from docx.shared import RGBColor

        p = self.para(text, f"Heading {level}")
        if colour:
            for run in p.runs:
                run.font.color.rgb = RGBColor.from_string(colour.lstrip("#").upper())

    def label(self, text: str) -> None:
        from docx.shared import Pt

        p = self.para(text, bold=True)
        p.paragraph_format.space_before = Pt(6)
        p.paragraph_format.space_after = Pt(2)
        p.paragraph_format.keep_with_next = True

    def blocks(self, text: str) -> None:
        for kind, items in _blocks(text):
            for x in items:
                self.para(x, "List Bullet" if kind == "ul" else None)

    def bullets(self, items: Sequence[str]) -> None:
        for x in items:
            self.para(x, "List Bullet")

    def table(self, head: Sequence[str] | None, rows: Sequence[Sequence[str]], *,
              widths: Sequence[float] | None = None, num: Sequence[int] = (),
              foot: Sequence[str] | None = None, first_bold: bool = False) -> Any:
        """A table (``head`` repeats on every page; ``num`` columns right-aligned; ``foot``
        a bold total row; ``widths`` relative), written as one XML fragment."""
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls
        from docx.table import Table

        ncols = len(head) if head is not None else len(rows[0]) if rows else 1
        rel = list(widths) if widths else [1.0] * ncols
        twips = [int(self.width * w / sum(rel)) for w in rel]
        numeric = set(num)
        cell_style = self.ids["Table Text"]

        def row(values: Sequence[str], *, header: bool = False, bold: bool = False) -> str:
            cells = []
            for j, v in enumerate(values):
                shade = ('<w:shd w:val="clear" w:color="auto" w:fill="E6EBF0"/>'
                         if header else "")
                jc = '<w:jc w:val="right"/>' if j in numeric else ""
                rpr = "<w:rPr><w:b/></w:rPr>" if bold or header or (first_bold and j == 0) \
                    else ""
                runs = "<w:r>" + rpr + "<w:br/>".join(
                    f'<w:t xml:space="preserve">{_xe(line)}</w:t>'
                    for line in str(v).split("\n")) + "</w:r>"
                cells.append(f'<w:tc><w:tcPr><w:tcW w:w="{twips[j]}" w:type="dxa"/>{shade}'
                             f'</w:tcPr><w:p><w:pPr><w:pStyle w:val="{cell_style}"/>{jc}'
                             f"</w:pPr>{runs}</w:p></w:tc>")
            props = "<w:cantSplit/>" + ("<w:tblHeader/>" if header else "")
            return f"<w:tr><w:trPr>{props}</w:trPr>{''.join(cells)}</w:tr>"

        xml = [f"<w:tbl {nsdecls('w')}><w:tblPr>"
               f'<w:tblStyle w:val="{self.ids["Table Grid"]}"/>'
               f'<w:tblW w:w="{sum(twips)}" w:type="dxa"/><w:tblLayout w:type="fixed"/>'
               '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" '
               'w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr><w:tblGrid>',
               *(f'<w:gridCol w:w="{t}"/>' for t in twips), "</w:tblGrid>"]
        if head is not None:
            xml.append(row(head, header=True))
        xml.extend(row(r) for r in rows)
        if foot is not None:
            xml.append(row(foot, bold=True))
        xml.append("</w:tbl>")
        tbl = parse_xml("".join(xml))
        body = self.doc.element.body
        body.sectPr.addprevious(tbl)
        spacer = self.para()
        spacer.paragraph_format.space_after = 0
        return Table(tbl, self.doc._body)

    def section(self, landscape: bool) -> None:
        from docx.enum.section import WD_ORIENT, WD_SECTION
        from docx.shared import Mm

        sec = self.doc.add_section(WD_SECTION.NEW_PAGE)
        sec.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        sec.page_width, sec.page_height = ((Mm(297), Mm(210)) if landscape
                                           else (Mm(210), Mm(297)))
        self.width = _TWIPS_LANDSCAPE if landscape else _TWIPS_PORTRAIT

    def page_break(self) -> None:
        from docx.enum.text import WD_BREAK

        self.para().add_run().add_break(WD_BREAK.PAGE)

    def footer(self, title: str) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        p = self.doc.sections[0].footer.paragraphs[0]
        p._p.style = self.ids["Small Text"]
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        p.add_run(_x(f"{title} — page "))
        self.field(p, "PAGE", "1")

    def bytes(self) -> bytes:
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()


def _docx_measure(w: _Word, c: _Content, m: Measure) -> None:
    p = c.plan
    w.heading(f"{m.id} {m.title}", 3)
    facts = [pair for line in _facts(c, m) for pair in line]
    facts.append(("Agreements", _list(m.agreements)))
    if len(facts) % 2:
        facts.append(("", ""))
    w.table(None, [[a, _one_line(b), c2, _one_line(d)]
                   for (a, b), (c2, d) in zip(facts[0::2], facts[1::2], strict=True)],
            widths=[16, 34, 16, 34])
    if m.description:
        w.blocks(m.description)
    if m.milestones:
        w.label("Milestones")
        w.bullets([f"{'✓' if x.done else '○'} {_date(x.date)} — {_one_line(x.title)}"
                   + (" (done)" if x.done else "")
                   for x in sorted(m.milestones, key=lambda x: x.date)])
    w.label(f"Budget ({p.currency})")
    if m.budget:
        head, rows, foot, notes = _budget_pivot(c, m)
        w.table(head, rows, widths=[3.0, *([1.0] * (len(head) - 1))],
                num=range(1, len(head)), foot=foot)
        for note in notes:
            w.para(note, "Small Text")
    else:
        w.para("No budget lines.", italic=True)
    w.label("Indicators")
    if m.indicators:
        years = sorted({y for mi in m.indicators for y in mi.targets})
        rows = []
        for mi in m.indicators:
            name, unit, direction = _indicator_name(mi)
            rows.append([name, unit, direction, _baseline(mi),
                         *(format_number(mi.targets[y]) if y in mi.targets else ""
                           for y in years), mi.means_of_verification or DASH])
        per_year = min(9.0, 26.0 / len(years)) if years else 0.0
        rest = 100.0 - per_year * len(years)
        w.table(["Indicator", "Unit", "Direction", "Baseline", *(str(y) for y in years),
                 "Means of verification"], rows,
                widths=[rest * .34, rest * .12, rest * .13, rest * .14,
                        *([per_year] * len(years)), rest * .27],
                num=[3, *range(4, 4 + len(years))])
    else:
        w.para("No indicators.", italic=True)
    if m.risks or m.assumptions:
        w.label("Risks and assumptions")
        w.bullets([*(f"Risk: {x}" for x in m.risks),
                   *(f"Assumption: {x}" for x in m.assumptions)])
    w.label("Evidence cited")
    if not m.evidence:
        w.para("No evidence cited.", italic=True)
    for cit in m.evidence:
        _docx_citation(w, c, m, cit)


def _docx_citation(w: _Word, c: _Content, m: Measure, cit: Citation) -> None:
    from docx.shared import RGBColor

    para = w.para(style="List Bullet")
    para.add_run(_x(f"{_one_line(cit.label)}: "))
    para.add_run(_x(_value_text(cit.value, cit.unit))).bold = True
    para.add_run(_x(f" ({_label(EVIDENCE_KINDS, cit.kind)}) — "
                    + " ".join(_citation_lines(cit))))
    f = c.flag(m, cit)
    if f is not None and f.state in ("changed", "gone"):
        run = para.add_run(_x(f" {_flag_text(f)}"))
        run.bold = True
        run.font.color.rgb = RGBColor(0xA0, 0x2C, 0x2C)


def plan_docx(plan: Plan, *, generated_at: str | None = None, data_version: str = "",
              flags: Sequence[EvidenceFlag] | None = None, standalone: bool = True) -> bytes:
    """The plan as a Word document (.docx bytes): Heading 1 for chapters and pillars, 2 for
    objectives, 3 for measures (Word's navigation pane); a table-of-contents field (Word
    fills it on right-click -> Update field); the logframe on landscape pages (header row,
    then one row per logframe row); tables whose header repeats and whose rows do not split.
    Same content and arguments as :func:`plan_html` (``standalone`` is ignored)."""
    c = _content(plan, generated_at, data_version, flags)
    w = _Word()
    p = plan
    w.footer(p.title)
    w.para(_kicker(p).upper(), "Subtitle")
    w.para(p.title, "Title")
    w.table(None, [list(x) for x in _cover_lines(c)], widths=[45, 110], first_bold=True)
    w.table(["At a glance", ""], [list(x) for x in _glance(c)], widths=[60, 40], num=[1])
    w.page_break()

    w.para("Contents", "TOC Heading")
    w.field(w.para(), 'TOC \\o "1-3" \\h \\z \\u',
            "Right-click → Update field to build the table of contents "
            "(LibreOffice: Tools → Update → Update all).")
    w.para("The table of contents is a Word field: right-click it → Update field after "
           "opening the document.", "Small Text", italic=True)
    w.page_break()

    w.heading("Narrative", 1)
    if p.narrative.strip():
        w.blocks(p.narrative)
    else:
        w.para("No narrative has been written for this plan yet.", italic=True)

    flagged = c.flagged()
    if flagged:
        w.heading("Evidence changed since it was cited", 1)
        w.para(f"{len(flagged):,} cited figure(s) moved beyond the threshold or no longer exist "
               "on newer data. The measures that cite them may need to be reviewed.")
        w.table(["Measure", "Evidence", "As cited", "Now", "Change"],
                [[m.id, cit.label, f"{_value_text(f.old, cit.unit)}\n{_provenance(cit)}",
                  (f"{format_number(f.new)} {cit.unit}".strip() if f.state == "changed"
                   else "no longer in the data") + f"\ndata version {f.data_version}",
                  _change_text(f.change).strip(" ()") or DASH]
                 for m, cit, f in flagged], widths=[11, 31, 23, 23, 12])

    # the logframe, on landscape pages: a header row, then one row per logframe row
    w.section(landscape=True)
    w.heading("Logframe", 1)
    w.para("Objective → measure → indicator → baseline → targets per year → responsible → "
           f"budget ({p.currency}; lines in other currencies are not included; the budget "
           "is the measure's, on its first row).", "Small Text")
    years = p.years
    rows = []
    last_m: Measure | None = None
    for _o, m, row in c.rows:
        first = m is not last_m
        last_m = m
        unit = row.get("unit", "")
        rows.append([row["pillar"], row["objective"], row["measure"],
                     (row["indicator"] or DASH) + (f" ({unit})" if unit else ""),
                     format_number(row["baseline"]) + (
                         f" ({row['baseline_year']})" if row.get("baseline_year") else "")
                     if row["baseline"] is not None else "",
                     *(format_number(row["targets"][y]) if y in row["targets"] else ""
                       for y in years), row["responsible"],
                     format_amount(row["budget"]) if first else ""])
    w.table(["Pillar", "Objective", "Measure", "Indicator (unit)", "Baseline",
             *(str(y) for y in years), "Responsible", f"Budget ({p.currency})"], rows,
            widths=[8, 15, 17, 17, 7, *([20 / max(1, len(years))] * len(years)), 10, 8],
            num=[4, *range(5, 5 + len(years)), 6 + len(years)])
    w.para(f"Total budget: {p.currency} {format_amount(c.summary['total'])}", bold=True)
    w.section(landscape=False)

    for k, pillar, objectives in c.groups:
        colour = PILLAR_COLOURS[k % len(PILLAR_COLOURS)]
        w.heading(pillar.title, 1, colour)
        if not objectives:
            w.para("No objectives under this pillar yet.", italic=True)
        for o in objectives:
            w.heading(f"{o.id} {o.title}", 2, colour)
            if o.description:
                w.blocks(o.description)
            if not o.measures:
                w.para("No measures under this objective yet.", italic=True)
            for m in o.measures:
                _docx_measure(w, c, m)
        w.page_break()

    s, cur, total = c.summary, p.currency, c.summary["total"]
    w.heading("Budget summary", 1)
    w.para(f"Total budget: {cur} {format_amount(total)} over {p.start_year}–{p.end_year}, in "
           "the plan currency."
           + (" Lines in other currencies are listed apart and not converted."
              if s["other_currencies"] else ""))
    all_share = format_share(1.0 if total else 0.0)
    for label, column, items in (
            ("By pillar", "Pillar", [(x["title"], x["amount"]) for x in s["by_pillar"]]),
            ("By year", "Year", [(str(x["year"]), x["amount"]) for x in s["by_year"]]),
            ("By funding source", "Source",
             [(x["title"], x["amount"]) for x in s["by_source"]])):
        w.label(label)
        if not items:
            w.para("No budget lines.", italic=True)
            continue
        w.table([column, f"Amount ({cur})", "Share"],
                [[k, format_amount(v), format_share(v / total if total else 0.0)]
                 for k, v in items], widths=[50, 30, 20], num=[1, 2],
                foot=["Total", format_amount(total), all_share])
    w.label("By pillar and year")
    head, prow, foot = _pillar_year_table(c)
    w.table(head, prow, widths=[2.5, *([1.0] * (len(head) - 1))], num=range(1, len(head)),
            foot=foot)
    if s["other_currencies"]:
        w.label("Lines in other currencies (not converted, not in the totals)")
        w.table(["Measure", "Year", "Source", "Amount", "Currency"],
                [[x["measure"], str(x["year"]), _label(FUNDING_SOURCES, x["source"]),
                  format_amount(x["amount"]), x["currency"]]
                 for x in s["other_currencies"]], widths=[20, 10, 30, 25, 15], num=[3])

    w.heading("International cooperation register", 1)
    if p.agreements:
        w.table(["Agreement", "Kind", "Partners", "Scope", "Status", "Signed",
                 "Cited by measures"],
                [[f"{a.id} {a.title}"
                  + (f"\nLegal gaps answered: {_list(a.gap_items)}" if a.gap_items else "")
                  + (f"\n{a.note}" if a.note else ""), *_agreement_row(a),
                  _list([m.id for m in c.cited_by.get(a.id, [])])] for a in p.agreements],
                widths=[28, 9, 15, 15, 10, 9, 14])
    else:
        w.para("No agreements in the register.", italic=True)
    w.para(f"Generated {c.generated_at}"
           + (f" from data version {c.data_version}" if c.data_version else "") + ".",
           "Small Text")
    return w.bytes()


# --- CSV -------------------------------------------------------------------------------------


def _csv_number(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def logframe_csv(plan: Plan) -> str:
    """The logframe (:func:`~tiplab.policy.plan.logframe`) as CSV: one row per measure and
    indicator, the targets as one column per plan year (``target_2025``, ...). ``budget`` is
    the measure's total in the plan currency, repeated on each of its rows."""
    years = plan.years
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["pillar", "objective", "measure", "type", "indicator", "unit", "baseline",
                     "baseline_year", *(f"target_{y}" for y in years), "responsible",
                     "partners", "budget", "currency", "status"])
    for row in logframe(plan):
        writer.writerow([row["pillar"], row["objective"], row["measure"], row["type"],
                         row["indicator"], row.get("unit", ""), _csv_number(row["baseline"]),
                         row.get("baseline_year") or "",
                         *(_csv_number(row["targets"].get(y)) for y in years),
                         row["responsible"], row["partners"], _csv_number(row["budget"]),
                         plan.currency, row["status"]])
    return buf.getvalue()
