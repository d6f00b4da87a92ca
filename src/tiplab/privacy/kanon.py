"""k-anonymous microdata: full-domain generalisation, then local suppression.

Every released column is a **quasi-identifier** (QI) unless it is declared ``insensitive``:
an attacker may know any of them (the year someone was identified, their sex, citizenship,
the form of exploitation). A release is *k-anonymous* when every combination of released QI
values is shared by at least ``k`` records (CTDC used k = 10 in its 2021 file; the platform
default is 11).

Method (as in ARX and sdcMicro, and as CTDC did: full-domain generalisation):

1. Each QI has a generalisation **hierarchy** (data: one dict per level, see
   :class:`Hierarchy`): age -> age band -> broader band -> minor/adult -> ``*``; year ->
   2-year -> 5-year period -> ``*``; country -> UN M49 sub-region -> region -> ``*``; any
   other code -> ``*``. A **group** of columns (the one-hot flags of a multi-valued field,
   with its concatenated text) is one QI: shown whole or suppressed whole, so a suppressed
   flag can never be read back from its siblings.
   Every level must coarsen the one below (checked when a hierarchy is made).
2. **Search** the lattice of per-QI levels for the node with the least information loss
   (generalisation NCP, below) at which at most ``max_suppression`` of the records sit in
   classes smaller than ``k``. The search goes bottom-up, like Flash (Kohlmayer et al.
   2012): from each undecided node it climbs a greedy path, binary-searches the path for
   the lowest node that passes, and tags the whole up-set of a passing node (it passes too:
   generalising only merges classes) and the down-set of a failing one. Nodes whose loss is
   no better than the best found are never checked. Anonymity is monotone and the loss is
   monotone in every level, so the node found is optimal over the lattice. A node is checked
   on the frequency set (one row per distinct combination), not on the records.
   Mondrian (multidimensional, local recoding) would lose less information but releases
   overlapping categories per record (one row "2016-2017", another "2017"), which CTDC-style
   users cannot tabulate; full-domain keeps one coding per column.
3. **Local suppression** of the records left in classes smaller than ``k``: cells (default)
   or whole records. Cells: for subsets of QIs in increasing size (and, within a size, the
   subsets that rescue most records first), the values of the subset are replaced by ``*``
   wherever that puts the record in a class of at least ``k``. Records still in a small class
   after suppressing every QI are removed, and so are records whose every distinguishing
   QI had to be suppressed (a row of ``*`` carries nothing): both count in
   ``records_suppressed``.

**Equivalence semantics (the conservative one).** A class is the set of records with
identical released values over all QIs, and a suppressed value ``*`` is a value of its own:
it does *not* match the other values of its column (the "wildcard" reading, as in sdcMicro's
default frequency counts, would let a ``*`` record count towards every class it could belong
to and so overstate class sizes). A missing value (null: not recorded) is also a value of its
own, distinct from ``*``; the top level of every hierarchy writes ``*`` for everyone, nulls
included, so that missingness cannot itself identify. :func:`check_k` applies exactly this
definition by brute force (group by all QIs, count) and the release workflow runs it on the
file before anything is published.

**Information loss.** NCP (normalised certainty penalty, Xu et al. 2006) of a cell whose
original value is one of the ``|A|`` distinct non-null values of its column and whose
released value covers ``u`` of them: ``(u - 1) / (|A| - 1)``; ``*`` costs 1; a null costs 0
(nothing was known, nothing is lost). A column's NCP is the mean over the input records
(removed records cost 1 per non-null cell); the overall NCP is the mean over QIs. The
discernibility metric (Bayardo & Agrawal 2005) is the sum of squared class sizes plus
``records_in`` for each removed record.

Rows of the released table are sorted by their released values, so the file order says
nothing about the order of the source.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tiplab.errors import TiplabError
from tiplab.records.codes import AGE_BANDS
from tiplab.records.codes import age_band as _age_band
from tiplab.records.schema import CASE_SCHEMA

log = logging.getLogger(__name__)

DEFAULT_K = 11
DEFAULT_MAX_SUPPRESSION = 0.05
SUPPRESSED = "*"
#: Largest lattice searched; beyond it the caller must declare groups or fewer QIs.
MAX_LATTICE_NODES = 2_000_000
#: Local suppression tries every subset of QIs of a size when there are at most this many;
#: beyond, it extends the best ``_BEAM`` subsets of the size below by one QI.
_MAX_SUBSETS_PER_SIZE = 400
_BEAM = 20

#: Columns that identify a person or a record and may never be released, under our names
#: and under their HTCDS names.
IDENTIFYING_COLUMNS: frozenset[str] = frozenset(
    {f.name for f in CASE_SCHEMA.fields if f.protected}
    | {f.htcds for f in CASE_SCHEMA.fields if f.protected and f.htcds}
    | {"record_id", "person_id", "identity_sealed"})

Suppression = Literal["cells", "records"]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ObjArray = npt.NDArray[np.object_]


class KAnonError(TiplabError):
    """A k-anonymous release cannot be made as asked; the message says why and what to do."""


# -- hierarchies ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Hierarchy:
    """The generalisation levels of one quasi-identifier, as data.

    ``levels[i]`` maps an original (level-0) value to its label at level ``i + 1``; a value
    absent from a level's dict generalises to ``*`` (the conservative choice). Level 0 is the
    value itself and a last level, ``*`` for every record, is always added. ``names`` names
    every level, level 0 first and ``*`` last.
    """

    levels: tuple[Mapping[str, str], ...] = ()
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        levels = [MappingProxyType(dict(m)) for m in self.levels]
        names = list(self.names) or (
            ["value"] + [f"level {i + 1}" for i in range(len(levels))] + [SUPPRESSED])
        if len(names) != len(levels) + 2:
            raise KAnonError(f"a hierarchy with {len(levels)} level dict(s) needs "
                             f"{len(levels) + 2} level names (level 0, each dict, then '*'); "
                             f"got {len(names)}: {names}")
        # a given last level that already maps everything to "*" is the implicit top level
        while levels and all(v == SUPPRESSED for v in levels[-1].values()):
            levels.pop()
            del names[-2]
        object.__setattr__(self, "levels", tuple(levels))
        object.__setattr__(self, "names", tuple(names))
        self._check_nested()

    def _check_nested(self) -> None:
        """Each level must coarsen the one below: the search relies on it (generalising
        must only merge classes, never split them)."""
        keys = {v for m in self.levels for v in m}
        for i in range(1, len(self.levels)):
            up: dict[str | None, str | None] = {}
            for v in sorted(keys):
                low, high = self.label(v, i), self.label(v, i + 1)
                if low == SUPPRESSED and high != SUPPRESSED:
                    raise KAnonError(f"hierarchy level {i + 1} ({self.names[i + 1]}) gives "
                                     f"{v!r} the label {high!r}, but level {i} already "
                                     f"suppressed it; levels must only coarsen")
                if up.setdefault(low, high) != high:
                    raise KAnonError(f"hierarchy is not nested: {low!r} at level {i} "
                                     f"({self.names[i]}) becomes both {up[low]!r} and "
                                     f"{high!r} at level {i + 1}; each level must merge "
                                     f"whole groups of the level below")

    @property
    def height(self) -> int:
        """Number of levels, level 0 and the top ``*`` level included."""
        return len(self.levels) + 2

    def label(self, value: str | None, level: int) -> str | None:
        """The released label of ``value`` at ``level`` (null stays null below the top)."""
        if level <= 0:
            return value
        if level >= self.height - 1:
            return SUPPRESSED
        if value is None:
            return None
        return self.levels[level - 1].get(value, SUPPRESSED)

    def to_dict(self) -> dict[str, Any]:
        return {"levels": [dict(m) for m in self.levels], "names": list(self.names)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Hierarchy:
        return cls(tuple(dict(m) for m in d.get("levels", ())), tuple(d.get("names", ())))


def categorical_hierarchy() -> Hierarchy:
    """A code released as is or suppressed: value -> ``*``."""
    return Hierarchy((), ("value", SUPPRESSED))


def year_hierarchy(years: Iterable[int | str]) -> Hierarchy:
    """Year -> 2-year period -> 5-year period -> ``*``.

    5-year periods are aligned to the calendar (2015-2019, 2020-2024) so that releases of
    different years generalise the same way. The 2-year periods split each 5-year period
    (2015-2016, 2017-2018, 2019 alone): levels must nest, and pairs aligned on even years
    would straddle two 5-year periods. Values that are not years go to ``*``.
    """
    ys = sorted({int(y) for y in years if str(y).strip().lstrip("-").isdigit()})
    two: dict[str, str] = {}
    for y in ys:
        start = y - y % 5 + 2 * ((y % 5) // 2)
        two[str(y)] = str(y) if start == y - y % 5 + 4 else f"{start}-{start + 1}"
    five = {str(y): f"{y - y % 5}-{y - y % 5 + 4}" for y in ys}
    return Hierarchy((two, five), ("year", "2-year period", "5-year period", SUPPRESSED))


#: CTDC ageBroad bands -> broader bands -> minor / adult.
_BROAD_BANDS: Mapping[str, str] = MappingProxyType({
    "0-8": "0-17", "9-17": "0-17", "18-20": "18-29", "21-23": "18-29", "24-26": "18-29",
    "27-29": "18-29", "30-38": "30-47", "39-47": "30-47", "48+": "48+"})
_MAJORITY: Mapping[str, str] = MappingProxyType({
    "0-17": "0-17", "18-29": "18+", "30-47": "18+", "48+": "18+"})


def _ctdc_band(label: str) -> str:
    """Our band label in the spelling of the CTDC files ("0-8" -> "0--8")."""
    return label.replace("-", "--")


def age_band_hierarchy() -> Hierarchy:
    """Age band -> broader band (0-17, 18-29, 30-47, 48+) -> minor/adult -> ``*``.

    Accepts our band codes ("9-17") and CTDC's spellings ("9--17", "09--17"); labels keep
    the spelling of the value.
    """
    broad: dict[str, str] = {}
    major: dict[str, str] = {}
    for band in AGE_BANDS:
        b = _BROAD_BANDS[band]
        broad[band], major[band] = b, _MAJORITY[b]
        ctdc = _ctdc_band(band)
        for spelling in {ctdc, ctdc.zfill(len(ctdc) + 1) if ctdc[1] == "-" else ctdc}:
            broad[spelling], major[spelling] = _ctdc_band(b), _ctdc_band(_MAJORITY[b])
    return Hierarchy((broad, major),
                     ("age band", "broad age band", "minor/adult", SUPPRESSED))


def age_hierarchy(max_age: int = 130) -> Hierarchy:
    """Age in years -> CTDC age band -> broader band -> minor/adult -> ``*``."""
    band: dict[str, str] = {}
    broad: dict[str, str] = {}
    major: dict[str, str] = {}
    for a in range(max_age + 1):
        b = _age_band(a)
        band[str(a)], broad[str(a)] = b, _BROAD_BANDS[b]
        major[str(a)] = _MAJORITY[_BROAD_BANDS[b]]
    return Hierarchy((band, broad, major),
                     ("age", "age band", "broad age band", "minor/adult", SUPPRESSED))


#: UN M49 region and sub-region of each country (alpha-3), as in the Region sheet of the CTDC
#: K-anon data dictionary (version 20210825, ``shared/data/ctdc/docs``), plus Kosovo (XKX),
#: which CTDC files under Serbia.
M49_SUBREGIONS: Mapping[tuple[str, str], str] = MappingProxyType({
    ("Africa", "Eastern Africa"): "BDI COM DJI ERI ETH KEN MDG MOZ MUS MWI MYT REU RWA SOM "
                                  "SSD SYC TZA UGA ZMB ZWE",
    ("Africa", "Middle Africa"): "AGO CAF CMR COD COG GAB GNQ STP TCD",
    ("Africa", "Northern Africa"): "DZA EGY ESH LBY MAR SDN TUN",
    ("Africa", "Southern Africa"): "BWA LSO NAM SWZ ZAF",
    ("Africa", "Western Africa"): "BEN BFA CIV CPV GHA GIN GMB GNB LBR MLI MRT NER NGA SEN "
                                  "SHN SLE TGO",
    ("Americas", "Caribbean"): "ABW AIA ANT ATG BES BHS BLM BRB CUB CUW CYM DMA DOM GLP GRD "
                               "HTI JAM KNA LCA MAF MSR MTQ PRI SXM TCA TTO VCT VGB VIR",
    ("Americas", "Central America"): "BLZ CRI GTM HND MEX NIC PAN SLV",
    ("Americas", "Northern America"): "BMU CAN GRL SPM USA",
    ("Americas", "South America"): "ARG BOL BRA CHL COL ECU FLK GUF GUY PER PRY SUR URY VEN",
    ("Asia", "Central Asia"): "KAZ KGZ TJK TKM UZB",
    ("Asia", "Eastern Asia"): "CHN HKG JPN KOR MAC MNG PRK TWN",
    ("Asia", "South-Eastern Asia"): "BRN IDN KHM LAO MMR MYS PHL SGP THA TLS VNM",
    ("Asia", "Southern Asia"): "AFG BGD BTN IND IRN LKA MDV NPL PAK",
    ("Asia", "Western Asia"): "ARE ARM AZE BHR CYP GEO IRQ ISR JOR KWT LBN OMN PSE QAT SAU "
                              "SYR TUR YEM",
    ("Europe", "Eastern Europe"): "BGR BLR CZE HUN MDA POL ROU RUS SVK UKR",
    ("Europe", "Northern Europe"): "ALA DNK EST FIN FRO GBR GGY IMN IRL ISL JEY LTU LVA NOR "
                                   "SJM SWE",
    ("Europe", "Southern Europe"): "ALB AND BIH ESP GIB GRC HRV ITA MKD MLT MNE PRT SMR SRB "
                                   "SVN VAT XKX",
    ("Europe", "Western Europe"): "AUT BEL CHE DEU FRA LIE LUX MCO NLD",
    ("Oceania", "Australia and New Zealand"): "AUS NFK NZL",
    ("Oceania", "Melanesia"): "FJI NCL PNG SLB VUT",
    ("Oceania", "Micronesia"): "FSM GUM KIR MHL MNP NRU PLW",
    ("Oceania", "Polynesia"): "ASM COK NIU PCN PYF TKL TON TUV WLF WSM",
})


@lru_cache(maxsize=1)
def _m49() -> tuple[dict[str, str], dict[str, str]]:
    """Country code (alpha-3 and alpha-2) -> sub-region, and -> region."""
    import pycountry

    sub: dict[str, str] = {}
    reg: dict[str, str] = {}
    for (region, subregion), codes in M49_SUBREGIONS.items():
        for a3 in codes.split():
            keys = [a3]
            c = pycountry.countries.get(alpha_3=a3)
            if c is not None:
                keys.append(str(c.alpha_2))
            elif a3 == "XKX":
                keys.append("XK")
            elif a3 == "ANT":
                keys.append("AN")
            for key in keys:
                sub[key], reg[key] = subregion, region
    return sub, reg


def country_hierarchy(extra: Mapping[str, str] | None = None) -> Hierarchy:
    """Country (ISO alpha-3 or alpha-2) -> UN M49 sub-region -> region -> ``*``.

    ``extra`` places codes the table does not know (user-assigned codes such as a
    simulated country) in a sub-region: ``{"XTL": "Eastern Europe"}``. Unknown codes
    generalise to ``*`` at the sub-region level.
    """
    sub, reg = _m49()
    sub, reg = dict(sub), dict(reg)
    regions = {s: r for (r, s) in M49_SUBREGIONS}
    for code, subregion in (extra or {}).items():
        if subregion not in regions:
            raise KAnonError(f"country {code!r}: {subregion!r} is not a UN M49 sub-region; "
                             f"use one of {sorted(regions)}")
        sub[code], reg[code] = subregion, regions[subregion]
    return Hierarchy((sub, reg), ("country", "UN sub-region", "UN region", SUPPRESSED))


_YEAR_NAMES = frozenset({"year", "yearofregistration", "registration_year", "yearregister"})
_AGE_BAND_NAMES = frozenset({"age_band", "agebroad"})
_COUNTRY_NAMES = frozenset({"vic_locationofexploitation"})


def default_hierarchy(column: str, values: Sequence[str | None], *,
                      is_date: bool = False) -> Hierarchy:
    """The hierarchy a column gets unless one is given, chosen from its name and type.

    Dates and year columns get :func:`year_hierarchy`, ``age`` :func:`age_hierarchy`,
    age bands :func:`age_band_hierarchy`, country and citizenship columns
    :func:`country_hierarchy`; any other column is a code (value -> ``*``).
    """
    low = column.lower()
    if is_date or low in _YEAR_NAMES or low.endswith("date"):
        return year_hierarchy(v for v in values if v is not None)
    if low in _AGE_BAND_NAMES:
        return age_band_hierarchy()
    if low == "age":
        return age_hierarchy()
    if "country" in low or "citizenship" in low or low in _COUNTRY_NAMES:
        return country_hierarchy()
    return categorical_hierarchy()


# -- settings and results --------------------------------------------------------------------

@dataclass(frozen=True)
class KAnonSettings:
    """How a k-anonymous release is made. Round-trips through :meth:`to_dict`.

    ``quasi_identifiers`` None means every column not declared ``insensitive``. When QIs are
    named, columns that are neither QIs nor insensitive are not released. ``groups`` maps a
    name to columns that are one QI (one-hot flags): generalised and suppressed together.
    ``max_suppression`` is the largest share of records that local suppression may touch.
    """

    k: int = DEFAULT_K
    quasi_identifiers: tuple[str, ...] | None = None
    insensitive: tuple[str, ...] = ()
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    hierarchies: Mapping[str, Hierarchy] = field(default_factory=dict)
    max_suppression: float = DEFAULT_MAX_SUPPRESSION
    suppression: Suppression = "cells"

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int | np.integer) or self.k < 2:
            raise KAnonError(f"k must be a whole number of at least 2 (got {self.k!r}); "
                             f"CTDC released its data with k=10, the platform default is "
                             f"{DEFAULT_K}")
        if not (isinstance(self.max_suppression, int | float)
                and 0 <= self.max_suppression < 1):
            raise KAnonError(f"max_suppression must be a share in [0, 1) (got "
                             f"{self.max_suppression!r}); 0.05 lets local suppression touch "
                             f"at most 5% of the records")
        if self.suppression not in ("cells", "records"):
            raise KAnonError(f"suppression must be 'cells' or 'records' (got "
                             f"{self.suppression!r})")
        object.__setattr__(self, "k", int(self.k))
        if self.quasi_identifiers is not None:
            object.__setattr__(self, "quasi_identifiers", tuple(self.quasi_identifiers))
        object.__setattr__(self, "insensitive", tuple(self.insensitive))
        object.__setattr__(self, "groups", MappingProxyType(
            {str(g): tuple(cols) for g, cols in self.groups.items()}))
        hier = {c: h if isinstance(h, Hierarchy) else Hierarchy(tuple(h))
                for c, h in self.hierarchies.items()}
        object.__setattr__(self, "hierarchies", MappingProxyType(hier))

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "quasi_identifiers": (None if self.quasi_identifiers is None
                                  else list(self.quasi_identifiers)),
            "insensitive": list(self.insensitive),
            "groups": {g: list(c) for g, c in self.groups.items()},
            "hierarchies": {c: h.to_dict() for c, h in self.hierarchies.items()},
            "max_suppression": self.max_suppression,
            "suppression": self.suppression,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> KAnonSettings:
        known = set(cls.__dataclass_fields__)
        extra = set(d) - known
        if extra:
            raise KAnonError(f"k-anonymity settings: unknown field(s) "
                             f"{', '.join(sorted(extra))}; known: {', '.join(sorted(known))}")
        args = dict(d)
        if args.get("quasi_identifiers") is not None:
            args["quasi_identifiers"] = tuple(args["quasi_identifiers"])
        args["insensitive"] = tuple(args.get("insensitive") or ())
        args["groups"] = {g: tuple(c) for g, c in (args.get("groups") or {}).items()}
        args["hierarchies"] = {c: Hierarchy.from_dict(h)
                               for c, h in (args.get("hierarchies") or {}).items()}
        return cls(**args)


@dataclass(frozen=True)
class Violation:
    """One equivalence class with fewer than k records: its released values and size."""

    values: Mapping[str, Any]
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {"values": dict(self.values), "count": self.count}


@dataclass(frozen=True)
class KAnonResult:
    """A k-anonymous table and how it was made.

    ``quasi_identifiers`` are the QI names (a group counts once, under its name);
    ``columns`` maps each QI to its released columns. ``levels`` is the generalisation
    level chosen per QI and ``level_names`` what that level is ("5-year period").
    ``cells_suppressed`` counts, per released column, the values replaced by ``*`` in local
    suppression (a group suppressed in one record counts once per column of the group);
    ``values_suppressed`` counts them per QI (once per record); ``records_suppressed`` the
    records removed whole.
    """

    table: pa.Table
    k: int
    quasi_identifiers: tuple[str, ...]
    columns: Mapping[str, tuple[str, ...]]
    insensitive: tuple[str, ...]
    levels: Mapping[str, int]
    level_names: Mapping[str, str]
    records_in: int
    records_out: int
    records_suppressed: int
    cells_suppressed: Mapping[str, int]
    values_suppressed: Mapping[str, int]
    ncp: Mapping[str, float]
    ncp_overall: float
    discernibility: int
    classes: int
    smallest_class: int
    nodes: int
    nodes_evaluated: int
    settings: KAnonSettings
    dropped_columns: tuple[str, ...] = ()
    data_version: str = ""

    @property
    def average_class_size(self) -> float:
        """Mean released class size divided by k (C_avg of LeFevre et al. 2006; 1 is ideal)."""
        return self.records_out / self.classes / self.k if self.classes else 0.0

    @property
    def cells_suppressed_total(self) -> int:
        return int(sum(self.cells_suppressed.values()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "kanon",
            "data_version": self.data_version,
            "k": self.k,
            "quasi_identifiers": list(self.quasi_identifiers),
            "columns": {q: list(c) for q, c in self.columns.items()},
            "insensitive": list(self.insensitive),
            "levels": dict(self.levels),
            "level_names": dict(self.level_names),
            "records_in": self.records_in,
            "records_out": self.records_out,
            "records_suppressed": self.records_suppressed,
            "cells_suppressed": dict(self.cells_suppressed),
            "cells_suppressed_total": self.cells_suppressed_total,
            "values_suppressed": dict(self.values_suppressed),
            "ncp": {q: round(v, 6) for q, v in self.ncp.items()},
            "ncp_overall": round(self.ncp_overall, 6),
            "discernibility": self.discernibility,
            "classes": self.classes,
            "smallest_class": self.smallest_class,
            "average_class_size": round(self.average_class_size, 6),
            "nodes": self.nodes,
            "nodes_evaluated": self.nodes_evaluated,
            "dropped_columns": list(self.dropped_columns),
            "parameters": self.settings.to_dict(),
        }

    def summary(self) -> str:
        lines = [f"k-anonymous release, k={self.k} (data version {self.data_version or '-'}): "
                 f"{self.records_out} of {self.records_in} records, "
                 f"{self.records_suppressed} removed, {self.cells_suppressed_total} cells "
                 f"suppressed, {self.classes} classes (smallest {self.smallest_class})",
                 f"  information loss: NCP {self.ncp_overall:.3f}, discernibility "
                 f"{self.discernibility}"]
        for q in self.quasi_identifiers:
            lines.append(f"  {q}: level {self.levels[q]} ({self.level_names[q]}), "
                         f"{self.values_suppressed[q]} suppressed, NCP {self.ncp[q]:.3f}")
        return "\n".join(lines)


# -- the brute-force check -------------------------------------------------------------------

def _groupable(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column Arrow can group by: lists become their ';'-joined text, dictionaries decode."""
    t = arr.type
    if pa.types.is_dictionary(t):
        return pc.cast(arr, t.value_type)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pc.binary_join(arr, ";")
    return arr


