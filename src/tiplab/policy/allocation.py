"""Funding allocation for a National Action Plan: how much money each measure gets, by region
and year, from which funding source (core; no Django).

A :class:`Problem` holds the plan years, the regions, the funding sources with their budget per
year, the measures (pillar, unit cost, fixed cost, unit limits, effect per unit by region,
where, when and from which sources each may be funded, whether it is mandatory) and the policy
constraints (minimum shares of spend per pillar, spending floors per region, earmarked funds),
plus the objective (total expected effect, optionally blended with equity between regions).
:func:`problem_from_dict` reads a scenario document (YAML or JSON, as a dict) and validates it
whole: every problem is reported at once with its path (``measures[3].unit_cost: must be >= 0,
got -5``) in one :class:`AllocationError`.

:func:`solve` builds the model as sparse matrices and solves it with HiGHS: the linear program
through ``scipy.optimize.linprog(method="highs")``, or, when a measure has a fixed cost, a
minimum number of units or is mandatory (an on/off decision), the mixed-integer program
through ``scipy.optimize.milp``. The :class:`Allocation` says what each measure gets per region,
year and source (units and money), the totals by pillar, year, source and region, which
constraints are binding, and the shadow prices in plain words ("one more EUR in
international_aid in 2026 buys 0.2 units of effect"). For a mixed-integer problem the on/off
decisions are fixed at their optimum and the linear program is solved again to get the
duals. When no allocation meets every constraint, a deletion filter finds an irreducible set of
conflicting constraints and the result names them ("the minimum share for protection (40% of
total spend) and the floor for region R3 (€2m) together exceed the 2026 budget of
government (€3m)").

:func:`compare_scenarios` solves variants of a problem side by side, :func:`greedy` is a simple
effect-per-cost heuristic to compare with the solver, and :func:`execution` tracks spending
against the plan (execution and commitment rates, underspend / overspend flags).

Usage::

    from tiplab.policy.allocation import problem_from_dict, solve
    problem = problem_from_dict({
        "currency": "EUR", "years": [2026], "regions": ["R1", "R2"],
        "sources": [{"id": "government", "budget": 1_000_000}],
        "measures": [
            {"id": "M1", "pillar": "protection", "unit_cost": 2_000, "effect": 3,
             "max_units": 200},
            {"id": "M2", "pillar": "prevention", "unit_cost": 500, "effect": {"R1": 1},
             "fixed_cost": 50_000, "max_units": 600},
        ],
        "constraints": {"pillar_shares": [{"pillar": "prevention", "min_share": 0.2}]},
    })
    result = solve(problem)
    result.status, result.objective, result.totals["pillar"]
    [s.explanation for s in result.shadow_prices]

The model, its options and its limits are described in ``docs/allocation.md``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from tiplab.errors import ProblemsError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: the pseudo-region of a measure that is not regional
NATIONAL = "national"
EQUITY_MODES = ("none", "maxmin")
#: the relative optimality gap a mixed-integer solve may stop at (0.1%: effects are estimates
#: far less precise than that; pass ``mip_gap=0`` for a proven optimum)
DEFAULT_MIP_GAP = 1e-3
#: weight of the total effect that breaks ties under pure max-min equity (equity_weight 1)
TIE_BREAK = 1e-6
#: a line whose execution rate is below this share of the linear pace is underspent
UNDERSPEND_THRESHOLD = 0.5
#: more measures than this with source rules and the infeasibility explanation treats all
#: their rules as one constraint
DETAILED_GROUPS = 20
#: the infeasibility explanation stops searching after this many seconds
EXPLAIN_SECONDS = 60.0
#: a dropped budget is raised to this many times all budgets, floors and mandatory minimums
BIG_FACTOR = 10.0
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$")
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
_TOL = 1e-9


class AllocationError(ProblemsError):
    """A funding-allocation problem is malformed, or an allocation cannot be made; the message
    lists every problem with its path."""


class InfeasibleError(AllocationError):
    """No allocation meets every constraint; ``conflict`` names the constraints that clash."""

    def __init__(self, message: str, conflict: Conflict | None = None) -> None:
        super().__init__([message])
        self.conflict = conflict


# --- the problem -------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A funding source (government budget, international aid, private partnership...) with
    the money it can give in each year."""

    id: str
    budget: dict[int, float]
    title: str = ""


@dataclass(frozen=True)
class Segment:
    """One piece of a diminishing-returns curve: the units of a region-year cell in this piece
    (``None``: all the rest) have ``factor`` times the measure's effect per unit."""

    factor: float
    units: float | None = None


@dataclass(frozen=True)
class Measure:
    """A measure of the plan and what money buys with it.

    Units are counted per **region-year cell** (a region and a year the measure runs in; a
    national measure has one cell per year): ``min_units`` and ``max_units`` apply to each
    cell, ``max_total_units`` to the sum over all its cells. ``fixed_cost`` is paid once, in the
    first year the measure runs, if it is funded at all."""

    id: str
    pillar: str
    unit_cost: float
    effect: dict[str, float]
    default_effect: float = 0.0
    title: str = ""
    fixed_cost: float = 0.0
    min_units: float = 0.0
    max_units: float | None = None
    max_total_units: float | None = None
    regions: tuple[str, ...] | None = None
    national: bool = False
    years: tuple[int, ...] | None = None
    sources: tuple[str, ...] | None = None
    mandatory: bool = False
    returns: tuple[Segment, ...] = ()

    @property
    def on_off(self) -> bool:
        """True when funding the measure is an on/off decision (a binary variable)."""
        return self.fixed_cost > 0 or self.min_units > 0 or self.mandatory

    def effect_in(self, region: str) -> float:
        return self.effect.get(region, self.default_effect)


@dataclass(frozen=True)
class PillarShare:
    """The pillar gets at least ``min_share`` (0-1) of total spend (of one year's spend when
    ``year`` is given)."""

    pillar: str
    min_share: float
    year: int | None = None


@dataclass(frozen=True)
class RegionFloor:
    """At least ``min_spend`` is spent on regional measures in the region (in ``year`` when
    given, else over the whole period)."""

    region: str
    min_spend: float
    year: int | None = None


@dataclass(frozen=True)
class Earmark:
    """The source's money may only go to the listed measures or to measures of the listed
    pillars."""

    source: str
    measures: tuple[str, ...] = ()
    pillars: tuple[str, ...] = ()

    def allows(self, m: Measure) -> bool:
        return m.id in self.measures or m.pillar in self.pillars


@dataclass(frozen=True)
class Constraints:
    pillar_shares: tuple[PillarShare, ...] = ()
    region_floors: tuple[RegionFloor, ...] = ()
    earmarks: tuple[Earmark, ...] = ()


@dataclass(frozen=True)
class Objective:
    """Maximise the total expected effect (``equity: none``) or blend it with the least-served
    region: ``(1 - w) * total + w * regions * min_region_effect`` with ``w = equity_weight``."""

    equity: str = "none"
    equity_weight: float = 1.0


@dataclass(frozen=True)
class Problem:
    currency: str
    years: tuple[int, ...]
    regions: tuple[str, ...]
    sources: tuple[Source, ...]
    measures: tuple[Measure, ...]
    constraints: Constraints = field(default_factory=Constraints)
    objective: Objective = field(default_factory=Objective)
    title: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The canonical document (JSON-safe; :func:`problem_from_dict` reads it back)."""
        return {
            "title": self.title,
            "currency": self.currency,
            "years": list(self.years),
            "regions": list(self.regions),
            "sources": [{"id": s.id, "title": s.title,
                         "budget": {str(y): s.budget.get(y, 0.0) for y in self.years}}
                        for s in self.sources],
            "measures": [_measure_to_dict(m) for m in self.measures],
            "constraints": {
                "pillar_shares": [{"pillar": c.pillar, "min_share": c.min_share,
                                   "year": c.year} for c in self.constraints.pillar_shares],
                "region_floors": [{"region": c.region, "min_spend": c.min_spend,
                                   "year": c.year} for c in self.constraints.region_floors],
                "earmarks": [{"source": c.source, "measures": list(c.measures),
                              "pillars": list(c.pillars)} for c in self.constraints.earmarks],
            },
            "objective": {"equity": self.objective.equity,
                          "equity_weight": self.objective.equity_weight},
        }

    @property
    def pillars(self) -> list[str]:
        return list(dict.fromkeys(m.pillar for m in self.measures))


def _measure_to_dict(m: Measure) -> dict[str, Any]:
    effect: float | dict[str, float]
    effect = (dict(sorted(m.effect.items())) | {"default": m.default_effect} if m.effect
              else m.default_effect)
    return {
        "id": m.id, "pillar": m.pillar, "title": m.title, "unit_cost": m.unit_cost,
        "fixed_cost": m.fixed_cost, "min_units": m.min_units, "max_units": m.max_units,
        "max_total_units": m.max_total_units, "effect": effect,
        "regions": NATIONAL if m.national else (list(m.regions) if m.regions is not None
                                                else None),
        "years": list(m.years) if m.years is not None else None,
        "sources": list(m.sources) if m.sources is not None else None,
        "mandatory": m.mandatory,
        "returns": [{"units": s.units, "factor": s.factor} for s in m.returns],
    }


def problem_hash(problem: Problem) -> str:
    """sha256 of the canonical JSON of the problem: the same inputs give the same hash."""
    text = json.dumps(problem.to_dict(), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


# --- reading and validation --------------------------------------------------------------

_PROBLEM_FIELDS = {"title", "currency", "years", "regions", "sources", "measures",
                   "constraints", "objective"}
_SOURCE_FIELDS = {"id", "title", "budget"}
_MEASURE_FIELDS = {"id", "pillar", "title", "unit_cost", "fixed_cost", "min_units",
                   "max_units", "max_total_units", "effect", "regions", "years", "sources",
                   "mandatory", "returns"}
_SEGMENT_FIELDS = {"units", "factor"}
_CONSTRAINT_FIELDS = {"pillar_shares", "region_floors", "earmarks"}
_SHARE_FIELDS = {"pillar", "min_share", "year"}
_FLOOR_FIELDS = {"region", "min_spend", "year"}
_EARMARK_FIELDS = {"source", "measures", "pillars"}
_OBJECTIVE_FIELDS = {"equity", "equity_weight"}


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


class _Check:
    """Collects every problem of a document with its path."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path or '(problem)'}: {message}")

    def mapping(self, v: Any, path: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(v, Mapping):
            self.fail(path, "must be a mapping of fields")
            return {}
        for k in v:
            if str(k) not in allowed:
                self.fail(_at(path, str(k)), f"unknown field {str(k)!r} (known: "
                          + ", ".join(sorted(allowed)) + ")")
        return {str(k): val for k, val in v.items()}

    def items(self, d: Mapping[str, Any], key: str, path: str, *,
              required: bool = False) -> list[Any]:
        v = d.get(key)
        if v is None:
            if required:
                self.fail(_at(path, key), "missing (required)")
            return []
        if not isinstance(v, list | tuple):
            self.fail(_at(path, key), "must be a list")
            return []
        return list(v)

    def text(self, d: Mapping[str, Any], key: str, path: str, *,
             required: bool = False) -> str:
        v = d.get(key)
        if v is None or (isinstance(v, str) and not v.strip()):
            if required:
                self.fail(_at(path, key), "missing (required)")
            return ""
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            self.fail(_at(path, key), "must be text")
            return ""
        return str(v).strip()

    def ident(self, v: Any, path: str) -> str:
        if v is None or (isinstance(v, str) and not v.strip()):
            self.fail(path, "missing (required)")
            return ""
        if isinstance(v, bool) or not isinstance(v, str | int):
            self.fail(path, "must be an id (text)")
            return ""
        s = str(v).strip()
        if not _ID.match(s):
            self.fail(path, f"{s!r} is not a valid id (letters, digits, '.', '_', '-'; "
                      "at most 80)")
            return ""
        return s

    def number(self, v: Any, path: str, *, required: bool = False,
               minimum: float | None = None, maximum: float | None = None,
               above: float | None = None) -> float | None:
        if v is None:
            if required:
                self.fail(path, "missing (required)")
            return None
        if isinstance(v, bool) or not isinstance(v, int | float):
            self.fail(path, f"must be a number, got {v!r}")
            return None
        x = float(v)
        if not math.isfinite(x):
            self.fail(path, "must be a finite number")
            return None
        if minimum is not None and x < minimum:
            self.fail(path, f"must be >= {_fmt(minimum)}, got {_fmt(x)}")
            return None
        if above is not None and x <= above:
            self.fail(path, f"must be > {_fmt(above)}, got {_fmt(x)}")
            return None
        if maximum is not None and x > maximum:
            self.fail(path, f"must be <= {_fmt(maximum)}, got {_fmt(x)}")
            return None
        return x

    def year(self, v: Any, path: str, years: Sequence[int] | None = None) -> int | None:
        if isinstance(v, str) and v.strip().isdigit():
            v = int(v.strip())
        if isinstance(v, bool) or not isinstance(v, int | float) or not float(v).is_integer():
            self.fail(path, f"{v!r} is not a year")
            return None
        y = int(v)
        if not 1900 <= y <= 2200:
            self.fail(path, f"{y} is not a year")
            return None
        if years is not None and y not in years:
            self.fail(path, f"{y} is not one of the problem's years "
                      f"({', '.join(map(str, years))})")
            return None
        return y

    def refs(self, v: Any, path: str, known: Sequence[str], what: str) -> tuple[str, ...]:
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list | tuple):
            self.fail(path, f"must be a list of {what} ids")
            return ()
        out: list[str] = []
        for i, x in enumerate(v):
            s = str(x).strip() if isinstance(x, str | int) and not isinstance(x, bool) else ""
            if s not in known:
                self.fail(_at(path, i), f"{x!r} is not a known {what} (known: "
                          + (", ".join(known) or "none") + ")")
            elif s in out:
                self.fail(_at(path, i), f"{s!r} is listed twice")
            else:
                out.append(s)
        return tuple(out)

    def unique_ids(self, values: Iterable[tuple[str, str]], what: str) -> None:
        seen: dict[str, str] = {}
        for path, v in values:
            if v and v in seen:
                self.fail(path, f"{what} id {v!r} is used twice (first at "
                          f"{seen[v].removesuffix('.id')})")
            elif v:
                seen[v] = path


