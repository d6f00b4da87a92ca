"""The National Action Plan as data: pillars, objectives, measures, budgets, indicators,
evidence and the international cooperation register (core; no Django).

A **plan** covers a country or region over a period (years) and is organised by **pillars**
(the 4P by default: prevention, protection, prosecution, partnership; the 3P or custom pillars
can be given). Under each pillar are **objectives**, and under each objective the **measures**:
what will be done (its type: legislative, enforcement and judiciary, training and
capacity-building, victim protection and support, prevention and awareness, data and research,
international cooperation), by whom (lead and partner organisations), for whom and where
(target groups and regions), when (start, end, milestones), with what money (budget lines per
year and funding source), how progress is measured (indicators from the library of
:mod:`tiplab.policy.indicators` or custom ones, with baseline and yearly targets), under which
risks and assumptions, and its status.

A measure **cites evidence** (:class:`Citation`): a figure from a stored result (a trend, a
hotspot, a route, a profile, an estimate, the detection gap, a vulnerability rank, a legal gap
item) with the data version and the parameters that produced it, so the figure is shown as it
was when cited. :func:`check_evidence` compares every citation with the same figure on newer
data and flags the measures whose evidence changed beyond a threshold.

A plan round-trips through YAML and JSON (:func:`load_plan`, :func:`dump_plan`); a file is
validated whole, every problem reported at once with its line and field, and nothing is
returned unless the whole plan is valid. :func:`diff` compares two versions (measures added,
removed or changed; budget and target changes; the narrative as a text diff).

Usage::

    from tiplab.policy.plan import load_plan, budget_summary, diff
    plan = load_plan("nap-2025.yaml")
    budget_summary(plan)["total"]
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tiplab.errors import ProblemsError
from tiplab.policy.indicators import DIRECTIONS, Indicator, indicator_from_dict, library

PILLARS_4P = (("prevention", "Prevention"), ("protection", "Protection"),
              ("prosecution", "Prosecution"), ("partnership", "Partnership"))
PILLARS_3P = PILLARS_4P[:3]
MEASURE_TYPES = {
    "legislative": "Legislative",
    "enforcement": "Enforcement and judiciary",
    "training": "Training and capacity-building",
    "protection": "Victim protection and support",
    "prevention": "Prevention and awareness",
    "data": "Data and research",
    "cooperation": "International cooperation",
}
FUNDING_SOURCES = {
    "government": "Government budget",
    "international_aid": "International aid",
    "private": "Private partnership",
    "other": "Other",
}
PLAN_STATUSES = {
    "draft": "Draft", "consultation": "In consultation", "adopted": "Adopted",
    "review": "Under review", "revised": "Revised", "superseded": "Superseded",
}
#: allowed lifecycle moves: draft -> consultation -> adopted -> under review -> revised (a new
#: draft of the next version) or superseded
TRANSITIONS = {
    "draft": ("consultation", "adopted"),
    "consultation": ("draft", "adopted"),
    "adopted": ("review", "superseded"),
    "review": ("revised", "adopted", "superseded"),
    "revised": ("superseded",),
    "superseded": (),
}
MEASURE_STATUSES = {
    "not_started": "Not started", "in_progress": "In progress", "completed": "Completed",
    "delayed": "Delayed", "cancelled": "Cancelled",
}
EVIDENCE_KINDS = {
    "trend": "Trend", "hotspot": "Hotspot", "route": "Route", "profile": "Victim profile",
    "estimate": "Estimate of hidden victims", "gap": "Detection gap",
    "vulnerability": "Vulnerability rank", "legal_gap": "Legal gap",
    "theme": "Coded theme (interview notes)", "quotation": "Quotation (interview note)",
    "other": "Other source",
}
AGREEMENT_KINDS = {"bilateral": "Bilateral", "multilateral": "Multilateral"}
AGREEMENT_SCOPES = {
    "extradition": "Extradition", "mla": "Mutual legal assistance",
    "jit": "Joint investigation teams", "data_sharing": "Data sharing",
    "repatriation": "Victim repatriation", "other": "Other",
}
AGREEMENT_STATUSES = {"negotiating": "Under negotiation", "signed": "Signed",
                      "in_force": "In force", "expired": "Expired"}
#: a cited figure that moved by more than this share is flagged "evidence changed"
EVIDENCE_THRESHOLD = 0.10
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$")


class PlanError(ProblemsError):
    """A plan is malformed or an operation on it is not allowed; the message lists every
    problem with its line (YAML) and field."""


# --- the model ---------------------------------------------------------------------------


@dataclass
class Pillar:
    id: str
    title: str


@dataclass
class Milestone:
    date: dt.date
    title: str
    done: bool = False


@dataclass
class BudgetLine:
    year: int
    source: str
    amount: float
    currency: str = ""  # empty: the plan's currency
    note: str = ""

    @property
    def key(self) -> str:
        """A stable id within its measure: year and source (and currency when not the plan's)."""
        return f"{self.year}-{self.source}" + (f"-{self.currency}" if self.currency else "")


@dataclass
class MeasureIndicator:
    #: a library indicator id, or the id of ``custom``
    indicator: str
    baseline: float | None = None
    baseline_year: int | None = None
    targets: dict[int, float] = field(default_factory=dict)
    means_of_verification: str = ""
    custom: Indicator | None = None

    def definition(self) -> Indicator | None:
        if self.custom is not None:
            return self.custom
        lib = library()
        return lib.indicators.get(self.indicator)


@dataclass
class Citation:
    """A figure from a stored result, as it was when cited."""

    kind: str
    label: str
    value: float | None
    data_version: str
    unit: str = ""
    #: the parameters that produced the result (method, grouping, years, ...)
    params: dict[str, Any] = field(default_factory=dict)
    #: which figure of the result: a row key such as {"region": "R07"} or {"year": 2024}
    selector: dict[str, Any] = field(default_factory=dict)
    cited_at: str = ""
    #: where the result lives (a page address, an estimation run id, an instrument item)
    ref: str = ""
    note: str = ""

    @property
    def key(self) -> str:
        blob = json.dumps([self.kind, self.params, self.selector, self.ref], sort_keys=True,
                          default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass
class Measure:
    id: str
    title: str
    type: str
    description: str = ""
    lead: str = ""
    partners: list[str] = field(default_factory=list)
    target_groups: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    start: dt.date | None = None
    end: dt.date | None = None
    milestones: list[Milestone] = field(default_factory=list)
    budget: list[BudgetLine] = field(default_factory=list)
    indicators: list[MeasureIndicator] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    status: str = "not_started"
    evidence: list[Citation] = field(default_factory=list)
    agreements: list[str] = field(default_factory=list)

    def budget_total(self, currency: str | None = None) -> float:
        return sum(b.amount for b in self.budget if currency is None
                   or (b.currency or "") in ("", currency))


@dataclass
class Objective:
    id: str
    pillar: str
    title: str
    description: str = ""
    measures: list[Measure] = field(default_factory=list)


@dataclass
class Agreement:
    id: str
    title: str
    kind: str
    partners: list[str]
    scope: list[str]
    status: str = "signed"
    signed: dt.date | None = None
    #: legal gap items this agreement answers ("instrument:item")
    gap_items: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class Plan:
    id: str
    title: str
    country: str
    start_year: int
    end_year: int
    currency: str = "EUR"
    status: str = "draft"
    version: int = 1
    pillars: list[Pillar] = field(default_factory=lambda: [Pillar(i, t) for i, t in PILLARS_4P])
    narrative: str = ""
    objectives: list[Objective] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)

    @property
    def years(self) -> list[int]:
        return list(range(self.start_year, self.end_year + 1))

    def measures(self) -> Iterable[tuple[Objective, Measure]]:
        for o in self.objectives:
            for m in o.measures:
                yield o, m

    def measure(self, measure_id: str) -> Measure:
        for _o, m in self.measures():
            if m.id == measure_id:
                return m
        raise PlanError([f"no measure {measure_id!r} in plan {self.id!r}"])

    def objective_of(self, measure_id: str) -> Objective:
        for o, m in self.measures():
            if m.id == measure_id:
                return o
        raise PlanError([f"no measure {measure_id!r} in plan {self.id!r}"])

    def pillar_title(self, pillar_id: str) -> str:
        return next((p.title for p in self.pillars if p.id == pillar_id), pillar_id)

    def to_dict(self) -> dict[str, Any]:
        return _plan_to_dict(self)

    def content_hash(self) -> str:
        """sha256 of the canonical JSON: equal plans have equal hashes."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()


# --- serialisation -------------------------------------------------------------------------


def _date(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _num(x: float | None) -> float | int | None:
    if x is None:
        return None
    return int(x) if float(x).is_integer() else float(x)


def _drop_empty(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


def citation_to_dict(c: Citation) -> dict[str, Any]:
    return _drop_empty({"kind": c.kind, "label": c.label, "value": _num(c.value),
                        "unit": c.unit, "data_version": c.data_version, "params": c.params,
                        "selector": c.selector, "cited_at": c.cited_at, "ref": c.ref,
                        "note": c.note}) | {"value": _num(c.value)}


def measure_to_dict(m: Measure) -> dict[str, Any]:
    inds = []
    for mi in m.indicators:
        d: dict[str, Any] = {"indicator": mi.indicator, "baseline": _num(mi.baseline),
                             "baseline_year": mi.baseline_year,
                             "targets": {int(y): _num(v) for y, v in sorted(mi.targets.items())},
                             "means_of_verification": mi.means_of_verification}
        if mi.custom is not None:
            c = mi.custom.to_dict()
            c.pop("custom")
            d["custom"] = _drop_empty(c)
        inds.append(_drop_empty(d))
    return _drop_empty({
        "id": m.id, "title": m.title, "type": m.type, "description": m.description,
        "lead": m.lead, "partners": m.partners, "target_groups": m.target_groups,
        "regions": m.regions, "start": _date(m.start), "end": _date(m.end),
        "milestones": [_drop_empty({"date": _date(x.date), "title": x.title,
                                    "done": x.done or None}) for x in m.milestones],
        "budget": [_drop_empty({"year": b.year, "source": b.source, "amount": _num(b.amount),
                                "currency": b.currency, "note": b.note}) | {
                                    "amount": _num(b.amount)} for b in m.budget],
        "indicators": inds, "risks": m.risks, "assumptions": m.assumptions,
        "status": m.status, "evidence": [citation_to_dict(c) for c in m.evidence],
        "agreements": m.agreements,
    })


def _plan_to_dict(p: Plan) -> dict[str, Any]:
    return _drop_empty({
        "id": p.id, "title": p.title, "country": p.country,
        "period": [p.start_year, p.end_year], "currency": p.currency, "status": p.status,
        "version": p.version,
        "pillars": [{"id": x.id, "title": x.title} for x in p.pillars],
        "narrative": p.narrative,
        "objectives": [_drop_empty({"id": o.id, "pillar": o.pillar, "title": o.title,
                                    "description": o.description,
                                    "measures": [measure_to_dict(m) for m in o.measures]})
                       for o in p.objectives],
        "agreements": [_drop_empty({"id": a.id, "title": a.title, "kind": a.kind,
                                    "partners": a.partners, "scope": a.scope,
                                    "status": a.status, "signed": _date(a.signed),
                                    "gap_items": a.gap_items, "note": a.note})
                       for a in p.agreements],
    })


def dump_plan(plan: Plan, fmt: str = "yaml") -> str:
    """The plan as YAML or JSON text; :func:`load_plan` reads it back to an equal plan."""
    d = plan.to_dict()
    if fmt == "json":
        return json.dumps(d, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(d, sort_keys=False, allow_unicode=True, width=100)
    raise PlanError([f"unknown format {fmt!r}: yaml or json"])


# --- reading and validation ------------------------------------------------------------------

_PLAN_FIELDS = {"id", "title", "country", "period", "currency", "status", "version", "pillars",
                "narrative", "objectives", "agreements"}
_OBJECTIVE_FIELDS = {"id", "pillar", "title", "description", "measures"}
_MEASURE_FIELDS = {"id", "title", "type", "description", "lead", "partners", "target_groups",
                   "regions", "start", "end", "milestones", "budget", "indicators", "risks",
                   "assumptions", "status", "evidence", "agreements"}
_BUDGET_FIELDS = {"year", "source", "amount", "currency", "note"}
_INDICATOR_FIELDS = {"indicator", "baseline", "baseline_year", "targets",
                     "means_of_verification", "custom"}
_CUSTOM_FIELDS = {"id", "name", "pillar", "definition", "unit", "direction", "disaggregation",
                  "data_source", "frequency", "basis", "source"}
_CITATION_FIELDS = {"kind", "label", "value", "unit", "data_version", "params", "selector",
                    "cited_at", "ref", "note"}
_MILESTONE_FIELDS = {"date", "title", "done"}
_AGREEMENT_FIELDS = {"id", "title", "kind", "partners", "scope", "status", "signed",
                     "gap_items", "note"}


def _node_at(root: yaml.Node | None, path: Sequence[str | int]) -> yaml.Node | None:
    node = root
    for key in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == str(key)),
                        None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            node = node.value[key] if key < len(node.value) else None
        else:
            return node
    return node


def _path_text(path: Sequence[str | int]) -> str:
    out = ""
    for k in path:
        out += f"[{k}]" if isinstance(k, int) else (f".{k}" if out else str(k))
    return out


class _Reader:
    """Collects every problem of a plan document with its line (YAML) and field."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root
        self.problems: list[str] = []

    def fail(self, path: Sequence[str | int], message: str) -> None:
        node = _node_at(self.root, path)
        # a missing key has no node: point at the nearest parent that exists
        probe = list(path)
        while node is None and probe:
            probe.pop()
            node = _node_at(self.root, probe)
        line = f"line {node.start_mark.line + 1}, " if node is not None and path else ""
        self.problems.append(f"{line}field '{_path_text(path) or '(plan)'}': {message}")

    def mapping(self, v: Any, path: list[str | int], allowed: set[str]) -> dict[str, Any]:
        if not isinstance(v, dict):
            self.fail(path, "must be a mapping of fields")
            return {}
        for k in v:
            if k not in allowed:
                self.fail([*path, str(k)], f"unknown field {k!r} (known: "
                          + ", ".join(sorted(allowed)) + ")")
        return v

    def text(self, d: dict[str, Any], key: str, path: list[str | int], *,
             required: bool = False) -> str:
        v = d.get(key)
        if v is None or (isinstance(v, str) and not v.strip()):
            if required:
                self.fail([*path, key], "missing (required)")
            return ""
        if not isinstance(v, str | int | float) or isinstance(v, bool):
            self.fail([*path, key], "must be text")
            return ""
        return str(v).strip()

    def ident(self, d: dict[str, Any], key: str, path: list[str | int]) -> str:
        v = self.text(d, key, path, required=True)
        if v and not _ID.match(v):
            self.fail([*path, key], f"{v!r} is not a valid id (letters, digits, '.', '_', "
                      "'-'; at most 80)")
        return v

    def texts(self, d: dict[str, Any], key: str, path: list[str | int]) -> list[str]:
        v = d.get(key)
        if v is None:
            return []
        if isinstance(v, str):
            return [v.strip()] if v.strip() else []
        if not isinstance(v, list) or not all(isinstance(x, str | int | float) for x in v):
            self.fail([*path, key], "must be a list of texts")
            return []
        return [str(x).strip() for x in v if str(x).strip()]

    def number(self, v: Any, path: list[str | int], *, required: bool = False,
               minimum: float | None = None) -> float | None:
        if v is None or v == "":
            if required:
                self.fail(path, "missing (required)")
            return None
        if isinstance(v, bool) or not isinstance(v, int | float):
            try:
                v = float(str(v).replace(",", ""))
            except ValueError:
                self.fail(path, f"{v!r} is not a number")
                return None
        x = float(v)
        if not math.isfinite(x):
            self.fail(path, "must be a finite number")
            return None
        if minimum is not None and x < minimum:
            self.fail(path, f"{_num(x)} is below {_num(minimum)}")
            return None
        return x

    def year(self, v: Any, path: list[str | int], *, required: bool = True) -> int | None:
        x = self.number(v, path, required=required)
        if x is None:
            return None
        if not x.is_integer() or not 1900 <= x <= 2200:
            self.fail(path, f"{_num(x)} is not a year")
            return None
        return int(x)

    def date(self, v: Any, path: list[str | int]) -> dt.date | None:
        if v is None or v == "":
            return None
        if isinstance(v, dt.datetime):
            return v.date()
        if isinstance(v, dt.date):
            return v
        try:
            return dt.date.fromisoformat(str(v).strip())
        except ValueError:
            self.fail(path, f"{v!r} is not a date (YYYY-MM-DD)")
            return None

    def choice(self, d: dict[str, Any], key: str, path: list[str | int],
               allowed: dict[str, str] | Sequence[str], default: str) -> str:
        v = self.text(d, key, path) or default
        if v not in allowed:
            self.fail([*path, key], f"{v!r} is not one of: " + ", ".join(allowed))
            return default
        return v

    def in_period(self, path: list[str | int], year: int | None, label: object, start: int,
                  end: int) -> None:
        if year is not None and start and not start <= year <= end:
            self.fail(path, f"{label} is outside the plan period {start}-{end}")

    def items(self, d: dict[str, Any], key: str, path: list[str | int]) -> list[Any]:
        v = d.get(key)
        if v is None:
            return []
        if not isinstance(v, list):
            self.fail([*path, key], "must be a list")
            return []
        return v


def valid_currency(code: str) -> bool:
    import pycountry

    return bool(code) and pycountry.currencies.get(alpha_3=code.upper()) is not None


def plan_from_dict(data: Any, *, root: yaml.Node | None = None,
                   name: str | None = None) -> Plan:
    """Validate a plan document (as read from YAML or JSON) and build the :class:`Plan`.

    Every problem is collected; :class:`PlanError` lists them all (with lines when ``root``,
    the YAML node tree, is given). Nothing is returned unless the whole plan is valid."""
    r = _Reader(root)
    d = r.mapping(data, [], _PLAN_FIELDS)
    if not d:
        raise PlanError(r.problems or ["a plan is a mapping with id, title, country, period "
                                       "and objectives"], path=name)
    pid = r.ident(d, "id", [])
    title = r.text(d, "title", [], required=True)
    country = r.text(d, "country", [], required=True)
    start = end = 0
    period = d.get("period")
    if not (isinstance(period, list) and len(period) == 2):
        r.fail(["period"], "must be [first year, last year], e.g. [2025, 2028]")
    else:
        a, b = r.year(period[0], ["period", 0]), r.year(period[1], ["period", 1])
        if a is not None and b is not None:
            if b < a:
                r.fail(["period"], f"ends ({b}) before it starts ({a})")
            elif b - a > 20:
                r.fail(["period"], f"{b - a + 1} years: a plan covers at most 21")
            else:
                start, end = a, b
    currency = (r.text(d, "currency", []) or "EUR").upper()
    if not valid_currency(currency):
        r.fail(["currency"], f"{currency!r} is not an ISO 4217 currency code (e.g. EUR, USD)")
    status = r.choice(d, "status", [], PLAN_STATUSES, "draft")
    version = r.number(d.get("version", 1), ["version"], minimum=1) or 1
    pillars: list[Pillar] = []
    for i, p in enumerate(r.items(d, "pillars", [])):
        pd = r.mapping(p, ["pillars", i], {"id", "title"})
        if pd:
            pillars.append(Pillar(r.ident(pd, "id", ["pillars", i]),
                                  r.text(pd, "title", ["pillars", i]) or str(pd.get("id"))))
    if not pillars:
        pillars = [Pillar(i, t) for i, t in PILLARS_4P]
    pillar_ids = [p.id for p in pillars]
    for dup in sorted({x for x in pillar_ids if pillar_ids.count(x) > 1}):
        r.fail(["pillars"], f"pillar {dup!r} appears twice")

    agreements: list[Agreement] = []
    for i, a_raw in enumerate(r.items(d, "agreements", [])):
        path: list[str | int] = ["agreements", i]
        ad = r.mapping(a_raw, path, _AGREEMENT_FIELDS)
        if not ad:
            continue
        scope = r.texts(ad, "scope", path)
        for s in scope:
            if s not in AGREEMENT_SCOPES:
                r.fail([*path, "scope"], f"{s!r} is not one of: " + ", ".join(AGREEMENT_SCOPES))
        agreements.append(Agreement(
            id=r.ident(ad, "id", path), title=r.text(ad, "title", path, required=True),
            kind=r.choice(ad, "kind", path, AGREEMENT_KINDS, "bilateral"),
            partners=r.texts(ad, "partners", path), scope=scope,
            status=r.choice(ad, "status", path, AGREEMENT_STATUSES, "signed"),
            signed=r.date(ad.get("signed"), [*path, "signed"]),
            gap_items=r.texts(ad, "gap_items", path), note=r.text(ad, "note", path)))
    for ag in agreements:
        if ag.kind == "bilateral" and len(ag.partners) > 1:
            r.fail(["agreements"], f"agreement {ag.id!r} is bilateral but names "
                   f"{len(ag.partners)} partners")
    agreement_ids = {ag.id for ag in agreements}

    objectives: list[Objective] = []
    for i, o_raw in enumerate(r.items(d, "objectives", [])):
        path = ["objectives", i]
        od = r.mapping(o_raw, path, _OBJECTIVE_FIELDS)
        if not od:
            continue
        pillar = r.text(od, "pillar", path, required=True)
        if pillar and pillar not in pillar_ids:
            r.fail([*path, "pillar"], f"{pillar!r} is not a pillar of this plan ("
                   + ", ".join(pillar_ids) + ")")
        measures = [m for j, m_raw in enumerate(r.items(od, "measures", path))
                    if (m := _measure(r, m_raw, [*path, "measures", j], start, end, currency,
                                      agreement_ids)) is not None]
        objectives.append(Objective(id=r.ident(od, "id", path),
                                    pillar=pillar, title=r.text(od, "title", path,
                                                                required=True),
                                    description=r.text(od, "description", path),
                                    measures=measures))
    for label, ids in (("objective", [o.id for o in objectives]),
                       ("measure", [m.id for o in objectives for m in o.measures]),
                       ("agreement", [a.id for a in agreements])):
        for dup in sorted({x for x in ids if x and ids.count(x) > 1}):
            r.fail([], f"{label} id {dup!r} is used more than once")
    if r.problems:
        raise PlanError(r.problems, path=name)
    return Plan(id=pid, title=title, country=country, start_year=start, end_year=end,
                currency=currency, status=status, version=int(version), pillars=pillars,
                narrative=str(d.get("narrative") or "").strip(), objectives=objectives,
                agreements=agreements)


def _measure(r: _Reader, raw: Any, path: list[str | int], start: int, end: int,
             currency: str, agreement_ids: set[str]) -> Measure | None:
    md = r.mapping(raw, path, _MEASURE_FIELDS)
    if not md:
        return None
    mid = r.ident(md, "id", path)
    first = r.date(md.get("start"), [*path, "start"])
    last = r.date(md.get("end"), [*path, "end"])
    if first and last and last < first:
        r.fail([*path, "end"], f"{last} is before the start {first}")
    for label, day in (("start", first), ("end", last)):
        r.in_period([*path, label], day.year if day else None, day, start, end)
    milestones = []
    for k, x in enumerate(r.items(md, "milestones", path)):
        xp: list[str | int] = [*path, "milestones", k]
        xd = r.mapping(x, xp, _MILESTONE_FIELDS)
        if not xd:
            continue
        day = r.date(xd.get("date"), [*xp, "date"])
        if day is None and xd.get("date") in (None, ""):
            r.fail([*xp, "date"], "missing (required)")
        r.in_period([*xp, "date"], day.year if day else None, day, start, end)
        milestones.append(Milestone(day or dt.date(start or 2000, 1, 1),
                                    r.text(xd, "title", xp, required=True),
                                    bool(xd.get("done", False))))
    budget = []
    for k, b in enumerate(r.items(md, "budget", path)):
        bp: list[str | int] = [*path, "budget", k]
        bd = r.mapping(b, bp, _BUDGET_FIELDS)
        if not bd:
            continue
        year = r.year(bd.get("year"), [*bp, "year"])
        r.in_period([*bp, "year"], year, year, start, end)
        cur = r.text(bd, "currency", bp).upper()
        if cur and not valid_currency(cur):
            r.fail([*bp, "currency"], f"{cur!r} is not an ISO 4217 currency code")
        amount = r.number(bd.get("amount"), [*bp, "amount"], required=True, minimum=0)
        budget.append(BudgetLine(year or 0, r.choice(bd, "source", bp, FUNDING_SOURCES,
                                                     "government"),
                                 amount or 0.0, "" if cur == currency else cur,
                                 r.text(bd, "note", bp)))
    keys = [b.key for b in budget]
    for dup in sorted({x for x in keys if keys.count(x) > 1}):
        r.fail([*path, "budget"], f"two budget lines for {dup} (one line per year and source)")
    indicators = [mi for k, x in enumerate(r.items(md, "indicators", path))
                  if (mi := _indicator(r, x, [*path, "indicators", k], start, end)) is not None]
    evidence = [c for k, x in enumerate(r.items(md, "evidence", path))
                if (c := _citation(r, x, [*path, "evidence", k])) is not None]
    agreements = r.texts(md, "agreements", path)
    for a in agreements:
        if a not in agreement_ids:
            r.fail([*path, "agreements"], f"no agreement {a!r} in the register")
    if not md.get("type"):
        r.fail([*path, "type"], "missing (required; one of: " + ", ".join(MEASURE_TYPES) + ")")
    return Measure(
        id=mid, title=r.text(md, "title", path, required=True),
        type=r.choice(md, "type", path, MEASURE_TYPES, "prevention"),
        description=r.text(md, "description", path), lead=r.text(md, "lead", path),
        partners=r.texts(md, "partners", path), target_groups=r.texts(md, "target_groups", path),
        regions=r.texts(md, "regions", path), start=first, end=last, milestones=milestones,
        budget=budget, indicators=indicators, risks=r.texts(md, "risks", path),
        assumptions=r.texts(md, "assumptions", path),
        status=r.choice(md, "status", path, MEASURE_STATUSES, "not_started"),
        evidence=evidence, agreements=agreements)


def _indicator(r: _Reader, raw: Any, path: list[str | int], start: int,
               end: int) -> MeasureIndicator | None:
    d = r.mapping(raw, path, _INDICATOR_FIELDS)
    if not d:
        return None
    custom = None
    if d.get("custom") is not None:
        cd = r.mapping(d["custom"], [*path, "custom"], _CUSTOM_FIELDS)
        if cd:
            cid = str(cd.get("id") or d.get("indicator") or "").strip()
            if not cid:
                r.fail([*path, "custom", "id"], "missing (required)")
            if str(cd.get("direction", "contextual")) not in DIRECTIONS:
                r.fail([*path, "custom", "direction"], f"{cd.get('direction')!r} is not one "
                       "of: " + ", ".join(DIRECTIONS))
            if not str(cd.get("name") or "").strip():
                r.fail([*path, "custom", "name"], "missing (required)")
            custom = indicator_from_dict({**cd, "id": cid or "custom"}, custom=True)
    ind = r.text(d, "indicator", path) or (custom.id if custom else "")
    if not ind:
        r.fail([*path, "indicator"], "missing (a library id such as PROT-01, or custom)")
    elif custom is None and ind not in library():
        r.fail([*path, "indicator"], f"{ind!r} is not in the indicator library (57 ids such "
               "as PREV-01, PROT-01); define it under 'custom'")
    baseline = r.number(d.get("baseline"), [*path, "baseline"])
    byear = r.year(d.get("baseline_year"), [*path, "baseline_year"], required=False)
    targets: dict[int, float] = {}
    raw_t = d.get("targets") or {}
    if not isinstance(raw_t, dict):
        r.fail([*path, "targets"], "must map years to values, e.g. {2026: 40, 2028: 60}")
        raw_t = {}
    for y, v in raw_t.items():
        yy = r.year(y, [*path, "targets", str(y)])
        vv = r.number(v, [*path, "targets", str(y)], required=True)
        if yy is None or vv is None:
            continue
        r.in_period([*path, "targets", str(y)], yy, yy, start, end)
        targets[yy] = vv
    mi = MeasureIndicator(ind, baseline, byear, dict(sorted(targets.items())),
                          r.text(d, "means_of_verification", path), custom)
    for problem in direction_problems(mi):
        r.fail([*path, "targets"], problem)
    return mi


def direction_problems(mi: MeasureIndicator) -> list[str]:
    """Targets that move the wrong way for the indicator's direction (against the baseline
    and the previous target)."""
    ind = mi.definition()
    if ind is None or ind.direction == "contextual" or not mi.targets:
        return []
    better_up = ind.direction == "higher_is_better"
    words = "higher" if better_up else "lower"
    out, previous, what = [], mi.baseline, "the baseline"
    for year, value in mi.targets.items():
        if previous is not None and (value < previous if better_up else value > previous):
            out.append(f"the {year} target ({_num(value)}) is {'below' if better_up else 'above'}"
                       f" {what} ({_num(previous)}), but {ind.id} ({ind.name}) is "
                       f"{words}-is-better")
        previous, what = value, f"the {year} target"
    return out


def _citation(r: _Reader, raw: Any, path: list[str | int]) -> Citation | None:
    d = r.mapping(raw, path, _CITATION_FIELDS)
    if not d:
        return None
    for key in ("params", "selector"):
        if d.get(key) is not None and not isinstance(d[key], dict):
            r.fail([*path, key], "must be a mapping")
    kind = r.choice(d, "kind", path, EVIDENCE_KINDS, "other")
    version = r.text(d, "data_version", path)
    if not version and kind != "other":
        r.fail([*path, "data_version"], "missing (required: the data version the figure "
               "was computed on)")
    return Citation(kind=kind, label=r.text(d, "label", path, required=True),
                    value=r.number(d.get("value"), [*path, "value"]), data_version=version,
                    unit=r.text(d, "unit", path), params=dict(d.get("params") or {}),
                    selector=dict(d.get("selector") or {}),
                    cited_at=r.text(d, "cited_at", path), ref=r.text(d, "ref", path),
                    note=r.text(d, "note", path))


def load_plan(source: str | Path, *, name: str | None = None) -> Plan:
    """Read a plan from a YAML or JSON file (a path) or text; see :func:`plan_from_dict`."""
    from tiplab.policy.files import read_yaml

    root, data, name, _path = read_yaml(  # JSON is YAML
        source, name, lambda problems, where: PlanError(problems, path=where),
        (".yaml", ".yml", ".json"))
    return plan_from_dict(data, root=root, name=name)


def new_plan(plan_id: str, title: str, country: str, start_year: int, end_year: int, *,
             currency: str = "EUR", pillars: str = "4p") -> Plan:
    """An empty plan with the 4P (``pillars="4p"``), the 3P (``"3p"``) or a comma-separated
    list of custom pillar titles."""
    if pillars == "4p":
        ps = [Pillar(i, t) for i, t in PILLARS_4P]
    elif pillars == "3p":
        ps = [Pillar(i, t) for i, t in PILLARS_3P]
    else:
        titles = [t.strip() for t in pillars.split(",") if t.strip()]
        ps = [Pillar(re.sub(r"[^a-z0-9]+", "-", t.lower()).strip("-") or f"p{i}", t)
              for i, t in enumerate(titles, 1)]
    plan = Plan(plan_id, title, country, start_year, end_year, currency.upper(), pillars=ps)
    return plan_from_dict(plan.to_dict())  # validated like any file


def demo_plan() -> Plan:
    """The demo plan for the synthetic country (2025-2028) shipped as package data. Its
    citations carry the placeholder data version ``demo``; ``setup_demo`` re-cites them on
    the demo's own data."""
    text = resources.files("tiplab.policy").joinpath("plans", "demo-2025-2028.yaml") \
        .read_text("utf-8")
    return load_plan(text, name="plans/demo-2025-2028.yaml")


# --- lifecycle ---------------------------------------------------------------------------


def check_transition(current: str, target: str) -> None:
    if target not in PLAN_STATUSES:
        raise PlanError([f"{target!r} is not a plan status: " + ", ".join(PLAN_STATUSES)])
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(PLAN_STATUSES[t] for t in TRANSITIONS[current]) or "none"
        raise PlanError([f"a plan that is {PLAN_STATUSES[current].lower()} cannot become "
                         f"{PLAN_STATUSES[target].lower()} (allowed: {allowed})"])


def editable(status: str) -> bool:
    """Adopted (and later) versions are immutable: a change starts a new version."""
    return status in ("draft", "consultation")


def next_version(plan: Plan) -> Plan:
    """The draft of the next version, copied from an adopted (or reviewed) one."""
    if plan.status not in ("adopted", "review"):
        raise PlanError([f"a new version starts from an adopted plan; this one is "
                         f"{PLAN_STATUSES[plan.status].lower()}"])
    return replace(load_plan(dump_plan(plan)), status="draft", version=plan.version + 1)


# --- summaries -----------------------------------------------------------------------------


def budget_summary(plan: Plan) -> dict[str, Any]:
    """Budget by pillar, year and source in the plan's currency; lines in other currencies
    are listed apart (no conversion is made)."""
    by_pillar: dict[str, float] = defaultdict(float)
    by_year: dict[int, float] = defaultdict(float)
    by_source: dict[str, float] = defaultdict(float)
    cells: dict[tuple[str, int, str], float] = defaultdict(float)
    other: list[dict[str, Any]] = []
    for o, m in plan.measures():
        for b in m.budget:
            if b.currency and b.currency != plan.currency:
                other.append({"measure": m.id, "year": b.year, "source": b.source,
                              "amount": b.amount, "currency": b.currency})
                continue
            by_pillar[o.pillar] += b.amount
            by_year[b.year] += b.amount
            by_source[b.source] += b.amount
            cells[(o.pillar, b.year, b.source)] += b.amount
    total = sum(by_year.values())
    return {
        "currency": plan.currency, "total": total,
        "by_pillar": [{"pillar": p.id, "title": p.title, "amount": by_pillar.get(p.id, 0.0),
                       "share": by_pillar.get(p.id, 0.0) / total if total else 0.0}
                      for p in plan.pillars],
        "by_year": [{"year": y, "amount": by_year.get(y, 0.0)} for y in plan.years],
        "by_source": [{"source": s, "title": FUNDING_SOURCES[s], "amount": by_source[s]}
                      for s in FUNDING_SOURCES if s in by_source],
        "cells": [{"pillar": p, "year": y, "source": s, "amount": v}
                  for (p, y, s), v in sorted(cells.items())],
        "other_currencies": other,
    }


def logframe(plan: Plan) -> list[dict[str, Any]]:
    """One row per measure and indicator: pillar -> objective -> measure -> indicator ->
    baseline -> targets -> responsible -> budget (a measure without indicators has one row)."""
    rows = []
    for o, m in plan.measures():
        base = {"pillar": plan.pillar_title(o.pillar), "objective": f"{o.id} {o.title}",
                "measure": f"{m.id} {m.title}", "type": MEASURE_TYPES[m.type],
                "responsible": m.lead, "partners": ", ".join(m.partners),
                "budget": m.budget_total(plan.currency), "status": MEASURE_STATUSES[m.status]}
        if not m.indicators:
            rows.append(base | {"indicator": "", "baseline": None, "targets": {}})
        for mi in m.indicators:
            ind = mi.definition()
            rows.append(base | {
                "indicator": f"{mi.indicator} {ind.name if ind else ''}".strip(),
                "unit": ind.unit if ind else "",
                "baseline": mi.baseline, "baseline_year": mi.baseline_year,
                "targets": dict(mi.targets)})
    return rows


# --- evidence ------------------------------------------------------------------------------


@dataclass
class EvidenceFlag:
    measure: str
    citation: Citation
    old: float | None
    new: float | None
    data_version: str
    #: "changed" (beyond the threshold), "unchanged", "gone" (the figure no longer exists),
    #: "unavailable" (it cannot be recomputed here)
    state: str
    change: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"measure": self.measure, "citation": citation_to_dict(self.citation),
                "old": _num(self.old), "new": _num(self.new), "data_version": self.data_version,
                "state": self.state, "change": self.change}


