"""Plan documents: the HTML (content, budget totals, table of contents, escaping,
self-containment), the PDF, the Word file, the logframe CSV, evidence flags, and plans with
custom pillars and empty parts."""

from __future__ import annotations

import copy
import csv
import importlib.util
import io
import re
import shutil
import subprocess
import zlib
from html import escape
from typing import Any

import pytest

from tiplab.policy.documents import (
    TOC_MEASURES_MAX,
    csp_style_source,
    format_amount,
    format_number,
    format_share,
    logframe_csv,
    plan_docx,
    plan_html,
    plan_pdf,
)
from tiplab.policy.plan import (
    Citation,
    EvidenceFlag,
    Plan,
    budget_summary,
    demo_plan,
    logframe,
    plan_from_dict,
)

GENERATED = "2025-06-01 12:00 UTC"


@pytest.fixture(scope="module")
def demo() -> Plan:
    return demo_plan()


@pytest.fixture(scope="module")
def demo_html(demo: Plan) -> str:
    return plan_html(demo, generated_at=GENERATED, data_version="2025-05")


@pytest.fixture(scope="module")
def demo_pdf(demo: Plan) -> bytes:
    return plan_pdf(demo, generated_at=GENERATED)


@pytest.fixture(scope="module")
def demo_docx(demo: Plan) -> Any:
    import docx

    return docx.Document(io.BytesIO(plan_docx(demo, generated_at=GENERATED)))


def section(html: str, anchor: str) -> str:
    """The text of the element with id ``anchor`` up to the next chapter."""
    start = html.index(f'id="{anchor}"')
    end = html.find('class="chapter', start + 1)
    return html[start:end if end > 0 else len(html)]


def measure_part(html: str, measure_id: str) -> str:
    """A measure's section: from its heading to the next heading or section end."""
    start = html.index(f'id="m-{measure_id}"')
    ends = [i for tag in ("<h3 ", "<h2 ", "</section>") if (i := html.find(tag, start)) > 0]
    return html[start:min(ends)]


def custom_plan() -> dict[str, Any]:
    """Custom pillars (one without objectives), an objective without measures, a measure with
    nothing but its id, title and type, a budget line in another currency, a milestone done,
    notes and a citation of a web page."""
    return {
        "id": "custom", "title": "Plan with custom pillars", "country": "Utopia",
        "period": [2026, 2028], "currency": "USD",
        "pillars": [{"id": "laws", "title": "Laws"}, {"id": "care", "title": "Care & support"},
                    {"id": "data", "title": "Data"}],
        "objectives": [
            {"id": "L1", "pillar": "laws", "title": "An objective without measures"},
            {"id": "C1", "pillar": "care", "title": "Support", "description":
             "Why this objective.\n\n- first reason\n- second reason",
             "measures": [
                 {"id": "C1.1", "title": "Bare measure", "type": "protection"},
                 {"id": "C1.2", "title": "Shelter", "type": "protection", "lead": "NGO",
                  "milestones": [{"date": "2026-03-01", "title": "Opened", "done": True},
                                 {"date": "2027-03-01", "title": "Extended"}],
                  "budget": [{"year": 2026, "source": "government", "amount": 1500.5,
                              "note": "first year"},
                             {"year": 2027, "source": "international_aid", "amount": 2000,
                              "currency": "EUR"}],
                  "indicators": [{"indicator": "PROT-10", "baseline": 10,
                                  "targets": {2027: 20}},
                                 {"indicator": "MY-1", "custom": {
                                     "name": "Beds", "unit": "beds",
                                     "direction": "higher_is_better"}}],
                  "evidence": [{"kind": "other", "label": "A web page",
                                "ref": "https://example.org/report"}]},
             ]},
        ],
    }


# --- HTML ------------------------------------------------------------------------------------


