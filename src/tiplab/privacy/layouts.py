"""Case records in the layouts of the standards: CTDC's k-anonymised dataset and HTCDS 2.0.

:func:`to_ctdc` writes the 63 variables of CTDC's Global K-anonymised Dataset (codebook v7,
Sept 2021; ``shared/data/ctdc/docs/CTDCk_codebook_v7_1.pdf``) in the codebook's order and
spelling: ``yearOfRegistration``, ``gender`` (Male / Female / Transgender/NonConforming),
``ageBroad`` ("0--8" … "48+"), ISO alpha-2 countries, one 0/1 flag per means of control,
form and sector of exploitation with their ';'-joined ``…Concatenated`` text, and the
recruiter relation. :func:`to_htcds` writes the flat person/victim/case fields of IOM's HTCDS
2.0 (the field names of the standard's Excel template, picklist values as the standard
spells them, multi-select values joined by ';').

Our code lists are HTCDS's (:mod:`tiplab.records.codes`), so the HTCDS layout is nearly
one-to-one; the CTDC layout is coarser and merges some codes. A value with no equivalent goes
to the layout's "other" category where it has one, else to missing, and is counted in the
mapping report (:class:`ColumnReport`) of the result, so nothing is dropped silently.

Identifiers (names, dates of birth, document numbers, phones, record and person ids) are
never in a layout: the input may not hold them (a :class:`LayoutError` says so) unless
``drop_protected=True`` is given, and every output is checked again before it is returned
and before it is written.

Crosswalk decisions (``shared/reference/case_data_standards.md`` section 6 proposes the
mapping; neither IOM nor CTDC publishes one):

- gender: Feminine -> Female, Masculine -> Male, the transgender and non-conforming codes ->
  Transgender/NonConforming (CTDC does not disaggregate them), NonSpecifiedUnknown -> missing.
- countries: alpha-3 -> alpha-2. Kosovo (XKX) -> RS in the CTDC layout, as CTDC files Kosovo
  under Serbia; XK in HTCDS. Other user-assigned codes (X..) keep their first two letters.
- forms: ForcedBegging -> isForcedLabour + typeOfLabourBegging; ForcedCriminality ->
  isForcedLabour + typeOfLabourIllicitActivities (CTDC's "forced work in illegal business");
  Servitude -> isSlaveryAndPractices; forced marriage, military service and organ removal
  set their own flag and isOtherExploit; child labour, forced adoption, surrogacy and
  other -> isOtherExploit only (counted as "other").
- sectors (ISIC sections): A -> Agriculture (our section code cannot separate fishing,
  which CTDC codes as Aquafarming), B -> MiningOrDrilling, C -> Manufacturing,
  F -> Construction, H -> Transportation, I -> Hospitality, T -> DomesticWork; the other
  sections -> typeOfLabourOther.
- means: one flag each; PhysicalThreats -> Threats, ThreatsLawEnforcement ->
  ThreatOfLawEnforcement, ThreatensChildrenFamily -> UsesChildren.
- recruiter: Acquainted -> Friend/Acquaintance, Familial -> Family/Relative,
  Unacquainted -> Other (CTDC's other includes brokers, employers and strangers).
- a flag is 0/1 when its field was recorded and null when not ("not reported" is not "no");
  sub-type flags (typeOfLabour*, typeOfSex*) are known when the form of exploitation is.
  As in CTDC's file, an unrecorded recruiter sets recruiterRelationUnknown = 1 and an
  unrecorded means of control meansOfControlNotSpecified = 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tiplab.errors import TiplabError
from tiplab.privacy.kanon import IDENTIFYING_COLUMNS
from tiplab.records.codes import (
    CASE_STATUS,
    EXPLOITATION_FORMS,
    GENDER,
    LABOUR_SECTORS,
    MAJORITY_STATUS,
    MEANS_OF_CONTROL,
    SEXUAL_EXPLOITATION_TYPES,
)
from tiplab.records.codes import age_band as _age_band
from tiplab.records.schema import CASE_SCHEMA

Layout = Literal["ctdc", "htcds"]
Format = Literal["csv", "parquet", "json"]


class LayoutError(TiplabError):
    """Records cannot be put in a layout as asked; the message says why and what to do."""


# -- the CTDC layout -------------------------------------------------------------------------

#: CTDC means-of-control flag suffix -> label in meansOfControlConcatenated (codebook order).
CTDC_MEANS: Mapping[str, str] = MappingProxyType({
    "DebtBondage": "Debt bondage",
    "TakesEarnings": "Takes/Withholds Earnings",
    "RestrictsFinancialAccess": "Restricts access to finances",
    "Threats": "Threats to individual or others",
    "PsychologicalAbuse": "Psychological abuse",
    "PhysicalAbuse": "Physical abuse",
    "SexualAbuse": "Sexual abuse",
    "FalsePromises": "False promises/deception",
    "PsychoactiveSubstances": "Use of psychoactive substances",
    "RestrictsMovement": "Denied freedom of movement/kept in isolation",
    "RestrictsMedicalCare": "Limits/restricts medical services",
    "ExcessiveWorkingHours": "Excessive working hours",
    "UsesChildren": "Restricts access to/manipulates children",
    "ThreatOfLawEnforcement": "Threat of action by law enforcement",
    "WithholdsNecessities": "Withholds/denies basic necessities",
    "WithholdsDocuments": "Withholds/Destroys Important Documents",
    "Other": "Other",
    "NotSpecified": "Not Specified",
})

#: Our means-of-control code -> CTDC flag suffix.
MEANS_TO_CTDC: Mapping[str, str] = MappingProxyType({
    "PhysicalThreats": "Threats", "ThreatsLawEnforcement": "ThreatOfLawEnforcement",
    "ThreatensChildrenFamily": "UsesChildren", "DebtBondage": "DebtBondage",
    "FalsePromises": "FalsePromises", "PhysicalAbuse": "PhysicalAbuse",
    "SexualAbuse": "SexualAbuse", "TakesEarnings": "TakesEarnings",
    "RestrictsFinancialAccess": "RestrictsFinancialAccess",
    "RestrictsMedicalCare": "RestrictsMedicalCare",
    "WithholdsNecessities": "WithholdsNecessities",
    "PsychologicalAbuse": "PsychologicalAbuse", "PsychoactiveSubstance": "PsychoactiveSubstances",
    "ExcessiveWorkingHours": "ExcessiveWorkingHours", "WithholdsDocuments": "WithholdsDocuments",
    "RestrictsMovement": "RestrictsMovement", "Other": "Other",
})

#: CTDC exploitation flag -> label in typeOfExploitConcatenated (None: covered by "Other").
CTDC_EXPLOIT: Mapping[str, str | None] = MappingProxyType({
    "isForcedLabour": "Forced labour",
    "isSexualExploit": "Sexual exploitation",
    "isOtherExploit": "Other",
    "isSexAndLabour": "Combined sexual and labour exploitation",
    "isForcedMarriage": "Forced marriage",
    "isForcedMilitary": None,
    "isOrganRemoval": None,
    "isSlaveryAndPractices": "Slavery and similar practices",
})

#: Our form of exploitation -> CTDC exploitation flags and typeOfLabour flag suffixes it sets.
FORMS_TO_CTDC: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = MappingProxyType({
    "SexualExploitation": (("isSexualExploit",), ()),
    "ForcedLabour": (("isForcedLabour",), ()),
    "ForcedBegging": (("isForcedLabour",), ("Begging",)),
    "ForcedCriminality": (("isForcedLabour",), ("IllicitActivities",)),
    "ForcedMarriage": (("isForcedMarriage", "isOtherExploit"), ()),
    "ForcedMilitaryByNonStateActors": (("isForcedMilitary", "isOtherExploit"), ()),
    "OrganRemoval": (("isOrganRemoval", "isOtherExploit"), ()),
    "Servitude": (("isSlaveryAndPractices", "isOtherExploit"), ()),
    "ChildLabour": (("isOtherExploit",), ()),
    "ForcedAdoption": (("isOtherExploit",), ()),
    "Surrogacy": (("isOtherExploit",), ()),
    "Other": (("isOtherExploit",), ()),
})
#: Forms that CTDC has no category for: they reach the file only as isOtherExploit.
_FORMS_TO_OTHER = frozenset({"ChildLabour", "ForcedAdoption", "Surrogacy"})

#: CTDC typeOfLabour flag suffix -> label in typeOfLabourConcatenated (codebook order).
CTDC_LABOUR: Mapping[str, str] = MappingProxyType({
    "Agriculture": "Agriculture", "Aquafarming": "Aquafarming", "Begging": "Begging",
    "Construction": "Construction", "DomesticWork": "Domestic Work",
    "Hospitality": "Hospitality", "IllicitActivities": "Illicit Activities",
    "Manufacturing": "Manufacturing", "MiningOrDrilling": "Mining or drilling",
    "Peddling": "Peddling", "Transportation": "Transportation", "Other": "Other",
    "NotSpecified": "Not Specified",
})

#: Our ISIC section code -> CTDC typeOfLabour flag suffix (absent: typeOfLabourOther).
SECTORS_TO_CTDC: Mapping[str, str] = MappingProxyType({
    "A_AgricultureForestryAndFishing": "Agriculture",
    "B_MiningAndQuarrying": "MiningOrDrilling",
    "C_Manufacturing": "Manufacturing",
    "F_Construction": "Construction",
    "H_TransportationAndStorage": "Transportation",
    "I_AccommodationAndFoodServiceActivities": "Hospitality",
    "T_ActivitiesOfHouseholdsAsEmployers": "DomesticWork",
})

#: CTDC typeOfSex flag suffix -> label; our codes carry the same names.
CTDC_SEX: Mapping[str, str] = MappingProxyType({
    "Prostitution": "Prostitution", "Pornography": "Pornography",
    "RemoteInteractiveServices": "Remote interactive services",
    "PrivateSexualServices": "Private sexual services",
})

#: Our recruiter relation -> (RecruiterRelationship label, recruiterRelation flag suffix).
RECRUITER_TO_CTDC: Mapping[str, tuple[str, str]] = MappingProxyType({
    "IntimatePartner": ("Intimate Partner", "IntimatePartner"),
    "Acquainted": ("Friend/Acquaintance", "Friend"),
    "Familial": ("Family/Relative", "Family"),
    "Unacquainted": ("Other", "Other"),
    "Unknown": ("Unknown/Not specified", "Unknown"),
})

GENDER_TO_CTDC: Mapping[str, str | None] = MappingProxyType({
    "Feminine": "Female", "Masculine": "Male",
    "TransgenderFeminine": "Transgender/NonConforming",
    "TransgenderMasculine": "Transgender/NonConforming",
    "NonConforming": "Transgender/NonConforming",
    "NonSpecifiedUnknown": None,
})

CTDC_DATASOURCES = ("Case Management", "Hotline")

#: The 63 variables of the CTDC K-anon codebook v7, in its order.
CTDC_COLUMNS: tuple[str, ...] = (
    "yearOfRegistration", "Datasource", "gender", "ageBroad", "majorityStatus",
    "majorityStatusAtExploit", "majorityEntry", "citizenship",
    *(f"meansOfControl{s}" for s in CTDC_MEANS), "meansOfControlConcatenated",
    *CTDC_EXPLOIT, "typeOfExploitConcatenated",
    *(f"typeOfLabour{s}" for s in CTDC_LABOUR), "typeOfLabourConcatenated",
    *(f"typeOfSex{s}" for s in CTDC_SEX), "typeOfSexConcatenated",
    "isAbduction", "RecruiterRelationship", "CountryOfExploitation",
    *(f"recruiterRelation{s}" for s in ("IntimatePartner", "Friend", "Family", "Other",
                                         "Unknown")),
)

#: One-hot flag groups of the CTDC layout, with their text column: each is one
#: quasi-identifier for :mod:`tiplab.privacy.kanon` (shown whole or suppressed whole).
CTDC_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "meansOfControl": tuple(c for c in CTDC_COLUMNS if c.startswith("meansOfControl")),
    "typeOfExploit": (*CTDC_EXPLOIT, "typeOfExploitConcatenated"),
    "typeOfLabour": tuple(c for c in CTDC_COLUMNS if c.startswith("typeOfLabour")),
    "typeOfSex": tuple(c for c in CTDC_COLUMNS if c.startswith("typeOfSex")),
    "recruiterRelation": ("RecruiterRelationship",
                          *(c for c in CTDC_COLUMNS if c.startswith("recruiterRelation"))),
})


# -- the HTCDS layout ------------------------------------------------------------------------

#: HTCDS 2.0 field names (``HTCDS Field Standards 2.0``, sheet Field_Standards; the
#: non-deprecated person, victim and case fields): what an ``htcds=`` attribute may name.
HTCDS_FIELDS: frozenset[str] = frozenset({
    "org_Name", "org_Type", "prs_Salutation", "prs_FirstName", "prs_MiddleName",
    "prs_SecondName", "prs_Birthdate", "prs_Gender", "prs_Deceased", "prs_MaritalStatus",
    "prs_NumberOfChildren", "prs_PrimaryLanguage", "prs_SecondaryLanguage",
    "prs_HighestLevelOfEducation", "prs_Citizenship", "prs_IdentityNumber", "prs_Email",
    "prs_HomePhone", "prs_MobilePhone", "vic_TraffickingStatus",
    "vic_TraffickingStatusDecisionMakingOrg", "vic_RelationshipToTrafficker",
    "vic_AgeWhenTrafficked", "vic_RecruitmentWebsitesAndApps", "vic_MethodOfRecruitment",
    "vic_LocationOfRecruitment", "vic_MethodsOfControl", "vic_TypeOfExploitation",
    "vic_ForcedLabourIndustry", "vic_TypeOfSexExploitation", "vic_LocationOfExploitation",
    "vic_ExploitationWebsitesAndApps", "cas_Status", "cas_ReasonForCaseClosure",
    "cas_IncomingReferralDate", "cas_OutgoingReferralDate", "con_Consent",
})

#: Order of the columns in the HTCDS layout: the standard's Excel template order.
HTCDS_ORDER: tuple[str, ...] = (
    "org_Name", "prs_Gender", "prs_Citizenship", "vic_TraffickingStatus",
    "vic_RelationshipToTrafficker", "vic_MethodsOfControl", "vic_TypeOfExploitation",
    "vic_ForcedLabourIndustry", "vic_TypeOfSexExploitation", "vic_LocationOfExploitation",
    "cas_Status", "cas_IncomingReferralDate",
)

TRAFFICKING_STATUS_TO_HTCDS: Mapping[str, str] = MappingProxyType({
    "Actual": "ActualVictimOfTrafficking", "Possible": "PossibleVictimOfTrafficking",
    "NotAVictim": "NotAVictimOfTrafficking",
})
#: HTCDS has three relations; the standard spells the third "Unaquainted".
RECRUITER_TO_HTCDS: Mapping[str, str | None] = MappingProxyType({
    "Familial": "Familial", "Acquainted": "Acquainted", "IntimatePartner": "Acquainted",
    "Unacquainted": "Unaquainted", "Unknown": None,
})
#: Codes of ours that are not in the HTCDS 2.0 picklists: sent to the picklist's "Other".
HTCDS_OTHER: Mapping[str, frozenset[str]] = MappingProxyType({
    "means_of_control": frozenset({"RestrictsMovement"}),
    "exploitation_forms": frozenset({"ForcedCriminality"}),
})
_HTCDS_UNSHAPED = {
    "age": "no HTCDS 2.0 field holds age at registration (only prs_Birthdate, an identifier)",
    "age_band": "no HTCDS 2.0 field", "majority_status": "no HTCDS 2.0 field",
    "region_of_exploitation": "sub-national places are hte_ event rows, not a flat field",
    "origin_country": "origin is an hte_ recruitment event, not a flat field",
    "origin_region": "origin is an hte_ recruitment event, not a flat field",
    "transit_countries": "transit legs are hte_ events, not a flat field",
}


# -- results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ColumnReport:
    """How one input column went into a layout.

    Counts are of values (each element of a multi-valued field counts). ``mapped`` values
    found a layout code; ``to_other`` (source value -> count) went to the layout's "other"
    category, ``to_missing`` to missing, for want of an equivalent; ``missing`` counts
    records with no value in the source.
    """

    source: str
    targets: tuple[str, ...]
    values: int
    mapped: int
    to_other: Mapping[str, int] = field(default_factory=dict)
    to_missing: Mapping[str, int] = field(default_factory=dict)
    missing: int = 0
    note: str = ""

    @property
    def unmapped(self) -> int:
        return int(sum(self.to_other.values()) + sum(self.to_missing.values()))

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "targets": list(self.targets), "values": self.values,
                "mapped": self.mapped, "unmapped": self.unmapped,
                "to_other": dict(self.to_other), "to_missing": dict(self.to_missing),
                "missing": self.missing, "note": self.note}


@dataclass(frozen=True)
class LayoutResult:
    """Records in a layout, with the mapping report.

    ``groups`` are the one-hot flag groups to pass to :func:`tiplab.privacy.kanon.k_anonymise`;
    ``no_source`` the layout columns we have nothing for (all null); ``not_exported`` the
    input columns with no place in the layout.
    """

    layout: Layout
    table: pa.Table
    report: tuple[ColumnReport, ...]
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    no_source: tuple[str, ...] = ()
    not_exported: tuple[str, ...] = ()
    dropped_protected: tuple[str, ...] = ()
    data_version: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def column(self, source: str) -> ColumnReport:
        for r in self.report:
            if r.source == source:
                return r
        raise KeyError(source)

    @property
    def unmapped(self) -> int:
        """Values sent to "other" or to missing for want of an equivalent, in all columns."""
        return sum(r.unmapped for r in self.report)

    def to_dict(self) -> dict[str, Any]:
        return {"layout": self.layout, "data_version": self.data_version,
                "rows": self.table.num_rows, "columns": list(self.table.column_names),
                "report": [r.to_dict() for r in self.report],
                "unmapped": self.unmapped,
                "groups": {g: list(c) for g, c in self.groups.items()},
                "no_source": list(self.no_source), "not_exported": list(self.not_exported),
                "dropped_protected": list(self.dropped_protected),
                "parameters": dict(self.parameters)}


# -- helpers ---------------------------------------------------------------------------------

def _check_input(table: pa.Table, drop_protected: bool, where: str) -> tuple[pa.Table,
                                                                          tuple[str, ...]]:
    if table.num_rows == 0:
        raise LayoutError(f"{where}: the table has no records; export from a data version "
                          f"that holds case records")
    present = [c for c in table.column_names if c in IDENTIFYING_COLUMNS]
    if present and not drop_protected:
        raise LayoutError(f"{where}: the input holds identifying column(s) "
                          f"{', '.join(present)}, which are never exported; export from the "
                          f"analytics snapshot (which never holds them) or pass "
                          f"drop_protected=True")
    needed = ("registration_date",)
    absent = [c for c in needed if c not in table.column_names]
    if absent:
        raise LayoutError(f"{where}: the input has no column {', '.join(absent)}; it must "
                          f"hold case records (tiplab.records.schema.CASE_SCHEMA columns)")
    return table.drop_columns(present), tuple(present)


def _assert_clean(table: pa.Table, where: str) -> None:
    """The last line of defence: no identifier leaves in any layout."""
    leaked = [c for c in table.column_names if c in IDENTIFYING_COLUMNS]
    if leaked:
        raise LayoutError(f"{where}: identifying column(s) {', '.join(leaked)} would be "
                          f"exported; nothing was written")


def _col(table: pa.Table, name: str, n: int) -> np.ndarray[Any, np.dtype[np.object_]]:
    """A column as an object array (None for null); all-None when the table lacks it."""
    if name not in table.column_names:
        return np.full(n, None, dtype=object)
    arr = table.column(name)
    if pa.types.is_dictionary(arr.type):
        arr = pc.cast(arr, arr.type.value_type)
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)
    # numbers with nulls would come back as floats with NaN
    out = np.empty(len(arr), dtype=object)
    out[:] = arr.to_pylist()
    return out


def _lists(table: pa.Table, name: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any],
                                                np.ndarray[Any, Any]]:
    """A list column flattened: (row of each value, the values, whether the row has any)."""
    n = table.num_rows
    if name not in table.column_names:
        return (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object),
                np.zeros(n, dtype=bool))
    arr = table.column(name).combine_chunks()
    if not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)):
        raise LayoutError(f"column {name!r} must be a list of codes (type list<string>), "
                          f"not {arr.type}")
    rows = np.asarray(pc.list_parent_indices(arr).to_numpy(), dtype=np.int64)
    vals = np.asarray(pc.list_flatten(arr).to_numpy(zero_copy_only=False), dtype=object)
    keep = np.array([v is not None for v in vals], dtype=bool)
    rows, vals = rows[keep], vals[keep]
    has = np.zeros(n, dtype=bool)
    has[rows] = True
    return rows, vals, has


def _notnull(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.array([v is not None for v in values], dtype=bool)


def _counts(values: np.ndarray[Any, Any]) -> dict[str, int]:
    if len(values) == 0:
        return {}
    s = pd.Series(values).value_counts()
    return {str(k): int(v) for k, v in s.items()}


def _map_values(values: np.ndarray[Any, Any], mapping: Mapping[str, Any]) -> tuple[
        np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Map codes through a dict (vectorised over distinct values); also a found mask."""
    codes, uniques = pd.factorize(values)
    mapped = np.array([mapping.get(u) for u in uniques] + [None], dtype=object)
    found = np.array([u in mapping for u in uniques] + [False], dtype=bool)
    idx = np.where(codes < 0, len(uniques), codes)
    return mapped[idx], found[idx]


