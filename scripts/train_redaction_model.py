"""Train the redaction name model and write ``src/tiplab/qualitative/data/name_model.json``.

Training data: the English texts of the ``dev`` split of
``tests/results/redaction/labelled.jsonl`` and the ``dev`` notes of
``tests/results/qualitative_redaction/labelled.jsonl``. No ``heldout`` text is read. Each word
piece (from :func:`tiplab.qualitative.redact.word_features`: its MiniLM state within its
sentence plus four surface features) is labelled 1 when it overlaps a gold ``name`` span.

A logistic regression (scikit-learn, L2, balanced class weights) is fitted; its C and its
decision threshold are chosen by 5-fold cross-validation over texts (pieces of one text never
on both sides), maximising F2 of the name pieces (recall counts twice as much as precision,
as for the rules: a missed name can expose a survivor). The file records the training data's
sha256, the embedding model's identity and the weights' sha256, which the loader checks::

    .venv/bin/python scripts/train_redaction_model.py [--threads 1]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (ROOT / "tests" / "results" / "redaction" / "labelled.jsonl",
           ROOT / "tests" / "results" / "qualitative_redaction" / "labelled.jsonl")
TARGET = ROOT / "src" / "tiplab" / "qualitative" / "data" / "name_model.json"
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.30, 0.96, 0.05))
FOLDS = 5
SEED = 0


def training_rows() -> list[dict[str, Any]]:
    rows = []
    for path in SOURCES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                if r["split"] == "dev" and r["language"] == "en":
                    rows.append(r)
    return rows


def data_hash(rows: list[dict[str, Any]]) -> str:
    blob = json.dumps([[r["id"], r["text"], r["spans"]] for r in rows], sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def featurise(rows: list[dict[str, Any]], embedder: Any) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    from tiplab.qualitative.redact import word_features

    xs, ys, groups = [], [], []
    for g, r in enumerate(rows):
        spans, x = word_features(r["text"], embedder)
        names = [(s["start"], s["end"]) for s in r["spans"] if s["kind"] == "name"]
        for (a, b), row in zip(spans, x, strict=True):
            xs.append(row)
            ys.append(int(any(s < b and a < e for s, e in names)))
            groups.append(g)
    return np.asarray(xs, dtype=np.float32), np.asarray(ys), np.asarray(groups)


def f_beta(y: np.ndarray, pred: np.ndarray, beta: float = 2.0) -> tuple[float, float, float]:
    tp = int(((pred == 1) & (y == 1)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    b2 = beta * beta
    f = (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0
    return f, p, r


def fit(x: np.ndarray, y: np.ndarray, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", max_iter=5000,
                              random_state=SEED).fit(x, y)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from sklearn.model_selection import GroupKFold

    from tiplab.qualitative.embed import Embedder
    from tiplab.qualitative.redact import EXTRA_FEATURES, NameModel

    rows = training_rows()
    embedder = Embedder(threads=args.threads)
    x, y, groups = featurise(rows, embedder)
    print(f"{len(rows)} texts, {len(y)} word pieces, {int(y.sum())} in names")
    folds = list(GroupKFold(n_splits=FOLDS).split(x, y, groups))
    best: tuple[float, float, float, float, float] = (-1.0, 0.0, 0.0, 0.0, 0.0)
    for c in C_GRID:
        proba = np.zeros(len(y))
        for train, test in folds:
            proba[test] = fit(x[train], y[train], c).predict_proba(x[test])[:, 1]
        for t in THRESHOLDS:
            f, p, r = f_beta(y, (proba >= t).astype(int))
            if f > best[0]:
                best = (f, c, t, p, r)
    f2, c, t, p, r = best
    print(f"cross-validated: C={c} threshold={t} F2={f2:.3f} precision={p:.3f} recall={r:.3f}")
    model = fit(x, y, c)
    coef = [round(float(v), 8) for v in model.coef_[0]]
    intercept = round(float(model.intercept_[0]), 8)
    doc = {
        "model": "logistic regression on MiniLM token states + surface features",
        "features": f"MiniLM token state ({len(coef) - len(EXTRA_FEATURES)} values), then "
                    + ", ".join(EXTRA_FEATURES),
        "n_features": len(coef), "extra_features": list(EXTRA_FEATURES),
        "threshold": t, "C": c, "class_weight": "balanced",
        "cv": {"folds": FOLDS, "f2": round(f2, 4), "precision": round(p, 4),
               "recall": round(r, 4), "unit": "word piece"},
        "training": {"texts": len(rows), "pieces": len(y), "name_pieces": int(y.sum()),
                     "sources": [str(s.relative_to(ROOT)) for s in SOURCES],
                     "split": "dev", "language": "en", "sha256": data_hash(rows)},
        "embedder": embedder.info.as_dict(),
        "written_by": "scripts/train_redaction_model.py",
        "weights_sha256": NameModel.weights_sha256(coef, intercept, t),
        "intercept": intercept, "coef": coef,
    }
    TARGET.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"{TARGET.relative_to(ROOT)}: {TARGET.stat().st_size // 1024} KB, weights sha256 "
          f"{doc['weights_sha256'][:12]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