def test_the_html_is_a_whole_document_with_every_measure(demo: Plan, demo_html: str) -> None:
    assert demo_html.startswith("<!DOCTYPE html>")
    assert demo_html.rstrip().endswith("</html>")
    assert f"<title>{escape(demo.title)}</title>" in demo_html
    for _o, m in demo.measures():
        assert escape(m.id) in demo_html
        assert escape(m.title) in demo_html
    for o in demo.objectives:
        assert escape(o.title) in demo_html
    # the title page
    cover = demo_html.split('id="contents"')[0]
    for text in (demo.country, "2025–2028", "Draft, version 1", GENERATED, "2025-05"):
        assert escape(text) in cover


def test_budget_totals_match_the_budget_summary(demo: Plan, demo_html: str) -> None:
    s = budget_summary(demo)
    budget = section(demo_html, "budget")
    assert f"{demo.currency} {format_amount(s['total'])}" in budget
    assert format_amount(s["total"]) == "3,305,000"
    for x in s["by_pillar"]:
        assert (f'<td>{escape(x["title"])}</td><td class="num">{format_amount(x["amount"])}'
                f'</td><td class="num">{format_share(x["share"])}</td>') in budget
    for x in s["by_year"]:
        assert f'<td>{x["year"]}</td><td class="num">{format_amount(x["amount"])}</td>' \
            in budget
    for x in s["by_source"]:
        assert f'<td>{escape(x["title"])}</td><td class="num">{format_amount(x["amount"])}' \
               "</td>" in budget
    # pillar x year: each cell is the sum over sources
    for p in s["by_pillar"]:
        cells = [sum(c["amount"] for c in s["cells"] if c["pillar"] == p["pillar"]
                     and c["year"] == y) for y in demo.years]
        row = "".join(f'<td class="num">{format_amount(v)}</td>'
                      for v in [*cells, p["amount"]])
        assert f"<td>{escape(p['title'])}</td>{row}" in budget
    # the logframe's total and each measure's
    lf = section(demo_html, "logframe")
    assert f'<td class="num">{format_amount(s["total"])}</td></tr>' in lf
    for _o, m in demo.measures():
        amount = re.escape(format_amount(m.budget_total(demo.currency)))
        assert re.search(rf'<td(?: rowspan="\d+")? class="num">{amount}</td></tr>', lf)


def test_the_logframe_has_a_row_per_logframe_row(demo: Plan, demo_html: str) -> None:
    lf = section(demo_html, "logframe")
    assert len(re.findall(r'<tr class="lf[ "]', lf)) == len(logframe(demo))
    for y in demo.years:
        assert f'<th class="num">{y}</th>' in lf
    assert "PREV-04" in lf
    assert "120 (2024)" in lf  # baseline and its year


def test_the_table_of_contents_links_resolve(demo: Plan, demo_html: str) -> None:
    ids = re.findall(r'\sid="([^"]+)"', demo_html)
    assert len(ids) == len(set(ids)), "ids are unique"
    hrefs = re.findall(r'href="#([^"]*)"', demo_html)
    assert hrefs
    assert set(hrefs) <= set(ids)
    toc = demo_html[demo_html.index('<nav class="toc'):demo_html.index("</nav>")]
    toc_links = re.findall(r'href="#([^"]*)"', toc)
    for anchor in ("narrative", "logframe", "budget", "cooperation"):
        assert anchor in toc_links
    assert sum(1 for _ in demo.measures()) <= TOC_MEASURES_MAX  # the demo lists its measures
    assert len(toc_links) == 4 + len(demo.pillars) + len(demo.objectives) + sum(
        1 for _ in demo.measures())
    assert "target-counter(attr(href), page)" in demo_html  # page numbers in print


