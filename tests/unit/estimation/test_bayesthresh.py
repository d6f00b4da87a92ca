"""Silverman's Bayesian thresholding: with a vague prior and no thresholding it is the
likelihood's answer; on data with one real dependence it keeps that pair; it is seeded."""

from __future__ import annotations

import numpy as np
import pytest

from tiplab.estimation import CaptureTable, EstimationError, estimate
from tiplab.estimation.bayesthresh import ThresholdSettings, bayes_threshold


def dependent(seed: int, n_true: int = 4000) -> CaptureTable:
    """Four lists; being on A raises the chance of being on B (a referral), nothing else."""
    rng = np.random.default_rng(seed)
    a = rng.random(n_true) < 0.3
    b = rng.random(n_true) < np.where(a, 0.6, 0.15)
    c = rng.random(n_true) < 0.25
    d = rng.random(n_true) < 0.2
    caught = np.column_stack([a, b, c, d])
    counts = np.bincount(caught @ (1 << np.arange(4)), minlength=16)
    return CaptureTable.from_patterns("ABCD", range(1, 16), counts[1:])


def test_a_vague_prior_without_thresholding_gives_the_maximum_likelihood_answer() -> None:
    table = dependent(1)
    r = bayes_threshold(table, ThresholdSettings(prior_variance=1e6, threshold=0.0,
                                                 draws=20_000))
    assert len(r.kept) == 6  # every pair
    mle = estimate(table, "fixed", model="1*2,1*3,1*4,2*3,2*4,3*4", nboot=0)
    assert r.median == pytest.approx(mle.estimate, rel=0.03)


def test_it_keeps_the_real_dependence_and_covers_n() -> None:
    covered, kept_ab = 0, 0
    for seed in range(6):
        r = bayes_threshold(dependent(seed), ThresholdSettings(seed=seed))
        lo, hi = r.interval()
        covered += lo <= 4000 <= hi
        kept_ab += "A:B" in r.kept
        assert 0.15 < r.acceptance[1] < 0.5
    assert kept_ab == 6
    assert covered >= 5


def test_seeded_and_refuses_what_it_cannot_use() -> None:
    table = dependent(2)
    a = bayes_threshold(table, ThresholdSettings(draws=500, seed=3))
    b = bayes_threshold(table, ThresholdSettings(draws=500, seed=3))
    np.testing.assert_array_equal(a.n_draws, b.n_draws)
    with pytest.raises(EstimationError, match="at least 3 lists"):
        bayes_threshold(CaptureTable.from_patterns("AB", [1, 2, 3], [5, 6, 2]))
    with pytest.raises(EstimationError, match="unknown setting"):
        estimate(table, "bayes-threshold", bayes={"tau": 2})
    r = estimate(table, "bayes-threshold", seed=4)
    assert r.interval_type == "posterior credible interval"
    assert "A:B" in r.model


def test_the_order_3_stage_only_tries_triples_whose_pairs_survived() -> None:
    from mse_helpers import load

    table = load("kosovo_1999_4lists.csv")
    plain = bayes_threshold(table, ThresholdSettings(draws=3000))
    r = bayes_threshold(table, ThresholdSettings(draws=3000, order3=True))
    pairs = set(plain.kept)
    assert pairs == {k for k in r.kept if k.count(":") == 1}
    triples = [p for p in r.pairs if p["term"].count(":") == 2]
    assert triples  # Kosovo has triples whose pairs all survive
    for t in triples:
        a, b, c = t["term"].split(":")
        assert {f"{a}:{b}", f"{a}:{c}", f"{b}:{c}"} <= pairs
    assert len(r.acceptance) == 3


@pytest.mark.parametrize("case", range(3))
def test_kosovo_as_multiple_systems_estimation_prints_it(case: int) -> None:
    """The package's vignette (tests/results/mse/bayesian.py): the same interactions kept,
    the threshold statistics and the posterior within Monte Carlo error (our random-walk
    Metropolis against MCMCpack's, 10,000 draws each; over seeds 1-5 our pairwise-stage
    median varies by about 0.5% and its limits by 1%)."""
    from mse_helpers import load

    from results.mse.bayesian import KOSOVO_BAYES_THRESHOLD

    settings, median, (lo, hi), kept, statistics = KOSOVO_BAYES_THRESHOLD[case]
    r = bayes_threshold(load("kosovo_1999_4lists.csv"), ThresholdSettings(**settings))
    ours = {p["term"]: p["ratio"] for p in r.pairs}
    for term, published in statistics.items():
        # a triple's statistic is noisier: over seeds 1-6 ours is 3.84-4.24 for EXH:ABA:OSCE
        # with 10,000 draws and 3.86-4.05 with 50,000 against the vignette's single 4.26
        tolerance = 0.5 if term.count(":") == 2 else 0.1 * published + 0.3
        assert abs(ours[term] - published) <= tolerance, term
    # at threshold 2.5 the triple EXH:OSCE:HRW (2.45 published) sits on the threshold: with
    # the default seed it falls below it as in the vignette; other seeds keep it
    assert set(r.kept) == kept
    assert r.median == pytest.approx(median, rel=0.03)
    assert r.interval()[0] == pytest.approx(lo, rel=0.03)
    assert r.interval()[1] == pytest.approx(hi, rel=0.03)
