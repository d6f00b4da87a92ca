"""Funding allocation: optima solved by hand, a knapsack checked by brute force, binding
constraints and shadow prices (against finite differences), infeasibility explained,
validation that collects every problem, scenarios, the greedy heuristic and spend tracking."""

from __future__ import annotations

import copy
import itertools
import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiplab.errors import TiplabError
from tiplab.policy.allocation import (
    NATIONAL,
    Allocation,
    AllocationError,
    InfeasibleError,
    SpendRecord,
    apply_overrides,
    compare_scenarios,
    execution,
    explain_infeasibility,
    greedy,
    load_problem,
    money_text,
    problem_from_dict,
    problem_hash,
    solve,
)


def two_measures(**extra: Any) -> dict[str, Any]:
    """One region, one year, one source of 1,000 EUR; M1 (prevention) costs 10 a unit for 3
    units of effect, at most 50 units in all; M2 (protection) costs 20 for 4, at most 100."""
    return {"currency": "EUR", "years": [2026], "regions": ["R1"],
            "sources": [{"id": "gov", "budget": 1000}],
            "measures": [
                {"id": "M1", "pillar": "prevention", "unit_cost": 10, "effect": 3,
                 "max_total_units": 50},
                {"id": "M2", "pillar": "protection", "unit_cost": 20, "effect": 4,
                 "max_units": 100}],
            **extra}


def price(a: Allocation, name: str) -> float:
    return next(s.value for s in a.shadow_prices if s.name == name)


def names(a: Allocation) -> set[str]:
    return {b.name for b in a.binding}


def spent(a: Allocation, source: str, year: int) -> float:
    return sum(r.money for r in a.rows if r.source == source and r.year == year)


# --- optima by hand -------------------------------------------------------------------------


def test_two_measure_lp_optimum_and_shadow_prices() -> None:
    """M1 buys 3/10 = 0.3 effect per EUR, M2 4/20 = 0.2. The best use of the 1,000 EUR is M1
    to its limit (50 units, 500 EUR, effect 150), the other 500 EUR on M2 (25 units, effect
    100): objective 250. Both the budget and M1's limit bind.

    Shadow prices: one more EUR goes to M2 (M1 is full) and buys 0.2. One more unit allowed
    for M1 gives 3 effect but takes 10 EUR from M2 (-2 effect): +1 per unit."""
    a = solve(problem_from_dict(two_measures()))
    assert a.status == "optimal"
    assert a.method == "lp"
    assert a.objective == pytest.approx(250)
    units = {m.id: m.units for m in a.measures}
    assert units == pytest.approx({"M1": 50, "M2": 25})
    assert names(a) == {"budget:gov:2026", "caps:M1"}
    assert price(a, "budget:gov:2026") == pytest.approx(0.2)
    assert price(a, "caps:M1") == pytest.approx(1.0)
    text = next(s.explanation for s in a.shadow_prices if s.name == "budget:gov:2026")
    assert text == "One more EUR in gov in 2026 buys 0.2 units of effect."
    assert a.totals["pillar"] == pytest.approx({"prevention": 500, "protection": 500})
    assert a.totals["source"] == pytest.approx({"gov": 1000})
    assert a.duals == "lp"


def test_a_binding_pillar_share_and_its_price() -> None:
    """With protection (M2) at least 60% of total spend, M2 gets 600 EUR (30 units, effect
    120) and M1 400 EUR (40 units, effect 120): objective 240, M1's limit no longer binds.

    One more EUR is split 40/60: 0.4 × 0.3 + 0.6 × 0.2 = 0.24. One more percentage point of
    the share moves 10 EUR from M1 to M2: 10 × (0.3 - 0.2) = 1 unit of effect lost."""
    d = two_measures(constraints={"pillar_shares": [{"pillar": "protection",
                                                     "min_share": 0.6}]})
    a = solve(problem_from_dict(d))
    assert a.objective == pytest.approx(240)
    assert names(a) == {"budget:gov:2026", "share:0"}
    assert price(a, "budget:gov:2026") == pytest.approx(0.24)
    assert price(a, "caps:M1") == pytest.approx(0.0)
    assert price(a, "share:0") == pytest.approx(-1.0)
    d["constraints"]["pillar_shares"][0]["min_share"] = 0.61
    assert solve(problem_from_dict(d)).objective == pytest.approx(239)


