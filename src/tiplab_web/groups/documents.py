"""A meeting's minutes as a document to share: HTML, Word (python-docx) and PDF (WeasyPrint).

The same content in every format: the facts (group, date, place, status, chair), attendance
with its rate, the agenda, the minutes, the decisions with the measures they concern, and the
action items. The HTML is self-contained like the plan documents of
``tiplab.policy.documents``: one ``<style>`` element (print CSS for A4, page numbers), no
script, no external resource, every text escaped; a page serving it under the strict CSP
allows that style element by its hash (``csp_style_source``). WeasyPrint renders the same
HTML to PDF and fetches nothing.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from tiplab.policy.documents import FONT_STACK, csp_style_source

from . import services
from .models import Attendance, Meeting

__all__ = ["MINUTES_CSS", "csp_style_source", "minutes_content", "minutes_docx",
           "minutes_html", "minutes_pdf"]

MINUTES_CSS = """
@page { size: A4; margin: 18mm 16mm 18mm 16mm;
  @bottom-left { content: string(doctitle); font-size: 7.5pt; color: #555; }
  @bottom-right { content: counter(page); font-size: 8pt; color: #333; } }
html { font-family: FONTS; font-size: 10pt; line-height: 1.4; color: #1b1b1b; }
body { margin: 0; }
@media screen { body { max-width: 50rem; margin: 2rem auto; padding: 0 1.5rem; } }
h1 { font-size: 17pt; color: #1f3b57; border-bottom: 2px solid #1f3b57; margin: 0 0 .6em;
     padding-bottom: .2em; string-set: doctitle content(); }
h2 { font-size: 12.5pt; color: #1f3b57; margin: 1.3em 0 .4em; break-after: avoid;
     page-break-after: avoid; }
p { margin: 0 0 .5em; orphans: 2; widows: 2; }
table { border-collapse: collapse; width: 100%; margin: .3em 0 .8em; font-size: 9pt;
        border-top: 1pt solid #44586c; border-bottom: 1pt solid #44586c; }
th, td { padding: 2pt 4pt; text-align: left; vertical-align: top;
         border-bottom: .5pt solid #d5dbe1; }
thead th { background: #e6ebf0; }
tr { break-inside: avoid; page-break-inside: avoid; }
table.facts { width: auto; min-width: 60%; }
table.facts th { width: 10em; }
.lines { white-space: pre-line; }
.note { background: #f3f5f7; padding: 3pt 6pt; }
.small { font-size: 8pt; color: #444; }
""".replace("FONTS", FONT_STACK)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{round(100 * x)}%"


def minutes_content(meeting: Meeting, *, generated_at: str | None = None) -> dict[str, Any]:
    """Everything a minutes document shows, as plain values."""
    group = meeting.group
    titles = services.measure_titles(group.plan)
    marks = {a.membership_id: a.get_status_display()
             for a in meeting.attendance.select_related("membership")}
    members = [m for m in group.memberships.select_related("organisation")
               if m.active_on(meeting.date) or m.pk in marks]
    rates = services.meeting_attendance(meeting)
    chair = group.chair

    def measures(ids: list[str]) -> str:
        return "; ".join(f"{i} {titles.get(i, '')}".strip() for i in ids)

    return {
        "title": _("Minutes: %(group)s, %(date)s") % {"group": group.name,
                                                      "date": meeting.date.isoformat()},
        "facts": [
            (_("Group"), f"{group.name} ({group.get_kind_display()})"),
            (_("Convened by"), group.organisation.name),
            (_("Date"), meeting.date.isoformat()),
            (_("Place"), meeting.where or "–"),
            (_("Status"), meeting.get_status_display()),
            (_("Chair"), chair.label if chair else "–"),
            (_("Plan"), f"{group.plan.title}" if group.plan else "–"),
        ],
        "pseudonymous": group.pseudonymous,
        "attendance": [(m.label, m.get_role_display(), marks.get(m.pk, "–")) for m in members],
        "attendance_rate": _pct(rates["rate"]),
        "present": rates["counts"][Attendance.Status.PRESENT],
        "recorded": rates["recorded"],
        "agenda": meeting.agenda,
        "minutes": meeting.minutes,
        "decisions": [(d.text, measures(d.measures or []))
                      for d in meeting.decisions.all()],
        "actions": [(a.description, a.owner.label if a.owner else "–",
                     a.due.isoformat() if a.due else "–", a.get_status_display(),
                     measures([a.measure]) if a.measure else "–")
                    for a in meeting.action_items.select_related("owner",
                                                                "owner__organisation")],
        "generated_at": generated_at or timezone.now().strftime("%Y-%m-%d %H:%M UTC"),
    }


def minutes_html(meeting: Meeting, *, generated_at: str | None = None) -> str:
    """One self-contained HTML document (one style element, no script, texts escaped)."""
    c = minutes_content(meeting, generated_at=generated_at)
    return render_to_string("groups/minutes_document.html", {"c": c, "css": MINUTES_CSS})


def minutes_pdf(meeting: Meeting, *, generated_at: str | None = None) -> bytes:
    """The HTML of :func:`minutes_html` rendered by WeasyPrint (A4, page numbers)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher

    class _NoFetch(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise ValueError(f"minutes documents fetch nothing ({url[:80]})")

    pdf = HTML(string=minutes_html(meeting, generated_at=generated_at),
               url_fetcher=_NoFetch()).write_pdf()
    if not isinstance(pdf, bytes):
        raise TypeError("WeasyPrint returned no PDF")
    return pdf


def minutes_docx(meeting: Meeting, *, generated_at: str | None = None) -> bytes:
    """The minutes as a Word document: Title, Heading 1 per section, tables with a header
    row."""
    from docx import Document

    c = minutes_content(meeting, generated_at=generated_at)
    doc = Document()
    doc.core_properties.title = c["title"]
    doc.add_heading(c["title"], 0)

    def table(head: list[str] | None, rows: list[tuple[str, ...]]) -> None:
        if not rows:
            return
        ncols = len(rows[0])
        t = doc.add_table(rows=0, cols=ncols)
        t.style = "Table Grid"
        if head:
            cells = t.add_row().cells
            for i, h in enumerate(head):
                cells[i].text = ""
                cells[i].paragraphs[0].add_run(h).bold = True
        for r in rows:
            cells = t.add_row().cells
            for i, v in enumerate(r):
                cells[i].text = str(v)

    table(None, c["facts"])
    doc.add_heading(_("Attendance"), 1)
    if c["pseudonymous"]:
        doc.add_paragraph(_("Members of this board are never named: they are listed by "
                            "pseudonyms."))
    table([_("Member"), _("Role"), _("Attendance")], c["attendance"])
    doc.add_paragraph(_("Present: %(p)s of %(n)s recorded (%(r)s).")
                      % {"p": c["present"], "n": c["recorded"], "r": c["attendance_rate"]})
    doc.add_heading(_("Agenda"), 1)
    for line in (c["agenda"] or "–").splitlines():
        doc.add_paragraph(line)
    doc.add_heading(_("Minutes"), 1)
    for para in (c["minutes"] or _("No minutes recorded.")).split("\n\n"):
        doc.add_paragraph(para.strip())
    doc.add_heading(_("Decisions"), 1)
    if not c["decisions"]:
        doc.add_paragraph(_("No decisions recorded."))
    for text, measures in c["decisions"]:
        p = doc.add_paragraph(text, style="List Number")
        if measures:
            p.add_run(f" ({_('measures')}: {measures})").italic = True
    doc.add_heading(_("Action items"), 1)
    if not c["actions"]:
        doc.add_paragraph(_("No action items."))
    table([_("Action"), _("Owner"), _("Due"), _("Status"), _("Measure")], c["actions"])
    doc.add_paragraph(_("Generated %(when)s by tiplab.") % {"when": c["generated_at"]})
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def filename(meeting: Meeting, ext: str) -> str:
    slug = "".join(ch if ch.isalnum() else "-" for ch in meeting.group.name.lower()).strip("-")
    return f"minutes-{slug}-{meeting.date.isoformat()}.{ext}"
