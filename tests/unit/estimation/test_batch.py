"""The batched (fast) paths give the results of the simple row-by-row paths.

The bootstrap runs the stepwise selection, the fixed/main fits and the BIC top-k choice on
all resampled tables at once (``stepwise_batch``, ``fit_model_batch``,
``TopKEstimator.batch``, ``ModelChecker.check_many``, ``fit_poisson_batch``). Each must
select exactly the same models and give the same estimates, to rounding, as the simple
functions applied table by table (which are themselves checked against statsmodels and the
published numbers). Timings are in ``benchmarks/``, not here.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mse_helpers import load

from tiplab.estimation import CaptureTable, bootstrap, check_all_models, estimate
from tiplab.estimation.api import Procedure
from tiplab.estimation.bic import TopKEstimator, bic_select
from tiplab.estimation.checks import ModelChecker, design_matrix
from tiplab.estimation.glm import fit_poisson, fit_poisson_batch
from tiplab.estimation.loglinear import fit_model, fit_model_batch
from tiplab.estimation.stepwise import stepwise_batch, stepwise_fit
from tiplab.estimation.terms import all_pairs, enumerate_hierarchical, parse_model

# rounding only: the batched IRLS sums the same terms in another order
RTOL = 1e-9

TABLES = ["uk2013_6lists.csv", "new_orleans_8lists.csv", "western_us_5lists.csv",
          "netherlands_2010_2015_6lists.csv", "kosovo_1999_4lists.csv",
          "korea_palembang_3lists.csv"]


def resamples(table: CaptureTable, nboot: int, seed: int) -> np.ndarray:
    """Bootstrap replicates (as in ``bootstrap``) followed by the jackknife tables."""
    n = table.n
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, table.counts / n, size=nboot).astype(np.float64)
    rows = np.flatnonzero(table.counts > 0)
    jack = np.repeat(table.counts[None, :], rows.size, axis=0)
    jack[np.arange(rows.size), rows] -= 1.0
    return np.vstack([table.counts[None, :], draws, jack])


def test_batched_irls_equals_single_fits() -> None:
    """Each row of fit_poisson_batch is fit_poisson on that row's cells and columns."""
    t = load("uk2013_6lists.csv")
    pairs = all_pairs(6)
    X = design_matrix(t.patterns, 6, pairs)
    rng = np.random.default_rng(0)
    Y = rng.multinomial(t.n, t.counts / t.n, size=40).astype(np.float64)
    cols = np.zeros((40, X.shape[1]), dtype=bool)
    cols[:, :7] = True
    cells = np.ones((40, t.counts.size), dtype=bool)
    for b in range(40):
        chosen = rng.choice(len(pairs), size=b % 6, replace=False)
        cols[b, 7 + chosen] = True
        if b % 5 == 0:  # drop the cells of a pair, as for a -inf term
            cells[b] = (t.patterns & pairs[b % 15]) != pairs[b % 15]
            cols[b, 7 + b % 15] = False
    Y = Y * cells
    f = fit_poisson_batch(X, Y, cells=cells, cols=cols)
    for b in range(40):
        one = fit_poisson(X[cells[b]][:, cols[b]], Y[b, cells[b]])
        np.testing.assert_allclose(f.coef[b, cols[b]], one.coef, rtol=RTOL, atol=1e-12)
        assert np.all(f.coef[b, ~cols[b]] == 0.0)
        np.testing.assert_allclose(f.mu[b, cells[b]], one.mu, rtol=RTOL)
        assert np.all(f.mu[b, ~cells[b]] == 0.0)
        assert f.loglik[b] == pytest.approx(one.loglik, rel=RTOL)
        assert f.iterations[b] == one.iterations
        assert f.converged[b] == one.converged


@pytest.mark.parametrize("name", TABLES)
def test_stepwise_batch_equals_stepwise_fit(name: str) -> None:
    """Same selected pairs (in the same order) and same estimates, table by table."""
    t = load(name)
    counts = resamples(t, 60, seed=20240)
    batch = stepwise_batch(t.patterns, counts, t.t, 0.02, ModelChecker(t.patterns, t.t))
    checker = ModelChecker(t.patterns, t.t)
    for b, c in enumerate(counts):
        simple = stepwise_fit(t.patterns, c, t.t, 0.02, checker)
        assert batch.terms[b] == simple.added
        assert batch.estimates[b] == pytest.approx(simple.fit.estimate, rel=RTOL)
    # row 0 is the data itself: the published point estimate's model
    assert batch.estimates[0] == pytest.approx(estimate(t, "stepwise", nboot=0).estimate,
                                               rel=RTOL)


