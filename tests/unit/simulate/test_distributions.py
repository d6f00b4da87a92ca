"""Realised shares match the configured ones (chi-square / binomial / z tests, alpha 0.001).

A population of 200,000 is drawn once (seed 20240601): large enough that a share wrong by a
tenth of itself is detected in every test below with power near 1, small enough to run in a
second or two.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy import stats

from tiplab.simulate.capture import Captures, capture
from tiplab.simulate.country import Country, build_country
from tiplab.simulate.defaults import OTHER_FORMS, Shares
from tiplab.simulate.names import build_tables
from tiplab.simulate.population import (
    GLOTIP_FORMS,
    Population,
    citizenship_weights,
    generate,
    time_weights,
)
from tiplab.simulate.settings import SimulationSettings

ALPHA = 0.001
N = 200_000
SEED = 20240601
SETTINGS = SimulationSettings(seed=SEED, victims=N)


@pytest.fixture(scope="module")
def world() -> tuple[Country, Shares, Population, Captures]:
    country = build_country(SEED, 30, N, "XTL", "Tiplandia", SETTINGS.prevalence)
    shares = Shares()  # the built-in shares (derived from GLOTIP; see test_defaults)
    given, family = build_tables(SEED)
    pop = generate(N, SETTINGS.years, country, shares, given, family, SEED)
    caps = capture(
        pop,
        country,
        SETTINGS.agencies,
        SETTINGS.capture,
        duplicate_rate=0.02,
        duplicate_lag_days=120,
        end=np.datetime64("2024-12-31"),
        seed=SEED,
    )
    return country, shares, pop, caps


def gof(observed: np.ndarray, probs: np.ndarray) -> float:
    probs = np.asarray(probs, float) / np.sum(probs)
    return float(stats.chisquare(observed, probs * observed.sum()).pvalue)


def test_sex_and_age_group(world: tuple[Country, Shares, Population, Captures]) -> None:
    _, shares, pop, _ = world
    sexes = np.array(pop.sex_levels)[pop.sex]
    keys = list(shares.sex_age)
    observed = np.array([np.sum((sexes == s) & (pop.minor == (a == "minor"))) for s, a in keys])
    configured = np.array([shares.sex_age[k] for k in keys], float)
    assert gof(observed, configured) > ALPHA
    # Power check: the same test rejects shares off by a tenth (female minors +10%).
    wrong = configured.copy()
    wrong[keys.index(("Feminine", "minor"))] *= 1.1
    assert gof(observed, wrong) < ALPHA


def test_form_given_sex_and_age(world: tuple[Country, Shares, Population, Captures]) -> None:
    _, shares, pop, _ = world
    sexes = np.array(pop.sex_levels)[pop.sex]
    forms = np.array(pop.form_levels)[pop.form]
    for (s, a), cells in shares.form_by_sex_age.items():
        if (s, a) not in shares.sex_age:
            continue
        group = (sexes == s) & (pop.minor == (a == "minor"))
        probs: dict[str, float] = {}
        total = sum(cells.values())
        for label, count in cells.items():
            if label in GLOTIP_FORMS:
                probs[GLOTIP_FORMS[label]] = count / total
            else:
                for form, w in OTHER_FORMS.items():
                    probs[form] = count / total * w
        levels = [f for f in probs if probs[f] > 0]
        observed = np.array([np.sum(forms[group] == f) for f in levels])
        assert observed.sum() == group.sum()
        assert gof(observed, np.array([probs[f] for f in levels])) > ALPHA, (s, a)


def test_citizenship(world: tuple[Country, Shares, Population, Captures]) -> None:
    _, shares, pop, _ = world
    levels, weights = citizenship_weights(shares)
    observed = np.bincount(pop.citizenship, minlength=len(levels))
    assert gof(observed, weights) > ALPHA
    wrong = weights.copy()
    wrong[levels.index("NGA")] *= 1.1  # power check: a tenth more Nigerians is detected
    assert gof(observed, wrong) < ALPHA
    assert set(np.array(pop.citizenship_levels)[pop.citizenship[pop.foreign]]) <= set(levels)


def test_region_follows_true_prevalence(
    world: tuple[Country, Shares, Population, Captures],
) -> None:
    country, _, pop, _ = world
    observed = np.bincount(pop.region, minlength=len(country.codes))
    assert gof(observed, country.probabilities) > ALPHA


def test_trend_and_seasonality(world: tuple[Country, Shares, Population, Captures]) -> None:
    _, _, pop, _ = world
    months = pop.identified.astype("datetime64[M]").astype(np.int64)
    first = (SETTINGS.year_start - 1970) * 12
    observed = np.bincount(months - first, minlength=12 * len(SETTINGS.years))
    assert gof(observed, time_weights(SETTINGS.years).ravel()) > ALPHA


def test_birth_dates_give_the_drawn_age(
    world: tuple[Country, Shares, Population, Captures],
) -> None:
    from tiplab.simulate.dates import whole_years

    _, _, pop, _ = world
    assert np.array_equal(whole_years(pop.birth, pop.identified), pop.age)
    assert pop.age[pop.minor].min() >= 1
    assert pop.age[pop.minor].max() <= 17
    assert pop.age[~pop.minor].min() >= 18


def test_capture_without_referrals_is_bernoulli(
    world: tuple[Country, Shares, Population, Captures],
) -> None:
    """No referral leads into the hotline or the labour inspectorate: seen ~ Bernoulli(p)."""
    _, _, _, caps = world
    for agency in ("hotline", "labour_inspectorate"):
        j = caps.agencies.index(agency)
        p = caps.probability[:, j]
        z = (caps.seen[:, j].sum() - p.sum()) / np.sqrt(np.sum(p * (1 - p)))
        assert 2 * stats.norm.sf(abs(z)) > ALPHA, agency


def test_referrals_create_positive_dependence(
    world: tuple[Country, Shares, Population, Captures],
) -> None:
    _, _, _, caps = world
    for a, b in (("hotline", "police"), ("police", "ngo_shelters")):
        sa, sb = caps.seen[:, caps.agencies.index(a)], caps.seen[:, caps.agencies.index(b)]
        table = [[np.sum(sa & sb), np.sum(sa & ~sb)], [np.sum(~sa & sb), np.sum(~sa & ~sb)]]
        res = stats.fisher_exact(table, alternative="greater")
        assert res.pvalue < ALPHA, (a, b)
        assert res.statistic > 1.5, (a, b)


def test_agencies_see_different_victims(
    world: tuple[Country, Shares, Population, Captures],
) -> None:
    _, _, pop, caps = world
    sexual = pop.form == pop.form_levels.index("SexualExploitation")
    labour = pop.form == pop.form_levels.index("ForcedLabour")
    police = caps.seen[:, caps.agencies.index("police")]
    inspect = caps.seen[:, caps.agencies.index("labour_inspectorate")]
    for seen, more, less in ((police, sexual, labour), (inspect, labour, sexual)):
        table = [
            [np.sum(seen & more), np.sum(~seen & more)],
            [np.sum(seen & less), np.sum(~seen & less)],
        ]
        assert stats.fisher_exact(table, alternative="greater").pvalue < ALPHA


def test_detection_differs_by_region(world: tuple[Country, Shares, Population, Captures]) -> None:
    country, _, pop, caps = world
    k = len(country.codes)
    seen = caps.seen.any(axis=1)
    table = np.vstack(
        [
            np.bincount(pop.region, weights=seen, minlength=k),
            np.bincount(pop.region, weights=~seen, minlength=k),
        ]
    )
    assert stats.chi2_contingency(table).pvalue < ALPHA


def test_hotline_missingness_matches_ctdc(demo_dir: Path) -> None:
    """Hotline sex is missing at CTDC's rate for gender (8.33%), binomial test."""
    import duckdb
    import pyarrow.csv as pacsv

    defects = pacsv.read_csv(demo_dir / "truth" / "defects.csv").to_pylist()
    bad = {d["row"] for d in defects if d["source"] == "hotline"}
    sex = (
        duckdb.connect().sql(
            f"SELECT sex FROM read_json('{demo_dir}/hotline.ndjson', format='newline_delimited')"
        )
        .to_arrow_table()
        .column("sex")
    )
    rows = np.arange(1, len(sex) + 1)
    keep = pa.array(~np.isin(rows, list(bad)))
    kept = pc.filter(sex, keep)
    missing = int(pc.sum(pc.is_null(kept)).as_py())
    assert stats.binomtest(missing, len(kept), Shares().missing["gender"]).pvalue > ALPHA