#: what :func:`check_evidence` asks for the current value of a citation: the figure now, or
#: ``None`` when it no longer exists; raise ``LookupError`` when it cannot be computed here
CurrentValue = Callable[[Citation], float | None]


def relative_change(old: float | None, new: float | None) -> float | None:
    if old is None or new is None:
        return None
    if old == 0:
        return 0.0 if new == 0 else math.inf
    return (new - old) / abs(old)


def check_evidence(plan: Plan, current: CurrentValue, data_version: str, *,
                   threshold: float = EVIDENCE_THRESHOLD) -> list[EvidenceFlag]:
    """Compare every cited figure with the same figure on ``data_version``: a citation made
    on another version whose value moved by more than ``threshold`` (relative) is
    ``changed``."""
    flags = []
    for _o, m in plan.measures():
        for c in m.evidence:
            if c.kind == "quotation":  # no figure: only whether it may still be shown
                try:
                    now = current(c)
                except LookupError:
                    flags.append(EvidenceFlag(m.id, c, None, None, data_version,
                                              "unavailable"))
                    continue
                flags.append(EvidenceFlag(m.id, c, None, now, data_version,
                                          "gone" if now is None else "unchanged"))
                continue
            if c.kind == "other" or c.value is None:
                continue
            if c.data_version == data_version:
                flags.append(EvidenceFlag(m.id, c, c.value, c.value, data_version,
                                          "unchanged", 0.0))
                continue
            try:
                new = current(c)
            except LookupError:
                flags.append(EvidenceFlag(m.id, c, c.value, None, data_version,
                                          "unavailable"))
                continue
            if new is None:
                flags.append(EvidenceFlag(m.id, c, c.value, None, data_version, "gone"))
                continue
            ch = relative_change(c.value, new)
            state = "changed" if ch is not None and abs(ch) > threshold else "unchanged"
            flags.append(EvidenceFlag(m.id, c, c.value, new, data_version, state, ch))
    return flags