def _alpha2(code: str, *, kosovo: str) -> str | None:
    import pycountry

    if code == "XKX":
        return kosovo
    c = pycountry.countries.get(alpha_3=code)
    if c is not None:
        return str(c.alpha_2)
    if len(code) == 3 and code.startswith("X") and code.isalpha() and code.isupper():
        return code[:2]  # ISO's user-assigned range XAA-XZZ / XA-XZ
    return None


def _countries(table: pa.Table, source: str, target: str, n: int,
               kosovo: str) -> tuple[pa.Array, ColumnReport]:
    vals = _col(table, source, n)
    codes, uniques = pd.factorize(vals)
    a2 = [_alpha2(str(u), kosovo=kosovo) for u in uniques]
    out = np.array([*a2, None], dtype=object)[np.where(codes < 0, len(uniques), codes)]
    missing = int((codes < 0).sum())
    lost = {str(u): int((codes == i).sum()) for i, u in enumerate(uniques) if a2[i] is None}
    note = ("ISO alpha-3 -> alpha-2; "
            + ("Kosovo (XKX) -> RS as CTDC files it under Serbia; " if kosovo == "RS" else "")
            + "user-assigned X.. codes keep their first two letters")
    return pa.array(out, pa.string()), ColumnReport(
        source, (target,), n - missing, n - missing - sum(lost.values()),
        to_missing=lost, missing=missing, note=note)


