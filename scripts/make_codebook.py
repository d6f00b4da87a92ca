"""Write the codebook shipped with tiplab from the reference and the themes below.

Reads ``../shared/reference/ilo_indicators.yaml`` (the 11 ILO indicators of forced labour with
their meaning and text cues; the ILO-European Commission operational indicators with their
strength per profile) and writes ``src/tiplab/qualitative/data/codebook.yaml`` with the themes
written for tiplab (vulnerabilities, recruitment, barriers to justice, service gaps). The
YAML is package data: the reference file is not available when tiplab runs. Run it again
when the reference or the themes change::

    .venv/bin/python scripts/make_codebook.py

The result is validated by :func:`tiplab.qualitative.codebook.load_codebook` before it is
written, so a duplicate key or a bad strength never reaches the package.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "reference" / "ilo_indicators.yaml"
TARGET = ROOT / "src" / "tiplab" / "qualitative" / "data" / "codebook.yaml"
NAME = "tiplab codebook: ILO indicators and themes"
VERSION = "1"
STRENGTH = {"S": "strong", "M": "medium", "W": "weak"}
#: the profile whose strength fills ``strength`` (the others are in ``strengths``)
MAIN_PROFILE = "adult_labour"
THEME_SOURCE = "tiplab themes (written for tiplab, issue 21)"

# Themes written for tiplab: key, label, description, cue phrases (English). Cue phrases are
# heuristics for the keyword baseline and for human coders, not validated instruments.
THEMES: dict[str, list[tuple[str, str, str, list[str]]]] = {
    "vulnerability": [
        ("VU.DEBT", "Poverty or debt before recruitment",
         "The person was poor, unemployed or in debt before being recruited, which made a risky "
         "offer hard to refuse.",
         ["no money", "we were poor", "in debt", "lost my job", "could not pay the rent",
          "loan shark"]),
        ("VU.STATUS", "Irregular migration status",
         "The person had no valid visa, residence or work permit, or feared losing it, and so "
         "depended on others.",
         ["no papers", "undocumented", "visa expired", "overstayed", "no residence permit",
          "asylum refused"]),
        ("VU.FAMILY", "Family breakdown or violence",
         "Violence, abandonment, the death of a parent or a family conflict pushed the person "
         "out of home or left them without support.",
         ["my parents divorced", "ran away from home", "my father beat", "kicked out",
          "my mother died", "violence at home"]),
        ("VU.DISABILITY", "Disability or illness",
         "A physical, learning or mental-health disability, or a serious illness, that the "
         "exploiters took advantage of.",
         ["learning disability", "mental health", "disabled", "illness", "could not read",
          "needed medicine"]),
        ("VU.ADDICTION", "Addiction",
         "Dependence on drugs or alcohol, used to recruit or control the person.",
         ["addicted", "drugs", "alcohol", "paid in drugs", "heroin", "crack"]),
        ("VU.CARE", "Childhood in care",
         "The person grew up in state care, an orphanage or foster care, or left care without "
         "support.",
         ["children's home", "orphanage", "foster care", "in care", "care leaver",
          "left the institution"]),
        ("VU.HOMELESS", "Homelessness",
         "The person had nowhere to live when recruited, or slept rough.",
         ["homeless", "slept on the street", "nowhere to live", "sleeping rough", "night shelter"]),
        ("VU.MINOR", "Minor at the time",
         "The person was under 18 when recruited or exploited.",
         ["i was 15", "i was 16", "i was 17", "still a child", "under 18", "at school"]),
        ("VU.ISOLATION", "Social isolation and language",
         "No friends or family nearby, no knowledge of the local language or of where to get "
         "help.",
         ["did not speak the language", "knew nobody", "alone in the country",
          "no friends here", "didn't know where to go"]),
        ("VU.DISCRIMINATION", "Discrimination or marginalised group",
         "Belonging to a group that faces discrimination (ethnic minority, LGBTQI+, caste, "
         "Roma), which limited options or protection.",
         ["because i am roma", "because i am gay", "minority", "discriminated",
          "nobody would hire us"]),
    ],
    "recruitment": [
        ("RE.ONLINE", "Online advertisement or social media",
         "The first contact was an advertisement or a message online: a job site, social "
         "media, a messaging app or a dating app.",
         ["advert on facebook", "saw an ad", "online advert", "instagram", "whatsapp group",
          "job website", "tiktok"]),
        ("RE.FRIEND", "Friend, relative or acquaintance",
         "Someone the person knew and trusted - a friend, neighbour or relative - made the "
         "offer or the introduction.",
         ["my cousin", "a friend told me", "my aunt", "neighbour", "someone from my village",
          "my uncle"]),
        ("RE.AGENCY", "Job or travel agency",
         "A recruitment, employment or travel agency, licensed or not, arranged the job and the "
         "journey, often for a fee.",
         ["job agency", "recruitment agency", "the agent", "travel agency", "agency fee",
          "employment office"]),
        ("RE.LOVERBOY", "Romantic partner (loverboy)",
         "A boyfriend or partner won the person's trust and love, then pushed them into "
         "exploitation.",
         ["my boyfriend", "he said he loved me", "loverboy", "lover boy", "we were going to marry",
          "he was my partner"]),
        ("RE.DEBT_OFFER", "Offer of a loan or paid travel",
         "The recruiter paid for the travel, the documents or a loan up front, to be paid back "
         "from future earnings.",
         ["paid for my ticket", "lent me the money", "pay it back from my wages",
          "they paid for the visa", "advance on my salary"]),
        ("RE.FAMILY_SOLD", "Sold or sent by family",
         "The family sent, gave or sold the person to the exploiters, or arranged a marriage.",
         ["my parents sent me", "my uncle sold me", "my family arranged", "they sold me",
          "married me off"]),
        ("RE.ABDUCTION", "Abduction or force",
         "The person was taken by force, kidnapped or drugged.",
         ["kidnapped", "taken by force", "pushed into a car", "drugged", "abducted"]),
        ("RE.STUDY", "Offer of study, au pair or modelling",
         "A promise of study, an au pair placement, a scholarship, modelling or a sports career.",
         ["au pair", "scholarship", "modelling", "study abroad", "football academy",
          "language course"]),
        ("RE.MARRIAGE", "Marriage offer or broker",
         "An offer of marriage or a marriage broker was the way in.",
         ["marriage broker", "promised to marry me", "arranged marriage", "bride"]),
    ],
    "barriers": [
        ("BJ.DEPORTATION", "Fear of deportation",
         "The person did not go to the authorities for fear of being detained or sent home.",
         ["afraid of being deported", "send me back", "detention centre", "immigration would",
          "scared of deportation"]),
        ("BJ.REPRISALS", "Fear of traffickers' reprisals",
         "Fear that the traffickers would hurt the person or their family at home if they "
         "spoke.",
         ["they know where my family lives", "afraid they would hurt", "they would kill",
          "revenge", "scared of them"]),
        ("BJ.POLICE_DISTRUST", "Distrust of police",
         "Distrust of the police or the courts: corruption, bad past experience, or police "
         "seen as on the exploiters' side.",
         ["police are corrupt", "did not trust the police", "police would not believe",
          "the police knew them", "police treated me like a criminal"]),
        ("BJ.LANGUAGE", "Language barrier",
         "The person could not explain what happened because no one spoke their language.",
         ["no interpreter", "could not explain", "didn't speak english", "nobody understood me"]),
        ("BJ.NO_DOCUMENTS", "No identity documents",
         "Without a passport or ID the person could not report, prove who they were or access "
         "help.",
         ["no passport", "no id", "could not prove who i was", "documents were taken"]),
        ("BJ.NOT_VICTIM", "Did not see self as a victim",
         "The person saw the situation as bad work, bad luck or their own fault, not as a crime "
         "against them.",
         ["i thought it was normal", "it was my fault", "i agreed to it", "just a bad job",
          "i didn't know it was a crime"]),
        ("BJ.SHAME", "Shame or stigma",
         "Shame, stigma or fear of what family and community would think stopped the person "
         "from speaking.",
         ["ashamed", "my family would find out", "stigma", "dishonour", "people would talk"]),
        ("BJ.JUJU", "Oath or ritual",
         "A juju oath, a curse or another ritual bound the person to silence.",
         ["juju", "oath", "curse", "ritual", "swore"]),
        ("BJ.PROCESS", "Long or hostile proceedings",
         "The investigation or trial was slow, retraumatising, or the person was treated as "
         "an offender.",
         ["the trial took years", "had to tell it again and again", "charged with",
          "case was dropped", "cross-examined"]),
    ],
    "service_gaps": [
        ("SG.SHELTER", "No shelter place",
         "No safe accommodation was available, or only for too short a time.",
         ["no shelter", "shelter was full", "no place to stay", "had to leave the shelter",
          "waiting list"]),
        ("SG.INTERPRETER", "No interpreter",
         "Services had no interpreter in the person's language, or used a relative or the "
         "exploiter to interpret.",
         ["no interpreter", "my boss translated", "nobody spoke my language",
          "interpreter by phone"]),
        ("SG.LEGAL_AID", "No legal aid",
         "No lawyer or legal advice on residence, compensation or the criminal case.",
         ["no lawyer", "could not afford a lawyer", "nobody explained my rights",
          "no legal advice"]),
        ("SG.PSYCH", "No psychological support",
         "No counselling or trauma care, or a long wait for it.",
         ["no counselling", "no psychologist", "nightmares and no help", "no therapy",
          "mental health support"]),
        ("SG.DELAY", "Delays",
         "Long waits for identification, a residence decision, benefits or services.",
         ["waited months", "still waiting", "decision took", "delay",
          "reasonable grounds decision"]),
        ("SG.HEALTH", "No health care",
         "No access to a doctor, medicines or sexual and reproductive health care.",
         ["no doctor", "no medical care", "could not see a doctor", "no medicine"]),
        ("SG.IDENTIFICATION", "Not identified or referred",
         "Officials met the person but did not recognise the signs or refer them to support.",
         ["nobody asked", "the inspector did not", "police came but", "not referred",
          "they arrested me instead"]),
        ("SG.REINTEGRATION", "No help to rebuild a life",
         "No work permit, training, money or help returning home safely after exploitation.",
         ["no work permit", "no money to start", "nothing after the shelter",
          "return home alone", "no training"]),
        ("SG.CHILD", "No child-specific support",
         "No guardian, child-protection or age-appropriate service for a child victim.",
         ["no guardian", "treated as an adult", "age assessment", "social services did not"]),
    ],
}


def _op_key(source_id: str) -> str:
    """``D1-family-reunification`` -> ``OP.D1.FAMILY_REUNIFICATION``."""
    dim, _, rest = source_id.partition("-")
    return f"OP.{dim}.{rest.upper().replace('-', '_')}"


def _short(label: str) -> str:
    """A dimension's label without its parenthesis."""
    return label.split(" (")[0].strip()


