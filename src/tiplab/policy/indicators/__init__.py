"""The indicator library: the 57 National Action Plan indicators shipped with tiplab.

``nap_indicators.yaml`` beside this module is written from
``shared/reference/nap_indicators.yaml`` by ``scripts/indicators_from_reference.py``; each
indicator keeps its definition, unit, direction, disaggregations, data source, frequency, legal
basis and source. A plan measure measures progress with library indicators (by id) or custom
ones (:class:`Indicator` with ``custom=True``).

``direction``: ``higher_is_better``, ``lower_is_better`` or ``contextual`` (read with other
indicators: more identified victims can mean better detection or more trafficking).

Usage::

    from tiplab.policy.indicators import library
    lib = library()
    lib["PROT-01"].name
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

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
