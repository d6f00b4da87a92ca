"""Trends on case records: counts against independent counts, intervals against reference
values, change points and forecasts against simulations with known truth."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tiplab.analysis import (
    TrendSettings,
    binary_segmentation,
    forecast_counts,
    lr_test,
    seasonality_test,
    trends,
)
from tiplab.analysis.stats import benjamini_hochberg, mann_kendall, poisson_ci, rate_ratio_ci
from tiplab.analysis.synthetic import synthetic_cases
from tiplab.privacy import DisclosureRule


@pytest.fixture(scope="module")
def cases() -> pa.Table:
    return synthetic_cases(20_000, seed=3, step_year=2020, step_factor=1.6)


def test_yearly_counts_equal_independent_count(cases: pa.Table) -> None:
    r = trends(cases, TrendSettings(changepoints=False), data_version="dv-test")
    years = pc.year(cases.column("registration_date")).to_numpy()
    expected = np.bincount(years - 2015, minlength=10)
    s = r.tables["series"]
    assert s.column("year").to_pylist() == list(range(2015, 2025))
    assert s.column("value").to_pylist() == expected.tolist()
    assert r.data_version == "dv-test"
    assert r.to_dict()["parameters"]["time"] == "year"


def test_list_breakdown_counts_each_value_and_empty_as_null() -> None:
    t = pa.table({"registration_date": pa.array([0, 0, 400, 400], pa.date32()),
                  "exploitation_forms": [["ForcedLabour", "SexualExploitation"],
                                         ["ForcedLabour"], [], None]})
    r = trends(t, TrendSettings(by=("exploitation_forms",), changepoints=False))
    got = {(row["year"], row["exploitation_forms"]): row["value"]
           for row in r.tables["series"].to_pylist()}
    assert got[(1970, "ForcedLabour")] == 2
    assert got[(1970, "SexualExploitation")] == 1
    assert got[(1971, None)] == 2
    assert got[(1971, "ForcedLabour")] == 0  # completed grid: absent cells are zeros


def test_poisson_interval_matches_reference() -> None:
    # Garwood exact 95% interval for 10 events: 4.7954-18.3904 (e.g. Ulm 1990, table 1).
    lo, hi = poisson_ci([10, 0])
    assert lo[0] == pytest.approx(4.7954, abs=1e-3)
    assert hi[0] == pytest.approx(18.3904, abs=1e-3)
    assert lo[1] == 0
    assert hi[1] == pytest.approx(3.6889, abs=1e-3)


def test_rate_ratio_interval_covers_truth_at_nominal_rate() -> None:
    rng = np.random.default_rng(1)
    k1 = rng.poisson(30 * 1.5, 4000)
    k0 = rng.poisson(30.0, 4000)
    _, lo, hi = rate_ratio_ci(k1, k0)
    cover = np.mean((lo <= 1.5) & (hi >= 1.5))
    assert 0.94 <= cover <= 0.985  # exact conditional interval is slightly conservative


def test_changepoint_finds_planted_break_and_controls_false_positives() -> None:
    """Over 200 seeded series each: power on a doubling after year 10 of 20, and the false-
    positive rate on stable series (nominal 5%; 3 standard errors allowed)."""
    rng = np.random.default_rng(7)
    hits = correct_place = false_pos = 0
    n = 200
    for i in range(n):
        broken = np.concatenate([rng.poisson(20, 10), rng.poisson(40, 10)])
        cp = lr_test(broken, n_sim=199, seed=i)
        hits += cp.p_value < 0.05
        correct_place += abs(cp.index - 10) <= 1
        stable = rng.poisson(20, 20)
        false_pos += lr_test(stable, n_sim=199, seed=i).p_value < 0.05
    assert hits / n >= 0.95
    assert correct_place / n >= 0.85
    assert false_pos / n <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / n)


def test_binary_segmentation_finds_two_breaks() -> None:
    rng = np.random.default_rng(11)
    y = np.concatenate([rng.poisson(15, 8), rng.poisson(45, 8), rng.poisson(15, 8)])
    found = [c.index for c in binary_segmentation(y, n_sim=499)]
    assert any(abs(f - 8) <= 1 for f in found)
    assert any(abs(f - 16) <= 1 for f in found)


def test_trend_reports_changepoint_in_planted_series(cases: pa.Table) -> None:
    r = trends(cases, TrendSettings(n_sim=499))
    cps = r.tables["changepoints"].to_pylist()
    assert [c["year"] for c in cps] == [2020]
    assert cps[0]["p_value"] < 0.01


def test_forecast_interval_coverage_on_known_trend() -> None:
    """90% prediction intervals for 2 steps ahead of a log-linear Poisson trend."""
    rng = np.random.default_rng(5)
    t = np.arange(12)
    mu = np.exp(np.log(30) + 0.08 * t)
    future = np.exp(np.log(30) + 0.08 * np.array([12, 13]))
    covered = []
    for i in range(300):
        fc = forecast_counts(rng.poisson(mu), 2, level=0.9, n_sim=1000, seed=i)
        y_new = rng.poisson(future)
        covered += [fc.low[k] <= y_new[k] <= fc.high[k] for k in range(2)]
    assert 0.85 <= float(np.mean(covered)) <= 0.97


def test_seasonality_detected_when_planted_and_rarely_otherwise() -> None:
    rng = np.random.default_rng(9)
    months = np.tile(np.arange(1, 13), 5)
    season = 1 + 0.5 * np.sin(2 * np.pi * months / 12)
    found = sum(seasonality_test(rng.poisson(40 * season), months).p_value < 0.05
                for _ in range(50))
    false = sum(seasonality_test(rng.poisson(40, 60), months).p_value < 0.05
                for _ in range(200))
    assert found >= 48
    assert false / 200 <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 200)


def test_monthly_trend_has_seasonality_table(cases: pa.Table) -> None:
    r = trends(cases, TrendSettings(time="month", changepoints=False))
    assert r.tables["series"].num_rows == 120
    assert r.tables["seasonality"].num_rows == 1


def test_rates_use_population(cases: pa.Table) -> None:
    pop = pa.table({"year": [2015, 2024], "population": [1_000_000.0, 2_000_000.0]})
    r = trends(cases, TrendSettings(changepoints=False), population=pop)
    s = r.tables["series"].to_pandas()
    row = s[s.year == 2015].iloc[0]
    assert row["rate"] == pytest.approx(row["value"] / 1_000_000 * 1e5)
    assert "nearest available year" in " ".join(r.notes)


def test_protected_trend_flags_and_suppresses(cases: pa.Table) -> None:
    small = cases.slice(0, 300)
    r = trends(small, TrendSettings(by=("age_band",), changepoints=True, n_sim=99),
               protect=DisclosureRule())
    d = r.to_dict()
    assert d["protected"]
    assert d["disclosure"]["rule"]["threshold"] == 5
    s = r.tables["series"].to_pandas()
    assert not ((s.value > 0) & (s.value < 5)).any()
    assert s.suppressed.sum() >= 2


def test_benjamini_hochberg_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(0).uniform(size=40) ** 2
    assert np.allclose(benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1])


def test_mann_kendall_reference() -> None:
    # S for 1..5 is 10 (all pairs increasing); var = 5*4*15/18; z = (10-1)/sqrt(var).
    s, z, _p = mann_kendall(np.arange(5.0))
    assert s == 10
    assert z == pytest.approx(9 / np.sqrt(5 * 4 * 15 / 18))