def build(ref: dict[str, Any]) -> dict[str, Any]:
    codes: list[dict[str, Any]] = []
    for item in ref["forced_labour_indicators"]["items"]:
        codes.append({"key": item["id"], "label": item["name"], "group": "forced_labour",
                      "description": item["meaning"], "cues": list(item["text_cues"]),
                      "strength": None, "strengths": {}, "related": [],
                      "source": item["source"]})
    for dim in ref["operational_indicators"]["dimensions"]:
        for ind in dim["indicators"]:
            strengths = {p: STRENGTH[s] for p, s in ind["strength"].items() if s}
            codes.append({
                "key": _op_key(ind["id"]), "label": ind["label"], "group": "operational",
                "description": f"{_short(dim['label'])}: {ind['label']}. Asked as: "
                               f"{ind['screening_question']}",
                "cues": list(ind.get("text_cues") or []),
                "strength": strengths.get(MAIN_PROFILE),
                "strengths": strengths, "related": list(ind.get("ilo11") or []),
                "source": f"{ind['source']}, indicator {ind['id']}"})
    for group, themes in THEMES.items():
        for key, label, description, cues in themes:
            codes.append({"key": key, "label": label, "group": group,
                          "description": description, "cues": cues, "strength": None,
                          "strengths": {}, "related": [], "source": THEME_SOURCE})
    return {"name": NAME, "version": VERSION,
            "source": (f"written by scripts/make_codebook.py from "
                       f"shared/reference/ilo_indicators.yaml (meta.version "
                       f"{ref['meta']['version']}) and tiplab's themes; 'strength' is the "
                       f"{MAIN_PROFILE} profile's"),
            "codes": codes}


def main() -> int:
    sys.path.insert(0, str(ROOT / "src"))
    from tiplab.qualitative.codebook import load_codebook

    ref = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    doc = build(ref)
    text = ("# Written by scripts/make_codebook.py; do not edit by hand (see data/README.md).\n"
            + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100))
    book = load_codebook(text)  # validate before writing
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    counts = {g: len(c) for g, c in book.groups().items()}
    print(f"{TARGET.relative_to(ROOT)}: {len(book.codes)} codes {counts}, "
          f"hash {book.content_hash()[:12]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