def check_k(table: pa.Table, quasi_identifiers: Sequence[str], k: int) -> list[Violation]:
    """Every equivalence class of ``table`` with fewer than ``k`` records, by brute force.

    A class is the set of rows with identical values over all ``quasi_identifiers``; ``*``
    and null are values like any other (the strict definition, see the module docstring).
    The check is independent of :func:`k_anonymise`: it groups the table as given with
    Arrow and counts. An empty list means the table is k-anonymous.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2:
        raise KAnonError(f"k must be a whole number of at least 2 (got {k!r})")
    qis = list(quasi_identifiers)
    missing = [c for c in qis if c not in table.column_names]
    if missing:
        raise KAnonError(f"cannot check k-anonymity: column(s) {', '.join(missing)} are not "
                         f"in the table (columns: {', '.join(table.column_names)})")
    n = table.num_rows
    if n == 0:
        return []
    if not qis:
        return [Violation({}, n)] if n < k else []
    t = pa.table({c: _groupable(table.column(c)) for c in qis})
    counts = t.group_by(qis, use_threads=False).aggregate([([], "count_all")])
    small = counts.filter(pc.less(counts.column("count_all"), int(k)))
    out = [Violation(MappingProxyType({c: r[c] for c in qis}), int(r["count_all"]))
           for r in small.to_pylist()]
    out.sort(key=lambda v: (v.count, [str(x) for x in v.values.values()]))
    return out


# -- preparing the quasi-identifiers ---------------------------------------------------------

def _level0(arr: pa.ChunkedArray) -> tuple[ObjArray, bool]:
    """The level-0 text of a column (None for null) and whether it was a date.

    Dates are released as years at most; lists as their sorted values joined by ';'.
    """
    t = arr.type
    is_date = False
    if pa.types.is_dictionary(t):
        arr = pc.cast(arr, t.value_type)
        t = arr.type
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        arr, is_date = pc.cast(pc.year(arr), pa.string()), True
    elif pa.types.is_list(t) or pa.types.is_large_list(t):
        return _joined_sets(arr), False
    elif pa.types.is_floating(t):
        filled = pc.fill_null(arr, 0.0)
        if pc.all(pc.equal(pc.floor(filled), filled)).as_py() is not False:
            arr = pc.cast(arr, pa.int64())
        arr = pc.cast(arr, pa.string())
    elif not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        arr = pc.cast(arr, pa.string())
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object), is_date


def _joined_sets(arr: pa.ChunkedArray) -> ObjArray:
    """';'-joined sorted values of a list column; empty lists count as null (not recorded)."""
    joined = np.asarray(pc.binary_join(arr, "\x1f").to_numpy(zero_copy_only=False),
                        dtype=object)
    codes, uniques = pd.factorize(joined)
    canon = np.array([";".join(sorted(u.split("\x1f"))) if u else None for u in uniques]
                     + [None], dtype=object)
    return np.asarray(canon[np.where(codes < 0, len(uniques), codes)], dtype=object)


@dataclass
class _Unit:
    """One quasi-identifier (a column or a group of columns) prepared for the search."""

    name: str
    columns: tuple[str, ...]
    names: tuple[str, ...]
    base: IntArray                      # per record: its level-0 code
    present: int                        # distinct level-0 values present (null included)
    nonnull: npt.NDArray[np.bool_]      # per level-0 code: the original value is not null
    codes: list[IntArray]               # per level: level code of each level-0 code
    cards: list[int]                    # per level: number of codes ("*" included)
    star: list[int]                     # per level: the code of "*"
    labels: list[ObjArray]              # per level: the label of each code (single columns)
    values: dict[str, ObjArray]         # per column: level-0 value of each level-0 code
    ncp: list[FloatArray]               # per level: NCP of each level-0 code
    is_group: bool = False
    loss: FloatArray = field(default_factory=lambda: np.zeros(0))  # per level: mean NCP

    @property
    def height(self) -> int:
        return len(self.codes)


def _factorize(values: ObjArray) -> tuple[IntArray, ObjArray]:
    """Codes with null as the last code, and the values of the codes (None for null)."""
    codes, uniques = pd.factorize(values)
    codes = np.asarray(codes, dtype=np.int64)
    null = len(uniques)
    codes[codes < 0] = null
    return codes, np.array([*list(uniques), None], dtype=object)


def _level_codes(labels: ObjArray) -> tuple[IntArray, int, int, ObjArray]:
    """Codes of labels, with "*" one fixed code; also the card, the "*" code and the labels."""
    codes, uniques = _factorize(labels)
    found = [i for i, u in enumerate(uniques) if u == SUPPRESSED]
    if found:
        star = found[0]
        out = uniques
    else:
        star = len(uniques)
        out = np.array([*list(uniques), SUPPRESSED], dtype=object)
    return codes, len(out), star, out


def _ncp(codes: IntArray, star: int, nonnull: npt.NDArray[np.bool_],
         present: npt.NDArray[np.bool_]) -> FloatArray:
    """NCP of each level-0 code at one level (see the module docstring)."""
    domain = int((nonnull & present).sum())
    cover = np.bincount(codes[nonnull & present], minlength=int(codes.max()) + 1
                        if len(codes) else 0)
    out = np.zeros(len(codes), dtype=np.float64)
    if domain > 1:
        out = (cover[codes] - 1) / (domain - 1)
    out[codes == star] = 1.0
    out[~nonnull] = 0.0
    return np.clip(out, 0.0, 1.0)


def _single_unit(name: str, arr: pa.ChunkedArray, hierarchy: Hierarchy | None) -> _Unit:
    values, is_date = _level0(arr)
    base, uniq = _factorize(values)
    h = hierarchy or default_hierarchy(name, list(uniq), is_date=is_date)
    nonnull = np.array([u is not None for u in uniq])
    codes, cards, stars, labels, ncps = [], [], [], [], []
    for level in range(h.height):
        lab = np.array([h.label(u, level) for u in uniq], dtype=object)
        c, card, star, out = _level_codes(lab)
        codes.append(c)
        cards.append(card)
        stars.append(star)
        labels.append(out)
    counts = np.bincount(base, minlength=len(uniq))
    present = counts > 0
    for level in range(h.height):
        ncps.append(_ncp(codes[level], stars[level], nonnull, present))
    return _Unit(name, (name,), h.names, base, int(present.sum()), nonnull, codes, cards,
                 stars, labels, {name: uniq}, ncps)


def _group_unit(name: str, columns: Sequence[str], table: pa.Table) -> _Unit:
    per_col = [_level0(table.column(c))[0] for c in columns]
    n = table.num_rows
    col_codes = []
    for v in per_col:
        c, u = _factorize(v)
        col_codes.append((c, u))
    key = _combine([c for c, _ in col_codes], [len(u) for _, u in col_codes])
    n_base = int(key.max()) + 1 if n else 0
    first = np.full(n_base, -1, dtype=np.int64)
    first[key[::-1]] = np.arange(n - 1, -1, -1)
    values = {c: np.asarray(u[cc[first]], dtype=object)
              for c, (cc, u) in zip(columns, col_codes, strict=True)}
    nonnull = np.zeros(n_base, dtype=bool)
    for v in values.values():
        nonnull |= np.array([x is not None for x in v], dtype=bool)
    present = np.ones(n_base, dtype=bool)
    ident = np.arange(n_base, dtype=np.int64)
    top = np.full(n_base, 0, dtype=np.int64)
    codes = [ident, top]
    cards = [n_base + 1, 1]
    stars = [n_base, 0]
    labels = [np.array([None] * (n_base + 1), dtype=object),
              np.array([SUPPRESSED], dtype=object)]
    ncps = [_ncp(ident, n_base, nonnull, present), _ncp(top, 0, nonnull, present)]
    return _Unit(name, tuple(columns), ("value", SUPPRESSED), key, n_base, nonnull, codes,
                 cards, stars, labels, values, ncps, is_group=True)


def _combine(columns: Sequence[IntArray], cards: Sequence[int]) -> IntArray:
    """Compact ids (0..m-1) of the combinations of integer code columns."""
    if not columns:
        return np.zeros(0, dtype=np.int64)
    key = np.zeros(len(columns[0]), dtype=np.int64)
    span = 1
    for c, card in zip(columns, cards, strict=True):
        if span * max(card, 1) >= 2**62:
            key = np.asarray(pd.factorize(key)[0], dtype=np.int64)
            span = int(key.max()) + 1 if len(key) else 1
        key = key * card + c
        span *= max(card, 1)
    return np.asarray(pd.factorize(key)[0], dtype=np.int64)


def _plan(table: pa.Table, settings: KAnonSettings) -> tuple[list[str], dict[str, str],
                                                             tuple[str, ...]]:
    """Check the columns named in the settings: the QI columns, column -> group, and the
    columns not released."""
    cols = table.column_names
    where = "k-anonymity"
    for c in (*settings.insensitive, *(settings.quasi_identifiers or ())):
        if c not in cols:
            raise KAnonError(f"{where}: column {c!r} is not in the table; columns are: "
                             f"{', '.join(cols)}")
    grouped: dict[str, str] = {}
    for g, gcols in settings.groups.items():
        if not gcols:
            raise KAnonError(f"{where}: group {g!r} has no columns")
        for c in gcols:
            if c not in cols:
                raise KAnonError(f"{where}: column {c!r} of group {g!r} is not in the table")
            if c in grouped:
                raise KAnonError(f"{where}: column {c!r} is in groups {grouped[c]!r} and "
                                 f"{g!r}; a column belongs to one group at most")
            grouped[c] = g
    insensitive = settings.insensitive
    if settings.quasi_identifiers is None:
        qi_cols = [c for c in cols if c not in insensitive]
    else:
        qi_cols = list(settings.quasi_identifiers)
        # naming one column of a group names the group
        for gcols in settings.groups.values():
            if any(c in qi_cols for c in gcols):
                qi_cols += [c for c in gcols if c not in qi_cols]
    both = sorted(set(qi_cols) & set(insensitive))
    if both:
        raise KAnonError(f"{where}: column(s) {', '.join(both)} are declared both "
                         f"quasi-identifier and insensitive")
    released = set(qi_cols) | set(insensitive)
    leaked = sorted(released & IDENTIFYING_COLUMNS)
    if leaked:
        raise KAnonError(f"{where}: column(s) {', '.join(leaked)} identify a person or a "
                         f"record and are never released; drop them from the table")
    for c in settings.hierarchies:
        if c not in qi_cols or c in grouped:
            raise KAnonError(f"{where}: a hierarchy is given for {c!r}, which is not a "
                             f"single-column quasi-identifier of this release")
    for g, gcols in settings.groups.items():
        if g in cols and g not in gcols:
            raise KAnonError(f"{where}: group name {g!r} is also a column name")
    dropped = tuple(c for c in cols if c not in released)
    return qi_cols, grouped, dropped


def _units(table: pa.Table, settings: KAnonSettings, qi_cols: Sequence[str],
           grouped: Mapping[str, str]) -> list[_Unit]:
    """The QI units, in the order of the table's columns."""
    cols = table.column_names
    units: list[_Unit] = []
    done: set[str] = set()
    for c in cols:
        if c not in qi_cols or c in done:
            continue
        if c in grouped:
            g = grouped[c]
            units.append(_group_unit(g, settings.groups[g], table))
            done.update(settings.groups[g])
        else:
            units.append(_single_unit(c, table.column(c), settings.hierarchies.get(c)))
            done.add(c)
    return units


