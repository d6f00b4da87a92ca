from __future__ import annotations

import numpy as np
import pytest
from mse_helpers import load, simulate_table

from results.mse.reference import BCA_95
from tiplab.estimation import estimate
from tiplab.estimation.bootstrap import acceleration, bca_quantiles


def test_bca_reduces_to_percentile_without_bias_or_acceleration() -> None:
    reps = np.arange(1, 1001, dtype=float)
    point = 500.5  # exactly half the replicates below -> z0 = 0
    q = bca_quantiles(point, reps, 0.0, (0.025, 0.975))
    # z0 = Φ⁻¹(0.5) = 0 -> plain type-8 percentiles
    assert q[0.025] == pytest.approx(np.quantile(reps, 0.025, method="median_unbiased"))
    assert q[0.975] == pytest.approx(np.quantile(reps, 0.975, method="median_unbiased"))


def test_acceleration_symmetric_is_zero() -> None:
    th = np.array([1.0, 2.0, 3.0])
    assert acceleration(th, np.array([1.0, 1.0, 1.0])) == pytest.approx(0.0)
    assert acceleration(np.array([1.0, 1.0, 4.0]), np.ones(3)) < 0


def test_seed_reproducible_and_changes() -> None:
    t = load("western_us_5lists.csv")
    a = estimate(t, "stepwise", nboot=60, seed=7)
    b = estimate(t, "stepwise", nboot=60, seed=7)
    c = estimate(t, "stepwise", nboot=60, seed=8)
    assert a.interval == b.interval
    assert a.interval != c.interval
    assert a.bootstrap is not None
    assert a.bootstrap.n_dropped == 0


@pytest.mark.slow
@pytest.mark.parametrize(("name", "ref", "source", "nseeds"), BCA_95)
def test_bca_limits_near_published(name: str, ref: tuple[float, float], source: str,
                                   nseeds: int) -> None:
    """Published BCa limits are one draw of R's Monte Carlo; ours use another RNG.

    On these sparse tables the 95% BCa limits sit at extreme bootstrap quantiles (z0 is
    about -0.5 for Western and -1.1 for New Orleans), so one 1000-replicate run varies by
    about 5-10% from seed to seed. We therefore run ``nseeds`` seeds and require each
    published limit to lie within 3 Monte-Carlo standard deviations of our mean, allowing
    for the error of both our mean and the single published run:
    ``|published - mean| <= 3 sd sqrt(1 + 1/nseeds)``. The spread itself must stay below
    20% of the limit (New Orleans' lower limit, from 185 cases, has the largest: about 13%),
    so the comparison keeps its teeth.
    """
    table = load(name)
    limits = []
    for seed in range(1, nseeds + 1):
        r = estimate(table, "stepwise", nboot=1000, seed=seed)
        assert r.bootstrap is not None
        assert r.bootstrap.n_dropped == 0  # SparseMSE estimates every replicate
        limits.append(r.interval)
    lim = np.asarray(limits)
    mean, sd = lim.mean(axis=0), lim.std(axis=0, ddof=1)
    for k in (0, 1):
        assert sd[k] < 0.2 * mean[k], (source, lim[:, k])
        assert abs(ref[k] - mean[k]) <= 3 * sd[k] * np.sqrt(1 + 1 / nseeds), (
            source, ref[k], mean[k], sd[k])


@pytest.mark.slow
def test_bca_coverage_small_study() -> None:
    """95% BCa stepwise intervals cover the known N in most simulated data sets."""
    rng = np.random.default_rng(20240601)
    cover = 0
    nsim = 40
    for _ in range(nsim):
        table, n_true = simulate_table(2000, 4, {0b0011: 0.7}, [-1.2, -1.5, -1.0, -1.7], rng)
        r = estimate(table, "stepwise", nboot=200, seed=int(rng.integers(1 << 31)))
        cover += r.interval[0] <= n_true <= r.interval[1]
    assert cover / nsim >= 0.8