@pytest.mark.parametrize("pthresh", [0.0, 0.001, 0.05, 1.0])
def test_stepwise_batch_other_thresholds(pthresh: float) -> None:
    t = load("uk2013_5lists.csv")
    counts = resamples(t, 20, seed=3)
    batch = stepwise_batch(t.patterns, counts, t.t, pthresh)
    for b, c in enumerate(counts):
        simple = stepwise_fit(t.patterns, c, t.t, pthresh)
        assert batch.terms[b] == simple.added
        assert batch.estimates[b] == pytest.approx(simple.fit.estimate, rel=RTOL)


@pytest.mark.parametrize(("name", "model"), [
    ("netherlands_2010_2015_6lists.csv", "1*2,2*5,3*5,4*6,5*6"),  # includes -inf terms
    ("uk2013_5lists.csv", "[123,24,45]"),
    ("kosovo_1999_4lists.csv", "[123,34]"),
    ("korea_palembang_3lists.csv", "[12,13,23]"),  # fails the existence check
])
def test_fit_model_batch_equals_fit_model(name: str, model: str) -> None:
    t = load(name)
    terms = parse_model(model, t.names)
    counts = resamples(t, 40, seed=11)
    fb = fit_model_batch(t.patterns, counts, t.t, terms)
    for b, c in enumerate(counts):
        f = fit_model((t.patterns, c, t.t), terms)
        assert fb.ok[b] == f.ok
        if f.ok:
            assert fb.estimate[b] == pytest.approx(f.estimate, rel=RTOL)
            assert fb.loglik[b] == pytest.approx(f.loglik, rel=RTOL)
            assert fb.n_params == f.n_params
        else:
            assert np.isnan(fb.estimate[b])


def test_check_many_equals_check() -> None:
    """Batched rank tests give the codes (and -inf terms) of the one-table check."""
    t = load("new_orleans_8lists.csv")
    counts = resamples(t, 80, seed=5)
    models = [frozenset(), parse_model("1*3,3*4,4*5", t.names),
              parse_model("1*2,1*3,3*8,2*5", t.names),
              frozenset(all_pairs(8)[:12])]
    for m in models:
        many = ModelChecker(t.patterns, t.t).check_many(counts, m)
        one = ModelChecker(t.patterns, t.t)
        for b, c in enumerate(counts):
            r = one.check(c, m)
            assert many[b].code == r.code
            assert many[b].reduction.neginf == r.reduction.neginf
            assert np.array_equal(many[b].reduction.kept, r.reduction.kept)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2), min_size=15, max_size=15), min_size=1,
                max_size=6), st.integers(0, 112))
def test_check_many_equals_check_random(rows: list[list[int]], model_index: int) -> None:
    """Sparse random tables (many zeros, LP cases) and hierarchical models up to order 3."""
    counts = np.asarray(rows, dtype=np.float64)
    counts = counts[counts.sum(axis=1) > 0]
    if counts.size == 0:
        return
    patterns = CaptureTable.from_patterns(list("ABCD"), range(1, 16), [1] * 15).patterns
    m = enumerate_hierarchical(4, 3)[model_index]
    many = ModelChecker(patterns, 4).check_many(counts, m)
    for b, c in enumerate(counts):
        assert many[b].code == ModelChecker(patterns, 4).check(c, m).code


def test_topk_batch_equals_row_by_row() -> None:
    t = load("uk2013_5lists.csv")
    sel = bic_select(t.patterns, t.counts, t.t, 2)
    models = [r.model for r in sel.ranked[:25]]
    counts = resamples(t, 25, seed=9)
    fast = TopKEstimator(t.patterns, t.t, models).batch(counts)
    simple = TopKEstimator(t.patterns, t.t, models)
    for b, c in enumerate(counts):
        np.testing.assert_allclose(fast[b], simple(c), rtol=RTOL)
    # k = 1 is the BIC-best model on the data; row 0 is the data
    assert fast[0, 0] == pytest.approx(sel.ranked[0].estimate, rel=RTOL)


class _RowByRow:
    """The same procedure without its ``batch`` method (forces the simple path)."""

    def __init__(self, proc: Procedure) -> None:
        self.proc = proc

    def __call__(self, counts: np.ndarray) -> float:
        return self.proc(counts)


@pytest.mark.parametrize(("name", "method"), [
    ("western_us_5lists.csv", "stepwise"), ("uk2013_6lists.csv", "stepwise"),
    ("uk2013_6lists.csv", "main"),
])
def test_bootstrap_same_replicates_and_limits(name: str, method: str) -> None:
    """Same seed -> same replicates -> same jackknife, acceleration and BCa limits."""
    t = load(name)
    proc = Procedure(method, t.patterns, t.t)
    fast = bootstrap(t.counts, proc, nboot=150, seed=42)
    slow = bootstrap(t.counts, _RowByRow(Procedure(method, t.patterns, t.t)), nboot=150,
                     seed=42)
    np.testing.assert_allclose(fast.replicates, slow.replicates, rtol=RTOL)
    np.testing.assert_allclose(fast.jackknife, slow.jackknife, rtol=RTOL)
    assert fast.ahat == pytest.approx(slow.ahat, rel=1e-6, abs=1e-12)
    assert fast.z0 == slow.z0
    for a in fast.bca:
        assert fast.bca[a] == pytest.approx(slow.bca[a], rel=RTOL)


