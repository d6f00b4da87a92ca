"""Evidence briefs and annual reports from a release bundle: the bundle's JSON round trip and
what it refuses, figure tokens and hand-typed numbers in the narrative, and the documents —
HTML (alt text, stamp, self-contained), PDF (the released figures in its text, the release
id and data version on every page, tagged with alt text and language) and Word (heading
styles, header rows, picture descriptions, footer).

The bundle is built by code; its regions (geometry and counts) come from the simulator, so the
map's numbers are known truth: the simulated number of victims seen in each region.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import shutil
import subprocess
import zlib
from html import escape, unescape
from pathlib import Path
from typing import Any

import pytest

from tiplab.reports.brief import (
    SECTIONS,
    TEXTS,
    check_narrative,
    figure_text,
    fill_narrative,
    render,
)
from tiplab.reports.bundle import (
    BundleChart,
    BundleTable,
    KeyFigure,
    ReleaseBundle,
    ReportError,
)

RELEASE_ID = "tiplab:XT-2026-0003"
DATA_VERSION = "2026-02-14.7"
STAMP = f"{RELEASE_ID} · version 3 · data version {DATA_VERSION}"
TREND_ALT = "Line chart of victims identified each year by agency; the police identify most"
PROFILE_ALT = "Bar chart of victims identified by form of exploitation; labour leads"
NARRATIVE = {
    "key_messages": (
        "Agencies identified [[identified]] victims over the period. Multiple systems "
        "estimation puts the number at [[estimated]]: about [[detection_gap]] were never "
        "identified.\n\n- Prosecutions: [[prosecutions]]."),
    "introduction": "This brief follows article 4 of the Protocol (see section 2) since 2015.",
}


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The simulated country (seed 1): its regions' GeoJSON and, per region, the victims the
    agencies saw (the truth the map must show)."""
    from tiplab.simulate import SimulationSettings, simulate

    out = tmp_path_factory.mktemp("sim") / "sim"
    simulate(SimulationSettings(seed=1, victims=800), out)
    with (out / "truth" / "regions.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {"geojson": json.loads((out / "country" / "regions.geojson").read_text("utf-8")),
            "seen": {r["code"]: int(r["seen_victims"]) for r in rows},
            "true": {r["code"]: int(r["true_victims"]) for r in rows}}


def _line(values: list[dict[str, Any]]) -> dict[str, Any]:
    return {"$schema": "https://vega.github.io/schema/vega-lite/v6.json",
            "data": {"values": values}, "mark": {"type": "line", "point": True},
            "width": 460, "height": 180,
            "encoding": {"x": {"field": "year", "type": "ordinal"},
                         "y": {"field": "count", "type": "quantitative"},
                         "color": {"field": "agency", "type": "nominal"}}}