# -- the lattice search ----------------------------------------------------------------------

@dataclass
class _Search:
    """Flash-style bottom-up search of the generalisation lattice with predictive tagging."""

    units: list[_Unit]           # the units that vary (constant units stay at level 0)
    fs: list[IntArray]           # frequency set: per unit, the level-0 code of each row
    counts: FloatArray           # frequency set: records per row
    k: int
    allowed: int                 # records that may be left in small classes
    evaluated: int = 0

    def small(self, levels: Sequence[int]) -> int:
        """Records in classes smaller than k at this node."""
        cols, cards = [], []
        for u, lv, f in zip(self.units, levels, self.fs, strict=True):
            if lv == u.height - 1:
                continue  # everyone is "*": the unit splits nothing
            cols.append(u.codes[lv][f])
            cards.append(u.cards[lv])
        self.evaluated += 1
        if not cols:
            total = float(self.counts.sum())
            return int(total) if total < self.k else 0
        ids = _combine(cols, cards)
        sizes = np.bincount(ids, weights=self.counts)
        return int(sizes[sizes < self.k].sum())

    def passes(self, levels: Sequence[int]) -> bool:
        return self.small(levels) <= self.allowed

    def run(self) -> tuple[tuple[int, ...], int]:
        heights = [u.height for u in self.units]
        n_nodes = math.prod(heights)
        if not heights:
            return (), 1
        lattice = np.indices(heights, dtype=np.int8).reshape(len(heights), -1).T
        loss = np.zeros(n_nodes, dtype=np.float64)
        for i, u in enumerate(self.units):
            loss += u.loss[lattice[:, i]]
        strides = np.array([math.prod(heights[i + 1:]) for i in range(len(heights))],
                           dtype=np.int64)
        top = np.array(heights, dtype=np.int8) - 1
        order = np.lexsort((loss, lattice.sum(axis=1)))
        tag = np.zeros(n_nodes, dtype=np.int8)      # 1 passes, -1 fails, 0 unknown
        active = np.arange(n_nodes, dtype=np.int64)  # undecided and possibly better
        best, best_node = math.inf, n_nodes - 1

        def mark(node: int, ok: bool) -> None:
            nonlocal active
            sub = lattice[active]
            # a passing node's generalisations pass; a failing node's specialisations fail
            hit = (sub >= lattice[node] if ok else sub <= lattice[node]).all(axis=1)
            tag[active[hit]] = 1 if ok else -1
            active = active[~hit]

        for start in order:
            if tag[start] != 0 or loss[start] >= best:
                continue
            path = [int(start)]
            cur = int(start)
            while True:
                lv = lattice[cur]
                nxt = [cur + int(strides[i]) for i in range(len(heights)) if lv[i] < top[i]]
                nxt = [c for c in nxt if tag[c] == 0 and loss[c] < best]
                if not nxt:
                    break
                cur = min(nxt, key=lambda c: (loss[c], c))
                path.append(cur)
            lo, hi = 0, len(path) - 1
            while lo <= hi:
                mid = (lo + hi) // 2
                node = path[mid]
                ok = bool(tag[node] == 1) or (tag[node] == 0 and
                                               self.passes(lattice[node].tolist()))
                if tag[node] == 0:
                    mark(node, ok)
                if ok:
                    if loss[node] < best:
                        best, best_node = float(loss[node]), node
                        active = active[loss[active] < best]
                    hi = mid - 1
                else:
                    lo = mid + 1
        return tuple(int(x) for x in lattice[best_node]), n_nodes