def _flags(n: int, rows: np.ndarray[Any, Any], known: np.ndarray[Any, Any]) -> pa.Array:
    """A 0/1 flag set on ``rows``, 0 elsewhere where ``known``, null where not."""
    v = np.zeros(n, dtype=np.int8)
    v[rows] = 1
    return pa.array(v, pa.int8(), mask=~known)


def _concat(n: int, parts: Sequence[tuple[str, np.ndarray[Any, Any]]]) -> pa.Array:
    """';'-joined labels of the flags set per row (in the given order); null when none."""
    out = np.full(n, None, dtype=object)
    for label, rows in parts:
        if len(rows) == 0:
            continue
        rows = np.unique(rows)
        cur = out[rows]
        out[rows] = np.array([label if c is None else f"{c};{label}" for c in cur],
                             dtype=object)
    return pa.array(out, pa.string())


# -- CTDC ------------------------------------------------------------------------------------

def to_ctdc(table: pa.Table, *,
            datasource: str | Mapping[str, str] | None = None,
            drop_protected: bool = False, data_version: str = "") -> LayoutResult:
    """Case records (CASE_SCHEMA columns, one row per person) in the CTDC K-anon layout.

    Parameters
    ----------
    table : pyarrow.Table
        Case records as in the analytics snapshot. Columns it lacks are exported as missing.
    datasource : str or mapping, optional
        CTDC's ``Datasource`` ("Case Management" or "Hotline"): one value for every record,
        or a mapping from ``source_agency`` to a value. Without it the column is missing.
    drop_protected : bool
        Drop identifying columns found in the input instead of refusing it.
    data_version : str
        Recorded in the result.
    """
    table, dropped = _check_input(table, drop_protected, "CTDC layout")
    n = table.num_rows
    cols: dict[str, pa.Array] = {}
    report: list[ColumnReport] = []
    no_source: list[str] = []

    # yearOfRegistration
    reg = table.column("registration_date")
    if pa.types.is_date(reg.type) or pa.types.is_timestamp(reg.type):
        year = pc.cast(pc.year(reg), pa.int64())
    else:
        year = pc.cast(reg, pa.int64())
    cols["yearOfRegistration"] = year.combine_chunks()
    nn = n - reg.null_count
    report.append(ColumnReport("registration_date", ("yearOfRegistration",), nn, nn,
                               missing=reg.null_count, note="year of the date"))

    # Datasource
    cols["Datasource"], rep = _datasource(table, datasource, n)
    if rep is None:
        no_source.append("Datasource")
    else:
        report.append(rep)

    # gender
    sex = _col(table, "sex", n)
    g, found = _map_values(sex, GENDER_TO_CTDC)
    cols["gender"] = pa.array(g, pa.string())
    has = _notnull(sex)
    ok = has & found & _notnull(g)
    report.append(ColumnReport(
        "sex", ("gender",), int(has.sum()), int(ok.sum()), to_missing=_counts(sex[has & ~ok]),
        missing=int((~has).sum()),
        note="transgender and non-conforming codes merged as CTDC publishes them"))

    # ageBroad, majorityStatus
    cols["ageBroad"], cols["majorityStatus"], reps = _ages(table, n)
    report += reps
    for c in ("majorityStatusAtExploit", "majorityEntry"):
        cols[c] = pa.nulls(n, pa.string())
        no_source.append(c)

    cols["citizenship"], rep = _countries(table, "citizenship", "citizenship", n, "RS")
    report.append(rep)

    means_cols, rep = _ctdc_means(table, n)
    cols.update(means_cols)
    report.append(rep)

    exploit_cols, labour_extra, forms_known, reps = _ctdc_forms(table, n)
    cols.update(exploit_cols)
    report += reps
    labour_cols, rep = _ctdc_labour(table, n, labour_extra, forms_known,
                                    exploit_cols["isForcedLabour"])
    cols.update(labour_cols)
    report.append(rep)
    sex_cols, rep = _ctdc_sex(table, n, forms_known, exploit_cols["isSexualExploit"])
    cols.update(sex_cols)
    report.append(rep)

    cols["isAbduction"] = pa.nulls(n, pa.int8())
    no_source.append("isAbduction")
    rec_cols, rep = _ctdc_recruiter(table, n)
    cols.update(rec_cols)
    report.append(rep)
    cols["CountryOfExploitation"], rep = _countries(
        table, "country_of_exploitation", "CountryOfExploitation", n, "RS")
    report.append(rep)

    out = pa.table({c: cols[c] for c in CTDC_COLUMNS})
    _assert_clean(out, "CTDC layout")
    used = {r.source for r in report} | {"age"}
    not_exported = tuple(c for c in table.column_names if c not in used)
    return LayoutResult(
        "ctdc", out, tuple(report), groups=CTDC_GROUPS, no_source=tuple(no_source),
        not_exported=not_exported, dropped_protected=dropped, data_version=data_version,
        parameters=MappingProxyType({
            "datasource": datasource if isinstance(datasource, str | None)
            else dict(datasource), "codebook": "CTDC K-anonymized Data Codebook v7 (2021)"}))