def measure_from_gap(gap: dict[str, Any], *, measure_id: str, data_version: str = "",
                     lead: str = "", cited_at: str = "") -> Measure:
    """A legislative measure that closes one legal gap (the fields of a
    :class:`tiplab.policy.legal.Gap`: instrument, country, item, label, answer, article, why,
    action), citing the gap as its evidence (value 0 for "no", 0.5 for "partly")."""
    item, instrument = str(gap.get("item", "")), str(gap.get("instrument", ""))
    label = str(gap.get("label") or item)
    answer = str(gap.get("answer", ""))
    action = str(gap.get("action") or "").strip()
    title = f"Amend the law: {label}"
    description = " ".join(x for x in (
        action, f"({gap.get('article')})" if gap.get("article") else "") if x)
    return Measure(
        id=measure_id, title=title[:200], type="legislative", description=description,
        lead=lead, status="not_started",
        evidence=[Citation(kind="legal_gap",
                           label=f"{instrument} {item}: "
                                 f"{'partly' if answer == 'partial' else answer}"
                                 f" ({gap.get('country', '')})",
                           value={"no": 0.0, "partial": 0.5}.get(answer),
                           data_version=data_version or "assessment",
                           unit="compliance (1 = yes, 0.5 = partly, 0 = no)",
                           selector={"instrument": instrument, "item": item,
                                     "country": str(gap.get("country", ""))},
                           cited_at=cited_at, ref=f"{instrument}:{item}",
                           note=str(gap.get("why", "")))])


