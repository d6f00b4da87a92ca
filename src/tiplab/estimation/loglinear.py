"""Fitting one Poisson log-linear model to a capture table, with -inf terms (§2-§3)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

# scipy.special's ndtr/ndtri are what scipy.stats.norm.cdf/ppf evaluate (bit-identical),
# without importing scipy.stats (about a second at start-up)
from scipy.special import ndtri

from tiplab.estimation.checks import CheckResult, ModelChecker, design_matrix
from tiplab.estimation.errors import EstimationError
from tiplab.estimation.glm import PoissonFit, fit_poisson, fit_poisson_batch
from tiplab.estimation.table import CaptureTable
from tiplab.estimation.terms import IntArray, hier_name, sort_terms, term_label


def _exp(x: float) -> float:
    """exp that says "unbounded" (inf) instead of raising when a sparse table's standard
    error is huge: the interval then reads "no upper bound", which is the honest answer."""
    return math.inf if x > 709.0 else math.exp(x)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ModelFit:
    """A fitted log-linear model (or the reason it could not be fitted).

    ``estimate = n + exp(intercept)``; ``aic``/``bic`` count every parameter of the model,
    including those with extended estimate ``-inf`` (SparseMSE and MultipleSystemsEstimation).
    """

    t: int
    n: float
    terms: tuple[int, ...]
    check: CheckResult
    glm: PoissonFit | None
    kept: npt.NDArray[np.bool_]

    @property
    def ok(self) -> bool:
        """True when the model passed the checks and was fitted."""
        return self.glm is not None

    @property
    def neginf(self) -> tuple[int, ...]:
        """Terms with extended estimate -inf (non-overlapping lists)."""
        return self.check.reduction.neginf

    @property
    def fitted_terms(self) -> tuple[int, ...]:
        """Interaction terms left in the GLM."""
        return self.check.reduction.fitted_terms

    @property
    def n_params(self) -> int:
        """All parameters: intercept, main effects, interactions (incl. -inf ones)."""
        return 1 + self.t + len(self.terms)

    @property
    def intercept(self) -> float:
        """Log of the fitted dark figure."""
        return float(self._g().coef[0])

    @property
    def dark_figure(self) -> float:
        """Fitted number of unobserved cases ``exp(intercept)``."""
        return math.exp(self.intercept)

    @property
    def estimate(self) -> float:
        """Population estimate ``n + exp(intercept)`` (nan when not fitted)."""
        if self.glm is None:
            return float("nan")
        return self.n + self.dark_figure

    @property
    def se_intercept(self) -> float:
        """Standard error of the intercept (unscaled covariance, dispersion 1)."""
        return float(math.sqrt(max(self._g().cov[0, 0], 0.0)))

    @property
    def deviance(self) -> float:
        return self._g().deviance

    @property
    def df(self) -> int:
        """Residual degrees of freedom of the GLM on the remaining cells."""
        return self._g().df_resid

    @property
    def loglik(self) -> float:
        return self._g().loglik

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        return -2.0 * self.loglik + math.log(self.n) * self.n_params

    @property
    def se_estimate(self) -> float:
        """Rcapture's delta-method standard error of N: sqrt(m0 + m0^2 V00)."""
        m0 = self.dark_figure
        var = m0 + m0 * m0 * self._g().cov[0, 0]
        # a saturated or degenerate fit can give a negative variance: no standard error
        return math.sqrt(var) if var >= 0 else math.nan

    def lognormal_interval(self, level: float = 0.95) -> tuple[float, float]:
        """Model-conditional interval, dark figure log-normal (``estimatepopulation.0``)."""
        z = float(ndtri(0.5 + level / 2.0))
        mu, se = self.intercept, self.se_intercept
        return (self.n + _exp(mu - z * se), self.n + _exp(mu + z * se))

    def quantiles(self, probs: Sequence[float]) -> dict[float, float]:
        """Log-normal model-conditional quantiles of N."""
        mu, se = self.intercept, self.se_intercept
        return {float(q): self.n + _exp(mu + float(ndtri(q)) * se) for q in probs}

    def coefficients(self, names: Sequence[str]) -> dict[str, float]:
        """Named coefficients; -inf terms are included as ``-inf``."""
        g = self._g()
        labels = ["(Intercept)", *names, *[term_label(th, names) for th in self.fitted_terms]]
        out = {lab: float(v) for lab, v in zip(labels, g.coef, strict=True)}
        for th in self.neginf:
            out[term_label(th, names)] = float("-inf")
        return out

    def model_name(self) -> str:
        """Hierarchical name such as ``[12,23]``."""
        return hier_name(self.terms, self.t)

    def summary_dict(self, names: Sequence[str]) -> dict[str, Any]:
        """Fit statistics as a JSON-ready dict."""
        if self.glm is None:
            return {"ok": False, "check": self.check.code, "check_message": self.check.message}
        return {
            "ok": True,
            "model": self.model_name(),
            "terms": [term_label(th, names) for th in self.terms],
            "minus_infinity_terms": [term_label(th, names) for th in self.neginf],
            "deviance": self.deviance,
            "df": self.df,
            "aic": self.aic,
            "bic": self.bic,
            "n_params": self.n_params,
            "converged": self.glm.converged,
            "iterations": self.glm.iterations,
        }

    def _g(self) -> PoissonFit:
        if self.glm is None:
            raise EstimationError(
                f"model {self.model_name()} cannot be fitted: {self.check.message} "
                f"(check code {self.check.code}); choose another model.")
        return self.glm