def _datasource(table: pa.Table, datasource: str | Mapping[str, str] | None,
                n: int) -> tuple[pa.Array, ColumnReport | None]:
    if datasource is None:
        return pa.nulls(n, pa.string()), None

    def norm(v: str) -> str:
        for d in CTDC_DATASOURCES:
            if v.strip().casefold() == d.casefold():
                return d
        raise LayoutError(f"CTDC layout: Datasource {v!r} is not a CTDC data source; use "
                          f"one of {', '.join(CTDC_DATASOURCES)}")

    if isinstance(datasource, str):
        v = norm(datasource)
        return pa.array([v] * n, pa.string()), ColumnReport(
            "source_agency", ("Datasource",), n, n, note=f"every record: {v}")
    mapping = {a: norm(v) for a, v in datasource.items()}
    agency = _col(table, "source_agency", n)
    out, found = _map_values(agency, mapping)
    has = np.array([a is not None for a in agency], dtype=bool)
    return pa.array(out, pa.string()), ColumnReport(
        "source_agency", ("Datasource",), int(has.sum()), int((found & has).sum()),
        to_missing=_counts(agency[has & ~found]), missing=int((~has).sum()),
        note="agency -> CTDC data source, as given")


def _ages(table: pa.Table, n: int) -> tuple[pa.Array, pa.Array, list[ColumnReport]]:
    band = _col(table, "age_band", n)
    age = _col(table, "age", n)
    derived = np.array([b is None and a is not None for b, a in zip(band, age, strict=True)])
    if derived.any():
        band = band.copy()
        band[derived] = [_age_band(int(a)) for a in age[derived]]
    to_ctdc = {b: b.replace("-", "--") for b in ("0-8", "9-17", "18-20", "21-23", "24-26",
                                                  "27-29", "30-38", "39-47", "48+")}
    broad, found = _map_values(band, to_ctdc)
    hasb = np.array([b is not None for b in band], dtype=bool)
    reps = [ColumnReport("age_band", ("ageBroad",), int(hasb.sum()), int((hasb & found).sum()),
                         to_missing=_counts(band[hasb & ~found]), missing=int((~hasb).sum()),
                         note=f"{int(derived.sum())} derived from age" if derived.any()
                         else "")]
    maj = _col(table, "majority_status", n)
    mderived = np.array([m is None and a is not None for m, a in zip(maj, age, strict=True)])
    if mderived.any():
        maj = maj.copy()
        maj[mderived] = ["Minor" if int(a) < 18 else "Adult" for a in age[mderived]]
    m, mfound = _map_values(maj, {c: c for c in MAJORITY_STATUS})
    hasm = np.array([x is not None for x in maj], dtype=bool)
    reps.append(ColumnReport(
        "majority_status", ("majorityStatus",), int(hasm.sum()), int((hasm & mfound).sum()),
        to_missing=_counts(maj[hasm & ~mfound]), missing=int((~hasm).sum()),
        note=f"{int(mderived.sum())} derived from age" if mderived.any() else ""))
    return pa.array(broad, pa.string()), pa.array(m, pa.string()), reps


