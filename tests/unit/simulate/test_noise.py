"""Identifier noise: realistic variation that stays valid (it is not a defect)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import numpy as np
from scipy import stats

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


def test_birth_dates_are_true_or_day_month_swapped(demo_dir: Path) -> None:
    """Every exported date of birth is the true one, or it with day and month exchanged."""
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE records AS SELECT * FROM read_csv('{demo_dir}/truth/records.csv'"
        ", types={'record_id': 'VARCHAR'})"
    )
    con.execute(f"CREATE TABLE victims AS SELECT * FROM '{demo_dir}/truth/victims.parquet'")
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