def make_bundle(country: dict[str, Any] | None = None, **changes: Any) -> ReleaseBundle:
    seen = sum(country["seen"].values()) if country else 4218
    true = sum(country["true"].values()) if country else 11640
    regions: dict[str, float | None] | None = None
    if country:
        regions = {k: float(v) for k, v in country["seen"].items()}
        regions["XT-04"] = None  # suppressed
    trend = [{"year": y, "agency": a, "count": 40 + 7 * i + (y - 2015) * (3 - i)}
             for i, a in enumerate(("police", "labour inspectorate", "NGO shelters"))
             for y in range(2015, 2025)]
    forms = [{"form": f, "count": n} for f, n in (("labour", 210), ("sexual", 150),
                                                  ("criminality", 60))]
    fields: dict[str, Any] = dict(
        release_id=RELEASE_ID, version=3,
        title="Identified victims of trafficking, 2015–2024", jurisdiction="Xland",
        period="2015–2024", data_version=DATA_VERSION, approved_by="Demo steward",
        approved_at="2026-03-01T10:15:00+00:00",
        citation=("National Rapporteur of Xland (2026). Identified victims of trafficking, "
                  f"2015–2024. Release {RELEASE_ID}, version 3."),
        privacy="Counts carry differential-privacy noise (ε = 0.5); cells below 5 are "
                "suppressed.",
        figures=[
            KeyFigure("identified", "Victims identified (persons)", float(seen), error=9.0,
                      period="2015–2024", note="differentially private count, ε=0.5",
                      source="figures:identified"),
            KeyFigure("estimated", "Estimated victims, identified or not", float(true),
                      low=float(round(true * 0.85)), high=float(round(true * 1.2)),
                      period="2015–2024", note="multiple systems estimation",
                      source="estimate:mse-12"),
            KeyFigure("detection_gap", "Victims not identified (estimated)",
                      float(true - seen), low=float(round(true * 0.85) - seen),
                      high=float(round(true * 1.2) - seen), period="2015–2024",
                      note="estimated minus identified", source="figures; estimate"),
            KeyFigure("prosecutions", "Prosecutions", None, period="2024",
                      note="suppressed: fewer than 5 cases in some courts",
                      source="table:courts"),
        ],
        tables=[BundleTable("region_year", "Victims identified by region and year",
                            ["Region", "Year", "Count", "± error"],
                            [["XT-01", 2023, 1234, 9], ["XT-02", 2024, 57, 9],
                             ["XT-03", 2024, None, None]],
                            notes=["Counts have DP noise, ε=0.5; ± shows the 95% error."],
                            source="table:region_year", section="identification")],
        charts=[BundleChart("trend", "Victims identified per year, by agency", TREND_ALT,
                            _line(trend), caption="Counts have DP noise.",
                            source="table:agency_year"),
                BundleChart("forms", "Victims by form of exploitation", PROFILE_ALT,
                            {"data": {"values": forms}, "mark": "bar",
                             "encoding": {"x": {"field": "form", "type": "nominal"},
                                          "y": {"field": "count",
                                                "type": "quantitative"}}},
                            section="profiles")],
        assessment={"framework": "CETS 197", "met": 21, "partly": 9, "not_met": 4,
                    "gaps": [{"ref": "Art. 26", "title": "Non-punishment",
                              "status": "not_met"}]},
        scorecard={"plan": "National Action Plan 2025–2028",
                   "rows": [{"indicator": "PREV-06 Inspections", "baseline": 100,
                             "target": 150, "latest": 131, "status": "at_risk"}],
                   "counts": {"on_track": 3, "at_risk": 1}},
        you_said_we_did={"consultation": "Draft plan consultation", "contributions": 312,
                         "accepted": 88, "partly": 61, "not_accepted": 163,
                         "examples": [{"said": "Fund shelters beyond 2026.",
                                       "did": "Measure PR2.3 funds them to 2028."}]},
        map_regions=regions, map_geometry=country["geojson"] if country else None)
    fields.update(changes)
    return ReleaseBundle(**fields)


