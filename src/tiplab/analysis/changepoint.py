"""Change points in a count series: Poisson likelihood-ratio test with binary segmentation.

Model: under the null the counts ``y_1..y_T`` share one mean; under the alternative the mean
changes once, after period ``k``. The statistic is the maximum over ``k`` of the likelihood
ratio ``2 [l(y_1..k) + l(y_k+1..T) - l(y_1..T)]`` (Poisson log-likelihoods at the segment
means). Its null distribution is not chi-square (the split point is searched), so the p-value
is a seeded parametric bootstrap: series of the same length are drawn from the fitted null and
their maximum statistic is computed (vectorised). When the counts are over-dispersed (Pearson
dispersion of the one-change fit above 1) the null series are negative binomial with that
dispersion, so extra-Poisson noise is not mistaken for a change. Binary segmentation then
searches each side of a detected change again (up to ``max_changes``), each test at ``alpha``.

Assumptions: independent counts; a change is a step in the mean (a steady trend is also
"not constant", so a long linear rise may be split; read change points together with the
trend line).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import xlogy

from tiplab.analysis.errors import AnalysisError


@dataclass(frozen=True)
class ChangePoint:
    """A detected change: the first period of the new level."""

    index: int
    statistic: float
    p_value: float
    mean_before: float
    mean_after: float

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _max_lr(y: npt.NDArray[np.float64], min_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Max LR statistic and argmax split over rows of ``y`` (shape (S, T))."""
    t = y.shape[1]
    cs = np.cumsum(y, axis=1)
    total = cs[:, -1:]
    k = np.arange(min_size, t - min_size + 1)
    left = cs[:, k - 1]
    right = total - left
    ll = (xlogy(left, left / k) + xlogy(right, right / (t - k))
          - xlogy(total, total / t))
    lr = 2.0 * ll
    best = np.argmax(lr, axis=1)
    return lr[np.arange(y.shape[0]), best], k[best]


def lr_test(y: npt.ArrayLike, *, min_size: int = 2, n_sim: int = 999, seed: int = 0,
            overdispersion: bool = True) -> ChangePoint:
    """Test one change in the mean of a count series; returns the best split and its p-value."""
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim != 1 or arr.size < 2 * min_size:
        raise AnalysisError(f"change-point test needs at least {2 * min_size} periods, "
                            f"got {arr.size}")
    if (arr < 0).any() or not np.isfinite(arr).all():
        raise AnalysisError("change-point test needs non-negative finite counts")
    stat, split = _max_lr(arr[None, :], min_size)
    k = int(split[0])
    mu0 = arr.mean()
    before, after = arr[:k].mean(), arr[k:].mean()
    if mu0 == 0:
        return ChangePoint(k, 0.0, 1.0, 0.0, 0.0)
    rng = np.random.default_rng(seed)
    fitted = np.where(np.arange(arr.size) < k, before, after)
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = np.where(fitted > 0, (arr - fitted) ** 2 / fitted, 0.0)
    phi = float(pearson.sum() / max(arr.size - 2, 1))
    if overdispersion and phi > 1.0:
        # NB with mean mu0 and variance phi * mu0: n = mu0 / (phi - 1), p = 1 / phi.
        sims = rng.negative_binomial(mu0 / (phi - 1.0), 1.0 / phi, size=(n_sim, arr.size))
    else:
        sims = rng.poisson(mu0, size=(n_sim, arr.size))
    null_stat, _ = _max_lr(sims.astype(np.float64), min_size)
    p = (1.0 + float((null_stat >= stat[0] - 1e-12).sum())) / (n_sim + 1.0)
    return ChangePoint(k, float(stat[0]), p, float(before), float(after))


def binary_segmentation(y: npt.ArrayLike, *, alpha: float = 0.05, min_size: int = 2,
                        max_changes: int = 3, n_sim: int = 999, seed: int = 0,
                        overdispersion: bool = True) -> list[ChangePoint]:
    """Detected change points (indices into ``y``), sorted, each significant at ``alpha``."""
    arr = np.asarray(y, dtype=np.float64)
    found: list[ChangePoint] = []
    stack = [(0, arr.size)]
    while stack and len(found) < max_changes:
        lo, hi = stack.pop(0)
        if hi - lo < 2 * min_size:
            continue
        cp = lr_test(arr[lo:hi], min_size=min_size, n_sim=n_sim, seed=seed + lo,
                     overdispersion=overdispersion)
        if cp.p_value < alpha:
            found.append(ChangePoint(cp.index + lo, cp.statistic, cp.p_value,
                                     cp.mean_before, cp.mean_after))
            stack += [(lo, lo + cp.index), (lo + cp.index, hi)]
    return sorted(found, key=lambda c: c.index)
