"""Identifier noise: realistic variation that stays valid (it is not a defect)."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import duckdb
import numpy as np
from scipy import stats

from tiplab.simulate.agencies import specs
from tiplab.simulate.names import (
    ALT1,
    ALT2,
    CANONICAL,
    N_VARIANTS,
    NATIVE,
    NICK,
    TYPO1,
    TYPO2,
    build_tables,
    choose_slots,
)
from tiplab.simulate.render import recorded_as
from tiplab.simulate.settings import NoiseSettings

ALPHA = 0.001


def test_variant_matrix_holds_transliterations_and_scripts() -> None:
    given, _ = build_tables(1)
    flat = given.variants.to_pylist()
    rows = [flat[i : i + N_VARIANTS] for i in range(0, len(flat), N_VARIANTS)]
    mohammed = next(r for r in rows if r[CANONICAL] == "Mohammed")
    assert mohammed[NATIVE] == "محمد"
    assert {mohammed[ALT1], mohammed[ALT2]} == {"Muhammad", "Mohamed"}
    assert mohammed[NICK] == "Mo"
    oleksandr = next(r for r in rows if r[CANONICAL] == "Oleksandr")
    assert oleksandr[NATIVE] == "Олександр"
    assert oleksandr[ALT1] == "Aleksandr"
    for r in rows:  # a typo is one edit away from the canonical spelling
        for t in (r[TYPO1], r[TYPO2]):
            assert abs(len(t) - len(r[CANONICAL])) <= 1
    latin1 = given.latin1_variants.to_pylist()
    for text in latin1:
        text.encode("cp1252")


def test_slot_frequencies_match_noise_rates() -> None:
    noise = NoiseSettings()
    n = 200_000
    slot = choose_slots(np.random.default_rng(5), n, noise, unicode_ok=True, nickname=True)
    p = np.array(
        [
            1 - noise.native_script - noise.transliteration - noise.nickname - noise.typo,
            noise.native_script,
            noise.transliteration / 2,
            noise.transliteration / 2,
            noise.nickname,
            noise.typo / 2,
            noise.typo / 2,
        ]
    )
    observed = np.bincount(slot, minlength=7)
    assert stats.chisquare(observed, p * n).pvalue > ALPHA
    latin = choose_slots(np.random.default_rng(5), n, noise, unicode_ok=False, nickname=False)
    assert not np.isin(latin, [NATIVE, NICK]).any()


def _truth(demo_dir: Path) -> duckdb.DuckDBPyConnection:
    """A connection with the run's truth: ``records`` (source, row -> true_id), ``victims``."""
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE records AS SELECT * FROM read_csv('{demo_dir}/truth/records.csv'"
        ", types={'record_id': 'VARCHAR'})"
    )
    con.execute(f"CREATE TABLE victims AS SELECT * FROM '{demo_dir}/truth/victims.parquet'")
    return con


def test_birth_dates_are_true_or_day_month_swapped(demo_dir: Path) -> None:
    """Every exported date of birth is the true one, or it with day and month exchanged."""
    con = _truth(demo_dir)
    con.execute(
        f"CREATE TABLE defects AS SELECT * FROM read_csv('{demo_dir}/truth/defects.csv'"
        ", types={'record_id': 'VARCHAR'})"
    )
    con.execute(
        f"CREATE TABLE police AS SELECT row_number() OVER () + 1 AS row, DOB FROM "
        f"read_csv('{demo_dir}/police.csv', all_varchar=true)"
    )
    swapped, wrong, total = con.execute(
        "SELECT count(*) FILTER (WHERE d <> v.birth_date), count(*) FILTER (WHERE d <> "
        "v.birth_date AND NOT (year(d) = year(v.birth_date) AND month(d) = day(v.birth_date) "
        "AND day(d) = month(v.birth_date))), count(*) FROM (SELECT row, "
        "CAST(strptime(DOB, '%d.%m.%Y') AS DATE) AS d FROM police WHERE DOB IS NOT NULL AND "
        "row NOT IN (SELECT row FROM defects WHERE source = 'police')) p "
        "JOIN records r ON r.source = 'police' AND r.row = p.row "
        "JOIN victims v USING (true_id)"
    ).fetchall()[0]
    assert wrong == 0
    assert 0 < swapped < total


def test_native_scripts_only_where_the_encoding_allows(demo_dir: Path) -> None:
    cyrillic = re.compile("[\u0400-\u04ff]")
    police = (demo_dir / "police.csv").read_text(encoding="utf-8")
    assert cyrillic.search(police)
    immigration = (demo_dir / "immigration.csv").read_bytes().decode("cp1252")
    assert not cyrillic.search(immigration)


def test_recorded_as_keeps_or_replaces_with_another_level() -> None:
    """Recording disagreement on a case characteristic: at rate r a record carries another
    level, drawn in proportion to the population's shares (never the true one)."""
    n, rate = 200_000, 0.1
    weights = np.array([50.0, 30.0, 15.0, 5.0])
    truth = np.random.default_rng(1).choice(4, size=n, p=weights / weights.sum())
    out = recorded_as(np.random.default_rng(2), truth, rate, weights)
    changed = out != truth
    # binomial check of the rate
    assert stats.binomtest(int(changed.sum()), n, rate).pvalue > ALPHA
    # a record whose truth is level 0 is recorded as 1, 2 or 3 in proportion 30:15:5
    sub = out[changed & (truth == 0)]
    observed = np.bincount(sub, minlength=4)
    assert observed[0] == 0
    assert stats.chisquare(observed[1:], weights[1:] / weights[1:].sum() * len(sub)).pvalue > ALPHA
    assert (recorded_as(np.random.default_rng(2), truth, 0.0, weights) == truth).all()
    assert (recorded_as(np.random.default_rng(2), truth, 1.0, weights) != truth).all()


def test_exported_forms_disagree_with_the_truth_at_the_set_rate(demo_dir: Path) -> None:
    """The NGO shelters' export writes each of the seven forms under its own label: about
    ``form_recoded`` of its records name another form than the victim's."""
    con = _truth(demo_dir)
    con.execute(
        f"CREATE TABLE ngo AS SELECT row_number() OVER () + 1 AS row, "
        f"\"Forme d'exploitation\" AS f FROM read_csv('{demo_dir}/ngo_shelters.csv', "
        "all_varchar=true, delim=';')"
    )
    labels = specs(defaultdict(float), 0.0)["ngo_shelters"].forms
    con.execute("CREATE TABLE labels (code VARCHAR, label VARCHAR)")
    con.executemany("INSERT INTO labels VALUES (?, ?)", list(labels.items()))
    differ, total = con.execute(
        "SELECT count(*) FILTER (WHERE l.code <> v.exploitation_form), count(*) FROM ngo n "
        "JOIN labels l ON l.label = n.f "
        "JOIN records r ON r.source = 'ngo_shelters' AND r.row = n.row "
        "JOIN victims v USING (true_id)"
    ).fetchall()[0]
    assert total > 1000
    assert stats.binomtest(differ, total, NoiseSettings().form_recoded).pvalue > ALPHA
