"""Redaction speed: first call (gazetteers load), then texts of 200 to 20,000 characters.

Usage: .venv/bin/python benchmarks/bench_redact.py [--repeat 200]

The texts are the labelled set's texts (tests/results/redaction/labelled.jsonl) joined with
". " and cut to length, so they hold names, places and numbers at the set's density.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests/results/redaction/labelled.jsonl"


def _cold_start() -> float:
    """Seconds for import + the first redact() in a fresh interpreter (gazetteers load)."""
    code = ("import time; t = time.perf_counter(); from tiplab.privacy.redact import redact; "
            "redact('my name is Amina'); print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=os.environ.copy())
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    from tiplab.privacy.redact import redact

    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    corpus = ". ".join(r["text"] for r in rows)
    print(f"cold start (import + first call): {_cold_start():.2f} s")
    redact(corpus[:2000])
    print("| characters | findings | median ms | ms per 1,000 characters |")
    print("|---:|---:|---:|---:|")
    for size in (200, 2000, 20000):
        text = (corpus * (1 + size // len(corpus)))[:size]
        times = []
        for _ in range(max(5, args.repeat * 2000 // size)):
            t = time.perf_counter()
            result = redact(text)
            times.append(time.perf_counter() - t)
        ms = statistics.median(times) * 1000
        print(f"| {size:,} | {len(result.findings)} | {ms:.2f} | {ms * 1000 / size:.2f} |")


if __name__ == "__main__":
    main()
