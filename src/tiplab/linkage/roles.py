"""Column-role mappings: which column of an agency's export holds which identifier.

The ROLES.yaml format (shared with the simulator)::

    inputs:
      police:
        file: police.csv          # optional, relative to the YAML
        record_id: case_no
        date_format: "%d.%m.%Y"   # optional, string or list (birth dates)
        registration_date_format: "%d.%m.%Y"  # optional, string or list
        encoded: false            # true for files written by ``tiplab encode``
        roles: {first_name: fname, last_name: surname, birth_date: dob, ...}
        attributes: {year: reg_year, region_of_exploitation: region}
        codes: {region: {"North Hills": "XT-01"}}   # optional, per input
    codes:                        # optional gazetteer for every input (role -> raw -> value)
      region: {"North Hills": "XT-01", "Velora": "XT-02"}

``codes`` rewrites a role's raw values to one canonical value before comparison (matched
ignoring case, accents and punctuation; values not listed are kept), so that a region written
as a code by one agency and as a name by another compares equal. An input's own ``codes``
override the top-level ones.

Three roles are case characteristics rather than identifiers: ``exploitation_form``,
``recruiter_relation`` and ``means_of_control``. Their ``codes`` map each agency's labels to
the HTCDS codes (``"Sex trafficking" -> SexualExploitation``), so the same case compares
equal across vocabularies; a cell may hold several values (``"Debt bondage, Deception"``).
An export that writes a set as one 0/1 column per value names those columns under
``flags`` instead (role -> column -> code)::

        flags: {means_of_control: {meansOfControlDebtBondage: DebtBondage, ...}}

They are weak evidence, learned by the model like the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tiplab.linkage.errors import RolesError

#: Every identifying role a column may play.
ROLES: tuple[str, ...] = (
    "first_name",
    "last_name",
    "full_name",
    "birth_date",
    "sex",
    "citizenship",
    "phone",
    "document_number",
    "place",
    "region",
    "registration_date",
    "age",
    "exploitation_form",
    "recruiter_relation",
    "means_of_control",
)

#: Roles whose raw values a ``codes`` mapping may rewrite (free-text categorical values).
CODED_ROLES: tuple[str, ...] = (
    "region",
    "place",
    "citizenship",
    "sex",
    "exploitation_form",
    "recruiter_relation",
    "means_of_control",
)

#: Set-valued roles an export may write as one 0/1 column per value (``flags:``).
FLAG_ROLES: tuple[str, ...] = ("exploitation_form", "means_of_control")

#: Non-identifying stratum attributes carried through to the person table.
ATTRIBUTES: tuple[str, ...] = (
    "year",
    "region_of_exploitation",
    "sex",
    "age_band",
    "exploitation_form",
)


class InputRoles(BaseModel):
    """The mapping of one input (one agency export)."""

    model_config = ConfigDict(extra="forbid")

    file: str | None = None
    record_id: str = "record_id"
    date_format: list[str] = Field(default_factory=list)
    registration_date_format: list[str] = Field(default_factory=list)
    encoded: bool = False
    roles: dict[str, str] = Field(default_factory=dict)
    attributes: dict[str, str] = Field(default_factory=dict)
    codes: dict[str, dict[str, str]] = Field(default_factory=dict)
    flags: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("date_format", "registration_date_format", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        if v is None:
            return []
        return [v] if isinstance(v, str) else v

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(ROLES))
        if unknown:
            raise ValueError(f"unknown role(s) {unknown}; known roles: {list(ROLES)}")
        return v

    @field_validator("codes")
    @classmethod
    def _known_code_roles(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        return _check_code_roles(v)

    @field_validator("flags")
    @classmethod
    def _known_flag_roles(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        unknown = sorted(set(v) - set(FLAG_ROLES))
        if unknown:
            raise ValueError(
                f"flags given for role(s) {unknown}; flags apply to {list(FLAG_ROLES)}"
            )
        return v


def _check_code_roles(v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    unknown = sorted(set(v) - set(CODED_ROLES))
    if unknown:
        raise ValueError(f"codes given for role(s) {unknown}; codes apply to {list(CODED_ROLES)}")
    return v


class RolesFile(BaseModel):
    """A parsed ROLES.yaml: source name -> :class:`InputRoles`."""

    model_config = ConfigDict(extra="ignore")

    inputs: dict[str, InputRoles]
    codes: dict[str, dict[str, str]] = Field(default_factory=dict)
    base_dir: str = "."

    @field_validator("codes")
    @classmethod
    def _known_code_roles(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        return _check_code_roles(v)

    def model_post_init(self, context: Any) -> None:
        # the top-level gazetteer applies to every input; an input's own codes win
        for spec in self.inputs.values():
            for role, mapping in self.codes.items():
                spec.codes[role] = {**mapping, **spec.codes.get(role, {})}

    @classmethod
    def load(cls, path: str | Path) -> RolesFile:
        p = Path(path)
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as e:
            raise RolesError(f"{p}: cannot read the roles file: {e}") from e
        if not isinstance(raw, dict) or "inputs" not in raw:
            raise RolesError(
                f"{p}: a roles file needs a top-level 'inputs:' mapping "
                "(source name -> record_id, roles, ...); see docs/linkage.md"
            )
        raw = {**raw, "base_dir": str(p.parent)}
        try:
            return cls.model_validate(raw)
        except ValidationError as e:
            raise RolesError(f"{p}: {e}") from e

    def for_file(self, path: str | Path) -> tuple[str, InputRoles]:
        """The (source name, roles) that apply to a data file, matched by file stem."""
        p = Path(path)
        for name, spec in self.inputs.items():
            if spec.file and Path(spec.file).name == p.name:
                return name, spec
        for name, spec in self.inputs.items():
            if name == p.stem or (spec.file and Path(spec.file).stem == p.stem):
                return name, spec
        if len(self.inputs) == 1:
            return next(iter(self.inputs.items()))
        raise RolesError(
            f"{p}: no entry in the roles file matches this file's stem "
            f"'{p.stem}'; add an input named '{p.stem}' or with 'file: {p.name}' "
            f"(entries: {sorted(self.inputs)})"
        )

    def files(self) -> list[Path]:
        """The files named in the roles file (``file:`` keys), relative to it."""
        out = []
        for spec in self.inputs.values():
            if spec.file:
                out.append(Path(self.base_dir) / spec.file)
        return out


@dataclass
class LinkInput:
    """One table to link: an agency's export (clear) or its encodings (``encoded=True``).

    ``table`` is an Arrow table (or anything with ``to_arrow_table()``/``arrow()``, e.g. a
    DuckDB relation). ``roles`` maps role -> column, ``attributes`` maps stratum -> column.
    """

    source: str
    table: Any
    record_id: str = "record_id"
    roles: dict[str, str] = field(default_factory=dict)
    date_formats: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    encoded: bool = False
    registration_date_formats: list[str] = field(default_factory=list)
    #: role -> raw value -> canonical value (a gazetteer), applied before comparison
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    #: set-valued role -> 0/1 column -> the code a 1 in it stands for
    flags: dict[str, dict[str, str]] = field(default_factory=dict)

    def arrow(self) -> pa.Table:
        t = self.table
        if isinstance(t, pa.Table):
            return t
        for name in ("to_arrow_table", "arrow"):
            fn = getattr(t, name, None)
            if fn is not None:
                out = fn()
                if isinstance(out, pa.RecordBatchReader):
                    out = out.read_all()
                if isinstance(out, pa.Table):
                    return out
        raise RolesError(
            f"input '{self.source}': table must be an Arrow table or a DuckDB "
            f"relation, got {type(t).__name__}"
        )

    def check(self, table: pa.Table) -> None:
        names = set(table.column_names)
        wanted = {"record_id": self.record_id}
        if not self.encoded:
            wanted.update({f"role {r}": c for r, c in self.roles.items()})
            wanted.update(
                {f"flag {r}": c for r, cols in self.flags.items() for c in cols}
            )
        wanted.update({f"attribute {a}": c for a, c in self.attributes.items()})
        missing = {k: v for k, v in wanted.items() if v not in names}
        if missing:
            desc = ", ".join(f"{k} -> '{v}'" for k, v in missing.items())
            raise RolesError(
                f"input '{self.source}': column(s) not found: {desc}; "
                f"the table has {sorted(names)}. Fix the roles mapping."
            )

    @classmethod
    def from_roles(cls, source: str, spec: InputRoles, table: Any) -> LinkInput:
        return cls(
            source=source,
            table=table,
            record_id=spec.record_id,
            roles=dict(spec.roles),
            date_formats=list(spec.date_format),
            attributes=dict(spec.attributes),
            encoded=spec.encoded,
            registration_date_formats=list(spec.registration_date_format),
            codes={r: dict(m) for r, m in spec.codes.items()},
            flags={r: dict(m) for r, m in spec.flags.items()},
        )
