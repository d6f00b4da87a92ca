"""Existence and identifiability of (extended) maximum likelihood estimates.

Chan, Silverman & Vincent (2021, JASA 116:1297), after Fienberg & Rinaldo (2012, Ann.
Statist. 40:996). A model's interaction terms θ with no observed case on all their lists
(``N*_θ = 0``) get the extended estimate ``-inf``: their cells are removed and the term is
not fitted. On the reduced problem two checks are made:

* existence: a table with the observed sufficient statistics and strictly positive entries
  in every remaining cell exists (a linear programme, solved with HiGHS);
* identifiability: the reduced design matrix has full column rank.

The return code is ``[MLE does not exist] + 2 * [not identifiable]`` (0 = may be fitted).

Speed-up (exact, not a heuristic): the MLE exists if and only if no direction ``d`` has
``A d <= 0`` on every cell, ``= 0`` on the cells with positive counts and ``!= 0``
somewhere (Haberman 1974). When the rows of ``A`` for the positive cells already have the
rank of ``A`` every such ``d`` gives ``A d = 0``, so the MLE exists and the linear programme
is skipped. Results depend only on the model and on which cells are positive, so they are
cached on that key.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tiplab.estimation.table import CaptureTable
from tiplab.estimation.terms import IntArray, all_pairs, contains, popcount, sort_terms

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

LP_TOL = 1e-8

CHECK_MESSAGES = {
    0: "ok",
    1: "MLE does not exist",
    2: "not identifiable",
    3: "MLE does not exist and not identifiable",
}


@dataclass(frozen=True)
class Reduction:
    """The reduced problem of a model on a table (cells and terms left after -inf terms)."""

    terms: tuple[int, ...]  # all interaction terms of the model, sorted
    neginf: tuple[int, ...]  # terms with N* = 0 (extended estimate -inf)
    fitted_terms: tuple[int, ...]  # terms left in the GLM
    kept: BoolArray  # cells left in the GLM


@dataclass(frozen=True)
class CheckResult:
    """Outcome of :func:`check_model`."""

    code: int
    reduction: Reduction
    lp_value: float | None = None  # optimum s of the LP, None when skipped (exact shortcut)
    rank_deficiency: int = 0
    rank: int = 0

    @property
    def ok(self) -> bool:
        """True when the model may be fitted."""
        return self.code == 0

    @property
    def message(self) -> str:
        """Plain-words meaning of the code."""
        return CHECK_MESSAGES[self.code]


def design_matrix(patterns: IntArray, t: int, terms: Sequence[int]) -> FloatArray:
    """Intercept, one column per list, one per interaction term: entry 1 iff θ ⊆ ω."""
    cols = [1 << i for i in range(t)] + list(terms)
    return np.column_stack(
        [np.ones(patterns.size), contains(patterns, cols).astype(np.float64)])


def reduce_model(
    patterns: IntArray, counts: FloatArray, t: int, terms: Iterable[int]
) -> Reduction:
    """Find the -inf terms (N*_θ = 0) and the cells they remove."""
    st = tuple(sort_terms(terms, t))
    if not st:
        return Reduction((), (), (), np.ones(patterns.size, dtype=bool))
    c = contains(patterns, st)
    nstar = counts @ c
    zero = nstar <= 0
    neginf = tuple(th for th, z in zip(st, zero, strict=True) if z)
    kept: BoolArray = (
        np.asarray(~c[:, zero].any(axis=1)) if neginf else np.ones(patterns.size, dtype=bool))
    fitted = tuple(th for th, z in zip(st, zero, strict=True) if not z)
    return Reduction(st, neginf, fitted, kept)


def _lp_existence(A: FloatArray, y: FloatArray) -> float:
    """Optimum ``s`` of: max s s.t. A'x = A'y, x_ω >= s, s >= 0 (x = z + s, z >= 0)."""
    from scipy.optimize import linprog  # imported here: scipy.optimize is slow to load

    T = A.T @ y
    n = A.shape[0]
    M = np.column_stack([A.T, A.T.sum(axis=1)])
    c = np.zeros(n + 1)
    c[-1] = -1.0
    res = linprog(c, A_eq=M, b_eq=T, bounds=(0, None), method="highs")
    if res.status != 0:
        return 0.0
    return float(-res.fun)


class ModelChecker:
    """Checks models on tables of one shape, caching on (model, positive cells).

    One instance is shared by a whole model-selection run with its bootstrap, where the
    same pattern of zero cells recurs across replicates.
    """

    def __init__(self, patterns: IntArray, t: int) -> None:
        self.patterns = patterns
        self.t = t
        self._cache: dict[tuple[frozenset[int], bytes], CheckResult] = {}
        # per model: sorted terms and their cells; per (model, -inf terms): reduced design
        self._terms: dict[frozenset[int], tuple[tuple[int, ...], FloatArray]] = {}
        self._reduced: dict[tuple[frozenset[int], bytes], tuple[Reduction, FloatArray, int]] = {}
        self.n_lp = 0
        self.n_checks = 0

    def check(self, counts: FloatArray, terms: Iterable[int]) -> CheckResult:
        """Return code and reduction for a model (see module docstring)."""
        fz = terms if isinstance(terms, frozenset) else frozenset(terms)
        key = (fz, np.packbits(counts > 0).tobytes())
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        self.n_checks += 1
        red = reduce_model(self.patterns, counts, self.t, fz)
        pats = self.patterns[red.kept]
        y = counts[red.kept]
        A = design_matrix(pats, self.t, red.fitted_terms)
        rank = int(np.linalg.matrix_rank(A))
        deficiency = A.shape[1] - rank
        pos = y > 0
        lp_value: float | None = None
        if pos.all() or int(np.linalg.matrix_rank(A[pos])) == rank:
            exists = True
        else:
            self.n_lp += 1
            lp_value = _lp_existence(A, y)
            exists = lp_value > LP_TOL
        code = (0 if exists else 1) + (2 if deficiency > 0 else 0)
        out = CheckResult(code, red, lp_value, deficiency, rank)
        self._cache[key] = out
        return out

    def check_many(self, counts: FloatArray, terms: Iterable[int]) -> list[CheckResult]:
        """:meth:`check` of one model on every row of ``counts`` (B, cells).

        Same results and cache as :meth:`check`; the rank tests of the rows not yet cached
        are done together (one stacked SVD per reduced design), which is what makes the
        bootstrap fast.
        """
        fz = terms if isinstance(terms, frozenset) else frozenset(terms)
        packed = np.packbits(counts > 0, axis=1)
        out: list[CheckResult | None] = [None] * counts.shape[0]
        todo: dict[bytes, list[int]] = {}
        for b in range(counts.shape[0]):
            kb = packed[b].tobytes()
            hit = self._cache.get((fz, kb))
            if hit is not None:
                out[b] = hit
            else:
                todo.setdefault(kb, []).append(b)
        if todo:
            firsts = [rows[0] for rows in todo.values()]
            for b, res in zip(firsts, self._check_new(counts[firsts], fz), strict=True):
                self._cache[(fz, packed[b].tobytes())] = res
                for r in todo[packed[b].tobytes()]:
                    out[r] = res
        return [r for r in out if r is not None]

    def _model_cells(self, fz: frozenset[int]) -> tuple[tuple[int, ...], FloatArray]:
        hit = self._terms.get(fz)
        if hit is None:
            st = tuple(sort_terms(fz, self.t))
            hit = (st, contains(self.patterns, st).astype(np.float64))
            self._terms[fz] = hit
        return hit

    def _check_new(self, counts: FloatArray, fz: frozenset[int]) -> list[CheckResult]:
        """Check rows with distinct positive-cell patterns (none cached)."""
        st, cells = self._model_cells(fz)
        zero = (counts @ cells <= 0) if st else np.zeros((counts.shape[0], 0), dtype=bool)
        groups: dict[bytes, list[int]] = {}
        for b in range(counts.shape[0]):
            groups.setdefault(zero[b].tobytes(), []).append(b)
        out: list[CheckResult | None] = [None] * counts.shape[0]
        for zkey, rows in groups.items():
            red, A, rank = self._reduction(fz, st, cells, zero[rows[0]], zkey)
            deficiency = A.shape[1] - rank
            pos = counts[np.asarray(rows)][:, red.kept] > 0
            npos = pos.sum(axis=1)
            need = np.flatnonzero(~pos.all(axis=1))
            full_rank = np.ones(len(rows), dtype=bool)
            for i in need[npos[need] == 0]:  # nothing observed: scalar path
                out[rows[i]] = self.check(counts[rows[i]], fz)
            need = need[npos[need] > 0]
            if need.size:
                # zero rows instead of dropped rows: same singular values; numpy's
                # matrix_rank tolerance uses the number of rows kept
                sv = np.linalg.svd(A[None, :, :] * pos[need][:, :, None], compute_uv=False)
                tol = sv.max(axis=1) * np.maximum(npos[need], A.shape[1]) * np.finfo(float).eps
                full_rank[need] = np.sum(sv > tol[:, None], axis=1) == rank
            for i, b in enumerate(rows):
                if out[b] is not None:
                    continue
                self.n_checks += 1
                lp_value: float | None = None
                exists = True
                if not full_rank[i]:
                    self.n_lp += 1
                    lp_value = _lp_existence(A, counts[b][red.kept])
                    exists = lp_value > LP_TOL
                code = (0 if exists else 1) + (2 if deficiency > 0 else 0)
                out[b] = CheckResult(code, red, lp_value, deficiency, rank)
        return [r for r in out if r is not None]

    def _reduction(
        self,
        fz: frozenset[int],
        st: tuple[int, ...],
        cells: FloatArray,
        zero: BoolArray,
        zkey: bytes,
    ) -> tuple[Reduction, FloatArray, int]:
        hit = self._reduced.get((fz, zkey))
        if hit is None:
            neginf = tuple(th for th, z in zip(st, zero, strict=True) if z)
            kept: BoolArray = np.ones(self.patterns.size, dtype=bool)
            if neginf:
                kept = np.asarray(~(cells[:, zero] > 0).any(axis=1), dtype=bool)
            fitted = tuple(th for th, z in zip(st, zero, strict=True) if not z)
            A = design_matrix(self.patterns[kept], self.t, fitted)
            hit = (Reduction(st, neginf, fitted, kept), A, int(np.linalg.matrix_rank(A)))
            self._reduced[(fz, zkey)] = hit
        return hit


def check_model(table: CaptureTable, terms: Iterable[int], use_shortcut: bool = True) -> int:
    """Return code of the existence/identifiability check of a model on a table.

    Parameters
    ----------
    table : CaptureTable
    terms : iterable of int
        Interaction terms (bit masks); main effects and intercept are implicit.
    use_shortcut : bool
        If False, always solve the Fienberg-Rinaldo linear programme (used to test the
        shortcut).

    Returns
    -------
    int
        0 ok, 1 MLE does not exist, 2 not identifiable, 3 both.
    """
    if use_shortcut:
        return ModelChecker(table.patterns, table.t).check(table.counts, terms).code
    red = reduce_model(table.patterns, table.counts, table.t, terms)
    A = design_matrix(table.patterns[red.kept], table.t, red.fitted_terms)
    deficiency = A.shape[1] - int(np.linalg.matrix_rank(A))
    exists = _lp_existence(A, table.counts[red.kept]) > LP_TOL
    return (0 if exists else 1) + (2 if deficiency > 0 else 0)


def count_triples(table: CaptureTable) -> int:
    """Number of triples of lists all of whose three pairs overlap.

    If it is 0, the model with all two-list terms is not identifiable.
    """
    ov = np.zeros((table.t, table.t), dtype=bool)
    for i, j in itertools.combinations(range(table.t), 2):
        ov[i, j] = ov[j, i] = table.nstar([(1 << i) | (1 << j)])[0] > 0
    return sum(
        1 for i, j, k in itertools.combinations(range(table.t), 3)
        if ov[i, j] and ov[i, k] and ov[j, k])


@dataclass
class CheckAllResult:
    """Outcome of :func:`check_all_models`."""

    n_pairs: int
    n_nonoverlapping: int
    n_top_level: int
    failing_top_level: list[tuple[frozenset[int], int]] = field(default_factory=list)
    # for each failing top-level model: minimal sets of overlapping pairs whose removal
    # makes it pass
    minimal_removals: list[list[frozenset[int]]] = field(default_factory=list)
    n_checks: int = 0
    n_lp: int = 0

    @property
    def all_ok(self) -> bool:
        """True when every two-list model passes both checks."""
        return not self.failing_top_level


def check_all_models(
    table: CaptureTable, max_branch: int = 100_000, use_shortcut: bool = True
) -> CheckAllResult:
    """Check every model with main effects and any set of two-list terms.

    If the extended MLE exists for a model it still exists after removing any overlapping
    pair, so only the ``2^M`` top-level models (all overlapping pairs plus each subset of the
    ``M`` non-overlapping pairs) are checked; for a failing one, a branch search over
    removals of overlapping pairs (never visiting supersets of a removal already found to
    pass) finds the minimal removals (Chan, Silverman & Vincent 2021, §2.7).

    Exact shortcut (``use_shortcut``): every top-level model fits the same terms (the
    overlapping pairs) on cells that include every positive cell (a positive cell contains
    no non-overlapping pair). If the design of those terms restricted to the positive cells
    already has full column rank, each top-level reduced design has full column rank
    (identifiable) and the same rank on its positive cells (existence, as in
    :class:`ModelChecker`), so all ``2^M`` pass without being enumerated. New Orleans (8
    lists, 2^18 top-level models) is decided this way; ``use_shortcut=False`` enumerates.
    """
    pairs = all_pairs(table.t)
    nstar = table.nstar(pairs)
    over = [p for p, v in zip(pairs, nstar, strict=True) if v > 0]
    non = [p for p, v in zip(pairs, nstar, strict=True) if v == 0]
    checker = ModelChecker(table.patterns, table.t)
    out = CheckAllResult(len(pairs), len(non), 1 << len(non))
    if use_shortcut:
        A_pos = design_matrix(table.patterns[table.counts > 0], table.t, over)
        if int(np.linalg.matrix_rank(A_pos)) == A_pos.shape[1]:
            out.n_checks = 1
            return out
    for r in range(len(non) + 1):
        for sub in itertools.combinations(non, r):
            model = frozenset(over) | frozenset(sub)
            res = checker.check(table.counts, model)
            if res.ok:
                continue
            out.failing_top_level.append((model, res.code))
            found: list[frozenset[int]] = []
            visited = 0
            for k in range(1, len(over) + 1):
                for rem in itertools.combinations(over, k):
                    rs = frozenset(rem)
                    if any(f <= rs for f in found):
                        continue
                    visited += 1
                    if visited > max_branch:
                        break
                    if checker.check(table.counts, model - rs).ok:
                        found.append(rs)
            out.minimal_removals.append(found)
    out.n_checks = checker.n_checks
    out.n_lp = checker.n_lp
    return out


def order_of(term: int) -> int:
    """Order (number of lists) of a term."""
    return popcount(term)