def fd_problem() -> dict[str, Any]:
    """Two regions, two years, two sources (aid earmarked for protection and prevention),
    a national campaign, training only in 2026 and only from gov, a floor for region N."""
    return {
        "currency": "EUR", "years": [2025, 2026], "regions": ["N", "S"],
        "sources": [{"id": "gov", "budget": {2025: 50_000, 2026: 60_000}},
                    {"id": "aid", "budget": {2025: 40_000, 2026: 15_000}}],
        "measures": [
            {"id": "shelter", "pillar": "protection", "unit_cost": 900,
             "effect": {"N": 2.0, "S": 3.1}, "max_units": 25},
            {"id": "hotline", "pillar": "prevention", "unit_cost": 400,
             "effect": {"N": 0.9, "S": 0.5}, "max_units": 30},
            {"id": "training", "pillar": "prosecution", "unit_cost": 1300,
             "effect": {"default": 1.1, "S": 1.7}, "sources": ["gov"], "max_units": 18,
             "years": [2026]},
            {"id": "campaign", "pillar": "prevention", "unit_cost": 5000, "regions": NATIONAL,
             "effect": 5.0, "max_units": 4},
        ],
        "constraints": {"region_floors": [{"region": "N", "min_spend": 70_000}],
                        "earmarks": [{"source": "aid", "pillars": ["protection",
                                                                   "prevention"]}]},
    }


def test_shadow_prices_equal_the_finite_difference_of_the_objective() -> None:
    """For a linear program the dual of a budget is the derivative of the optimum in that
    budget: adding 1 EUR to it changes the objective by the shadow price (and adding 1 EUR to
    a floor by its, negative, shadow price)."""
    d = fd_problem()
    base = solve(problem_from_dict(d))
    assert base.status == "optimal"
    assert base.method == "lp"
    assert base.objective is not None
    checked = 0
    for si, src in enumerate(d["sources"]):
        for y in (2025, 2026):
            bumped = copy.deepcopy(d)
            bumped["sources"][si]["budget"][y] += 1
            after = solve(problem_from_dict(bumped)).objective
            assert after is not None
            assert after - base.objective == pytest.approx(
                price(base, f"budget:{src['id']}:{y}"), abs=1e-6)
            checked += 1
    bumped = copy.deepcopy(d)
    bumped["constraints"]["region_floors"][0]["min_spend"] += 1
    after = solve(problem_from_dict(bumped)).objective
    assert after is not None
    assert after - base.objective == pytest.approx(price(base, "floor:0"), abs=1e-6)
    assert checked == 4
    # the 2026 money is what limits (training and the rest of 2026 buy 1.7 per 1,300 EUR);
    # in 2025 aid has money left, so neither 2025 budget is worth anything at the margin
    assert price(base, "budget:gov:2026") == pytest.approx(1.7 / 1300)
    assert price(base, "budget:gov:2025") == pytest.approx(0.0)
    assert price(base, "floor:0") < 0
    text = next(s.explanation for s in base.shadow_prices if s.name == "budget:aid:2026")
    assert text == ("One more EUR in aid in 2026 buys 0.001308 units of effect (1.308 per "
                    "€1,000).")


def test_allocation_rows_add_up_to_the_totals() -> None:
    a = solve(problem_from_dict(fd_problem()))
    total = sum(r.money for r in a.rows)
    assert total == pytest.approx(a.total_spend)
    assert sum(a.totals["pillar"].values()) == pytest.approx(total)
    assert sum(a.totals["year"].values()) == pytest.approx(total)
    assert sum(a.totals["source"].values()) == pytest.approx(total)
    assert sum(a.totals["region"].values()) + a.totals["fixed_costs"]["all"] == \
        pytest.approx(total)
    # the earmark holds: aid money only for protection and prevention
    assert all(r.pillar in ("protection", "prevention") for r in a.rows if r.source == "aid")
    # training may only be funded by gov
    assert all(r.source == "gov" for r in a.rows if r.measure == "training")
    for b in a.budget_use:
        assert b["spent"] <= b["budget"] + 1e-6
    assert a.totals["region"]["N"] >= 70_000 - 1e-6
    assert {r.region for r in a.rows if r.measure == "campaign"} <= {NATIONAL}


def test_to_dict_is_json_safe_with_parameters_and_hash() -> None:
    p = problem_from_dict(fd_problem())
    a = solve(p)
    d = json.loads(json.dumps(a.to_dict(), allow_nan=False))
    assert d["problem_hash"] == problem_hash(p)
    assert len(d["problem_hash"]) == 64
    assert problem_from_dict(d["parameters"]) == p
    assert d["allocation"][0].keys() >= {"measure", "region", "year", "source", "units",
                                         "money"}
    assert d["shadow_prices"]
    assert all("explanation" in s for s in d["shadow_prices"])


def test_problem_round_trip_and_stable_hash() -> None:
    p = problem_from_dict(fd_problem())
    again = problem_from_dict(json.loads(json.dumps(p.to_dict())))
    assert again == p
    assert problem_hash(again) == problem_hash(p)
    changed = fd_problem()
    changed["sources"][0]["budget"][2025] += 1
    assert problem_hash(problem_from_dict(changed)) != problem_hash(p)