# --- diff ----------------------------------------------------------------------------------


@dataclass
class PlanDiff:
    old: str
    new: str
    header: list[dict[str, Any]]
    objectives_added: list[str]
    objectives_removed: list[str]
    measures_added: list[dict[str, Any]]
    measures_removed: list[dict[str, Any]]
    measures_changed: list[dict[str, Any]]
    budget: list[dict[str, Any]]
    targets: list[dict[str, Any]]
    narrative: list[str]

    @property
    def empty(self) -> bool:
        return not any((self.header, self.objectives_added, self.objectives_removed,
                        self.measures_added, self.measures_removed, self.measures_changed,
                        self.narrative))

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__} | {"empty": self.empty}


def _label(p: Plan) -> str:
    return f"{p.id} v{p.version} ({PLAN_STATUSES[p.status].lower()})"


def diff(a: Plan, b: Plan) -> PlanDiff:
    """What changed from ``a`` to ``b``: header fields, objectives and measures added or
    removed, every changed field of a measure (old and new), budget changes per measure, year
    and source, indicator target changes, and a line diff of the narrative."""
    header = [{"field": k, "old": va, "new": vb} for k in
              ("title", "country", "period", "currency", "status", "version", "pillars")
              if (va := a.to_dict().get(k)) != (vb := b.to_dict().get(k))]
    oa, ob = {o.id: o for o in a.objectives}, {o.id: o for o in b.objectives}
    for oid in sorted(oa.keys() & ob.keys()):
        for k in ("pillar", "title", "description"):
            if getattr(oa[oid], k) != getattr(ob[oid], k):
                header.append({"field": f"objective {oid} {k}", "old": getattr(oa[oid], k),
                               "new": getattr(ob[oid], k)})
    ma = {m.id: (o, m) for o, m in a.measures()}
    mb = {m.id: (o, m) for o, m in b.measures()}
    changed, budget, targets = [], [], []
    for mid in sorted(ma.keys() & mb.keys()):
        (o1, m1), (o2, m2) = ma[mid], mb[mid]
        d1, d2 = measure_to_dict(m1), measure_to_dict(m2)
        d1["objective"], d2["objective"] = o1.id, o2.id
        fields = []
        for k in sorted(d1.keys() | d2.keys()):
            if k in ("budget", "indicators", "id"):
                continue
            if d1.get(k) != d2.get(k):
                fields.append({"field": k, "old": d1.get(k), "new": d2.get(k)})
        lines1 = {(x.year, x.source, x.currency): x.amount for x in m1.budget}
        lines2 = {(x.year, x.source, x.currency): x.amount for x in m2.budget}
        for key in sorted(lines1.keys() | lines2.keys()):
            old, new = lines1.get(key), lines2.get(key)
            if old != new:
                budget.append({"measure": mid, "year": key[0], "source": key[1],
                               "currency": key[2] or b.currency, "old": old, "new": new,
                               "change": (new or 0.0) - (old or 0.0)})
        i1 = {x.indicator: x for x in m1.indicators}
        i2 = {x.indicator: x for x in m2.indicators}
        for ind in sorted(i1.keys() | i2.keys()):
            x1, x2 = i1.get(ind), i2.get(ind)
            if x1 is None or x2 is None:
                fields.append({"field": f"indicator {ind}",
                               "old": "present" if x1 else None,
                               "new": "present" if x2 else None})
                continue
            if x1.baseline != x2.baseline:
                targets.append({"measure": mid, "indicator": ind, "year": "baseline",
                                "old": x1.baseline, "new": x2.baseline})
            for y in sorted(x1.targets.keys() | x2.targets.keys()):
                if x1.targets.get(y) != x2.targets.get(y):
                    targets.append({"measure": mid, "indicator": ind, "year": y,
                                    "old": x1.targets.get(y), "new": x2.targets.get(y)})
        if any(t["measure"] == mid for t in targets):
            fields.append({"field": "targets", "old": None, "new": None})
        if any(x["measure"] == mid for x in budget):
            fields.append({"field": "budget", "old": m1.budget_total(), "new":
                           m2.budget_total()})
        if fields:
            changed.append({"measure": mid, "title": m2.title, "fields": fields})

    def brief(o: Objective, m: Measure) -> dict[str, Any]:
        return {"measure": m.id, "title": m.title, "objective": o.id,
                "budget": m.budget_total()}

    added = [brief(*mb[k]) for k in sorted(mb.keys() - ma.keys())]
    removed = [brief(*ma[k]) for k in sorted(ma.keys() - mb.keys())]
    for x in added:
        for line in mb[x["measure"]][1].budget:
            budget.append({"measure": x["measure"], "year": line.year, "source": line.source,
                           "currency": line.currency or b.currency, "old": None,
                           "new": line.amount, "change": line.amount})
    for x in removed:
        for line in ma[x["measure"]][1].budget:
            budget.append({"measure": x["measure"], "year": line.year, "source": line.source,
                           "currency": line.currency or a.currency, "old": line.amount,
                           "new": None, "change": -line.amount})
    narrative = list(difflib.unified_diff(a.narrative.splitlines(), b.narrative.splitlines(),
                                          _label(a), _label(b), lineterm="", n=1))
    return PlanDiff(_label(a), _label(b), header, sorted(ob.keys() - oa.keys()),
                    sorted(oa.keys() - ob.keys()), added, removed, changed, budget, targets,
                    narrative)


