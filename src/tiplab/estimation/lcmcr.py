"""LCMCR: the non-parametric latent-class capture-recapture model (Manrique-Vallier 2016).

Individuals belong to latent classes; within a class the lists are independent Bernoulli
with class-specific probabilities, which absorbs heterogeneity in how visible people are.
Written from the paper and the sampler of the R package LCMCR (cran/LCMCR,
``src/NPLCM_CR_Basic_Freq.cpp``), step for step:

* class weights: truncated stick-breaking, ``V_k ~ Beta(1, alpha)`` for ``k < K``,
  ``alpha ~ Gamma(a_alpha, b_alpha)`` (rate; defaults 0.25, 0.25);
* list probabilities ``lambda_jk ~ Beta(1, 1)``; prior ``p(N) ∝ 1/N``;
* one Gibbs sweep: class counts of every observed pattern (multinomial), ``lambda`` (Beta, from
  Gamma draws), the weights (stick-breaking Betas), the probability of being on no list
  ``p0 = sum_k nu_k prod_j (1 - lambda_jk)``, the unobserved count
  ``n0 ~ NegBin(n, 1 - p0)`` (redrawn above ``20 n``, as the package does), their classes, and
  ``alpha ~ Gamma(a + K - 1, b - log nu_K)``;
* initialisation as the package: list probabilities at their observed shares, weights 0.9
  spread over the first four classes, 500 sweeps with ``alpha = 0.3 / K``, classes then
  ordered by weight.

Several chains run at once, vectorised over a leading chain axis (NumPy, no compiled
code); each chain has its own seed from one ``SeedSequence``, so a run is reproducible.
Convergence: split R-hat and the bulk effective sample size of N across chains (Vehtari et
al. 2021, without rank normalisation); a run that fails them says so and what to change.

Usage::

    from tiplab.estimation.lcmcr import LCMCRSettings, lcmcr
    r = lcmcr(table, LCMCRSettings(chains=8, burnin=2000, samples=1000, thin=10, seed=1))
    r.median, r.interval(0.95), r.rhat, r.ess
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tiplab.estimation.errors import EstimationError
from tiplab.estimation.table import CaptureTable

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: R-hat above this, or fewer effective draws than ``MIN_ESS``: the chains have not converged
MAX_RHAT = 1.05
MIN_ESS = 100


@dataclass(frozen=True)
class LCMCRSettings:
    #: most latent classes (the package's default is 5; Manrique-Vallier's examples and
    #: MSETools use 10)
    K: int = 10
    chains: int = 4
    #: sweeps discarded after the package's 500 initialisation sweeps
    burnin: int = 10_000
    #: draws kept per chain
    samples: int = 1_000
    #: sweeps between kept draws
    thin: int = 10
    a_alpha: float = 0.25
    b_alpha: float = 0.25
    seed: int = 1234
    level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LCMCRResult:
    lists: list[str]
    observed: int
    settings: LCMCRSettings
    #: (chains, samples) draws of N, of the probability of being on no list, of the number of
    #: classes in use, and of alpha
    n_draws: IntArray
    p0_draws: FloatArray
    kstar_draws: IntArray
    alpha_draws: FloatArray
    rhat: float
    ess: float
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def draws(self) -> IntArray:
        return self.n_draws.reshape(-1)

    @property
    def median(self) -> float:
        return float(np.median(self.draws))

    @property
    def mean(self) -> float:
        return float(self.draws.mean())

    def interval(self, level: float | None = None) -> tuple[float, float]:
        a = (1.0 - (self.settings.level if level is None else level)) / 2.0
        lo, hi = np.quantile(self.draws, [a, 1.0 - a])
        return float(lo), float(hi)

    @property
    def converged(self) -> bool:
        return self.rhat <= MAX_RHAT and self.ess >= MIN_ESS

    @property
    def ess_per_second(self) -> float:
        return self.ess / self.seconds if self.seconds > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.interval()
        return {"method": "lcmcr", "lists": self.lists, "observed": self.observed,
                "median": self.median, "mean": self.mean, "interval": [lo, hi],
                "rhat": self.rhat, "ess": self.ess, "converged": self.converged,
                "seconds": self.seconds, "settings": self.settings.to_dict(),
                "k_star": {"median": float(np.median(self.kstar_draws)),
                           "max": int(self.kstar_draws.max())},
                "warnings": self.warnings}


# -- diagnostics ------------------------------------------------------------------------------

def _autocov(x: FloatArray) -> FloatArray:
    """Autocovariance of each row at every lag (FFT), biased (divided by n)."""
    n = x.shape[-1]
    xc = x - x.mean(axis=-1, keepdims=True)
    size = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(xc, size, axis=-1)
    out: FloatArray = np.fft.irfft(f * np.conj(f), size, axis=-1)[..., :n] / n
    return out


def split_rhat(draws: npt.ArrayLike) -> float:
    """Split R-hat (Gelman et al. 2013): each chain halved, between vs within variance."""
    x = np.asarray(draws, dtype=np.float64)
    n = x.shape[1] // 2
    if n < 2:
        return math.nan
    halves = np.concatenate([x[:, :n], x[:, -n:]], axis=0)
    w = halves.var(axis=1, ddof=1).mean()
    b = n * halves.mean(axis=1).var(ddof=1)
    if w == 0:
        return 1.0 if b == 0 else math.inf
    var_plus = (n - 1) / n * w + b / n
    return float(math.sqrt(var_plus / w))


def effective_sample_size(draws: npt.ArrayLike) -> float:
    """Multi-chain effective sample size (Stan's estimator: Geyer's initial monotone
    sequence on the combined autocorrelation)."""
    x = np.asarray(draws, dtype=np.float64)
    m, n = x.shape
    if n < 4:
        return math.nan
    acov = _autocov(x)
    w = acov[:, 0].mean() * n / (n - 1)
    if w == 0:
        return float(m * n)
    var_plus = w * (n - 1) / n + (x.mean(axis=1).var(ddof=1) if m > 1 else 0.0)
    rho = 1.0 - (w - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0
    # pair sums, kept while positive and made monotone
    t = 0
    total = 0.0
    prev = math.inf
    while t + 1 < n:
        pair = rho[t] + rho[t + 1]
        if pair <= 0:
            break
        pair = min(pair, prev)
        total += pair
        prev = pair
        t += 2
    tau = -1.0 + 2.0 * total
    return float(m * n / max(tau, 1.0 / math.log10(m * n + 10)))


# -- the sampler ------------------------------------------------------------------------------

class _State:
    """Every chain's parameters, chains on the first axis."""

    def __init__(self, x: FloatArray, freq: FloatArray, C: int, K: int) -> None:
        self.x, self.freq, self.C, self.K = x, freq, C, K
        self.n = int(freq.sum())
        j = x.shape[1]
        share = np.clip((x * freq[:, None]).sum(axis=0) / self.n, 1e-6, 1 - 1e-6)
        self.log_lam1 = np.broadcast_to(np.log(share)[None, :, None], (C, j, K)).copy()
        self.log_lam0 = np.broadcast_to(np.log1p(-share)[None, :, None], (C, j, K)).copy()
        start = min(4, K)
        nu = np.full(K, 0.1 / max(K - start, 1))
        nu[:start] = 0.9 / start
        if start == K:
            nu[:] = 1.0 / K
        self.log_nu = np.broadcast_to(np.log(nu), (C, K)).copy()
        self.alpha = np.full(C, 0.3 / K)
        self.n0 = np.zeros(C, dtype=np.int64)
        self.count0 = np.zeros((C, K), dtype=np.int64)
        self.zcount = np.zeros((C, x.shape[0], K), dtype=np.int64)
        self.p0 = np.zeros(C)


