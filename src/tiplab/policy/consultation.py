"""Consultations on a National Action Plan (core; no Django): what a consultation is about,
how a suggested text differs from the plan's, who was heard, and the "you said, we did" report.

* :func:`units` splits a plan into the parts people comment on — each narrative paragraph,
  each objective, each measure — with a stable key (``narrative:2``, ``objective:O1``,
  ``measure:M1.2``) that survives a new revision as long as the id does.
* :func:`word_diff` compares a suggested text with the plan's word by word (what an amendment
  would change), for the page and the report.
* :func:`participation` counts, per stakeholder group, the organisations invited and heard,
  the contributions and survivors' inputs, and names the groups and organisations that were
  invited but not heard.
* :func:`report_rows`, :func:`report_csv`, :func:`report_html`, :func:`report_pdf`: the "you
  said, we did" report — every published contribution, its stakeholder group, the drafting
  team's answer (accepted / partly / not accepted, with the reason) and the plan revision that
  changed the text.

Usage::

    from tiplab.policy.plan import demo_plan
    from tiplab.policy.consultation import units, word_diff
    parts = units(demo_plan())
    parts[0].key, parts[0].title
    word_diff("train 200 inspectors", "train 400 labour inspectors")
"""

from __future__ import annotations

import csv
import difflib
import html
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tiplab.policy.plan import Plan

#: stakeholder groups a consultation invites (key -> English label; the web app translates)
GROUPS: dict[str, str] = {
    "law_enforcement": "Law enforcement",
    "judiciary": "Judiciary and prosecution",
    "ngo": "NGOs and service providers",
    "community": "Community organisations",
    "survivor_board": "Survivors (advisory board and one-time codes)",
    "public": "The public",
    "government": "Government",
    "international": "International organisations",
}
#: an organisation's usual group, from its type (``accounts.Organisation.Kind``)
GROUP_OF_KIND: dict[str, str] = {
    "police": "law_enforcement", "labour_inspectorate": "law_enforcement",
    "immigration": "law_enforcement", "prosecution": "judiciary", "judiciary": "judiciary",
    "ngo": "ngo", "shelter": "ngo", "hotline": "ngo", "social_services": "government",
    "ministry": "government", "coordinator": "government", "international": "international",
    "other": "community",
}
#: the drafting team's answer to a contribution
OUTCOMES: dict[str, str] = {
    "accepted": "Accepted",
    "partly": "Partly accepted",
    "not_accepted": "Not accepted",
}
KINDS: dict[str, str] = {"comment": "Comment", "amendment": "Amendment", "reply": "Reply"}

_PARAGRAPHS = re.compile(r"\n\s*\n")
_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Unit:
    """A part of the plan people comment on."""

    key: str
    kind: str  # narrative | objective | measure
    ref: str  # the objective's or measure's id; the paragraph number for the narrative
    title: str
    text: str
    pillar: str = ""
    objective: str = ""


def units(plan: Plan) -> list[Unit]:
    """The plan's narrative paragraphs, objectives and measures, in the plan's order."""
    out: list[Unit] = []
    paragraphs = [p.strip() for p in _PARAGRAPHS.split(plan.narrative or "") if p.strip()]
    for i, para in enumerate(paragraphs, start=1):
        first = para.splitlines()[0].lstrip("# ").strip()
        title = first if len(first) <= 80 else first[:77].rstrip() + "…"
        out.append(Unit(f"narrative:{i}", "narrative", str(i), title, para))
    for o in plan.objectives:
        out.append(Unit(f"objective:{o.id}", "objective", o.id, f"{o.id} {o.title}",
                        o.description, pillar=o.pillar))
        for m in o.measures:
            out.append(Unit(f"measure:{m.id}", "measure", m.id, f"{m.id} {m.title}",
                            m.description, pillar=o.pillar, objective=o.id))
    return out