def test_each_measure_shows_all_its_fields(demo: Plan, demo_html: str) -> None:
    m = demo.measure("PR1.1")
    part = measure_part(demo_html, "PR1.1")
    for text in ("Training and capacity-building", "In progress", "National Police",
                 "Shelter NGO, Labour Inspectorate", "police officers, labour inspectors",
                 "2025-02-01 to 2028-06-30", "✓ 2025-09-30 — Curriculum approved (done)",
                 "PROT-11", "Baseline 150 (2024) → targets 2026: 600 · 2028: 1,200",
                 "Risk: Staff turnover in the police", "Region with the largest detection gap",
                 "data version demo", "Government budget", "International aid",
                 f"{demo.currency} {format_amount(m.budget_total())}"):
        assert escape(text) in part, text
    # budget by source and year, with the lines' totals
    assert '<td class="num">90,000</td>' in part
    assert '<td class="num">40,000</td>' in part
    # the international cooperation register and the measures citing it
    reg = section(demo_html, "cooperation")
    assert "jit-neighbour" in reg
    assert "Joint investigation teams" in reg
    assert 'href="#m-PS2.1"' in reg
    assert 'href="#a-jit-neighbour"' in measure_part(demo_html, "PS2.1")


def test_user_text_is_escaped() -> None:
    d = custom_plan()
    d["title"] = "Plan <b>bold</b> & co"
    d["narrative"] = "Intro <img src=x onerror=alert(1)>\n\nSecond & last."
    m = d["objectives"][1]["measures"][0]
    m["title"] = "<script>alert(1)</script>"
    m["lead"] = '"Quoted" <lead>'
    m["description"] = "</section></article><style>body{display:none}</style>"
    d["pillars"][0]["title"] = "<i>Laws</i>"
    plan = plan_from_dict(d)
    out = plan_html(plan, generated_at="<now>", data_version="<v>")
    assert "<script" not in out.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "<img" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert "<b>bold</b>" not in out
    assert "Plan &lt;b&gt;bold&lt;/b&gt; &amp; co" in out
    assert "&quot;Quoted&quot; &lt;lead&gt;" in out
    assert "<i>Laws</i>" not in out
    assert out.count("<style>") == 1
    assert "&lt;now&gt;" in out
    assert "&lt;v&gt;" in out


def test_the_html_fetches_nothing_and_runs_nothing(demo_html: str) -> None:
    out = plan_html(plan_from_dict(custom_plan()))
    assert "https://example.org/report" in out  # cited, as text
    for html in (demo_html, out):
        for url in re.findall(r'\b(?:src|href|action|data)\s*=\s*["\']?([^"\'\s>]*)', html):
            assert url.startswith("#"), url
        assert "@import" not in html
        assert "url(" not in html
        assert not re.search(r"<(script|link|iframe|object|embed|img)\b", html, re.I)
        assert not re.search(r"https?://", html.replace("https://example.org/report", ""))


def test_one_style_element_a_policy_can_allow_by_hash(demo_html: str) -> None:
    import base64
    import hashlib

    assert demo_html.count("<style>") == 1
    assert not re.search(r"\sstyle\s*=", demo_html)  # no style attribute anywhere
    css = demo_html.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert csp_style_source(demo_html) == f"'sha256-{digest}'"
    assert csp_style_source("<p>no style</p>") == ""


def test_a_fragment_for_the_web_app(demo: Plan) -> None:
    out = plan_html(demo, generated_at=GENERATED, standalone=False)
    assert out.startswith('<article class="tiplab-plan">')
    assert "<html" not in out
    assert "<style>" not in out


# --- evidence flags --------------------------------------------------------------------------


