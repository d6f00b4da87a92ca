"""Measure the coding suggestions on the labelled set (see README.md).

    .venv/bin/python tests/results/qualitative/measure.py              # learning-curve table
    .venv/bin/python tests/results/qualitative/measure.py --per-code   # with per-code F1
    .venv/bin/python tests/results/qualitative/measure.py --calibrate  # choose the zero-shot
                                                                       # slope/offset and C

The learning curve draws 0, 50 and 200 training sentences from the ``pool`` split (3 seeds:
0, 1, 2) and scores FL01-FL11 on the ``test`` split, overall and by source (vignettes,
simulated). ``--calibrate`` looks at the ``pool`` split only: the zero-shot offset is the
cosine with the best macro-F1 at confidence 0.5, the slope a logistic fit of the labels on
the cosine; C is chosen by training on 200 pool sentences and scoring the rest of the pool.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tiplab.qualitative import suggest as S
from tiplab.qualitative.codebook import Codebook, default_codebook
from tiplab.qualitative.embed import Embedder
from tiplab.qualitative.evaluate import (
    EvalResult,
    LabelledRow,
    _MemoEmbedder,
    learning_curve,
    read_labelled,
    restrict,
    score,
)

HERE = Path(__file__).resolve().parent
SEEDS = (0, 1, 2)
SIZES = (0, 50, 200)


def fl_codebook() -> Codebook:
    return restrict(default_codebook(), group="forced_labour")


def curves(rows: list[LabelledRow], emb: Embedder, test_source: str | None = None,
           seeds: Sequence[int] = SEEDS, sizes: Sequence[int] = SIZES
           ) -> dict[tuple[str, int], list[EvalResult]]:
    cb = fl_codebook()
    pool = [r.example for r in rows if r.split == "pool"]
    test = [r.example for r in rows if r.split == "test"
            and (test_source is None or r.source == test_source)]
    memo = _MemoEmbedder(emb)
    out: dict[tuple[str, int], list[EvalResult]] = {}
    for seed in seeds:
        for res in learning_curve(pool, test, cb, embedder=memo, sizes=sizes, seed=seed):
            label = "zero-shot" if res.n_train == 0 and res.method != "keywords" else res.method
            out.setdefault((label, res.n_train), []).append(res)
    return out


def table(results: dict[tuple[str, int], list[EvalResult]], per_code: bool) -> str:
    codes = fl_codebook().keys()
    head = "| method | human-coded examples | macro-F1 (mean of 3 seeds) | min-max |"
    lines = [head, "|---|---:|---:|---|"]
    for (label, n), rs in results.items():
        m = [r.macro_f1 for r in rs]
        lines.append(f"| {label} | {n if label != 'keywords' else '-'} | {np.mean(m):.3f} | "
                     f"{min(m):.3f}-{max(m):.3f} |")
    if per_code:
        lines += ["", "| method | n | " + " | ".join(codes) + " |",
                  "|---|---:|" + "---:|" * len(codes)]
        for (label, n), rs in results.items():
            f1 = [np.mean([next(c.f1 for c in r.per_code if c.code == k) for r in rs])
                  for k in codes]
            lines.append(f"| {label} | {n} | " + " | ".join(f"{v:.2f}" for v in f1) + " |")
        support = {c.code: c.support for c in next(iter(results.values()))[0].per_code}
        lines.append("| test support | | " + " | ".join(str(support[k]) for k in codes) + " |")
    return "\n".join(lines)


def calibrate(rows: list[LabelledRow], emb: Embedder) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression

    cb = fl_codebook()
    codes = cb.keys()
    pool = [r for r in rows if r.split == "pool"]
    memo = _MemoEmbedder(emb)
    X = memo.embed([r.text for r in pool])
    protos, owner = S._prototypes(cb, memo)
    cos = S.max_cosines(X, protos, owner, len(codes))
    Y = np.array([[k in r.codes for k in codes] for r in pool])
    gold = [r.codes for r in pool]
    best = (-1.0, 0.0)
    for off in np.round(np.arange(0.20, 0.70, 0.0125), 4):
        pred = [frozenset(k for j, k in enumerate(codes) if cos[i, j] >= off)
                for i in range(len(pool))]
        m, _ = score(gold, pred, codes)
        best = max(best, (m, float(off)))
    lr = LogisticRegression(C=1e4).fit(cos.reshape(-1, 1), Y.reshape(-1).astype(int))
    slope = float(lr.coef_[0][0])
    out = {"zero_shot_offset": best[1], "zero_shot_pool_macro_f1": round(best[0], 4),
           "zero_shot_slope": round(slope, 2)}
    ex = [r.example for r in pool]
    for C in (1.0, 3.0, 10.0, 30.0, 100.0, 300.0):
        ms = []
        for seed in SEEDS:
            idx = set(random.Random(seed).sample(range(len(ex)), 200))
            clf = S.train([ex[i] for i in sorted(idx)], cb, embedder=memo, seed=seed, C=C)
            rest = [i for i in range(len(ex)) if i not in idx]
            p = clf.predict_proba(memo.embed([ex[i].text for i in rest]))
            pred = [frozenset(clf.codes[j] for j in np.flatnonzero(p[k] >= 0.5))
                    for k in range(len(rest))]
            ms.append(score([ex[i].codes for i in rest], pred, codes)[0])
        out[f"classifier_C={C:g}_pool_macro_f1"] = round(float(np.mean(ms)), 4)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-code", action="store_true")
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = read_labelled(HERE / "labelled.jsonl")
    emb = Embedder()
    if args.calibrate:
        sys.stdout.write(json.dumps(calibrate(rows, emb), indent=2) + "\n")
        return
    report = {}
    for name, src in (("all test sentences", None), ("vignettes", "vignette"),
                      ("simulated", "simulated")):
        res = curves(rows, emb, src)
        n_test = sum(1 for r in rows if r.split == "test" and (src is None or r.source == src))
        if args.json:
            report[name] = {f"{k[0]}@{k[1]}": [r.as_dict() for r in v] for k, v in res.items()}
        else:
            sys.stdout.write(f"\n### Test split: {name} ({n_test} sentences)\n\n"
                             + table(res, args.per_code) + "\n")
    if args.json:
        sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
