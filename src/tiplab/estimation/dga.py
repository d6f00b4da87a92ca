"""Bayesian model averaging over decomposable graphical models (Madigan & York 1997).

The method of the R package ``dga`` (Johndrow, Lum & Madigan), written from its formulas:

* every decomposable (chordal) graph on the ``t`` lists is a model of list dependence: lists
  joined by an edge may depend on each other, the others are conditionally independent;
* the cell probabilities of the complete ``2**t`` table have a hyper-Dirichlet prior with
  ``delta`` per cell (the package suggests ``2**-t``); for a graph with cliques ``C`` and
  separators ``S`` the marginal likelihood of the complete table factorises as
  ``prod_C h(n_C) / prod_S h(n_S)``, ``h`` the Dirichlet-multinomial marginal of the
  clique's marginal table with ``delta * 2**(t - |C|)`` per marginal cell;
* the unobserved cell ``n_0`` runs over a grid ``0 .. max_missing``; each (graph, n_0) gets
  log marginal likelihood + the multinomial coefficient ``log(N! / (n_0! prod n_x!))`` + the log
  prior of ``N = n + n_0`` (default ``-log N``, the package's; ``-log n_0`` is not defined at
  0) + the log prior of the graph (uniform by default);
* normalised over all (graph, n_0), the column sums are the posterior of N averaged over the
  models, the row sums the posterior probabilities of the models.

Usage::

    from tiplab.estimation.dga import dga
    r = dga(table)              # CaptureTable with 3 to 5 lists
    r.median, r.interval(0.95), r.model_probabilities[:3]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln

from tiplab.estimation.errors import EstimationError
from tiplab.estimation.table import CaptureTable

FloatArray = npt.NDArray[np.float64]

#: lists the method supports (the package's graph catalogues: 3, 4 and 5 lists)
MIN_LISTS, MAX_LISTS = 3, 5


@dataclass(frozen=True)
class Graph:
    """A decomposable graph on lists ``0..t-1``: edges, maximal cliques, separators (as
    bit masks of lists; a separator may repeat, empty ones are left out)."""

    edges: tuple[tuple[int, int], ...]
    cliques: tuple[int, ...]
    separators: tuple[int, ...]

    def label(self, names: Sequence[str]) -> str:
        def part(mask: int) -> str:
            return "".join(str(i + 1) for i in range(len(names)) if mask >> i & 1)

        return "[" + ",".join(part(c) for c in self.cliques) + "]"


def _simplicial_order(t: int, adj: list[int]) -> bool:
    """True if the graph is chordal: a perfect elimination ordering exists (repeatedly
    remove a vertex whose remaining neighbours form a clique)."""
    left = (1 << t) - 1
    while left:
        for v in range(t):
            if not left >> v & 1:
                continue
            nb = adj[v] & left & ~(1 << v)
            if all((adj[u] | (1 << u)) & nb == nb for u in range(t) if nb >> u & 1):
                left &= ~(1 << v)
                break
        else:
            return False
    return True


def _maximal_cliques(t: int, adj: list[int]) -> list[int]:
    cliques = []
    for mask in range(1, 1 << t):
        members = [i for i in range(t) if mask >> i & 1]
        if all(adj[a] >> b & 1 for a, b in combinations(members, 2)):
            cliques.append(mask)
    return [c for c in cliques if not any(c != d and c & d == c for d in cliques)]


def _separators(cliques: list[int]) -> list[int]:
    """The separators of a junction tree: a maximum-weight spanning forest of the cliques,
    weights the sizes of the intersections (Kruskal); empty intersections are left out."""
    pairs = sorted(((bin(a & b).count("1"), i, j) for (i, a), (j, b)
                    in combinations(enumerate(cliques), 2)), reverse=True)
    parent = list(range(len(cliques)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    out = []
    for w, i, j in pairs:
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[ri] = rj
            if w > 0:
                out.append(cliques[i] & cliques[j])
    return out


@cache
def decomposable_graphs(t: int) -> tuple[Graph, ...]:
    """Every decomposable graph on ``t`` lists (8, 61 and 822 for 3, 4 and 5 lists, as the
    package's catalogues ``graphs3``, ``graphs4``, ``graphs5``)."""
    pairs = list(combinations(range(t), 2))
    out = []
    for bits in range(1 << len(pairs)):
        edges = tuple(p for k, p in enumerate(pairs) if bits >> k & 1)
        adj = [0] * t
        for a, b in edges:
            adj[a] |= 1 << b
            adj[b] |= 1 << a
        if not _simplicial_order(t, adj):
            continue
        cliques = _maximal_cliques(t, adj)
        out.append(Graph(edges, tuple(cliques), tuple(_separators(cliques))))
    return tuple(out)


@dataclass
class DGAResult:
    """Posterior of N averaged over the decomposable models, and of the models."""

    lists: list[str]
    observed: int
    n_total: FloatArray  # the grid of N = observed + n_0
    posterior: FloatArray  # P(N = n_total[k] | data), sums to 1
    models: list[str]
    model_probabilities: FloatArray  # in the order of ``models``, sums to 1
    delta: float
    prior: str
    max_missing: int
    warnings: list[str] = field(default_factory=list)

    def quantile(self, q: float) -> float:
        """The smallest N on the grid with posterior CDF >= q."""
        cdf = np.cumsum(self.posterior)
        k = int(np.searchsorted(cdf, q - 1e-12))
        return float(self.n_total[min(k, self.n_total.size - 1)])

    @property
    def median(self) -> float:
        return self.quantile(0.5)

    @property
    def mean(self) -> float:
        return float(self.posterior @ self.n_total)

    @property
    def mode(self) -> float:
        return float(self.n_total[int(np.argmax(self.posterior))])

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """Equal-tailed credible interval on the grid."""
        a = (1.0 - level) / 2.0
        return self.quantile(a), self.quantile(1.0 - a)

    def bayes_estimate(self) -> float:
        """Madigan & York's estimator under relative squared error loss:
        E[1/N] / E[1/N**2]."""
        return float((self.posterior / self.n_total).sum()
                     / (self.posterior / self.n_total ** 2).sum())

    def top_models(self, k: int = 5) -> list[tuple[str, float]]:
        order = np.argsort(-self.model_probabilities, kind="stable")[:k]
        return [(self.models[i], float(self.model_probabilities[i])) for i in order]

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.interval()
        return {"method": "dga", "lists": self.lists, "observed": self.observed,
                "median": self.median, "mean": self.mean, "mode": self.mode,
                "bayes_estimate": self.bayes_estimate(), "interval": [lo, hi],
                "top_models": [{"model": m, "probability": p} for m, p in self.top_models()],
                "delta": self.delta, "prior": self.prior, "max_missing": self.max_missing,
                "warnings": self.warnings}


def _full_table(table: CaptureTable) -> FloatArray:
    """Counts indexed by pattern bit mask, 0 in the unobserved cell."""
    y = np.zeros(1 << table.t, dtype=np.float64)
    y[table.patterns] = table.counts
    return y


def _marginal(y: FloatArray, t: int, mask: int) -> FloatArray:
    """The marginal table of the lists in ``mask``, indexed by the sub-pattern."""
    members = [i for i in range(t) if mask >> i & 1]
    idx = np.zeros(y.size, dtype=np.int64)
    for k, i in enumerate(members):
        idx |= ((np.arange(y.size) >> i) & 1) << k
    return np.bincount(idx, weights=y, minlength=1 << len(members)).astype(np.float64)


def log_posterior(table: CaptureTable, n_missing: npt.ArrayLike, delta: float,
                  log_prior: FloatArray | None = None,
                  log_model_prior: FloatArray | None = None) -> tuple[FloatArray,
                                                                     tuple[Graph, ...]]:
    """Unnormalised log posterior weights, (graphs x grid of n_0), as ``dga::bma.cr``."""
    t = table.t
    y = _full_table(table)
    n = float(y.sum())
    m = np.asarray(n_missing, dtype=np.float64)
    graphs = decomposable_graphs(t)
    comp: dict[int, FloatArray] = {}
    for mask in range(1, 1 << t):
        d = _marginal(y, t, mask)
        dl = delta * 2.0 ** (t - bin(mask).count("1"))
        # the all-absent marginal cell holds the unobserved n_0 as well
        comp[mask] = (gammaln(m + d[0] + dl) + float(gammaln(d[1:] + dl).sum())
                      - d.size * float(gammaln(dl)))
    denominator = float(gammaln((1 << t) * delta)) - gammaln(m + n + (1 << t) * delta)
    out = np.empty((len(graphs), m.size))
    for g, graph in enumerate(graphs):
        row = sum((comp[c] for c in graph.cliques), np.zeros(m.size))
        row -= sum((comp[s] for s in graph.separators), np.zeros(m.size))
        out[g] = row + (len(graph.cliques) - len(graph.separators)) * denominator
    out += gammaln(m + n + 1) - float(gammaln(y[1:] + 1).sum()) - gammaln(m + 1)
    out += -np.log(n + m) if log_prior is None else log_prior
    if log_model_prior is not None:
        out += np.asarray(log_model_prior, dtype=np.float64)[:, None]
    return out, graphs


#: most grid points of unobserved counts evaluated at once (x the number of graphs)
MAX_GRID = 50_000


def _adaptive(table: CaptureTable, delta: float,
              max_missing: int) -> tuple[FloatArray, FloatArray, tuple[Graph, ...]]:
    """The posterior on a coarse grid over ``0..max_missing`` first (1,000 points, as
    MSETools), then on every integer (or a step that keeps at most ``MAX_GRID`` points)
    where the coarse posterior has mass. With the default prior 1/N a uniform grid needs
    no spacing correction."""
    coarse = np.unique(np.round(np.linspace(0, max_missing, 1000)))
    w, graphs = log_posterior(table, coarse, delta)
    post = np.exp(w - w.max()).sum(axis=0)
    post /= post.sum()
    cdf = np.cumsum(post)
    lo = coarse[max(int(np.searchsorted(cdf, 1e-9)) - 1, 0)]
    hi = coarse[min(int(np.searchsorted(cdf, 1 - 1e-9)) + 1, coarse.size - 1)]
    step = max(1, math.ceil((hi - lo + 1) / MAX_GRID))
    fine = np.arange(lo, hi + 1, step, dtype=np.float64)
    w, graphs = log_posterior(table, fine, delta)
    return fine, w, graphs


def dga(table: CaptureTable, *, delta: float | None = None, max_missing: int | None = None,
        log_prior: FloatArray | None = None, prior: str = "1/N") -> DGAResult:
    """Model-averaged posterior of the population size.

    Parameters
    ----------
    delta : hyper-Dirichlet parameter per cell (default ``2**-t``, the package's suggestion;
        larger values pull the cell probabilities towards uniform).
    max_missing : top of the range of unobserved counts (default ``30 * n``, as MSETools;
        Silverman used 11 x n for the total). The posterior is computed on a coarse grid,
        then on every integer where it has mass. A warning is added when the posterior has
        not vanished at the top: raise it.
    log_prior : log prior of N on every integer ``0..max_missing`` (default ``-log N``).
    """
    t = table.t
    if not MIN_LISTS <= t <= MAX_LISTS:
        raise EstimationError(f"{table.source or 'table'}: dga averages over decomposable "
                              f"models of 3 to 5 lists; this table has {t}. Merge lists, or "
                              "use the log-linear methods.")
    empty = [nm for nm, v in table.list_sizes().items() if v == 0]
    if empty:
        raise EstimationError(f"{table.source or 'table'}: lists with no cases: "
                              f"{', '.join(empty)}; omit them (a list nobody is on carries no "
                              "information on overlap).")
    n = int(table.n)
    if n == 0:
        raise EstimationError(f"{table.source or 'table'}: no cases observed.")
    delta = 2.0 ** -t if delta is None else float(delta)
    if not delta > 0:
        raise EstimationError(f"delta must be positive (got {delta}).")
    max_missing = 30 * n if max_missing is None else int(max_missing)
    if log_prior is not None:
        grid = np.arange(0, max_missing + 1, dtype=np.float64)
        lp = np.asarray(log_prior, dtype=np.float64)
        if lp.shape != grid.shape:
            raise EstimationError(f"log_prior has {lp.size} values for a grid of "
                                  f"{grid.size} (0..max_missing).")
        w, graphs = log_posterior(table, grid, delta, lp)
    else:
        grid, w, graphs = _adaptive(table, delta, max_missing)
    w -= w.max()
    p = np.exp(w)
    p /= p.sum()
    post = p.sum(axis=0)
    warnings = []
    top = grid >= 0.99 * max_missing
    if post[top].sum() > 1e-3:
        warnings.append(f"the posterior of N has not vanished at the top of the grid "
                        f"(n_0 = {max_missing}): raise max_missing")
    if not math.isclose(float(post.sum()), 1.0, rel_tol=1e-9):
        raise EstimationError("dga: the posterior does not sum to 1 (numerical failure)")
    return DGAResult(lists=list(table.names), observed=n, n_total=grid + n, posterior=post,
                     models=[g.label(table.names) for g in graphs],
                     model_probabilities=p.sum(axis=1), delta=delta,
                     prior=prior if log_prior is not None else "1/N",
                     max_missing=max_missing, warnings=warnings)
