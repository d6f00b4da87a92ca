"""Variance estimators: cluster-robust (CR1) for panels, Newey-West (HAC) for one series."""

from __future__ import annotations

import numpy as np
from scipy import stats


def ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least squares: coefficients, residuals and the bread ``(X'X)^-1``."""
    bread = np.linalg.pinv(x.T @ x)
    beta = bread @ (x.T @ y)
    return beta, y - x @ beta, bread


def cluster_vcov(
    x: np.ndarray, resid: np.ndarray, bread: np.ndarray, cluster: np.ndarray, k: int
) -> np.ndarray:
    """CR1 cluster-robust covariance, Stata's ``vce(cluster)`` scaling.

    ``G/(G-1) * (N-1)/(N-K)``, where ``K`` counts the estimated parameters that are not nested
    in the clusters (regressors, time effects and the constant; unit effects are nested in
    unit clusters, as in Stata's ``xtreg, fe`` and fixest's default).
    """
    scores = x * resid[:, None]
    _, inv = np.unique(cluster, return_inverse=True)
    g = int(inv.max()) + 1
    summed = np.zeros((g, x.shape[1]))
    np.add.at(summed, inv, scores)
    meat = summed.T @ summed
    n = x.shape[0]
    scale = g / (g - 1) * (n - 1) / (n - k)
    return np.asarray(scale * bread @ meat @ bread)


def newey_west_lags(n: int) -> int:
    """The usual automatic lag length ``floor(4 (n/100)^(2/9))`` (Newey & West 1994)."""
    return int(np.floor(4 * (n / 100) ** (2 / 9)))


def hac_vcov(x: np.ndarray, resid: np.ndarray, bread: np.ndarray, lags: int) -> np.ndarray:
    """Newey-West covariance (Bartlett weights ``1 - l/(L+1)``), scaled by ``n/(n-k)``.

    Matches statsmodels' ``cov_type="HAC"`` with ``use_correction=True``.
    """
    scores = x * resid[:, None]
    meat = scores.T @ scores
    for lag in range(1, lags + 1):
        w = 1 - lag / (lags + 1)
        gamma = scores[lag:].T @ scores[:-lag]
        meat += w * (gamma + gamma.T)
    n, k = x.shape
    return np.asarray(n / (n - k) * bread @ meat @ bread)


def t_interval(
    est: float, se: float, df: float, alpha: float
) -> tuple[float, float, float]:
    """Lower bound, upper bound and two-sided p-value from a t distribution."""
    if not np.isfinite(se) or se <= 0:
        return float("nan"), float("nan"), float("nan")
    q = float(stats.t.ppf(1 - alpha / 2, df))
    p = float(2 * stats.t.sf(abs(est / se), df))
    return est - q * se, est + q * se, p


def wald(beta: np.ndarray, vcov: np.ndarray, df: float) -> tuple[float, float, int]:
    """F statistic, p-value (F(q, df)) and q for H0: all ``beta`` are zero."""
    q = int(np.linalg.matrix_rank(vcov))
    if q == 0:
        return float("nan"), float("nan"), 0
    f = float(beta @ np.linalg.pinv(vcov) @ beta) / q
    return f, float(stats.f.sf(f, q, df)), q