def problem_from_dict(data: Any) -> Problem:
    """Validate a scenario document (a dict read from YAML or JSON) and build the
    :class:`Problem`. Every problem is collected with its path and :class:`AllocationError`
    lists them all; nothing is returned unless the whole document is valid."""
    c = _Check()
    d = c.mapping(data, "", _PROBLEM_FIELDS)
    if not d:
        raise AllocationError(c.problems or ["a problem is a mapping with currency, years, "
                                             "regions, sources and measures"])
    title = c.text(d, "title", "")
    currency = c.text(d, "currency", "", required=True).upper()
    if currency and not re.fullmatch(r"[A-Z]{3}", currency):
        c.fail("currency", f"{currency!r} is not a 3-letter currency code (e.g. EUR)")

    years: list[int] = []
    for i, v in enumerate(c.items(d, "years", "", required=True)):
        y = c.year(v, _at("years", i))
        if y is not None and y in years:
            c.fail(_at("years", i), f"{y} is listed twice")
        elif y is not None:
            years.append(y)
    if "years" in d and isinstance(d["years"], list) and not d["years"]:
        c.fail("years", "must list at least one year")
    years.sort()

    regions: list[str] = []
    for i, v in enumerate(c.items(d, "regions", "")):
        r = c.ident(v, _at("regions", i))
        if r == NATIONAL:
            c.fail(_at("regions", i), f"{NATIONAL!r} is reserved for measures that are not "
                   "regional; name the region otherwise")
        elif r and r in regions:
            c.fail(_at("regions", i), f"{r!r} is listed twice")
        elif r:
            regions.append(r)

    sources = [_source(c, v, _at("sources", i), years)
               for i, v in enumerate(c.items(d, "sources", "", required=True))]
    c.unique_ids(((_at(_at("sources", i), "id"), s.id) for i, s in enumerate(sources)), "source")
    if "sources" in d and isinstance(d["sources"], list) and not d["sources"]:
        c.fail("sources", "must list at least one funding source")
    source_ids = [s.id for s in sources if s.id]

    measures = [_measure(c, v, _at("measures", i), years, regions, source_ids)
                for i, v in enumerate(c.items(d, "measures", "", required=True))]
    c.unique_ids(((_at(_at("measures", i), "id"), m.id) for i, m in enumerate(measures)), "measure")
    measure_ids = [m.id for m in measures if m.id]
    pillars = list(dict.fromkeys(m.pillar for m in measures if m.pillar))

    cons = _constraints(c, d.get("constraints"), years, regions, source_ids, measure_ids,
                        pillars)
    objective = _objective(c, d.get("objective"))
    if c.problems:
        raise AllocationError(c.problems)
    return Problem(currency=currency, years=tuple(years), regions=tuple(regions),
                   sources=tuple(sources), measures=tuple(measures), constraints=cons,
                   objective=objective, title=title)


def load_problem(source: str | Path) -> Problem:
    """Read a scenario file (YAML or JSON) and validate it (:func:`problem_from_dict`)."""
    from tiplab.policy.files import read_yaml

    path = Path(source)
    _root, data, _name, _path = read_yaml(
        path, None, lambda problems, where: AllocationError(problems, path=where))
    try:
        return problem_from_dict(data)
    except AllocationError as e:
        raise AllocationError(e.problems, path=str(path)) from None


def _source(c: _Check, raw: Any, path: str, years: Sequence[int]) -> Source:
    d = c.mapping(raw, path, _SOURCE_FIELDS)
    sid = c.ident(d.get("id"), _at(path, "id"))
    title = c.text(d, "title", path)
    budget: dict[int, float] = {}
    b = d.get("budget")
    bpath = _at(path, "budget")
    if isinstance(b, Mapping):
        for k, v in b.items():
            y = c.year(k, _at(bpath, str(k)), years or None)
            amount = c.number(v, _at(bpath, str(k)), required=True, minimum=0)
            if y is not None and y in budget:
                c.fail(_at(bpath, str(k)), f"the budget for {y} is given twice")
            elif y is not None and amount is not None:
                budget[y] = amount
        missing = [y for y in years if y not in budget]
        if missing and len(budget) == len(b):
            c.fail(bpath, "no amount for " + ", ".join(map(str, missing))
                   + " (give one amount per year, or one number for every year)")
    elif b is None:
        c.fail(bpath, "missing (required): the money per year, e.g. {2026: 1000000}")
    else:
        amount = c.number(b, bpath, minimum=0)
        if amount is not None:
            budget = dict.fromkeys(years, amount)
    return Source(id=sid, budget=budget, title=title)


def _measure(c: _Check, raw: Any, path: str, years: Sequence[int], regions: Sequence[str],
             source_ids: Sequence[str]) -> Measure:
    d = c.mapping(raw, path, _MEASURE_FIELDS)
    mid = c.ident(d.get("id"), _at(path, "id"))
    pillar = c.ident(d.get("pillar"), _at(path, "pillar"))
    title = c.text(d, "title", path)
    unit_cost = c.number(d.get("unit_cost"), _at(path, "unit_cost"), required=True,
                         minimum=0)
    fixed = c.number(d.get("fixed_cost"), _at(path, "fixed_cost"), minimum=0) or 0.0
    min_units = c.number(d.get("min_units"), _at(path, "min_units"), minimum=0) or 0.0
    max_units = c.number(d.get("max_units"), _at(path, "max_units"), minimum=0)
    max_total = c.number(d.get("max_total_units"), _at(path, "max_total_units"), minimum=0)
    mandatory = d.get("mandatory", False)
    if not isinstance(mandatory, bool):
        c.fail(_at(path, "mandatory"), f"must be true or false, got {mandatory!r}")
        mandatory = False

    national = False
    mregions: tuple[str, ...] | None = None
    rv = d.get("regions")
    if isinstance(rv, str) and rv.strip() == NATIONAL:
        national = True
    elif rv is not None:
        mregions = c.refs(rv, _at(path, "regions"), regions, "region")
        if not mregions and not (isinstance(rv, list | tuple) and rv):
            c.fail(_at(path, "regions"), f"must list at least one region (or be {NATIONAL!r})")
    elif not regions:
        national = True  # a problem without regions has national measures only
    places = [NATIONAL] if national else list(mregions if mregions is not None else regions)

    myears: tuple[int, ...] | None = None
    if d.get("years") is not None:
        yv = d["years"]
        if not isinstance(yv, list | tuple) or not yv:
            c.fail(_at(path, "years"), "must be a non-empty list of years")
        else:
            ys = [c.year(v, _at(_at(path, "years"), i), years) for i, v in enumerate(yv)]
            myears = tuple(sorted({y for y in ys if y is not None}))
    msources: tuple[str, ...] | None = None
    if d.get("sources") is not None:
        msources = c.refs(d["sources"], _at(path, "sources"), source_ids, "source")
        if not msources:
            c.fail(_at(path, "sources"), "must list at least one source")

    effect: dict[str, float] = {}
    default = 0.0
    ev = d.get("effect")
    epath = _at(path, "effect")
    if isinstance(ev, Mapping):
        for k, v in ev.items():
            key = str(k)
            x = c.number(v, _at(epath, key), required=True, minimum=0)
            if x is None:
                continue
            if key == "default":
                default = x
            elif key not in places:
                c.fail(_at(epath, key), f"{key!r} is not a region this measure runs in ("
                       + ", ".join(places) + ")")
            else:
                effect[key] = x
    elif ev is None:
        c.fail(epath, "missing (required): the effect of one unit (a number, or a mapping "
               "region -> effect with an optional 'default')")
    else:
        default = c.number(ev, epath, minimum=0) or 0.0

    segments: list[Segment] = []
    for i, sv in enumerate(c.items(d, "returns", path)):
        spath = _at(_at(path, "returns"), i)
        sd = c.mapping(sv, spath, _SEGMENT_FIELDS)
        factor = c.number(sd.get("factor"), _at(spath, "factor"), required=True, minimum=0)
        units = c.number(sd.get("units"), _at(spath, "units"), above=0)
        last = i == len(d.get("returns") or []) - 1
        if sd.get("units") is None and not last:
            c.fail(_at(spath, "units"), "missing (required except for the last segment)")
        if factor is not None:
            if segments and factor > segments[-1].factor:
                c.fail(_at(spath, "factor"), f"{_fmt(factor)} is above the previous "
                       f"segment's {_fmt(segments[-1].factor)}: returns must diminish "
                       "(factors must not increase)")
            segments.append(Segment(factor=factor, units=units))

    if max_units is not None and min_units > max_units:
        c.fail(_at(path, "min_units"), f"{_fmt(min_units)} is above max_units "
               f"{_fmt(max_units)}")
    n_cells = len(places) * len(myears if myears is not None else years)
    if max_total is not None and min_units * n_cells > max_total:
        c.fail(_at(path, "max_total_units"), f"{_fmt(max_total)} is below min_units × "
               f"{n_cells} region-years = {_fmt(min_units * n_cells)}")
    if unit_cost == 0 and max_units is None and max_total is None:
        c.fail(_at(path, "unit_cost"), "0 needs max_units or max_total_units (free units "
               "without a limit make the effect infinite)")
    if mandatory and fixed == 0 and min_units == 0:
        c.fail(_at(path, "mandatory"), "a mandatory measure needs min_units or a fixed_cost "
               "to say what funding it means")
    return Measure(id=mid, pillar=pillar, unit_cost=unit_cost or 0.0, effect=effect,
                   default_effect=default, title=title, fixed_cost=fixed, min_units=min_units,
                   max_units=max_units, max_total_units=max_total, regions=mregions,
                   national=national, years=myears, sources=msources, mandatory=mandatory,
                   returns=tuple(segments))