# --- the command line's store ----------------------------------------------------------------


@dataclass(frozen=True)
class Revision:
    plan: str
    number: int
    version: int
    status: str
    path: Path
    saved_at: str
    author: str
    comment: str

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan, "revision": self.number, "version": self.version,
                "status": self.status, "file": str(self.path), "saved_at": self.saved_at,
                "author": self.author, "comment": self.comment}


class PlanLibrary:
    """Plans kept under ``<data dir>/plans/<plan id>/``: every save is a new revision file
    (``r0001.yaml``, ...) beside a ``log.json`` of who saved what and when. Files are written
    whole (temporary file, then rename); a revision is never rewritten. An adopted version is
    immutable: saving over it is refused (start the next version with :func:`next_version`).
    The web app keeps its plans in the database and reads and writes the same YAML."""

    def __init__(self, data_dir: str | Path) -> None:
        self.root = Path(data_dir) / "plans"

    def _write(self, path: Path, text: str) -> None:
        from tiplab.policy.files import write_text_whole

        write_text_whole(path, text)

    def ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "log.json").exists())

    def revisions(self, plan_id: str) -> list[Revision]:
        log = self.root / plan_id / "log.json"
        if not log.exists():
            return []
        rows = json.loads(log.read_text(encoding="utf-8"))
        return [Revision(plan_id, r["revision"], r["version"], r["status"],
                         self.root / plan_id / r["file"], r["saved_at"], r.get("author", ""),
                         r.get("comment", "")) for r in rows]

    def load(self, plan_id: str, revision: int | None = None) -> Plan:
        revs = self.revisions(plan_id)
        if not revs:
            raise PlanError([f"no plan {plan_id!r} in {self.root} (known: "
                             + (", ".join(self.ids()) or "none") + ")"])
        if revision is None:
            return load_plan(revs[-1].path)
        found = next((r for r in revs if r.number == revision), None)
        if found is None:
            raise PlanError([f"plan {plan_id!r} has no revision {revision} (1-{len(revs)})"])
        return load_plan(found.path)

    def save(self, plan: Plan, *, author: str = "", comment: str = "") -> Revision:
        revs = self.revisions(plan.id)
        if revs:
            last = revs[-1]
            current = load_plan(last.path)
            if not editable(current.status) and plan.version == current.version:
                if plan.content_hash() == current.content_hash():
                    return last
                changed_status = replace(current, status=plan.status).content_hash() \
                    == plan.content_hash()
                if not changed_status:
                    raise PlanError([
                        f"version {current.version} of {plan.id} is "
                        f"{PLAN_STATUSES[current.status].lower()} and cannot be edited; start "
                        f"version {current.version + 1} (tiplab plan new-version {plan.id})"])
                check_transition(current.status, plan.status)
            elif plan.status != current.status and plan.version == current.version:
                check_transition(current.status, plan.status)
            elif plan.version < current.version:
                raise PlanError([f"{plan.id} is at version {current.version}; this file is "
                                 f"version {plan.version}"])
        number = (revs[-1].number if revs else 0) + 1
        name = f"r{number:04d}.yaml"
        self._write(self.root / plan.id / name, dump_plan(plan))
        rev = Revision(plan.id, number, plan.version, plan.status, self.root / plan.id / name,
                       dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), author, comment)
        log = [r.to_dict() for r in revs] + [rev.to_dict()]
        for row in log:
            row["file"] = Path(row["file"]).name
        self._write(self.root / plan.id / "log.json", json.dumps(log, indent=1) + "\n")
        return rev