def test_diminishing_returns() -> None:
    """D costs 1 a unit for 2 effect: its first 10 units in full, the next 10 at half (1.0
    per EUR), the rest at 0.1 (0.2 per EUR). C gives 1.5 per EUR up to 100 units. With 130
    EUR: D's first 10 (20), C's 100 (150), D's next 10 (10), and D's last 10 units at 0.2
    (2): 182."""
    d = {"currency": "EUR", "years": [2026], "regions": ["R"],
         "sources": [{"id": "gov", "budget": 130}],
         "measures": [
             {"id": "D", "pillar": "protection", "unit_cost": 1, "effect": 2,
              "returns": [{"units": 10, "factor": 1}, {"units": 10, "factor": 0.5},
                          {"factor": 0.1}]},
             {"id": "C", "pillar": "prevention", "unit_cost": 1, "effect": 1.5,
              "max_units": 100}]}
    a = solve(problem_from_dict(d))
    assert a.objective == pytest.approx(182)
    assert {m.id: m.units for m in a.measures} == pytest.approx({"D": 30, "C": 100})
    assert greedy(problem_from_dict(d)).objective == pytest.approx(182)


def test_equity_maxmin() -> None:
    """A works in R1 only (2 effect per EUR), B in R2 only (1 per EUR), 100 EUR. The total
    effect is largest with everything on A (200). Max-min equalises the regions: 2a = b,
    a + b = 100, so a = 100/3 and b = 200/3, each region gets 200/3; the objective is
    2 regions × 200/3 = 133.3."""
    d: dict[str, Any] = {
        "currency": "EUR", "years": [2026], "regions": ["R1", "R2"],
        "sources": [{"id": "gov", "budget": 100}],
        "measures": [{"id": "A", "pillar": "protection", "unit_cost": 1, "effect": {"R1": 2},
                      "regions": ["R1"]},
                     {"id": "B", "pillar": "protection", "unit_cost": 1, "effect": {"R2": 1},
                      "regions": ["R2"]}]}
    assert solve(problem_from_dict(d)).objective == pytest.approx(200)
    d["objective"] = {"equity": "maxmin"}
    a = solve(problem_from_dict(d))
    assert a.objective == pytest.approx(400 / 3)
    assert a.min_region_effect == pytest.approx(200 / 3)
    assert a.effect_by_region == pytest.approx({"R1": 200 / 3, "R2": 200 / 3})
    d["objective"] = {"equity": "maxmin", "equity_weight": 0}
    assert solve(problem_from_dict(d)).objective == pytest.approx(200)


# --- the mixed-integer program ----------------------------------------------------------


def knapsack(seed: int) -> tuple[dict[str, Any], float]:
    """A random knapsack with fixed costs and minimum units, and its optimum by brute force:
    for every set of funded measures, pay their fixed costs and minimum units, then fill the
    rest of the budget by effect per EUR (optimal for the continuous part)."""
    rng = random.Random(seed)
    budget = rng.randint(200, 600)
    measures = []
    for i in range(6):
        m: dict[str, Any] = {"id": f"K{i}", "pillar": "protection",
                             "unit_cost": rng.randint(5, 40), "effect": rng.randint(1, 30),
                             "max_units": rng.randint(2, 12)}
        if rng.random() < 0.7:
            m["fixed_cost"] = rng.randint(20, 150)
        if rng.random() < 0.3:
            m["min_units"] = rng.randint(1, 2)
        measures.append(m)
    best = 0.0
    for k in range(len(measures) + 1):
        for chosen in itertools.combinations(measures, k):
            left = float(budget)
            value = 0.0
            room = []
            for m in chosen:
                if m.get("fixed_cost", 0) > 0 or m.get("min_units", 0) > 0:
                    mins = m.get("min_units", 0)
                    left -= m.get("fixed_cost", 0) + mins * m["unit_cost"]
                    value += mins * m["effect"]
                    room.append((m, m["max_units"] - mins))
                else:
                    room.append((m, m["max_units"]))
            if left < 0:
                continue
            for m, units in sorted(room, key=lambda t: -t[0]["effect"] / t[0]["unit_cost"]):
                take = min(units, left / m["unit_cost"])
                value += take * m["effect"]
                left -= take * m["unit_cost"]
            best = max(best, value)
    # measures without fixed cost or minimum are continuous and always "chosen": the loop
    # above counts them only when chosen, which the max over subsets covers
    return ({"currency": "EUR", "years": [2026], "regions": ["R"],
             "sources": [{"id": "gov", "budget": budget}], "measures": measures}, best)


