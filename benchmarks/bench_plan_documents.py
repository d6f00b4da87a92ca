"""Plan documents: time to render a large National Action Plan as HTML, PDF and Word.

Usage: .venv/bin/python benchmarks/bench_plan_documents.py [--measures 200] [--repeats 3]
       [--seed 7] [--json] [--out DIR]

Builds (seeded) a plan of ``--measures`` measures under 4 pillars and 40 objectives, each with
budget lines for the 4 years of the plan (2025-2028), 2 library indicators with a baseline and
yearly targets, 1 evidence citation, milestones, risks and assumptions, and a register of
agreements, as a plan document (a dict) read by ``plan_from_dict`` (so it is validated like
any file). Then times ``tiplab.policy.documents.plan_html``, ``plan_pdf`` (WeasyPrint) and
``plan_docx`` (python-docx): the median of ``--repeats`` runs, wall and CPU seconds of this
process, with the size of each document and the number of PDF pages. ``--out`` also writes
the three documents there.

Target: the PDF of the 200-measure plan in under 10 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tiplab.policy.documents import plan_docx, plan_html, plan_pdf
from tiplab.policy.indicators import library
from tiplab.policy.plan import (
    EVIDENCE_KINDS,
    FUNDING_SOURCES,
    MEASURE_STATUSES,
    MEASURE_TYPES,
    Plan,
    plan_from_dict,
)

PILLARS = ("prevention", "protection", "prosecution", "partnership")
YEARS = (2025, 2026, 2027, 2028)
LEADS = ("Ministry of Justice", "National Police", "Labour Inspectorate", "Shelter NGO",
         "Ministry of Social Affairs", "National Rapporteur's Office", "Ministry of Labour",
         "Public Prosecution Service", "Border Guard", "Ministry of Education")
GROUPS = ("migrant workers", "children", "adult victims", "police officers", "judges",
          "labour inspectors", "asylum seekers", "students")
WORDS = ("identify", "refer", "protect", "train", "inspect", "prosecute", "monitor", "fund",
         "coordinate", "prevent", "support", "investigate", "evaluate", "publish", "reform")


def sentence(rng: random.Random, n: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(n))
    return text[0].upper() + text[1:]


def targets(rng: random.Random, direction: str, baseline: float) -> dict[int, float]:
    out, value = {}, baseline
    for y in YEARS:
        step = rng.randint(1, 20)
        value = value - step if direction == "lower_is_better" else value + step
        out[y] = max(value, 0) if direction == "lower_is_better" else value
    return out


def plan_document(measures: int = 200, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    lib = library()
    by_pillar = {p: lib.for_pillar(p) for p in PILLARS}
    agreements = [{"id": f"ag-{i}", "title": f"Cooperation agreement {i}",
                   "kind": "bilateral", "partners": [f"Country {i}"],
                   "scope": ["mla", "jit"], "status": "in_force", "signed": "2024-05-01"}
                  for i in range(10)]
    objectives = []
    per_objective = max(1, measures // 40)
    k = 0
    for oi in range(40):
        pillar = PILLARS[oi % 4]
        obj: dict[str, Any] = {"id": f"O{oi + 1:02d}", "pillar": pillar,
                               "title": sentence(rng, 8), "description": sentence(rng, 25),
                               "measures": []}
        for _ in range(per_objective if oi < 39 else measures - 39 * per_objective):
            k += 1
            inds = []
            for ind in rng.sample(by_pillar[pillar], 2):
                base = float(rng.randint(50, 500))
                inds.append({"indicator": ind.id, "baseline": base, "baseline_year": 2024,
                             "targets": targets(rng, ind.direction, base),
                             "means_of_verification": sentence(rng, 5)})
            budget = [{"year": y, "source": "government",
                       "amount": rng.randint(10, 400) * 1000} for y in YEARS]
            budget.append({"year": rng.choice(YEARS), "source": rng.choice(
                [s for s in FUNDING_SOURCES if s != "government"]),
                "amount": rng.randint(5, 90) * 1000})
            kind = rng.choice([x for x in EVIDENCE_KINDS if x != "other"])
            obj["measures"].append({
                "id": f"M{k:03d}", "title": sentence(rng, 9), "type": rng.choice(
                    list(MEASURE_TYPES)),
                "description": sentence(rng, 40), "lead": rng.choice(LEADS),
                "partners": rng.sample(LEADS, 2), "target_groups": rng.sample(GROUPS, 2),
                "regions": [f"XT-{rng.randint(1, 20):02d}"], "start": "2025-01-01",
                "end": "2028-12-31",
                "milestones": [{"date": f"{y}-06-30", "title": sentence(rng, 5),
                                "done": y == 2025} for y in (2025, 2027)],
                "budget": budget, "indicators": inds,
                "risks": [sentence(rng, 6)], "assumptions": [sentence(rng, 6)],
                "status": rng.choice(list(MEASURE_STATUSES)),
                "evidence": [{"kind": kind, "label": sentence(rng, 6),
                              "value": rng.randint(10, 5000), "unit": "persons",
                              "data_version": "2025-03-01T12:00:00Z",
                              "params": {"unit": "persons", "by": ["region"]},
                              "selector": {"region": f"XT-{rng.randint(1, 20):02d}"},
                              "cited_at": "2025-03-02T09:30:00+00:00"}],
                "agreements": [f"ag-{rng.randint(0, 9)}"] if kind == "route" else [],
            })
        objectives.append(obj)
    return {"id": "bench-nap", "title": "National Action Plan against Trafficking in Human "
                                        "Beings 2025-2028 (benchmark)",
            "country": "Synthetic country (XT)", "period": [YEARS[0], YEARS[-1]],
            "currency": "EUR", "status": "draft", "version": 1,
            "narrative": "\n\n".join(sentence(rng, 60) for _ in range(6)),
            "objectives": objectives, "agreements": agreements}


def pdf_pages(pdf: bytes) -> int:
    """The /Count of the page tree (inflating the compressed object streams)."""
    texts = [pdf]
    for m in re.finditer(rb"stream\r?\n", pdf):
        start = m.end()
        end = pdf.find(b"endstream", start)
        try:
            texts.append(zlib.decompress(pdf[start:end]))
        except zlib.error:
            continue
    counts = [int(x) for t in texts for x in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)",
                                                          t)]
    counts += [int(x) for t in texts for x in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b",
                                                           t)]
    return max(counts, default=0)


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--measures", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--out", type=Path, help="also write the documents to this folder")
    args = ap.parse_args()

    t0 = time.perf_counter()
    plan: Plan = plan_from_dict(plan_document(args.measures, args.seed))
    build = time.perf_counter() - t0
    kw: dict[str, Any] = {"generated_at": "2025-06-01", "data_version": "2025-03-01"}
    load = os.getloadavg()[0]
    plan_pdf(plan_from_dict(plan_document(4, args.seed)), **kw)  # warm up imports and fonts
    results: dict[str, dict[str, float]] = {}
    docs: dict[str, str | bytes] = {}
    for name, fn in (("html", plan_html), ("pdf", plan_pdf), ("docx", plan_docx)):
        wall, cpu, doc = timed(lambda fn=fn: fn(plan, **kw), args.repeats)
        docs[name] = doc
        size = len(doc.encode() if isinstance(doc, str) else doc)
        results[name] = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "bytes": size}
    pdf = docs["pdf"]
    results["pdf"]["pages"] = pdf_pages(pdf) if isinstance(pdf, bytes) else 0
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, doc in docs.items():
            path = args.out / f"plan-{args.measures}.{name}"
            if isinstance(doc, bytes):
                path.write_bytes(doc)
            else:
                path.write_text(doc, encoding="utf-8")
    summary = {"measures": args.measures, "objectives": len(plan.objectives),
               "repeats": args.repeats, "cpus": os.cpu_count(),
               "load_average_before": round(load, 2), "build_plan_s": round(build, 3),
               "results": results, "pdf_target_s": 10.0,
               "pdf_target_met": results["pdf"]["wall_s"] < 10.0}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"plan: {args.measures} measures, {len(plan.objectives)} objectives, 4 pillars, "
          f"built and validated in {build:.2f} s; load average {load:.1f} on "
          f"{os.cpu_count()} CPUs; median of {args.repeats}")
    print("| format | wall s | CPU s | size | pages |")
    print("|---|---:|---:|---:|---:|")
    for name, r in results.items():
        pages = f"{int(r['pages']):,}" if "pages" in r else ""
        print(f"| {name} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {int(r['bytes']):,} | "
              f"{pages} |")
    print(f"PDF target (< 10 s): {'met' if summary['pdf_target_met'] else 'NOT met'}")


if __name__ == "__main__":
    main()
