"""Classical log-linear capture-recapture, as in Rcapture (Rivest & Baillargeon, 1.4-4).

* Closed-population models of ``closedp.t``: M0, Mt, Mh and Mth with the Chao, Poisson2,
  Darroch and Gamma3.5 heterogeneity columns (§7.3).
* The multinomial profile-likelihood interval of ``closedpCI.t`` (§7.2).
* The AIC-stepwise method with a Wald stop of Bales, Hesketh & Silverman (2015) /
  modslavmse ``MSEfit`` (§7.1) - the method of the UK Home Office 2014 estimate.

These fit plain Poisson GLMs on the completed table, with no special handling of lists
that do not overlap (as the reference software does), and use R's ``glm`` iteration
settings (start ``mu = y + 0.1``, deviance tolerance 1e-8, at most 25 iterations), so that a
term drifting to ``-inf`` behaves as it does there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

# scipy.special's ndtr/ndtri/gammaincinv are what scipy.stats' norm.sf/ppf and chi2.ppf
# evaluate (bit-identical), without importing scipy.stats (about a second at start-up)
from scipy.special import gammaincinv, gammaln, ndtr, ndtri, xlogy

from tiplab.estimation.checks import design_matrix
from tiplab.estimation.errors import EstimationError
from tiplab.estimation.glm import PoissonFit, fit_poisson
from tiplab.estimation.terms import IntArray, all_pairs

FloatArray = npt.NDArray[np.float64]

R_TOL = 1e-8
R_MAXIT = 25

HETEROGENEITY = ("Chao", "Poisson2", "Darroch", "Gamma3.5")
CLOSED_MODELS = (
    "M0", "Mt",
    *(f"Mh-{h}" for h in HETEROGENEITY),
    *(f"Mth-{h}" for h in HETEROGENEITY),
)


@dataclass(frozen=True)
class GLMFit:
    """A plain Poisson GLM on all cells (no -inf handling), with its design."""

    X: FloatArray
    y: FloatArray
    glm: PoissonFit
    labels: tuple[str, ...]

    @property
    def n(self) -> float:
        return float(self.y.sum())

    @property
    def estimate(self) -> float:
        return self.n + math.exp(self.glm.coef[0])

    @property
    def dark_figure(self) -> float:
        return math.exp(self.glm.coef[0])

    @property
    def se_estimate(self) -> float:
        m0 = self.dark_figure
        var = m0 + m0 * m0 * self.glm.cov[0, 0]
        # a saturated or degenerate fit can give a negative variance: no standard error
        return math.sqrt(var) if var >= 0 else math.nan

    @property
    def aic(self) -> float:
        return float(-2.0 * self.glm.loglik + 2.0 * self.X.shape[1])

    @property
    def bic(self) -> float:
        return float(-2.0 * self.glm.loglik + math.log(self.n) * self.X.shape[1])

    def wald_p(self, j: int) -> float:
        se = math.sqrt(max(self.glm.cov[j, j], 0.0))
        if se == 0.0:
            return 1.0
        return float(2.0 * float(ndtr(-abs(float(self.glm.coef[j])) / se)))


def fit_glm(X: FloatArray, y: FloatArray, labels: tuple[str, ...]) -> GLMFit:
    """R-style Poisson GLM fit."""
    return GLMFit(X, y, fit_poisson(X, y, tol=R_TOL, maxiter=R_MAXIT), labels)


# ------------------------------------------------------------------ profile likelihood
@dataclass(frozen=True)
class ProfileInterval:
    """Multinomial profile-likelihood estimate (``abundance``) and interval."""

    abundance: float
    lower: float
    upper: float
    level: float
    evaluations: int


def _stirling_correction(n0: float, n_total: float) -> float:
    """``log(n0^n0 N! / (N^N n0!))`` (exact, through log-gamma)."""
    return float(xlogy(n0, n0) - gammaln(n0 + 1.0) + gammaln(n_total + 1.0)
                 - xlogy(n_total, n_total))


def profile_interval(
    X: FloatArray, y: FloatArray, level: float = 0.95, se_n: float | None = None
) -> ProfileInterval:
    """Rcapture's multinomial profile-likelihood interval for N (``closedpCI.t``).

    For a dark-cell count ``n0`` a cell with design row "intercept only" is appended and the
    Poisson GLM refitted; the multinomial profile log-likelihood is
    ``-(deviance - 2 ct)/2`` with ``ct = log(n0^n0 N!/(N^N n0!))``, ``N = n + n0``.
    The maximiser (on an integer grid, after zooming a 21-point grid) is the abundance;
    the interval is ``n + {n0 : 2 (max - profile(n0)) <= χ²₁(level)}``.

    Assumes a closed population and a multinomial model for the ``N`` cases over all
    ``2^t`` patterns; the log-linear model is taken as correct (no selection uncertainty).
    """
    n = float(y.sum())
    e0 = np.zeros(X.shape[1])
    e0[0] = 1.0
    X1 = np.vstack([X, e0])
    state: dict[str, FloatArray | None] = {"coef": None}
    count = [0]

    def prof(n0: float) -> float:
        y1 = np.append(y, n0)
        g = fit_poisson(X1, y1, start=state["coef"], tol=1e-12, maxiter=100)
        state["coef"] = g.coef
        count[0] += 1
        return float(-(g.deviance - 2.0 * _stirling_correction(n0, n + n0)) / 2.0)

    base = fit_poisson(X, y, tol=1e-12, maxiter=100)
    m0 = math.exp(base.coef[0])
    if se_n is None:
        se_n = math.sqrt(m0 + m0 * m0 * base.cov[0, 0])
    z = float(ndtri(0.5 + level / 2.0))
    lo, hi = 0.0, max(m0 + 2.0 * z * se_n, 10.0)
    # zoom a 21-point grid until it is integer-spaced
    for _ in range(60):
        grid = np.linspace(lo, hi, 21)
        vals = np.array([prof(float(g)) for g in grid])
        k = int(np.argmax(vals))
        step = grid[1] - grid[0]
        if k == grid.size - 1:  # maximum at the edge: extend
            lo, hi = grid[-3], grid[-1] + 10.0 * step
            continue
        lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
        if step <= 1.0:
            break
    ints = np.arange(max(math.floor(lo) - 1, 0), math.ceil(hi) + 2, dtype=float)
    ivals = np.array([prof(float(v)) for v in ints])
    best_n0 = float(ints[int(np.argmax(ivals))])
    pmax = float(ivals.max())
    crit = float(gammaincinv(0.5, level))  # chi2(1).ppf(level) / 2

    def g(n0: float) -> float:
        return pmax - prof(n0) - crit

    from scipy.optimize import brentq  # imported here: scipy.optimize is slow to load

    low_n0 = 0.0 if g(0.0) <= 0 else float(brentq(g, 0.0, best_n0, xtol=1e-6))
    up = max(best_n0 * 2.0, best_n0 + 10.0)
    for _ in range(60):
        if g(up) > 0:
            break
        up *= 2.0
    else:  # pragma: no cover - profile does not fall off
        raise EstimationError("profile likelihood does not fall below the cut-off; the "
                              "upper limit is infinite for this model.")
    up_n0 = float(brentq(g, best_n0, up, xtol=1e-6))
    return ProfileInterval(n + best_n0, n + low_n0, n + up_n0, level, count[0])


# ------------------------------------------------------------------- closed models
def _het_columns(f: FloatArray, t: int, het: str) -> list[tuple[str, FloatArray]]:
    if het == "Chao":
        return [(f"tau{k}", np.maximum(f - k + 1.0, 0.0)) for k in range(3, t + 1)]
    if het == "Poisson2":
        return [("tau", 2.0**f - 1.0)]
    if het == "Darroch":
        return [("tau", f * f / 2.0)]
    if het == "Gamma3.5":
        return [("tau", -np.log(3.5 + f) + math.log(3.5))]
    raise EstimationError(
        f"unknown heterogeneity model {het!r}; use one of {', '.join(HETEROGENEITY)}.")


@dataclass(frozen=True)
class ClosedModelFit:
    """Fit of one Rcapture closed-population model."""

    name: str
    fit: GLMFit
    dropped_columns: tuple[str, ...] = field(default=())


def closed_model(patterns: IntArray, counts: FloatArray, t: int, name: str) -> ClosedModelFit:
    """Fit an Rcapture ``closedp.t`` model: M0, Mt, Mh-<het>, Mth-<het>.

    M0: capture probability equal for all lists. Mt: one effect per list (the MSE
    independence model). Mh/Mth add individual heterogeneity columns in the number of
    lists ``f`` a case is on. For Chao's lower bound, columns with negative estimates are
    removed one at a time (highest order first) and the model refitted.
    """
    if name not in CLOSED_MODELS:
        raise EstimationError(
            f"unknown closed-population model {name!r}; use one of {', '.join(CLOSED_MODELS)}.")
    f = np.array([p.bit_count() for p in patterns.tolist()], dtype=np.float64)
    base, _, het = name.partition("-")
    cols: list[tuple[str, FloatArray]] = [("(Intercept)", np.ones(patterns.size))]
    if base in ("M0", "Mh"):
        cols.append(("f", f))
    else:
        X = design_matrix(patterns, t, ())
        cols += [(f"list{i + 1}", X[:, 1 + i]) for i in range(t)]
    hcols = _het_columns(f, t, het) if het else []
    dropped: list[str] = []
    while True:
        allc = cols + hcols
        X = np.column_stack([c for _, c in allc])
        fit = fit_glm(X, counts, tuple(nm for nm, _ in allc))
        if het != "Chao" or not hcols:
            break
        neg = [j for j in range(len(cols), len(allc)) if fit.glm.coef[j] < 0]
        if not neg:
            break
        j = max(neg)
        dropped.append(allc[j][0])
        hcols = [c for c in hcols if c[0] != allc[j][0]]
    return ClosedModelFit(name, fit, tuple(dropped))


# -------------------------------------------------------------------- AIC stepwise
@dataclass(frozen=True)
class AICStepwiseResult:
    """Final GLM of the AIC-stepwise search and the pairs added."""

    fit: GLMFit
    pairs: tuple[int, ...]
    steps: tuple[tuple[int, float, float], ...]  # (pair, AIC, Wald p) considered per cycle
    stop_reason: str


def aic_stepwise(
    patterns: IntArray, counts: FloatArray, t: int, pthresh: float = 0.05
) -> AICStepwiseResult:
    """Bales-Hesketh-Silverman AIC-stepwise selection with a Wald stop (modslavmse).

    From main effects: at each cycle the pair giving the lowest AIC is tried (first in pair
    order on ties); stop if it does not lower AIC, or if its Wald p-value in the new fit
    exceeds ``pthresh`` (then it is not added).
    """
    pairs = all_pairs(t)

    def fit_terms(terms: tuple[int, ...]) -> GLMFit:
        X = design_matrix(patterns, t, terms)
        return fit_glm(X, counts, ())

    cur: tuple[int, ...] = ()
    fit = fit_terms(cur)
    a0 = fit.aic
    steps: list[tuple[int, float, float]] = []
    reason = "no pair lowers AIC"
    while True:
        cands = [p for p in pairs if p not in cur]
        if not cands:
            reason = "all pairs included"
            break
        fits = [fit_terms((*cur, p)) for p in cands]
        aics = np.array([f.aic for f in fits])
        k = int(np.argmin(aics))
        if aics[k] >= a0:
            reason = "no pair lowers AIC"
            break
        new = fits[k]
        p = new.wald_p(new.X.shape[1] - 1)
        steps.append((cands[k], float(aics[k]), p))
        if p > pthresh:
            reason = f"Wald p = {p:.3g} > {pthresh} for the best pair"
            break
        cur = (*cur, cands[k])
        fit, a0 = new, float(aics[k])
    return AICStepwiseResult(fit, cur, tuple(steps), reason)


def closed_model_estimator(name: str, t: int, patterns: IntArray) -> Callable[[FloatArray], float]:
    """Closure used by the bootstrap for a closed-population model."""

    def est(counts: FloatArray) -> float:
        try:
            return closed_model(patterns, counts, t, name).fit.estimate
        except (EstimationError, OverflowError, np.linalg.LinAlgError):
            return float("nan")

    return est
