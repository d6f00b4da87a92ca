"""The CTDC and HTCDS layouts: every column with the right codes on a hand-made table, the
mapping report, identifiers never exported, writing, and a k-anonymous release of a
simulated country checked by brute force on the file as written."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from tiplab.privacy.kanon import check_k, country_hierarchy, k_anonymise
from tiplab.privacy.layouts import (
    CTDC_COLUMNS,
    CTDC_GROUPS,
    HTCDS_FIELDS,
    LayoutError,
    to_ctdc,
    to_htcds,
    write,
)
from tiplab.records.schema import CASE_SCHEMA

CODES = pa.list_(pa.string())


def _cases() -> pa.Table:
    """Four records that between them touch every mapping rule."""
    return pa.table({
        "source_agency": ["police", "hotline", "ngo", "police"],
        "registration_date": pa.array([dt.date(2019, 3, 1), dt.date(2020, 7, 15),
                                       dt.date(2021, 1, 2), dt.date(2021, 12, 31)]),
        "sex": ["Feminine", "Masculine", "NonSpecifiedUnknown", "TransgenderFeminine"],
        "age": pa.array([16, 30, None, 50], pa.int64()),
        "age_band": ["9-17", None, None, "48+"],
        "majority_status": ["Minor", None, "Unknown", "Adult"],
        "citizenship": ["ROU", "XKX", None, "NGA"],
        "country_of_exploitation": ["DEU", "XTL", "USA", None],
        "exploitation_forms": pa.array([["SexualExploitation", "ForcedLabour"],
                                        ["ForcedBegging"], ["ChildLabour", "Servitude"],
                                        None], CODES),
        "labour_sectors": pa.array([["C_Manufacturing"], None,
                                    ["G_WholesaleAndRetailTradeRepairOfMotorVehicles",
                                     "A_AgricultureForestryAndFishing"], None], CODES),
        "sexual_exploitation_types": pa.array([["Prostitution"], None, None, None], CODES),
        "means_of_control": pa.array([["DebtBondage", "PhysicalThreats"], None,
                                      ["RestrictsMovement", "ThreatensChildrenFamily", "Other"],
                                      []], CODES),
        "recruiter_relation": ["IntimatePartner", "Unacquainted", None, "Unknown"],
        "trafficking_status": ["Actual", "Possible", "NotAVictim", None],
        "case_status": ["Active", "Closed", None, None],
    })


def _col(result: object, name: str) -> list[object]:
    return result.table.column(name).to_pylist()  # type: ignore[attr-defined]


# -- CTDC ------------------------------------------------------------------------------------


def test_ctdc_layout_has_every_codebook_variable_in_order() -> None:
    r = to_ctdc(_cases())
    # CTDC K-anonymized Data Codebook v7 (Sept 2021), section 2: 63 variables
    assert len(CTDC_COLUMNS) == 63
    assert r.table.column_names == list(CTDC_COLUMNS)
    assert CTDC_COLUMNS[:8] == ("yearOfRegistration", "Datasource", "gender", "ageBroad",
                                "majorityStatus", "majorityStatusAtExploit", "majorityEntry",
                                "citizenship")
    assert CTDC_COLUMNS[56:58] == ("RecruiterRelationship", "CountryOfExploitation")
    assert r.no_source == ("Datasource", "majorityStatusAtExploit", "majorityEntry",
                           "isAbduction")
    assert r.not_exported == ("source_agency", "trafficking_status", "case_status")
    # every column belongs to at most one flag group; groups cover every flag column
    grouped = [c for cols in CTDC_GROUPS.values() for c in cols]
    assert len(grouped) == len(set(grouped))
    assert [c for c in CTDC_COLUMNS if c not in grouped] == [
        "yearOfRegistration", "Datasource", "gender", "ageBroad", "majorityStatus",
        "majorityStatusAtExploit", "majorityEntry", "citizenship", "isAbduction",
        "CountryOfExploitation"]


def test_ctdc_demographics_use_ctdc_codes() -> None:
    r = to_ctdc(_cases())
    assert _col(r, "yearOfRegistration") == [2019, 2020, 2021, 2021]
    assert _col(r, "gender") == ["Female", "Male", None, "Transgender/NonConforming"]
    assert _col(r, "ageBroad") == ["9--17", "30--38", None, "48+"]   # 30 -> band from age
    assert _col(r, "majorityStatus") == ["Minor", "Adult", "Unknown", "Adult"]
    assert _col(r, "citizenship") == ["RO", "RS", None, "NG"]        # Kosovo under Serbia
    assert _col(r, "CountryOfExploitation") == ["DE", "XT", "US", None]
    assert _col(r, "isAbduction") == [None] * 4


def test_ctdc_means_of_control_flags() -> None:
    r = to_ctdc(_cases())
    assert _col(r, "meansOfControlDebtBondage") == [1, None, 0, None]
    assert _col(r, "meansOfControlThreats") == [1, None, 0, None]
    assert _col(r, "meansOfControlRestrictsMovement") == [0, None, 1, None]
    assert _col(r, "meansOfControlUsesChildren") == [0, None, 1, None]
    assert _col(r, "meansOfControlOther") == [0, None, 1, None]
    assert _col(r, "meansOfControlNotSpecified") == [0, 1, 0, 1]     # [] counts as unrecorded
    assert _col(r, "meansOfControlConcatenated") == [
        "Debt bondage;Threats to individual or others", None,
        "Denied freedom of movement/kept in isolation;Restricts access to/manipulates "
        "children;Other", None]


def test_ctdc_exploitation_labour_and_sex_flags() -> None:
    r = to_ctdc(_cases())
    assert _col(r, "isForcedLabour") == [1, 1, 0, None]              # begging is labour
    assert _col(r, "isSexualExploit") == [1, 0, 0, None]
    assert _col(r, "isSexAndLabour") == [1, 0, 0, None]
    assert _col(r, "isOtherExploit") == [0, 0, 1, None]
    assert _col(r, "isSlaveryAndPractices") == [0, 0, 1, None]       # servitude
    assert _col(r, "isForcedMarriage") == [0, 0, 0, None]
    assert _col(r, "typeOfExploitConcatenated") == [
        "Forced labour;Sexual exploitation;Combined sexual and labour exploitation",
        "Forced labour", "Other;Slavery and similar practices", None]
    assert _col(r, "typeOfLabourManufacturing") == [1, 0, 0, None]
    assert _col(r, "typeOfLabourBegging") == [0, 1, 0, None]
    assert _col(r, "typeOfLabourAgriculture") == [0, 0, 1, None]
    assert _col(r, "typeOfLabourOther") == [0, 0, 1, None]           # ISIC G
    assert _col(r, "typeOfLabourNotSpecified") == [0, 0, 0, None]
    assert _col(r, "typeOfLabourConcatenated") == ["Manufacturing", "Begging",
                                                   "Agriculture;Other", None]
    assert _col(r, "typeOfSexProstitution") == [1, 0, 0, None]
    assert _col(r, "typeOfSexPornography") == [0, 0, 0, None]
    assert _col(r, "typeOfSexConcatenated") == ["Prostitution", None, None, None]


def test_ctdc_recruiter_relation() -> None:
    r = to_ctdc(_cases())
    assert _col(r, "RecruiterRelationship") == ["Intimate Partner", "Other", None,
                                                "Unknown/Not specified"]
    assert _col(r, "recruiterRelationIntimatePartner") == [1, 0, None, 0]
    assert _col(r, "recruiterRelationOther") == [0, 1, None, 0]
    assert _col(r, "recruiterRelationFriend") == [0, 0, None, 0]
    assert _col(r, "recruiterRelationUnknown") == [0, 0, 1, 1]       # as in CTDC's file


def test_ctdc_report_counts_what_had_no_equivalent() -> None:
    r = to_ctdc(_cases())
    forms = r.column("exploitation_forms")
    assert (forms.values, forms.mapped, dict(forms.to_other), forms.missing) == (
        5, 4, {"ChildLabour": 1}, 1)
    sectors = r.column("labour_sectors")
    assert (sectors.values, sectors.mapped, sectors.missing) == (3, 2, 2)
    assert dict(sectors.to_other) == {"G_WholesaleAndRetailTradeRepairOfMotorVehicles": 1}
    sex = r.column("sex")
    assert (sex.values, sex.mapped, dict(sex.to_missing)) == (4, 3, {"NonSpecifiedUnknown": 1})
    assert r.column("age_band").note == "1 derived from age"
    assert (r.column("means_of_control").values, r.column("means_of_control").missing) == (5, 2)
    assert r.unmapped == 3
    d = json.loads(json.dumps(r.to_dict()))
    assert d["layout"] == "ctdc"
    assert d["unmapped"] == 3
    assert len(d["columns"]) == 63


def test_ctdc_datasource_from_agencies() -> None:
    r = to_ctdc(_cases(), datasource={"police": "case management", "hotline": "Hotline"})
    assert _col(r, "Datasource") == ["Case Management", "Hotline", None, "Case Management"]
    assert dict(r.column("source_agency").to_missing) == {"ngo": 1}
    assert "Datasource" not in r.no_source
    assert _col(to_ctdc(_cases(), datasource="Hotline"), "Datasource") == ["Hotline"] * 4
    with pytest.raises(LayoutError, match="'Helpline' is not a CTDC data source"):
        to_ctdc(_cases(), datasource="Helpline")


# -- HTCDS -----------------------------------------------------------------------------------


def test_htcds_layout_uses_the_standard_names_and_picklists() -> None:
    r = to_htcds(_cases())
    assert r.table.column_names == [
        "prs_Gender", "prs_Citizenship", "vic_TraffickingStatus",
        "vic_RelationshipToTrafficker", "vic_MethodsOfControl", "vic_TypeOfExploitation",
        "vic_ForcedLabourIndustry", "vic_TypeOfSexExploitation",
        "vic_LocationOfExploitation", "cas_Status", "cas_IncomingReferralDate"]
    assert set(r.table.column_names) <= HTCDS_FIELDS
    assert _col(r, "prs_Gender") == ["Feminine", "Masculine", "NonSpecifiedUnknown",
                                     "TransgenderFeminine"]
    assert _col(r, "prs_Citizenship") == ["RO", "XK", None, "NG"]
    assert _col(r, "vic_TraffickingStatus") == [
        "ActualVictimOfTrafficking", "PossibleVictimOfTrafficking",
        "NotAVictimOfTrafficking", None]
    # HTCDS 2.0 spells it "Unaquainted" and has no partner relation
    assert _col(r, "vic_RelationshipToTrafficker") == ["Acquainted", "Unaquainted", None, None]
    assert _col(r, "vic_MethodsOfControl") == ["PhysicalThreats;DebtBondage", None,
                                               "ThreatensChildrenFamily;Other", None]
    assert _col(r, "vic_TypeOfExploitation") == ["SexualExploitation;ForcedLabour",
                                                 "ForcedBegging", "ChildLabour;Servitude", None]
    assert _col(r, "vic_ForcedLabourIndustry") == [
        "C_Manufacturing", None,
        "A_AgricultureForestryAndFishing;G_WholesaleAndRetailTradeRepairOfMotorVehicles", None]
    assert _col(r, "vic_LocationOfExploitation") == ["DE", "XT", "US", None]
    assert _col(r, "cas_Status") == ["Active", "Closed", None, None]
    assert _col(r, "cas_IncomingReferralDate")[0] == dt.date(2019, 3, 1)
    means = r.column("means_of_control")
    assert (means.mapped, dict(means.to_other)) == (4, {"RestrictsMovement": 1})
    assert dict(r.column("recruiter_relation").to_missing) == {"Unknown": 1}
    assert "region_of_exploitation" not in r.table.column_names
    assert "age_band" in r.not_exported


def test_htcds_names_come_from_the_schema() -> None:
    exported = {f.htcds for f in CASE_SCHEMA.fields if f.htcds and not f.protected}
    r = to_htcds(_cases(), include_organisation=True)
    assert set(r.table.column_names) == exported
    assert _col(r, "org_Name")[:2] == ["police", "hotline"]


# -- identifiers -----------------------------------------------------------------------------


@pytest.mark.parametrize("column", [f.name for f in CASE_SCHEMA.fields if f.protected]
                         + ["record_id", "person_id"])
@pytest.mark.parametrize("layout", [to_ctdc, to_htcds])
def test_identifiers_are_refused_or_dropped_never_exported(column: str, layout: object,
                                                           tmp_path: Path) -> None:
    t = _cases().append_column(column, pa.array(["secret"] * 4))
    with pytest.raises(LayoutError, match=f"identifying column\\(s\\) {column}"):
        layout(t)  # type: ignore[operator]
    r = layout(t, drop_protected=True)  # type: ignore[operator]
    assert r.dropped_protected == (column,)
    assert column not in r.table.column_names
    assert not any("secret" in str(v) for row in r.table.to_pylist() for v in row.values())
    with pytest.raises(LayoutError, match="nothing was written"):
        write(r.table.append_column(column, pa.array(["secret"] * 4)),
              tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def test_htcds_names_of_identifiers_are_refused_too(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="prs_FirstName"):
        write(pa.table({"prs_FirstName": ["Ana"], "prs_Gender": ["Feminine"]}),
              tmp_path / "x.json", "json")


# -- bad input -------------------------------------------------------------------------------


def test_bad_input_is_refused_with_a_clear_message() -> None:
    with pytest.raises(LayoutError, match="no records"):
        to_ctdc(_cases().slice(0, 0))
    with pytest.raises(LayoutError, match="no column registration_date"):
        to_htcds(_cases().drop_columns(["registration_date"]))
    bad = _cases().set_column(8, "exploitation_forms", pa.array(["ForcedLabour"] * 4))
    with pytest.raises(LayoutError, match="must be a list of codes"):
        to_ctdc(bad)
    with pytest.raises(LayoutError, match="unknown format 'xlsx'"):
        write(to_ctdc(_cases()), "/tmp/never.xlsx", "xlsx")  # type: ignore[arg-type]


# -- writing ---------------------------------------------------------------------------------


def test_write_csv_parquet_json(tmp_path: Path) -> None:
    r = to_ctdc(_cases())
    csv = pacsv.read_csv(write(r, tmp_path / "a.csv"),
                         convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    assert csv.column_names == list(CTDC_COLUMNS)
    assert csv.num_rows == 4
    assert csv.column("gender").to_pylist() == ["Female", "Male", None,
                                                "Transgender/NonConforming"]
    pt = pq.read_table(write(r, tmp_path / "a.parquet", "parquet"))
    assert pt.column("meansOfControlDebtBondage").to_pylist() == [1, None, 0, None]
    meta = json.loads(pt.schema.metadata[b"tiplab"])
    assert meta["layout"] == "ctdc"
    assert meta["unmapped"] == 3
    rows = json.loads(write(to_htcds(_cases()), tmp_path / "h.json", "json").read_text())
    assert rows[0]["cas_IncomingReferralDate"] == "2019-03-01"
    assert rows[1]["prs_Citizenship"] == "XK"


# -- a k-anonymous CTDC release of a simulated country ----------------------------------------


def _simulated_cases(tmp_path: Path) -> pa.Table:
    """Case records from the simulator's truth (every hidden victim, seeded)."""
    from tiplab.records.codes import age_band
    from tiplab.simulate import SimulationSettings, simulate

    simulate(SimulationSettings(seed=3, victims=3000), tmp_path / "sim")
    v = pq.read_table(tmp_path / "sim" / "truth" / "victims.parquet")
    age = v.column("age_at_identification").to_numpy()
    bands = np.array([age_band(a) for a in range(131)], dtype=object)[age]

    def one(col: str) -> pa.Array:
        return pa.array([None if x is None else [x] for x in v.column(col).to_pylist()], CODES)

    return pa.table({
        "registration_date": v.column("identification_date"),
        "sex": v.column("sex"), "age": v.column("age_at_identification"),
        "age_band": pa.array(bands, pa.string()),
        "citizenship": v.column("citizenship"),
        "country_of_exploitation": pa.array(["XTL"] * v.num_rows),
        "region_of_exploitation": v.column("region_of_exploitation"),
        "exploitation_forms": one("exploitation_form"),
        "labour_sectors": one("labour_sector"),
        "means_of_control": v.column("means_of_control"),
        "recruiter_relation": v.column("recruiter_relation"),
    })


def test_ctdc_release_of_a_simulated_country_is_k_anonymous_on_file(tmp_path: Path) -> None:
    layout = to_ctdc(_simulated_cases(tmp_path), datasource="Case Management")
    assert layout.unmapped == layout.column("exploitation_forms").unmapped + \
        layout.column("labour_sectors").unmapped
    release = k_anonymise(layout.table, k=11, groups=layout.groups,
                          hierarchies={"citizenship": country_hierarchy({"XT": "Eastern Europe"})})
    assert release.records_out >= 0.95 * release.records_in
    path = write(release, tmp_path / "ctdc_k11.csv")
    back = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types={c: pa.string() for c in CTDC_COLUMNS}, strings_can_be_null=True))
    assert back.column_names == list(CTDC_COLUMNS)
    assert back.num_rows == release.records_out
    # the brute-force check on the file as released, every column a quasi-identifier
    assert check_k(back, back.column_names, 11) == []
    for group, cols in CTDC_GROUPS.items():
        starred = np.column_stack([np.array(back.column(c).to_pylist(), dtype=object) == "*"
                                   for c in cols])
        assert (starred.all(axis=1) | ~starred.any(axis=1)).all(), group