@pytest.mark.parametrize("seed", range(8))
def test_knapsack_with_fixed_costs_matches_brute_force(seed: int) -> None:
    d, best = knapsack(seed)
    a = solve(problem_from_dict(d), mip_gap=0.0)
    assert a.status == "optimal"
    assert a.objective == pytest.approx(best, rel=1e-7, abs=1e-7)
    on_off = [m for m in d["measures"] if m.get("fixed_cost") or m.get("min_units")]
    if on_off:
        assert a.method in ("milp", "milp-rounding")
        assert a.duals == "lp_fixed_decisions"
    # a funded measure pays its fixed cost in full; an unfunded one gets nothing
    for m in a.measures:
        spec = next(x for x in d["measures"] if x["id"] == m.id)
        fixed = sum(r.money for r in a.rows if r.measure == m.id and r.kind == "fixed_cost")
        if m.funded and spec.get("fixed_cost"):
            assert fixed == pytest.approx(spec["fixed_cost"])
        if not m.funded:
            assert m.units == pytest.approx(0)
            assert m.money == pytest.approx(0)
    assert greedy(problem_from_dict(d)).objective <= best + 1e-6


def test_milp_shadow_price_with_fixed_decisions() -> None:
    """F has a fixed cost of 100 and buys 5 per 10 EUR (0.5/EUR), at most 10 units; G buys
    0.2/EUR without limit. With 500 EUR: fund F (100 + 100 for 10 units: 50 effect), the
    remaining 300 on G (60): 110 (without F: 100). With F's decision fixed, one more EUR
    goes to G: shadow price 0.2."""
    d = {"currency": "EUR", "years": [2026], "regions": ["R"],
         "sources": [{"id": "gov", "budget": 500}],
         "measures": [{"id": "F", "pillar": "protection", "unit_cost": 10, "effect": 5,
                       "fixed_cost": 100, "max_units": 10},
                      {"id": "G", "pillar": "prevention", "unit_cost": 5, "effect": 1}]}
    a = solve(problem_from_dict(d), mip_gap=0.0)
    assert a.objective == pytest.approx(110)
    assert a.duals == "lp_fixed_decisions"
    assert price(a, "budget:gov:2026") == pytest.approx(0.2)
    assert "max_units:F" in names(a)
    fixed_rows = [r for r in a.rows if r.kind == "fixed_cost"]
    assert len(fixed_rows) == 1
    assert fixed_rows[0].money == pytest.approx(100)
    assert fixed_rows[0].region is None


# --- binding constraints ----------------------------------------------------------------


def test_binding_constraints_are_exactly_those_at_their_bound() -> None:
    d = fd_problem()
    d["constraints"]["region_floors"] = [{"region": "N", "min_spend": 1_000},
                                         {"region": "S", "min_spend": 90_000}]
    a = solve(problem_from_dict(d))
    assert a.status == "optimal"
    by = names(a)
    assert "floor:1" in by  # S needs more than it would get
    assert "floor:0" not in by
    assert a.totals["region"]["S"] == pytest.approx(90_000)
    assert price(a, "floor:0") == pytest.approx(0.0)
    assert price(a, "floor:1") < 0
    left = {(b["source"], b["year"]): b["left"] for b in a.budget_use}
    for (src, y), rest in left.items():
        assert (f"budget:{src}:{y}" in by) == (rest <= 1e-6)


# --- infeasibility explained ----------------------------------------------------------------


def conflict_problem() -> dict[str, Any]:
    """3m EUR in 2026. R3 has only a prevention measure, with a floor of 2m; protection must
    get 40% of all spend. Spending 2m in R3 makes total spend at least 2m / 0.6 = 3.33m: more
    than the budget. The floor for R1 and the 10% share for prevention are not part of it."""
    return {"currency": "EUR", "years": [2026], "regions": ["R1", "R3"],
            "sources": [{"id": "government", "budget": 3_000_000}],
            "measures": [
                {"id": "P1", "pillar": "protection", "unit_cost": 1000, "effect": 1,
                 "regions": ["R1"]},
                {"id": "V1", "pillar": "prevention", "unit_cost": 1000, "effect": 1,
                 "regions": ["R3"]},
                {"id": "X", "pillar": "prosecution", "unit_cost": 1000, "effect": 1,
                 "regions": ["R1"], "max_units": 5}],
            "constraints": {
                "pillar_shares": [{"pillar": "protection", "min_share": 0.4},
                                  {"pillar": "prevention", "min_share": 0.1}],
                "region_floors": [{"region": "R3", "min_spend": 2_000_000},
                                  {"region": "R1", "min_spend": 10}]}}


