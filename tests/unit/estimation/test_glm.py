from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from mse_helpers import load

from tiplab.estimation.checks import design_matrix
from tiplab.estimation.glm import fit_poisson
from tiplab.estimation.terms import all_pairs, parse_model


@pytest.mark.parametrize(("name", "model"), [
    ("kosovo_1999_4lists.csv", "1*2,1*3,1*4,2*3,3*4"),
    ("uk2013_5lists.csv", "1*2,1*3,2*4,2*5,3*5,4*5"),
    ("hiv_rome_4lists.csv", ""),
    ("lesbian_allegheny_4lists.csv", "1*2,3*4"),
    ("korea_palembang_3lists.csv", "1*2"),
])
def test_irls_equals_statsmodels(name: str, model: str) -> None:
    t = load(name)
    X = design_matrix(t.patterns, t.t, sorted(parse_model(model, t.names)))
    ours = fit_poisson(X, t.counts, tol=1e-14, maxiter=200)
    ref = sm.GLM(t.counts, X, family=sm.families.Poisson()).fit(tol=1e-14, maxiter=200)
    np.testing.assert_allclose(ours.coef, ref.params, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.cov, ref.cov_params(), rtol=1e-7, atol=1e-10)
    assert ours.deviance == pytest.approx(ref.deviance, abs=1e-8)
    assert ours.loglik == pytest.approx(ref.llf, abs=1e-8)
    assert ours.converged


def test_irls_all_pairs_western() -> None:
    t = load("western_us_5lists.csv")
    X = design_matrix(t.patterns, t.t, [p for p in all_pairs(5) if t.nstar([p])[0] > 0])
    keep = np.ones(t.counts.size, bool)
    ours = fit_poisson(X[keep], t.counts[keep], tol=1e-14, maxiter=200)
    ref = sm.GLM(t.counts[keep], X[keep], family=sm.families.Poisson()).fit(tol=1e-14)
    np.testing.assert_allclose(ours.coef, ref.params, atol=1e-8)
