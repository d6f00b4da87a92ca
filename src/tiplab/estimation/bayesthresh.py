"""Bayesian thresholding (Silverman 2020, §6; modslavmse ``MCMCfit``; the methods note §9).

1. Fit the log-linear model with every two-list interaction by MCMC: flat priors on the
   intercept and the main effects, independent N(0, v) priors on the interactions
   (Silverman's recommended v = 1). The sampler is a random-walk Metropolis as MCMCpack's
   ``MCMCpoisson``: proposals from N(0, tune² C), C the inverse Hessian of the log posterior
   at its mode (found by Newton's method); tune 2.38 / sqrt(parameters) by default (MCMCpack:
   1.1, settable); burn-in 1,000, 10,000 draws.
2. Keep the interactions whose |posterior mean| / posterior sd is at least the threshold
   (default 2); drop the others.
3. Refit the reduced model the same way; each draw gives N = n + exp(intercept). The estimate
   is the posterior median, the interval the equal-tailed credible interval.

Seeded and reproducible. Non-overlapping pairs are kept (the proper prior keeps their
interaction finite); the thresholding then usually keeps them as strongly negative.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

from tiplab.estimation.errors import EstimationError
from tiplab.estimation.table import CaptureTable

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ThresholdSettings:
    prior_variance: float = 1.0
    threshold: float = 2.0
    burnin: int = 1_000
    draws: int = 10_000
    #: proposal scale; None: 2.38 / sqrt(parameters), the optimal random-walk scaling
    #: (Roberts, Gelman & Gilks 1997). MCMCpack's MCMCpoisson uses 1.1, which accepts only a
    #: few per cent of proposals with the 21 parameters of a 6-list pairwise model
    tune: float | None = None
    #: MultipleSystemsEstimation's optional order-3 stage: triples whose three pairs survived
    #: are fitted with the kept pairs and thresholded the same way
    order3: bool = False
    seed: int = 1234
    level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ThresholdResult:
    lists: list[str]
    observed: int
    settings: ThresholdSettings
    n_draws: FloatArray
    #: every interaction tried: posterior mean, sd and |mean| / sd; whether it was kept
    pairs: list[dict[str, Any]]
    acceptance: tuple[float, ...]
    warnings: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return float(np.median(self.n_draws))

    def interval(self, level: float | None = None) -> tuple[float, float]:
        a = (1.0 - (self.settings.level if level is None else level)) / 2.0
        lo, hi = np.quantile(self.n_draws, [a, 1.0 - a])
        return float(lo), float(hi)

    @property
    def kept(self) -> list[str]:
        return [p["term"] for p in self.pairs if p["kept"]]


def _design(table: CaptureTable, terms: list[tuple[int, ...]]) -> FloatArray:
    """Intercept, main effects and the interaction terms (tuples of lists)."""
    bits = ((table.patterns[:, None] >> np.arange(table.t)) & 1).astype(np.float64)
    cols = [np.ones(len(bits)), *bits.T,
            *[np.prod(bits[:, list(term)], axis=1) for term in terms]]
    return np.column_stack(cols)


def _threshold(table: CaptureTable, terms: list[tuple[int, ...]], draws: FloatArray,
               s: ThresholdSettings) -> list[dict[str, Any]]:
    stats = []
    for k, term in enumerate(terms):
        col = draws[:, 1 + table.t + k]
        sd = float(col.std(ddof=1))
        ratio = abs(float(col.mean())) / sd if sd > 0 else math.inf
        stats.append({"term": ":".join(table.names[i] for i in term),
                      "mean": float(col.mean()), "sd": sd, "ratio": ratio,
                      "kept": ratio >= s.threshold})
    return stats


def _sample(x: FloatArray, y: FloatArray, penalised: FloatArray, v: float,
            s: ThresholdSettings, rng: np.random.Generator) -> tuple[FloatArray, float]:
    """Draws of the coefficients (draws x columns) and the acceptance rate."""
    prec = np.where(penalised, 1.0 / v, 0.0)

    def logpost(beta: FloatArray) -> float:
        eta = x @ beta
        return float(y @ eta - np.exp(eta).sum() - 0.5 * (prec * beta ** 2).sum())

    beta = np.zeros(x.shape[1])
    beta[0] = math.log(max(y.mean(), 0.5))
    for _ in range(100):  # Newton to the mode
        mu = np.exp(x @ beta)
        grad = x.T @ (y - mu) - prec * beta
        hess = x.T @ (x * mu[:, None]) + np.diag(prec)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError as e:
            raise EstimationError("Bayesian thresholding: the model's information matrix is "
                                  "singular (a list with no cases?)") from e
        beta = beta + step
        if np.abs(step).max() < 1e-10:
            break
    mu = np.exp(x @ beta)
    hess = x.T @ (x * mu[:, None]) + np.diag(prec)
    tune = 2.38 / math.sqrt(x.shape[1]) if s.tune is None else s.tune
    chol = np.linalg.cholesky(np.linalg.inv(hess)) * tune
    current = logpost(beta)
    out = np.empty((s.draws, x.shape[1]))
    accepted = 0
    steps = rng.standard_normal((s.burnin + s.draws, x.shape[1])) @ chol.T
    logu = np.log(rng.random(s.burnin + s.draws))
    for i in range(s.burnin + s.draws):
        proposal = beta + steps[i]
        lp = logpost(proposal)
        if logu[i] < lp - current:
            beta, current = proposal, lp
            accepted += i >= s.burnin
        if i >= s.burnin:
            out[i - s.burnin] = beta
    return out, accepted / s.draws


def bayes_threshold(table: CaptureTable,
                    settings: ThresholdSettings | None = None) -> ThresholdResult:
    s = settings or ThresholdSettings()
    src = table.source or "table"
    if table.t < 3:
        raise EstimationError(f"{src}: Bayesian thresholding needs at least 3 lists; this "
                              f"table has {table.t}.")
    empty = [nm for nm, v in table.list_sizes().items() if v == 0]
    if empty:
        raise EstimationError(f"{src}: lists with no cases: {', '.join(empty)}; omit them.")
    if not s.prior_variance > 0 or s.draws < 100 or s.burnin < 0:
        raise EstimationError("Bayesian thresholding: prior_variance must be positive, draws "
                              "at least 100, burnin not negative.")
    rng = np.random.default_rng(s.seed)
    pairs: list[tuple[int, ...]] = list(combinations(range(table.t), 2))
    y = table.counts.astype(np.float64)

    def fit(terms: list[tuple[int, ...]]) -> tuple[FloatArray, float]:
        penal = np.array([False] * (1 + table.t) + [True] * len(terms))
        return _sample(_design(table, terms), y, penal, s.prior_variance, s, rng)

    draws, acc1 = fit(pairs)
    stats = _threshold(table, pairs, draws, s)
    kept = [p for p, st in zip(pairs, stats, strict=True) if st["kept"]]
    rates = [("first", acc1)]
    if s.order3:
        # a triple is eligible only if its three pairs survived (MultipleSystemsEstimation)
        triples: list[tuple[int, ...]] = [
            t for t in combinations(range(table.t), 3)
            if all(p in kept for p in combinations(t, 2))]
        if triples:
            draws3, acc3 = fit(kept + triples)
            rates.append(("order-3", acc3))
            tstats = _threshold(table, kept + triples, draws3, s)[len(kept):]
            stats += tstats
            kept += [t for t, st in zip(triples, tstats, strict=True) if st["kept"]]
    draws2, acc2 = fit(kept)
    rates.append(("final", acc2))
    n_draws = table.n + np.exp(draws2[:, 0])
    warnings = []
    for name, rate in rates:
        if not 0.1 <= rate <= 0.7:
            warnings.append(f"the {name} Metropolis chain accepted {rate:.0%} of its proposals "
                            "(expected 10-70%): change tune")
    return ThresholdResult(list(table.names), int(table.n), s, n_draws, stats,
                           tuple(r for _n, r in rates), warnings)