def _log_beta_pair(rng: np.random.Generator, a: FloatArray,
                   b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """log V and log(1 - V) for V ~ Beta(a, b), from two Gamma draws (as the package)."""
    g1 = rng.standard_gamma(a)
    g2 = rng.standard_gamma(b)
    s = g1 + g2
    tiny = np.finfo(np.float64).tiny
    return np.log(np.maximum(g1, tiny) / s), np.log(np.maximum(g2, tiny) / s)


def _sweep(s: _State, rng: np.random.Generator, a_alpha: float, b_alpha: float,
           update_alpha: bool) -> None:
    x, C, K = s.x, s.C, s.K
    # classes of the observed individuals, pattern by pattern
    logp = (np.einsum("mj,cjk->cmk", x, s.log_lam1)
            + np.einsum("mj,cjk->cmk", 1.0 - x, s.log_lam0) + s.log_nu[:, None, :])
    p = np.exp(logp - logp.max(axis=2, keepdims=True))
    p /= p.sum(axis=2, keepdims=True)
    s.zcount = rng.multinomial(np.broadcast_to(s.freq, (C, s.freq.size)).astype(np.int64), p)
    # list probabilities
    ones = np.einsum("mj,cmk->cjk", x, s.zcount)
    zeros = np.einsum("mj,cmk->cjk", 1.0 - x, s.zcount) + s.count0[:, None, :]
    s.log_lam1, s.log_lam0 = _log_beta_pair(rng, 1.0 + ones, 1.0 + zeros)
    # class weights (stick-breaking)
    count = s.zcount.sum(axis=1) + s.count0
    after = (s.n + s.n0)[:, None] - np.cumsum(count, axis=1)
    lv, l1v = _log_beta_pair(rng, 1.0 + count[:, :-1], s.alpha[:, None] + after[:, :-1])
    acc = np.concatenate([np.zeros((C, 1)), np.cumsum(l1v, axis=1)], axis=1)
    s.log_nu = np.concatenate([lv + acc[:, :-1], acc[:, -1:]], axis=1)
    # the unobserved: how many, and their classes
    lz = s.log_nu + s.log_lam0.sum(axis=1)
    s.p0 = np.minimum(np.exp(lz).sum(axis=1), 1.0 - 1e-12)
    n0 = rng.negative_binomial(s.n, 1.0 - s.p0)
    cap = 20 * s.n
    while np.any(n0 > cap):
        redo = n0 > cap
        n0[redo] = rng.negative_binomial(s.n, 1.0 - s.p0[redo])
    s.n0 = n0.astype(np.int64)
    q = np.exp(lz - lz.max(axis=1, keepdims=True))
    q /= q.sum(axis=1, keepdims=True)
    s.count0 = rng.multinomial(s.n0, q)
    if update_alpha:
        s.alpha = rng.gamma(a_alpha + K - 1.0, 1.0 / (b_alpha - s.log_nu[:, -1]))


def _permute_by_weight(s: _State) -> None:
    order = np.argsort(-s.log_nu, axis=1, kind="stable")
    take = np.take_along_axis
    s.log_nu = take(s.log_nu, order, axis=1)
    s.log_lam1 = take(s.log_lam1, order[:, None, :], axis=2)
    s.log_lam0 = take(s.log_lam0, order[:, None, :], axis=2)
    s.count0 = take(s.count0, order, axis=1)
    s.zcount = take(s.zcount, order[:, None, :], axis=2)


def lcmcr(table: CaptureTable, settings: LCMCRSettings | None = None) -> LCMCRResult:
    """Posterior of the population size under the latent-class model."""
    import time

    s = settings or LCMCRSettings()
    src = table.source or "table"
    if table.t < 3:
        raise EstimationError(f"{src}: the latent-class model needs at least 3 lists; this "
                              f"table has {table.t}.")
    empty = [nm for nm, v in table.list_sizes().items() if v == 0]
    if empty:
        raise EstimationError(f"{src}: lists with no cases: {', '.join(empty)}; omit them.")
    full = [nm for nm, v in table.list_sizes().items() if v == table.n]
    if full:
        raise EstimationError(f"{src}: every observed case is on {', '.join(full)}; such a "
                              "list says nothing about who is missed. Omit it.")
    if s.K < 1 or s.chains < 1 or s.samples < 2 or s.thin < 1 or s.burnin < 0:
        raise EstimationError("LCMCR settings: K, chains and thin must be at least 1, "
                              "samples at least 2, burnin not negative.")
    keep = table.counts > 0
    bits = (table.patterns[keep][:, None] >> np.arange(table.t)) & 1
    x = bits.astype(np.float64)
    freq = table.counts[keep].astype(np.float64)
    seeds = np.random.SeedSequence(s.seed).spawn(1)
    rng = np.random.default_rng(seeds[0])
    start = time.perf_counter()
    state = _State(x, freq, s.chains, s.K)
    for _ in range(500):
        _sweep(state, rng, s.a_alpha, s.b_alpha, update_alpha=False)
    _permute_by_weight(state)
    for _ in range(s.burnin):
        _sweep(state, rng, s.a_alpha, s.b_alpha, update_alpha=True)
    n_draws = np.empty((s.chains, s.samples), dtype=np.int64)
    p0 = np.empty((s.chains, s.samples))
    kstar = np.empty((s.chains, s.samples), dtype=np.int64)
    alpha = np.empty((s.chains, s.samples))
    for i in range(s.samples):
        for _ in range(s.thin):
            _sweep(state, rng, s.a_alpha, s.b_alpha, update_alpha=True)
        n_draws[:, i] = state.n + state.n0
        p0[:, i] = state.p0
        kstar[:, i] = ((state.zcount.sum(axis=1) + state.count0) > 0).sum(axis=1)
        alpha[:, i] = state.alpha
    seconds = time.perf_counter() - start
    rhat = split_rhat(n_draws)
    ess = effective_sample_size(n_draws)
    result = LCMCRResult(lists=list(table.names), observed=int(table.n), settings=s,
                         n_draws=n_draws, p0_draws=p0, kstar_draws=kstar, alpha_draws=alpha,
                         rhat=rhat, ess=ess, seconds=seconds)
    if not result.converged:
        result.warnings.append(
            f"the chains have not converged (R-hat {rhat:.3f}, wanted <= {MAX_RHAT}; "
            f"effective draws {ess:.0f}, wanted >= {MIN_ESS}): the interval is not reliable. "
            "Run more chains, a longer burn-in and more thinning (the sampler can stay in one "
            "of several modes: see the trace plot), or use another method.")
    if int(kstar.max()) >= s.K:
        result.warnings.append(f"every one of the K = {s.K} latent classes was used: raise K")
    return result
