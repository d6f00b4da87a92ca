"""Settings validation, JSON round trip, and the ``tiplab simulate`` command."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from tiplab.cli import app
from tiplab.errors import TiplabError
from tiplab.simulate import (
    NoiseSettings,
    SimulationError,
    SimulationSettings,
    parse_years,
    simulate,
)


def test_settings_round_trip_through_json() -> None:
    s = SimulationSettings(seed=9, victims=1234, agencies="police,hotline", defect_rate=0.1)
    assert s.agencies == ("police", "hotline")
    assert SimulationSettings.from_json(s.to_json()) == s


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"agencies": ("police", "spies")}, "unknown agencies"),
        ({"year_start": 2020, "year_end": 2019}, "end is before the start"),
        ({"defect_codes": ("E_NOT_A_CODE",)}, "unknown defect codes"),
        ({"n_regions": 10}, "greater than or equal to 20"),
        ({"country_code": "GBR"}, "should match pattern"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SimulationSettings.model_validate(kwargs)


def test_years() -> None:
    assert parse_years("2015-2024") == (2015, 2024)
    assert parse_years("2019") == (2019, 2019)
    with pytest.raises(SimulationError):
        parse_years("last decade")


def test_future_years_are_refused(tmp_path: Path) -> None:
    s = SimulationSettings(year_start=2020, year_end=2030)
    with pytest.raises(TiplabError, match="future"):
        simulate(s, tmp_path, today=dt.date(2026, 11, 28))


def test_cli_json_summary(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    res = CliRunner().invoke(
        app,
        [
            "simulate",
            "--seed",
            "5",
            "--victims",
            "1500",
            "--years",
            "2018-2022",
            "--agencies",
            "police,hotline,health",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["true_n"] == 1500
    assert set(summary["rows_per_agency"]) == {"police", "hotline", "health"}
    assert summary["observed_distinct_persons"] <= 1500
    for f in summary["files"]:
        assert (out / f).is_file(), f
    params = json.loads((out / "truth" / "parameters.json").read_text(encoding="utf-8"))
    assert params["settings"]["seed"] == 5
    assert params["settings"]["year_end"] == 2022
    # Re-running from the recorded settings reproduces the exports byte for byte.
    again = tmp_path / "again"
    res2 = CliRunner().invoke(
        app,
        [
            "simulate",
            "--settings",
            str(out / "truth" / "parameters.json"),
            "--out",
            str(again),
            "--json",
        ],
    )
    assert res2.exit_code == 0, res2.output
    assert (again / "police.csv").read_bytes() == (out / "police.csv").read_bytes()


def test_cli_reports_errors_as_json(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["simulate", "--agencies", "police,spies", "--out", str(tmp_path), "--json"]
    )
    assert res.exit_code == 2
    err = json.loads(res.stdout)["error"]
    assert err["type"] == "SimulationError"
    assert "spies" in err["message"]


def test_name_noise_rates_must_fit_one_draw() -> None:
    with pytest.raises(ValidationError, match="sum to at most 1"):
        NoiseSettings(typo=0.5, transliteration=0.6)