def _ctdc_means(table: pa.Table, n: int) -> tuple[dict[str, pa.Array], ColumnReport]:
    rows, vals, known = _lists(table, "means_of_control")
    suffix, found = _map_values(vals, MEANS_TO_CTDC)
    # a code outside our list still was a means of control: it counts as "Other"
    suffix = np.where(found, suffix, "Other")
    cols: dict[str, pa.Array] = {}
    parts = []
    for s, label in CTDC_MEANS.items():
        if s == "NotSpecified":
            continue
        r = rows[suffix == s]
        cols[f"meansOfControl{s}"] = _flags(n, r, known)
        parts.append((label, r))
    not_spec = np.flatnonzero(~known)
    cols["meansOfControlNotSpecified"] = _flags(n, not_spec, np.ones(n, dtype=bool))
    cols["meansOfControlConcatenated"] = _concat(n, parts)
    return cols, ColumnReport(
        "means_of_control", CTDC_GROUPS["meansOfControl"], len(vals), int(found.sum()),
        to_other=_counts(vals[~found]), missing=int((~known).sum()),
        note="ThreatensChildrenFamily -> UsesChildren; unrecorded -> NotSpecified = 1")


def _ctdc_forms(table: pa.Table, n: int) -> tuple[dict[str, pa.Array],
                                                    dict[str, np.ndarray[Any, Any]],
                                                    np.ndarray[Any, Any], list[ColumnReport]]:
    rows, vals, known = _lists(table, "exploitation_forms")
    flag_rows: dict[str, list[np.ndarray[Any, Any]]] = {f: [] for f in CTDC_EXPLOIT}
    labour: dict[str, list[np.ndarray[Any, Any]]] = {}
    codes, uniques = pd.factorize(vals)
    to_other: dict[str, int] = {}
    mapped = 0
    for i, u in enumerate(uniques):
        r = rows[codes == i]
        flags, extra = FORMS_TO_CTDC.get(u, (("isOtherExploit",), ()))
        if u not in FORMS_TO_CTDC or u in _FORMS_TO_OTHER:
            to_other[str(u)] = len(r)
        else:
            mapped += len(r)
        for f in flags:
            flag_rows[f].append(r)
        for s in extra:
            labour.setdefault(s, []).append(r)
    cat = {f: np.unique(np.concatenate(v)) if v else np.zeros(0, dtype=np.int64)
           for f, v in flag_rows.items()}
    cat["isSexAndLabour"] = np.intersect1d(cat["isForcedLabour"], cat["isSexualExploit"])
    cols = {f: _flags(n, cat[f], known) for f in CTDC_EXPLOIT}
    cols["typeOfExploitConcatenated"] = _concat(
        n, [(label, cat[f]) for f, label in CTDC_EXPLOIT.items() if label is not None])
    extra_rows = {s: np.unique(np.concatenate(v)) for s, v in labour.items()}
    rep = ColumnReport(
        "exploitation_forms", CTDC_GROUPS["typeOfExploit"], len(vals), mapped,
        to_other=to_other, missing=int((~known).sum()),
        note="ForcedBegging and ForcedCriminality -> isForcedLabour with typeOfLabourBegging "
             "/ IllicitActivities; Servitude -> isSlaveryAndPractices")
    return cols, extra_rows, known, [rep]