# -- local suppression -----------------------------------------------------------------------

def _local_suppression(rec: IntArray, stars: Sequence[int], candidates: Sequence[int],
                       k: int) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Suppress cells of records in classes smaller than k; return codes and removed rows.

    ``rec`` is records x units (level codes); ``stars`` the "*" code of each unit.
    """
    rec = rec.copy()
    m = rec.shape[1]
    star = np.asarray(stars, dtype=np.int64)
    cards = [int(max(rec[:, j].max(), star[j])) + 1 for j in range(m)]
    ids = _combine([rec[:, j] for j in range(m)], cards)
    sizes = np.bincount(ids)
    viol = sizes[ids] < k
    todo = np.flatnonzero(viol)

    def attempt(subset: tuple[int, ...], apply: bool) -> int:
        nonlocal todo
        if len(todo) == 0:
            return 0
        cols = list(subset)
        moved = rec[todo].copy()
        moved[:, cols] = star[cols]
        already = ~viol & (rec[:, cols] == star[cols]).all(axis=1)
        others = rec[already]
        both = np.vstack([others, moved])
        bid = _combine([both[:, j] for j in range(m)], cards)
        cnt = np.bincount(bid)
        ok = cnt[bid[len(others):]] >= k
        if apply and ok.any():
            rows = todo[ok]
            rec[rows] = moved[ok]
            viol[rows] = False
            todo = todo[~ok]
        return int(ok.sum())

    cand = list(candidates)
    beam: list[tuple[int, ...]] = [()]
    for size in range(1, len(cand) + 1):
        if len(todo) == 0:
            break
        if math.comb(len(cand), size) <= _MAX_SUBSETS_PER_SIZE:
            subsets = list(itertools.combinations(cand, size))
        else:
            # too many subsets: extend the best ones of the size below by one column
            subsets = sorted({tuple(sorted((*b, c))) for b in beam[:_BEAM] for c in cand
                              if c not in b})
        scores = [attempt(s, apply=False) for s in subsets] if len(subsets) > 1 else [1]
        ranked = [s for _, s in sorted(zip(scores, subsets, strict=True), key=lambda x: -x[0])]
        for s in ranked:
            if len(todo) == 0:
                break
            attempt(s, apply=True)
        beam = ranked
    return rec, viol


# -- the release -----------------------------------------------------------------------------

def k_anonymise(table: pa.Table, *, k: int = DEFAULT_K,
                quasi_identifiers: Sequence[str] | None = None,
                insensitive: Sequence[str] = (),
                groups: Mapping[str, Sequence[str]] | None = None,
                hierarchies: Mapping[str, Hierarchy] | None = None,
                max_suppression: float = DEFAULT_MAX_SUPPRESSION,
                suppression: Suppression = "cells",
                data_version: str = "") -> KAnonResult:
    """Make ``table`` k-anonymous over its quasi-identifiers (see :func:`anonymise`)."""
    settings = KAnonSettings(
        k=k, quasi_identifiers=None if quasi_identifiers is None else tuple(quasi_identifiers),
        insensitive=tuple(insensitive),
        groups={g: tuple(c) for g, c in (groups or {}).items()},
        hierarchies=dict(hierarchies or {}), max_suppression=max_suppression,
        suppression=suppression)
    return anonymise(table, settings, data_version=data_version)


def anonymise(table: pa.Table, settings: KAnonSettings, *,
              data_version: str = "") -> KAnonResult:
    """A k-anonymous version of ``table``: optimal full-domain generalisation, then local
    suppression.

    Parameters
    ----------
    table : pyarrow.Table
        One row per person (or record). Dates are released as years at most; list columns
        as their sorted values joined by ';'. Columns that identify a person or a record
        (:data:`IDENTIFYING_COLUMNS`) are refused.
    settings : KAnonSettings
        k, the quasi-identifiers, groups, hierarchies and the suppression limit.
    data_version : str
        The data version the table was taken from, recorded in the result.

    Returns
    -------
    KAnonResult
        The released table (QI columns as text, ``*`` where generalised away or
        suppressed), the levels chosen, what was suppressed and the information loss.

    Notes
    -----
    Assumptions: each row is one person (if a person has several rows, the classes count
    rows, not persons, and k is overstated: anonymise the persons table); the attacker's
    knowledge is limited to the released quasi-identifiers; a suppressed ``*`` is its own
    value (conservative, see the module docstring). The generalisation found is optimal for
    the overall NCP among the full-domain generalisations whose small classes hold at most
    ``max_suppression`` of the records; the local suppression that follows is greedy, so
    the number of cells suppressed is small but not guaranteed minimal.
    """
    n = table.num_rows
    k = settings.k
    qi_cols, grouped, dropped = _plan(table, settings)
    insensitive = settings.insensitive
    if n == 0:
        raise KAnonError("the table has no records: there is nothing to anonymise (check the "
                         "data version and the filters)")
    if n < k:
        raise KAnonError(f"the table has {n} records, fewer than k={k}: no release can be "
                         f"{k}-anonymous; release aggregate counts instead or lower k")
    units = _units(table, settings, qi_cols, grouped)
    for u in units:
        counts = np.bincount(u.base, minlength=len(u.nonnull)).astype(np.float64)
        u.loss = np.array([float((counts * c).sum() / n) for c in u.ncp])
    varying = [i for i, u in enumerate(units) if u.present > 1]
    ids = _combine([units[i].base for i in varying], [len(units[i].nonnull) for i in varying])
    if len(varying) == 0:
        ids = np.zeros(n, dtype=np.int64)
    n_fs = int(ids.max()) + 1
    first = np.full(n_fs, -1, dtype=np.int64)
    first[ids[::-1]] = np.arange(n - 1, -1, -1)
    fs = [units[i].base[first] for i in varying]
    counts = np.bincount(ids, minlength=n_fs).astype(np.float64)
    heights = [units[i].height for i in varying]
    n_nodes = math.prod(heights)
    if n_nodes > MAX_LATTICE_NODES:
        raise KAnonError(
            f"the generalisation lattice of the {len(varying)} varying quasi-identifiers has "
            f"{n_nodes:,} nodes (more than {MAX_LATTICE_NODES:,}): declare one-hot flag "
            f"columns as groups (LayoutResult.groups), declare columns that are not "
            f"quasi-identifiers insensitive, or release fewer columns")
    allowed = math.floor(settings.max_suppression * n + 1e-9)
    search = _Search([units[i] for i in varying], fs, counts, k, allowed)
    best, n_nodes = search.run()
    levels = [0] * len(units)
    for i, lv in zip(varying, best, strict=True):
        levels[i] = lv
    log.debug("k-anonymity: lattice of %d nodes, %d evaluated, levels %s", n_nodes,
              search.evaluated, levels)

    rec = np.zeros((n, len(units)), dtype=np.int64)
    for j, (u, lv) in enumerate(zip(units, levels, strict=True)):
        rec[:, j] = u.codes[lv][u.base]
    stars = [u.star[lv] for u, lv in zip(units, levels, strict=True)]
    before = rec.copy()
    if not units:  # no quasi-identifier: one class of n >= k records
        removed = np.zeros(n, dtype=bool)
    elif settings.suppression == "records":
        cards = [int(max(rec[:, j].max(), stars[j])) + 1 for j in range(len(units))]
        cid = _combine([rec[:, j] for j in range(len(units))], cards)
        removed = np.bincount(cid)[cid] < k
    else:
        # suppressing a column that has one value (or is "*" for everyone) merges nothing
        candidates = [j for j in range(len(units)) if len(np.unique(rec[:, j])) > 1]
        rec, removed = _local_suppression(rec, stars, candidates, k)
        if candidates:
            # a row suppressed in every column it could be told apart by says nothing: it is
            # a record suppressed whole, not a record kept
            star_arr = np.asarray(stars, dtype=np.int64)[candidates]
            blank = (rec[:, candidates] == star_arr).all(axis=1) & \
                (rec[:, candidates] != before[:, candidates]).any(axis=1)
            removed = removed | blank
            if blank.any():
                # rows that were all "*" before may have shared their class: recheck it
                cards = [int(max(rec[:, j].max(), stars[j])) + 1 for j in range(len(units))]
                cid = _combine([rec[:, j] for j in range(len(units))], cards)
                sizes = np.bincount(cid[~removed], minlength=int(cid.max()) + 1)
                removed = removed | (sizes[cid] < k)
    keep = ~removed
    suppressed_cell = (rec != before) & keep[:, None]

    released = _released_table(table, units, levels, rec, suppressed_cell, keep, insensitive)
    qi_columns = [c for u in units for c in u.columns]
    released = _sorted(released)

    # metrics on the release as published
    m = len(units)
    kept = rec[keep]
    if len(kept):
        cards = [int(max(kept[:, j].max(), stars[j])) + 1 for j in range(m)]
        cid = _combine([kept[:, j] for j in range(m)], cards) if m else np.zeros(
            len(kept), dtype=np.int64)
        sizes = np.bincount(cid)
    else:
        sizes = np.zeros(0, dtype=np.int64)
    n_removed = int(removed.sum())
    ncp: dict[str, float] = {}
    for j, (u, lv) in enumerate(zip(units, levels, strict=True)):
        cell = u.ncp[lv][u.base].copy()
        lost = (suppressed_cell[:, j] | removed) & u.nonnull[u.base]
        cell[lost] = 1.0
        ncp[u.name] = float(cell.mean())
    result = KAnonResult(
        table=released, k=k, quasi_identifiers=tuple(u.name for u in units),
        columns=MappingProxyType({u.name: u.columns for u in units}),
        insensitive=insensitive,
        levels=MappingProxyType({u.name: lv for u, lv in zip(units, levels, strict=True)}),
        level_names=MappingProxyType({u.name: u.names[lv]
                                      for u, lv in zip(units, levels, strict=True)}),
        records_in=n, records_out=int(keep.sum()), records_suppressed=n_removed,
        cells_suppressed=MappingProxyType({
            c: int(suppressed_cell[:, j].sum()) for j, u in enumerate(units)
            for c in u.columns}),
        values_suppressed=MappingProxyType({
            u.name: int(suppressed_cell[:, j].sum()) for j, u in enumerate(units)}),
        ncp=MappingProxyType(ncp),
        ncp_overall=float(np.mean(list(ncp.values()))) if ncp else 0.0,
        discernibility=int((sizes.astype(np.int64) ** 2).sum()) + n_removed * n,
        classes=len(sizes), smallest_class=int(sizes.min()) if len(sizes) else 0,
        nodes=n_nodes, nodes_evaluated=search.evaluated, settings=settings,
        dropped_columns=dropped, data_version=data_version)
    bad = check_k(released, qi_columns, k)
    if bad:  # a bug, never a data problem: refuse to hand out the table
        raise KAnonError(f"internal error: the anonymised table still has {len(bad)} "
                         f"class(es) smaller than k={k}; nothing may be released — report "
                         f"this with the settings {settings.to_dict()}")
    return result


def _released_table(table: pa.Table, units: Sequence[_Unit], levels: Sequence[int],
                    rec: IntArray, suppressed: npt.NDArray[np.bool_],
                    keep: npt.NDArray[np.bool_], insensitive: Sequence[str]) -> pa.Table:
    """The released columns, in the order of the input table."""
    out: dict[str, pa.Array | pa.ChunkedArray] = {}
    for j, (u, lv) in enumerate(zip(units, levels, strict=True)):
        codes = rec[keep, j]
        if not u.is_group:
            out[u.columns[0]] = pa.array(u.labels[lv][codes], type=pa.string())
            continue
        is_star = (codes == u.star[lv])
        base = u.base[keep]
        for c in u.columns:
            vals = np.asarray(u.values[c][base], dtype=object)
            vals[is_star] = SUPPRESSED
            out[c] = pa.array(vals, type=pa.string())
    idx = np.flatnonzero(keep)
    for c in insensitive:
        out[c] = table.column(c).take(pa.array(idx))
    order = [c for c in table.column_names if c in out]
    return pa.table({c: out[c] for c in order})


def _sorted(table: pa.Table) -> pa.Table:
    """Rows sorted by every column, so the row order carries nothing from the source."""
    if table.num_rows == 0 or table.num_columns == 0:
        return table
    keys = []
    for c in table.column_names:
        col = table.column(c)
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            col = pc.binary_join(col, ";")
        keys.append(np.asarray(pc.rank(col.combine_chunks(), sort_keys="ascending",
                                       tiebreaker="dense").to_numpy()))
    order = np.lexsort(keys[::-1])
    return table.take(pa.array(order))
