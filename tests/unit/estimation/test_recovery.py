"""Simulations with known N: the estimators must recover it."""

from __future__ import annotations

import numpy as np
import pytest
from mse_helpers import simulate_table

from tiplab.estimation import estimate


@pytest.mark.parametrize("method", ["main", "stepwise", "bic", "aic-stepwise"])
def test_recovers_n_independent_lists(method: str) -> None:
    rng = np.random.default_rng(11)
    ests = []
    for _ in range(15):
        table, n_true = simulate_table(5000, 4, {}, [-1.0, -1.3, -0.8, -1.6], rng)
        ests.append(estimate(table, method, nboot=0).estimate / n_true)
    # mean relative error within 3% (the sampling sd of one estimate is about 2%)
    assert abs(np.mean(ests) - 1.0) < 0.03


def test_stepwise_finds_planted_interaction_and_recovers_n() -> None:
    rng = np.random.default_rng(5)
    ratios_main, ratios_step = [], []
    found = 0
    for _ in range(15):
        table, n_true = simulate_table(6000, 4, {0b0011: 1.0}, [-1.2, -1.5, -1.0, -1.7], rng)
        main = estimate(table, "main", nboot=0)
        step = estimate(table, "stepwise", nboot=0)
        found += "L1:L2" in step.terms
        ratios_main.append(main.estimate / n_true)
        ratios_step.append(step.estimate / n_true)
    assert found == 15
    # positive dependence between L1 and L2 biases the independence model downwards
    assert np.mean(ratios_main) < 0.95
    assert abs(np.mean(ratios_step) - 1.0) < 0.04


def test_lognormal_interval_covers_truth_under_true_model() -> None:
    rng = np.random.default_rng(3)
    cover = 0
    for _ in range(60):
        table, n_true = simulate_table(3000, 3, {}, [-1.0, -1.2, -0.9], rng)
        r = estimate(table, "main", nboot=0)
        cover += r.interval[0] <= n_true <= r.interval[1]
    assert cover >= 52  # nominal 95% of 60 = 57; binomial 99% lower bound ~52
