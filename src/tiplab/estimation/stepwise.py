"""Forward stepwise selection of two-list terms (Chan, Silverman & Vincent 2021, §3.2).

SparseMSE ``stepwisefit``: start from main effects; at each step compute, for every pair not
yet in the model, the expected overlap ``λ*`` under the current fit and the smaller
one-sided Poisson tail probability of the observed overlap; add the pair with the smallest
p-value (first in pair order on ties) unless it is ``>= pthresh``. Pairs whose addition fails
the existence/identifiability check get p = 1. Greedy, forward only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import pdtr, pdtrc

from tiplab.estimation.checks import CheckResult, ModelChecker, design_matrix
from tiplab.estimation.glm import fit_poisson_batch
from tiplab.estimation.loglinear import ModelFit, fit_model
from tiplab.estimation.terms import IntArray, all_pairs, contains

FloatArray = npt.NDArray[np.float64]

DEFAULT_PTHRESH = 0.02


@dataclass(frozen=True)
class StepwiseResult:
    """Selected fit, the order in which pairs were added and their p-values."""

    fit: ModelFit
    added: tuple[int, ...]
    pvalues: tuple[float, ...]
    zero_overlap_probabilities: dict[int, float]


def poisson_tail_p(observed: FloatArray, lam: FloatArray) -> FloatArray:
    """``min(P(X <= k), P(X >= k))`` for ``X ~ Poisson(λ)`` (not doubled)."""
    k = observed
    lower = pdtr(k, lam)
    upper = np.where(k > 0, pdtrc(k - 1, lam), 1.0)
    lower = np.where(lam > 0, lower, 1.0)
    upper = np.where(lam > 0, upper, np.where(k > 0, 0.0, 1.0))
    out: FloatArray = np.minimum(lower, upper)
    return out


def stepwise_fit(
    patterns: IntArray,
    counts: FloatArray,
    t: int,
    pthresh: float = DEFAULT_PTHRESH,
    checker: ModelChecker | None = None,
    zero_overlap_probs: bool = False,
) -> StepwiseResult:
    """Run the stepwise selection on one table.

    Parameters
    ----------
    patterns, counts, t
        The completed table.
    pthresh : float
        Threshold: stop when the smallest p-value is ``>= pthresh``. 0 gives main effects;
        1 gives the model with all pairs when that model passes the checks.
    checker : ModelChecker, optional
        Shared cache of existence/identifiability checks.
    zero_overlap_probs : bool
        Also compute, for each -inf term of the result, the Poisson probability that the
        overlap would be empty if that term were dropped (refits; off in the bootstrap).

    Notes
    -----
    Only candidates with p below the threshold can be selected, so the check is run on
    them alone, in increasing order of p, until one passes; this selects exactly the pair
    the full algorithm selects, with far fewer checks.
    """
    if checker is None:
        checker = ModelChecker(patterns, t)
    pairs = all_pairs(t)
    table = (patterns, counts, t)
    if pthresh >= 1.0:
        full = fit_model(table, pairs, checker)
        if full.ok:
            return StepwiseResult(full, tuple(pairs), (), _zero_probs(full, table, checker)
                                  if zero_overlap_probs else {})
    # SparseMSE fits the main-effects model without the check (``check=FALSE``): on a
    # (resampled) table with an empty list the GLM still converges to the extended MLE
    # (that list's cells fitted as ~0) and every candidate pair then fails its check, so
    # the main-effects estimate is returned instead of no estimate.
    fit = fit_model(table, (), checker, check=False)
    if pthresh <= 0.0 or not fit.ok:
        return StepwiseResult(fit, (), (), {})
    cmat = contains(patterns, pairs).astype(np.float64)
    nstar = counts @ cmat
    in_model = np.zeros(len(pairs), dtype=bool)
    added: list[int] = []
    pvals: list[float] = []
    for _ in range(len(pairs)):
        assert fit.glm is not None
        mu = np.zeros(patterns.size)
        mu[fit.kept] = fit.glm.mu
        lam = mu @ cmat
        p = poisson_tail_p(nstar, lam)
        p[in_model] = np.inf
        order = np.argsort(p, kind="stable")
        chosen = -1
        for idx in order:
            if not p[idx] < pthresh:
                break
            cand = (*fit.terms, pairs[idx])
            if checker.check(counts, cand).ok:
                chosen = int(idx)
                break
        if chosen < 0:
            break
        # refit from R's start (glm's mustart = y + 0.1), as SparseMSE does: a warm start
        # from the parent fit can make undamped IRLS diverge on sparse tables
        new_fit = fit_model(table, (*fit.terms, pairs[chosen]), checker)
        if not new_fit.ok:  # pragma: no cover - the check above passed
            break
        fit = new_fit
        in_model[chosen] = True
        added.append(pairs[chosen])
        pvals.append(float(p[chosen]))
    zp = _zero_probs(fit, table, checker) if zero_overlap_probs else {}
    return StepwiseResult(fit, tuple(added), tuple(pvals), zp)


def _zero_probs(
    fit: ModelFit, table: tuple[IntArray, FloatArray, int], checker: ModelChecker
) -> dict[int, float]:
    """For each -inf term: exp(-λ*) under the model refitted without that term."""
    out: dict[int, float] = {}
    patterns = table[0]
    for th in fit.neginf:
        reduced = tuple(x for x in fit.terms if x != th)
        refit = fit_model(table, reduced, checker)
        if refit.glm is None:
            continue
        cells = contains(patterns[refit.kept], [th])[:, 0]
        lam = float(refit.glm.mu[cells].sum())
        out[th] = float(np.exp(-lam))
    return out


@dataclass(frozen=True)
class StepwiseBatch:
    """:func:`stepwise_fit` run on many tables: estimate and selected terms per table."""

    estimates: FloatArray  # (B,), nan where the procedure gives no estimate
    terms: tuple[tuple[int, ...], ...]  # selected pairs, in the order they were added


def stepwise_batch(
    patterns: IntArray,
    counts: FloatArray,
    t: int,
    pthresh: float = DEFAULT_PTHRESH,
    checker: ModelChecker | None = None,
) -> StepwiseBatch:
    """:func:`stepwise_fit` on every row of ``counts`` (B, cells), all rows in lock-step.

    Gives the same selected models and, to rounding, the same estimates as calling
    :func:`stepwise_fit` on each row (``tests/unit/estimation/test_batch.py``), but at each
    step the expected overlaps and p-values of all rows are computed together, the
    checks are batched (:meth:`ModelChecker.check_many`) and all refits are one batched
    IRLS (:func:`~tiplab.estimation.glm.fit_poisson_batch`) over the design with every
    pair, each row using its own columns and cells.
    """
    if checker is None:
        checker = ModelChecker(patterns, t)
    B = counts.shape[0]
    if not 0.0 < pthresh < 1.0:
        fits = [stepwise_fit(patterns, c, t, pthresh, checker) for c in counts]
        return StepwiseBatch(np.array([_estimate(f.fit) for f in fits]),
                             tuple(f.added for f in fits))
    pairs = all_pairs(t)
    npair = len(pairs)
    cmat = contains(patterns, pairs).astype(np.float64)
    X = design_matrix(patterns, t, pairs)
    nstar = counts @ cmat
    nobs = counts.sum(axis=1)
    n_base = 1 + t
    terms: list[tuple[int, ...]] = [() for _ in range(B)]
    in_model = np.zeros((B, npair), dtype=bool)
    # main effects, fitted without the check as in stepwise_fit
    cols = np.zeros((B, X.shape[1]), dtype=bool)
    cols[:, :n_base] = True
    f = fit_poisson_batch(X, counts, cols=cols)
    coef, mu = f.coef, f.mu
    active = np.arange(B)
    for _ in range(npair):
        if active.size == 0:
            break
        lam = np.matmul(mu[active][:, None, :], cmat)[:, 0, :]
        p = poisson_tail_p(nstar[active], lam)
        p[in_model[active]] = np.inf
        order = np.argsort(p, axis=1, kind="stable")
        chosen = _choose(checker, counts, active, p, order, terms, pthresh)
        moved = np.flatnonzero(chosen >= 0)
        if moved.size == 0:
            break
        rows = active[moved]
        picks = chosen[moved]
        cols = np.zeros((rows.size, X.shape[1]), dtype=bool)
        cols[:, :n_base] = True
        cells = np.empty((rows.size, counts.shape[1]), dtype=bool)
        for i, (b, j) in enumerate(zip(rows, picks, strict=True)):
            red = checker.check(counts[b], (*terms[b], pairs[j])).reduction
            for th in red.fitted_terms:
                cols[i, n_base + pairs.index(th)] = True
            cells[i] = red.kept
            terms[b] = (*terms[b], pairs[j])
            in_model[b, j] = True
        f = fit_poisson_batch(X, counts[rows] * cells, cells=cells, cols=cols)
        coef[rows], mu[rows] = f.coef, f.mu
        active = rows
    with np.errstate(over="ignore"):
        est = nobs + np.exp(coef[:, 0])
    est[~np.isfinite(est)] = np.nan
    return StepwiseBatch(est, tuple(terms))


def _choose(
    checker: ModelChecker,
    counts: FloatArray,
    active: IntArray,
    p: FloatArray,
    order: IntArray,
    terms: list[tuple[int, ...]],
    pthresh: float,
) -> IntArray:
    """Per active row, the first pair in p order below ``pthresh`` whose model passes the
    check (-1 if none), checking the rows' candidates model by model."""
    pairs = all_pairs(int(checker.t))
    chosen = np.full(active.size, -1, dtype=np.int64)
    rank = np.zeros(active.size, dtype=np.int64)  # position in p order being tried
    pending = np.arange(active.size)
    while pending.size:
        j = order[pending, rank[pending]]
        below = p[pending, j] < pthresh
        pending, j = pending[below], j[below]
        groups: dict[frozenset[int], list[int]] = {}
        for i, jj in zip(pending.tolist(), j.tolist(), strict=True):
            groups.setdefault(frozenset((*terms[active[i]], pairs[jj])), []).append(i)
        failed: list[int] = []
        for model, idx in groups.items():
            res: list[CheckResult] = checker.check_many(counts[active[idx]], model)
            for i, r in zip(idx, res, strict=True):
                if r.ok:
                    chosen[i] = order[i, rank[i]]
                else:
                    failed.append(i)
        pending = np.array(sorted(failed), dtype=np.int64)
        rank[pending] += 1
        pending = pending[rank[pending] < p.shape[1]]
    return chosen


def _estimate(fit: ModelFit) -> float:
    try:
        return fit.estimate
    except OverflowError:
        return float("nan")
