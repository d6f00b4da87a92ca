"""How well the suggestions agree with human codes: per-code F1 and learning curves.

The coding unit is a sentence; a method predicts the set of codes whose confidence reaches
the threshold (0.5 by default), and is scored per code against the human set (precision,
recall, F1) and by macro-F1, the plain mean of the per-code F1 over the codes that occur in
the gold labels. :func:`learning_curve` trains on 0, 50, 200... examples drawn from a pool
and scores on a held-out test set, with the keyword baseline beside it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tiplab.errors import TiplabError
from tiplab.qualitative.codebook import Codebook
from tiplab.qualitative.embed import ModelInfo
from tiplab.qualitative.suggest import (
    Example,
    Suggester,
    SuggestSettings,
    TextEmbedder,
    train,
)

__all__ = [
    "CodeScore",
    "EvalResult",
    "EvaluationError",
    "LabelledRow",
    "learning_curve",
    "load_labelled",
    "read_labelled",
    "restrict",
    "score",
]


class EvaluationError(TiplabError):
    """An evaluation set cannot be read or does not fit the codebook."""


@dataclass(frozen=True)
class CodeScore:
    """One code's agreement with the human codes (``support`` = gold positives)."""

    code: str
    support: int
    precision: float
    recall: float
    f1: float
    predicted: int = 0


@dataclass(frozen=True)
class EvalResult:
    """One method at one training size."""

    method: str
    n_train: int
    macro_f1: float
    per_code: tuple[CodeScore, ...]
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "n_train": self.n_train,
                "macro_f1": round(self.macro_f1, 4),
                "per_code": {c.code: {"support": c.support, "predicted": c.predicted,
                                      "precision": round(c.precision, 4),
                                      "recall": round(c.recall, 4), "f1": round(c.f1, 4)}
                             for c in self.per_code},
                "params": self.params}


def score(gold: Sequence[frozenset[str]], predicted: Sequence[frozenset[str]],
          codes: Sequence[str]) -> tuple[float, tuple[CodeScore, ...]]:
    """Per-code precision, recall and F1, and their macro-F1.

    Parameters
    ----------
    gold, predicted : sequences of sets of code keys, one per unit, aligned
    codes : the codes to score

    Returns
    -------
    (macro_f1, per_code)
        Precision is 0 when a code is never predicted, recall 0 when it never occurs
        (scikit-learn's ``zero_division=0``). Macro-F1 averages the codes with at least one
        gold positive (a code absent from the gold labels is listed but not averaged); it
        is ``nan`` when no code occurs.
    """
    if len(gold) != len(predicted):
        raise EvaluationError(f"{len(gold)} gold units but {len(predicted)} predictions")
    out = []
    for c in codes:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if c in g and c in p)
        n_gold = sum(1 for g in gold if c in g)
        n_pred = sum(1 for p in predicted if c in p)
        prec = tp / n_pred if n_pred else 0.0
        rec = tp / n_gold if n_gold else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out.append(CodeScore(c, n_gold, prec, rec, f1, n_pred))
    present = [s.f1 for s in out if s.support > 0]
    macro = float(np.mean(present)) if present else float("nan")
    return macro, tuple(out)


@dataclass(frozen=True)
class LabelledRow:
    """One line of an evaluation set."""

    id: str
    split: str
    source: str
    text: str
    codes: frozenset[str]

    @property
    def example(self) -> Example:
        return Example(self.text, self.codes)


def read_labelled(path: Path) -> list[LabelledRow]:
    """The rows of a JSONL evaluation set (``id``, ``split``, ``source``, ``text``,
    ``codes``); :class:`EvaluationError` naming the line when one is malformed."""
    rows = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise EvaluationError(f"cannot read {path}: {e}") from e
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            codes = d["codes"]
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise ValueError("codes must be a list of code keys")
            text = d["text"]
            if not isinstance(text, str) or not text.strip():
                raise ValueError("empty text")
            rows.append(LabelledRow(str(d.get("id", n)), str(d.get("split", "")),
                                    str(d.get("source", "")), text, frozenset(codes)))
        except (ValueError, KeyError, TypeError) as e:
            raise EvaluationError(f"{path}, line {n}: {e}; each line is a JSON object with "
                                  "'text' and 'codes'") from e
    return rows


