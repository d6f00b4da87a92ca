"""Recall and precision of ``tiplab.privacy.redact`` on the labelled set, per kind and overall.

    python tests/results/redaction/measure.py [--split dev|heldout|all] [--language] [--errors]

A gold span counts as **masked** when every letter and digit of it lies inside some finding
(of any kind: what matters for the survivor is that it is hidden), and as **typed** when the
findings of its own kind cover it. A finding counts as correct (precision) when it overlaps a
gold span (**masked**), or a gold span of its kind (**typed**). ``--language`` passes each
text's language to ``redact``; by default the language is not given (the usual case for a
free answer). ``--split`` picks the texts the rules were tuned on (``dev``), those written
afterwards and measured once (``heldout``), or all (default). ``--errors`` lists the misses
and the findings that overlap no gold span.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tiplab.privacy.redact import KINDS, Finding, redact

LABELLED = Path(__file__).with_name("labelled.jsonl")


@dataclass
class Tally:
    gold: int = 0
    masked: int = 0
    typed: int = 0
    found: int = 0
    found_ok: int = 0
    found_typed: int = 0
    misses: list[str] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 3) if b else None
        return {"gold": self.gold, "recall_masked": ratio(self.masked, self.gold),
                "recall_typed": ratio(self.typed, self.gold), "found": self.found,
                "precision_masked": ratio(self.found_ok, self.found),
                "precision_typed": ratio(self.found_typed, self.found)}


def _covered(text: str, start: int, end: int, findings: list[Finding]) -> bool:
    return all(any(f.start <= i < f.end for f in findings)
               for i in range(start, end) if text[i].isalnum())


def load(path: Path = LABELLED, split: str = "all") -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if split in ("all", r["split"])]


def measure(rows: list[dict[str, Any]], *, use_language: bool = False) -> dict[str, Any]:
    """Per-kind and overall tallies, the texts without gold that got a finding, the errors."""
    tallies = {k: Tally() for k in (*KINDS, "overall")}
    negatives_hit: list[str] = []
    stray: list[str] = []
    for row in rows:
        text = row["text"]
        result = redact(text, language=row["language"] if use_language else None)
        findings = list(result.findings)
        for span in row["spans"]:
            for key in (span["kind"], "overall"):
                t = tallies[key]
                t.gold += 1
                masked = _covered(text, span["start"], span["end"], findings)
                same = [f for f in findings if f.kind == span["kind"]]
                t.masked += masked
                t.typed += _covered(text, span["start"], span["end"], same)
                if not masked and key != "overall":
                    t.misses.append(f"{row['id']}: {span['kind']} {span['text']!r} -> "
                                    f"{result.text!r}")
        for f in findings:
            overlaps = [s for s in row["spans"] if s["start"] < f.end and f.start < s["end"]]
            for key in (f.kind, "overall"):
                t = tallies[key]
                t.found += 1
                t.found_ok += bool(overlaps)
                t.found_typed += any(s["kind"] == f.kind for s in overlaps)
            if not overlaps:
                stray.append(f"{row['id']}: {f.kind} {f.text!r} ({f.source}) in {text!r}")
        if not row["spans"] and findings:
            negatives_hit.append(row["id"])
    return {"kinds": {k: t.row() for k, t in tallies.items()},
            "texts": len(rows), "negatives": sum(1 for r in rows if not r["spans"]),
            "negatives_with_findings": negatives_hit,
            "misses": [m for t in tallies.values() for m in t.misses], "stray": stray}


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "heldout", "all"), default="all")
    parser.add_argument("--language", action="store_true", help="pass each text's language")
    parser.add_argument("--errors", action="store_true", help="list misses and stray findings")
    args = parser.parse_args()
    report = measure(load(split=args.split), use_language=args.language)
    print(f"{args.split}: {report['texts']} texts ({report['negatives']} without identifying "
          f"details), "
          f"language {'given' if args.language else 'not given'}")
    print(f"{'kind':<10}{'gold':>6}{'recall':>9}{'typed':>8}{'found':>7}{'precision':>11}"
          f"{'typed':>8}")
    for kind, r in report["kinds"].items():
        print(f"{kind:<10}{r['gold']:>6}{_fmt(r['recall_masked']):>9}"
              f"{_fmt(r['recall_typed']):>8}{r['found']:>7}{_fmt(r['precision_masked']):>11}"
              f"{_fmt(r['precision_typed']):>8}")
    hit = report["negatives_with_findings"]
    print(f"texts without identifying details that got a finding: {len(hit)} of "
          f"{report['negatives']}")
    if args.errors:
        print("\nmisses:", *report["misses"], sep="\n  ")
        print("\nfindings overlapping no gold span:", *report["stray"], sep="\n  ")


if __name__ == "__main__":
    main()