def unit_map(plan: Plan) -> dict[str, Unit]:
    return {u.key: u for u in units(plan)}


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """``[(op, text)]`` with op ``same``, ``del`` or ``ins``: the words an amendment removes
    and adds (whitespace kept with the words, so joining the ``same`` and ``ins`` parts gives
    the suggested text back)."""
    a, b = _WORDS.findall(old or ""), _WORDS.findall(new or "")
    out: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append(("same", "".join(a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            out.append(("del", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            out.append(("ins", "".join(b[j1:j2])))
    return [(op, text) for op, text in out if text]


def diff_html(old: str, new: str) -> str:
    """:func:`word_diff` as HTML (``<del>``/``<ins>``), every text escaped."""
    parts = []
    for op, text in word_diff(old, new):
        t = html.escape(text)
        parts.append(t if op == "same" else f"<{op}>{t}</{op}>")
    return "".join(parts)


# --- participation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Participant:
    """One contribution for the statistics: who (organisation name, or "" for anonymous
    input), in which group, of which kind, on which unit."""

    organisation: str
    group: str
    kind: str  # comment | amendment | reply | reaction | survivor
    unit: str = ""


@dataclass
class GroupStats:
    group: str
    label: str
    invited: list[str] = field(default_factory=list)
    heard: list[str] = field(default_factory=list)
    contributions: int = 0
    comments: int = 0
    amendments: int = 0
    replies: int = 0
    reactions: int = 0
    anonymous_inputs: int = 0
    units: int = 0
    #: invited through one-time codes (survivors, the public)
    by_codes: bool = False

    @property
    def not_heard(self) -> list[str]:
        return [o for o in self.invited if o not in set(self.heard)]

    @property
    def was_heard(self) -> bool:
        return self.contributions > 0 or self.anonymous_inputs > 0


@dataclass
class Participation:
    groups: list[GroupStats]
    total_units: int
    by_unit: dict[str, Counter[str]]

    @property
    def not_heard_groups(self) -> list[str]:
        return [g.group for g in self.groups
                if (g.invited or g.by_codes) and not g.was_heard]

    @property
    def uncommented_units(self) -> int:
        return sum(1 for c in self.by_unit.values() if not c)


def participation(invited: Iterable[tuple[str, str]], contributions: Iterable[Participant],
                  unit_keys: Sequence[str] = ()) -> Participation:
    """Per stakeholder group: organisations invited and heard, contributions by kind,
    anonymous inputs (survivors' and the public's, through codes), units commented on.
    ``invited`` is ``(organisation name, group)``; a group invited through codes only has an
    empty organisation name. Groups neither invited nor heard are left out."""
    stats: dict[str, GroupStats] = {}

    def get(group: str) -> GroupStats:
        if group not in stats:
            stats[group] = GroupStats(group, GROUPS.get(group, group))
        return stats[group]

    for org, group in invited:
        g = get(group)
        if not org:
            g.by_codes = True
        elif org not in g.invited:
            g.invited.append(org)
    by_unit: dict[str, Counter[str]] = {k: Counter() for k in unit_keys}
    seen_units: dict[str, set[str]] = defaultdict(set)
    for p in contributions:
        g = get(p.group)
        if p.kind == "reaction":
            g.reactions += 1
        elif p.kind == "survivor":
            g.anonymous_inputs += 1
        else:
            g.contributions += 1
            if p.kind == "comment":
                g.comments += 1
            elif p.kind == "amendment":
                g.amendments += 1
            elif p.kind == "reply":
                g.replies += 1
        if p.organisation and p.organisation not in g.heard and p.kind != "reaction":
            g.heard.append(p.organisation)
        if p.unit and p.kind != "reaction":
            by_unit.setdefault(p.unit, Counter())[p.group] += 1
            seen_units[p.group].add(p.unit)
    for group, keys in seen_units.items():
        stats[group].units = len(keys)
    order = list(GROUPS)
    groups = sorted(stats.values(), key=lambda g: (order.index(g.group) if g.group in order
                                                   else len(order), g.group))
    for g in groups:
        g.invited.sort()
        g.heard.sort()
    return Participation(groups, len(unit_keys), by_unit)


# --- "you said, we did" ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    """One published contribution and what became of it."""

    number: int
    unit_key: str
    unit_title: str
    group: str
    organisation: str  # "" for anonymous input
    kind: str
    text: str
    suggested: str = ""
    original: str = ""  # the plan's text the amendment would change
    support: int = 0
    oppose: int = 0
    survivor: bool = False
    outcome: str = ""  # "" while unanswered
    reason: str = ""
    revision: str = ""  # e.g. "version 2, revision 5"
    answered_on: str = ""
    created: str = ""


@dataclass(frozen=True)
class ReportMeta:
    consultation: str
    plan: str
    plan_version: str
    opens: str
    closes: str
    generated_at: str = ""


def _outcome_counts(rows: Sequence[ReportRow]) -> dict[str, int]:
    c = Counter(r.outcome or "unanswered" for r in rows)
    return {k: c.get(k, 0) for k in [*OUTCOMES, "unanswered"]}


REPORT_COLUMNS = ("number", "unit", "unit_title", "stakeholder_group", "organisation", "kind",
                  "survivor_input", "contribution", "suggested_text", "support", "oppose",
                  "answer", "reason", "plan_revision", "answered_on", "submitted_on")


def report_csv(rows: Sequence[ReportRow]) -> str:
    """One line per contribution (UTF-8, header row; survivors' input has no organisation)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REPORT_COLUMNS)
    for r in rows:
        w.writerow([r.number, r.unit_key, r.unit_title, GROUPS.get(r.group, r.group),
                    r.organisation, KINDS.get(r.kind, r.kind), "yes" if r.survivor else "no",
                    r.text, r.suggested, r.support, r.oppose,
                    OUTCOMES.get(r.outcome, "not yet answered"), r.reason, r.revision,
                    r.answered_on, r.created])
    return buf.getvalue()


REPORT_CSS = """
@page { size: A4; margin: 18mm 16mm 20mm; @bottom-right { content: counter(page) " / "
  counter(pages); font-size: 8pt; color: #555; } }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 9.5pt;
  color: #1b2630; line-height: 1.4; }
h1 { font-size: 18pt; margin: 0 0 4pt; color: #0b4f6c; }
h2 { font-size: 12.5pt; margin: 16pt 0 6pt; color: #0b4f6c; break-after: avoid; }
h3 { font-size: 10.5pt; margin: 10pt 0 4pt; break-after: avoid; }
.meta { color: #4d5b67; margin: 0 0 10pt; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 10pt; }
th, td { border: 0.5pt solid #cfd7de; padding: 3pt 5pt; text-align: left; vertical-align: top; }
th { background: #eef2f5; }
td.n { text-align: right; }
.item { border: 0.5pt solid #cfd7de; border-radius: 3pt; padding: 5pt 7pt; margin: 0 0 6pt;
  break-inside: avoid; }
.who { color: #4d5b67; font-size: 8.5pt; }
.tag { display: inline-block; padding: 0 4pt; border-radius: 2pt; background: #e5eef4;
  font-size: 8pt; }
.tag.survivor { background: #f3e6f6; }
.answer { margin-top: 4pt; padding-left: 6pt; border-left: 2pt solid #0b4f6c; }
.answer.accepted { border-color: #1d5a31; } .answer.partly { border-color: #6b4500; }
.answer.not_accepted { border-color: #8c1c1c; }
del { background: #fbe9e9; color: #8c1c1c; } ins { background: #e5f4ea; color: #1d5a31;
  text-decoration: none; }
"""


def report_html(meta: ReportMeta, rows: Sequence[ReportRow], part: Participation | None = None,
                *, standalone: bool = True) -> str:
    """The "you said, we did" report as one self-contained HTML document (inline CSS, no
    script, every text escaped): the consultation, answers by outcome, participation by
    stakeholder group, then each part of the plan with what was said and what was done."""
    e = html.escape
    out: list[str] = []
    if standalone:
        out.append(f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
                   f'{e(meta.consultation)} — you said, we did</title><style>{REPORT_CSS}'
                   '</style></head><body>')
    out.append(f"<h1>You said, we did</h1><p class='meta'><strong>{e(meta.consultation)}</strong>"
               f" — on {e(meta.plan)} ({e(meta.plan_version)}); open {e(meta.opens)} to "
               f"{e(meta.closes)}.")
    if meta.generated_at:
        out.append(f" Generated {e(meta.generated_at)}.")
    out.append("</p>")
    counts = _outcome_counts(rows)
    out.append("<h2>Answers</h2><table><tr><th>Answer</th><th>Contributions</th></tr>")
    for key, n in counts.items():
        label = OUTCOMES.get(key, "Not yet answered")
        out.append(f"<tr><td>{e(label)}</td><td class='n'>{n}</td></tr>")
    out.append("</table>")
    if part is not None:
        out.append("<h2>Who was heard</h2><table><tr><th>Stakeholder group</th>"
                   "<th>Organisations invited</th><th>Heard</th><th>Contributions</th>"
                   "<th>Anonymous inputs</th><th>Not heard</th></tr>")
        for g in part.groups:
            out.append(f"<tr><td>{e(g.label)}</td><td class='n'>{len(g.invited)}</td>"
                       f"<td class='n'>{len(g.heard)}</td><td class='n'>{g.contributions}</td>"
                       f"<td class='n'>{g.anonymous_inputs}</td>"
                       f"<td>{e(', '.join(g.not_heard)) or '—'}</td></tr>")
        out.append("</table>")
    by_unit: dict[str, list[ReportRow]] = defaultdict(list)
    titles: dict[str, str] = {}
    for r in rows:
        by_unit[r.unit_key].append(r)
        titles[r.unit_key] = r.unit_title
    out.append("<h2>What was said, and what was done</h2>")
    if not rows:
        out.append("<p>No contribution has been published.</p>")
    for key, items in by_unit.items():
        out.append(f"<h3>{e(titles[key])}</h3>")
        for r in items:
            who = "anonymous input" if not r.organisation else r.organisation
            tag = ("<span class='tag survivor'>survivor input</span> " if r.survivor else "")
            out.append(f"<div class='item'><div class='who'>#{r.number} · {tag}"
                       f"<span class='tag'>{e(GROUPS.get(r.group, r.group))}</span> · {e(who)}"
                       f" · {e(KINDS.get(r.kind, r.kind))} · {e(r.created)}"
                       f" · support {r.support}, oppose {r.oppose}</div>")
            out.append(f"<p>{e(r.text)}</p>")
            if r.suggested:
                out.append(f"<p><em>Suggested text:</em> {diff_html(r.original, r.suggested)}</p>")
            if r.outcome:
                rev = f" — changed in {e(r.revision)}" if r.revision else ""
                out.append(f"<div class='answer {e(r.outcome)}'><strong>"
                           f"{e(OUTCOMES[r.outcome])}</strong>{rev}. {e(r.reason)}</div>")
            else:
                out.append("<div class='answer'><strong>Not yet answered.</strong></div>")
            out.append("</div>")
    if standalone:
        out.append("</body></html>")
    return "".join(out)


def _pdf_fonts() -> tuple[str, str]:
    """DejaVu Sans (the copy matplotlib ships, so every install has it: full Latin,
    Greek and Cyrillic), registered once with ReportLab; Helvetica if it cannot be read."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "tiplab-sans" in pdfmetrics.getRegisteredFontNames():
        return "tiplab-sans", "tiplab-sans-bold"
    try:
        from pathlib import Path

        import matplotlib

        ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        pdfmetrics.registerFont(TTFont("tiplab-sans", str(ttf / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("tiplab-sans-bold", str(ttf / "DejaVuSans-Bold.ttf")))
    except (OSError, ImportError):  # pragma: no cover - matplotlib is a dependency
        return "Helvetica", "Helvetica-Bold"
    for bold, italic in ((0, 0), (0, 1)):
        addMapping("tiplab-sans", bold, italic, "tiplab-sans")
    for bold, italic in ((1, 0), (1, 1)):
        addMapping("tiplab-sans", bold, italic, "tiplab-sans-bold")
    return "tiplab-sans", "tiplab-sans-bold"


def _rl_diff(old: str, new: str) -> str:
    """:func:`word_diff` in ReportLab's paragraph mark-up (struck out / underlined)."""
    parts = []
    for op, text in word_diff(old, new):
        t = html.escape(text).replace("\n", "<br/>")
        if op == "del":
            parts.append(f"<strike><font color='#8c1c1c'>{t}</font></strike>")
        elif op == "ins":
            parts.append(f"<u><font color='#1d5a31'>{t}</font></u>")
        else:
            parts.append(t)
    return "".join(parts)


def report_pdf(meta: ReportMeta, rows: Sequence[ReportRow],
               part: Participation | None = None) -> bytes:
    """The content of :func:`report_html` as an A4 PDF, drawn by ReportLab: a consultation's
    report runs to thousands of contributions, which WeasyPrint lays out at about a hundred
    a second (benchmarks/README.md); this takes a few seconds. Page numbers in the footer."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    regular, bold = _pdf_fonts()
    ink, muted, brand = "#1b2630", "#4d5b67", "#0b4f6c"
    body = ParagraphStyle("body", fontName=regular, fontSize=8.5, leading=11,
                          textColor=colors.HexColor(ink), spaceAfter=5)
    cell = ParagraphStyle("cell", parent=body, spaceAfter=0)
    h1 = ParagraphStyle("h1", parent=body, fontName=bold, fontSize=17, leading=21,
                        textColor=colors.HexColor(brand), spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=body, fontName=bold, fontSize=12, leading=15,
                        textColor=colors.HexColor(brand), spaceBefore=10, spaceAfter=5,
                        keepWithNext=1)
    h3 = ParagraphStyle("h3", parent=body, fontName=bold, fontSize=10, leading=13,
                        spaceBefore=8, spaceAfter=3, keepWithNext=1)
    e = html.escape

    def table(head: list[str], data: list[list[str]], widths: list[float]) -> Table:
        t = Table([[Paragraph(f"<b>{e(x)}</b>", cell) for x in head]]
                  + [[Paragraph(e(x), cell) for x in r] for r in data],
                  colWidths=[w * mm for w in widths], repeatRows=1, hAlign="LEFT")
        t.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#cfd7de")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f5")),
            ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return t

    story: list[Any] = [Paragraph("You said, we did", h1), Paragraph(
        f"<b>{e(meta.consultation)}</b> — on {e(meta.plan)} ({e(meta.plan_version)}); open "
        f"{e(meta.opens)} to {e(meta.closes)}."
        + (f" Generated {e(meta.generated_at)}." if meta.generated_at else ""), body)]
    story.append(Paragraph("Answers", h2))
    story.append(table(["Answer", "Contributions"],
                       [[OUTCOMES.get(k, "Not yet answered"), str(n)]
                        for k, n in _outcome_counts(rows).items()], [60, 30]))
    if part is not None:
        story.append(Paragraph("Who was heard", h2))
        story.append(table(
            ["Stakeholder group", "Invited", "Heard", "Contributions", "Anonymous inputs",
             "Not heard"],
            [[g.label, str(len(g.invited)), str(len(g.heard)), str(g.contributions),
              str(g.anonymous_inputs), ", ".join(g.not_heard) or "—"] for g in part.groups],
            [45, 16, 16, 24, 24, 55]))
    story.append(Paragraph("What was said, and what was done", h2))
    if not rows:
        story.append(Paragraph("No contribution has been published.", body))
    last = None
    for r in rows:
        if r.unit_key != last:
            story.append(Paragraph(e(r.unit_title), h3))
            last = r.unit_key
        who = r.organisation or "anonymous input"
        tag = "survivor input · " if r.survivor else ""
        text = e(r.text).replace("\n", "<br/>")
        lines = [f"<font color='{muted}'>#{r.number} · {tag}{e(GROUPS.get(r.group, r.group))} · "
                 f"{e(who)} · {e(KINDS.get(r.kind, r.kind))} · {e(r.created)} · support "
                 f"{r.support}, oppose {r.oppose}</font>", text]
        if r.suggested:
            lines.append(f"<i>Suggested text:</i> {_rl_diff(r.original, r.suggested)}")
        if r.outcome:
            rev = f" — changed in {e(r.revision)}" if r.revision else ""
            lines.append(f"<font color='{brand}'><b>{e(OUTCOMES[r.outcome])}</b>{rev}. "
                         f"{e(r.reason)}</font>")
        else:
            lines.append(f"<font color='{muted}'>Not yet answered.</font>")
        story.append(Paragraph("<br/>".join(lines), body))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.setFillColor(colors.HexColor(muted))
        canvas.drawRightString(A4[0] - 16 * mm, 10 * mm, f"{meta.consultation} — page "
                               f"{doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm,
                            topMargin=16 * mm, bottomMargin=18 * mm,
                            title=f"{meta.consultation} — you said, we did",
                            author="tiplab", invariant=True)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def as_dict(p: Participation) -> dict[str, Any]:
    """The participation statistics as plain data (``--json``, the API)."""
    return {
        "total_units": p.total_units,
        "uncommented_units": p.uncommented_units,
        "not_heard_groups": p.not_heard_groups,
        "groups": [{"group": g.group, "label": g.label, "invited": g.invited, "heard": g.heard,
                    "not_heard": g.not_heard, "contributions": g.contributions,
                    "comments": g.comments, "amendments": g.amendments, "replies": g.replies,
                    "reactions": g.reactions, "anonymous_inputs": g.anonymous_inputs,
                    "units": g.units} for g in p.groups],
    }
