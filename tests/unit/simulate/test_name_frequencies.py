"""How common names are: the census curves, the generated rarer names, the stress setting."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import numpy as np
import pytest
from anyascii import anyascii
from scipy import stats

from tiplab.simulate.names import (
    CANONICAL,
    CENSUS_CURVES,
    N_VARIANTS,
    NATIVE,
    TYPO1,
    TYPO2,
    build_tables,
    census_ranks,
    draw,
    tail_names,
)

KEYS = [("domestic", "female"), ("domestic", "male"), ("vietnamese", "female")]


@pytest.mark.parametrize("kind", sorted(CENSUS_CURVES))
def test_ranks_reproduce_the_published_points(kind: str) -> None:
    """A share just below a published cumulative share gives that point's rank or less,
    just above it a larger rank: the inverse passes through every published point."""
    for rank, share in CENSUS_CURVES[kind]:
        below = census_ranks(np.array([share * (1 - 1e-6)]), kind)[0] + 1
        above = census_ranks(np.array([share * (1 + 1e-6)]), kind)[0] + 1
        assert below <= rank < above


def test_drawn_surnames_match_the_census_shares() -> None:
    """On 400,000 draws: the most common surname near 1.006% (US 1990 census, dist.all.last),
    the 25 most common near 9.50%, and the chance that two people share a surname near the
    census list's own sum of squared shares (0.000697 over its 88,799 names)."""
    ranks = census_ranks(np.random.default_rng(3).random(400_000), "family")
    counts = np.bincount(ranks) / len(ranks)
    se1 = np.sqrt(0.01006 * (1 - 0.01006) / len(ranks))
    assert abs(counts[0] - 0.01006) < 4 * se1
    assert abs(counts[:25].sum() - 0.09497) < 0.003
    assert 0.0005 < float((counts**2).sum()) < 0.0009


def _latin(key: tuple[str, str], tail: np.ndarray) -> list[str]:
    return [latin for latin, _ in tail_names(key, tail)]


def test_generated_names_are_deterministic_distinct_and_not_the_list() -> None:
    tail = np.arange(20_000)
    a = _latin(("romanian", "family"), tail)
    assert a == _latin(("romanian", "family"), tail)
    assert len(set(a)) / len(a) > 0.99  # two syllable sequences rarely spell one word
    assert all(n[:1].isupper() and n[1:].islower() and n.isalpha() for n in a)
    # other kinds and languages give other names for the same ranks
    assert _latin(("romanian", "male"), tail[:50]) != a[:50]
    assert _latin(("bulgarian", "family"), tail[:50]) != a[:50]


SCRIPTS = {
    "ukrainian": re.compile(r"^[\u0400-\u04FF]+$"),
    "bulgarian": re.compile(r"^[\u0400-\u04FF]+$"),
    "arabic": re.compile(r"^[\u0600-\u06FF]+$"),
    "chinese": re.compile(r"^[\u4E00-\u9FFF]+$"),
}


@pytest.mark.parametrize("language", sorted(SCRIPTS))
def test_generated_names_have_a_native_script_form(language: str) -> None:
    for kind in ("family", "female"):
        for latin, native in tail_names((language, kind), np.arange(0, 5000, 7)):
            assert SCRIPTS[language].match(native), (latin, native)
            if language == "chinese":  # the characters read back as the pinyin
                assert anyascii(native).lower() == latin.lower()
    # languages written in Latin letters keep the spelling; Vietnamese adds a diacritic
    assert all(latin == native for latin, native in tail_names(("domestic", "male"), np.arange(99)))
    viet = tail_names(("vietnamese", "male"), np.arange(99))
    assert all(anyascii(native) == latin != native for latin, native in viet)


def test_census_draws_use_the_list_first_then_generated_names() -> None:
    given, _ = build_tables(7)
    rng = np.random.default_rng(11)
    groups = rng.integers(0, len(KEYS), 50_000)
    rows = draw(given, groups, KEYS, rng)
    flat = given.variants.to_pylist()
    canonical = flat[CANONICAL::N_VARIANTS]
    first_generated = sum(c for _, c in given.offsets.values())
    for g, key in enumerate(KEYS):
        start, count = given.offsets[key]
        mine = rows[groups == g]
        in_list = (mine >= start) & (mine < start + count)
        # the list holds the most common ranks: its share lies between the census's
        # cumulative shares at the published ranks around the list's length
        points = CENSUS_CURVES[key[1]]
        lo = max(c for r, c in points if r <= count)
        hi = min(c for r, c in points if r >= count)
        assert lo - 0.01 < in_list.mean() < hi + 0.01
        generated = mine[~in_list]
        assert (generated >= first_generated).all()
        assert len(np.unique(generated)) > 100
        # the most common name of the group is the list's first entry
        values, n = np.unique(mine, return_counts=True)
        assert values[np.argmax(n)] == start
    # generated rows: typos one edit away; the English ones have no other script
    for r in range(first_generated, min(first_generated + 500, len(canonical))):
        row = flat[r * N_VARIANTS : (r + 1) * N_VARIANTS]
        assert anyascii(row[NATIVE]) == row[CANONICAL]
        for t in (row[TYPO1], row[TYPO2]):
            assert abs(len(t) - len(row[CANONICAL])) <= 1


def test_short_lists_draw_only_the_built_in_names() -> None:
    """The stress setting: the simulator's former draw (u**1.6 over the short list)."""
    given, _ = build_tables(7, "short_lists")
    rng = np.random.default_rng(11)
    groups = rng.integers(0, len(KEYS), 20_000)
    u = np.random.default_rng(11)
    u.integers(0, len(KEYS), 20_000)
    expected_u = u.random(20_000) ** 1.6
    rows = draw(given, groups, KEYS, rng)
    start = np.array([given.offsets[k][0] for k in KEYS])
    count = np.array([given.offsets[k][1] for k in KEYS])
    assert (rows == start[groups] + np.floor(expected_u * count[groups])).all()
    assert len(given.variants) == sum(c for _, c in given.offsets.values()) * N_VARIANTS


def test_original_script_rate_holds_for_generated_names(demo_dir: Path) -> None:
    """The NGO shelters' export (UTF-8) writes a name in its own script at the rate of
    ``NoiseSettings.native_script`` (0.10), given and family name independently: about
    1 - 0.9**2 = 19% of the records of Ukrainian, Bulgarian, Chinese and Moroccan citizens
    have one, now that most of their names are generated (on the short lists' names
    it was the same rate; with generated names and no native form it fell to 1-4%)."""
    rows = duckdb.sql(
        f"SELECT \"Nom\" || \"Prénom\" AS n FROM read_csv('{demo_dir}/ngo_shelters.csv', "
        "delim=';', all_varchar=true) WHERE \"Nationalité\" IN "
        "('Ukraine', 'Bulgarie', 'Chine', 'Maroc')"
    ).fetchall()
    script = re.compile(r"[\u0400-\u04FF\u0600-\u06FF\u4E00-\u9FFF]")
    hits = sum(1 for (n,) in rows if n and script.search(n))
    assert len(rows) > 150
    assert stats.binomtest(hits, len(rows), 1 - 0.9**2).pvalue > 0.001, (hits, len(rows))
