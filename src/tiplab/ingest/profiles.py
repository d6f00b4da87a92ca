"""Mapping profiles: how one agency's export format maps onto a tiplab schema.

A profile is a YAML file (one per export format). See ``docs/profiles.md`` for the reference;
in short::

    profile: police_national
    kind: case                      # case | aggregate
    schema_version: "1.0"
    read: {format: csv, encoding: auto, delimiter: auto}
    fields:
      record_id: Case No            # short form: the column name
      registration_date: {column: Registered, date_formats: ["%d.%m.%Y"]}
      sex: {column: Sex, codes: {M: Masculine, F: Feminine}}
      exploitation_forms: {column: Exploitation, split: ";", codes: {sex: SexualExploitation}}
      means_of_control: {flags: {debt: DebtBondage, threats: PhysicalThreats}}
      country_of_exploitation: {value: GBR}

A profile with a mistake raises :class:`tiplab.errors.ProfileError` naming the file, the line
and the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tiplab.errors import ProfileError
from tiplab.ingest.yamlpos import line_for, load_with_lines
from tiplab.records.codes import CODE_LISTS
from tiplab.records.schema import get_schema

PROFILE_DIR = "shipped_profiles"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReadOptions(_Strict):
    """How to read the file. Everything is optional; ``auto`` detects."""

    format: Literal["auto", "csv", "xlsx", "json", "ndjson", "parquet"] = "auto"
    encoding: str = "auto"
    delimiter: str = "auto"
    sheet: str | int | None = None
    header_row: int = Field(1, ge=1, description="1-based row holding the column names")
    null_values: tuple[str, ...] = ("", "NA", "N/A", "n/a", "NULL", "null", "-", "--")


class Check(_Strict):
    """A profile-specific rule: reject (or flag) rows whose field matches a pattern or bound."""

    field: str
    code: str = Field(pattern=r"^[EW]_[A-Z0-9_]+$")
    message: str
    pattern: str | None = None
    max: float | None = None
    min: float | None = None
    when: dict[str, str] = Field(default_factory=dict,
                                 description="only rows whose fields equal these values")

    @model_validator(mode="after")
    def _one_condition(self) -> Check:
        if self.pattern is None and self.max is None and self.min is None:
            raise ValueError("a check needs 'pattern', 'max' or 'min'")
        if self.pattern is not None:
            re.compile(self.pattern)
        return self

    @property
    def severity(self) -> str:
        return "error" if self.code.startswith("E_") else "warning"


class FieldMap(_Strict):
    """How one schema field is filled from the file."""

    column: str | None = None
    columns: tuple[str, ...] | None = Field(
        None, description="several columns joined by a space (e.g. name parts)")
    value: str | int | None = Field(None, description="a constant for every row")
    flags: dict[str, str] | None = Field(
        None, description="multi-value field from one 0/1 column per code: column -> code")
    true_values: tuple[str, ...] = ("1", "true", "yes", "y", "x", "oui", "si", "sí", "ja")
    false_values: tuple[str, ...] = ("0", "false", "no", "n", "non")
    codes: dict[str, str] = Field(default_factory=dict,
                                  description="raw value (case-insensitive) -> canonical code")
    split: str | None = Field(None, description="separator of a multi-value text column")
    date_formats: tuple[str, ...] = ()
    default: str | None = Field(None, description="used when the value is empty")
    missing_values: tuple[str, ...] = Field(
        (), description="extra raw values meaning 'not known' for this field")
    censored: dict[str, tuple[int, int]] = Field(
        default_factory=dict, description="raw text -> [low, high] interval, e.g. '<5': [0, 4]")
    thousands_separator: str | None = None

    @field_validator("codes", mode="before")
    @classmethod
    def _codes_as_text(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): str(val) for k, val in v.items()}
        return v

    @field_validator("flags", mode="before")
    @classmethod
    def _flags_as_text(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): str(val) for k, val in v.items()}
        return v

    @field_validator("date_formats", "true_values", "false_values", "missing_values",
                     mode="before")
    @classmethod
    def _as_tuple(cls, v: Any) -> Any:
        if isinstance(v, str):
            return (v,)
        if isinstance(v, list):
            return tuple(str(x) for x in v)
        return v

    @model_validator(mode="after")
    def _one_source(self) -> FieldMap:
        given = [n for n in ("column", "columns", "value", "flags")
                 if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'column', 'columns', 'value' or 'flags'"
                             + (f" (found {', '.join(given)})" if given else ""))
        return self

    @property
    def source_columns(self) -> tuple[str, ...]:
        if self.column is not None:
            return (self.column,)
        if self.columns is not None:
            return self.columns
        if self.flags is not None:
            return tuple(self.flags)
        return ()


class Profile(_Strict):
    """A validated mapping profile."""

    profile: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Literal["case", "aggregate"] = "case"
    schema_version: str = "1.0"
    description: str = ""
    source_agency: str | None = None
    read: ReadOptions = ReadOptions()
    fields: dict[str, FieldMap]
    checks: tuple[Check, ...] = ()
    #: Text of the YAML the profile came from (kept for provenance).
    source_text: str = Field("", exclude=True)

    @field_validator("fields", mode="before")
    @classmethod
    def _short_form(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: ({"column": str(m)} if isinstance(m, str | int) else m)
                    for k, m in v.items()}
        return v

    @model_validator(mode="after")
    def _against_schema(self) -> Profile:
        schema = get_schema(self.kind)
        if self.schema_version != schema.version:
            raise ValueError(f"schema_version {self.schema_version!r} is not supported; "
                             f"the {self.kind} schema is version {schema.version}")
        for name, fmap in self.fields.items():
            if name not in schema:
                raise _FieldError(name, f"'{name}' is not a field of the {self.kind} schema; "
                                        f"fields are: {', '.join(schema.names)}")
            f = schema[name]
            if fmap.flags is not None and not f.multi:
                raise _FieldError(name, f"'flags' fits only multi-value fields; '{name}' "
                                        "holds one value")
            if fmap.split is not None and not f.multi:
                raise _FieldError(name, f"'split' fits only multi-value fields; '{name}' "
                                        "holds one value")
            if fmap.date_formats and f.type != "date":
                raise _FieldError(name, f"'date_formats' fits only date fields; '{name}' is "
                                        f"{f.type}")
            for fmt in fmap.date_formats:
                if "%" not in fmt:
                    raise _FieldError(name, f"date format {fmt!r} has no % directive "
                                            "(e.g. '%d.%m.%Y')")
            if f.codelist is not None:
                allowed = CODE_LISTS[f.codelist]
                targets = list(fmap.codes.values()) + list((fmap.flags or {}).values())
                if fmap.default is not None:
                    targets.append(fmap.default)
                if isinstance(fmap.value, str):
                    targets.append(fmap.value)
                for code in targets:
                    if code not in allowed:
                        raise _FieldError(name, f"{code!r} is not a code of the "
                                                f"{f.codelist} list; codes are: "
                                                f"{', '.join(allowed)}")
        missing = [f.name for f in schema.fields
                   if f.required and not f.derived and f.name not in self.fields
                   and f.name != "source_agency"]
        if missing:
            raise ValueError(f"required fields not mapped: {', '.join(missing)}")
        for check in self.checks:
            if check.field not in schema:
                raise ValueError(f"check on unknown field {check.field!r}")
        return self

    @property
    def sha256(self) -> str:
        body = self.source_text or json.dumps(self.model_dump(), sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()

    def to_yaml(self) -> str:
        import yaml

        data = self.model_dump(exclude_defaults=True, exclude={"source_text"})
        data = {"profile": self.profile, "kind": self.kind,
                "schema_version": self.schema_version, **data}
        return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


class _FieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_profile(text: str, *, path: str | None = None) -> Profile:
    """Parse and validate profile YAML; errors name the line and the field."""
    try:
        data, lines = load_with_lines(text)
    except Exception as exc:  # yaml.YAMLError carries a mark
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ProfileError(f"not valid YAML: {getattr(exc, 'problem', exc)}", path=path,
                           line=line) from exc
    if not isinstance(data, dict):
        raise ProfileError("a profile is a YAML mapping with 'profile', 'kind' and 'fields'",
                           path=path, line=1)
    try:
        return Profile.model_validate({**data, "source_text": text})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err.get("loc", ()))
        ctx_error = (err.get("ctx") or {}).get("error")
        field = None
        if isinstance(ctx_error, _FieldError):
            field = ctx_error.field
            loc = ("fields", field)
        elif len(loc) >= 2 and loc[0] == "fields":
            field = str(loc[1])
        elif loc:
            field = ".".join(str(p) for p in loc)
        message = str(ctx_error) if ctx_error is not None else err.get("msg", str(exc))
        message = message.removeprefix("Value error, ")
        raise ProfileError(message, path=path, line=line_for(lines, loc), field=field) from None


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a profile by file path, or by the name of a profile shipped with tiplab."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.exists():
            raise ProfileError(f"profile file {p} does not exist")
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ProfileError(f"not UTF-8 text (byte {exc.start} cannot be read); a profile "
                               "is a YAML file saved as UTF-8", path=str(p)) from exc
        except OSError as exc:
            raise ProfileError(f"cannot read the profile ({exc.strerror or exc})",
                               path=str(p)) from exc
        return parse_profile(text, path=str(p))
    name = str(name_or_path)
    shipped = builtin_profiles()
    if name not in shipped:
        raise ProfileError(f"no profile named {name!r}; shipped profiles: "
                           f"{', '.join(sorted(shipped)) or 'none'}; or give a path to a "
                           ".yaml file (draft one with 'tiplab profile infer FILE')")
    return parse_profile(shipped[name], path=f"<tiplab>/{PROFILE_DIR}/{name}.yaml")


def builtin_profiles() -> dict[str, str]:
    """Name -> YAML text of the profiles that ship inside the package."""
    out: dict[str, str] = {}
    for entry in resources.files("tiplab.ingest").joinpath(PROFILE_DIR).iterdir():
        if entry.name.endswith((".yaml", ".yml")):
            out[entry.name.rsplit(".", 1)[0]] = entry.read_text(encoding="utf-8")
    return out
