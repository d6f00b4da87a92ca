"""Funding allocation: time to solve a large allocation problem, and the greedy heuristic.

Usage: .venv/bin/python benchmarks/bench_allocation.py [--measures 500] [--regions 30]
       [--years 4] [--constraints 50] [--repeats 3] [--seed 7] [--mip-gap 0.001]
       [--everywhere] [--explain] [--json]

Builds (seeded) a scenario document of ``--measures`` measures under the 4 pillars, in
``--regions`` regions over ``--years`` years, funded from 3 sources (government,
international_aid, private), read by ``problem_from_dict`` (so it is validated like any file).
About 10% of the measures are national, 30% run in a subset of the regions, 20% in a subset of
the years (``--everywhere``: every measure runs in every region and year, the full grid); 15%
have a fixed cost and 5% a minimum number of units (on/off decisions, so the problem is a
mixed-integer program), 5 are mandatory, 10% have diminishing returns (3 segments), 80% a
limit per region-year, the others a total limit, and 10% may use only some sources. The
``--constraints`` policy constraints are 4 pillar shares, 2 earmarks (international aid for
protection and prevention; private money for 20 listed measures) and region floors for the
rest (whole-period floors first, then 2026-only floors). Budgets cover about a third of what
the measures could absorb.

Then times ``tiplab.policy.allocation.solve`` (model building, HiGHS, the duals and the
result tables) and ``greedy``: the median of ``--repeats`` runs each, wall and CPU seconds of
this process, with the objective values, the model size and the greedy's gap. The greedy
ignores shares and floors, so the same problem without them is also solved once by both (the
greedy allocation is then feasible and its gap is its real shortfall). ``--explain`` also
solves an infeasible variant (protection at least 60% and prevention at least 50% of spend)
and times the explanation of the conflict.

Target: the solver under 2 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from tiplab.policy.allocation import (
    DEFAULT_MIP_GAP,
    Allocation,
    _build,
    greedy,
    problem_from_dict,
    solve,
)

PILLARS = ("prevention", "protection", "prosecution", "partnership")
SOURCES = (("government", 0.6), ("international_aid", 0.3), ("private", 0.1))


def scenario(measures: int = 500, regions: int = 30, years: int = 4, constraints: int = 50,
             seed: int = 7, everywhere: bool = False) -> dict[str, Any]:
    rng = random.Random(seed)
    region_ids = [f"R{i + 1:02d}" for i in range(regions)]
    year_ids = list(range(2025, 2025 + years))
    out: list[dict[str, Any]] = []
    potential = 0.0
    for i in range(measures):
        pillar = PILLARS[i % 4]
        unit_cost = round(rng.lognormvariate(8.0, 1.0), 2)  # median ~3,000
        base = rng.uniform(0.5, 2.0) * unit_cost / 1000
        m: dict[str, Any] = {"id": f"M{i + 1:03d}", "pillar": pillar,
                             "title": f"Measure {i + 1}", "unit_cost": unit_cost}
        u = rng.random()
        if u < 0.10 and not everywhere:
            m["regions"] = "national"
            places = 1
            m["effect"] = round(base * rng.uniform(2, 6), 4)
        else:
            if u < 0.40 and not everywhere:
                m["regions"] = sorted(rng.sample(region_ids, rng.randint(5, 15)))
            places = len(m.get("regions", region_ids))
            effect = {"default": round(base, 4)}
            for r in rng.sample(m.get("regions", region_ids), max(1, places // 3)):
                effect[r] = round(base * rng.uniform(0.3, 3.0), 4)
            m["effect"] = effect
        n_years = years
        if rng.random() < 0.20 and years > 1 and not everywhere:
            first = rng.randrange(years - 1)
            m["years"] = year_ids[first:]
            n_years = years - first
        if rng.random() < 0.80:
            m["max_units"] = rng.randint(5, 60)
        elif rng.random() < 0.5:
            m["max_total_units"] = rng.randint(50, 800)
        else:
            m["max_total_units"] = rng.randint(100, 1500)
        if rng.random() < 0.15:
            m["fixed_cost"] = round(unit_cost * rng.uniform(5, 40), 2)
        if rng.random() < 0.05:
            m["min_units"] = rng.randint(1, 3)
            if "max_units" in m:
                m["max_units"] = max(m["max_units"], m["min_units"])
            if "max_total_units" in m:
                m["max_total_units"] = max(m["max_total_units"],
                                           m["min_units"] * places * n_years)
        if i < 5:
            m["mandatory"] = True
            m.setdefault("fixed_cost", round(unit_cost * 10, 2))
        if rng.random() < 0.10:
            m["returns"] = [{"units": rng.randint(3, 10), "factor": 1.0},
                            {"units": rng.randint(5, 20), "factor": 0.6},
                            {"factor": 0.3}]
        if rng.random() < 0.10:
            m["sources"] = ["government", "international_aid"]
        per_cell = m.get("max_units", 30)
        cap = per_cell * places * n_years
        if "max_total_units" in m:
            cap = min(cap, m["max_total_units"])
        potential += unit_cost * cap + m.get("fixed_cost", 0.0)
        out.append(m)
    total = potential / 3
    sources = [{"id": s, "title": s.replace("_", " ").title(),
                "budget": {y: round(total * share / years * rng.uniform(0.85, 1.15), 2)
                           for y in year_ids}} for s, share in SOURCES]
    shares = [{"pillar": "protection", "min_share": 0.30},
              {"pillar": "prevention", "min_share": 0.20},
              {"pillar": "prosecution", "min_share": 0.15},
              {"pillar": "partnership", "min_share": 0.10}]
    earmarks = [{"source": "international_aid", "pillars": ["protection", "prevention"]},
                {"source": "private",
                 "measures": [m["id"] for m in rng.sample(out, 20)]}]
    floors: list[dict[str, Any]] = []
    n_floors = max(0, constraints - len(shares) - len(earmarks))
    fair = total / regions
    for k in range(n_floors):
        r = region_ids[k % regions]
        if k < regions:
            floors.append({"region": r, "min_spend": round(fair * rng.uniform(0.2, 0.4), 2)})
        else:
            floors.append({"region": r, "year": year_ids[min(1, years - 1)],
                           "min_spend": round(fair / years * rng.uniform(0.3, 0.6), 2)})
    return {"title": f"Benchmark allocation, seed {seed}", "currency": "EUR",
            "years": year_ids, "regions": region_ids, "sources": sources, "measures": out,
            "constraints": {"pillar_shares": shares, "region_floors": floors,
                            "earmarks": earmarks}}


def timed(fn: Callable[[], Allocation], repeats: int) -> tuple[Allocation, float, float]:
    walls, cpus = [], []
    result: Allocation | None = None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    assert result is not None
    return result, statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--measures", type=int, default=500)
    ap.add_argument("--regions", type=int, default=30)
    ap.add_argument("--years", type=int, default=4)
    ap.add_argument("--constraints", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--mip-gap", type=float, default=DEFAULT_MIP_GAP)
    ap.add_argument("--everywhere", action="store_true",
                    help="every measure runs in every region and year (the full grid)")
    ap.add_argument("--explain", action="store_true",
                    help="also time an infeasible variant (protection 60%% and prevention 50%% "
                         "of spend) and its explanation")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    load = os.getloadavg()[0]
    doc = scenario(a.measures, a.regions, a.years, a.constraints, a.seed, a.everywhere)
    t0 = time.perf_counter()
    problem = problem_from_dict(doc)
    validate_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = _build(problem)
    build_s = time.perf_counter() - t0
    n_cons = (len(problem.constraints.pillar_shares) + len(problem.constraints.region_floors)
              + len(problem.constraints.earmarks))
    solved, s_wall, s_cpu = timed(lambda: solve(problem, mip_gap=a.mip_gap), a.repeats)
    heur, g_wall, g_cpu = timed(lambda: greedy(problem), a.repeats)
    gap = _gap(solved, heur)
    # the same problem without pillar shares and region floors: the greedy allocation is then
    # feasible for the solver's problem, so the gap is the heuristic's real shortfall
    loose = dict(doc, constraints={"earmarks": doc["constraints"]["earmarks"]})
    lp = problem_from_dict(loose)
    loose_solved = solve(lp, mip_gap=a.mip_gap)
    loose_greedy = greedy(lp)
    loose_gap = _gap(loose_solved, loose_greedy)
    explained: dict[str, Any] | None = None
    if a.explain:
        bad = json.loads(json.dumps(doc))
        bad["constraints"]["pillar_shares"][0]["min_share"] = 0.6
        bad["constraints"]["pillar_shares"][1]["min_share"] = 0.5
        w0, c0 = time.perf_counter(), time.process_time()
        inf = solve(problem_from_dict(bad), mip_gap=a.mip_gap)
        explained = {"status": inf.status, "wall_s": round(time.perf_counter() - w0, 3),
                     "cpu_s": round(time.process_time() - c0, 3), "message": inf.message,
                     "complete": None if inf.conflict is None else inf.conflict.complete}
    out = {
        "measures": a.measures, "regions": a.regions, "years": a.years,
        "constraints": n_cons, "seed": a.seed, "repeats": a.repeats, "mip_gap": a.mip_gap,
        "columns": int(model.c.size), "on_off_columns": int((model.integrality == 1).sum()),
        "inequality_rows": int(model.a_ub.shape[0]), "equality_rows": int(model.a_eq.shape[0]),
        "nonzeros": int(model.a_ub.nnz + model.a_eq.nnz),
        "validate_s": round(validate_s, 3), "build_s": round(build_s, 3),
        "solver": {"status": solved.status, "method": solved.method,
                   "objective": solved.objective, "bound": solved.bound,
                   "gap": solved.gap, "wall_s": round(s_wall, 3),
                   "cpu_s": round(s_cpu, 3), "rows": len(solved.rows),
                   "binding": len(solved.binding), "duals": solved.duals},
        "greedy": {"status": heur.status, "objective": heur.objective,
                   "wall_s": round(g_wall, 3), "cpu_s": round(g_cpu, 3),
                   "warnings": heur.warnings,
                   "gap_to_solver": None if gap is None else round(gap, 4)},
        "without_shares_and_floors": {
            "solver": {"status": loose_solved.status, "objective": loose_solved.objective,
                       "wall_s": round(loose_solved.seconds, 3)},
            "greedy": {"status": loose_greedy.status, "objective": loose_greedy.objective,
                       "wall_s": round(loose_greedy.seconds, 3),
                       "gap_to_solver": None if loose_gap is None else round(loose_gap, 4)}},
        "infeasible_explained": explained,
        "load_average_before": round(load, 2),
        "cpus": os.cpu_count(),
    }
    if a.json:
        print(json.dumps(out, indent=2))
        return
    print(f"{a.measures} measures × {a.regions} regions × {a.years} years, {n_cons} "
          f"constraints (seed {a.seed}); load average before {load:.2f}, {os.cpu_count()} CPUs")
    print(f"model: {out['columns']:,} columns ({out['on_off_columns']} on/off), "
          f"{out['inequality_rows']:,} inequality + {out['equality_rows']:,} equality rows, "
          f"{out['nonzeros']:,} nonzeros; validation {validate_s:.3f} s, build {build_s:.3f} s")
    proven = "" if solved.gap is None else f" (within {solved.gap:.4%} of the bound)"
    print(f"solver ({solved.method}, {solved.status}): objective {solved.objective or 0.0:,.2f}"
          f"{proven}  median {s_wall:.3f} s wall, {s_cpu:.3f} s CPU over {a.repeats} runs; "
          f"{len(solved.binding)} binding constraints")
    g_obj = heur.objective or 0.0
    where = ("" if gap is None else
             f"{gap:.2%} below the solver" if gap >= 0 else f"{-gap:.2%} above the solver")
    print(f"greedy ({heur.status}): objective {g_obj:,.2f}  median {g_wall:.3f} s wall, "
          f"{g_cpu:.3f} s CPU; {where}")
    for w in heur.warnings:
        print(f"  greedy: {w}")
    print(f"without shares and floors (one run each): solver {loose_solved.status} "
          f"{loose_solved.objective or 0.0:,.2f} in {loose_solved.seconds:.3f} s, greedy "
          f"{loose_greedy.status} {loose_greedy.objective or 0.0:,.2f} in "
          f"{loose_greedy.seconds:.3f} s"
          + ("" if loose_gap is None else f" ({loose_gap:.2%} below the solver)"))
    if explained is not None:
        print(f"infeasible variant ({explained['status']}, explained in {explained['wall_s']:.1f}"
              f" s wall, {explained['cpu_s']:.1f} s CPU): {explained['message']}")


def _gap(solved: Allocation, heur: Allocation) -> float | None:
    if solved.objective is None or heur.objective is None or not solved.objective:
        return None
    return (solved.objective - heur.objective) / solved.objective


if __name__ == "__main__":
    main()