def test_changed_evidence_shows_old_and_new_values() -> None:
    d = custom_plan()
    d["objectives"][1]["measures"][1]["evidence"].append(
        {"kind": "trend", "label": "Identified victims", "value": 1234, "unit": "persons",
         "data_version": "v1", "cited_at": "2025-03-02T09:30:00+00:00",
         "params": {"by": ["form"], "unit": "persons"}, "selector": {"form": "labour"}})
    plan = plan_from_dict(d)
    m = plan.measure("C1.2")
    cit = m.evidence[1]
    flags = [EvidenceFlag("C1.2", cit, 1234.0, 5678.0, "v2", "changed",
                          (5678 - 1234) / 1234),
             EvidenceFlag("C1.2", Citation("trend", "elsewhere", 1.0, "v1"), 1.0, 1.0, "v2",
                          "unchanged", 0.0)]
    out = plan_html(plan, generated_at=GENERATED, flags=flags)
    part = measure_part(out, "C1.2")
    assert "1,234 persons" in part
    assert "data version v1, cited on 2025-03-02" in part
    assert "parameters: by = form; unit = persons" in part
    assert "figure: form = labour" in part
    assert 'class="lines cite changed"' in part
    assert "Evidence changed on data version v2: 1,234 → 5,678 persons (+360.1 %)" in part
    assert part.count("cite changed") == 1  # the other citation is not flagged
    # a figure that is gone is marked too; an unchanged one is not
    gone = [*flags, EvidenceFlag("C1.2", m.evidence[0], None, None, "v2", "gone")]
    part = measure_part(plan_html(plan, flags=gone), "C1.2")
    assert part.count("cite changed") == 2
    assert "This figure no longer exists on data version v2." in part
    summary = section(out, "evidence-changed")
    assert "1,234 persons" in summary
    assert "5,678 persons" in summary
    assert 'href="#evidence-changed"' in out
    # without flags, nothing is marked
    plain = plan_html(plan, generated_at=GENERATED)
    assert "cite changed" not in plain
    assert 'id="evidence-changed"' not in plain
    # the Word file carries the flag too
    import docx

    doc = docx.Document(io.BytesIO(plan_docx(plan, flags=flags)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "1,234 → 5,678 persons" in text
    assert any(c.text == "C1.2" for t in doc.tables for r in t.rows for c in r.cells)


# --- plans with custom pillars and empty parts -----------------------------------------------


def test_custom_pillars_and_empty_objectives_render() -> None:
    plan = plan_from_dict(custom_plan())
    out = plan_html(plan, generated_at=GENERATED)
    for title in ("Laws", "Care &amp; support", "Data"):
        assert f"<h1>{title}</h1>" in out
    assert "No measures under this objective yet." in out
    assert "No objectives under this pillar yet." in out
    assert "No budget lines." in out
    assert "No indicators." in out
    assert "No evidence cited." in out
    # other currency: listed apart, not in the totals; a note; a decimal amount
    s = budget_summary(plan)
    assert s["total"] == 1500.5
    assert "1,500.50" in out
    assert "Private" not in out
    assert "International aid (EUR)" in measure_part(out, "C1.2")
    assert "Lines in other currencies" in section(out, "budget")
    assert "2026, Government budget: first year" in out
    assert "MY-1 Beds (custom)" in out
    assert "no targets set" in out
    assert "Why this objective." in out
    assert "<li>first reason</li>" in out
    ids = set(re.findall(r'\sid="([^"]+)"', out))
    assert set(re.findall(r'href="#([^"]*)"', out)) <= ids
    assert format_share(0.0) in section(out, "budget")  # pillars with no money
    # the other formats
    assert plan_pdf(plan, generated_at=GENERATED).startswith(b"%PDF")
    import docx

    doc = docx.Document(io.BytesIO(plan_docx(plan)))
    h1 = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert {"Laws", "Care & support", "Data"} <= set(h1)
    rows = list(csv.DictReader(io.StringIO(logframe_csv(plan))))
    assert [r["measure"] for r in rows] == ["C1.1 Bare measure", "C1.2 Shelter",
                                            "C1.2 Shelter"]


def test_a_long_plan_lists_objectives_in_the_contents_and_odd_ids_get_valid_anchors() -> None:
    d = custom_plan()
    d["objectives"][1]["measures"] = [
        {"id": f"C1.{i}", "title": f"Measure {i}", "type": "protection"}
        for i in range(TOC_MEASURES_MAX + 1)]
    plan = plan_from_dict(d)
    plan.objectives[0].id = "L 1/é"  # not a valid plan id: built in code
    plan.objectives[1].measures[1].id = plan.objectives[1].measures[0].id  # a duplicate
    out = plan_html(plan, generated_at=GENERATED)
    toc = out[out.index('<nav class="toc'):out.index("</nav>")]
    assert 'href="#o-C1"' in toc
    assert 'href="#m-' not in toc
    ids = re.findall(r'\sid="([^"]+)"', out)
    assert len(ids) == len(set(ids))
    assert set(re.findall(r'href="#([^"]*)"', out)) <= set(ids)
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", x) for x in ids)
    assert "L 1/é" in out  # shown as it is


def test_an_empty_plan_renders() -> None:
    plan = plan_from_dict({"id": "empty", "title": "Empty", "country": "Nowhere",
                           "period": [2025, 2025]})
    out = plan_html(plan)
    assert "No narrative has been written" in out
    assert "No measures yet." in out
    assert "No agreements in the register." in out
    import docx

    docx.Document(io.BytesIO(plan_docx(plan)))
    assert logframe_csv(plan).count("\n") == 1


def test_numbers_have_thousands_separators() -> None:
    assert format_amount(1234567) == "1,234,567"
    assert format_amount(1234.5) == "1,234.50"
    assert format_number(12345.678) == "12,345.68"
    assert format_number(0.5) == "0.5"
    assert format_number(None) == "—"
    assert format_share(0.1234) == "12.3 %"


# --- PDF -------------------------------------------------------------------------------------


def pdf_blob(pdf: bytes) -> bytes:
    """The PDF with its compressed streams inflated (WeasyPrint puts objects in streams)."""
    parts = [pdf]
    for m in re.finditer(rb"stream\r?\n", pdf):
        try:
            parts.append(zlib.decompress(pdf[m.end():pdf.find(b"endstream", m.end())]))
        except zlib.error:
            continue
    return b"\n".join(parts)


def pdf_strings(pdf: bytes) -> list[str]:
    """The text strings of a PDF's objects (document info, bookmarks): literal ``(...)`` and
    UTF-16 hex ``<FEFF...>`` strings."""
    blob = pdf_blob(pdf)
    out = [re.sub(rb"\\(.)", rb"\1", lit[1:-1]).decode("latin-1")
           for lit in re.findall(rb"\((?:\\.|[^\\()])*\)", blob)]
    out += [bytes.fromhex(h.decode()).decode("utf-16")
            for h in re.findall(rb"<(FEFF[0-9A-Fa-f]+)>", blob)]
    return out


def pdf_text(pdf: bytes) -> str | None:
    """The page text, with pypdf or poppler's pdftotext; None when neither is here."""
    if importlib.util.find_spec("pypdf") is not None:
        import pypdf

        return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    exe = shutil.which("pdftotext")
    if exe:
        return subprocess.run([exe, "-", "-"], input=pdf, capture_output=True,
                              check=True).stdout.decode("utf-8", "replace")
    return None


def test_the_pdf_is_a_pdf_with_title_and_bookmarks(demo: Plan, demo_pdf: bytes) -> None:
    assert demo_pdf.startswith(b"%PDF")
    assert demo_pdf.rstrip().endswith(b"%%EOF")
    strings = pdf_strings(demo_pdf)
    assert demo.title in strings  # document information
    m = demo.measure("PV1.1")
    assert f"{m.id} {m.title}" in strings  # a bookmark per measure heading
    for p in demo.pillars:
        assert p.title in strings
    # A4 portrait pages, and landscape ones for the logframe
    boxes = {tuple(round(float(v)) for v in box.split()) for box in re.findall(
        rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+\s+[\d.]+)\s*\]", pdf_blob(demo_pdf))}
    assert boxes == {(595, 842), (842, 595)}


def test_the_pdf_text_has_the_title_and_a_measure(demo: Plan, demo_pdf: bytes) -> None:
    text = pdf_text(demo_pdf)
    if text is None:
        pytest.skip("no PDF text extractor here (neither pypdf nor poppler's pdftotext); the "
                    "title and measure titles are checked in the PDF's bookmarks instead")
    flat = " ".join(text.split())
    assert " ".join(demo.title.split()) in flat
    assert "Targeted labour inspections" in flat


# --- Word ------------------------------------------------------------------------------------


def test_the_docx_has_headings_a_toc_field_and_the_logframe(demo: Plan,
                                                             demo_docx: Any) -> None:
    doc = demo_docx
    by_style: dict[str, list[str]] = {}
    for p in doc.paragraphs:
        by_style.setdefault(p.style.name, []).append(p.text)
    for pillar in demo.pillars:
        assert pillar.title in by_style["Heading 1"]
    for chapter in ("Narrative", "Logframe", "Budget summary",
                    "International cooperation register"):
        assert chapter in by_style["Heading 1"]
    assert {f"{o.id} {o.title}" for o in demo.objectives} <= set(by_style["Heading 2"])
    assert {f"{m.id} {m.title}" for _o, m in demo.measures()} <= set(by_style["Heading 3"])
    # a real TOC field, with the note on how to fill it
    body = doc.element.body.xml
    assert re.search(r'<w:instrText[^>]*> TOC \\o "1-3" \\h \\z \\u </w:instrText>', body)
    assert 'w:fldCharType="begin"' in body
    assert 'w:fldCharType="end"' in body
    assert any("Update field" in p.text for p in doc.paragraphs)
    # the logframe: a header row, then one row per logframe row
    lf = [t for t in doc.tables if [c.text for c in t.rows[0].cells][:3]
          == ["Pillar", "Objective", "Measure"]]
    assert len(lf) == 1
    rows = logframe(demo)
    assert len(lf[0].rows) == len(rows) + 1
    assert [c.text for c in lf[0].rows[1].cells][:3] == [
        rows[0]["pillar"], rows[0]["objective"], rows[0]["measure"]]
    header = [c.text for c in lf[0].rows[0].cells]
    assert [str(y) for y in demo.years] == header[5:5 + len(demo.years)]
    # the budget summary's total and the register
    cells = {c.text for t in doc.tables for r in t.rows for c in r.cells}
    assert format_amount(budget_summary(demo)["total"]) in cells
    assert "PS2.1" in cells  # cited by the JIT agreement
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Region with the largest detection gap" in text


def test_the_docx_page_layout(demo_docx: Any) -> None:
    from docx.enum.section import WD_ORIENT

    sections = demo_docx.sections
    assert [s.orientation for s in sections] == [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE,
                                                  WD_ORIENT.PORTRAIT]
    assert round(sections[0].page_width.mm) == 210
    assert "PAGE" in sections[0].footer.paragraphs[0]._p.xml


# --- CSV -------------------------------------------------------------------------------------


def test_logframe_csv_has_a_column_per_year(demo: Plan) -> None:
    text = logframe_csv(demo)
    rows = list(csv.DictReader(io.StringIO(text)))
    lf = logframe(demo)
    assert len(rows) == len(lf)
    assert [f"target_{y}" for y in demo.years] == [k for k in rows[0] if
                                                    k.startswith("target_")]
    first = rows[0]
    assert first["measure"] == lf[0]["measure"]
    assert first["indicator"].startswith("PREV-04")
    assert (first["baseline"], first["baseline_year"]) == ("120", "2024")
    assert [first[f"target_{y}"] for y in demo.years] == ["200", "400", "450", "500"]
    assert first["budget"] == "840000"
    assert first["currency"] == "EUR"


def test_rendering_does_not_change_the_plan(demo: Plan) -> None:
    before = copy.deepcopy(demo.to_dict())
    plan_html(demo)
    plan_docx(demo)
    logframe_csv(demo)
    assert demo.to_dict() == before