def _ctdc_labour(table: pa.Table, n: int, extra: Mapping[str, np.ndarray[Any, Any]],
                 forms_known: np.ndarray[Any, Any],
                 forced: pa.Array) -> tuple[dict[str, pa.Array], ColumnReport]:
    rows, vals, has = _lists(table, "labour_sectors")
    suffix, found = _map_values(vals, SECTORS_TO_CTDC)
    suffix = np.where(found, suffix, "Other")
    known = has | forms_known
    any_type = has.copy()
    for r in extra.values():
        any_type[r] = True
    forced_np = np.asarray(forced.fill_null(0).to_numpy(zero_copy_only=False)) == 1
    cols: dict[str, pa.Array] = {}
    parts = []
    for s, label in CTDC_LABOUR.items():
        if s == "NotSpecified":
            r = np.flatnonzero(forced_np & ~any_type)
        else:
            r = rows[suffix == s]
            if s in extra:
                r = np.union1d(r, extra[s])
        cols[f"typeOfLabour{s}"] = _flags(n, r, known)
        parts.append((label, r))
    cols["typeOfLabourConcatenated"] = _concat(n, parts)
    return cols, ColumnReport(
        "labour_sectors", CTDC_GROUPS["typeOfLabour"], len(vals), int(found.sum()),
        to_other=_counts(vals[~found]), missing=int((~has).sum()),
        note="ISIC section A -> Agriculture (fishing cannot be told apart); sections "
             "without a CTDC category -> typeOfLabourOther")


