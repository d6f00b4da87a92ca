"""Redaction of interview notes: the rules of :mod:`tiplab.privacy.redact` plus a name model.

The rules (patterns, cue phrases, gazetteers) find phone numbers, addresses, places,
documents and most names. Notes add a difficulty the short answers the rules were tuned on
do not have: long third-person paragraphs full of names that no gazetteer holds, opening
sentences without a cue ("Rustam drove us"). The **name model** is a logistic regression over
the embedded MiniLM model's contextual token states (:meth:`Embedder.token_vectors`) and four
surface features of the word (capitalised, all capitals, first word of a sentence, a word
piece inside a longer word; MiniLM's tokenizer lower-cases, so its states cannot see case).
It marks word pieces that belong to a person's name. A word whose pieces score at or above
the model's threshold becomes a ``name`` finding with ``source="model"``; model and rule
findings are merged (their union: an overlap becomes one span).

The model is English only: for a note in another language (given, or detected by
:func:`tiplab.qualitative.segment.detect_language`) the rules alone run. Its weights are
package data (``data/name_model.json``, written by ``scripts/train_redaction_model.py``) with
the sha256 of its training data, of the embedding model and of the weights, checked on load.
``tests/results/qualitative_redaction/README.md`` gives its measured effect.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from tiplab.privacy.redact import MASKS, Finding, Redaction, find, mask
from tiplab.privacy.redact import _merge as merge_findings
from tiplab.qualitative.embed import Embedder, ModelUnavailable, default_embedder
from tiplab.qualitative.segment import detect_language, sentences

__all__ = ["NameModel", "load_name_model", "model_findings", "redact_note", "word_features"]

#: the languages the rules know (:mod:`tiplab.privacy.redact`); others get no language hint
_RULE_LANGUAGES = ("en", "fr", "es")
#: word pieces per window: the embedder keeps 128 with [CLS] and [SEP]
_WINDOW_CHARS = 350
_WORD = re.compile(r"[^\W_]+")
_MASK = re.compile("|".join(re.escape(m) for m in MASKS.values()))
EXTRA_FEATURES = ("capitalised", "all_caps", "sentence_initial", "inner_piece")


@dataclass(frozen=True)
class NameModel:
    """Weights of the name model and where they came from."""

    coef: np.ndarray          # (DIM + len(EXTRA_FEATURES),)
    intercept: float
    threshold: float
    meta: dict[str, Any]

    def proba(self, x: np.ndarray) -> np.ndarray:
        """P(piece belongs to a name) for each row of features ``x``."""
        z = x @ self.coef + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))), dtype=np.float64)

    @staticmethod
    def weights_sha256(coef: Iterable[float], intercept: float, threshold: float) -> str:
        """sha256 of the canonical JSON of the weights (rounded as stored)."""
        blob = json.dumps({"coef": [round(float(c), 8) for c in coef],
                           "intercept": round(float(intercept), 8),
                           "threshold": round(float(threshold), 6)},
                          sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def load_name_model() -> NameModel:
    """The shipped name model; :class:`ModelUnavailable` if missing or changed."""
    try:
        raw = resources.files("tiplab.qualitative").joinpath("data", "name_model.json") \
            .read_text(encoding="utf-8")
        data = json.loads(raw)
        coef = [float(c) for c in data["coef"]]
        intercept = float(data["intercept"])
        threshold = float(data["threshold"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelUnavailable(f"the redaction name model (tiplab/qualitative/data/"
                               f"name_model.json) is missing or unreadable ({e}): reinstall "
                               "tiplab or run scripts/train_redaction_model.py") from e
    got = NameModel.weights_sha256(coef, intercept, threshold)
    if got != data.get("weights_sha256"):
        raise ModelUnavailable(f"the redaction name model's weights have sha256 {got}, "
                               f"expected {data.get('weights_sha256')}: the file was changed; "
                               "run scripts/train_redaction_model.py again")
    meta = {k: v for k, v in data.items() if k not in ("coef", "intercept")}
    return NameModel(np.asarray(coef, dtype=np.float32), intercept, threshold, meta)


def _windows(text: str) -> list[tuple[int, int]]:
    """Sentences of ``text``, long ones cut at a space, so each fits the embedder."""
    out: list[tuple[int, int]] = []
    for s in sentences(text):
        start = s.start
        while s.end - start > _WINDOW_CHARS:
            cut = text.rfind(" ", start + _WINDOW_CHARS // 2, start + _WINDOW_CHARS)
            cut = cut if cut > start else start + _WINDOW_CHARS
            out.append((start, cut))
            start = cut
        out.append((start, s.end))
    return out


def word_features(text: str, embedder: Embedder) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Word pieces of ``text`` (character spans) and their features for the name model.

    Each row is the piece's MiniLM state (computed within its sentence) followed by
    :data:`EXTRA_FEATURES` of the word the piece belongs to. Pieces of punctuation are left
    out.
    """
    spans: list[tuple[int, int]] = []
    rows: list[np.ndarray] = []
    extra: list[list[float]] = []
    for w_start, w_end in _windows(text):
        piece_spans, states = embedder.token_vectors(text[w_start:w_end])
        first_word = True
        for (a, b), state in zip(piece_spans, states, strict=True):
            a, b = a + w_start, b + w_start
            if not any(ch.isalnum() for ch in text[a:b]):
                continue
            m = _word_at(text, a)
            word = text[m[0]:m[1]]
            spans.append((a, b))
            rows.append(state)
            extra.append([float(word[:1].isupper()),
                          float(len(word) > 1 and word.isupper()),
                          float(first_word or _starts_sentence(text, m[0])),
                          float(a > m[0])])
            first_word = False
    if not rows:
        return [], np.zeros((0, 0), dtype=np.float32)
    x = np.hstack([np.asarray(rows, dtype=np.float32), np.asarray(extra, dtype=np.float32)])
    return spans, x


