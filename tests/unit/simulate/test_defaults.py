"""The built-in shares are what the loaders compute from the shipped real data."""

from __future__ import annotations

from pathlib import Path

import pytest

from tiplab.simulate.defaults import (
    CITIZENSHIP,
    CTDC_MISSING,
    FORM_BY_SEX_AGE,
    SEX_AGE,
    ctdc_missing,
    glotip_shares,
    load_shares,
)

GLOTIP = (
    Path(__file__).resolve().parents[4] / "shared" / "data" / "unodc_glotip" / "data_glotip.csv"
)


@pytest.mark.skipif(not GLOTIP.is_file(), reason="shared GLOTIP data not present")
def test_builtin_shares_reproduce_glotip() -> None:
    sex_age, form, cit = glotip_shares(GLOTIP)
    assert {k: v for k, v in sex_age.items() if k in SEX_AGE} == SEX_AGE
    for key, cells in FORM_BY_SEX_AGE.items():
        assert form[key] == cells
    assert cit == CITIZENSHIP


CTDC = GLOTIP.parents[1] / "ctdc" / "kanon_2021_aggregates" / "missing_summary.csv"


@pytest.mark.skipif(not CTDC.is_file(), reason="shared CTDC aggregates not present")
def test_builtin_missingness_reproduces_ctdc() -> None:
    assert ctdc_missing(CTDC) == CTDC_MISSING
    shares = load_shares(None, str(CTDC))
    assert shares.missing == CTDC_MISSING
    assert "read at run time" in shares.sources["missing"]


def test_missing_file_falls_back_to_builtins(tmp_path: Path) -> None:
    shares = load_shares(str(tmp_path / "absent.csv"))
    assert shares.citizenship == CITIZENSHIP
    assert "built-in" in shares.sources["citizenship"]