def _constraints(c: _Check, raw: Any, years: Sequence[int], regions: Sequence[str],
                 source_ids: Sequence[str], measure_ids: Sequence[str],
                 pillars: Sequence[str]) -> Constraints:
    if raw is None:
        return Constraints()
    d = c.mapping(raw, "constraints", _CONSTRAINT_FIELDS)
    shares: list[PillarShare] = []
    for i, v in enumerate(c.items(d, "pillar_shares", "constraints")):
        p = _at("constraints.pillar_shares", i)
        sd = c.mapping(v, p, _SHARE_FIELDS)
        pillar = c.text(sd, "pillar", p, required=True)
        if pillar and pillar not in pillars:
            c.fail(_at(p, "pillar"), f"{pillar!r} is not the pillar of any measure (pillars: "
                   + (", ".join(pillars) or "none") + ")")
        share = c.number(sd.get("min_share"), _at(p, "min_share"), required=True, minimum=0,
                         maximum=1)
        year = c.year(sd["year"], _at(p, "year"), years) if sd.get("year") is not None else None
        if pillar and share is not None:
            shares.append(PillarShare(pillar=pillar, min_share=share, year=year))
    floors: list[RegionFloor] = []
    for i, v in enumerate(c.items(d, "region_floors", "constraints")):
        p = _at("constraints.region_floors", i)
        fd = c.mapping(v, p, _FLOOR_FIELDS)
        region = c.text(fd, "region", p, required=True)
        if region and region not in regions:
            c.fail(_at(p, "region"), f"{region!r} is not one of the regions ("
                   + (", ".join(regions) or "none") + ")")
        spend = c.number(fd.get("min_spend"), _at(p, "min_spend"), required=True, minimum=0)
        year = c.year(fd["year"], _at(p, "year"), years) if fd.get("year") is not None else None
        if region and spend is not None:
            floors.append(RegionFloor(region=region, min_spend=spend, year=year))
    earmarks: list[Earmark] = []
    for i, v in enumerate(c.items(d, "earmarks", "constraints")):
        p = _at("constraints.earmarks", i)
        ed = c.mapping(v, p, _EARMARK_FIELDS)
        source = c.text(ed, "source", p, required=True)
        if source and source not in source_ids:
            c.fail(_at(p, "source"), f"{source!r} is not a funding source ("
                   + ", ".join(source_ids) + ")")
        elif source and any(e.source == source for e in earmarks):
            c.fail(_at(p, "source"), f"{source!r} is earmarked twice: list every measure and "
                   "pillar it may fund in one earmark")
        ms = c.refs(ed.get("measures") or [], _at(p, "measures"), measure_ids, "measure")
        ps = c.refs(ed.get("pillars") or [], _at(p, "pillars"), pillars, "pillar")
        if not ms and not ps and not ed.get("measures") and not ed.get("pillars"):
            c.fail(p, "an earmark lists the measures or pillars the source may fund")
        if source:
            earmarks.append(Earmark(source=source, measures=ms, pillars=ps))
    return Constraints(pillar_shares=tuple(shares), region_floors=tuple(floors),
                       earmarks=tuple(earmarks))


def _objective(c: _Check, raw: Any) -> Objective:
    if raw is None:
        return Objective()
    d = c.mapping(raw, "objective", _OBJECTIVE_FIELDS)
    equity = c.text(d, "equity", "objective") or "none"
    if equity not in EQUITY_MODES:
        c.fail("objective.equity", f"{equity!r} is not one of: " + ", ".join(EQUITY_MODES))
        equity = "none"
    w = c.number(d.get("equity_weight"), "objective.equity_weight", minimum=0, maximum=1)
    return Objective(equity=equity, equity_weight=1.0 if w is None else w)


# --- words --------------------------------------------------------------------------------


def money_text(x: float, currency: str) -> str:
    """``2000000`` -> ``€2m``, ``45000`` -> ``€45,000``, in plain words for messages."""
    sym = _SYMBOLS.get(currency, f"{currency} ")
    sign = "-" if x < 0 else ""
    a = abs(x)
    if a >= 1e6:
        body = f"{a / 1e6:.4g}m"
    elif a >= 1000:
        body = f"{a:,.0f}"
    else:
        body = f"{a:,.2f}".rstrip("0").rstrip(".")
    return f"{sign}{sym}{body}"


def _pct(x: float) -> str:
    return f"{x * 100:.4g}%"


def _and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _amount_text(v: float) -> str:
    return f"{v:.4g}"


# --- the model ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    """A named constraint group: what the deletion filter may drop, what binds, what has a
    shadow price."""

    name: str
    kind: str  # budget, share, floor, earmark, mandatory, sources, caps
    description: str
    short: str = ""  # a budget in a list of budgets of the same year: "government (€3m)"
    year: int | None = None
    subject: str = ""  # the source, region or measure
    amount: float = 0.0  # the budget, floor or minimum cost


@dataclass
class _Row:
    name: str
    kind: str
    row: int
    description: str
    subject: str  # source / pillar / region / measure, for the explanations
    year: int | None = None


@dataclass
class _Model:
    problem: Problem
    c: FloatArray
    lb: FloatArray
    ub: FloatArray
    integrality: npt.NDArray[np.int8]
    a_ub: sp.csr_array
    b_ub: FloatArray
    a_eq: sp.csr_array
    b_eq: FloatArray
    rows: list[_Row]
    n_units: int
    u_cell: IntArray
    u_seg: IntArray
    u_effect: FloatArray
    cell_measure: IntArray
    cell_region: IntArray
    cell_year: IntArray
    unit_cost: FloatArray
    y_col: IntArray
    g_start: int
    g_measure: IntArray
    g_year: IntArray
    g_source: IntArray
    t_col: int
    weight: float
    budget: FloatArray
    allowed: list[list[int]]  # per measure: sources it may take money from (earmarks too)

    @property
    def n_cells(self) -> int:
        return len(self.cell_measure)


def _groups(p: Problem) -> list[_Group]:
    """The named constraints, in the order the deletion filter tries to drop them: source
    rules and earmarks first (so an explanation by budgets and policy constraints is
    preferred), then budgets, pillar shares, region floors, mandatory measures. A measure's
    unit limits, regions and years are what the measure is, not constraints to drop."""
    cur = p.currency
    out: list[_Group] = []
    ruled = [m for m in p.measures if m.sources is not None]
    if len(ruled) > DETAILED_GROUPS:
        out.append(_Group("sources:*", "sources", f"the rules on which sources may fund "
                          f"{len(ruled)} of the measures"))
    for m in ruled if len(ruled) <= DETAILED_GROUPS else ():
        out.append(_Group(f"sources:{m.id}", "sources",
                          f"the rule that {m.id} is funded only from {_and(m.sources or ())}"))
    for i, e in enumerate(p.constraints.earmarks):
        what = _and([*e.measures, *(f"the {q} pillar" for q in e.pillars)])
        out.append(_Group(f"earmark:{i}", "earmark", f"the earmark on {e.source} (only for "
                          f"{what})"))
    out += [_Group(f"budget:{s.id}:{y}", "budget",
                   f"the {y} budget of {s.id} ({money_text(s.budget.get(y, 0.0), cur)})",
                   f"{s.id} ({money_text(s.budget.get(y, 0.0), cur)})", y, s.id,
                   s.budget.get(y, 0.0))
            for y in p.years for s in p.sources]
    for i, s in enumerate(p.constraints.pillar_shares):
        of = f"of {s.year} spend" if s.year is not None else "of total spend"
        out.append(_Group(f"share:{i}", "share",
                          f"the minimum share for {s.pillar} ({_pct(s.min_share)} {of})"))
    for i, f in enumerate(p.constraints.region_floors):
        when = f" in {f.year}" if f.year is not None else ""
        out.append(_Group(f"floor:{i}", "floor", f"the floor for region {f.region} "
                          f"({money_text(f.min_spend, cur)}{when})", subject=f.region,
                          amount=f.min_spend))
    for m in p.measures:
        if m.mandatory:
            out.append(_Group(f"mandatory:{m.id}", "mandatory",
                              f"the mandatory measure {m.id} (at least "
                              f"{money_text(_minimum_cost(p, m), cur)}"
                              f"{_minimum_detail(p, m)})", subject=m.id,
                              amount=_minimum_cost(p, m)))
    return out


def _off(disabled: frozenset[str], kind: str, measure: str) -> bool:
    """Is the measure's group of this kind dropped (on its own, or with all of its kind)?"""
    return f"{kind}:{measure}" in disabled or f"{kind}:*" in disabled


def _cells_of(p: Problem, m: Measure) -> tuple[list[str], list[int]]:
    places = [NATIONAL] if m.national else list(m.regions if m.regions is not None
                                                else p.regions)
    return places, list(m.years if m.years is not None else p.years)


def _minimum_cost(p: Problem, m: Measure) -> float:
    places, years = _cells_of(p, m)
    return m.fixed_cost + m.min_units * len(places) * len(years) * m.unit_cost


def _minimum_detail(p: Problem, m: Measure) -> str:
    parts = []
    if m.fixed_cost:
        parts.append(f"a fixed cost of {money_text(m.fixed_cost, p.currency)}")
    if m.min_units:
        places, years = _cells_of(p, m)
        n = len(places) * len(years)
        unit = "unit" if m.min_units == 1 else "units"
        where = "its region-year" if n == 1 else f"each of its {n} region-years"
        parts.append(f"{_fmt(m.min_units)} {unit} in {where} at "
                     f"{money_text(m.unit_cost, p.currency)} each")
    return ": " + " and ".join(parts) if parts else ""


def _big(p: Problem) -> float:
    """A budget large enough to stand for "no budget limit" in the deletion filter."""
    total = sum(sum(s.budget.values()) for s in p.sources)
    total += sum(f.min_spend for f in p.constraints.region_floors)
    total += sum(_minimum_cost(p, m) for m in p.measures)
    return BIG_FACTOR * (total + 1.0)


