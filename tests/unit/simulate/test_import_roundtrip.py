"""Every export imports through its shipped profile, rejecting exactly the injected defects.

The comparison is exact: the set of (source, row, reason code) errors the importer reports
equals the set in truth/defects.csv, and so does the set of (source, record_id, code).
Accepted rows map back to the true victim's attributes.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
import yaml

from tiplab.ingest import REASONS, prepare_import
from tiplab.simulate import DEFECT_CODES, SimulationResult, SimulationSettings, simulate

AGENCIES = ("police", "labour_inspectorate", "ngo_shelters", "hotline", "immigration", "health")


@pytest.fixture(scope="module")
def imports(demo_dir: Path) -> dict[str, object]:
    roles = yaml.safe_load((demo_dir / "linkage_roles.yaml").read_text(encoding="utf-8"))
    return {
        a: prepare_import(demo_dir / e["file"], str(demo_dir / f"{a}.profile.yaml"))
        for a, e in roles["inputs"].items()
    }


def _defects(out: Path) -> list[dict[str, object]]:
    return pacsv.read_csv(
        out / "truth" / "defects.csv",
        convert_options=pacsv.ConvertOptions(column_types={"record_id": pa.string()}),
    ).to_pylist()


def test_defect_codes_are_importer_reasons() -> None:
    assert set(DEFECT_CODES) <= set(REASONS)


def test_every_agency_has_an_export_and_profile(demo_run: SimulationResult) -> None:
    assert [a.agency for a in demo_run.agencies] == list(AGENCIES)
    formats = {a.agency: a.format for a in demo_run.agencies}
    assert formats["labour_inspectorate"] == "xlsx"
    assert formats["hotline"] == "ndjson"
    for a in demo_run.agencies:
        assert (demo_run.out_dir / a.file).is_file()
        assert (demo_run.out_dir / a.profile).is_file()


def test_encodings_are_as_specified(demo_dir: Path, imports: dict[str, object]) -> None:
    raw = {a: imports[a].raw for a in AGENCIES}  # type: ignore[attr-defined]
    assert raw["police"].encoding == "utf-8"
    assert raw["ngo_shelters"].encoding == "utf-8-sig"
    assert raw["immigration"].encoding == "cp1252"
    assert raw["health"].encoding == "utf-16"
    assert (demo_dir / "ngo_shelters.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (demo_dir / "health.csv").read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    (demo_dir / "immigration.csv").read_bytes().decode("cp1252")  # no other bytes
    assert raw["ngo_shelters"].delimiter == ";"
    assert raw["health"].delimiter == "\t"


def test_errors_equal_injected_defects(demo_dir: Path, imports: dict[str, object]) -> None:
    defects = _defects(demo_dir)
    assert {d["code"] for d in defects} == set(DEFECT_CODES), "every defect kind is exercised"
    for agency in AGENCIES:
        prepared = imports[agency]
        issues = prepared.result.issues.to_pylist()  # type: ignore[attr-defined]
        errors = {(i["row"], i["code"]) for i in issues if i["severity"] == "error"}
        expected = {(d["row"], d["code"]) for d in defects if d["source"] == agency}
        assert errors == expected, (agency, sorted(errors ^ expected)[:10])
        # The same comparison keyed by record id, as the brief states it.
        raw = prepared.raw.table  # type: ignore[attr-defined]
        id_col = next(c for c in raw.column_names if c != "_row")
        ids = dict(zip(raw.column("_row").to_pylist(), raw.column(id_col).to_pylist(), strict=True))
        by_id = {(ids[r], c) for r, c in errors}
        assert by_id == {(d["record_id"], d["code"]) for d in defects if d["source"] == agency}


def test_rejected_rows_are_exactly_the_defect_rows(
    demo_dir: Path, imports: dict[str, object]
) -> None:
    defects = _defects(demo_dir)
    for agency in AGENCIES:
        s = imports[agency].summary()  # type: ignore[attr-defined]
        rows = {d["row"] for d in defects if d["source"] == agency}
        assert s["rejected"] == len(rows)
        assert s["accepted"] + s["rejected"] == s["rows"]


def test_warnings_only_on_defect_rows(demo_dir: Path, imports: dict[str, object]) -> None:
    defects = _defects(demo_dir)
    for agency in AGENCIES:
        rows = {d["row"] for d in defects if d["source"] == agency}
        warned = {
            i["row"]
            for i in imports[agency].result.issues.to_pylist()  # type: ignore
            if i["severity"] == "warning"
        }
        assert warned <= rows, agency


def test_accepted_rows_carry_the_true_attributes(
    demo_dir: Path, imports: dict[str, object]
) -> None:
    """Profiles map the agency's codes back to the truth (sex, region, date, citizenship)."""
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE records AS SELECT * FROM read_csv('{demo_dir}/truth/records.csv'"
        ", types={'record_id': 'VARCHAR'})"
    )
    con.execute(f"CREATE TABLE victims AS SELECT * FROM '{demo_dir}/truth/victims.parquet'")
    for agency in AGENCIES:
        acc = imports[agency].result.accepted.select(  # type: ignore[attr-defined]
            [
                "_row",
                "record_id",
                "registration_date",
                "sex",
                "region_of_exploitation",
                "citizenship",
                "exploitation_forms",
            ]
        )
        con.register("acc", acc)
        row = con.execute(
            "SELECT count(*), "
            "count(*) FILTER (WHERE a.registration_date <> r.registration_date), "
            "count(*) FILTER (WHERE a.sex IS NOT NULL AND a.sex <> v.sex), "
            "count(*) FILTER (WHERE a.region_of_exploitation <> v.region_of_exploitation), "
            "count(*) FILTER (WHERE a.citizenship IS NOT NULL AND a.citizenship <> "
            "v.citizenship), "
            "count(*) FILTER (WHERE a.record_id <> r.record_id) "
            "FROM acc a JOIN records r ON r.source = ? AND r.row = a._row "
            "JOIN victims v ON v.true_id = r.true_id",
            [agency],
        ).fetchall()[0]
        total, bad_date, bad_sex, bad_region, bad_cit, bad_id = row
        assert total == acc.num_rows, agency
        assert (bad_date, bad_sex, bad_region, bad_cit, bad_id) == (0, 0, 0, 0, 0), agency
        con.unregister("acc")
    con.close()


