"""The indicator library: the 57 National Action Plan indicators shipped with tiplab.

``nap_indicators.yaml`` beside this module is written from
``shared/reference/nap_indicators.yaml`` by ``scripts/indicators_from_reference.py``; each
indicator keeps its definition, unit, direction, disaggregations, data source, frequency, legal
basis and source. A plan measure measures progress with library indicators (by id) or custom
ones (:class:`Indicator` with ``custom=True``).

``direction``: ``higher_is_better``, ``lower_is_better`` or ``contextual`` (read with other
indicators: more identified victims can mean better detection or more trafficking).

How each indicator is obtained — ``computed`` by tiplab from case records, aggregate
statistics or an estimate, ``submitted`` by an agency in a reporting round, or from a
``survey`` — is mapped in ``computation.yaml`` (see :func:`how_obtained`), and
:func:`compute` computes the computed ones for a data version (docs/indicators.md).

Usage::

    from tiplab.policy.indicators import compute, library
    lib = library()
    lib["PROT-01"].name
    values = compute(engine, years=range(2018, 2025), by="sex")
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from tiplab.policy.indicators.obtaining import (
    AGGREGATES,
    CASE_RECORDS,
    COMPUTED,
    DIMENSIONS,
    ESTIMATE,
    SUBMITTED,
    SURVEY,
    Computation,
    IndicatorError,
    Obtaining,
    mapping,
)

DIRECTIONS = ("higher_is_better", "lower_is_better", "contextual")


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    pillar: str = ""
    definition: str = ""
    unit: str = ""
    direction: str = "contextual"
    disaggregation: tuple[str, ...] = ()
    data_source: str = ""
    frequency: str = ""
    basis: tuple[str, ...] = ()
    source: str = ""
    #: defined in a plan rather than taken from the library
    custom: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["disaggregation"] = list(self.disaggregation)
        d["basis"] = list(self.basis)
        return d


@dataclass(frozen=True)
class Library:
    indicators: dict[str, Indicator]
    pillars: list[dict[str, str]] = field(default_factory=list)
    variants: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Indicator:
        return self.indicators[key]

    def __contains__(self, key: object) -> bool:
        return key in self.indicators

    def __len__(self) -> int:
        return len(self.indicators)

    def for_pillar(self, pillar: str) -> list[Indicator]:
        return [i for i in self.indicators.values() if i.pillar == pillar]


def indicator_from_dict(d: dict[str, Any], *, custom: bool = False) -> Indicator:
    return Indicator(
        id=str(d["id"]), name=str(d.get("name", d["id"])), pillar=str(d.get("pillar", "")),
        definition=str(d.get("definition", "")).strip(), unit=str(d.get("unit", "")),
        direction=str(d.get("direction", "contextual")),
        disaggregation=tuple(str(x) for x in d.get("disaggregation") or ()),
        data_source=str(d.get("data_source", "")), frequency=str(d.get("frequency", "")),
        basis=tuple(str(x) for x in d.get("basis") or ()), source=str(d.get("source", "")),
        custom=custom)


@lru_cache(maxsize=1)
def library() -> Library:
    """The shipped library (read once)."""
    text = resources.files(__package__).joinpath("nap_indicators.yaml").read_text("utf-8")
    doc = yaml.safe_load(text)
    items = {str(d["id"]): indicator_from_dict(d) for d in doc["indicators"]}
    return Library(items, list(doc.get("pillars", [])), list(doc.get("variants", [])),
                   dict(doc.get("meta", {})))


def extra_indicators() -> dict[str, Indicator]:
    """tiplab's own computed indicators, outside the 57 of the library (e.g. ``TL-GAP-01``,
    the detection gap rate)."""
    return {k: indicator_from_dict(v) for k, v in mapping().extra.items()}


def find(indicator_id: str) -> Indicator:
    """A library or extra indicator by id; :class:`IndicatorError` names the choices."""
    lib = library()
    if indicator_id in lib:
        return lib[indicator_id]
    extra = extra_indicators()
    if indicator_id in extra:
        return extra[indicator_id]
    raise IndicatorError(f"unknown indicator {indicator_id!r}; ids look like PROT-01 or "
                         "TL-GAP-01 (tiplab indicators list)")


def how_obtained(indicator_id: str) -> Obtaining:
    """How an indicator is obtained: computed (with its :class:`Computation`), submitted by an
    agency, or from a survey. Custom plan indicators are submitted."""
    find(indicator_id)
    m = mapping()
    comp = m.computations.get(indicator_id)
    if comp is not None:
        return Obtaining(indicator_id, COMPUTED, comp)
    return Obtaining(indicator_id, SURVEY if indicator_id in m.survey else SUBMITTED)


def computations() -> dict[str, Computation]:
    """Every computed indicator's formula (library order, then the extra ones)."""
    comps = mapping().computations
    order = [*library().indicators, *mapping().extra]
    return {i: comps[i] for i in order if i in comps}


from tiplab.policy.indicators.compute import (  # noqa: E402  (needs library() above)
    IndicatorStatus,
    IndicatorValue,
    IndicatorValues,
    compute,
    parse_years,
)

__all__ = [
    "AGGREGATES",
    "CASE_RECORDS",
    "COMPUTED",
    "DIMENSIONS",
    "DIRECTIONS",
    "ESTIMATE",
    "SUBMITTED",
    "SURVEY",
    "Computation",
    "Indicator",
    "IndicatorError",
    "IndicatorStatus",
    "IndicatorValue",
    "IndicatorValues",
    "Library",
    "Obtaining",
    "computations",
    "compute",
    "extra_indicators",
    "find",
    "how_obtained",
    "indicator_from_dict",
    "library",
    "parse_years",
]
