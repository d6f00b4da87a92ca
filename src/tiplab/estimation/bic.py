"""BIC over hierarchical models, top-k bootstrap and downhill search.

Silverman, Chan & Vincent (2024, Statistics and Computing 34:44); MultipleSystemsEstimation
``assemble_bic``, ``vary_ntop_bca`` and ``downhill_fit``. Each candidate is checked first
(§3-§4, generalised to hierarchical terms); failing models are dropped. ``BIC = p log(n) -
2 loglik`` with ``p`` counting every parameter, including ``-inf`` ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tiplab.estimation.bootstrap import acceleration, bca_quantiles, run_estimator
from tiplab.estimation.checks import ModelChecker
from tiplab.estimation.errors import EstimationError
from tiplab.estimation.loglinear import ModelFit, fit_model, fit_model_batch
from tiplab.estimation.terms import IntArray, enumerate_hierarchical, members, popcount

FloatArray = npt.NDArray[np.float64]
Model = frozenset[int]


def default_maxorder(t: int) -> int:
    """1 for 2 lists, 2 for 3, 3 for 4-5, 2 for 6 (MultipleSystemsEstimation defaults)."""
    if t <= 2:
        return 1
    if t == 3:
        return 2
    if t <= 5:
        return 3
    return 2


def default_ntop(t: int) -> int | None:
    """Models kept for the bootstrap: all (None) for 2-3 lists, 20 for 4, 100 for 5-6."""
    if t <= 3:
        return None
    if t == 4:
        return 20
    return 100


@dataclass(frozen=True)
class RankedModel:
    """One fitted candidate of the BIC enumeration."""

    model: Model
    estimate: float
    bic: float
    aic: float
    order: int


@dataclass(frozen=True)
class BICSelection:
    """All admissible models ranked by BIC (best first) and the best fit."""

    ranked: tuple[RankedModel, ...]
    best: ModelFit
    n_candidates: int
    n_failed_check: int
    maxorder: int


def _fit_stats(fit: ModelFit) -> tuple[float, float] | None:
    if not fit.ok:
        return None
    b = fit.bic
    return (fit.estimate, b) if math.isfinite(b) and math.isfinite(fit.estimate) else None


def bic_select(
    patterns: IntArray,
    counts: FloatArray,
    t: int,
    maxorder: int | None = None,
    models: Sequence[Model] | None = None,
    checker: ModelChecker | None = None,
) -> BICSelection:
    """Fit every admissible hierarchical model and rank by BIC.

    Parameters
    ----------
    maxorder : int, optional
        Highest interaction order (default :func:`default_maxorder`). More than 6 lists is
        refused, as in the reference implementation.
    models : sequence, optional
        Candidate models (sets of interaction terms) instead of the full enumeration.
    """
    if models is None:
        if t > 6:
            raise EstimationError(
                f"BIC enumeration is not available for {t} lists (max 6); use "
                "--method stepwise, or merge lists with --merge-lists.")
        maxorder = default_maxorder(t) if maxorder is None else maxorder
        models = enumerate_hierarchical(t, maxorder)
    mo = maxorder if maxorder is not None else max(
        (popcount(th) for m in models for th in m), default=1)
    checker = checker or ModelChecker(patterns, t)
    table = (patterns, counts, t)
    ranked: list[RankedModel] = []
    failed = 0
    for m in models:
        fit = fit_model(table, m, checker)
        st = _fit_stats(fit)
        if st is None:
            failed += 1
            continue
        order = max((popcount(th) for th in m), default=1)
        ranked.append(RankedModel(m, st[0], st[1], fit.aic, order))
    if not ranked:
        raise EstimationError("no candidate model passes the existence/identifiability checks.")
    ranked.sort(key=lambda r: r.bic)
    best = fit_model(table, ranked[0].model, checker)
    return BICSelection(tuple(ranked), best, len(models), failed, mo)


@dataclass(frozen=True)
class TopKBootstrap:
    """BCa limits for k = 1..ntop (rows) when the BIC-best of the top-k models is used."""

    ks: tuple[int, ...]
    point: float
    estimates: FloatArray  # (nboot, ntop): estimate for each replicate and k
    ahat: FloatArray  # per k
    bca: tuple[dict[float, float], ...]  # per k
    n_dropped: tuple[int, ...]


class TopKEstimator:
    """Estimate of the BIC-best admissible model among the first k, for every k."""

    def __init__(self, patterns: IntArray, t: int, models: Sequence[Model]) -> None:
        self.patterns = patterns
        self.t = t
        self.models = list(models)
        self.checker = ModelChecker(patterns, t)

    def __call__(self, counts: FloatArray) -> FloatArray:
        table = (self.patterns, counts, self.t)
        est = np.full(len(self.models), np.nan)
        bic = np.full(len(self.models), np.inf)
        for i, m in enumerate(self.models):
            st = _fit_stats(fit_model(table, m, self.checker))
            if st is not None:
                est[i], bic[i] = st
        out: FloatArray = _running_best(est[None, :], bic[None, :])[0]
        return out

    def batch(self, counts: FloatArray) -> FloatArray:
        """``self`` on every row of ``counts`` (B, cells) -> (B, ntop): each model is
        checked and fitted on all rows at once (:func:`fit_model_batch`)."""
        B = counts.shape[0]
        est = np.full((B, len(self.models)), np.nan)
        bic = np.full((B, len(self.models)), np.inf)
        logn = np.log(counts.sum(axis=1))
        for i, m in enumerate(self.models):
            f = fit_model_batch(self.patterns, counts, self.t, m, self.checker)
            with np.errstate(invalid="ignore"):
                b = -2.0 * f.loglik + logn * f.n_params
            good = f.ok & np.isfinite(b) & np.isfinite(f.estimate)
            est[good, i], bic[good, i] = f.estimate[good], b[good]
        return _running_best(est, bic)


def _running_best(est: FloatArray, bic: FloatArray) -> FloatArray:
    """Column k: estimate of the smallest-BIC model among columns 0..k (first on ties)."""
    out = np.full(est.shape, np.nan)
    best = np.full(est.shape[0], np.nan)
    best_bic = np.full(est.shape[0], np.inf)
    for k in range(est.shape[1]):
        better = bic[:, k] < best_bic
        best = np.where(better, est[:, k], best)
        best_bic = np.where(better, bic[:, k], best_bic)
        out[:, k] = best
    return out


def topk_bootstrap(
    patterns: IntArray,
    counts: FloatArray,
    t: int,
    selection: BICSelection,
    ntop: int | None,
    nboot: int,
    seed: int | None,
    alpha: Sequence[float],
    workers: int = 1,
) -> TopKBootstrap:
    """Bootstrap the BIC choice restricted to the ``ntop`` best models (on the data).

    Replicates and jackknife tables are estimated together, model by model over all
    tables (:meth:`TopKEstimator.batch`), in ``workers`` processes if > 1.
    """
    k = len(selection.ranked) if ntop is None else min(ntop, len(selection.ranked))
    models = [r.model for r in selection.ranked[:k]]
    est = TopKEstimator(patterns, t, models)
    n = int(counts.sum())
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, counts / n, size=nboot).astype(np.float64)
    rows = np.flatnonzero(counts > 0)
    jdraws = np.repeat(counts[None, :], rows.size, axis=0)
    jdraws[np.arange(rows.size), rows] -= 1.0
    both = run_estimator(est, np.vstack([draws, jdraws]), workers)
    reps, jmat = both[:nboot], both[nboot:]
    point = selection.ranked[0].estimate
    ahats, bcas, dropped = [], [], []
    for j in range(k):
        col = reps[:, j]
        valid = col[np.isfinite(col)]
        a = acceleration(jmat[:, j], counts[rows])
        ahats.append(a)
        bcas.append(bca_quantiles(point, valid, a, alpha))
        dropped.append(int(nboot - valid.size))
    return TopKBootstrap(tuple(range(1, k + 1)), point, reps, np.asarray(ahats),
                         tuple(bcas), tuple(dropped))


def _neighbours(model: Model, t: int, maxorder: int) -> list[Model]:
    out: list[Model] = []
    # add one admissible term: all its (k-1)-subsets present (pairs always admissible)
    for k in range(2, maxorder + 1):
        for mask in range(1, 1 << t):
            if popcount(mask) != k or mask in model:
                continue
            if k == 2 or all((mask & ~(1 << d)) in model for d in members(mask)):
                out.append(model | {mask})
    # remove one term that no other term contains
    for th in model:
        if not any(o != th and o & th == th for o in model):
            out.append(model - {th})
    return out


@dataclass(frozen=True)
class DownhillResult:
    """Path and final fit of the downhill search."""

    fit: ModelFit
    path: tuple[Model, ...]
    bics: tuple[float, ...]
    iterations: int


def downhill(
    patterns: IntArray,
    counts: FloatArray,
    t: int,
    maxorder: int | None = None,
    max_iter: int = 20,
    checker: ModelChecker | None = None,
) -> DownhillResult:
    """Greedy BIC descent from main effects over hierarchical neighbours.

    Evaluates the not-yet-visited neighbours (one admissible term added or one removable
    term removed, order <= maxorder), moves to the best if it lowers BIC, else stops.
    May stop in a local minimum (the five-list UK data do).
    """
    maxorder = default_maxorder(t) if maxorder is None else maxorder
    checker = checker or ModelChecker(patterns, t)
    table = (patterns, counts, t)
    cur: Model = frozenset()
    fit = fit_model(table, cur, checker)
    if not fit.ok:
        return DownhillResult(fit, (cur,), (float("nan"),), 0)
    cur_bic = fit.bic
    visited = {cur}
    path, bics = [cur], [cur_bic]
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        best_m, best_b, best_fit = None, cur_bic, None
        for nb in _neighbours(cur, t, maxorder):
            if nb in visited:
                continue
            visited.add(nb)
            f = fit_model(table, nb, checker)
            if f.ok and math.isfinite(f.bic) and f.bic < best_b:
                best_m, best_b, best_fit = nb, f.bic, f
        if best_m is None or best_fit is None:
            break
        cur, cur_bic, fit = best_m, best_b, best_fit
        path.append(cur)
        bics.append(cur_bic)
    return DownhillResult(fit, tuple(path), tuple(bics), it)