@pytest.fixture(scope="module")
def bundle(country: dict[str, Any]) -> ReleaseBundle:
    return make_bundle(country)


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page, by poppler's pdftotext (whitespace collapsed)."""
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.fail("pdftotext is not installed: apt-get install poppler-utils (CI installs "
                    "it); the PDF's text cannot be checked without it")
    text = subprocess.run([exe, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode("utf-8")
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages = pages[:-1]
    return [" ".join(p.split()) for p in pages]


def pdf_strings(pdf: bytes) -> list[str]:
    """The text strings of the PDF's objects (document catalog, structure tree): literal
    ``(...)`` and UTF-16 ``<FEFF...>`` strings, from plain and deflated streams."""
    parts = [pdf]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    blob = b"\n".join(parts)
    out = [re.sub(rb"\\(.)", rb"\1", lit[1:-1]).decode("latin-1")
           for lit in re.findall(rb"\((?:\\.|[^\\()])*\)", blob)]
    out += [bytes.fromhex(h.decode()).decode("utf-16")
            for h in re.findall(rb"<((?i:feff)[0-9A-Fa-f]+)>", blob)]
    return out


@pytest.fixture(scope="module")
def brief_pdf(bundle: ReleaseBundle) -> tuple[bytes, list[logging.LogRecord]]:
    """The brief as PDF, with what WeasyPrint logged at WARNING or above while rendering."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.WARNING)
    wp = logging.getLogger("weasyprint")
    wp.addHandler(handler)
    try:
        pdf = render(bundle, kind="brief", fmt="pdf", narrative=NARRATIVE)
    finally:
        wp.removeHandler(handler)
    return pdf, records


@pytest.fixture(scope="module")
def annual_pdf(bundle: ReleaseBundle) -> bytes:
    return render(bundle, kind="annual", fmt="pdf", narrative=NARRATIVE)


# --- the bundle --------------------------------------------------------------------------------


def test_a_bundle_round_trips_through_json_exactly(bundle: ReleaseBundle) -> None:
    d = bundle.to_dict()
    text = json.dumps(d, ensure_ascii=False, allow_nan=False)
    again = ReleaseBundle.from_dict(json.loads(text))
    assert again == bundle
    assert again.to_dict() == d
    assert again.figures[3].value is None  # a suppressed figure stays suppressed
    assert again.map_regions is not None
    assert again.map_regions["XT-04"] is None
    assert again.charts[0].vega_lite == bundle.charts[0].vega_lite
    # tuples are stored as lists, so a bundle built from tuples compares equal after the trip
    t = BundleTable("t", "T", ("a", "b"), [(1, "x")])  # type: ignore[arg-type]
    assert BundleTable.from_dict(json.loads(json.dumps(t.to_dict()))) == t


def test_from_dict_refuses_unknown_and_missing_fields(bundle: ReleaseBundle) -> None:
    d = bundle.to_dict()
    d["figurs"] = []
    with pytest.raises(ReportError, match=r"unknown field\(s\) figurs"):
        ReleaseBundle.from_dict(d)
    d = bundle.to_dict()
    del d["figures"][0]["label"]
    with pytest.raises(ReportError, match=r"figure identified: missing field\(s\) label"):
        ReleaseBundle.from_dict(d)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: BundleChart("c", "T", "  ", {"mark": "bar"}), r"chart 'c': the alt text is empty"),
    (lambda: BundleChart("c", "T", "", {"mark": "bar"}), r"alt text is empty"),
    (lambda: BundleChart("c", "T", "a", {"data": {"url": "https://x.org/d.csv"},
                                         "mark": "bar"}), r"reads data from a URL at /data/url"),
    (lambda: BundleChart("c", "T", "a", {"mark": "bar"}, section="annex"),
     r"section 'annex' is not a chapter"),
    (lambda: KeyFigure("n", "N", float("nan")), r"figure 'n', value: nan is not a finite"),
    (lambda: KeyFigure("n", "N", 5.0, low=1.0), r"both ends of the interval"),
    (lambda: KeyFigure("n", "N", 5.0, low=9.0, high=1.0), r"low 9.0 is above high 1.0"),
    (lambda: KeyFigure("gap-2024", "N", 5.0), r"figure key 'gap-2024': use letters"),
    (lambda: KeyFigure("n", 5, 5.0), r"figure 'n': label must be a text, not int"),
    (lambda: BundleTable("t", "T", ["a", "b"], [[1]]), r"table 't', row 1: 1 cells for 2"),
    (lambda: BundleTable("t", "T", ["a"], [[{"x": 1}]]),
     r"table 't', row 1, column 'a': dict .* is not a text"),
    (lambda: make_bundle(figures=[KeyFigure("a", "A", 1.0), KeyFigure("a", "B", 2.0)]),
     r"figures key\(s\) a appear more than once"),
    (lambda: make_bundle(version=0), r"version 0 must be a whole number from 1"),
    (lambda: make_bundle(data_version=" "), r"data_version is empty"),
])
def test_the_bundle_refuses_what_a_document_cannot_show(make: Any, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        make()


def test_a_bundle_without_figures_is_refused_clearly() -> None:
    b = make_bundle(figures=[])
    for fmt in ("html", "pdf", "docx"):
        with pytest.raises(ReportError, match=r"release tiplab:XT-2026-0003 version 3 has no "
                                              r"key figures.*add a 'figures' item"):
            render(b, fmt=fmt)


# --- the narrative -----------------------------------------------------------------------------


def test_tokens_are_filled_with_the_figure_and_its_interval_or_error() -> None:
    b = make_bundle()
    text = ("[[identified]] | [[estimated]] | [[estimated.low]]–[[estimated.high]] | "
            "[[identified.error]] | [[prosecutions]] | [[estimated.period]] | "
            "[[detection_gap.value]]")
    assert fill_narrative(text, b) == (
        "4,218 (± 9) | 11,640 (95% interval 9,894–13,968) | 9,894–13,968 | 9 | "
        "not published | 2015–2024 | 7,422")
    assert figure_text(KeyFigure("s", "Share", 12.5, unit="%")) == "12.5%"


def test_typed_numbers_are_refused_with_their_position() -> None:
    b = make_bundle()
    text = "In 2024 agencies found\n1,234 victims; about 12% were children (0.5 of them)."
    problems = check_narrative(text, b, section="identification")
    assert [(p.text, p.line, p.column) for p in problems] == [
        ("1,234", 2, 1), ("12", 2, 22), ("0.5", 2, 41)]
    assert all(p.severity == "error" for p in problems)
    assert str(problems[0]).startswith('identification, line 2, column 1: "1,234" is typed '
                                       "by hand")
    assert "[[identified]]" in problems[0].message  # the fix: cite a figure with a token


@pytest.mark.parametrize("text", [
    "Since the 1990s, and again in 2015–2024 and 2015-2024.",
    "Approved on 2025-03-01, published 1 March 2025 and on March 3rd.",
    "Under article 4 and articles 10, 12 and 13(a) of the Protocol; SDG 8.7; section 2.3.",
    "The 3rd plan; region XT-01; COVID-19; the G7.",
    "1. First point\n2. Second point",
])
def test_years_dates_references_ordinals_and_codes_are_not_typed_numbers(text: str) -> None:
    assert check_narrative(text, make_bundle()) == []


@pytest.mark.parametrize(("text", "message"), [
    ("[[identifed]]", r"names no figure of release tiplab:XT-2026-0003 \(did you mean "
                      r"\[\[identified\]\]\?\); figures: identified, estimated"),
    ("[[identified.low]]", r"figure 'identified' has no low \(it has error\); cite "
                           r"\[\[identified\]\]"),
    ("[[estimated.foo]]", r"a figure has no part 'foo'"),
    ("[[two words]]", r"is not a figure token"),
    ("see [[identified", r"'\[\[' without its other half"),
    ("in 2150", r'"2150" is typed by hand'),
    ("5km away", r'"5km" is typed by hand'),
])
def test_a_token_naming_no_figure_is_an_error(text: str, message: str) -> None:
    problems = check_narrative(text, make_bundle())
    assert len(problems) == 1
    assert re.search(message, problems[0].message)


def test_render_refuses_a_narrative_with_problems_and_lists_them() -> None:
    b = make_bundle()
    with pytest.raises(ReportError) as err:
        render(b, narrative={"key_messages": "We found 1,234 victims.",
                             "introduction": "See [[identifed]]."})
    msg = str(err.value)
    assert msg.startswith("the narrative has 2 problems:")
    assert 'key_messages, line 1, column 10: "1,234" is typed by hand' in msg
    assert "introduction, line 1, column 5: [[identifed]] names no figure" in msg
    assert len(err.value.problems) == 2
    with pytest.raises(ReportError, match=r"'profiles' are not part of the brief; its "
                                          r"sections are key_messages"):
        render(b, narrative={"profiles": "Mostly adults."})
    assert "profiles" in SECTIONS["annual"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"kind": "leaflet"}, r"kind 'leaflet' is not one of brief, annual"),
    ({"fmt": "odt"}, r"fmt 'odt' is not one of html, pdf, docx"),
    ({"language": "en_GB; x"}, r"language 'en_GB; x' is not a language tag"),
])
def test_render_refuses_unknown_kinds_formats_and_languages(kwargs: dict[str, Any],
                                                            message: str) -> None:
    with pytest.raises(ReportError, match=message):
        render(make_bundle(), **kwargs)


# --- HTML --------------------------------------------------------------------------------------


def test_the_html_has_alt_text_stamp_language_and_nothing_external(
        bundle: ReleaseBundle) -> None:
    html = render(bundle, kind="annual", fmt="html", narrative=NARRATIVE,
                  language="fr-BE").decode("utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="fr-BE">' in html
    # every chart is an accessible image: role="img", labelled by its <title> (the alt text)
    svgs = re.findall(r"<svg[^>]*>", html)
    assert len(svgs) == 3  # trend, forms and the map
    titles = {}
    for tag in svgs:
        assert 'role="img"' in tag
        label = re.search(r'aria-labelledby="([^"]+)"', tag)
        assert label is not None
        title = re.search(f'<title id="{label.group(1)}">([^<]*)</title>', html)
        assert title is not None
        titles[label.group(1)] = title.group(1)
    assert sorted(titles.values())[:2] == [escape(PROFILE_ALT), escape(TREND_ALT)]
    assert sorted(titles.values())[2].startswith("Map of 30 regions shaded by the released")
    # the stamp in the footer, the figures formatted from the bundle, no "None"
    footer = html[html.index('<footer class="stamp">'):]
    assert STAMP in footer
    assert bundle.citation in footer
    seen = int(bundle.figures[0].value or 0)
    assert f"{seen:,} (± 9)" in html
    assert "not published" in html
    assert "suppressed: fewer than 5 cases" in html
    assert "None" not in re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    # self-contained: no script, no URL to fetch (in-page anchors and data: URIs only)
    assert "<script" not in html
    assert not re.search(r"""(?:src|href)=["'](?!#|data:)|url\((?!#)""", html)


def test_bundle_text_is_escaped_and_chart_links_are_dropped() -> None:
    link = BundleChart("links", "Links", "Points that would link elsewhere",
                       {"data": {"values": [{"x": 1, "u": "https://tracker.example/x"}]},
                        "mark": "point", "encoding": {"x": {"field": "x",
                                                            "type": "quantitative"},
                                                      "href": {"field": "u"}}})
    b = make_bundle(title="<script>alert(1)</script> & co", charts=[link])
    html = render(b, fmt="html").decode("utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert not re.search(r'href="[^"#]*tracker', html)  # (its text label may stay)


def test_without_geometry_the_regions_are_a_ranked_bar_chart() -> None:
    b = make_bundle(map_regions={"XT-01": 30.0, "XT-02": 70.0, "XT-03": None})
    html = render(b, fmt="html").decode("utf-8")
    assert TEXTS["map.bar_note"] in unescape(html)
    assert "Bar chart ranking 2 regions by the released count of victims identified; the " \
           "highest are XT-02, XT-01." in html
    assert "Not published (suppressed): XT-03." in html


# --- PDF ---------------------------------------------------------------------------------------


def test_the_brief_pdf_shows_the_released_figures_and_every_page_is_stamped(
        bundle: ReleaseBundle, brief_pdf: tuple[bytes, list[logging.LogRecord]]) -> None:
    pdf, logged = brief_pdf
    assert pdf.startswith(b"%PDF-1.7")
    pages = page_texts(pdf)
    assert len(pages) == 4
    for i, page in enumerate(pages, start=1):
        assert STAMP in page, f"page {i} has no stamp"
        assert f"page {i} of 4" in page
        assert "Cite as: National Rapporteur of Xland (2026)." in page
    first = pages[0]
    seen, true = (int(f.value or 0) for f in bundle.figures[:2])
    est = bundle.figures[1]
    # the key messages, tokens filled (identified and estimated: the simulation's truth)
    assert (f"Agencies identified {seen:,} (± 9) victims over the period. Multiple systems "
            f"estimation puts the number at {true:,} (95% interval {int(est.low or 0):,}–"
            f"{int(est.high or 0):,})") in first
    assert "Prosecutions: not published." in first
    for f in bundle.figures:  # the large numbers
        assert (f"{int(f.value):,} persons" if f.value is not None else "not published") \
            in first
    assert "None" not in " ".join(pages)
    assert not [r.getMessage() for r in logged]  # WeasyPrint had nothing to complain about


def test_the_brief_pdf_is_tagged_with_alt_text_title_and_language(
        bundle: ReleaseBundle, brief_pdf: tuple[bytes, list[logging.LogRecord]]) -> None:
    pdf, _ = brief_pdf
    strings = pdf_strings(pdf)
    assert _in_streams(pdf, b"/StructTreeRoot")
    assert _in_streams(pdf, b"/Lang (en)")
    assert _in_streams(pdf, b"/MarkInfo <</Marked true>>")
    assert _in_streams(pdf, b'pdfuaid:part="1"')
    assert bundle.title in strings  # document title (DisplayDocTitle shows it)
    assert TREND_ALT in strings  # the figure's /Alt
    assert any(s.startswith("Map of 30 regions") for s in strings)


def _in_streams(pdf: bytes, needle: bytes) -> bool:
    if needle in pdf:
        return True
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            if needle in zlib.decompress(m.group(1)):
                return True
        except zlib.error:
            continue
    return False


def test_the_annual_report_has_its_chapters_and_every_page_is_stamped(
        bundle: ReleaseBundle, annual_pdf: bytes) -> None:
    pages = page_texts(annual_pdf)
    assert len(pages) >= 10
    for i, page in enumerate(pages, start=1):
        assert STAMP in page, f"page {i} has no stamp"
        assert f"page {i} of {len(pages)}" in page
    text = " ".join(pages)
    for n, title in enumerate(("Summary", "Identification and the hidden number",
                               "Victim profiles", "Routes and forms of exploitation",
                               "Legal and policy assessment",
                               "Progress of the National Action Plan",
                               "Consultation and survivors' input",
                               "Methods and data protection"), start=1):
        assert f"{n} {title}" in text
    assert TEXTS["nothing"] in text  # routes: nothing released
    # the annex table: numbers with separators, years without, missing cells as a dash
    assert "XT-01 2023 1,234 9" in text
    assert "XT-03 2024 — —" in text
    assert "Table A1: Victims identified by region and year" in text
    assert "Assessed against CETS 197: 21 met, 9 partly met, 4 not met." in text
    assert "National Action Plan 2025–2028: progress by status (4 in all). On track: 3 " \
           "At risk: 1" in text
    assert "PREV-06 Inspections" in text  # (pdftotext reads the table's columns apart)


# --- Word --------------------------------------------------------------------------------------


def test_the_word_brief_has_heading_styles_figures_alt_text_and_a_stamped_footer(
        bundle: ReleaseBundle) -> None:
    import docx
    from docx.oxml.ns import qn

    doc = docx.Document(io.BytesIO(render(bundle, kind="brief", fmt="docx",
                                          narrative=NARRATIVE)))
    headings = [(p.style.name, p.text) for p in doc.paragraphs
                if p.style is not None and p.style.name.startswith("Heading")]
    assert ("Heading 1", "Key messages") in headings
    assert ("Heading 1", "Identification and the hidden number") in headings
    assert ("Heading 1", "What we did with your input") in headings
    body = "\n".join(p.text for p in doc.paragraphs)
    seen = int(bundle.figures[0].value or 0)
    assert f"Agencies identified {seen:,} (± 9) victims" in body
    figures = doc.tables[0]
    assert [c.text for c in figures.rows[0].cells][:2] == ["Figure", "Value"]
    assert figures.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeated header
    assert [c.text for c in figures.rows[1].cells][:2] == ["Victims identified (persons)",
                                                           f"{seen:,} persons"]
    assert [c.text for c in figures.rows[4].cells][1] == "not published"
    descr = [s._inline.docPr.get("descr") for s in doc.inline_shapes]
    assert descr[0] == TREND_ALT
    assert descr[-1].startswith("Map of 30 regions")
    footer = "\n".join(p.text for p in doc.sections[0].footer.paragraphs)
    assert STAMP in footer
    assert bundle.citation in footer
    assert doc.core_properties.title == bundle.title
    assert doc.core_properties.language == "en"


def test_the_word_annual_report_numbers_its_chapters(bundle: ReleaseBundle) -> None:
    import docx

    doc = docx.Document(io.BytesIO(render(bundle, kind="annual", fmt="docx")))
    h1 = [p.text for p in doc.paragraphs if p.style is not None
          and p.style.name == "Heading 1"]
    assert h1 == ["Contents", "1 Summary", "2 Identification and the hidden number",
                  "3 Victim profiles", "4 Routes and forms of exploitation",
                  "5 Legal and policy assessment", "6 Progress of the National Action Plan",
                  "7 Consultation and survivors' input", "8 Methods and data protection",
                  "A Annex tables"]
    annex = doc.tables[-1]
    assert [c.text for c in annex.rows[1].cells] == ["XT-01", "2023", "1,234", "9"]
    descr = [s._inline.docPr.get("descr") for s in doc.inline_shapes]
    assert descr[0] == TREND_ALT
    assert descr[2] == PROFILE_ALT
    assert descr[1].startswith("Map of 30 regions")


def test_templates_take_every_fixed_word_from_texts() -> None:
    """No English sentence typed into a template: the words come from TEXTS."""
    folder = Path(__file__).resolve().parents[3] / "src" / "tiplab" / "reports" / "templates"
    for path in folder.glob("*.html"):
        text = re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}|<[^>]+>", " ",
                      path.read_text("utf-8"), flags=re.S)
        words = re.findall(r"[A-Za-z]{3,}", text)
        assert words == [], f"{path.name}: fixed words outside TEXTS: {words[:10]}"


# --- quotations of interview notes ---------------------------------------------------------

QUOTE = {"id": "EVQ-0003", "text": "He kept my passport in his office and said I owed him "
         "for the travel.", "reference": "Interview note, survivor, North, 2023 (tiplab "
         "evidence EVQ-0003)"}


def _with_quote() -> ReleaseBundle:
    import dataclasses

    return dataclasses.replace(make_bundle(), quotations=[QUOTE])


def test_a_quotation_is_cited_by_its_id_in_a_paragraph_of_its_own() -> None:
    b = _with_quote()
    assert check_narrative("Survivors told us how it began.\n\n[[quote:EVQ-0003]]\n", b) == []
    # numbers inside the quotation are the speaker's words, not typed figures
    [p] = check_narrative("[[quote:EVQ-0009]]", b)
    assert "names no quotation" in p.message
    assert "EVQ-0003" in p.message
    [p] = check_narrative("As one survivor said, [[quote:EVQ-0003]].", b)
    assert "a paragraph of its own" in p.message
    [p] = check_narrative("[[quote:EVQ-0003]]", make_bundle())  # no quotation in the bundle
    assert "quotations from notes whose speakers agreed to be quoted: none" in p.message


def test_a_quotation_appears_with_its_reference_in_html_and_word() -> None:
    import docx

    b = _with_quote()
    narrative = {"introduction": "What survivors told us.\n\n[[quote:EVQ-0003]]"}
    html = unescape(render(b, kind="brief", fmt="html", narrative=narrative).decode())
    block = re.search(r'<figure class="quote">(.*?)</figure>', html, re.S)
    assert block is not None
    assert QUOTE["text"] in block.group(1)
    assert QUOTE["reference"] in block.group(1)
    doc = docx.Document(io.BytesIO(render(b, kind="brief", fmt="docx", narrative=narrative)))
    quoted = [p for p in doc.paragraphs if p.style is not None and p.style.name == "Quote"]
    assert [p.text for p in quoted] == [f"“{QUOTE['text']}”"]
    # consent withdrawn: the quotation is no longer in the bundle and is left out
    html = render(make_bundle(), kind="brief", fmt="html",
                  narrative={"introduction": "What survivors told us."}).decode()
    assert 'class="quote"' not in html


def test_quotations_are_checked_in_the_bundle() -> None:
    import dataclasses

    with pytest.raises(ReportError, match="non-empty 'id', 'text' and 'reference'"):
        dataclasses.replace(make_bundle(), quotations=[{"id": "EVQ-1", "text": ""}])
    with pytest.raises(ReportError, match="EVQ-0003 appear more than once"):
        dataclasses.replace(make_bundle(), quotations=[QUOTE, QUOTE])