def _build(p: Problem, disabled: frozenset[str] = frozenset()) -> _Model:
    """The model as sparse matrices. Columns: units per (measure, region-year cell, returns
    segment), one on/off variable per on/off measure, money per (measure, year, source), and
    the least-served region's effect under equity. ``disabled`` drops named groups."""
    nM, nY, nS = len(p.measures), len(p.years), len(p.sources)
    region_ix = {r: i for i, r in enumerate(p.regions)}
    year_ix = {y: i for i, y in enumerate(p.years)}
    source_ix = {s.id: i for i, s in enumerate(p.sources)}
    nR = len(p.regions)
    big = _big(p) if disabled else 0.0
    budget = np.array([[s.budget.get(y, 0.0) for y in p.years] for s in p.sources],
                      dtype=np.float64).reshape(nS, nY)
    rhs_budget = budget.copy()
    for si, s in enumerate(p.sources):
        for yi, y in enumerate(p.years):
            if f"budget:{s.id}:{y}" in disabled:
                rhs_budget[si, yi] = big
    earmark = {e.source: e for i, e in enumerate(p.constraints.earmarks)
               if f"earmark:{i}" not in disabled}
    equity = p.objective.equity == "maxmin" and nR > 0
    weight = p.objective.equity_weight if equity else 0.0
    unit_cost = np.array([m.unit_cost for m in p.measures], dtype=np.float64)

    # unit columns, cell by cell
    cm: list[IntArray] = []
    cr: list[IntArray] = []
    cy: list[IntArray] = []
    uc: list[IntArray] = []
    us: list[IntArray] = []
    ue: list[FloatArray] = []
    uub: list[FloatArray] = []
    n_cells = 0
    cells_of_measure: list[IntArray] = []
    for mi, m in enumerate(p.measures):
        places, years = _cells_of(p, m)
        ri = np.array([region_ix.get(r, -1) for r in places], dtype=np.int64)
        yix = np.array([year_ix[y] for y in years], dtype=np.int64)
        nc = len(ri) * len(yix)
        cells = np.arange(n_cells, n_cells + nc, dtype=np.int64)
        cells_of_measure.append(cells)
        n_cells += nc
        cm.append(np.full(nc, mi, dtype=np.int64))
        cr.append(np.repeat(ri, len(yix)))
        cy.append(np.tile(yix, len(ri)))
        eff = np.repeat(np.array([m.effect_in(r) for r in places], dtype=np.float64),
                        len(yix))
        segs = m.returns or (Segment(factor=1.0),)
        k = len(segs)
        cap = m.max_units if m.max_units is not None else math.inf
        widths = np.array([s.units if s.units is not None else math.inf for s in segs])
        starts = np.concatenate([[0.0], np.cumsum(widths)[:-1]])
        seg_ub = np.clip(np.minimum(starts + widths, cap) - starts, 0.0, None)
        factors = np.array([s.factor for s in segs], dtype=np.float64)
        uc.append(np.repeat(cells, k))
        us.append(np.tile(np.arange(k, dtype=np.int64), nc))
        ue.append(np.repeat(eff, k) * np.tile(factors, nc))
        uub.append(np.tile(seg_ub, nc))
    cell_measure = np.concatenate(cm) if cm else np.zeros(0, np.int64)
    cell_region = np.concatenate(cr) if cr else np.zeros(0, np.int64)
    cell_year = np.concatenate(cy) if cy else np.zeros(0, np.int64)
    u_cell = np.concatenate(uc) if uc else np.zeros(0, np.int64)
    u_seg = np.concatenate(us) if us else np.zeros(0, np.int64)
    u_effect = np.concatenate(ue) if ue else np.zeros(0)
    u_ub = np.concatenate(uub) if uub else np.zeros(0)
    n_units = len(u_cell)
    u_measure = cell_measure[u_cell]

    # on/off columns
    y_col = np.full(nM, -1, dtype=np.int64)
    col = n_units
    y_lb: list[float] = []
    y_ub: list[float] = []
    y_int: list[int] = []
    for mi, m in enumerate(p.measures):
        if m.on_off:
            y_col[mi] = col
            col += 1
            fixed_on = m.mandatory and f"mandatory:{m.id}" not in disabled
            y_lb.append(1.0 if fixed_on else 0.0)
            y_ub.append(1.0)
            y_int.append(0 if fixed_on else 1)

    # money columns: (measure, year, source) for the sources the measure may use
    g_start = col
    gm: list[int] = []
    gy: list[int] = []
    gs: list[int] = []
    allowed: list[list[int]] = []
    for mi, m in enumerate(p.measures):
        srcs = (m.sources if m.sources is not None and not _off(disabled, "sources", m.id)
                else tuple(s.id for s in p.sources))
        sidx = [source_ix[s] for s in srcs]
        ok = [si for si in sidx if p.sources[si].id not in earmark
              or earmark[p.sources[si].id].allows(m)]
        allowed.append(sorted(ok, key=lambda si: (p.sources[si].id not in earmark, si)))
        for y in _cells_of(p, m)[1]:
            for si in sidx:
                gm.append(mi)
                gy.append(year_ix[y])
                gs.append(si)
    g_measure = np.array(gm, dtype=np.int64)
    g_year = np.array(gy, dtype=np.int64)
    g_source = np.array(gs, dtype=np.int64)
    n_g = len(gm)
    g_cols = np.arange(g_start, g_start + n_g, dtype=np.int64)
    col = g_start + n_g
    t_col = -1
    if equity:
        t_col = col
        col += 1
    n = col

    lb = np.zeros(n)
    ub = np.full(n, np.inf)
    ub[:n_units] = u_ub
    integrality = np.zeros(n, dtype=np.int8)
    on = y_col[y_col >= 0]
    lb[on] = y_lb
    ub[on] = y_ub
    integrality[on] = y_int

    # objective (minimised)
    c = np.zeros(n)
    w_total = 1.0 - weight if weight < 1.0 else TIE_BREAK
    c[:n_units] = -w_total * u_effect
    if equity:
        c[t_col] = -weight * nR

    # equalities: money of (measure, year) = unit costs + the fixed cost in the first year
    eq_row = np.full((nM, nY), -1, dtype=np.int64)
    n_eq = 0
    for mi, m in enumerate(p.measures):
        for y in _cells_of(p, m)[1]:
            eq_row[mi, year_ix[y]] = n_eq
            n_eq += 1
    er = [eq_row[u_measure, cell_year[u_cell]], eq_row[g_measure, g_year]]
    ec = [np.arange(n_units, dtype=np.int64), g_cols]
    ev = [unit_cost[u_measure], -np.ones(n_g)]
    for mi, m in enumerate(p.measures):
        if m.fixed_cost > 0:
            first = year_ix[_cells_of(p, m)[1][0]]
            er.append(np.array([eq_row[mi, first]]))
            ec.append(np.array([y_col[mi]]))
            ev.append(np.array([m.fixed_cost]))
    a_eq = sp.csr_array((np.concatenate(ev), (np.concatenate(er), np.concatenate(ec))),
                        shape=(n_eq, n))
    b_eq = np.zeros(n_eq)

    # inequalities (<=)
    rr: list[IntArray] = []
    rc: list[IntArray] = []
    rv: list[FloatArray] = []
    b: list[FloatArray] = []
    rows: list[_Row] = []
    n_ub = 0

    def add(r: IntArray, cidx: IntArray, v: FloatArray) -> None:
        rr.append(np.asarray(r, dtype=np.int64))
        rc.append(np.asarray(cidx, dtype=np.int64))
        rv.append(np.asarray(v, dtype=np.float64))

    # budgets
    add(n_ub + g_source * nY + g_year, g_cols, np.ones(n_g))
    for si, s in enumerate(p.sources):
        for yi, y in enumerate(p.years):
            name = f"budget:{s.id}:{y}"
            rows.append(_Row(name, "budget", n_ub + si * nY + yi,
                             f"the {y} budget of {s.id} "
                             f"({money_text(budget[si, yi], p.currency)})", s.id, y))
    b.append(rhs_budget.reshape(-1))
    n_ub += nS * nY

    # on/off links: units only when funded, per region-year cell (the tightest big-M the
    # limits give: max_units, max_total_units, the money the measure can get that year)
    for mi, m in enumerate(p.measures):
        if y_col[mi] < 0:
            continue
        cells = cells_of_measure[mi]
        cols = np.nonzero(u_measure == mi)[0] if len(cells) else np.zeros(0, np.int64)
        total = m.max_total_units if m.max_total_units is not None else math.inf
        cell_limit = np.full(len(cells), total)
        if m.max_units is not None:
            cell_limit = np.minimum(cell_limit, m.max_units)
        if m.unit_cost > 0:
            own = np.array(allowed[mi], dtype=np.int64)
            per_year = (rhs_budget[own].sum(axis=0) if len(own) else np.zeros(nY))
            cell_limit = np.minimum(cell_limit, per_year[cell_year[cells]] / m.unit_cost)
        cell_limit = np.where(np.isfinite(cell_limit), cell_limit, big or 1e12)
        local = u_cell[cols] - cells[0]
        add(n_ub + local, cols, np.ones(len(cols)))
        add(n_ub + np.arange(len(cells)), np.full(len(cells), y_col[mi]), -cell_limit)
        b.append(np.zeros(len(cells)))
        n_ub += len(cells)
        if total < cell_limit.sum():
            add(np.full(len(cols) + 1, n_ub), np.append(cols, y_col[mi]),
                np.append(np.ones(len(cols)), -total))
            b.append(np.zeros(1))
            n_ub += 1
        if m.min_units > 0 and len(cells):
            local = u_cell[cols] - cells[0]
            add(n_ub + local, cols, -np.ones(len(cols)))
            add(n_ub + np.arange(len(cells)), np.full(len(cells), y_col[mi]),
                np.full(len(cells), m.min_units))
            b.append(np.zeros(len(cells)))
            n_ub += len(cells)

    # total unit caps (a row each, for the shadow price)
    for mi, m in enumerate(p.measures):
        if m.max_total_units is not None:
            cols = np.nonzero(u_measure == mi)[0]
            add(np.full(len(cols), n_ub), cols, np.ones(len(cols)))
            b.append(np.array([m.max_total_units]))
            rows.append(_Row(f"caps:{m.id}", "cap", n_ub, f"the limit of "
                             f"{_fmt(m.max_total_units)} units in all for {m.id}", m.id))
            n_ub += 1

    pillar_of_g = np.array([p.measures[mi].pillar for mi in g_measure], dtype=object)
    for i, ps in enumerate(p.constraints.pillar_shares):
        if f"share:{i}" in disabled:
            continue
        sel = (np.ones(n_g, dtype=bool) if ps.year is None
               else np.asarray(g_year == year_ix[ps.year], dtype=bool))
        coef = ps.min_share - (pillar_of_g[sel] == ps.pillar).astype(np.float64)
        add(np.full(int(sel.sum()), n_ub), g_cols[sel], coef)
        b.append(np.zeros(1))
        of = f"of {ps.year} spend" if ps.year is not None else "of total spend"
        rows.append(_Row(f"share:{i}", "share", n_ub, f"the minimum share for {ps.pillar} "
                         f"({_pct(ps.min_share)} {of})", ps.pillar, ps.year))
        n_ub += 1

    u_region = cell_region[u_cell]
    u_year = cell_year[u_cell]
    for i, f in enumerate(p.constraints.region_floors):
        if f"floor:{i}" in disabled:
            continue
        sel = u_region == region_ix[f.region]
        if f.year is not None:
            sel &= u_year == year_ix[f.year]
        cols = np.nonzero(sel)[0]
        add(np.full(len(cols), n_ub), cols, -unit_cost[u_measure[cols]])
        b.append(np.array([-f.min_spend]))
        when = f" in {f.year}" if f.year is not None else ""
        rows.append(_Row(f"floor:{i}", "floor", n_ub, f"the floor for region {f.region} "
                         f"({money_text(f.min_spend, p.currency)}{when})", f.region, f.year))
        n_ub += 1

    for i, e in enumerate(p.constraints.earmarks):
        if f"earmark:{i}" in disabled:
            continue
        si = source_ix[e.source]
        outside = np.array([not e.allows(p.measures[mi]) for mi in g_measure], dtype=bool)
        sel = (g_source == si) & outside if n_g else np.zeros(0, dtype=bool)
        add(np.full(int(sel.sum()), n_ub), g_cols[sel], np.ones(int(sel.sum())))
        b.append(np.zeros(1))
        what = _and([*e.measures, *(f"the {q} pillar" for q in e.pillars)])
        rows.append(_Row(f"earmark:{i}", "earmark", n_ub,
                         f"the earmark on {e.source} (only for {what})", e.source))
        n_ub += 1

    if equity:
        regional = np.nonzero(u_region >= 0)[0]
        add(n_ub + u_region[regional], regional, -u_effect[regional])
        add(n_ub + np.arange(nR), np.full(nR, t_col), np.ones(nR))
        b.append(np.zeros(nR))
        n_ub += nR

    a_ub = sp.csr_array((np.concatenate(rv), (np.concatenate(rr), np.concatenate(rc))),
                        shape=(n_ub, n))
    return _Model(problem=p, c=c, lb=lb, ub=ub, integrality=integrality, a_ub=a_ub,
                  b_ub=np.concatenate(b), a_eq=a_eq, b_eq=b_eq, rows=rows, n_units=n_units,
                  u_cell=u_cell, u_seg=u_seg, u_effect=u_effect, cell_measure=cell_measure,
                  cell_region=cell_region, cell_year=cell_year, unit_cost=unit_cost,
                  y_col=y_col, g_start=g_start, g_measure=g_measure, g_year=g_year,
                  g_source=g_source, t_col=t_col, weight=weight, budget=budget,
                  allowed=allowed)