def test_infeasibility_names_the_conflicting_constraints() -> None:
    d = conflict_problem()
    a = solve(problem_from_dict(d))
    assert a.status == "infeasible"
    assert a.conflict is not None
    assert set(a.conflict.constraints) == {"budget:government:2026", "share:0", "floor:0"}
    assert a.message == (
        "No allocation meets every constraint: the minimum share for protection (40% of total "
        "spend) and the floor for region R3 (€2m) together exceed the 2026 budget of "
        "government (€3m). Lower one of them or raise the budget.")
    with pytest.raises(InfeasibleError, match="floor for region R3") as info:
        a.raise_for_status()
    assert info.value.conflict == a.conflict
    assert isinstance(info.value, TiplabError)
    # irreducible: without any one of them an allocation exists
    loosened = [("sources", lambda x: x["sources"][0].update(budget=3_400_000)),
                ("share", lambda x: x["constraints"]["pillar_shares"].pop(0)),
                ("floor", lambda x: x["constraints"]["region_floors"].pop(0))]
    for _, change in loosened:
        e = copy.deepcopy(d)
        change(e)
        assert solve(problem_from_dict(e)).status == "optimal"
    assert explain_infeasibility(problem_from_dict(d)) == a.conflict


def test_an_unaffordable_mandatory_measure_is_named() -> None:
    d = conflict_problem()
    d["constraints"] = {}
    d["measures"].append({"id": "BIG", "pillar": "protection", "unit_cost": 100, "effect": 1,
                          "fixed_cost": 2_500_000, "min_units": 6_000, "regions": ["R1"],
                          "mandatory": True})
    a = solve(problem_from_dict(d))
    assert a.status == "infeasible"
    assert a.conflict is not None
    assert set(a.conflict.constraints) == {"mandatory:BIG", "budget:government:2026"}
    assert "the mandatory measure BIG (at least €3.1m: a fixed cost of €2.5m and 6000 units " \
        "in its region-year at €100 each) exceeds the 2026 budget of government (€3m)" \
        in a.message
    assert explain_infeasibility(problem_from_dict(conflict_problem() | {
        "constraints": {}})) is None


def test_a_floor_no_measure_can_reach_is_explained() -> None:
    d = conflict_problem()
    d["constraints"] = {"region_floors": [{"region": "R3", "min_spend": 5000}]}
    d["measures"] = [m for m in d["measures"] if m["id"] != "V1"]
    a = solve(problem_from_dict(d))
    assert a.conflict is not None
    assert a.conflict.constraints == ("floor:0",)
    assert "cannot be met by any allocation" in a.message


@st.composite
def tight_problems(draw: st.DrawFn) -> dict[str, Any]:
    """Small problems with floors, shares and mandatory measures: often infeasible."""
    years = [2025 + i for i in range(draw(st.integers(1, 2)))]
    regions = ["A", "B", "C"][:draw(st.integers(1, 3))]
    sources = [{"id": f"S{i}", "budget": {y: draw(st.integers(0, 300)) for y in years}}
               for i in range(draw(st.integers(1, 2)))]
    measures = []
    for i in range(draw(st.integers(1, 4))):
        m: dict[str, Any] = {"id": f"M{i}", "pillar": draw(st.sampled_from(["pa", "pb", "pc"])),
                             "unit_cost": draw(st.integers(1, 30)),
                             "effect": draw(st.integers(0, 5)),
                             "max_units": draw(st.integers(1, 10))}
        if draw(st.booleans()):
            m["regions"] = [draw(st.sampled_from(regions))]
        if draw(st.integers(0, 2)) == 0:
            m["fixed_cost"] = draw(st.integers(1, 100))
        if draw(st.integers(0, 4)) == 0:
            m["mandatory"] = True
            m["min_units"] = 1
        if len(sources) > 1 and draw(st.integers(0, 2)) == 0:
            m["sources"] = ["S0"]
        measures.append(m)
    pillars = sorted({m["pillar"] for m in measures})
    cons: dict[str, Any] = {
        "pillar_shares": [{"pillar": q, "min_share": draw(st.integers(0, 70)) / 100}
                          for q in pillars if draw(st.booleans())],
        "region_floors": [{"region": r, "min_spend": draw(st.integers(0, 200))}
                          for r in regions if draw(st.booleans())]}
    if len(sources) > 1 and draw(st.booleans()):
        cons["earmarks"] = [{"source": "S1", "pillars": [draw(st.sampled_from(pillars))]}]
    return {"currency": "EUR", "years": years, "regions": regions, "sources": sources,
            "measures": measures, "constraints": cons}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tight_problems())
