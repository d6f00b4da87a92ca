"""How each indicator is obtained: computed from the data, submitted by an agency, or surveyed.

``computation.yaml`` beside this module maps the library's indicators (and tiplab's own extra
ones, such as the detection gap rate) to how they are obtained and, for computed ones, to a
formula: a numerator and an optional denominator over the case records, the aggregate
statistics or an estimate of the hidden total, the dimensions they can be broken down by and
the columns they need. :func:`tiplab.policy.indicators.compute` evaluates the formulas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from tiplab.errors import TiplabError

COMPUTED, SUBMITTED, SURVEY = "computed", "submitted", "survey"
OBTAINED = (COMPUTED, SUBMITTED, SURVEY)
CASE_RECORDS, AGGREGATES, ESTIMATE = "case_records", "aggregates", "estimate"
SOURCES = (CASE_RECORDS, AGGREGATES, ESTIMATE)

#: Disaggregation dimensions, harmonised across case records and aggregate statistics; the
#: value of each is a category (``unknown`` when not reported). See docs/indicators.md.
DIMENSIONS = ("sex", "age_group", "age_band", "exploitation_form", "citizenship", "region")
#: Dimensions whose column holds several values per record: a record counts under each.
MULTI_VALUED = ("exploitation_form",)

TERM_KINDS = ("all", "where", "completeness", "completeness_cells", "indicator", "estimate",
              "estimate_minus")


class IndicatorError(TiplabError):
    """An indicator cannot be looked up or computed as asked; the message says why."""


@dataclass(frozen=True)
class Term:
    """A numerator or denominator.

    ``kind``: ``all`` (every case row), ``where`` (case rows whose columns hold one of the
    listed codes), ``completeness`` (reported dimensions summed over case rows),
    ``completeness_cells`` (case rows x dimensions), ``indicator`` (an aggregate indicator's
    cells summed), ``estimate`` (the estimated total), ``estimate_minus`` (the estimated
    total minus the value of the indicator named in ``ref``).
    """

    kind: str
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    dimensions: tuple[str, ...] = ()
    ref: str = ""

    @property
    def counts_rows(self) -> bool:
        """The term is a count of case rows (persons or records)."""
        return self.kind in ("all", "where")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind}
        if self.where:
            d["where"] = {c: list(v) for c, v in self.where}
        if self.dimensions:
            d["dimensions"] = list(self.dimensions)
        if self.ref:
            d["ref"] = self.ref
        return d


@dataclass(frozen=True)
class Computation:
    """The formula of a computed indicator."""

    indicator: str
    source: str
    numerator: Term
    denominator: Term | None = None
    scale: float = 1.0
    formula: str = ""
    disaggregations: tuple[str, ...] = ()
    #: case-record columns that must be present and not all empty
    requires: tuple[str, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"indicator": self.indicator, "from": self.source,
                "numerator": self.numerator.to_dict(),
                "denominator": self.denominator.to_dict() if self.denominator else None,
                "scale": self.scale, "formula": self.formula,
                "disaggregations": list(self.disaggregations),
                "requires": list(self.requires), "note": self.note}


@dataclass(frozen=True)
class Obtaining:
    """How one indicator is obtained (``computation`` is set when it is computed)."""

    indicator: str
    how: str
    computation: Computation | None = None

    @property
    def source(self) -> str:
        return self.computation.source if self.computation else ""

    def describe(self) -> str:
        """In words, e.g. ``computed from case records`` or ``submitted by an agency``."""
        if self.computation is not None:
            return f"computed from {self.computation.source.replace('_', ' ')}"
        return "submitted by an agency" if self.how == SUBMITTED else "from a survey"

    def to_dict(self) -> dict[str, Any]:
        return {"indicator": self.indicator, "how": self.how, "from": self.source or None,
                "computation": self.computation.to_dict() if self.computation else None}


@dataclass(frozen=True)
class Mapping:
    """The parsed ``computation.yaml``."""

    computations: dict[str, Computation]
    survey: frozenset[str]
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)


def _term(raw: Any, where: str) -> Term:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise IndicatorError(f"computation.yaml, {where}: a term is a mapping with one key "
                             f"({', '.join(TERM_KINDS)}); got {raw!r}")
    ((kind, arg),) = raw.items()
    if kind not in TERM_KINDS:
        raise IndicatorError(f"computation.yaml, {where}: unknown term {kind!r}; use one of "
                             f"{', '.join(TERM_KINDS)}")
    if kind == "where":
        return Term(kind, where=tuple((str(c), tuple(str(v) for v in vs))
                                      for c, vs in dict(arg).items()))
    if kind in ("completeness", "completeness_cells"):
        dims = tuple(str(d) for d in arg)
        bad = [d for d in dims if d not in DIMENSIONS]
        if bad:
            raise IndicatorError(f"computation.yaml, {where}: unknown dimension(s) {bad}")
        return Term(kind, dimensions=dims)
    if kind in ("indicator", "estimate_minus"):
        return Term(kind, ref=str(arg))
    return Term(kind)


def _computation(ind: str, raw: dict[str, Any]) -> Computation:
    source = str(raw.get("from", ""))
    if source not in SOURCES:
        raise IndicatorError(f"computation.yaml, {ind}: 'from' must be one of "
                             f"{', '.join(SOURCES)}, not {source!r}")
    dis = tuple(str(d) for d in raw.get("disaggregations") or ())
    bad = [d for d in dis if d not in DIMENSIONS]
    if bad:
        raise IndicatorError(f"computation.yaml, {ind}: unknown disaggregation(s) {bad}; "
                             f"use {', '.join(DIMENSIONS)}")
    den = raw.get("denominator")
    return Computation(
        indicator=ind, source=source, numerator=_term(raw["numerator"], f"{ind}.numerator"),
        denominator=_term(den, f"{ind}.denominator") if den is not None else None,
        scale=float(raw.get("scale", 1)), formula=str(raw.get("formula", "")),
        disaggregations=dis, requires=tuple(str(c) for c in raw.get("requires") or ()),
        note=" ".join(str(raw.get("note", "")).split()))


@lru_cache(maxsize=1)
def mapping() -> Mapping:
    """The shipped mapping (read once)."""
    text = resources.files(__package__).joinpath("computation.yaml").read_text("utf-8")
    doc = yaml.safe_load(text)
    comps = {str(k): _computation(str(k), v) for k, v in (doc.get("computed") or {}).items()}
    extra = {str(k): dict(v["indicator"]) for k, v in (doc.get("extra") or {}).items()}
    for k, v in (doc.get("extra") or {}).items():
        comps[str(k)] = _computation(str(k), v)
    return Mapping(computations=comps, survey=frozenset(str(s) for s in doc.get("survey", ())),
                   extra=extra)
