"""Small statistical building blocks, vectorised with NumPy/SciPy.

References: exact Poisson interval (Garwood 1936); ratio of two Poisson rates by conditioning
on the sum (Clopper-Pearson on the binomial proportion, e.g. Rothman & Greenland, *Modern
Epidemiology*, ch. 14); Benjamini & Hochberg (1995); Mann (1945), Kendall (1975) trend test
without tie correction (ties are rare in continuous z-scores).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]


def poisson_ci(count: npt.ArrayLike, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
    """Exact (Garwood) confidence interval for a Poisson mean given observed counts."""
    k = np.asarray(count, dtype=np.float64)
    a = 1.0 - level
    low = np.where(k > 0, stats.chi2.ppf(a / 2, 2 * k) / 2, 0.0)
    high = stats.chi2.ppf(1 - a / 2, 2 * (k + 1)) / 2
    return np.asarray(low, np.float64), np.asarray(high, np.float64)


def rate_ratio_ci(k1: npt.ArrayLike, k0: npt.ArrayLike, exposure1: npt.ArrayLike = 1.0,
                  exposure0: npt.ArrayLike = 1.0, level: float = 0.95
                  ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Ratio of Poisson rates (k1/e1)/(k0/e0) with the exact conditional interval.

    Given ``k1 + k0 = n``, ``k1 ~ Binomial(n, p)`` with ``p = RR e1 / (RR e1 + e0)``; the
    Clopper-Pearson interval for ``p`` maps to one for ``RR``. Returns (ratio, low, high);
    NaN where both counts are 0.
    """
    k1a = np.asarray(k1, np.float64)
    k0a = np.asarray(k0, np.float64)
    e1 = np.asarray(exposure1, np.float64)
    e0 = np.asarray(exposure0, np.float64)
    n = k1a + k0a
    a = 1.0 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        p_lo = np.where(k1a > 0, stats.beta.ppf(a / 2, k1a, k0a + 1), 0.0)
        p_hi = np.where(k0a > 0, stats.beta.ppf(1 - a / 2, k1a + 1, k0a), 1.0)
        scale = e0 / e1
        ratio = np.where(n > 0, (k1a / e1) / (k0a / e0), np.nan)
        low = np.where(n > 0, p_lo / (1 - p_lo) * scale, np.nan)
        high = np.where(n > 0, np.where(p_hi < 1, p_hi / (1 - p_hi) * scale, np.inf), np.nan)
    return (np.asarray(ratio, np.float64), np.asarray(low, np.float64),
            np.asarray(high, np.float64))


def benjamini_hochberg(p: npt.ArrayLike) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN stays NaN."""
    pv = np.asarray(p, np.float64)
    out = np.full(pv.shape, np.nan)
    ok = np.isfinite(pv)
    x = pv[ok]
    m = x.size
    if m == 0:
        return out
    order = np.argsort(x)
    ranked = x[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    res = np.empty(m)
    res[order] = np.minimum(q, 1.0)
    out[ok] = res
    return out


def mann_kendall(y: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mann-Kendall trend test along the last axis.

    Returns (S, z, two-sided p). ``y`` is ``(..., T)``; NaNs are not allowed.
    """
    a = np.asarray(y, np.float64)
    t = a.shape[-1]
    i, j = np.triu_indices(t, k=1)
    s = np.sign(a[..., j] - a[..., i]).sum(axis=-1)
    var = t * (t - 1) * (2 * t + 5) / 18.0
    z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    p = 2 * stats.norm.sf(np.abs(z))
    return np.asarray(s, np.float64), np.asarray(z, np.float64), np.asarray(p, np.float64)