def test_workers_give_identical_results() -> None:
    t = load("uk2013_6lists.csv")
    one = estimate(t, "stepwise", nboot=120, seed=5, workers=1)
    two = estimate(t, "stepwise", nboot=120, seed=5, workers=2)
    assert one.bootstrap is not None
    assert two.bootstrap is not None
    np.testing.assert_allclose(one.bootstrap.replicates, two.bootstrap.replicates,
                               rtol=1e-12)
    assert one.interval == pytest.approx(two.interval, rel=1e-12)


def test_stepwise_with_an_empty_list_is_the_extended_mle() -> None:
    """SparseMSE fits main effects without the check: a (resampled) table with an empty
    list gets the main-effects estimate, which is that of the table without the list."""
    t = load("western_us_5lists.csv")
    c = t.counts.copy()
    c[(t.patterns & 0b10000) != 0] = 0.0  # empty the fifth list
    empty = t.with_counts(c)
    sw = stepwise_fit(empty.patterns, empty.counts, empty.t)
    assert sw.added == ()
    assert sw.fit.check.code == 1  # the MLE with a finite main effect does not exist
    ref = estimate(empty.omit_lists([empty.names[4]]), "main", nboot=0).estimate
    assert sw.fit.estimate == pytest.approx(ref, rel=1e-6)
    proc = Procedure("stepwise", t.patterns, t.t)
    assert proc.batch(np.vstack([c, c]))[0] == pytest.approx(ref, rel=1e-6)


def test_new_orleans_bootstrap_has_no_failed_replicates() -> None:
    """Regression: warm-started IRLS diverged (nan) on sparse replicates, and tables with
    an empty list were dropped; SparseMSE estimates every replicate."""
    t = load("new_orleans_8lists.csv")
    counts = resamples(t, 300, seed=1234)
    est = Procedure("stepwise", t.patterns, t.t).batch(counts)
    assert np.all(np.isfinite(est))
    # spot-check replicates against statsmodels on the selected model
    import statsmodels.api as sm

    batch = stepwise_batch(t.patterns, counts, t.t)
    for b in (5, 45, 46, 100):
        f = fit_model((t.patterns, counts[b], t.t), batch.terms[b])
        X = design_matrix(t.patterns[f.kept], t.t, f.fitted_terms)
        ref = sm.GLM(counts[b][f.kept], X, family=sm.families.Poisson()).fit(tol=1e-12)
        assert est[b] == pytest.approx(counts[b].sum() + np.exp(ref.params[0]), rel=1e-7)


@pytest.mark.parametrize("name", ["artificial_3lists.csv", "western_us_5lists.csv",
                                  "new_orleans_5lists.csv", "uk2013_6lists.csv",
                                  "netherlands_2010_2015_6lists.csv",
                                  "korea_palembang_3lists.csv"])
def test_checkallmodels_shortcut_equals_enumeration(name: str) -> None:
    t = load(name)
    a = check_all_models(t)
    b = check_all_models(t, use_shortcut=False)
    assert a.all_ok == b.all_ok
    assert a.failing_top_level == b.failing_top_level
    assert a.minimal_removals == b.minimal_removals


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=15, max_size=15))
def test_checkallmodels_shortcut_equals_enumeration_random(counts: list[int]) -> None:
    if sum(counts) == 0:
        return
    t = CaptureTable.from_patterns(list("ABCD"), range(1, 16), counts)
    a = check_all_models(t)
    b = check_all_models(t, use_shortcut=False)
    assert (a.all_ok, a.failing_top_level) == (b.all_ok, b.failing_top_level)


def test_batched_irls_chunking_does_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are fitted independently: small memory chunks give identical numbers."""
    import tiplab.estimation.glm as glm

    t = load("uk2013_6lists.csv")
    counts = resamples(t, 30, seed=4)
    whole = stepwise_batch(t.patterns, counts, t.t)
    monkeypatch.setattr(glm, "_BATCH_ELEMENTS", 5000)  # a few rows per chunk
    chunked = stepwise_batch(t.patterns, counts, t.t)
    assert chunked.terms == whole.terms
    np.testing.assert_array_equal(chunked.estimates, whole.estimates)
    empty = stepwise_batch(t.patterns, counts[:0], t.t)
    assert empty.estimates.shape == (0,)
    assert empty.terms == ()