def _ctdc_sex(table: pa.Table, n: int, forms_known: np.ndarray[Any, Any],
              sexual: pa.Array) -> tuple[dict[str, pa.Array], ColumnReport]:
    rows, vals, has = _lists(table, "sexual_exploitation_types")
    _, found = _map_values(vals, CTDC_SEX)
    known = has | forms_known
    cols: dict[str, pa.Array] = {}
    parts = []
    for s, label in CTDC_SEX.items():
        r = rows[vals == s]
        cols[f"typeOfSex{s}"] = _flags(n, r, known)
        parts.append((label, r))
    cols["typeOfSexConcatenated"] = _concat(n, parts)
    return cols, ColumnReport(
        "sexual_exploitation_types", CTDC_GROUPS["typeOfSex"], len(vals), int(found.sum()),
        to_missing=_counts(vals[~found]), missing=int((~has).sum()),
        note="one flag per type (CTDC has no 'other' type)")


def _ctdc_recruiter(table: pa.Table, n: int) -> tuple[dict[str, pa.Array], ColumnReport]:
    rel = _col(table, "recruiter_relation", n)
    label, found = _map_values(rel, {k: v[0] for k, v in RECRUITER_TO_CTDC.items()})
    flag, _ = _map_values(rel, {k: v[1] for k, v in RECRUITER_TO_CTDC.items()})
    has = np.array([r is not None for r in rel], dtype=bool)
    known = has & found
    cols: dict[str, pa.Array] = {"RecruiterRelationship": pa.array(label, pa.string())}
    for s in ("IntimatePartner", "Friend", "Family", "Other"):
        cols[f"recruiterRelation{s}"] = _flags(n, np.flatnonzero(flag == s), known)
    # CTDC sets Unknown = 1 when the relation was not recorded (0.24% missing in 2021)
    cols["recruiterRelationUnknown"] = _flags(n, np.flatnonzero((flag == "Unknown") | ~known),
                                              np.ones(n, dtype=bool))
    return cols, ColumnReport(
        "recruiter_relation", CTDC_GROUPS["recruiterRelation"], int(has.sum()),
        int(known.sum()), to_missing=_counts(rel[has & ~found]), missing=int((~has).sum()),
        note="Unacquainted -> Other; unrecorded -> recruiterRelationUnknown = 1")


# -- HTCDS -----------------------------------------------------------------------------------

def _htcds_names() -> dict[str, str]:
    """Our column -> HTCDS field, from the ``htcds=`` attributes of CASE_SCHEMA."""
    out: dict[str, str] = {}
    for f in CASE_SCHEMA.fields:
        if f.htcds and not f.protected:
            if f.htcds not in HTCDS_FIELDS:
                raise LayoutError(f"CASE_SCHEMA field {f.name!r} names HTCDS field "
                                  f"{f.htcds!r}, which is not in HTCDS 2.0")
            out[f.name] = f.htcds
    return out


