"""The simulator's measure option (a change of capture in chosen regions from a chosen year),
and impact evaluation recovering its true effect from the simulated records."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pydantic import ValidationError

from tiplab.policy.impact import ImpactSettings, evaluate
from tiplab.simulate import MeasureSettings, SimulationSettings, simulate

TREATED = ("XT-03", "XT-08", "XT-12", "XT-17", "XT-22", "XT-27")
TODAY = dt.date(2026, 1, 1)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = SimulationSettings(
        seed=11, victims=40_000, year_start=2013, year_end=2024,
        measure=MeasureSettings(regions=TREATED, year=2020, factor=1.6),
    )
    out = tmp_path_factory.mktemp("sim-measure")
    simulate(settings, out, today=TODAY)
    return out


def _panel(out: Path) -> pd.DataFrame:
    """Identified persons per region x identification year, built from the exported records
    (each record's true_id; perfect linkage) and the victims' region and year."""
    con = duckdb.connect()
    try:
        return con.sql(
            f"""
            WITH persons AS (
              SELECT DISTINCT true_id FROM read_csv('{out}/truth/records.csv',
                                                    types={{'record_id': 'VARCHAR'}})),
            v AS (SELECT row_number() OVER () AS true_id, region_of_exploitation AS region,
                         year FROM read_parquet('{out}/truth/victims.parquet'))
            SELECT r.code AS region, y.year, count(p.true_id) AS identified
            FROM (SELECT DISTINCT region_of_exploitation AS code
                  FROM read_parquet('{out}/truth/victims.parquet')) r
            CROSS JOIN (SELECT DISTINCT year FROM read_parquet('{out}/truth/victims.parquet')) y
            LEFT JOIN v ON v.region = r.code AND v.year = y.year
            LEFT JOIN persons p ON p.true_id = v.true_id
            GROUP BY ALL ORDER BY ALL
            """
        ).df()
    finally:
        con.close()


def test_truth_records_the_effect(run: Path) -> None:
    truth = pd.read_csv(run / "truth" / "measure.csv")
    summary = json.loads((run / "truth" / "measure.json").read_text())
    active = truth[truth.measure_active]
    assert set(active.region) == set(TREATED)
    assert active.year.min() == 2020
    assert (truth.loc[~truth.measure_active, "effect"] == 0).all()
    assert summary["att_identified"] == pytest.approx(active.effect.mean())
    # capture x 1.6 on every agency: identified persons rise by well over a third
    assert 0.35 < summary["att_relative"] < 0.6
    panel = _panel(run)
    merged = panel.merge(truth, on=["region", "year"])
    assert (merged.identified_x == merged.identified_y).all()


def test_estimators_recover_the_true_effect(run: Path) -> None:
    truth = json.loads((run / "truth" / "measure.json").read_text())["att_identified"]
    panel = _panel(run)
    base = {"unit": "region", "time": "year", "outcome": "identified", "treated": TREATED,
            "start": 2020}
    did = evaluate(panel, ImpactSettings(method="did", **base))  # type: ignore[arg-type]
    assert did.conf_low <= truth <= did.conf_high
    cs = evaluate(panel, ImpactSettings(method="cs", **base))  # type: ignore[arg-type]
    assert cs.conf_low <= truth <= cs.conf_high
    synth = evaluate(panel, ImpactSettings(method="synth", **base))  # type: ignore[arg-type]
    assert synth.estimate == pytest.approx(truth, rel=0.35)
    its = evaluate(panel, ImpactSettings(method="its", aggregate="mean", **base))  # type: ignore[arg-type]
    assert its.conf_low <= truth <= its.conf_high
    print({"truth": truth, "did": did.estimate, "cs": cs.estimate, "synth": synth.estimate,
           "its": its.estimate})


def test_no_measure_leaves_outputs_unchanged(tmp_path: Path) -> None:
    s = SimulationSettings(seed=3, victims=500, year_start=2018, year_end=2020)
    assert "measure" not in json.loads(s.to_json())
    simulate(s, tmp_path, today=TODAY)
    assert not (tmp_path / "truth" / "measure.csv").exists()
    params = json.loads((tmp_path / "truth" / "parameters.json").read_text())
    assert "measure" not in params["settings"]


@pytest.mark.parametrize(
    ("measure", "message"),
    [
        ({"regions": ["XT-99"], "year": 2020, "factor": 2}, "not regions of this country"),
        ({"regions": ["XT-01"], "year": 2015, "factor": 2}, "must lie after the first year"),
        ({"regions": ["XT-01"], "year": 2020, "factor": 2, "agencies": ["army"]},
         "not simulated agencies"),
        ({"regions": ["XT-01"], "year": 2020, "factor": 0}, "greater than 0"),
    ],
)
def test_bad_measure_is_rejected(measure: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SimulationSettings(year_start=2015, year_end=2024, measure=measure)  # type: ignore[arg-type]