def _word_at(text: str, pos: int) -> tuple[int, int]:
    start = pos
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    end = pos
    while end < len(text) and text[end].isalnum():
        end += 1
    return start, max(end, pos + 1)


def _starts_sentence(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \t\"'“‘«(")
    return not before or before[-1] in ".!?\n:;…"


def model_findings(text: str, *, embedder: Embedder | None = None,
                   model: NameModel | None = None) -> list[Finding]:
    """Names the model finds in ``text`` (English), one finding per run of name words.

    A word is a name when the highest probability of its pieces reaches the model's
    threshold; words next to each other (a space, a hyphen or an apostrophe apart) join.
    Masks already in the text ("[NAME]") are left alone.
    """
    embedder = embedder or default_embedder()
    model = model or load_name_model()
    spans, x = word_features(text, embedder)
    if not spans:
        return []
    p = model.proba(x)
    words: dict[tuple[int, int], float] = {}
    for (a, _b), prob in zip(spans, p, strict=True):
        w = _word_at(text, a)
        words[w] = max(words.get(w, 0.0), float(prob))
    masks = [(m.start(), m.end()) for m in _MASK.finditer(text)]
    hits = sorted(w for w, prob in words.items() if prob >= model.threshold
                  and not any(s < w[1] and w[0] < e for s, e in masks))
    out: list[Finding] = []
    for a, b in hits:
        if out and re.fullmatch(r" ?|-|['’]", text[out[-1].end:a]):
            prev = out.pop()
            a = prev.start
        out.append(Finding(a, b, "name", text[a:b], "model"))
    return out


def redact_note(text: str, *, names: Iterable[str] = (), places: Iterable[str] = (),
                language: str | None = None, use_model: bool = True) -> Redaction:
    """``text`` with names, phone numbers, addresses, places, documents (...) masked.

    Parameters
    ----------
    text : str
        A note or transcript.
    names, places : iterable of str
        Extra gazetteer entries (a case's known names; the workspace's region names).
    language : str, optional
        The note's language (ISO 639-1), when known; otherwise it is detected. The rules get
        it when it is English, French or Spanish; the name model runs only on English.
    use_model : bool
        Add the name model's findings (English notes only). Needs the ``ai`` extra.

    Returns
    -------
    Redaction
        The masked text and the merged findings (rule findings keep their ``source``; names
        found only by the model have ``source="model"``).

    Raises
    ------
    ModelUnavailable
        When ``use_model`` is true, the note is English and the model is not installed.
    """
    lang = (language or "").strip().lower()[:2] or None
    rule_lang = lang if lang in _RULE_LANGUAGES else None
    findings = find(text, names=names, places=places, language=rule_lang)
    if use_model:
        english = lang == "en" if lang else detect_language(text).code == "en"
        if english:
            other = [f for f in findings if f.kind != "name"]
            extra = [m for m in model_findings(text)  # a place or phone stays what it is
                     if not any(f.start <= m.start and m.end <= f.end for f in other)]
            findings = merge_findings(text, [*findings, *extra])
    return mask(text, findings)
