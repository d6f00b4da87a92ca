"""A small Poisson log-link GLM fitted by iteratively reweighted least squares (IRLS).

Written in NumPy because model selection and bootstrapping refit thousands of small models
(tens of cells, a handful of parameters), where statsmodels' per-fit overhead dominates.
The iteration follows R's ``glm.fit``: start at ``mu = y + 0.1`` (or a warm start), stop when
the relative change in deviance ``|D - D_old| / (|D| + 0.1)`` is below ``tol``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln, xlogy

FloatArray = npt.NDArray[np.float64]

# exp() argument cap: fitted means above e^700 overflow; counts never get near that.
_ETA_MAX = 700.0
# fit_poisson_batch works on chunks of rows of at most this many (row, column, cell)
# entries (8 bytes each); rows are independent, so chunking does not change results
_BATCH_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class PoissonFit:
    """Result of :func:`fit_poisson`.

    Attributes
    ----------
    coef : ndarray
        Coefficients (column order of the design matrix).
    cov : ndarray
        Unscaled covariance, the inverse Fisher information ``(X' W X)^-1`` (dispersion 1).
    mu : ndarray
        Fitted means.
    deviance : float
        Poisson deviance ``2 Σ [y log(y/μ) - (y - μ)]``.
    loglik : float
        ``Σ (y log μ - μ - log y!)``.
    rank : int
        Rank of the design matrix.
    iterations : int
        IRLS iterations used.
    converged : bool
        Whether the deviance criterion was met within ``maxiter``.
    """

    coef: FloatArray
    cov: FloatArray
    mu: FloatArray
    deviance: float
    loglik: float
    rank: int
    iterations: int
    converged: bool

    @property
    def df_resid(self) -> int:
        """Residual degrees of freedom: cells minus rank."""
        return int(self.mu.size - self.rank)

    @property
    def aic(self) -> float:
        """``-2 loglik + 2 rank`` (R's ``AIC`` of a Poisson GLM)."""
        return -2.0 * self.loglik + 2.0 * self.rank


def poisson_deviance(y: FloatArray, mu: FloatArray) -> float:
    """Poisson deviance with the convention ``0 log 0 = 0``."""
    return float(2.0 * np.sum(xlogy(y, y) - xlogy(y, mu) - (y - mu)))


def poisson_loglik(y: FloatArray, mu: FloatArray) -> float:
    """Poisson log-likelihood ``Σ (y log μ - μ - log y!)``."""
    return float(np.sum(xlogy(y, mu) - mu - gammaln(y + 1.0)))


def fit_poisson(
    X: FloatArray,
    y: FloatArray,
    start: FloatArray | None = None,
    tol: float = 1e-10,
    maxiter: int = 100,
    offset: FloatArray | None = None,
    rank: int | None = None,
) -> PoissonFit:
    """Fit ``log E[y] = X b (+ offset)`` for independent Poisson ``y`` by IRLS.

    Parameters
    ----------
    X : ndarray (n, p)
        Design matrix; assumed to have full column rank (the callers check identifiability
        first). A rank-deficient ``X`` is solved by least squares (minimum-norm step).
    y : ndarray (n,)
        Non-negative counts.
    start : ndarray (p,), optional
        Warm-start coefficients; default is R's start ``mu = y + 0.1``.
    tol, maxiter : float, int
        Relative deviance-change criterion and iteration cap.
    offset : ndarray (n,), optional
        Known term added to the linear predictor.
    rank : int, optional
        Rank of ``X`` when already known (skips an SVD).

    Returns
    -------
    PoissonFit
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        fit = _irls(X, y, start, tol, maxiter, offset, rank)
        if start is not None and not (fit.converged and np.all(np.isfinite(fit.coef))):
            # IRLS has no step control: from a warm start far from the optimum it can
            # diverge. The MLE does not depend on the start, so retry from R's start.
            fit = _irls(X, y, None, tol, maxiter, offset, rank)
        return fit


def _irls(
    X: FloatArray,
    y: FloatArray,
    start: FloatArray | None,
    tol: float,
    maxiter: int,
    offset: FloatArray | None,
    rank: int | None,
) -> PoissonFit:
    n, p = X.shape
    off = np.zeros(n) if offset is None else offset
    # deviance = 2 [Σ y log y - Σ y log μ - Σ y + Σ μ], with Σ y log μ = y'η
    ylogy = float(np.sum(xlogy(y, y)))
    ysum = float(y.sum())
    if start is not None and start.shape == (p,):
        eta = np.clip(X @ start + off, -_ETA_MAX, _ETA_MAX)
        mu = np.exp(eta)
    else:
        mu = y + 0.1
        eta = np.log(mu)
    dev_old = 2.0 * (ylogy - float(y @ eta) - ysum + float(mu.sum()))
    converged = False
    coef = np.zeros(p) if start is None else start.copy()
    it = 0
    for it in range(1, maxiter + 1):  # noqa: B007 - the count is reported
        z = eta - off + (y - mu) / mu
        Xw = X * mu[:, None]
        xtwx = X.T @ Xw
        rhs = Xw.T @ z
        try:
            coef = np.asarray(np.linalg.solve(xtwx, rhs), dtype=np.float64)
        except np.linalg.LinAlgError:
            coef = np.asarray(np.linalg.lstsq(xtwx, rhs, rcond=None)[0], dtype=np.float64)
        eta = np.clip(X @ coef + off, -_ETA_MAX, _ETA_MAX)
        mu = np.exp(eta)
        dev = 2.0 * (ylogy - float(y @ eta) - ysum + float(mu.sum()))
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            converged = True
            break
        if start is not None and _runaway(dev, eta):
            break  # runaway warm start: fit_poisson refits from R's start
        dev_old = dev
    xtwx = X.T @ (X * mu[:, None])
    try:
        cov = np.asarray(np.linalg.inv(xtwx), dtype=np.float64)
    except np.linalg.LinAlgError:
        cov = np.asarray(np.linalg.pinv(xtwx), dtype=np.float64)
    if rank is None:
        rank = int(np.linalg.matrix_rank(X)) if p else 0
    return PoissonFit(
        coef=coef,
        cov=cov,
        mu=mu,
        deviance=poisson_deviance(y, mu),
        loglik=poisson_loglik(y, mu),
        rank=rank,
        iterations=it,
        converged=converged,
    )


@dataclass(frozen=True)
class BatchFit:
    """Result of :func:`fit_poisson_batch`: one row per count vector.

    Columns a row does not use have coefficient 0; cells it does not use have ``mu = 0``.
    """

    coef: FloatArray  # (B, p)
    mu: FloatArray  # (B, n)
    loglik: FloatArray  # (B,)
    iterations: npt.NDArray[np.int64]  # (B,)
    converged: npt.NDArray[np.bool_]  # (B,)


def fit_poisson_batch(
    X: FloatArray,
    Y: FloatArray,
    cells: npt.NDArray[np.bool_] | None = None,
    cols: npt.NDArray[np.bool_] | None = None,
    tol: float = 1e-10,
    maxiter: int = 100,
) -> BatchFit:
    """:func:`fit_poisson` (from R's start) on many count vectors at once.

    Row ``b`` is the fit of ``Y[b, cells[b]]`` on ``X[cells[b]][:, cols[b]]``: the same
    iteration, start and per-row stopping rule as :func:`fit_poisson`, so each row gives
    the same coefficients (to rounding) and the same iteration count as fitting it alone.
    Each row's columns are gathered into a stack of small designs (padded with zero columns
    whose coefficient is fixed at 0); unused cells get weight 0. All rows must have full
    column rank on their cells.

    Parameters
    ----------
    X : ndarray (n, p)
        Design shared by all rows (every candidate column).
    Y : ndarray (B, n)
        Counts, one row per fit (0 on unused cells).
    cells, cols : bool ndarray (B, n), (B, p), optional
        Cells and columns each row uses (default all).

    Returns
    -------
    BatchFit
        Coefficients in the columns of ``X`` (0 where unused), fitted means (0 on unused
        cells), log-likelihoods, iteration counts and convergence flags.
    """
    B, n = Y.shape
    width = X.shape[1] if cols is None or B == 0 else int(cols.sum(axis=1).max())
    step = max(1, _BATCH_ELEMENTS // max(1, n * width))  # bounds the (rows, cols, cells) stack
    parts = []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for lo in range(0, max(B, 1), step):
            sl = slice(lo, lo + step)
            parts.append(_irls_batch(X, Y[sl], None if cells is None else cells[sl],
                                     None if cols is None else cols[sl], tol, maxiter))
    if len(parts) == 1:
        return parts[0]
    return BatchFit(*(np.concatenate([getattr(f, k) for f in parts])
                      for k in ("coef", "mu", "loglik", "iterations", "converged")))


def _irls_batch(
    X: FloatArray,
    Y: FloatArray,
    cells: npt.NDArray[np.bool_] | None,
    cols: npt.NDArray[np.bool_] | None,
    tol: float,
    maxiter: int,
) -> BatchFit:
    B, n = Y.shape
    p = X.shape[1]
    keep = np.ones((B, n)) if cells is None else cells.astype(np.float64)
    use = np.ones((B, p), dtype=bool) if cols is None else cols
    # each row's own columns, in design order, padded with a zero column (index p) that
    # gets 1 on the diagonal of X'WX and coefficient 0
    width = int(use.sum(axis=1).max()) if B else 0
    idx = np.full((B, width), p, dtype=np.int64)
    for b in range(B):
        cb = np.flatnonzero(use[b])
        idx[b, : cb.size] = cb
    pad = idx == p
    XTx = np.vstack([X.T, np.zeros((1, n))])
    ylogy = np.sum(xlogy(Y, Y), axis=1)
    ysum = Y.sum(axis=1)
    coef = np.zeros((B, width))
    mu = Y + 0.1
    eta = np.log(mu)
    dev_old = 2.0 * (ylogy - np.sum(Y * eta, axis=1) - ysum + np.sum(mu * keep, axis=1))
    iters = np.zeros(B, dtype=np.int64)
    conv = np.zeros(B, dtype=bool)
    act = np.arange(B)
    diag = np.arange(width)
    for it in range(1, maxiter + 1):
        if act.size == 0:
            break
        y_a, mu_a, eta_a, k_a = Y[act], mu[act], eta[act], keep[act]
        xt = XTx[idx[act]]  # (a, width, n): each row's design, transposed
        w = mu_a * k_a
        z = eta_a + (y_a - mu_a) / mu_a
        xtw = xt * w[:, None, :]
        xtwx = np.matmul(xtw, xt.transpose(0, 2, 1))
        xtwx[:, diag, diag] += pad[act]
        rhs = np.matmul(xtw, z[:, :, None])[:, :, 0]
        c = _solve_rows(xtwx, rhs)
        e = np.clip(np.matmul(c[:, None, :], xt)[:, 0, :], -_ETA_MAX, _ETA_MAX)
        m = np.exp(e)
        dev = 2.0 * (ylogy[act] - np.sum(y_a * e, axis=1) - ysum[act]
                     + np.sum(m * k_a, axis=1))
        coef[act], eta[act], mu[act] = c, e, m
        iters[act] = it
        done = np.abs(dev - dev_old[act]) / (np.abs(dev) + 0.1) < tol
        conv[act[done]] = True
        dev_old[act] = dev
        act = act[~done]
    mu = mu * keep
    loglik = np.sum((xlogy(Y, mu) - mu - gammaln(Y + 1.0)) * keep, axis=1)
    full = np.zeros((B, p + 1))
    np.put_along_axis(full, idx, coef, axis=1)
    return BatchFit(full[:, :p], mu, loglik, iters, conv)


def _runaway(dev: float, eta: FloatArray) -> bool:
    """Deviance not finite or linear predictor at the cap."""
    return not math.isfinite(dev) or bool(np.any(np.abs(eta) >= _ETA_MAX))


def _solve_rows(A: FloatArray, b: FloatArray) -> FloatArray:
    """Batched ``solve``; a singular row falls back to least squares as in :func:`_irls`."""
    try:
        out = np.linalg.solve(A, b[:, :, None])[:, :, 0]
        return np.asarray(out, dtype=np.float64)
    except np.linalg.LinAlgError:
        res = np.empty_like(b)
        for i in range(b.shape[0]):
            try:
                res[i] = np.linalg.solve(A[i], b[i])
            except np.linalg.LinAlgError:
                res[i] = np.linalg.lstsq(A[i], b[i], rcond=None)[0]
        return res