# --- solving ------------------------------------------------------------------------------


@dataclass
class _Solved:
    status: str  # optimal, infeasible, unbounded, time_limit, error
    message: str
    x: FloatArray | None = None
    marginals: FloatArray | None = None
    duals: str | None = None  # "lp", "lp_fixed_decisions" or None
    method: str = "lp"  # lp, milp-rounding, milp
    bound: float | None = None
    gap: float | None = None


def _linprog(m: _Model, lb: FloatArray, ub: FloatArray,
             time_limit: float | None) -> Any:
    options: dict[str, Any] = {"presolve": True}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    return linprog(m.c, A_ub=m.a_ub if m.a_ub.shape[0] else None,
                   b_ub=m.b_ub if m.a_ub.shape[0] else None,
                   A_eq=m.a_eq if m.a_eq.shape[0] else None,
                   b_eq=m.b_eq if m.a_eq.shape[0] else None,
                   bounds=np.column_stack([lb, ub]), method="highs", options=options)


def _marginals(res: Any, m: _Model) -> FloatArray | None:
    ineq = getattr(res, "ineqlin", None)
    if ineq is None or not m.a_ub.shape[0]:
        return None
    marg = getattr(ineq, "marginals", None)
    return None if marg is None else np.asarray(marg, dtype=np.float64)


def _fixed(m: _Model, on: FloatArray, time_limit: float | None) -> Any:
    """The linear program with the on/off decisions fixed at ``on`` (0 or 1 each)."""
    ints = m.integrality == 1
    lb, ub = m.lb.copy(), m.ub.copy()
    lb[ints] = ub[ints] = on
    return _linprog(m, lb, ub, time_limit)


def _optimise(m: _Model, *, mip_gap: float, time_limit: float | None) -> _Solved:
    if not m.integrality.any():
        res = _linprog(m, m.lb, m.ub, time_limit)
        if res.status == 0:
            return _Solved("optimal", "optimal", np.asarray(res.x), _marginals(res, m), "lp",
                           bound=-float(res.fun), gap=0.0)
        return _Solved(*_status_of(res.status, res.message), method="lp")
    t0 = time.perf_counter()
    ints = m.integrality == 1
    # 1. the linear relaxation bounds the objective; fund every measure it uses at all and
    #    solve again: when that allocation is within mip_gap of the bound, it is the answer
    relax = _linprog(m, m.lb, m.ub, time_limit)
    if relax.status == 2:
        return _Solved(*_status_of(2, relax.message), method="milp")
    if relax.status == 0:
        bound = -float(relax.fun)
        rounded = _fixed(m, (np.asarray(relax.x)[ints] > 1e-6).astype(np.float64), time_limit)
        if rounded.status == 0:
            value = -float(rounded.fun)
            gap = (bound - value) / max(abs(value), 1e-9)
            if gap <= mip_gap + 1e-12:
                return _Solved("optimal", "optimal: it reaches the bound of the linear "
                               "relaxation" if gap <= 1e-9 else
                               f"optimal within {_pct(gap)} of the bound of the linear "
                               "relaxation",
                               np.asarray(rounded.x), _marginals(rounded, m),
                               "lp_fixed_decisions", "milp-rounding", bound, max(gap, 0.0))
    # 2. branch and bound
    cons = []
    if m.a_ub.shape[0]:
        cons.append(LinearConstraint(m.a_ub, -np.inf, m.b_ub))
    if m.a_eq.shape[0]:
        cons.append(LinearConstraint(m.a_eq, m.b_eq, m.b_eq))
    options: dict[str, Any] = {"mip_rel_gap": float(mip_gap), "presolve": True}
    if time_limit is not None:
        options["time_limit"] = max(float(time_limit) - (time.perf_counter() - t0), 0.1)
    res = milp(m.c, integrality=m.integrality, bounds=Bounds(m.lb, m.ub), constraints=cons,
               options=options)
    if res.x is None:
        return _Solved(*_status_of(res.status, res.message), method="milp")
    status = "optimal" if res.status == 0 else "time_limit"
    raw_gap = getattr(res, "mip_gap", None)
    dual_bound = getattr(res, "mip_dual_bound", None)
    mgap = None if raw_gap is None else max(float(raw_gap), 0.0)
    message = (f"optimal within {_pct(mgap or 0.0)} of the best bound" if res.status == 0 else
               f"stopped before proving optimality ({res.message}); the best allocation "
               "found is reported")
    # duals: fix the on/off decisions at their optimum and solve the linear program again
    x = np.asarray(res.x)
    lp = _fixed(m, np.round(x[ints]), time_limit)
    mbound = None if dual_bound is None else -float(dual_bound)
    if lp.status == 0:
        return _Solved(status, message, np.asarray(lp.x), _marginals(lp, m),
                       "lp_fixed_decisions", "milp", mbound, mgap)
    return _Solved(status, message, x, None, None, "milp", mbound, mgap)


def _status_of(code: int, message: str) -> tuple[str, str]:
    if code == 2:
        return "infeasible", "no allocation meets every constraint"
    if code == 3:
        return "unbounded", "the effect can grow without limit: a measure needs a unit limit"
    if code == 1:
        return "time_limit", f"the solver stopped without an allocation ({message})"
    return "error", f"the solver failed: {message}"


def _feasible(p: Problem, disabled: frozenset[str], time_limit: float | None = None) -> bool:
    # with the real objective: HiGHS is far slower on a zero objective (a degenerate problem),
    # and a mixed-integer check may stop at its first allocation (mip_gap 1)
    m = _build(p, disabled)
    return _optimise(m, mip_gap=1.0, time_limit=time_limit).status != "infeasible"


@dataclass(frozen=True)
class Conflict:
    """Conflicting constraints: drop any one and an allocation exists (irreducible) when
    ``complete``; when the search ran out of time they still clash but some may not be needed."""

    constraints: tuple[str, ...]
    descriptions: tuple[str, ...]
    message: str
    complete: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"constraints": list(self.constraints),
                "descriptions": list(self.descriptions), "message": self.message,
                "complete": self.complete}


def explain_infeasibility(problem: Problem, *,
                          seconds: float = EXPLAIN_SECONDS) -> Conflict | None:
    """Name the constraints that clash, or ``None`` when the problem is feasible.

    A deletion filter over the named constraint groups (unit limits, source rules, earmarks,
    budgets, pillar shares, region floors, mandatory measures): each group is dropped and the
    problem re-solved; when it stays infeasible the group is left out for good, otherwise it
    is needed for the conflict and kept. What is left is irreducible: the constraints clash,
    and dropping any one of them leaves a problem that has an allocation. To keep large
    problems quick, groups are dropped in blocks (a block that can go goes at once; one that
    cannot is halved), which gives the same guarantee with far fewer solves. After
    ``seconds`` the search stops and keeps what it has not tested (``complete`` is then
    false: the constraints still clash, but some may not be needed)."""
    if _feasible(problem, frozenset()):
        return None
    return _deletion_filter(problem, seconds)


def _deletion_filter(problem: Problem, seconds: float = EXPLAIN_SECONDS) -> Conflict:
    groups = _groups(problem)
    dropped: set[str] = set()
    kept: set[str] = set()
    deadline = time.perf_counter() + seconds
    complete = True

    def drop(block: Sequence[_Group]) -> None:
        nonlocal complete
        if not block:
            return
        left = deadline - time.perf_counter()
        if left <= 0:
            kept.update(g.name for g in block)
            complete = False
            return
        trial = frozenset(dropped | {g.name for g in block})
        if not _feasible(problem, trial, time_limit=max(left, 1.0)):
            dropped.update(g.name for g in block)
        elif len(block) == 1:
            kept.add(block[0].name)
        else:
            half = len(block) // 2
            drop(block[:half])
            drop(block[half:])

    # the blocks: each kind on its own (all of them at once is always feasible)
    for kind in dict.fromkeys(g.kind for g in groups):
        drop([g for g in groups if g.kind == kind])
    conflict = [g for g in groups if g.name in kept]
    message = _conflict_message(conflict, problem.currency)
    if not complete:
        message += (f" (The search for the smallest set of conflicting constraints stopped "
                    f"after {seconds:g} s: some of these may not be needed.)")
    return Conflict(tuple(g.name for g in conflict), tuple(g.description for g in conflict),
                    message, complete)