def load_labelled(path: Path, split: str | None = None) -> list[Example]:
    """The examples of a JSONL evaluation set, optionally of one split (``pool``/``test``)."""
    return [r.example for r in read_labelled(path) if split is None or r.split == split]


class _MemoEmbedder:
    """Embeds each distinct text once (a learning curve reuses the same sentences)."""

    def __init__(self, inner: TextEmbedder) -> None:
        self.inner = inner
        self.memo: dict[str, np.ndarray] = {}

    @property
    def info(self) -> ModelInfo:
        return self.inner.info

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.memo))
        if missing:
            for t, v in zip(missing, self.inner.embed(missing), strict=True):
                self.memo[t] = v
        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        return np.stack([self.memo[t] for t in texts])


def _predict(suggester: Suggester, vectors: np.ndarray | None,
             texts: Sequence[str]) -> list[frozenset[str]]:
    conf = (suggester.scores(texts) if vectors is None
            else suggester.scores_for_vectors(vectors))
    thr = suggester.settings.threshold
    return [frozenset(suggester.codes[j] for j in np.flatnonzero(row >= thr))
            for row in conf]


def learning_curve(train_pool: Sequence[Example], test: Sequence[Example],
                   codebook: Codebook, *, embedder: TextEmbedder | None,
                   sizes: Sequence[int] = (0, 50, 200), seed: int = 0,
                   threshold: float = 0.5, min_positives: int | None = None
                   ) -> list[EvalResult]:
    """Macro-F1 on ``test`` after 0, 50, 200... human-coded examples, and the keyword row.

    Parameters
    ----------
    train_pool : sequence of Example
        Coded sentences to draw training examples from (``sizes`` at most its length).
    test : sequence of Example
        Held-out coded sentences.
    codebook : Codebook
        The codes scored (and suggested).
    embedder : Embedder or None
        None gives the keyword row only.
    sizes : sequence of int
        Training sizes; 0 is zero-shot, others the classifier (``auto``: trained codes with
        at least ``min_positives`` positives, zero-shot for the rest).
    seed : int
        Which examples are drawn (``random.Random(seed).sample``) and the classifier seed.
    threshold : float
        Confidence at which a code counts as predicted.

    Returns
    -------
    list of EvalResult
        The keyword baseline first, then one row per size.
    """
    codes = codebook.keys()
    gold = [e.codes & set(codes) for e in test]
    texts = [e.text for e in test]
    settings = SuggestSettings(threshold=threshold, seed=seed,
                               min_positives=(SuggestSettings.min_positives
                                              if min_positives is None else min_positives))
    kw = Suggester(codebook, settings=SuggestSettings(method="keywords", threshold=threshold))
    macro, per = score(gold, _predict(kw, None, texts), codes)
    out = [EvalResult("keywords", 0, macro, per, {"method": "keywords"})]
    if embedder is None:
        return out
    memo = _MemoEmbedder(embedder)
    vectors = memo.embed(texts)
    for n in sizes:
        if n > len(train_pool):
            raise EvaluationError(f"training size {n} exceeds the pool ({len(train_pool)} "
                                  "examples)")
        if n == 0:
            s = Suggester(codebook, embedder=memo,
                          settings=SuggestSettings(method="zero-shot", threshold=threshold))
        else:
            drawn = random.Random(seed).sample(list(train_pool), n)
            clf = train(drawn, codebook, embedder=memo, seed=seed)
            s = Suggester(codebook, embedder=memo, classifier=clf, settings=settings)
        macro, per = score(gold, _predict(s, vectors, texts), codes)
        params = s.params
        params["seed"] = seed
        out.append(EvalResult(s.method, n, macro, per, params))
    return out


def restrict(codebook: Codebook, keys: Sequence[str] | None = None, *,
             group: str | None = None) -> Codebook:
    """The codebook with only ``keys`` (or only the codes of ``group``), same name and
    version marked as a subset (its content hash differs from the whole codebook's)."""
    if keys is None and group is None:
        raise EvaluationError("give the keys or the group to keep")
    want = set(keys or ())
    codes = tuple(c for c in codebook.codes
                  if c.key in want or (group is not None and c.group == group))
    if not codes:
        raise EvaluationError(f"no code of codebook {codebook.name!r} matches")
    label = group if group is not None else ",".join(sorted(want))
    return Codebook(name=f"{codebook.name} [{label}]", version=codebook.version, codes=codes,
                    source=codebook.source)