def test_every_conflict_is_irreducible(d: dict[str, Any]) -> None:
    """The named constraints of a conflict clash, and without any one of them an allocation
    exists (the deletion filter's guarantee), whatever the problem."""
    from tiplab.policy.allocation import _feasible, _groups

    p = problem_from_dict(d)
    a = solve(p)
    if a.status != "infeasible":
        assert a.status == "optimal"
        return
    assert a.conflict is not None
    assert a.conflict.complete
    kept = set(a.conflict.constraints)
    others = frozenset(g.name for g in _groups(p) if g.name not in kept)
    assert not _feasible(p, others)
    for name in kept:
        assert _feasible(p, others | {name}), name
    assert a.message.startswith("No allocation meets every constraint: ")


# --- validation -----------------------------------------------------------------------------


def test_validation_collects_every_problem_with_its_path() -> None:
    d = two_measures()
    d["years"] = [2026, 2027]
    d["sources"][0]["budget"] = {2026: 1000}
    d["measures"][1]["unit_cost"] = -5
    d["measures"][0]["effect"] = {"R9": 1}
    d["measures"][0]["min_units"] = 10
    d["measures"][0]["max_units"] = 5
    d["constraints"] = {"pillar_shares": [{"pillar": "protecton", "min_share": 1.5}],
                        "region_floors": [{"region": "R1"}]}
    with pytest.raises(AllocationError) as info:
        problem_from_dict(d)
    problems = info.value.problems
    expected = [
        "sources[0].budget: no amount for 2027",
        "measures[1].unit_cost: must be >= 0, got -5",
        "measures[0].effect.R9: 'R9' is not a region this measure runs in",
        "measures[0].min_units: 10 is above max_units 5",
        "constraints.pillar_shares[0].pillar: 'protecton' is not the pillar of any measure",
        "constraints.pillar_shares[0].min_share: must be <= 1, got 1.5",
        "constraints.region_floors[0].min_spend: missing (required)",
    ]
    for e in expected:
        assert any(p.startswith(e) for p in problems), (e, problems)
    assert str(info.value).startswith(f"{len(problems)} problems:")
    assert isinstance(info.value, TiplabError)


@pytest.mark.parametrize(("where", "path"), [
    (lambda d: d.update(budgett=5), "budgett"),
    (lambda d: d["measures"][1].update(colour="red"), "measures[1].colour"),
    (lambda d: d["sources"][0].update(kind="x"), "sources[0].kind"),
    (lambda d: d.update(constraints={"floors": []}), "constraints.floors"),
    (lambda d: d.update(objective={"equity": "maxmin", "weight": 1}), "objective.weight"),
])
def test_an_unknown_field_is_refused_by_name(where: Any, path: str) -> None:
    d = two_measures()
    where(d)
    with pytest.raises(AllocationError, match=r"unknown field") as info:
        problem_from_dict(d)
    assert any(p.startswith(f"{path}: unknown field") for p in info.value.problems)


def test_more_validation_rules() -> None:
    d = two_measures()
    d["measures"].append({"id": "M1", "pillar": "protection", "unit_cost": 0, "effect": 1})
    d["measures"].append({"id": "M4", "pillar": "protection", "unit_cost": 5, "effect": 1,
                          "mandatory": True, "sources": ["nope"]})
    d["measures"].append({"id": "M5", "pillar": "protection", "unit_cost": 5, "effect": 1,
                          "returns": [{"units": 5, "factor": 0.5}, {"factor": 0.9}]})
    d["constraints"] = {"earmarks": [{"source": "gov"}]}
    with pytest.raises(AllocationError) as info:
        problem_from_dict(d)
    text = "\n".join(info.value.problems)
    assert "measures[2].id: measure id 'M1' is used twice (first at measures[0])" in text
    assert "measures[2].unit_cost: 0 needs max_units or max_total_units" in text
    assert "measures[3].mandatory: a mandatory measure needs min_units or a fixed_cost" in text
    assert "measures[3].sources[0]: 'nope' is not a known source" in text
    assert "measures[4].returns[1].factor: 0.9 is above the previous segment's 0.5" in text
    assert "constraints.earmarks[0]: an earmark lists the measures or pillars" in text
    with pytest.raises(AllocationError, match=r"\(problem\): must be a mapping of fields"):
        problem_from_dict([])


def test_load_problem_names_the_file(tmp_path: Any) -> None:
    f = tmp_path / "scenario.yaml"
    f.write_text("currency: EUR\nyears: [2026]\nregions: [R1]\nsources:\n"
                 "  - {id: gov, budget: 100}\nmeasures:\n"
                 "  - {id: M1, pillar: protection, unit_cost: 2, effect: 1}\n",
                 encoding="utf-8")
    assert load_problem(f).measures[0].id == "M1"
    f.write_text("currency: EUR\nyears: [2026]\nsources: []\nmeasures: []\n", encoding="utf-8")
    with pytest.raises(AllocationError, match=r"scenario\.yaml: sources: must list"):
        load_problem(f)


