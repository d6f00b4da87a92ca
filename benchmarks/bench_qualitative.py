"""Coding suggestions and screening: learning curve, embedding throughput, 10,000 texts.

Usage: .venv/bin/python benchmarks/bench_qualitative.py [--part all|curve|embed|screen]
                                                       [--texts 10000] [--sentence-texts 1000]

* ``curve``: macro-F1 over the 11 ILO forced-labour indicators on the ``test`` split of
  ``tests/results/qualitative/labelled.jsonl`` after 0 (zero-shot), 50 and 200 human-coded
  sentences drawn from the ``pool`` split (classifier, ``auto``), beside the keyword baseline;
  mean of seeds 0, 1, 2 (which examples are drawn), per code too.
* ``embed``: sentences per second of ``Embedder.embed`` on the labelled set's sentences, with
  the default threads and with one thread.
* ``screen``: ``tiplab screen`` on a CSV of simulated job advertisements
  (``tiplab_web.screening.adverts``, 40% carry two to five lures), end to end in a fresh
  process (start-up, model load, reading, scoring, writing flags.csv); each text embedded once
  (``--unit text``), and by sentence on a smaller batch.
* ``narratives``: the demo simulation's case narratives (seed 42, 20,000 victims) screened
  by keywords and zero-shot, by text and by sentence, scored against truth/narratives.csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests/results/qualitative/labelled.jsonl"
SEEDS = (0, 1, 2)
SIZES = (0, 50, 200)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def curve() -> None:
    from tiplab.qualitative.codebook import default_codebook
    from tiplab.qualitative.embed import Embedder
    from tiplab.qualitative.evaluate import (
        _MemoEmbedder,
        learning_curve,
        read_labelled,
        restrict,
    )

    cb = restrict(default_codebook(), group="forced_labour")
    rows = read_labelled(LABELLED)
    pool = [r.example for r in rows if r.split == "pool"]
    memo = _MemoEmbedder(Embedder())
    print(f"## Learning curve (pool {len(pool)} sentences; FL01-FL11; threshold 0.5)")
    for name, src in (("all", None), ("vignettes", "vignette"), ("simulated", "simulated")):
        test = [r.example for r in rows if r.split == "test"
                and (src is None or r.source == src)]
        res: dict[tuple[str, int], list] = {}
        for seed in SEEDS:
            for r in learning_curve(pool, test, cb, embedder=memo, sizes=SIZES, seed=seed):
                label = "zero-shot" if r.n_train == 0 and r.method != "keywords" else r.method
                res.setdefault((label, r.n_train), []).append(r)
        print(f"\n### Test split: {name} ({len(test)} sentences)\n")
        print("| method | human-coded examples | macro-F1 (mean of 3 seeds) | min-max |")
        print("|---|---:|---:|---|")
        for (label, n), rs in res.items():
            m = [r.macro_f1 for r in rs]
            shown = "-" if label == "keywords" else str(n)
            print(f"| {label} | {shown} | {np.mean(m):.3f} | {min(m):.3f}-{max(m):.3f} |")
        if name == "all":
            codes = cb.keys()
            print("\n| method | n | " + " | ".join(codes) + " |")
            print("|---|---:|" + "---:|" * len(codes))
            for (label, n), rs in res.items():
                f1 = [np.mean([next(c.f1 for c in r.per_code if c.code == k) for r in rs])
                      for k in codes]
                print(f"| {label} | {n} | " + " | ".join(f"{v:.2f}" for v in f1) + " |")
            first = next(iter(res.values()))[0]
            support = {c.code: c.support for c in first.per_code}
            print("| test support | | " + " | ".join(str(support[k]) for k in codes) + " |")


def embed_speed() -> None:
    from tiplab.qualitative.embed import Embedder
    from tiplab.qualitative.evaluate import read_labelled

    texts = [r.text for r in read_labelled(LABELLED)]
    print(f"\n## Embedding throughput ({len(texts)} sentences, load average {_load()})\n")
    print("| threads | sentences/s (best of 3) |")
    print("|---:|---:|")
    for threads in (None, 1):
        e = Embedder(threads=threads)
        e.embed(texts[:64])
        best = min(_timed(lambda e=e: e.embed(texts)) for _ in range(3))
        print(f"| {e.info.threads} | {len(texts) / best:.0f} |")


def _timed(fn: object) -> float:
    t = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t


def _adverts(n: int, path: Path) -> dict[str, bool]:
    sys.path.insert(0, str(ROOT / "src"))
    from tiplab_web.screening.adverts import generate, to_csv

    ads = generate(n, seed=7)
    path.write_bytes(to_csv(ads))
    return {a.id: a.deceptive for a in ads}


def _run_cli(src: Path, out: Path, unit: str) -> tuple[float, dict]:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tiplab", "screen", str(src), "--out",
                           str(out), "--unit", unit, "--json"], capture_output=True, text=True,
                          check=True, env=os.environ.copy())
    return time.perf_counter() - t, json.loads(proc.stdout)


def _recall(out: Path, truth: dict[str, bool]) -> tuple[float, float]:
    with out.open(encoding="utf-8", newline="") as fh:
        flagged = {r["id"]: r["flagged"] == "yes" for r in csv.DictReader(fh)}
    lure = [flagged[k] for k, d in truth.items() if d]
    plain = [flagged[k] for k, d in truth.items() if not d]
    return float(np.mean(lure)), float(np.mean(plain))


def screen_speed(n: int, n_sentences: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print(f"\n## Screening (load average before: {_load()})\n")
        print("| texts | unit | seconds end to end | texts/s | in-process screening s | "
              "flagged | lure ads flagged | ordinary ads flagged |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|")
        for count, unit in ((n, "text"), (n_sentences, "sentences")):
            src = Path(tmp) / f"ads_{count}.csv"
            truth = _adverts(count, src)
            out = Path(tmp) / f"flags_{unit}.csv"
            secs, rep = _run_cli(src, out, unit)
            lure, plain = _recall(out, truth)
            print(f"| {count:,} | {unit} | {secs:.1f} | {count / secs:.0f} | "
                  f"{rep['seconds']:.1f} | {rep['flagged']:,} | {lure:.1%} | {plain:.1%} |")
        print(f"\n(load average after: {_load()})")


def narratives() -> None:
    """Screen the demo run's case narratives (seed 42) and score the flags against
    truth/narratives.csv, FL01-FL11, per text."""
    from tiplab.qualitative.evaluate import score
    from tiplab.qualitative.screen import default_suggester, read_rows, screen
    from tiplab.simulate import SimulationSettings, simulate

    with tempfile.TemporaryDirectory() as tmp:
        out = simulate(SimulationSettings(seed=42, victims=20_000), Path(tmp) / "run",
                       narratives=True).out_dir
        rows = read_rows(out / "narratives.csv", id_column="source_agency+record_id")
        with (out / "truth" / "narratives.csv").open(encoding="utf-8", newline="") as fh:
            truth = {f"{r['source_agency']}:{r['record_id']}": frozenset(
                c for c in r["codes"].split(";") if c.startswith("FL"))
                for r in csv.DictReader(fh)}
        print(f"\n## Demo case narratives (seed 42, {len(rows):,} texts; FL01-FL11)\n")
        print("| method | unit | seconds | macro-F1 | texts flagged | texts with an indicator |")
        print("|---|---|---:|---:|---:|---:|")
        for method in ("keywords", "zero-shot"):
            sug, _ = default_suggester(method=method)
            for unit in ("text", "sentences"):
                flags, rep = screen(rows, sug, unit=unit)
                gold = [truth[f.id] for f in flags]
                macro, _ = score(gold, [frozenset(f.codes) for f in flags], sug.codes)
                print(f"| {method} | {unit} | {rep.seconds:.1f} | {macro:.3f} | "
                      f"{rep.flagged:,} | {sum(1 for g in gold if g):,} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", default="all",
                    choices=("all", "curve", "embed", "screen", "narratives"))
    ap.add_argument("--texts", type=int, default=10_000)
    ap.add_argument("--sentence-texts", type=int, default=1_000)
    args = ap.parse_args()
    print(f"cores: {os.cpu_count()}, TIPLAB_AI_THREADS={os.environ.get('TIPLAB_AI_THREADS')}")
    if args.part in ("all", "curve"):
        curve()
    if args.part in ("all", "embed"):
        embed_speed()
    if args.part in ("all", "screen"):
        screen_speed(args.texts, args.sentence_texts)
    if args.part in ("all", "narratives"):
        narratives()


if __name__ == "__main__":
    main()
