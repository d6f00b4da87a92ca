"""Mapping profiles and linkage roles for the simulated exports, made from the same specs.

Each profile is checked with :func:`tiplab.ingest.parse_profile` before it is written, so a
simulation never ships a profile the importer would refuse.
"""

from __future__ import annotations

from typing import Any

import yaml

from tiplab.ingest.profiles import parse_profile
from tiplab.simulate.agencies import ExportSpec, canonical_form
from tiplab.simulate.country import Country
from tiplab.simulate.render import domestic_labels

#: Logical field -> case-schema field.
_SCHEMA_FIELD = {
    "record_id": "record_id",
    "registration_date": "registration_date",
    "given_name": "given_name",
    "family_name": "family_name",
    "full_name": "full_name",
    "birth_date": "birth_date",
    "age": "age",
    "majority_status": "majority_status",
    "sex": "sex",
    "citizenship": "citizenship",
    "origin_country": "origin_country",
    "transit_countries": "transit_countries",
    "region": "region_of_exploitation",
    "exploitation_forms": "exploitation_forms",
    "labour_sectors": "labour_sectors",
    "means_of_control": "means_of_control",
    "recruiter_relation": "recruiter_relation",
    "phone": "phone",
    "document_number": "document_number",
}


def _read_options(spec: ExportSpec, csv_fallback: bool) -> dict[str, Any]:
    if spec.kind == "xlsx" and not csv_fallback:
        return {"format": "xlsx"}
    if spec.kind == "ndjson":
        return {"format": "ndjson", "encoding": "utf-8"}
    return {"format": "csv", "encoding": spec.encoding, "delimiter": spec.delimiter}


def export_file(spec: ExportSpec, csv_fallback: bool) -> str:
    return spec.file.rsplit(".", 1)[0] + ".csv" if csv_fallback else spec.file


def profile_dict(
    spec: ExportSpec, country: Country, *, csv_fallback: bool = False
) -> dict[str, Any]:
    domestic = {label: country.code for label in domestic_labels(country)}
    fields: dict[str, Any] = {}
    for col in spec.columns:
        target = _SCHEMA_FIELD.get(col.field)
        if col.field == "means_of_control_flags":
            fields["means_of_control"] = {"flags": {v: k for k, v in spec.means.items()}}
            continue
        if target is None:
            continue  # extra columns are not mapped
        fmap: dict[str, Any] = {"column": col.name}
        if col.field == "registration_date":
            fmap["date_formats"] = [spec.date_format]
        elif col.field == "birth_date":
            fmap["date_formats"] = [spec.birth_date_format]
        elif col.field == "sex":
            fmap["codes"] = {raw: code for code, raw in spec.sex.items()}
        elif col.field == "majority_status":
            fmap["codes"] = {raw: code for code, raw in spec.majority.items()}
        elif col.field in ("citizenship", "origin_country", "transit_countries"):
            fmap["codes"] = dict(domestic)
            if col.field == "transit_countries":
                fmap["split"] = spec.split
        elif col.field == "region":
            codes = {c: c for c in country.codes}
            if col.style == "name":
                codes = dict(zip(country.names, country.codes, strict=True))
            fmap["codes"] = codes
        elif col.field == "exploitation_forms":
            fmap["codes"] = {raw: canonical_form(spec, code) for code, raw in spec.forms.items()}
            fmap["split"] = spec.split
        elif col.field == "labour_sectors":
            fmap["codes"] = {raw: code for code, raw in spec.sectors.items()}
            fmap["split"] = spec.split
        elif col.field == "means_of_control":
            fmap["codes"] = {raw: code for code, raw in spec.means.items()}
            fmap["split"] = spec.split
        elif col.field == "recruiter_relation":
            fmap["codes"] = {raw: code for code, raw in spec.recruiter.items()}
        if list(fmap) == ["column"]:
            fields[target] = col.name
        else:
            fields[target] = fmap
    if "majority_status" not in fields:
        # Not recorded by this agency: "Unknown" lets the importer derive it from the age.
        # (Also works around an importer issue with case profiles that omit the field; see
        # docs/simulation.md.)
        fields["majority_status"] = {"value": "Unknown"}
    fields["country_of_exploitation"] = {
        "value": country.code,
        "codes": {country.code: country.code},
    }
    return {
        "profile": f"sim_{spec.agency}",
        "kind": "case",
        "schema_version": "1.0",
        "description": f"{spec.label}: simulated export ({export_file(spec, csv_fallback)}), "
        f"written by tiplab simulate.",
        "source_agency": spec.agency,
        "read": _read_options(spec, csv_fallback),
        "fields": fields,
    }


