"""Evidence brief and annual report: time to render a realistic release bundle.

Usage: .venv/bin/python benchmarks/bench_brief.py [--victims 5000] [--seed 1] [--repeats 3]
       [--out DIR]

Simulates a country (``tiplab.simulate``, seeded) and builds from its truth tables a bundle
such as a release gives: 4 key figures (one suppressed), 6 Vega-Lite charts (Altair), 4
tables of 40 rows, the 30 regions as a map (the simulated country's geometry), a scorecard of
20 indicators, a legal assessment with 10 gaps and a "you said, we did" summary with 8
examples, and a narrative citing the figures with tokens. Then times
``tiplab.reports.brief.render`` for the brief and the annual report as PDF (tagged, the
PDF/UA-1 variant), HTML and Word: the median of ``--repeats`` calls with the chart cache
cleared (every chart and the map drawn again), and, for the PDFs, a first call in a fresh
process (imports, vl-convert's start and geopandas included), as a web worker's first
brief. Baseline in the same run: the same HTML rendered untagged by
``tiplab.policy.documents.html_to_pdf`` (what the plan documents use), so the cost of tagging
shows.

Target: the brief PDF in under 15 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

NARRATIVE = {
    "key_messages": (
        "Agencies identified [[identified]] victims over the period. Multiple systems "
        "estimation puts the number of victims, identified or not, at [[estimated]]: about "
        "[[detection_gap]] were never identified by any agency.\n\n"
        "- Labour exploitation is identified mostly by labour inspectors.\n"
        "- Prosecutions: [[prosecutions]]."),
    "introduction": ("This brief draws on the case records of the police, the labour "
                     "inspectorate, NGO shelters, the hotline, immigration and health "
                     "services, linked so that a victim known to several agencies counts "
                     "once (see section 4)."),
    "identification": ("Between [[estimated.low]] and [[estimated.high]] people were victims "
                       "over [[estimated.period]]; most were never identified."),
    "methods": "Figures follow article 4 of the Protocol; the estimate is described in annex 2.",
}


def _strata(sim: Path) -> list[dict[str, Any]]:
    with (sim / "truth" / "strata.csv").open(encoding="utf-8") as fh:
        return [{**r, "year": int(r["year"]), "n": int(r["n"]), "n_seen": int(r["n_seen"])}
                for r in csv.DictReader(fh)]


def _sum(rows: list[dict[str, Any]], *keys: str, value: str = "n_seen") -> dict[Any, int]:
    out: dict[Any, int] = defaultdict(int)
    for r in rows:
        out[tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]] += r[value]
    return dict(out)


def build_bundle(sim: Path) -> Any:
    import altair as alt
    import pandas as pd

    from tiplab.reports.bundle import BundleChart, BundleTable, KeyFigure, ReleaseBundle

    rows = _strata(sim)
    seen, true = sum(r["n_seen"] for r in rows), sum(r["n"] for r in rows)
    years = sorted({r["year"] for r in rows})
    period = f"{years[0]}–{years[-1]}"
    figures = [
        KeyFigure("identified", "Victims identified (persons)", float(seen), error=9.0,
                  period=period, note="differentially private count, ε=0.5",
                  source="figures:identified"),
        KeyFigure("estimated", "Estimated victims, identified or not", float(true),
                  low=float(round(true * 0.86)), high=float(round(true * 1.19)), period=period,
                  note="multiple systems estimation (log-linear)", source="estimate:mse"),
        KeyFigure("detection_gap", "Victims not identified (estimated)", float(true - seen),
                  low=float(round(true * 0.86) - seen), high=float(round(true * 1.19) - seen),
                  period=period, note="estimated minus identified", source="figures"),
        KeyFigure("prosecutions", "Prosecutions", None, period=str(years[-1]),
                  note="suppressed: fewer than 5 cases in some courts", source="table:courts"),
    ]

    def chart(key: str, title: str, alt_text: str, c: Any, section: str = "") -> Any:
        return BundleChart(key, title, alt_text, c.to_dict(), caption="Counts have DP noise.",
                           source=f"table:{key}", section=section)

    by_year = pd.DataFrame([{"year": str(y), "victims": n}
                            for y, n in sorted(_sum(rows, "year").items())])
    by_form_year = pd.DataFrame([{"year": str(y), "form": f, "victims": n} for (y, f), n in
                                 sorted(_sum(rows, "year", "exploitation_form").items())])
    by_sex_year = pd.DataFrame([{"year": str(y), "sex": s, "victims": n} for (y, s), n in
                                sorted(_sum(rows, "year", "sex").items())])
    by_form = pd.DataFrame([{"form": f, "victims": n}
                            for f, n in _sum(rows, "exploitation_form").items()])
    by_region = pd.DataFrame([{"region": g, "victims": n}
                              for g, n in _sum(rows, "region_of_exploitation").items()])
    w = {"width": 460, "height": 200}
    charts = [
        chart("year", "Victims identified per year", "Line chart of victims identified per "
              "year; the count rises over the period.",
              alt.Chart(by_year).mark_line(point=True).encode(x="year:O", y="victims:Q")
              .properties(**w)),
        chart("form_year", "Victims identified per year, by form", "Line chart per form of "
              "exploitation; labour exploitation grows fastest.",
              alt.Chart(by_form_year).mark_line(point=True)
              .encode(x="year:O", y="victims:Q", color="form:N").properties(**w)),
        chart("sex_year", "Victims identified per year, by sex", "Stacked bars per year by "
              "sex; women and girls are the majority.",
              alt.Chart(by_sex_year).mark_bar().encode(x="year:O", y="victims:Q", color="sex:N")
              .properties(**w), "profiles"),
        chart("form", "Victims by form of exploitation", "Bar chart of the forms of "
              "exploitation; labour and sexual exploitation lead.",
              alt.Chart(by_form).mark_bar().encode(x="victims:Q", y=alt.Y("form:N", sort="-x"))
              .properties(**w), "profiles"),
        chart("region", "Victims by region of exploitation", "Bar chart of the 30 regions "
              "ranked by victims identified.",
              alt.Chart(by_region).mark_bar().encode(x="victims:Q",
                                                     y=alt.Y("region:N", sort="-x"))
              .properties(width=460), "routes"),
        chart("form_sex", "Forms of exploitation by sex", "Grouped bars of forms by sex; men "
              "dominate forced labour.",
              alt.Chart(by_form_year).mark_area().encode(x="year:O", y="victims:Q",
                                                         color="form:N").properties(**w),
              "routes"),
    ]

    def table(key: str, title: str, cols: list[str], data: list[list[Any]],
              section: str = "") -> Any:
        return BundleTable(key, title, cols, data[:40],
                           notes=["Counts have DP noise, ε=0.5; ± shows the 95% error."],
                           source=f"table:{key}", section=section)

    ry = sorted(_sum(rows, "region_of_exploitation", "year").items())
    fy = sorted(_sum(rows, "exploitation_form", "year").items())
    sy = sorted(_sum(rows, "sex", "exploitation_form", "year").items())
    rt = sorted(_sum(rows, "region_of_exploitation", "year", value="n").items())
    tables = [
        table("region_year", "Victims identified by region and year",
              ["Region", "Year", "Victims", "± error"], [[g, y, n, 9] for (g, y), n in ry],
              "identification"),
        table("form_year", "Victims identified by form and year",
              ["Form", "Year", "Victims", "± error"], [[f, y, n, 9] for (f, y), n in fy],
              "routes"),
        table("sex_form_year", "Victims identified by sex, form and year",
              ["Sex", "Form", "Year", "Victims"], [[s, f, y, n] for (s, f, y), n in sy],
              "profiles"),
        table("region_year_all", "Estimated victims by region and year",
              ["Region", "Year", "Estimated"], [[g, y, n] for (g, y), n in rt]),
    ]
    with (sim / "truth" / "regions.csv").open(encoding="utf-8") as fh:
        regions = {r["code"]: float(r["seen_victims"]) for r in csv.DictReader(fh)}
    small = min(regions, key=lambda k: regions[k] or 0)
    regions_out: dict[str, float | None] = {**regions, small: None}
    statuses = ("on_track", "at_risk", "off_track", "no_data", "context")
    return ReleaseBundle(
        release_id="tiplab:XT-2026-0003", version=3,
        title=f"Identified victims of trafficking, {period}", jurisdiction="Xland",
        period=period, data_version="2026-02-14.7", approved_by="Data steward",
        approved_at="2026-03-01T10:15:00+00:00",
        citation=(f"National Rapporteur of Xland (2026). Identified victims of trafficking, "
                  f"{period}. Release tiplab:XT-2026-0003, version 3."),
        privacy="Counts carry differential-privacy noise (ε = 0.5 in all); cells below 5 "
                "are suppressed; microdata are 5-anonymous.",
        figures=figures, tables=tables, charts=charts,
        assessment={"framework": "Council of Europe Convention (CETS 197)", "met": 21,
                    "partly": 9, "not_met": 4,
                    "gaps": [{"ref": f"Art. {10 + i}", "title": f"Obligation {i}",
                              "status": ("partly", "not_met")[i % 2]} for i in range(10)]},
        scorecard={"plan": "National Action Plan 2025–2028",
                   "rows": [{"indicator": f"IND-{i:02d} indicator {i}", "baseline": 100 + i,
                             "target": 150, "latest": 110 + 2 * i,
                             "status": statuses[i % 5]} for i in range(20)],
                   "counts": {s: 4 for s in statuses}},
        you_said_we_did={"consultation": "Draft plan consultation 2025", "contributions": 312,
                         "accepted": 88, "partly": 61, "not_accepted": 163,
                         "examples": [{"said": f"Suggestion {i} from a survivors' group.",
                                       "did": f"Measure PR{i}.1 was changed."}
                                      for i in range(8)]},
        map_regions=regions_out,
        map_geometry=json.loads((sim / "country" / "regions.geojson").read_text("utf-8")))


def _pages(pdf: bytes) -> str:
    """The number of pages, by poppler's pdfinfo (blank when it is not installed)."""
    import re
    import shutil
    import subprocess

    exe = shutil.which("pdfinfo")
    if exe is None:
        return ""
    info = subprocess.run([exe, "-"], input=pdf, capture_output=True, check=True).stdout
    m = re.search(rb"Pages:\s+(\d+)", info)
    return m.group(1).decode() if m else ""