def _conflict_message(kept: Sequence[_Group], currency: str) -> str:
    """The conflict in plain words; long lists of one kind are summed up."""
    long = 5

    def few(names: Sequence[str]) -> str:
        return ", ".join(names[:3]) + f" and {len(names) - 3} more" if len(names) > 4 \
            else _and(names)

    bud = [g for g in kept if g.kind == "budget"]
    budgets: list[str] = []
    if len(bud) > long:
        years = [str(y) for y in dict.fromkeys(g.year for g in bud)]
        budgets.append(f"the budgets of {_and(list(dict.fromkeys(g.subject for g in bud)))} "
                       f"for {_and(years)} ({money_text(sum(g.amount for g in bud), currency)} "
                       "in all)")
    else:
        for y in dict.fromkeys(g.year for g in bud):
            same = [g for g in bud if g.year == y]
            budgets.append(same[0].description if len(same) == 1 else
                           f"the {y} budgets of {_and([g.short for g in same])}")
    demands: list[str] = []
    for kind in ("share", "floor", "mandatory"):
        gs = [g for g in kept if g.kind == kind]
        total = money_text(sum(g.amount for g in gs), currency)
        if kind == "floor" and len(gs) > long:
            demands.append(f"the {len(gs)} region floors ("
                           f"{few(list(dict.fromkeys(g.subject for g in gs)))}; {total} in all)")
        elif kind == "mandatory" and len(gs) > long:
            demands.append(f"the {len(gs)} mandatory measures ({few([g.subject for g in gs])}; "
                           f"at least {total} in all)")
        else:
            demands += [g.description for g in gs]
    limits = [g.description for g in kept if g.kind in ("earmark", "sources")]
    head = "No allocation meets every constraint: "
    if not kept:
        return head + "the measures cannot be arranged to meet the constraints."
    if budgets and demands:
        many = len(demands) > 1 or sum(g.kind in ("share", "floor", "mandatory")
                                       for g in kept) > 1
        verb = "together exceed" if many else "exceeds"
        text = f"{_and(demands)} {verb} {_and(budgets)}"
        if limits:
            text += f", given {_and(limits)}"
        return head + text + ". Lower one of them or raise the budget."
    if len(kept) == 1:
        return head + f"{kept[0].description} cannot be met by any allocation: the measures " \
            "that may spend there cannot absorb that much within their unit limits."
    return head + f"{_and(demands + limits + budgets)} contradict each other (within the " \
        "measures' unit limits). Relax one of them."


# --- the result ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AllocationRow:
    """Money and units of one measure in one region and year from one source. The units of a
    region-year are split over the sources in proportion to the money each gives the measure
    that year; a fixed cost is a row of its own (``kind`` "fixed_cost", region ``None``)."""

    measure: str
    pillar: str
    region: str | None
    year: int
    source: str
    units: float
    money: float
    kind: str = "units"

    def to_dict(self) -> dict[str, Any]:
        return {"measure": self.measure, "pillar": self.pillar, "region": self.region,
                "year": self.year, "source": self.source, "units": _r(self.units),
                "money": _r(self.money), "kind": self.kind}


@dataclass(frozen=True)
class MeasureResult:
    id: str
    pillar: str
    funded: bool
    units: float
    money: float
    effect: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "pillar": self.pillar, "funded": self.funded,
                "units": _r(self.units), "money": _r(self.money), "effect": _r(self.effect)}


@dataclass(frozen=True)
class Binding:
    """A constraint at its bound: relaxing it would change the allocation."""

    name: str
    kind: str
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "description": self.description}


@dataclass(frozen=True)
class ShadowPrice:
    """The change of the objective when the constraint's bound moves by one ``per``
    (one unit of money for budgets, floors and earmarks, one percentage point for shares, one
    unit for unit limits): positive when relaxing pays, negative when tightening costs."""

    name: str
    kind: str
    value: float
    per: str
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "value": _r(self.value, 9),
                "per": self.per, "explanation": self.explanation}


def _r(x: float, digits: int = 6) -> float:
    v = round(float(x), digits)
    return 0.0 if v == 0 else v


@dataclass
class Allocation:
    """What each measure gets, and why. ``status`` is ``optimal``, ``time_limit`` (best found,
    not proven optimal), ``infeasible`` (``conflict`` names the clash), ``unbounded`` or
    ``error`` for the solver; ``feasible`` or ``violates_constraints`` for :func:`greedy`."""

    status: str
    message: str
    method: str
    currency: str
    objective: float | None = None
    total_effect: float = 0.0
    total_spend: float = 0.0
    min_region_effect: float | None = None
    rows: list[AllocationRow] = field(default_factory=list)
    measures: list[MeasureResult] = field(default_factory=list)
    totals: dict[str, dict[str, float]] = field(default_factory=dict)
    effect_by_region: dict[str, float] = field(default_factory=dict)
    budget_use: list[dict[str, Any]] = field(default_factory=list)
    binding: list[Binding] = field(default_factory=list)
    shadow_prices: list[ShadowPrice] = field(default_factory=list)
    duals: str | None = None
    conflict: Conflict | None = None
    warnings: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    problem_hash: str = ""
    seconds: float = 0.0
    mip_gap: float | None = None
    bound: float | None = None
    gap: float | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("optimal", "feasible")

    def raise_for_status(self) -> Allocation:
        """Return self when an allocation was found, else raise :class:`InfeasibleError`
        (with the conflict) or :class:`AllocationError` carrying the message."""
        if self.status == "infeasible":
            raise InfeasibleError(self.message, self.conflict)
        if self.status in ("unbounded", "error"):
            raise AllocationError([self.message])
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status, "message": self.message, "method": self.method,
            "currency": self.currency,
            "objective": None if self.objective is None else _r(self.objective),
            "total_effect": _r(self.total_effect), "total_spend": _r(self.total_spend),
            "min_region_effect": (None if self.min_region_effect is None
                                  else _r(self.min_region_effect)),
            "allocation": [r.to_dict() for r in self.rows],
            "measures": [m.to_dict() for m in self.measures],
            "totals": {k: {kk: _r(vv) for kk, vv in v.items()} for k, v in self.totals.items()},
            "effect_by_region": {k: _r(v) for k, v in self.effect_by_region.items()},
            "budget_use": self.budget_use,
            "binding": [b.to_dict() for b in self.binding],
            "shadow_prices": [s.to_dict() for s in self.shadow_prices],
            "duals": self.duals,
            "conflict": None if self.conflict is None else self.conflict.to_dict(),
            "warnings": list(self.warnings),
            "parameters": self.parameters, "problem_hash": self.problem_hash,
            "seconds": round(self.seconds, 4), "mip_gap": self.mip_gap,
            "bound": None if self.bound is None else _r(self.bound),
            "gap": None if self.gap is None else _r(self.gap, 9),
        }


def _empty(p: Problem, status: str, message: str, method: str, seconds: float,
           conflict: Conflict | None = None) -> Allocation:
    return Allocation(status=status, message=message, method=method, currency=p.currency,
                      conflict=conflict, parameters=p.to_dict(), problem_hash=problem_hash(p),
                      seconds=seconds)


def solve(problem: Problem, *, mip_gap: float = DEFAULT_MIP_GAP,
          time_limit: float | None = None, explain: bool = True,
          explain_seconds: float = EXPLAIN_SECONDS) -> Allocation:
    """Find the allocation with the largest objective (HiGHS). A pure linear program goes
    through ``linprog``; on/off measures make it a mixed-integer program for ``milp``
    (``mip_gap``: the relative optimality gap it may stop at). When no allocation exists and
    ``explain`` is true the result's ``conflict`` names the clashing constraints (a search of
    at most ``explain_seconds``, see :func:`explain_infeasibility`)."""
    t0 = time.perf_counter()
    model = _build(problem)
    solved = _optimise(model, mip_gap=mip_gap, time_limit=time_limit)
    if solved.x is None:
        conflict = None
        message = solved.message
        if solved.status == "infeasible" and explain:
            conflict = _deletion_filter(problem, explain_seconds)
            message = conflict.message
        return _empty(problem, solved.status, message, solved.method,
                      time.perf_counter() - t0, conflict)
    out = _result(model, solved.x, status=solved.status, message=solved.message,
                  method=solved.method, marginals=solved.marginals, duals=solved.duals)
    out.mip_gap = mip_gap if solved.method != "lp" else None
    out.bound, out.gap = solved.bound, solved.gap
    out.seconds = time.perf_counter() - t0
    return out


def _clean(x: FloatArray) -> FloatArray:
    out = np.where(np.abs(x) < _TOL * max(1.0, float(np.abs(x).max(initial=0.0))), 0.0, x)
    return np.asarray(out, dtype=np.float64)


def _result(m: _Model, x: FloatArray, *, status: str, message: str, method: str,
            marginals: FloatArray | None, duals: str | None) -> Allocation:
    p = m.problem
    nM, nY = len(p.measures), len(p.years)
    x = _clean(np.asarray(x, dtype=np.float64))
    u = x[:m.n_units]
    n_cells = m.n_cells
    cell_units: FloatArray = np.bincount(m.u_cell, weights=u, minlength=n_cells).astype(
        np.float64)
    cell_effect: FloatArray = np.bincount(m.u_cell, weights=u * m.u_effect,
                                          minlength=n_cells).astype(np.float64)
    cell_money = cell_units * m.unit_cost[m.cell_measure]
    g = x[m.g_start:m.g_start + len(m.g_measure)]
    on = np.zeros(nM)
    has = m.y_col >= 0
    on[has] = x[m.y_col[has]]
    fixed = np.array([mm.fixed_cost for mm in p.measures]) * np.where(has, on, 0.0)

    # split each (measure, year) over its sources in proportion to the money they give
    key_g = m.g_measure * nY + m.g_year
    my_total = np.bincount(key_g, weights=g, minlength=nM * nY)
    share = np.divide(g, my_total[key_g], out=np.zeros_like(g), where=my_total[key_g] > 0)
    key_cell = m.cell_measure * nY + m.cell_year
    order = np.argsort(key_cell, kind="stable")
    counts = np.bincount(key_cell, minlength=nM * nY)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    gj = np.nonzero(share > 0)[0]
    n_per = counts[key_g[gj]]
    rep_j = np.repeat(gj, n_per)
    offs = np.arange(int(n_per.sum()), dtype=np.int64) - np.repeat(np.cumsum(n_per) - n_per,
                                                                   n_per)
    rep_cell = order[np.repeat(starts[key_g[gj]], n_per) + offs]
    r_units = cell_units[rep_cell] * share[rep_j]
    r_money = cell_money[rep_cell] * share[rep_j]
    keep = (r_units > 0) | (r_money > 0)
    rep_j, rep_cell, r_units, r_money = rep_j[keep], rep_cell[keep], r_units[keep], r_money[keep]
    srt = np.lexsort((m.g_source[rep_j], rep_cell))
    regions = list(p.regions)
    mids = [mm.id for mm in p.measures]
    pils = [mm.pillar for mm in p.measures]
    sids = [s.id for s in p.sources]
    years = list(p.years)
    rows: list[AllocationRow] = []
    for cell_i, j, nu, mo in zip(rep_cell[srt].tolist(), rep_j[srt].tolist(),
                                 r_units[srt].tolist(), r_money[srt].tolist(), strict=True):
        mi = int(m.cell_measure[cell_i])
        ri = int(m.cell_region[cell_i])
        rows.append(AllocationRow(mids[mi], pils[mi], regions[ri] if ri >= 0 else NATIONAL,
                                  years[int(m.cell_year[cell_i])], sids[int(m.g_source[j])],
                                  nu, mo))
    for mi, mm in enumerate(p.measures):
        if fixed[mi] > 0:
            first = p.years.index(_cells_of(p, mm)[1][0])
            for j in np.nonzero((m.g_measure == mi) & (m.g_year == first) & (share > 0))[0]:
                rows.append(AllocationRow(mm.id, mm.pillar, None, years[first],
                                          sids[int(m.g_source[j])], 0.0,
                                          float(fixed[mi] * share[j]), "fixed_cost"))

    # totals
    m_units = np.bincount(m.cell_measure, weights=cell_units, minlength=nM)
    m_effect = np.bincount(m.cell_measure, weights=cell_effect, minlength=nM)
    m_money = np.bincount(m.g_measure, weights=g, minlength=nM)
    measures = [MeasureResult(mm.id, mm.pillar, bool(m_money[i] > 0 or on[i] > 0.5),
                              float(m_units[i]), float(m_money[i]), float(m_effect[i]))
                for i, mm in enumerate(p.measures)]
    by_pillar = dict.fromkeys(p.pillars, 0.0)
    for i, mm in enumerate(p.measures):
        by_pillar[mm.pillar] += float(m_money[i])
    by_year = {str(y): float(v) for y, v in
               zip(years, np.bincount(m.g_year, weights=g, minlength=nY), strict=True)}
    by_source_arr = np.bincount(m.g_source, weights=g, minlength=len(sids))
    by_source = {s: float(v) for s, v in zip(sids, by_source_arr, strict=True)}
    nR = len(regions)
    reg_ix = np.where(m.cell_region >= 0, m.cell_region, nR)
    reg_money = np.bincount(reg_ix, weights=cell_money, minlength=nR + 1)
    reg_effect = np.bincount(reg_ix, weights=cell_effect, minlength=nR + 1)
    by_region = {r: float(reg_money[i]) for i, r in enumerate(regions)}
    effect_by_region = {r: float(reg_effect[i]) for i, r in enumerate(regions)}
    if (m.cell_region < 0).any():
        by_region[NATIONAL] = float(reg_money[nR])
        effect_by_region[NATIONAL] = float(reg_effect[nR])
    totals = {"pillar": by_pillar, "year": by_year, "source": by_source, "region": by_region,
              "fixed_costs": {"all": float(fixed.sum())}}
    spent = np.zeros((len(sids), nY))
    np.add.at(spent, (m.g_source, m.g_year), g)
    budget_use = [{"source": s, "year": y, "budget": _r(m.budget[si, yi]),
                   "spent": _r(spent[si, yi]), "left": _r(m.budget[si, yi] - spent[si, yi])}
                  for si, s in enumerate(sids) for yi, y in enumerate(years)]

    total_effect = float(cell_effect.sum())
    min_eff = float(reg_effect[:nR].min()) if nR else None
    objective = total_effect
    if m.weight > 0 and min_eff is not None:
        objective = (1 - m.weight) * total_effect + m.weight * nR * min_eff

    binding = _binding(m, x, cell_units, marginals)
    prices = (_shadow_prices(m, marginals, float(g.sum()))
              if marginals is not None else [])
    return Allocation(status=status, message=message, method=method, currency=p.currency,
                      objective=objective, total_effect=total_effect,
                      total_spend=float(g.sum()), min_region_effect=min_eff, rows=rows,
                      measures=measures, totals=totals, effect_by_region=effect_by_region,
                      budget_use=budget_use, binding=binding, shadow_prices=prices,
                      duals=duals, parameters=p.to_dict(), problem_hash=problem_hash(p))


