"""The detection gap against a population whose hidden size is known.

The simulated strata below meet MSE's assumptions (independent lists, equal catchability within
a stratum), so the 95% intervals should cover the true totals about 95 times in 100 and the
estimated gaps should rank the strata as the true hidden counts do. The synthetic country,
where catchability is heterogeneous and agencies refer victims, is measured in
``benchmarks/gap_country.py`` (docs/assessment.md reports its figures).
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from scipy.stats import spearmanr

from tiplab.analysis.errors import AnalysisError
from tiplab.analysis.gap import GapSettings, detection_gap

AGENCIES = ("police", "ngo", "hotline")


def population(seed: int = 11, strata: int = 12) -> tuple[pa.Table, dict[str, int]]:
    """A person table (seen persons only) and the true total per region."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {"person_id": [], "sources": [], "region_of_exploitation": []}
    truth = {}
    for k in range(strata):
        region = f"R{k:02d}"
        n = int(rng.integers(300, 1500))
        truth[region] = n
        p = rng.uniform(0.15, 0.45, len(AGENCIES))
        seen = rng.random((n, len(AGENCIES))) < p
        for i in np.flatnonzero(seen.any(axis=1)):
            rows["person_id"].append(f"{region}-{i}")
            rows["sources"].append([a for a, s in zip(AGENCIES, seen[i], strict=True) if s])
            rows["region_of_exploitation"].append(region)
    return pa.table(rows), truth


@pytest.fixture(scope="module")
def result():
    persons, truth = population()
    return detection_gap(persons, GapSettings(nboot=200, seed=3)), truth


def test_intervals_cover_the_true_totals_and_gaps_rank_as_the_truth(result) -> None:
    r, truth = result
    rows = r.table.to_pylist()
    assert len(rows) == len(truth)
    covered = [row["estimate_low"] <= truth[row["region_of_exploitation"]] <= row[
        "estimate_high"] for row in rows]
    # 12 strata at 95%: 9 or more covered unless the method is wrong (P(<9) ~ 0.002)
    assert sum(covered) >= 9, covered
    hidden = [truth[row["region_of_exploitation"]] - row["identified"] for row in rows]
    rho = spearmanr([row["gap"] for row in rows], hidden).statistic
    assert rho > 0.8
    for row in rows:
        assert row["gap"] == pytest.approx(row["estimate"] - row["identified"])
        assert row["gap_low"] <= row["gap"] <= row["gap_high"]
        assert row["reliable"]
    assert sorted(row["rank_gap"] for row in rows) == list(range(1, len(rows) + 1))
    biggest = max(rows, key=lambda row: row["gap"])
    assert biggest["rank_gap"] == 1


def test_the_same_seed_gives_the_same_intervals() -> None:
    persons, _ = population(seed=4, strata=3)
    a = detection_gap(persons, GapSettings(nboot=50, seed=9)).table
    b = detection_gap(persons, GapSettings(nboot=50, seed=9)).table
    assert a.drop_columns(["population"]).equals(b.drop_columns(["population"]))  # NaN != NaN
    assert a.column("estimate_high").to_pylist() != a.column("estimate").to_pylist()


def test_weak_strata_are_flagged_not_ranked_and_rates_use_the_population() -> None:
    persons, _ = population(seed=5, strata=3)
    tiny = pa.table({"person_id": ["x1", "x2", "x3"],
                     "sources": [["police"], ["police", "ngo"], ["hotline"]],
                     "region_of_exploitation": ["TINY"] * 3})
    unknown = persons.slice(0, 40).set_column(
        2, "region_of_exploitation", pa.nulls(40, pa.string())).set_column(
        0, "person_id", pa.array([f"U{i}" for i in range(40)]))
    table = pa.concat_tables([persons, tiny, unknown])
    pop = pa.table({"region": ["R00", "R01", "R02", "TINY"],
                    "population": [250_000, 500_000, 1_000_000, 10_000]})
    r = detection_gap(table, GapSettings(nboot=0), population=pop)
    rows = {row["region_of_exploitation"]: row for row in r.table.to_pylist()}
    assert "too few persons (3 < 30)" in rows["TINY"]["flag"]
    assert rows["TINY"]["rank_gap"] is None
    assert "not recorded" in rows["not recorded"]["flag"]
    assert rows["not recorded"]["rank_rate"] is None
    ok = rows["R01"]
    assert ok["reliable"]
    assert ok["gap_rate"] == pytest.approx(ok["gap"] / 500_000 * 100_000)
    assert math.isnan(rows["not recorded"]["population"])
    assert r.extra["total"]["identified"] == table.num_rows
    assert any("flagged" in n for n in r.notes)
    assert r.to_dict()["parameters"]["by"] == ["region_of_exploitation"]


