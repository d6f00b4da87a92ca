"""A plan's allocation scenario: the plan gives the measures (their pillars, titles and
regions), the years and the currency; the scenario file gives what the money buys and the
rules (core; no Django).

A scenario file (YAML or JSON)::

    title: Baseline
    regions: [XT-03, XT-04, XT-05]        # optional: by default the regions the measures name
    sources:                              # optional: by default the plan's own budget lines,
      - {id: government, budget: {2025: 500000, 2026: 600000}}   # summed by source and year
    measures:                             # by the plan's measure ids
      PV1.1: {unit_cost: 2000, max_units: 100, effect: {XT-03: 1.5}, default_effect: 0.5}
      PR1.2: {unit_cost: 9000, fixed_cost: 50000, effect: 4, mandatory: true}
    constraints:
      pillar_shares: [{pillar: protection, min_share: 0.3}]
      region_floors: [{region: XT-03, min_spend: 100000}]
      earmarks: [{source: international_aid, pillars: [prevention]}]
    objective: {equity: maxmin, equity_weight: 0.5}

Every key of a measure entry is the allocation model's (``tiplab.policy.allocation``; see
docs/allocation.md); ``pillar``, ``title`` and (when not given) ``regions`` come from the plan.
A measure id the plan does not have is an error, as is a pillar the plan does not have."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from tiplab.policy.allocation import Allocation, AllocationError, problem_from_dict, solve
from tiplab.policy.plan import Plan

SCENARIO_FIELDS = {"title", "regions", "sources", "measures", "constraints", "objective"}


def plan_budget_sources(plan: Plan) -> list[dict[str, Any]]:
    """The plan's budget lines summed by funding source and year (its own currency only)."""
    by: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for _o, m in plan.measures():
        for b in m.budget:
            if not b.currency or b.currency == plan.currency:
                by[b.source][b.year] += b.amount
    return [{"id": s, "budget": {str(y): years.get(y, 0.0) for y in plan.years}}
            for s, years in by.items()]


def problem_document(plan: Plan, scenario: dict[str, Any]) -> dict[str, Any]:
    """The allocation problem of ``scenario`` for ``plan`` (a dict for
    :func:`tiplab.policy.allocation.problem_from_dict`)."""
    if not isinstance(scenario, dict):
        raise AllocationError(["a scenario is a mapping with measures (by measure id) and, "
                               "optionally, sources, regions, constraints and objective"])
    problems = [f"{k}: unknown field (known: {', '.join(sorted(SCENARIO_FIELDS))})"
                for k in scenario if k not in SCENARIO_FIELDS]
    entries = scenario.get("measures")
    if not isinstance(entries, dict) or not entries:
        problems.append("measures: give at least one measure, keyed by the plan's measure id "
                        "(e.g. PV1.1: {unit_cost: 2000, effect: 1})")
        entries = {}
    known = {m.id: (o, m) for o, m in plan.measures()}
    measures, regions = [], list(scenario.get("regions") or [])
    for mid, entry in entries.items():
        if str(mid) not in known:
            problems.append(f"measures.{mid}: the plan has no measure {mid!r} (it has "
                            + ", ".join(known) + ")")
            continue
        if not isinstance(entry, dict):
            problems.append(f"measures.{mid}: must be a mapping (unit_cost, effect, ...)")
            continue
        o, m = known[str(mid)]
        d = {"id": m.id, "pillar": o.pillar, "title": m.title, **entry}
        if "pillar" in entry and entry["pillar"] != o.pillar:
            problems.append(f"measures.{mid}.pillar: the measure is under {o.pillar!r} in the "
                            "plan; leave the pillar out")
        if "regions" not in entry:
            d["regions"] = list(m.regions) if m.regions else "national"
        if isinstance(d["regions"], list):
            regions += [r for r in d["regions"] if r not in regions]
        measures.append(d)
    if problems:
        raise AllocationError(problems)
    return {"title": scenario.get("title") or plan.title, "currency": plan.currency,
            "years": plan.years, "regions": regions,
            "sources": scenario.get("sources") or plan_budget_sources(plan),
            "measures": measures, "constraints": scenario.get("constraints") or {},
            "objective": scenario.get("objective") or {}}


def read_scenario(source: str | Path) -> dict[str, Any]:
    """A scenario from a file path or YAML/JSON text."""
    from tiplab.policy.files import read_yaml

    _root, data, _name, _path = read_yaml(
        source, None, lambda problems, where: AllocationError(problems, path=where),
        (".yaml", ".yml", ".json"))
    if not isinstance(data, dict):
        raise AllocationError(["a scenario is a mapping (see docs/plans.md)"])
    return data


def allocate_plan(plan: Plan, scenario: str | Path | dict[str, Any]) -> Allocation:
    """Solve a scenario for the plan; an infeasible one comes back with ``status``
    ``infeasible`` and its conflict named in ``message``."""
    data = scenario if isinstance(scenario, dict) else read_scenario(scenario)
    return solve(problem_from_dict(problem_document(plan, data)))
