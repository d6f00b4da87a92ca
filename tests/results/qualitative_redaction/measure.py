"""Recall and precision of note redaction per kind: the rules alone against rules + name model.

    python tests/results/qualitative_redaction/measure.py [--set notes|short] \
        [--split dev|heldout|all] [--errors]

``--set notes`` (default) reads this folder's ``labelled.jsonl`` (interview-note paragraphs);
``--set short`` the English texts of ``tests/results/redaction/labelled.jsonl``. ``--split``
picks the texts the name model was trained on (``dev``), the others (``heldout``, default),
or all. Counting is that of ``tests/results/redaction/measure.py``: a gold span is
**masked** when every letter and digit of it lies inside some finding (of any kind), **typed**
when findings of its own kind cover it; a finding is correct (precision) when it overlaps a
gold span. The language is not passed (it is detected, as for an uploaded note).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tiplab.privacy.redact import KINDS, Finding, Redaction
from tiplab.qualitative.redact import redact_note

HERE = Path(__file__).parent
SETS = {"notes": HERE / "labelled.jsonl",
        "short": HERE.parent / "redaction" / "labelled.jsonl"}


@dataclass
class Tally:
    gold: int = 0
    masked: int = 0
    typed: int = 0
    found: int = 0
    found_ok: int = 0
    misses: list[str] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 3) if b else None
        return {"gold": self.gold, "recall": ratio(self.masked, self.gold),
                "typed": ratio(self.typed, self.gold), "found": self.found,
                "precision": ratio(self.found_ok, self.found)}


def _covered(text: str, start: int, end: int, findings: list[Finding]) -> bool:
    return all(any(f.start <= i < f.end for f in findings)
               for i in range(start, end) if text[i].isalnum())


def load(which: str = "notes", split: str = "heldout") -> list[dict[str, Any]]:
    lines = SETS[which].read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [r for r in rows if r["language"] == "en" and split in ("all", r["split"])]


def measure(rows: list[dict[str, Any]], redactor: Callable[[str], Redaction]) -> dict[str, Any]:
    """Per-kind and overall tallies, misses and findings that overlap no gold span."""
    tallies = {k: Tally() for k in (*KINDS, "overall")}
    stray: list[str] = []
    negatives_hit = 0
    for row in rows:
        text = row["text"]
        result = redactor(text)
        findings = list(result.findings)
        for span in row["spans"]:
            masked = _covered(text, span["start"], span["end"], findings)
            typed = _covered(text, span["start"], span["end"],
                             [f for f in findings if f.kind == span["kind"]])
            for key in (span["kind"], "overall"):
                t = tallies[key]
                t.gold += 1
                t.masked += masked
                t.typed += typed
            if not masked:
                tallies[span["kind"]].misses.append(f"{row['id']}: {span['kind']} "
                                                    f"{span['text']!r}")
        for f in findings:
            ok = any(s["start"] < f.end and f.start < s["end"] for s in row["spans"])
            for key in (f.kind, "overall"):
                tallies[key].found += 1
                tallies[key].found_ok += ok
            if not ok:
                stray.append(f"{row['id']}: {f.kind} {f.text!r} ({f.source})")
        negatives_hit += bool(not row["spans"] and findings)
    return {"texts": len(rows), "negatives": sum(1 for r in rows if not r["spans"]),
            "negatives_with_findings": negatives_hit,
            "kinds": {k: t.row() for k, t in tallies.items() if t.gold or t.found},
            "misses": [m for t in tallies.values() for m in t.misses], "stray": stray}


def rules(text: str) -> Redaction:
    return redact_note(text, use_model=False)


def rules_and_model(text: str) -> Redaction:
    return redact_note(text, use_model=True)


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=tuple(SETS), default="notes")
    parser.add_argument("--split", choices=("dev", "heldout", "all"), default="heldout")
    parser.add_argument("--errors", action="store_true", help="list misses and stray findings")
    args = parser.parse_args()
    rows = load(args.set, args.split)
    for label, fn in (("rules only", rules), ("rules + model", rules_and_model)):
        report = measure(rows, fn)
        print(f"\n{label} — {args.set}/{args.split}: {report['texts']} texts "
              f"({report['negatives']} without identifying details, "
              f"{report['negatives_with_findings']} of them with a finding)")
        print(f"{'kind':<10}{'gold':>6}{'recall':>9}{'typed':>8}{'found':>7}{'precision':>11}")
        for kind, r in report["kinds"].items():
            print(f"{kind:<10}{r['gold']:>6}{_fmt(r['recall']):>9}{_fmt(r['typed']):>8}"
                  f"{r['found']:>7}{_fmt(r['precision']):>11}")
        if args.errors:
            print("misses:", *report["misses"], sep="\n  ")
            print("findings overlapping no gold span:", *report["stray"], sep="\n  ")


if __name__ == "__main__":
    main()
