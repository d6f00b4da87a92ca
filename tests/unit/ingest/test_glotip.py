"""The real GLOTIP export: every one of its rows is accepted or rejected with a reason.

Source: UNODC GLOTIP country data, data-portal export of 14/04/2025
(``shared/data/unodc_glotip/README.md``). The expected figures below are facts of that file
checked independently with DuckDB in the test itself, not copied from our importer.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tiplab.ingest import load_profile, prepare_import
from tiplab.store import run_import


@pytest.fixture(scope="module")
def glotip(shared_data: Path) -> Path:
    return shared_data / "unodc_glotip" / "data_glotip.csv"


@pytest.fixture(scope="module")
def prepared(glotip: Path):  # type: ignore[no-untyped-def]
    return prepare_import(glotip, load_profile("glotip"))


def _q(glotip: Path, where: str) -> int:
    sql = (f"SELECT count(*) FROM read_csv('{glotip}', all_varchar=true) WHERE {where}")
    rows = duckdb.connect().execute(sql).fetchall()  # own connection: no shared state
    return int(rows[0][0])


def test_every_row_is_accounted_for(prepared, glotip: Path) -> None:  # type: ignore[no-untyped-def]
    s = prepared.summary()
    assert s["rows"] == 58_769 == _q(glotip, "TRUE")
    assert s["accepted"] + s["rejected"] == s["rows"]


def test_known_defects_are_rejected_not_counted(prepared, glotip: Path) -> None:  # type: ignore[no-untyped-def]
    rejected = prepared.result.rejected
    codes = {r["row"]: {x["code"] for x in r["reasons"]} for r in rejected.to_pylist()}
    # Questionnaire-cell categories (e.g. Q6.1_10s_2019) and values like 61,102,019.
    q_rows = _q(glotip, "Category LIKE 'Q6.1_%'")
    big = _q(glotip, "try_cast(replace(txtVALUE, ',', '') AS BIGINT) > 200000")
    either = _q(glotip, "Category LIKE 'Q6.1_%' OR "
                        "try_cast(replace(txtVALUE, ',', '') AS BIGINT) > 200000")
    assert sum("E_QUESTIONNAIRE_CODE" in c for c in codes.values()) == q_rows
    assert sum("E_VALUE_IMPLAUSIBLE" in c for c in codes.values()) == big
    assert sum(bool(c & {"E_QUESTIONNAIRE_CODE", "E_VALUE_IMPLAUSIBLE"})
               for c in codes.values()) == either == 128
    accepted = prepared.result.accepted
    assert max(accepted.column("value").drop_null().to_pylist()) < 200_000


def test_censored_values_are_intervals_never_numbers(prepared, glotip: Path) -> None:  # type: ignore[no-untyped-def]
    acc = prepared.result.accepted
    cens = acc.filter(acc.column("censored"))
    assert cens.num_rows == prepared.summary()["censored"]
    assert set(cens.column("value").to_pylist()) == {None}
    assert set(cens.column("value_low").to_pylist()) == {0}
    assert set(cens.column("value_high").to_pylist()) == {4}
    # Every "<5" row of the file is either an accepted censored row or a rejected row.
    rejected_lt5 = sum(1 for r in prepared.result.rejected.to_pylist()
                       if '"txtVALUE":"<5"' in r["raw"])
    assert cens.num_rows + rejected_lt5 == _q(glotip, "txtVALUE = '<5'")


def test_thousands_separators_are_read(prepared) -> None:  # type: ignore[no-untyped-def]
    acc = prepared.result.accepted.to_pylist()
    # AGO 2014 is not special; pick a row whose source text carries a separator.
    with_sep = [r for r in acc if r["value"] is not None and r["value"] >= 1000]
    assert with_sep, "the file has counts of 1,000 and more"


@pytest.mark.django_db
def test_glotip_import_through_the_store(tmp_path: Path, glotip: Path) -> None:
    from tiplab_web.cases.models import AggregateRecord, RejectedRow
    from tiplab_web.cases.store import DjangoCaseStore

    store = DjangoCaseStore(tmp_path / "data")
    batch, _ = run_import(store, glotip, "glotip")
    assert batch is not None
    assert batch.rows == 58_769
    assert batch.accepted + batch.rejected == 58_769
    assert AggregateRecord.objects.count() == batch.accepted
    assert RejectedRow.objects.count() == batch.rejected
    # A country-year total equals the source's text value (GBR, 2019, all victims).
    row = duckdb.connect().execute(
        f"SELECT txtVALUE FROM read_csv('{glotip}', all_varchar=true) WHERE Iso3_code='GBR' "
        "AND Indicator='Detected trafficking victims' AND Dimension='Total' AND Sex='Total' "
        "AND Age='Total' AND Year='2019'").fetchall()[0]
    stored = AggregateRecord.objects.get(country="GBR", indicator="Detected trafficking victims",
                                         dimension="Total", sex="Total", age_group="Total",
                                         year=2019)
    assert stored.value == int(row[0].replace(",", ""))