def test_clean_run_has_no_rejects(tmp_path: Path) -> None:
    settings = SimulationSettings(
        seed=3, victims=3000, defect_rate=0.0, agencies=("police", "ngo_shelters", "health")
    )
    result = simulate(settings, tmp_path)
    assert _defects(tmp_path) == []
    for a in result.agencies:
        s = prepare_import(tmp_path / a.file, str(tmp_path / a.profile)).summary()
        assert s["rejected"] == 0, (a.agency, s["reasons"])
        assert s["accepted"] == a.rows


def test_large_labour_export_falls_back_to_csv(tmp_path: Path) -> None:
    settings = SimulationSettings(
        seed=4, victims=3000, agencies=("labour_inspectorate",), xlsx_max_rows=10
    )
    result = simulate(settings, tmp_path)
    (out,) = result.agencies
    assert out.file == "labour_inspectorate.csv"
    assert out.format == "csv"
    assert not (tmp_path / "labour_inspectorate.xlsx").exists()
    s = prepare_import(tmp_path / out.file, str(tmp_path / out.profile)).summary()
    defects = {d["row"] for d in _defects(tmp_path)}
    assert s["rows"] == out.rows
    assert s["rejected"] == len(defects)


def test_linkage_roles_name_real_columns(demo_dir: Path, imports: dict[str, object]) -> None:
    """linkage_roles.yaml loads with the linkage package and names columns that exist."""
    from tiplab.linkage.roles import RolesFile

    roles = RolesFile.load(demo_dir / "linkage_roles.yaml")
    assert set(roles.inputs) == set(AGENCIES)
    for agency, spec in roles.inputs.items():
        columns = set(imports[agency].raw.columns)  # type: ignore[attr-defined]
        assert spec.record_id in columns
        assert set(spec.roles.values()) <= columns, agency
        assert set(spec.attributes.values()) <= columns, agency
        assert {"year", "region_of_exploitation", "sex", "exploitation_form"} <= set(
            spec.attributes
        )
    assert all(p.is_file() for p in roles.files())