def test_bad_requests_say_what_is_wrong() -> None:
    persons, _ = population(seed=6, strata=2)
    with pytest.raises(AnalysisError, match="at least one stratum"):
        detection_gap(persons, GapSettings(by=()))
    with pytest.raises(AnalysisError, match="exploitation_form"):
        detection_gap(persons, GapSettings(by=("exploitation_form",)))
    with pytest.raises(AnalysisError, match="population column"):
        detection_gap(persons, GapSettings(nboot=0), population=pa.table({"region": ["R00"]}))


def test_the_cli_gives_the_same_figures_as_json(tmp_path) -> None:
    import json

    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from tiplab.cli import app

    persons, _ = population(seed=7, strata=3)
    pq.write_table(persons, tmp_path / "persons.parquet")
    out = CliRunner().invoke(app, ["gap", "--persons", str(tmp_path / "persons.parquet"),
                                   "--by", "region", "--nboot", "0", "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    direct = detection_gap(persons, GapSettings(nboot=0))
    assert [r["gap"] for r in body["gaps"]] == pytest.approx(
        direct.table.column("gap").to_pylist())
    assert body["data_version"].startswith("file-sha256:")
    missing = CliRunner().invoke(app, ["gap", "--data-dir", str(tmp_path / "none"), "--json"])
    assert missing.exit_code != 0
    assert "no link run is designated" in json.loads(missing.output)["error"]["message"]


def test_the_cli_table_ranks_reliable_strata_first_with_intervals(tmp_path, monkeypatch) -> None:
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from tiplab.cli import _common, app

    monkeypatch.setattr(_common.console, "width", 200)  # whatever the terminal of the run
    persons, _ = population(seed=7, strata=3)
    pq.write_table(persons, tmp_path / "persons.parquet")
    out = CliRunner().invoke(app, ["gap", "--persons", str(tmp_path / "persons.parquet"),
                                   "--by", "region", "--nboot", "0"])
    assert out.exit_code == 0, out.output
    direct = detection_gap(persons, GapSettings(nboot=0)).table.to_pylist()
    first = min((r for r in direct if r["rank_gap"] is not None), key=lambda r: r["rank_gap"])
    lines = [ln for ln in out.output.splitlines() if "R0" in ln]
    assert first["region_of_exploitation"] in lines[0]
    assert f"{first['gap']:,.0f} [{first['gap_low']:,.0f}–{first['gap_high']:,.0f}]" in lines[0]
    assert "All strata pooled" in out.output


def test_a_bayesian_method_works_per_stratum_and_non_convergence_is_a_flag(monkeypatch) -> None:
    from tiplab.estimation import api

    persons, _ = population(seed=7, strata=3)
    real = api._bayesian

    def short(table, method, level, seed, bayes, warnings):
        return real(table, method, level, seed, {"chains": 2, "burnin": 0, "samples": 10,
                                                 "thin": 1}, warnings)

    monkeypatch.setattr(api, "_bayesian", short)
    r = detection_gap(persons, GapSettings(method="lcmcr"))
    rows = r.table.to_pylist()
    assert all(row["model"].startswith("latent classes") for row in rows)
    assert any("did not converge" in row["flag"] for row in rows)
    assert all(row["rank_gap"] is None for row in rows if "did not converge" in row["flag"])