def profile_yaml(spec: ExportSpec, country: Country, *, csv_fallback: bool = False) -> str:
    data = profile_dict(spec, country, csv_fallback=csv_fallback)
    text = (
        f"# Mapping profile for the simulated {spec.agency} export "
        f"({export_file(spec, csv_fallback)}).\n# Generated by tiplab simulate; import "
        f"with: tiplab import {export_file(spec, csv_fallback)} --profile "
        f"{spec.agency}.profile.yaml\n"
    )
    text += yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    parse_profile(text, path=f"{spec.agency}.profile.yaml")  # refuse to ship a bad profile
    return text


def roles_entry(spec: ExportSpec, *, csv_fallback: bool = False) -> dict[str, Any]:
    roles: dict[str, str] = {}
    attributes: dict[str, str] = {}
    for col in spec.columns:
        role = {
            "given_name": "first_name",
            "family_name": "last_name",
            "full_name": "full_name",
            "birth_date": "birth_date",
            "sex": "sex",
            "citizenship": "citizenship",
            "phone": "phone",
            "document_number": "document_number",
            "region": "region",
            "registration_date": "registration_date",
            "age": "age",
            "exploitation_forms": "exploitation_form",
            "recruiter_relation": "recruiter_relation",
            "means_of_control": "means_of_control",
        }.get(col.field)
        if role is not None:
            roles[role] = col.name
        attr = {
            "registration_date": "year",
            "region": "region_of_exploitation",
            "sex": "sex",
            "exploitation_forms": "exploitation_form",
        }.get(col.field)
        if attr is not None:
            attributes[attr] = col.name
    entry: dict[str, Any] = {
        "file": export_file(spec, csv_fallback),
        "record_id": spec.columns[0].name,
    }
    if spec.has("birth_date"):
        entry["date_format"] = spec.birth_date_format
    if spec.has("registration_date"):
        entry["registration_date_format"] = spec.date_format
    entry["roles"] = roles
    entry["attributes"] = attributes
    # the agency's labels for the case characteristics, as HTCDS codes (compared across
    # vocabularies; see tiplab.linkage.roles)
    codes: dict[str, dict[str, str]] = {}
    if spec.has("exploitation_forms"):
        codes["exploitation_form"] = {
            raw: canonical_form(spec, code) for code, raw in spec.forms.items()
        }
    if spec.has("recruiter_relation"):
        codes["recruiter_relation"] = {raw: code for code, raw in spec.recruiter.items()}
    if spec.has("means_of_control"):
        codes["means_of_control"] = {raw: code for code, raw in spec.means.items()}
    if codes:
        entry["codes"] = codes
    if spec.has("means_of_control_flags"):
        entry["flags"] = {"means_of_control": {col: code for code, col in spec.means.items()}}
    return entry


def roles_yaml(entries: dict[str, dict[str, Any]], country: Country | None = None) -> str:
    """The roles file; with ``country``, a gazetteer of its regions (name -> code) under
    ``codes:`` so that exports writing the region as a name or as a code compare equal."""
    head = (
        "# Column roles of the simulated exports, for record linkage (tiplab.linkage).\n"
        "# 'year' holds the registration date (formats as in each profile).\n"
    )
    doc: dict[str, Any] = {"inputs": entries}
    if country is not None and any("region" in e.get("roles", {}) for e in entries.values()):
        head += "# codes.region: the country's gazetteer (region name -> region code).\n"
        doc["codes"] = {"region": dict(zip(country.names, country.codes, strict=True))}
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