def _binding(m: _Model, x: FloatArray, cell_units: FloatArray,
             marginals: FloatArray | None) -> list[Binding]:
    p = m.problem
    activity = m.a_ub @ x
    scale = abs(m.a_ub) @ np.abs(x)
    out: list[Binding] = []
    for r in m.rows:
        slack = m.b_ub[r.row] - activity[r.row]
        tol = 1e-7 * max(1.0, abs(float(m.b_ub[r.row])), float(scale[r.row]))
        if r.kind == "earmark":
            # an earmark is always met exactly; it binds when the money would do more elsewhere
            hit = marginals is not None and abs(float(marginals[r.row])) > 1e-9
        elif r.kind == "share":
            hit = slack <= tol and float(scale[r.row]) > 0  # no spend at all: not binding
        elif r.kind == "floor":
            hit = slack <= tol and float(m.b_ub[r.row]) < 0  # a floor of 0 binds nothing
        else:
            hit = slack <= tol
        if hit:
            out.append(Binding(r.name, r.kind, r.description + " is binding"))
    for mi, mm in enumerate(p.measures):
        if mm.max_units is None:
            continue
        cu = cell_units[m.cell_measure == mi]
        at = int((cu >= mm.max_units - 1e-7 * max(1.0, mm.max_units)).sum())
        if at and mm.max_units > 0:
            out.append(Binding(f"max_units:{mm.id}", "max_units",
                               f"{mm.id} is at its limit of {_fmt(mm.max_units)} units "
                               f"in {at} of {len(cu)} region-years"))
    return out


def _shadow_prices(m: _Model, marginals: FloatArray, total_spend: float) -> list[ShadowPrice]:
    p = m.problem
    cur = p.currency
    what = ("units of effect" if m.weight == 0 else
            "units of the objective (the blend of total effect and the least-served region)")
    one = what.replace("units", "unit", 1)

    def of(v: float, money: bool = True) -> str:
        text = f"{_amount_text(v)} {one if _amount_text(v) == '1' else what}"
        return text + (_per_money(v, cur) if money else "")

    out: list[ShadowPrice] = []
    for r in m.rows:
        lam = -float(marginals[r.row])  # d objective / d bound (the model minimises -objective)
        lam = 0.0 if abs(lam) < 1e-12 else lam
        if r.kind == "budget":
            text = (f"One more {cur} in {r.subject} in {r.year} buys {of(lam)}." if lam > 0 else
                    f"One more {cur} in {r.subject} in {r.year} buys nothing: that budget is "
                    "not what limits the plan.")
            out.append(ShadowPrice(r.name, r.kind, lam, cur, text))
        elif r.kind == "floor":
            text = (f"Raising {r.description} by one {cur} costs {of(lam)}."
                    if lam > 0 else f"Raising {r.description} by one {cur} costs nothing: the "
                    "region gets more than its floor anyway.")
            out.append(ShadowPrice(r.name, r.kind, -lam if lam else 0.0, cur, text))
        elif r.kind == "share":
            cost = lam * total_spend / 100
            text = (f"Raising {r.description} by one percentage point costs "
                    f"{of(cost, False)}." if cost > 0 else
                    f"Raising {r.description} by one percentage point costs nothing: the "
                    "pillar gets more than its share anyway.")
            out.append(ShadowPrice(r.name, r.kind, -cost if cost else 0.0, "percentage point",
                                   text))
        elif r.kind == "earmark":
            text = (f"Letting one more {cur} of {r.subject} go outside its earmark would buy "
                    f"{of(lam)}." if lam > 0 else
                    f"Loosening {r.description} would buy nothing.")
            out.append(ShadowPrice(r.name, r.kind, lam, cur, text))
        elif r.kind == "cap":
            text = (f"Allowing one more unit of {r.subject} buys {of(lam, False)}."
                    if lam > 0 else f"Allowing more units of {r.subject} buys nothing.")
            out.append(ShadowPrice(r.name, r.kind, lam, "unit", text))
    return out


def _per_money(v: float, currency: str) -> str:
    """`` (0.2 per €1,000)`` for a rate of 0.0002 per unit of money, so that it reads easily."""
    if v <= 0 or v >= 0.1:
        return ""
    scale = 10.0 ** math.ceil(-math.log10(v))
    return f" ({_amount_text(v * scale)} per {money_text(scale, currency)})"


# --- the greedy heuristic ------------------------------------------------------------------


def greedy(problem: Problem) -> Allocation:
    """Effect per unit of money, best first: mandatory measures get their minimum first; then
    every unit column (measure, region-year, returns segment) is filled in the order of effect
    per unit cost, as far as its unit limits and the budgets of the sources it may use
    (earmarks respected) allow. A measure with a fixed cost or ``min_units`` pays them when its
    first unit is bought, or is skipped when it cannot. Pillar shares, region floors and the
    equity objective are ignored: the result says which of them it breaks
    (``status`` "violates_constraints", ``warnings``)."""
    t0 = time.perf_counter()
    m = _build(problem)
    p = problem
    nY = len(p.years)
    n = len(m.c)
    x = np.zeros(n)
    rem = m.budget.copy()
    ub = m.ub
    g_index = {(int(a), int(b), int(c)): m.g_start + j for j, (a, b, c) in
               enumerate(zip(m.g_measure, m.g_year, m.g_source, strict=True))}
    cols_of_cell: list[list[int]] = [[] for _ in range(m.n_cells)]
    for j, cell in enumerate(m.u_cell.tolist()):
        cols_of_cell[cell].append(j)
    cells_of_measure: list[list[int]] = [[] for _ in p.measures]
    for cell, mi in enumerate(m.cell_measure.tolist()):
        cells_of_measure[mi].append(cell)
    left_total = [mm.max_total_units if mm.max_total_units is not None else math.inf
                  for mm in p.measures]
    state = [0] * len(p.measures)  # 0 untouched, 1 funded, -1 skipped
    warnings: list[str] = []
    eps = 1e-9

    def available(mi: int, yi: int) -> float:
        return float(sum(rem[si, yi] for si in m.allowed[mi]))

    def pay(mi: int, yi: int, amount: float) -> None:
        for si in m.allowed[mi]:
            if amount <= 0:
                break
            take = min(amount, float(rem[si, yi]))
            if take > 0:
                rem[si, yi] -= take
                x[g_index[(mi, yi, si)]] += take
                amount -= take

    def add_units(cell: int, units: float) -> None:
        for j in cols_of_cell[cell]:
            if units <= 0:
                break
            take = min(units, float(ub[j] - x[j]))
            if take > 0:
                x[j] += take
                units -= take

    def fund(mi: int) -> bool:
        mm = p.measures[mi]
        need = np.zeros(nY)
        cells = cells_of_measure[mi]
        for cell in cells:
            need[m.cell_year[cell]] += mm.min_units * mm.unit_cost
        if mm.fixed_cost:
            need[p.years.index(_cells_of(p, mm)[1][0])] += mm.fixed_cost
        if any(need[yi] > available(mi, yi) + eps for yi in range(nY)):
            return False
        for yi in range(nY):
            if need[yi] > 0:
                pay(mi, yi, float(need[yi]))
        for cell in cells:
            add_units(cell, mm.min_units)
        left_total[mi] -= mm.min_units * len(cells)
        if m.y_col[mi] >= 0:
            x[m.y_col[mi]] = 1.0
        state[mi] = 1
        return True

    for mi, mm in enumerate(p.measures):
        if mm.mandatory and not fund(mi):
            state[mi] = -1
            warnings.append(f"the mandatory measure {mm.id} could not be afforded "
                            f"(it needs at least "
                            f"{money_text(_minimum_cost(p, mm), p.currency)})")
    u_measure = m.cell_measure[m.u_cell]
    cost = m.unit_cost[u_measure]
    ratio = np.divide(m.u_effect, cost, out=np.full(m.n_units, np.inf), where=cost > 0)
    ratio[m.u_effect <= 0] = -1.0
    for j in np.lexsort((m.u_seg, -ratio)).tolist():
        if ratio[j] < 0:
            break
        mi = int(u_measure[j])
        if state[mi] < 0:
            continue
        if state[mi] == 0 and p.measures[mi].on_off and not fund(mi):
            state[mi] = -1
            continue
        state[mi] = 1
        yi = int(m.cell_year[m.u_cell[j]])
        units = min(float(ub[j] - x[j]), left_total[mi])
        uc = float(cost[j])
        if uc > 0:
            units = min(units, available(mi, yi) / uc)
        if units > eps:
            x[j] += units
            left_total[mi] -= units
            if uc > 0:
                pay(mi, yi, units * uc)
    if m.t_col >= 0:
        nR = len(p.regions)
        u_region = m.cell_region[m.u_cell]
        reg = np.bincount(u_region[u_region >= 0], weights=(x[:m.n_units] * m.u_effect)[
            u_region >= 0], minlength=nR)
        x[m.t_col] = float(reg.min()) if nR else 0.0

    out = _result(m, x, status="feasible", message="", method="greedy", marginals=None,
                  duals=None)
    warnings += _violations(m, out)
    if p.objective.equity == "maxmin":
        warnings.append("greedy ranks by effect per cost and ignores the equity objective")
    broken = [w for w in warnings if not w.startswith("greedy ranks")]
    out.status = "violates_constraints" if broken else "feasible"
    out.message = ("the greedy allocation breaks: " + "; ".join(broken) if broken else
                   "the greedy allocation meets every constraint (it need not be optimal)")
    out.warnings = warnings
    out.binding = [b for b in out.binding if b.kind != "earmark"]
    out.seconds = time.perf_counter() - t0
    return out


