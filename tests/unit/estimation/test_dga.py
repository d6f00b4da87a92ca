"""dga: Bayesian model averaging over decomposable graphs (Madigan & York 1997).

Reference figures, with their sources, are in tests/results/mse/bayesian.py: Madigan & York's
3-list example as the R package dga tests it, and MSETools' dga on the UK 5-list table.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from mse_helpers import load
from scipy.special import gammaln

from results.mse.bayesian import (
    MY_3,
    MY_AVERAGED,
    MY_PRIOR_NEGBIN,
    MY_TOP_MODEL,
    UK5_DGA,
)
from tiplab.estimation import CaptureTable, EstimationError
from tiplab.estimation.dga import decomposable_graphs, dga, log_posterior


def _normalise(w: np.ndarray) -> np.ndarray:
    p = np.exp(w - w.max())
    return p / p.sum()


def test_the_graph_catalogues_have_the_package_sizes() -> None:
    # dga ships graphs3 (8), graphs4 (61) and graphs5 (822): every decomposable graph
    assert [len(decomposable_graphs(t)) for t in (3, 4, 5)] == [8, 61, 822]
    four_cycles = [g for g in decomposable_graphs(4) if len(g.edges) == 4
                   and all(sum(v in e for e in g.edges) == 2 for v in range(4))]
    assert four_cycles == []  # a chordless 4-cycle is not decomposable


def test_madigan_and_york_three_list_example_as_in_the_dga_package() -> None:
    table = CaptureTable.from_patterns(("A", "B", "C"), range(8), MY_3)
    grid = np.arange(1, 301, dtype=float)
    n_total = grid + sum(MY_3)
    a, b = MY_PRIOR_NEGBIN
    prior = (n_total * np.log(b) - (n_total + a) * np.log(1 + b) + gammaln(n_total + a)
             - gammaln(n_total + 1) - gammaln(a))
    w, _graphs = log_posterior(table, grid, 1.0, prior)
    p = _normalise(w)
    top = p[np.argmax(p.sum(axis=1))]
    assert round(top.sum(), 2) == MY_TOP_MODEL["probability"]
    assert round((top / n_total).mean() / (top / n_total ** 2).mean()) == MY_TOP_MODEL["bayes"]
    assert n_total[np.argmax(top)] == MY_TOP_MODEL["mode"]
    avg = p.sum(axis=0)
    assert round((avg / n_total).mean() / (avg / n_total ** 2).mean()) == MY_AVERAGED["bayes"]
    assert n_total[np.argmax(avg)] == MY_AVERAGED["mode"]


def _brute_force_log_ml(y: np.ndarray, cliques: list[tuple[int, ...]],
                        separators: list[tuple[int, ...]], delta: float) -> float:
    """The hyper-Dirichlet marginal likelihood written out cell by cell, loops only."""
    t, total = 3, float(y.sum())

    def h(members: tuple[int, ...]) -> float:
        cells: dict[tuple[int, ...], float] = {}
        for pattern in range(8):
            key = tuple(pattern >> i & 1 for i in members)
            cells[key] = cells.get(key, 0.0) + y[pattern]
        alpha = delta * 2 ** (t - len(members))
        out = gammaln(delta * 2 ** t) - gammaln(total + delta * 2 ** t)
        for v in cells.values():
            out += gammaln(v + alpha) - gammaln(alpha)
        return float(out)

    return sum(h(c) for c in cliques) - sum(h(s) for s in separators)


def test_model_probabilities_match_a_brute_force_enumeration_on_three_lists() -> None:
    table = CaptureTable.from_patterns(("A", "B", "C"), range(8), MY_3)
    grid = np.arange(0, 400, dtype=float)
    delta = 0.25
    w, graphs = log_posterior(table, grid, delta)
    p = _normalise(w)
    assert p.sum() == pytest.approx(1.0)
    # brute force: each graph's cliques and separators by hand, every cell by a loop
    by_edges = {
        (): ([(0,), (1,), (2,)], []),
        ((0, 1),): ([(0, 1), (2,)], []), ((0, 2),): ([(0, 2), (1,)], []),
        ((1, 2),): ([(1, 2), (0,)], []),
        ((0, 1), (0, 2)): ([(0, 1), (0, 2)], [(0,)]),
        ((0, 1), (1, 2)): ([(0, 1), (1, 2)], [(1,)]),
        ((0, 2), (1, 2)): ([(0, 2), (1, 2)], [(2,)]),
        ((0, 1), (0, 2), (1, 2)): ([(0, 1, 2)], []),
    }
    y_obs = np.array(MY_3, dtype=float)
    n = y_obs.sum()
    brute = np.empty((len(graphs), grid.size))
    for g, graph in enumerate(graphs):
        cliques, seps = by_edges[graph.edges]
        for k, m in enumerate(grid):
            y = y_obs.copy()
            y[0] = m
            brute[g, k] = (_brute_force_log_ml(y, cliques, seps, delta)
                           + gammaln(n + m + 1) - gammaln(y_obs[1:] + 1).sum()
                           - gammaln(m + 1) - np.log(n + m))
    q = _normalise(brute)
    np.testing.assert_allclose(p.sum(axis=1), q.sum(axis=1), rtol=1e-9)
    np.testing.assert_allclose(p.sum(axis=0), q.sum(axis=0), rtol=1e-9, atol=1e-15)


def test_it_recovers_n_on_data_from_its_own_model() -> None:
    rng = np.random.default_rng(7)
    covered = 0
    for _ in range(20):
        n_true = 2000
        caught = rng.random((n_true, 4)) < np.array([0.25, 0.3, 0.2, 0.35])  # independent
        masks = caught @ (1 << np.arange(4))
        counts = np.bincount(masks, minlength=16)
        table = CaptureTable.from_patterns("ABCD", range(1, 16), counts[1:])
        lo, hi = dga(table).interval(0.95)
        covered += lo <= n_true <= hi
    assert covered >= 17  # nominal 19 of 20


def test_bad_tables_are_refused_in_words() -> None:
    with pytest.raises(EstimationError, match="3 to 5 lists"):
        dga(CaptureTable.from_patterns("AB", [1, 2, 3], [5, 6, 2]))
    with pytest.raises(EstimationError, match="3 to 5 lists"):
        dga(CaptureTable.from_patterns("ABCDEF", [1, 2, 4], [1, 1, 1]))
    with pytest.raises(EstimationError, match="lists with no cases: C"):
        dga(CaptureTable.from_patterns("ABC", [1, 2, 3], [5, 6, 2]))


def test_a_grid_too_small_is_reported() -> None:
    table = CaptureTable.from_patterns(("A", "B", "C"), range(8), MY_3)
    r = dga(table, max_missing=50)
    assert any("raise max_missing" in w for w in r.warnings)
    full = dga(table)
    assert full.warnings == []
    assert full.interval()[0] <= full.median <= full.interval()[1]
    assert list(itertools.accumulate(full.model_probabilities))[-1] == pytest.approx(1.0)


UK5 = "uk2013_5lists.csv"


def test_uk_five_lists_as_msetools_reports_it() -> None:
    """MSETools (Binette & Steorts 2022; OlivierBinette/MSETools README.md at 0af58a1):
    dga(UK) on its grid of 1,000 points from 1 to 30 n, prior 1/N, delta 2^-5: median
    23,016, 95% interval 10,408 - 33,481."""
    table = load(UK5)
    grid = np.unique(np.round(np.linspace(1, 30 * table.n, 1000)))
    w, _graphs = log_posterior(table, grid, 2.0 ** -5)
    cdf = np.cumsum(_normalise(w).sum(axis=0))
    n_total = grid + table.n
    published = [UK5_DGA["median"], *UK5_DGA["interval"]]
    assert [n_total[np.argmax(cdf > q)] for q in (0.5, 0.025, 0.975)] == published
    # the default (every integer where the posterior has mass) agrees to the coarse grid's
    # resolution (30 n / 1,000 = 82)
    r = dga(table)
    assert abs(r.median - published[0]) <= 82
    assert abs(r.interval()[0] - published[1]) <= 82
    assert abs(r.interval()[1] - published[2]) <= 82