# --- scenarios ------------------------------------------------------------------------------


def test_compare_scenarios_side_by_side() -> None:
    base = problem_from_dict(two_measures())
    cmp = compare_scenarios(base, {
        "cut": {"sources": [{"id": "gov", "budget": {2026: 800}}]},
        "protect": {"constraints": {"+pillar_shares": [{"pillar": "protection",
                                                        "min_share": 0.6}]}},
        "no_m1": {"measures": [{"id": "M1", "remove": True}]},
        "impossible": {"constraints": {"+region_floors": [{"region": "R1",
                                                           "min_spend": 5000}]}},
    })
    rows = {r["scenario"]: r for r in cmp.rows()}
    assert cmp.names == ["base", "cut", "protect", "no_m1", "impossible"]
    assert rows["base"]["objective"] == pytest.approx(250)
    # 200 EUR less, all of it from M2 at 0.2 per EUR
    assert rows["cut"]["objective"] == pytest.approx(210)
    assert rows["cut"]["objective_change"] == pytest.approx(-40)
    assert rows["protect"]["objective"] == pytest.approx(240)
    assert rows["protect"]["spend_by_pillar"] == pytest.approx({"prevention": 400,
                                                               "protection": 600})
    assert any("minimum share for protection" in b for b in rows["protect"]["binding"])
    assert rows["no_m1"]["objective"] == pytest.approx(200)
    assert rows["impossible"]["status"] == "infeasible"
    assert "floor for region R1" in rows["impossible"]["message"]
    d = json.loads(json.dumps(cmp.to_dict(full=True)))
    assert d["pillars"] == ["prevention", "protection"]
    assert set(d["allocations"]) == set(cmp.names)


def test_scenario_problems_name_the_scenario() -> None:
    base = problem_from_dict(two_measures())
    with pytest.raises(AllocationError) as info:
        compare_scenarios(base, {
            "bad": {"measures": [{"id": "M2", "unit_cost": -1}]},
            "worse": {"sources": [{"id": "gov", "budget": {2026: "lots"}}]},
            "gone": {"measures": [{"id": "M9", "remove": True}]},
        })
    text = "\n".join(info.value.problems)
    assert "scenario 'bad': measures[1].unit_cost: must be >= 0, got -1" in text
    assert "scenario 'worse': sources[0].budget.2026: must be a number" in text
    assert "scenario 'gone': measures: cannot remove 'M9'" in text


def test_overrides_merge_replace_append_and_remove() -> None:
    base = problem_from_dict(two_measures()).to_dict()
    out = apply_overrides(base, {"regions": ["R1", "R2"], "title": None,
                                 "measures": [{"id": "M3", "pillar": "partnership",
                                               "unit_cost": 1, "effect": 1,
                                               "max_units": 2}],
                                 "constraints": {"+earmarks": [{"source": "gov",
                                                                "pillars": ["protection"]}]}})
    assert out["regions"] == ["R1", "R2"]
    assert "title" not in out
    assert [m["id"] for m in out["measures"]] == ["M1", "M2", "M3"]
    assert out["constraints"]["earmarks"] == [{"source": "gov", "pillars": ["protection"]}]
    assert base["regions"] == ["R1"]  # the base is not changed


# --- greedy ---------------------------------------------------------------------------------


def test_greedy_reports_the_constraints_it_breaks() -> None:
    d = two_measures(constraints={"pillar_shares": [{"pillar": "protection",
                                                     "min_share": 0.6}],
                                  "region_floors": [{"region": "R1", "min_spend": 1200}]})
    g = greedy(problem_from_dict(d))
    assert g.method == "greedy"
    assert g.status == "violates_constraints"
    assert any("minimum share for protection (60% of total spend) is not met: it got 50%" in w
               for w in g.warnings)
    assert any("floor for region R1 (€1,200) is not met: it got €1,000" in w
               for w in g.warnings)
    ok = greedy(problem_from_dict(two_measures()))
    assert ok.status == "feasible"
    assert ok.objective == pytest.approx(250)