def fit_model(
    table: CaptureTable | tuple[IntArray, FloatArray, int],
    terms: Iterable[int],
    checker: ModelChecker | None = None,
    start: FloatArray | None = None,
    check: bool = True,
    tol: float = 1e-10,
    maxiter: int = 100,
) -> ModelFit:
    """Fit the log-linear model with the given interaction terms.

    Parameters
    ----------
    table : CaptureTable or (patterns, counts, t)
    terms : iterable of int
        Interaction terms (bit masks, order >= 2). Terms with ``N*_θ = 0`` get the extended
        estimate ``-inf``: their cells are removed and they are not fitted.
    checker : ModelChecker, optional
        Shared checker (cache) for repeated fits on tables of the same shape.
    start : ndarray, optional
        Warm-start coefficients for the reduced design.
    check : bool
        When True (default) a model failing the existence/identifiability check is not
        fitted (``ModelFit.ok`` is False). When False it is fitted anyway, like a plain GLM
        (``-inf`` terms are still removed).

    Notes
    -----
    Assumes independent Poisson counts with log-linear means over the lists, a closed
    population and, for the dark figure, that the model fitted to the observed patterns
    also holds for the unobserved one (no highest-order interaction).
    """
    if isinstance(table, CaptureTable):
        patterns, counts, t = table.patterns, table.counts, table.t
    else:
        patterns, counts, t = table
    if checker is None:
        checker = ModelChecker(patterns, t)
    res = checker.check(counts, terms)
    red = res.reduction
    n = float(counts.sum())
    if check and not res.ok:
        return ModelFit(t, n, red.terms, res, None, red.kept)
    X = design_matrix(patterns[red.kept], t, red.fitted_terms)
    y = counts[red.kept]
    st = start if start is not None and start.shape == (X.shape[1],) else None
    g = fit_poisson(X, y, start=st, tol=tol, maxiter=maxiter, rank=res.rank or None)
    return ModelFit(t, n, red.terms, res, g, red.kept)


@dataclass(frozen=True)
class BatchModelFit:
    """One model fitted to many tables (:func:`fit_model_batch`); nan where not fitted."""

    ok: npt.NDArray[np.bool_]  # passed the checks (and was fitted)
    estimate: FloatArray  # n + exp(intercept)
    loglik: FloatArray
    n_params: int


def fit_model_batch(
    patterns: IntArray,
    counts: FloatArray,
    t: int,
    terms: Iterable[int],
    checker: ModelChecker | None = None,
    tol: float = 1e-10,
    maxiter: int = 100,
) -> BatchModelFit:
    """:func:`fit_model` of one model on every row of ``counts`` (B, cells) at once.

    The checks go through :meth:`ModelChecker.check_many`; all rows that pass are fitted
    by one batched IRLS over the model's full design, each row dropping its own ``-inf``
    terms and their cells. Same results as :func:`fit_model` row by row, to rounding.
    """
    if checker is None:
        checker = ModelChecker(patterns, t)
    st = tuple(sort_terms(terms, t))
    B = counts.shape[0]
    res = checker.check_many(counts, frozenset(st))
    ok = np.array([r.ok for r in res], dtype=bool)
    est = np.full(B, np.nan)
    ll = np.full(B, np.nan)
    rows = np.flatnonzero(ok)
    if rows.size:
        X = design_matrix(patterns, t, st)
        cols = np.ones((rows.size, X.shape[1]), dtype=bool)
        cells = np.ones((rows.size, patterns.size), dtype=bool)
        col_of = {th: 1 + t + j for j, th in enumerate(st)}
        for i, b in enumerate(rows):
            red = res[b].reduction
            if red.neginf:
                cols[i, [col_of[th] for th in red.neginf]] = False
                cells[i] = red.kept
        f = fit_poisson_batch(X, counts[rows] * cells, cells=cells, cols=cols, tol=tol,
                              maxiter=maxiter)
        with np.errstate(over="ignore"):
            est[rows] = counts[rows].sum(axis=1) + np.exp(f.coef[:, 0])
        ll[rows] = f.loglik
    est[~np.isfinite(est)] = np.nan
    return BatchModelFit(ok, est, ll, 1 + t + len(st))
