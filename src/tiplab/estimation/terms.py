"""Capture patterns and log-linear terms as bit masks.

A pattern (capture history) and a term (set of lists) are both stored as an ``int`` whose
bit ``i`` is set when list ``i`` (0-based, in the column order of the table) is included.
A term ``θ`` is *contained* in a pattern ``ω`` when ``ω & θ == θ``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from tiplab.estimation.errors import EstimationError

IntArray = npt.NDArray[np.int64]


def popcount(mask: int) -> int:
    """Number of lists in a pattern or term."""
    return int(mask).bit_count()


def members(mask: int) -> list[int]:
    """0-based indices of the lists in ``mask``, ascending."""
    return [i for i in range(int(mask).bit_length()) if mask >> i & 1]


def ordered_patterns(t: int) -> IntArray:
    """All ``2**t - 1`` observable patterns in SparseMSE order.

    Ordered by number of lists, then lexicographically on the 0/1 vector with list 1 varying
    slowest and 1 before 0.
    """
    pats = list(range(1, 1 << t))
    pats.sort(key=lambda p: (popcount(p), [-(p >> i & 1) for i in range(t)]))
    return np.asarray(pats, dtype=np.int64)


def pattern_matrix(patterns: Sequence[int] | IntArray, t: int) -> npt.NDArray[np.int8]:
    """0/1 matrix (cells x lists) of the patterns."""
    p = np.asarray(patterns, dtype=np.int64)
    return ((p[:, None] >> np.arange(t)[None, :]) & 1).astype(np.int8)


def contains(patterns: IntArray, terms: Sequence[int] | IntArray) -> npt.NDArray[np.bool_]:
    """Boolean matrix (cells x terms): does the pattern contain every list of the term?"""
    tt = np.asarray(terms, dtype=np.int64)
    out: npt.NDArray[np.bool_] = (patterns[:, None] & tt[None, :]) == tt[None, :]
    return out


def all_pairs(t: int) -> list[int]:
    """Pairs in SparseMSE order (1,2),(1,3),...,(1,t),(2,3),...; this order breaks ties."""
    return [(1 << i) | (1 << j) for i, j in itertools.combinations(range(t), 2)]


def term_label(term: int, names: Sequence[str] | None = None, sep: str = ":") -> str:
    """``"LA:NG"`` with names, ``"12"`` without (1-based list numbers, as in R packages)."""
    idx = members(term)
    if names is None:
        return "".join(str(i + 1) for i in idx) if len(idx) < 10 else ",".join(
            str(i + 1) for i in idx)
    return sep.join(names[i] for i in idx)


def sort_terms(terms: Iterable[int], t: int) -> list[int]:
    """Terms ordered by order, then like pairs (list 1 slowest, lower index first)."""
    return sorted(set(terms), key=lambda m: (popcount(m), members(m)))


def hierarchical_closure(terms: Iterable[int]) -> frozenset[int]:
    """All interaction subsets (order >= 2) implied by the given generators."""
    out: set[int] = set()
    for g in terms:
        idx = members(g)
        for k in range(2, len(idx) + 1):
            for sub in itertools.combinations(idx, k):
                out.add(sum(1 << i for i in sub))
    return frozenset(out)


def is_hierarchical(terms: Iterable[int]) -> bool:
    """True if every (k-1)-subset (of order >= 2) of each term is also in the model."""
    s = set(terms)
    for m in s:
        idx = members(m)
        if len(idx) > 2:
            for drop in idx:
                if (m & ~(1 << drop)) not in s:
                    return False
    return True


def generators(terms: Iterable[int]) -> list[int]:
    """Maximal terms of a hierarchical model (those with no superset in the model)."""
    s = set(terms)
    return [m for m in s if not any(o != m and o & m == m for o in s)]


def hier_name(terms: Iterable[int], t: int) -> str:
    """MultipleSystemsEstimation-style name, e.g. ``"[12,23]"`` or ``"[12,3]"``."""
    s = set(terms)
    gens = generators(s)
    covered = 0
    for g in gens:
        covered |= g
    gens += [1 << i for i in range(t) if not covered >> i & 1]
    gens.sort(key=lambda m: (-popcount(m), members(m)))
    return "[" + ",".join(term_label(g) for g in gens) + "]"


def parse_model(spec: str, names: Sequence[str]) -> frozenset[int]:
    """Parse a model specification into its set of interaction terms.

    Accepted forms: ``"1*2,2*3"`` / ``"1:2 + 2:3"`` (1-based list numbers), list names
    (``"LA*NG,PF*GO"``), and the hierarchical notation ``"[12,23]"`` / ``"[123,4]"``
    (all subsets implied). An empty string or ``"main"`` means main effects only.
    Pairwise terms are taken as given (not closed); bracket notation is closed.
    """
    t = len(names)
    text = spec.strip()
    if text in ("", "main", "[]"):
        return frozenset()
    if text.startswith("["):
        if not text.endswith("]"):
            raise EstimationError(f"model {spec!r}: a bracket model must end with ']'.")
        gens = []
        for part in text[1:-1].split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or t > 9:
                raise EstimationError(
                    f"model {spec!r}: bracket notation needs digits 1-{min(t, 9)} per list "
                    "(use '1*2,2*3' or list names for more than 9 lists).")
            gens.append(_term_from_tokens(list(part), names, spec))
        return hierarchical_closure(gens)
    out: set[int] = set()
    for part in re.split(r"[,+]", text):
        part = part.strip()
        if not part:
            continue
        toks = [x.strip() for x in re.split(r"[*:]", part)]
        term = _term_from_tokens(toks, names, spec)
        if popcount(term) >= 2:
            out.add(term)
    return frozenset(out)


def _term_from_tokens(toks: list[str], names: Sequence[str], spec: str) -> int:
    t = len(names)
    mask = 0
    for tok in toks:
        if tok in names:
            i = list(names).index(tok)
        elif tok.isdigit() and 1 <= int(tok) <= t:
            i = int(tok) - 1
        else:
            raise EstimationError(
                f"model {spec!r}: unknown list {tok!r}; use 1-{t} or one of "
                f"{', '.join(names)}.")
        mask |= 1 << i
    return mask


def enumerate_hierarchical(t: int, maxorder: int) -> list[frozenset[int]]:
    """Every hierarchical model (all main effects present) with interactions of order
    at most ``maxorder``, excluding the saturated model's ``t``-list term.

    Built level by level: a k-list term may be added only when all its (k-1)-subsets are
    present, so each model is generated exactly once.
    """
    maxorder = min(maxorder, t - 1) if t > 1 else 1
    models: list[frozenset[int]] = [frozenset()]
    for k in range(2, maxorder + 1):
        level_terms = [sum(1 << i for i in c) for c in itertools.combinations(range(t), k)]
        new_models: list[frozenset[int]] = []
        for m in models:
            eligible = [
                th for th in level_terms
                if all((th & ~(1 << d)) in m for d in members(th))
            ] if k > 2 else level_terms
            for r in range(len(eligible) + 1):
                for combo in itertools.combinations(eligible, r):
                    new_models.append(m | frozenset(combo))
        models = new_models
    return models