@st.composite
def small_problems(draw: st.DrawFn) -> dict[str, Any]:
    years = [2025 + i for i in range(draw(st.integers(1, 2)))]
    regions = [f"R{i}" for i in range(draw(st.integers(1, 3)))]
    sources = [{"id": f"S{i}", "budget": {y: draw(st.integers(0, 300)) for y in years}}
               for i in range(draw(st.integers(1, 2)))]
    measures = []
    for i in range(draw(st.integers(1, 4))):
        m: dict[str, Any] = {"id": f"M{i}",
                             "pillar": draw(st.sampled_from(["prevention", "protection"])),
                             "unit_cost": draw(st.integers(1, 40)),
                             "max_units": draw(st.integers(1, 10))}
        if draw(st.booleans()):
            m["regions"] = NATIONAL
            m["effect"] = draw(st.integers(0, 20))
        else:
            m["effect"] = {r: draw(st.integers(0, 20)) for r in regions}
        if draw(st.booleans()):
            m["fixed_cost"] = draw(st.integers(1, 80))
        if draw(st.integers(0, 3)) == 0:
            m["min_units"] = 1
        if draw(st.integers(0, 3)) == 0:
            m["max_total_units"] = draw(st.integers(m.get("min_units", 0) * 6, 30))
        if len(sources) > 1 and draw(st.booleans()):
            m["sources"] = ["S0"]
        if draw(st.integers(0, 3)) == 0:
            m["returns"] = [{"units": 2, "factor": 1}, {"factor": 0.5}]
        measures.append(m)
    doc: dict[str, Any] = {"currency": "EUR", "years": years, "regions": regions,
                           "sources": sources, "measures": measures}
    if len(sources) > 1 and draw(st.booleans()):
        pillar = draw(st.sampled_from(sorted({m["pillar"] for m in measures})))
        doc["constraints"] = {"earmarks": [{"source": "S1", "pillars": [pillar]}]}
    return doc


def within_budgets(a: Allocation, d: dict[str, Any]) -> None:
    for s in d["sources"]:
        for y, amount in s["budget"].items():
            assert spent(a, s["id"], y) <= amount + 1e-6
    for e in (d.get("constraints") or {}).get("earmarks", []):
        pillar = {m["id"]: m["pillar"] for m in d["measures"]}
        assert all(pillar[r.measure] in e["pillars"] for r in a.rows if r.source == e["source"]
                   and r.money > 1e-9)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_greedy_never_beats_the_solver(d: dict[str, Any]) -> None:
    """Without shares or floors the greedy allocation is feasible for the solver's problem,
    so it can never be better than the optimum (within the solver's tolerances)."""
    p = problem_from_dict(d)
    a = solve(p, mip_gap=0.0)
    g = greedy(p)
    assert a.status == "optimal"
    assert g.status == "feasible"
    assert a.objective is not None
    assert g.objective is not None
    assert g.objective <= a.objective + 1e-6 * max(1.0, abs(a.objective))
    within_budgets(a, d)
    within_budgets(g, d)


# --- spend tracking -----------------------------------------------------------------------


def test_execution_rates_and_flags() -> None:
    planned = {"L1": 100.0, "L2": 100.0, "L3": 100.0, "L4": 200.0}
    records = [SpendRecord("L1", "2026-Q1", 50, 10), SpendRecord("L1", "2026-Q2", 30, 20),
               SpendRecord("L2", "2026", 120, 110), SpendRecord("L3", "2026", 60, 60),
               SpendRecord("X9", "2026", 0, 5)]
    rows = {r.budget_line_id: r for r in execution(planned, records)}
    assert list(rows) == ["L1", "L2", "L3", "L4", "X9"]
    assert rows["L1"].execution_rate == pytest.approx(0.3)
    assert rows["L1"].committed_rate == pytest.approx(0.8)
    assert rows["L1"].periods == ("2026-Q1", "2026-Q2")
    assert rows["L1"].flags == ("underspend",)
    assert rows["L2"].flags == ("overspend", "overcommitted")
    assert rows["L3"].flags == ()
    assert rows["L4"].flags == ("underspend",)
    assert rows["L4"].execution_rate == 0
    assert rows["X9"].flags == ("unplanned", "overspend")
    assert rows["X9"].execution_rate is None
    # halfway through the period the linear pace is 50%: underspend below 25%
    mid = {r.budget_line_id: r for r in execution(planned, records, elapsed=0.5)}
    assert mid["L1"].flags == ()
    assert mid["L4"].flags == ("underspend",)
    assert json.dumps([r.to_dict() for r in mid.values()])


def test_execution_refuses_bad_records() -> None:
    with pytest.raises(AllocationError) as info:
        execution({"L1": -1}, [SpendRecord("L1", "2026", -5, 1),
                               SpendRecord("", "2026", 1, float("nan"))], elapsed=2)
    text = "\n".join(info.value.problems)
    assert "elapsed: must be <= 1, got 2" in text
    assert "planned[L1]: must be >= 0, got -1" in text
    assert "records[0].committed: must be >= 0, got -5" in text
    assert "records[1].disbursed: must be a finite number" in text
    assert "records[1].budget_line_id: missing (required)" in text


def test_money_text() -> None:
    assert money_text(2_000_000, "EUR") == "€2m"
    assert money_text(2_500_000, "USD") == "$2.5m"
    assert money_text(45_000, "EUR") == "€45,000"
    assert money_text(12.5, "KES") == "KES 12.5"
