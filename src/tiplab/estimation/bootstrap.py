"""Non-parametric bootstrap with BCa intervals (Chan, Silverman & Vincent 2021, §3.3).

Replicates are multinomial resamples of the observed cases over the capture patterns; the
*whole* selection-and-estimation procedure is re-run on each. The acceleration comes from a
grouped jackknife (one case removed from each non-empty pattern, weighted by its count), and
the limits are type-8 (median-unbiased) quantiles of the replicates at the BCa-adjusted
levels of DiCiccio & Efron (1996). Replicates whose procedure cannot produce an estimate are
dropped and counted.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

# scipy.special's ndtr/ndtri are what scipy.stats.norm.cdf/ppf evaluate (bit-identical),
# without importing scipy.stats (about a second at start-up)
from scipy.special import ndtr, ndtri

FloatArray = npt.NDArray[np.float64]
# maps a count vector to an estimate (or to a vector of estimates, e.g. one per top-k);
# may also have a ``batch`` method mapping a (B, cells) matrix to the B results at once
Estimator = Callable[[FloatArray], Any]

log = logging.getLogger("tiplab.estimation")

DEFAULT_ALPHA = (0.025, 0.05, 0.1, 0.16, 0.84, 0.9, 0.95, 0.975)


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap replicates, jackknife acceleration and BCa limits."""

    point: float
    replicates: FloatArray  # valid replicates only
    n_requested: int
    n_dropped: int
    jackknife: FloatArray  # θ_(j), one per non-empty pattern (nan if not estimable)
    jackknife_weights: FloatArray
    ahat: float
    z0: float
    seed: int | None
    bca: dict[float, float] = field(default_factory=dict)

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """BCa interval at the given two-sided level."""
        lo, hi = round((1.0 - level) / 2.0, 12), round(1.0 - (1.0 - level) / 2.0, 12)
        q = bca_quantiles(self.point, self.replicates, self.ahat, (lo, hi))
        return (q[lo], q[hi])

    def to_dict(self, include_replicates: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "nboot": self.n_requested,
            "n_valid": int(self.replicates.size),
            "n_dropped": self.n_dropped,
            "seed": self.seed,
            "ahat": _finite_or_none(self.ahat),
            "z0": _finite_or_none(self.z0),
            "bca_quantiles": {str(k): _finite_or_none(v) for k, v in self.bca.items()},
        }
        if include_replicates:
            out["replicates"] = [float(x) for x in self.replicates]
        return out


def _finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def acceleration(theta_jack: FloatArray, weights: FloatArray) -> float:
    """Grouped-jackknife acceleration ``â = Σ w d³ / (6 (Σ w d²)^{3/2})``, ``d = θ̄ - θ_(j)``."""
    ok = np.isfinite(theta_jack)
    th, w = theta_jack[ok], weights[ok]
    if th.size == 0 or w.sum() <= 0:
        return 0.0
    tbar = float(np.sum(w * th) / w.sum())
    d = tbar - th
    den = 6.0 * float(np.sum(w * d * d)) ** 1.5
    if den == 0.0:
        return 0.0
    return float(np.sum(w * d**3) / den)


def bca_quantiles(
    point: float, reps: FloatArray, ahat: float, alpha: Sequence[float]
) -> dict[float, float]:
    """BCa limits: type-8 quantiles of ``reps`` at ``Φ(z0 + (z0+zα)/(1 - â(z0+zα)))``."""
    out: dict[float, float] = {}
    if reps.size == 0:
        return {float(a): float("nan") for a in alpha}
    z0 = float(ndtri(np.mean(reps < point)))
    for a in alpha:
        za = float(ndtri(a))
        with np.errstate(divide="ignore", invalid="ignore"):
            s = z0 + za
            adj = float(ndtr(z0 + s / (1.0 - ahat * s)))
        if not math.isfinite(adj):
            adj = 0.0 if s < 0 else 1.0
        out[float(a)] = float(np.quantile(reps, adj, method="median_unbiased"))
    return out


def _run_chunk(args: tuple[Estimator, FloatArray]) -> FloatArray:
    est, draws = args
    batch = getattr(est, "batch", None)
    if callable(batch):  # estimators that can do many tables at once (api.Procedure)
        return np.asarray(batch(draws), dtype=np.float64)
    return np.array([est(c) for c in draws], dtype=np.float64)


def run_estimator(
    estimator: Estimator, draws: FloatArray, workers: int = 1
) -> FloatArray:
    """Apply ``estimator`` to every row of ``draws`` (in ``workers`` processes if > 1)."""
    if workers <= 1 or draws.shape[0] < 50:
        return _run_chunk((estimator, draws))
    chunks = np.array_split(draws, workers)
    ctx = _mp_context()
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
        parts = list(ex.map(_run_chunk, [(estimator, c) for c in chunks]))
    return np.concatenate(parts)


def _mp_context() -> Any:
    import multiprocessing as mp

    # fork is fastest (no re-import) where it is safe; spawn elsewhere
    method = "fork" if os.name == "posix" and "fork" in mp.get_all_start_methods() else "spawn"
    return mp.get_context(method)


def bootstrap(
    counts: FloatArray,
    estimator: Estimator,
    nboot: int = 1000,
    seed: int | None = 1234,
    alpha: Sequence[float] = DEFAULT_ALPHA,
    point: float | None = None,
    workers: int = 1,
) -> BootstrapResult:
    """BCa bootstrap of ``estimator`` over multinomial resamples of ``counts``.

    Parameters
    ----------
    counts : ndarray
        Observed count per capture pattern (the completed table).
    estimator : callable
        Maps a count vector to an estimate, ``nan`` when it cannot (then dropped).
        Must be picklable when ``workers > 1``.
    nboot : int
        Number of replicates (default 1000).
    seed : int or None
        Seed of ``numpy.random.default_rng``; the same seed gives the same interval.
    alpha : sequence of float
        Levels of the BCa quantiles.
    point : float, optional
        Estimate on the data (computed when not given).
    workers : int
        Processes for the replicates (1 = in this process).

    Notes
    -----
    Assumes cases are independent draws over patterns (multinomial); the interval allows
    for the model-selection step because the selection is repeated on each replicate.
    """
    n = int(counts.sum())
    if point is None:
        point = estimator(counts)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, counts / n, size=nboot).astype(np.float64)
    rows = np.flatnonzero(counts > 0)
    jdraws = np.repeat(counts[None, :], rows.size, axis=0)
    jdraws[np.arange(rows.size), rows] -= 1.0
    # replicates and jackknife tables in one run (one process pool, one batch)
    both = run_estimator(estimator, np.vstack([draws, jdraws]), workers)
    reps, theta_j = both[:nboot], both[nboot:]
    valid = reps[np.isfinite(reps)]
    dropped = int(nboot - valid.size)
    if dropped:
        log.warning("bootstrap: %d of %d replicates could not be estimated and were dropped",
                    dropped, nboot)
    weights = counts[rows]
    ahat = acceleration(theta_j, weights)
    bca = bca_quantiles(point, valid, ahat, alpha)
    z0 = float(ndtri(np.mean(valid < point))) if valid.size else float("nan")
    return BootstrapResult(
        point=float(point),
        replicates=valid,
        n_requested=nboot,
        n_dropped=dropped,
        jackknife=theta_j,
        jackknife_weights=weights,
        ahat=ahat,
        z0=z0,
        seed=seed,
        bca=bca,
    )