FRESH = """
import json, sys, time
t = time.perf_counter()
from tiplab.reports.brief import render
from tiplab.reports.bundle import ReleaseBundle
with open(sys.argv[1], encoding="utf-8") as fh:
    b = ReleaseBundle.from_dict(json.load(fh))
render(b, kind=sys.argv[2], fmt="pdf", narrative=None)
print(time.perf_counter() - t)
"""


def _fresh_process(bundle: Any, kind: str) -> float:
    """Seconds to import and render the PDF in a new Python process."""
    import subprocess
    import sys

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundle.json"
        path.write_text(json.dumps(bundle.to_dict(), ensure_ascii=False), encoding="utf-8")
        out = subprocess.run([sys.executable, "-c", FRESH, str(path), kind],
                             capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--victims", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="also write the documents here")
    args = ap.parse_args()

    from tiplab.simulate import SimulationSettings, simulate

    with tempfile.TemporaryDirectory() as tmp:
        sim = Path(tmp) / "sim"
        simulate(SimulationSettings(seed=args.seed, victims=args.victims), sim)
        bundle = build_bundle(sim)
    from tiplab.reports import brief

    print(f"bundle: {len(bundle.figures)} figures, {len(bundle.charts)} charts, "
          f"{len(bundle.tables)} tables of {[len(t.rows) for t in bundle.tables]} rows, "
          f"map of {len(bundle.map_regions or {})} regions; "
          f"{len(json.dumps(bundle.to_dict())) / 1024:.0f} KB as JSON")
    rows = []
    for kind in ("brief", "annual"):
        for fmt in ("pdf", "html", "docx"):
            def run(kind: str = kind, fmt: str = fmt) -> bytes:
                return brief.render(bundle, kind=kind, fmt=fmt, narrative=NARRATIVE
                                    if kind == "annual" else
                                    {k: v for k, v in NARRATIVE.items()
                                     if k in brief.SECTIONS["brief"]})
            cold = _fresh_process(bundle, kind) if fmt == "pdf" else float("nan")
            warm = []
            for _ in range(args.repeats):
                brief._vl.cache_clear()
                warm.append(timed(run))
            wall = statistics.median(w[0] for w in warm)
            cpu = statistics.median(w[1] for w in warm)
            data: bytes = warm[-1][2]
            pages = _pages(data) if fmt == "pdf" else ""
            rows.append((kind, fmt, cold, wall, cpu, len(data), pages))
            if args.out:
                args.out.mkdir(parents=True, exist_ok=True)
                (args.out / f"{kind}.{fmt}").write_bytes(data)
    # baseline: the same HTML, untagged, through the plan documents' renderer
    from tiplab.policy.documents import html_to_pdf

    for kind in ("brief", "annual"):
        html = brief.render(bundle, kind=kind, fmt="html").decode("utf-8")
        base = [timed(lambda html=html: html_to_pdf(html)) for _ in range(args.repeats)]
        rows.append((kind, "pdf untagged (html_to_pdf of the same HTML)", float("nan"),
                     statistics.median(b[0] for b in base),
                     statistics.median(b[1] for b in base), len(base[-1][2]), ""))
    print("| document | format | fresh process s | median s | CPU s | size KB | pages |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for kind, fmt, cold_s, wall, cpu, size, pages in rows:
        first = "" if cold_s != cold_s else f"{cold_s:.2f}"
        print(f"| {kind} | {fmt} | {first} | {wall:.2f} | {cpu:.2f} | {size / 1024:.0f} | "
              f"{pages} |")


if __name__ == "__main__":
    main()
