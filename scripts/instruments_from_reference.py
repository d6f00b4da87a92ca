"""Write tiplab's legal instruments (package data) from the project's reference checklists.

Usage: .venv/bin/python scripts/instruments_from_reference.py [../shared]

Reads palermo_elements.yaml, coe_eu_obligations.yaml and tvpa_minimum_standards.yaml and
writes one instrument per treaty or statute into src/tiplab/policy/instruments/, in the one
layout ``tiplab.policy.legal.load_instrument`` reads (docs/assessment.md). The reference files
differ in shape; the mapping to levels is:

* Palermo: the file's own levels (core / required / recommended).
* CoE CETS 197 and Directive 2011/36/EU: items of category ``definition`` are core; otherwise
  ``mandatory`` ("shall") and ``possibility`` (must provide the option) are required and
  ``consider`` ("shall consider", "may") is recommended. A Directive item's ``check_items``
  become items of their own, after the item they refine.
* TVPA: minimum standards 1-3 (prohibit, punish) are core; the twelve criteria of standard 4
  are required. Standard 4 itself is assessed through its criteria, and the tier rules and
  "significant efforts" considerations are not standards, so they are left out.

It also writes each country's latest 3P index and TIP tier (policy/ratings/*.csv) for the
harmonisation view. Re-run it when the reference files change, and raise the instrument's
version.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parents[1] / "src" / "tiplab" / "policy" / "instruments"
SCALE = ["yes", "partial", "no", "not_applicable", "unknown"]


def _item(id_: str, label: str, question: str, level: str, article: str,
          why: str = "", note: str = "") -> dict[str, Any]:
    out = {"id": id_, "label": " ".join(label.split()), "question": " ".join(question.split()),
           "level": level, "article": article}
    if why:
        out["why"] = " ".join(why.split())
    if note:
        out["note"] = " ".join(note.split())
    return out


def palermo(ref: dict[str, Any]) -> dict[str, Any]:
    sections = []
    for element in ref["definition"]["elements"]:
        sections.append({"id": f"definition.{element['id']}",
                         "title": f"Definition: {element['label']}",
                         "items": [_item(i["id"], i["label"], i["check"], i["level"], i["source"])
                                   for i in element["items"]]})
    titles = {"consent_and_children": "Consent and children",
              "criminalisation_and_penalties": "Criminalisation and penalties",
              "victim_protection": "Victim protection",
              "prevention_and_cooperation": "Prevention and cooperation"}
    for key, title in titles.items():
        sections.append({"id": key, "title": title,
                         "items": [_item(i["id"], i["label"], i["check"], i["level"], i["source"])
                                   for i in ref[key]]})
    return {"id": "palermo", "version": int(ref["meta"]["version"]),
            "title": "UN Trafficking in Persons Protocol (Palermo Protocol, 2000)",
            "short_title": "Palermo Protocol",
            "source": " ".join(ref["meta"]["instrument"].split()),
            "answer_scale": SCALE, "sections": sections}


def _coe_eu_level(item: dict[str, Any]) -> str:
    if item["category"] == "definition":
        return "core"
    return "recommended" if item["strength"] == "consider" else "required"


def _grouped(items: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    order = ["definition", "prevention", "protection", "prosecution", "partnership",
             "cross_cutting"]
    sections = []
    for category in order:
        chosen = [i for i in items if i["category"] == category]
        if not chosen:
            continue
        out = []
        for i in chosen:
            level = _coe_eu_level(i)
            note = ("Article number to be verified against the consolidated text on EUR-Lex "
                    "before legal use." if i.get("verify_numbering") else "")
            question = i.get("check") or f"Does national law meet this obligation: {i['topic']}?"
            out.append(_item(i["id"], i["topic"], question, level, i["source"],
                             why=i.get("obligation", ""), note=note))
            for sub in i.get("check_items", []):
                out.append(_item(sub["id"], sub["label"], f"{sub['label']}?", level,
                                 sub["source"]))
        sections.append({"id": category, "title": category.replace("_", " ").capitalize(),
                         "items": out})
    return sections


def coe(ref: dict[str, Any]) -> dict[str, Any]:
    return {"id": "coe_cets197", "version": int(ref["meta"]["version"]),
            "title": "Council of Europe Convention on Action against Trafficking in Human "
                     "Beings (CETS No. 197, 2005)",
            "short_title": "CoE Convention",
            "source": ref["meta"]["sources"]["coe"], "answer_scale": SCALE,
            "sections": _grouped(ref["coe_cets197"], "CoE")}


def eu(ref: dict[str, Any]) -> dict[str, Any]:
    return {"id": "eu_directive_2011_36", "version": int(ref["meta"]["version"]),
            "title": "EU Anti-Trafficking Directive 2011/36/EU as amended by "
                     "Directive (EU) 2024/1712",
            "short_title": "EU Directive",
            "source": "; ".join(ref["meta"]["sources"][k] for k in ("eu_base", "eu_amendment")),
            "answer_scale": SCALE, "sections": _grouped(ref["eu_directive_2011_36"], "EU")}


def tvpa(ref: dict[str, Any]) -> dict[str, Any]:
    standards = [_item(i["id"], i["label"], i["rubric_question"], "core", i["source"],
                       why=i["summary"], note=i.get("benchmark_note", ""))
                 for i in ref["minimum_standards"] if i["id"] != "MS4"]
    sections = [{"id": "standards", "title": "Minimum standards 1-3", "items": standards}]
    for pillar in ("prosecution", "protection", "prevention", "partnership"):
        chosen = [i for i in ref["criteria_for_standard_4"] if i.get("pillar") == pillar]
        if chosen:
            sections.append({
                "id": f"criteria.{pillar}",
                "title": f"Standard 4 criteria: {pillar}",
                "items": [_item(i["id"], i["label"],
                                f"Does the government meet this criterion: {i['label']}?",
                                "required", i["source"], why=i["summary"],
                                note=i.get("note", "")) for i in chosen]})
    left = [i["id"] for i in ref["criteria_for_standard_4"]
            if i.get("pillar") not in ("prosecution", "protection", "prevention", "partnership")]
    if left:
        sections.append({"id": "criteria.other", "title": "Standard 4 criteria: other",
                         "items": [_item(i["id"], i["label"],
                                         f"Does the government meet this criterion: "
                                         f"{i['label']}?", "required", i["source"],
                                         why=i["summary"])
                                   for i in ref["criteria_for_standard_4"] if i["id"] in left]})
    return {"id": "tvpa_minimum_standards", "version": int(ref["meta"]["version"]),
            "title": "US Trafficking Victims Protection Act: minimum standards for the "
                     "elimination of trafficking",
            "short_title": "TVPA minimum standards",
            "source": ref["meta"]["statute"], "answer_scale": SCALE, "sections": sections}


def main(reference: Path) -> None:
    def read(name: str) -> dict[str, Any]:
        return yaml.safe_load((reference / name).read_text(encoding="utf-8"))

    coe_eu = read("coe_eu_obligations.yaml")
    written = {"palermo": (palermo(read("palermo_elements.yaml")), "palermo_elements.yaml"),
               "coe_cets197": (coe(coe_eu), "coe_eu_obligations.yaml"),
               "eu_directive_2011_36": (eu(coe_eu), "coe_eu_obligations.yaml"),
               "tvpa_minimum_standards": (tvpa(read("tvpa_minimum_standards.yaml")),
                                          "tvpa_minimum_standards.yaml")}
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (instrument, source) in written.items():
        header = (f"# Written from ../shared/reference/{source} by "
                  "scripts/instruments_from_reference.py; paraphrased, short phrases only.\n"
                  "# Layout: docs/assessment.md (Legal-framework assessment).\n")
        body = yaml.safe_dump(instrument, sort_keys=False, allow_unicode=True, width=100)
        (OUT / f"{name}.yaml").write_text(header + body, encoding="utf-8")
        n = sum(len(s["items"]) for s in instrument["sections"])
        print(f"{name}: {len(instrument['sections'])} sections, {n} items")


def ratings(data: Path) -> None:
    """Each country's latest 3P index and TIP tier, as small CSVs shipped for the
    harmonisation view (the full files stay in ../shared/data)."""
    sys.path.insert(0, str(OUT.parents[2]))
    from tiplab.policy.legal import load_p3_index, load_tip_tiers

    folder = OUT.parent / "ratings"
    folder.mkdir(exist_ok=True)
    for name, found, source in (
            ("p3_latest.csv", load_p3_index(data / "p3_index" / "policy_index.csv"),
             "p3_index/policy_index.csv (Cho, Dreher & Neumayer 3P index, 3-15)"),
            ("tip_latest.csv", load_tip_tiers(data / "tip_tiers" / "tip_tiers_orig.csv"),
             "tip_tiers/tip_tiers_orig.csv (US TIP Report tiers; 2.5 = Tier 2 Watch List)")):
        lines = [f"# latest value per country from ../shared/data/{source}; see its README",
                 "iso,year,value"]
        lines += [f"{iso},{year},{value:g}" for iso, (year, value) in sorted(found.items())]
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{name}: {len(found)} countries")


if __name__ == "__main__":
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else \
        Path(__file__).resolve().parents[2] / "shared"
    main(shared / "reference")
    ratings(shared / "data")