def to_htcds(table: pa.Table, *, include_organisation: bool = False,
             drop_protected: bool = False, data_version: str = "") -> LayoutResult:
    """Case records in the HTCDS 2.0 layout: the standard's field names and picklist values.

    One row per record; multi-select fields are ';'-joined (as in the standard's Excel
    template), countries ISO alpha-2 (as in its toolkit). ``org_Name`` (the reporting
    agency) is left out unless ``include_organisation``: a release never names the agency
    that registered a person.
    """
    table, dropped = _check_input(table, drop_protected, "HTCDS layout")
    n = table.num_rows
    names = _htcds_names()
    cols: dict[str, pa.Array] = {}
    report: list[ColumnReport] = []
    lookups: dict[str, tuple[Mapping[str, Any], str]] = {
        "sex": ({c: c for c in GENDER}, ""),
        "trafficking_status": (TRAFFICKING_STATUS_TO_HTCDS, ""),
        "recruiter_relation": (RECRUITER_TO_HTCDS,
                               "IntimatePartner -> Acquainted (HTCDS has no partner "
                               "relation); Unknown -> missing; 'Unaquainted' as the "
                               "standard spells it"),
        "case_status": ({c: c for c in CASE_STATUS}, ""),
    }
    multi: dict[str, Mapping[str, str]] = {
        "means_of_control": MEANS_OF_CONTROL, "exploitation_forms": EXPLOITATION_FORMS,
        "labour_sectors": LABOUR_SECTORS, "sexual_exploitation_types": SEXUAL_EXPLOITATION_TYPES,
    }
    for ours, theirs in names.items():
        if ours == "source_agency" and not include_organisation:
            continue
        if ours == "registration_date":
            reg = table.column(ours)
            cols[theirs] = reg.combine_chunks()
            nn = n - reg.null_count
            report.append(ColumnReport(ours, (theirs,), nn, nn, missing=reg.null_count))
        elif ours == "source_agency":
            a = _col(table, ours, n)
            has = np.array([x is not None for x in a], dtype=bool)
            cols[theirs] = pa.array(a, pa.string())
            report.append(ColumnReport(ours, (theirs,), int(has.sum()), int(has.sum()),
                                       missing=int((~has).sum())))
        elif ours in ("citizenship", "country_of_exploitation"):
            cols[theirs], rep = _countries(table, ours, theirs, n, "XK")
            report.append(rep)
        elif ours in lookups:
            mapping, note = lookups[ours]
            v = _col(table, ours, n)
            out, found = _map_values(v, mapping)
            has = np.array([x is not None for x in v], dtype=bool)
            ok = has & found & np.array([o is not None for o in out], dtype=bool)
            cols[theirs] = pa.array(out, pa.string())
            report.append(ColumnReport(ours, (theirs,), int(has.sum()), int(ok.sum()),
                                       to_missing=_counts(v[has & ~ok]),
                                       missing=int((~has).sum()), note=note))
        elif ours in multi:
            cols[theirs], rep = _htcds_multi(table, ours, theirs, multi[ours])
            report.append(rep)
    order = [c for c in HTCDS_ORDER if c in cols]
    out_table = pa.table({c: cols[c] for c in order})
    _assert_clean(out_table, "HTCDS layout")
    used = {r.source for r in report}
    not_exported = tuple(c for c in table.column_names if c not in used)
    return LayoutResult(
        "htcds", out_table, tuple(report), groups={}, no_source=(),
        not_exported=not_exported, dropped_protected=dropped, data_version=data_version,
        parameters=MappingProxyType({
            "include_organisation": include_organisation,
            "standard": "HTCDS Field Standards 2.0 (IOM, 24 Dec 2021)",
            "not_exported_why": {c: _HTCDS_UNSHAPED[c] for c in not_exported
                                 if c in _HTCDS_UNSHAPED}}))


def _htcds_multi(table: pa.Table, ours: str, theirs: str,
                 codes: Mapping[str, str]) -> tuple[pa.Array, ColumnReport]:
    n = table.num_rows
    rows, vals, has = _lists(table, ours)
    other = HTCDS_OTHER.get(ours, frozenset())
    order = {c: i for i, c in enumerate(codes)}
    known = np.array([v in codes and v not in other for v in vals], dtype=bool)
    to_other = np.array([v in other or (v not in codes and "Other" in codes) for v in vals],
                        dtype=bool)
    out_vals = vals.copy()
    out_vals[to_other] = "Other"
    out_vals[~known & ~to_other] = None
    keep = np.array([v is not None for v in out_vals], dtype=bool)
    r, v = rows[keep], out_vals[keep]
    # one value once per record, in the standard's picklist order
    frame = pd.DataFrame({"r": r, "v": v, "o": [order.get(x, len(order)) for x in v]})
    frame = frame.drop_duplicates(["r", "v"]).sort_values(["r", "o"])
    joined = frame.groupby("r", sort=True)["v"].agg(";".join)
    out = np.full(n, None, dtype=object)
    out[joined.index.to_numpy()] = joined.to_numpy()
    note = {"means_of_control": "RestrictsMovement is not in the HTCDS 2.0 picklist -> Other",
            "exploitation_forms": "ForcedCriminality is not in the HTCDS 2.0 picklist -> "
                                  "Other"}.get(ours, "")
    return pa.array(out, pa.string()), ColumnReport(
        ours, (theirs,), len(vals), int(known.sum()), to_other=_counts(vals[to_other]),
        to_missing=_counts(vals[~known & ~to_other]), missing=int((~has).sum()), note=note)


# -- writing ---------------------------------------------------------------------------------

def write(result: LayoutResult | Any, path: str | Path, format: Format = "csv") -> Path:
    """Write a layout (or a k-anonymous release of one) to ``path``.

    ``result`` is a :class:`LayoutResult`, a :class:`tiplab.privacy.kanon.KAnonResult` or an
    Arrow table. CSV writes nulls as empty cells; JSON an array of row objects (dates as
    ISO text); Parquet keeps the column types and stores the mapping report (and the
    k-anonymity figures) in the file's metadata. The table is checked for identifiers
    first, and nothing is written if one is found.
    """
    table = result if isinstance(result, pa.Table) else getattr(result, "table", None)
    if not isinstance(table, pa.Table):
        raise LayoutError(f"write() takes a LayoutResult, a KAnonResult or an Arrow table, "
                          f"not {type(result).__name__}")
    _assert_clean(table, f"write {path}")
    path = Path(path)
    writers: dict[str, Callable[[pa.Table, Path, Any], None]] = {
        "csv": _write_csv, "parquet": _write_parquet, "json": _write_json}
    if format not in writers:
        raise LayoutError(f"unknown format {format!r}; use csv, parquet or json")
    path.parent.mkdir(parents=True, exist_ok=True)
    writers[format](table, path, result)
    return path


def _write_csv(table: pa.Table, path: Path, result: Any) -> None:
    import pyarrow.csv as pacsv

    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


def _write_parquet(table: pa.Table, path: Path, result: Any) -> None:
    import pyarrow.parquet as pq

    meta = dict(table.schema.metadata or {})
    if hasattr(result, "to_dict") and not isinstance(result, pa.Table):
        meta[b"tiplab"] = json.dumps(result.to_dict(), default=str).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)


def _write_json(table: pa.Table, path: Path, result: Any) -> None:
    rows = table.to_pylist()
    path.write_text(json.dumps(rows, ensure_ascii=False, default=_json_default),
                    encoding="utf-8")


def _json_default(v: Any) -> Any:
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)
