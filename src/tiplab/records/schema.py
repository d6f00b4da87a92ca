"""The versioned record schemas: case records (HTCDS 2.0 aligned) and aggregate statistics.

A schema is data: an ordered tuple of :class:`Field` objects. The importer, the validator, the
system of record, the snapshot and the CTDC export all read the same definition, so a field is
added in one place. Bump :data:`CASE_SCHEMA_VERSION` when a field is added, removed or changes
meaning; every import batch records the version it was validated against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

FieldType = Literal["string", "date", "integer", "code", "codes", "country", "countries",
                    "region", "boolean"]

CASE_SCHEMA_VERSION = "1.0"
AGGREGATE_SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class Field:
    """One field of a record schema.

    ``protected`` fields identify a person: they are never stored in clear, never enter the
    analytics snapshot and are shown only to data stewards, one record at a time.
    ``codelist`` names an entry of :data:`tiplab.records.codes.CODE_LISTS`.
    """

    name: str
    type: FieldType
    label: str
    required: bool = False
    protected: bool = False
    codelist: str | None = None
    htcds: str | None = None
    ctdc: str | None = None
    description: str = ""
    derived: bool = False

    @property
    def multi(self) -> bool:
        return self.type in ("codes", "countries")


@dataclass(frozen=True)
class Schema:
    name: str
    version: str
    fields: tuple[Field, ...]
    key: tuple[str, ...] = field(default=())

    def __getitem__(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(f.name == name for f in self.fields)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def protected(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.protected)

    @property
    def analytic(self) -> tuple[str, ...]:
        """Fields that may enter the analytics snapshot (no direct identifiers)."""
        return tuple(f.name for f in self.fields if not f.protected)

    def arrow_schema(self, *, include_protected: bool = True) -> pa.Schema:
        return pa.schema([pa.field(f.name, _ARROW_TYPES[f.type]) for f in self.fields
                          if include_protected or not f.protected])


_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "date": pa.date32(),
    "integer": pa.int64(),
    "code": pa.string(),
    "codes": pa.list_(pa.string()),
    "country": pa.string(),
    "countries": pa.list_(pa.string()),
    "region": pa.string(),
    "boolean": pa.bool_(),
}

CASE_SCHEMA = Schema(
    name="case",
    version=CASE_SCHEMA_VERSION,
    key=("source_agency", "record_id"),
    fields=(
        Field("source_agency", "string", "Source agency", required=True,
              htcds="org_Name", description="The agency that reported the record."),
        Field("record_id", "string", "Agency record id", required=True,
              description="The agency's own identifier of the record; unique per agency."),
        Field("registration_date", "date", "Registration date", required=True,
              htcds="cas_IncomingReferralDate", ctdc="yearOfRegistration",
              description="Date the person was registered, identified or first reported."),
        Field("given_name", "string", "Given name", protected=True, htcds="prs_FirstName"),
        Field("family_name", "string", "Family name", protected=True, htcds="prs_SecondName"),
        Field("full_name", "string", "Full name", protected=True,
              description="Name as one string, when the agency does not split it."),
        Field("birth_date", "date", "Date of birth", protected=True, htcds="prs_Birthdate"),
        Field("document_number", "string", "Identity document number", protected=True,
              htcds="prs_IdentityNumber"),
        Field("phone", "string", "Phone number", protected=True, htcds="prs_MobilePhone"),
        Field("sex", "code", "Sex / gender", codelist="gender", htcds="prs_Gender",
              ctdc="gender"),
        Field("age", "integer", "Age at registration (years)",
              description="Whole years at registration; derived from date of birth when absent."),
        Field("age_band", "code", "Age band", codelist="age_band", ctdc="ageBroad",
              derived=True),
        Field("majority_status", "code", "Majority status", codelist="majority_status",
              ctdc="majorityStatus"),
        Field("citizenship", "country", "Citizenship (ISO 3166-1 alpha-3)",
              htcds="prs_Citizenship", ctdc="citizenship"),
        Field("country_of_exploitation", "country", "Country of exploitation",
              htcds="vic_LocationOfExploitation", ctdc="CountryOfExploitation"),
        Field("region_of_exploitation", "region", "Region of exploitation",
              description="ISO 3166-2 subdivision, or a region code of the workspace's "
                          "region list."),
        Field("origin_country", "country", "Country of origin"),
        Field("origin_region", "string", "Region of origin"),
        Field("transit_countries", "countries", "Transit countries"),
        Field("exploitation_forms", "codes", "Forms of exploitation",
              codelist="exploitation_form", htcds="vic_TypeOfExploitation",
              ctdc="typeOfExploitConcatenated"),
        Field("labour_sectors", "codes", "Labour sectors (ISIC sections)",
              codelist="labour_sector", htcds="vic_ForcedLabourIndustry",
              ctdc="typeOfLabourConcatenated"),
        Field("sexual_exploitation_types", "codes", "Types of sexual exploitation",
              codelist="sexual_exploitation_type", htcds="vic_TypeOfSexExploitation",
              ctdc="typeOfSexConcatenated"),
        Field("means_of_control", "codes", "Means of control", codelist="means_of_control",
              htcds="vic_MethodsOfControl", ctdc="meansOfControlConcatenated"),
        Field("recruiter_relation", "code", "Recruiter relation",
              codelist="recruiter_relation", htcds="vic_RelationshipToTrafficker",
              ctdc="RecruiterRelationship"),
        Field("trafficking_status", "code", "Trafficking status",
              codelist="trafficking_status", htcds="vic_TraffickingStatus"),
        Field("case_status", "code", "Case status", codelist="case_status",
              htcds="cas_Status"),
    ),
)

AGGREGATE_SCHEMA = Schema(
    name="aggregate",
    version=AGGREGATE_SCHEMA_VERSION,
    key=("source_agency", "indicator", "dimension", "category", "sex", "age_group", "year",
         "country"),
    fields=(
        Field("source_agency", "string", "Source", required=True),
        Field("country", "country", "Country (ISO 3166-1 alpha-3)", required=True),
        Field("indicator", "string", "Indicator", required=True),
        Field("dimension", "string", "Dimension", required=True),
        Field("category", "string", "Category", required=True),
        Field("sex", "code", "Sex", codelist="aggregate_sex", required=True),
        Field("age_group", "code", "Age group", codelist="aggregate_age", required=True),
        Field("year", "integer", "Year", required=True),
        Field("unit", "string", "Unit of measurement"),
        Field("value", "integer", "Value (null when censored)",
              description="The count; null when the source suppressed it."),
        Field("value_low", "integer", "Lower bound", derived=True,
              description="Equal to value when exact; the censoring interval's low end."),
        Field("value_high", "integer", "Upper bound", derived=True),
        Field("censored", "boolean", "Censored", derived=True,
              description="True when the source published a bound such as '<5'."),
    ),
)

SCHEMAS = {"case": CASE_SCHEMA, "aggregate": AGGREGATE_SCHEMA}


def get_schema(kind: str) -> Schema:
    try:
        return SCHEMAS[kind]
    except KeyError:
        raise KeyError(f"unknown schema kind {kind!r}; use one of {sorted(SCHEMAS)}") from None
