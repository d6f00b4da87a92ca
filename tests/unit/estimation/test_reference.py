"""Point estimates against published numbers (tests/results/mse/reference.py)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from mse_helpers import load

from results.mse.reference import (
    KOREA_12_3,
    KOREA_BIC,
    POINT_ESTIMATES,
    UK5_BIC_ORDER4,
    UK5_PROFILE_ABUNDANCE,
)
from tiplab.estimation import bic_select, estimate, fit_model, parse_model
from tiplab.estimation.rcapture import aic_stepwise, profile_interval


@pytest.mark.parametrize(("name", "method", "opts", "ref", "nd", "source"), POINT_ESTIMATES)
def test_point_estimate(name: str, method: str, opts: dict[str, Any], ref: float, nd: int,
                        source: str) -> None:
    r = estimate(load(name), method, nboot=0, **opts)
    assert round(r.estimate, nd) == pytest.approx(ref, abs=10 ** -nd / 2 + 1e-9), source


def test_korea_bic_table() -> None:
    t = load("korea_palembang_3lists.csv")
    sel = bic_select(t.patterns, t.counts, t.t, 2)
    got = {fit_model(t, r.model).model_name(): (r.estimate, r.bic) for r in sel.ranked}
    assert set(got) == set(KOREA_BIC)  # the all-pairs model fails the existence check
    for name, (est, bic) in KOREA_BIC.items():
        assert got[name][0] == pytest.approx(est, abs=5e-5)
        assert got[name][1] == pytest.approx(bic, abs=5e-6)
    assert [fit_model(t, r.model).model_name() for r in sel.ranked][:2] == ["[12,23]", "[12,3]"]


def test_korea_fit_statistics() -> None:
    t = load("korea_palembang_3lists.csv")
    f = fit_model(t, parse_model("[12,3]", t.names))
    assert f.deviance == pytest.approx(KOREA_12_3["deviance"], abs=5e-7)
    assert f.aic == pytest.approx(KOREA_12_3["aic"], abs=5e-6)
    assert f.df == KOREA_12_3["df"]


def test_uk5_profile_abundance() -> None:
    t = load("uk2013_5lists.csv")
    ar = aic_stepwise(t.patterns, t.counts, t.t)
    assert round(ar.fit.estimate) == 11313
    pi = profile_interval(ar.fit.X, ar.fit.y)
    assert pi.abundance == UK5_PROFILE_ABUNDANCE
    assert pi.lower < 11304 < pi.upper


def test_minus_infinity_terms_netherlands() -> None:
    r = estimate(load("netherlands_2010_2015_6lists.csv"), "stepwise", nboot=0)
    # I-K and K-R share no case; the stepwise model adds both as -inf terms
    assert r.minus_infinity_terms == ["I:K", "K:R"]
    assert r.fit["n_params"] == 1 + 6 + len(r.terms)
    assert math.isfinite(r.estimate)


@pytest.mark.slow
def test_uk5_bic_all_models() -> None:
    r = estimate(load("uk2013_5lists.csv"), "bic", maxorder=4, nboot=0)
    assert round(r.estimate) == UK5_BIC_ORDER4


def test_uk6_downhill() -> None:
    from results.mse.reference import UK6_DOWNHILL

    r = estimate(load("uk2013_6lists.csv"), "downhill", maxorder=2, nboot=0)
    assert round(r.estimate) == UK6_DOWNHILL
