"""Case-record and aggregate-statistic schemas, code lists and country lookups."""

from tiplab.records.codes import CODE_LISTS, age_band
from tiplab.records.countries import country_name, resolve_country
from tiplab.records.schema import (
    AGGREGATE_SCHEMA,
    CASE_SCHEMA,
    CASE_SCHEMA_VERSION,
    Field,
    Schema,
    get_schema,
)

__all__ = [
    "AGGREGATE_SCHEMA", "CASE_SCHEMA", "CASE_SCHEMA_VERSION", "CODE_LISTS", "Field", "Schema",
    "age_band", "country_name", "get_schema", "resolve_country",
]