def _violations(m: _Model, a: Allocation) -> list[str]:
    p = m.problem
    out: list[str] = []
    spend_year: dict[int, float] = {y: float(a.totals["year"][str(y)]) for y in p.years}
    pillar_year: dict[tuple[str, int], float] = {}
    for r in a.rows:
        pillar_year[(r.pillar, r.year)] = pillar_year.get((r.pillar, r.year), 0.0) + r.money
    for s in p.constraints.pillar_shares:
        ys = [s.year] if s.year is not None else list(p.years)
        total = sum(spend_year[y] for y in ys)
        got = sum(pillar_year.get((s.pillar, y), 0.0) for y in ys)
        if total > 0 and got < s.min_share * total * (1 - 1e-9) - 1e-9:
            of = f"of {s.year} spend" if s.year is not None else "of total spend"
            out.append(f"the minimum share for {s.pillar} ({_pct(s.min_share)} {of}) is not "
                       f"met: it got {_pct(got / total)}")
    region_year: dict[tuple[str | None, int], float] = {}
    for r in a.rows:
        if r.kind == "units":
            region_year[(r.region, r.year)] = region_year.get((r.region, r.year), 0.0) + r.money
    for f in p.constraints.region_floors:
        ys = [f.year] if f.year is not None else list(p.years)
        got = sum(region_year.get((f.region, y), 0.0) for y in ys)
        if got < f.min_spend * (1 - 1e-9) - 1e-9:
            when = f" in {f.year}" if f.year is not None else ""
            out.append(f"the floor for region {f.region} ({money_text(f.min_spend, p.currency)}"
                       f"{when}) is not met: it got {money_text(got, p.currency)}")
    return out


# --- scenarios ----------------------------------------------------------------------------


def apply_overrides(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario document: ``base`` (a problem document) changed by ``overrides``.

    * mappings merge key by key; a value replaces the base value; ``null`` removes the key;
    * lists of items with an ``id`` (``sources``, ``measures``) merge item by item by id: an
      item with a new id is added, one with ``remove: true`` is dropped;
    * any other list replaces the base list, unless its key starts with ``+``
      (``+region_floors``), which appends the items to the base list."""
    problems: list[str] = []
    out = copy.deepcopy(dict(base))
    _merge(out, overrides, "", problems)
    if problems:
        raise AllocationError(problems)
    return out


def _has_ids(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(i, Mapping) and "id" in i for i in v)


def _merge(target: dict[str, Any], over: Mapping[str, Any], path: str,
           problems: list[str]) -> None:
    for k, v in over.items():
        key = str(k)
        append = key.startswith("+")
        if append:
            key = key[1:]
        here = _at(path, key)
        cur = target.get(key)
        if v is None:
            target.pop(key, None)
        elif append:
            if not isinstance(v, list) or not (cur is None or isinstance(cur, list)):
                problems.append(f"{here}: '+{key}' appends a list to a list")
            else:
                target[key] = list(cur or []) + copy.deepcopy(v)
        elif isinstance(v, Mapping) and isinstance(cur, dict):
            _merge(cur, v, here, problems)
        elif _has_ids(v) and isinstance(cur, list) and _has_ids(cur):
            items: list[Any] = cur
            for item in v:
                iid = str(item["id"])
                found = [i for i, old in enumerate(items) if str(old.get("id")) == iid]
                if item.get("remove") is True:
                    if not found:
                        problems.append(f"{here}: cannot remove {iid!r}: there is no such id")
                    items[:] = [old for old in items if str(old.get("id")) != iid]
                elif found:
                    _merge(items[found[0]], item, f"{here}[{iid}]", problems)
                else:
                    items.append(copy.deepcopy(dict(item)))
        else:
            target[key] = copy.deepcopy(v)


@dataclass
class ScenarioComparison:
    """Scenarios solved side by side: the base first, then each scenario in order."""

    names: list[str]
    allocations: dict[str, Allocation]
    pillars: list[str]

    def rows(self) -> list[dict[str, Any]]:
        base = self.allocations[self.names[0]].objective
        out = []
        for name in self.names:
            a = self.allocations[name]
            change = (None if a.objective is None or base is None else _r(a.objective - base))
            out.append({
                "scenario": name, "status": a.status,
                "objective": None if a.objective is None else _r(a.objective),
                "objective_change": change, "total_spend": _r(a.total_spend),
                "total_effect": _r(a.total_effect),
                "spend_by_pillar": {q: _r(a.totals.get("pillar", {}).get(q, 0.0))
                                    for q in self.pillars},
                "binding": [b.description for b in a.binding],
                "message": a.message, "problem_hash": a.problem_hash,
            })
        return out

    def to_dict(self, *, full: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"scenarios": list(self.names), "pillars": list(self.pillars),
                               "rows": self.rows()}
        if full:
            out["allocations"] = {k: v.to_dict() for k, v in self.allocations.items()}
        return out


def compare_scenarios(base: Problem, scenarios: Mapping[str, Mapping[str, Any]], *,
                      base_name: str = "base",
                      solver: Callable[[Problem], Allocation] | None = None
                      ) -> ScenarioComparison:
    """Solve ``base`` and each scenario (a dict of overrides, see :func:`apply_overrides`)
    and put the results side by side. Every scenario is validated first; the problems of all
    of them are reported together, each prefixed with its scenario's name."""
    run = solver or solve
    base_doc = base.to_dict()
    problems: list[str] = []
    built: dict[str, Problem] = {base_name: base}
    for name, over in scenarios.items():
        if name == base_name:
            problems.append(f"scenario {name!r}: the name is taken by the base problem")
            continue
        try:
            built[name] = problem_from_dict(apply_overrides(base_doc, over))
        except AllocationError as e:
            problems += [f"scenario {name!r}: {q}" for q in e.problems]
    if problems:
        raise AllocationError(problems)
    allocations = {name: run(p) for name, p in built.items()}
    pillars = list(dict.fromkeys(q for p in built.values() for q in p.pillars))
    return ScenarioComparison(list(built), allocations, pillars)


# --- spend tracking -----------------------------------------------------------------------


@dataclass(frozen=True)
class SpendRecord:
    """Money committed (contracted) and disbursed (paid) on a budget line in a period."""

    budget_line_id: str
    period: str
    committed: float
    disbursed: float


@dataclass(frozen=True)
class ExecutionRow:
    budget_line_id: str
    planned: float
    committed: float
    disbursed: float
    execution_rate: float | None
    committed_rate: float | None
    periods: tuple[str, ...]
    flags: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"budget_line_id": self.budget_line_id, "planned": _r(self.planned),
                "committed": _r(self.committed), "disbursed": _r(self.disbursed),
                "execution_rate": (None if self.execution_rate is None
                                   else _r(self.execution_rate)),
                "committed_rate": (None if self.committed_rate is None
                                   else _r(self.committed_rate)),
                "periods": list(self.periods), "flags": list(self.flags)}


def execution(planned: Mapping[str, float], records: Iterable[SpendRecord], *,
              elapsed: float = 1.0,
              underspend_threshold: float = UNDERSPEND_THRESHOLD) -> list[ExecutionRow]:
    """Budget execution per budget line: the records of a line are added up and compared with
    its planned amount.

    ``execution_rate`` = disbursed / planned, ``committed_rate`` = committed / planned
    (``None`` when nothing was planned). ``elapsed`` is the share of the budget period that has
    passed (0-1; 1 = the period has ended). Flags:

    * ``underspend``: disbursed less than ``underspend_threshold`` (half) of what a linear pace
      would have paid by now, i.e. execution_rate < threshold × elapsed (at the end of the
      period: less than 50% of the plan);
    * ``overspend``: disbursed more than planned;
    * ``overcommitted``: committed more than planned;
    * ``unplanned``: money recorded on a line that has no planned amount.

    Rows come in the order of ``planned``, then unplanned lines in the order first seen."""
    c = _Check()
    elapsed_ok = c.number(elapsed, "elapsed", minimum=0, maximum=1)
    threshold = c.number(underspend_threshold, "underspend_threshold", minimum=0, maximum=1)
    for k, v in planned.items():
        c.number(v, f"planned[{k}]", required=True, minimum=0)
    agg: dict[str, list[float]] = {}
    periods: dict[str, list[str]] = {}
    for i, r in enumerate(records):
        ok = True
        for name in ("committed", "disbursed"):
            if c.number(getattr(r, name), f"records[{i}].{name}", required=True,
                        minimum=0) is None:
                ok = False
        if not str(r.budget_line_id).strip():
            c.fail(f"records[{i}].budget_line_id", "missing (required)")
            ok = False
        if ok:
            a = agg.setdefault(r.budget_line_id, [0.0, 0.0])
            a[0] += float(r.committed)
            a[1] += float(r.disbursed)
            ps = periods.setdefault(r.budget_line_id, [])
            if r.period not in ps:
                ps.append(r.period)
    if c.problems:
        raise AllocationError(c.problems)
    el = 1.0 if elapsed_ok is None else elapsed_ok
    th = UNDERSPEND_THRESHOLD if threshold is None else threshold
    out: list[ExecutionRow] = []
    for line in [*planned, *(k for k in agg if k not in planned)]:
        plan = float(planned.get(line, 0.0))
        committed, disbursed = agg.get(line, [0.0, 0.0])
        flags: list[str] = []
        ex = disbursed / plan if plan > 0 else None
        cr = committed / plan if plan > 0 else None
        if plan > 0:
            if ex is not None and ex < th * el:
                flags.append("underspend")
            if disbursed > plan * (1 + 1e-12):
                flags.append("overspend")
            if committed > plan * (1 + 1e-12):
                flags.append("overcommitted")
        elif committed > 0 or disbursed > 0:
            flags.append("unplanned")
            if disbursed > 0:
                flags.append("overspend")
            if committed > 0:
                flags.append("overcommitted")
        out.append(ExecutionRow(line, plan, committed, disbursed, ex, cr,
                                tuple(periods.get(line, [])), tuple(flags)))
    return out


__all__ = [
    "DEFAULT_MIP_GAP", "EXPLAIN_SECONDS", "NATIONAL", "Allocation", "AllocationError",
    "AllocationRow", "Binding", "Conflict",
    "Constraints", "Earmark", "ExecutionRow", "InfeasibleError", "Measure", "MeasureResult",
    "Objective", "PillarShare", "Problem", "RegionFloor", "ScenarioComparison", "Segment",
    "ShadowPrice", "Source", "SpendRecord", "apply_overrides", "compare_scenarios",
    "execution", "explain_infeasibility", "greedy", "load_problem", "money_text",
    "problem_from_dict", "problem_hash", "solve",
]
