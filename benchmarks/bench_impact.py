"""Impact evaluation: time of synthetic control with placebo inference, and interval coverage.

Usage:
    .venv/bin/python benchmarks/bench_impact.py                  # timing (50 donors)
    .venv/bin/python benchmarks/bench_impact.py --coverage 200   # coverage and bias table

Timing: a panel of 51 regions (1 treated, 50 donors) x 20 years, start in year 13; the
synthetic control is fitted once and for each of the 50 donors as a placebo.

Coverage: ``tiplab.policy.impact.simpanel`` panels with a known effect, replicated; for each
method the share of 95% intervals that contain the true average effect, the mean bias, and
(for synthetic control) the share of placebo p-values <= 0.05 when there is no effect.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from tiplab.policy.impact import ImpactSettings, evaluate
from tiplab.policy.impact.simpanel import SimulatedPanel, simulate_panel


def _fit(method: str, sim: SimulatedPanel, **kw: object):  # type: ignore[no-untyped-def]
    s = ImpactSettings(method=method, unit="unit", time="time", outcome="y",  # type: ignore[arg-type]
                       adoption=sim.adoption, **kw)  # type: ignore[arg-type]
    return evaluate(sim.frame, s)


def timing(runs: int) -> None:
    sim = simulate_panel(n_units=51, n_periods=20, cohorts=(13,), treated_share=1 / 51,
                         effect=1.0, rho=0.5, seed=1)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = _fit("synth", sim)
        times.append(time.perf_counter() - t0)
    print(f"synthetic control, 50 donors x 20 periods, {len(r.series['placebos'])} placebos: "
          f"median {statistics.median(times):.2f} s, min {min(times):.2f} s, "
          f"max {max(times):.2f} s over {runs} runs")


def coverage(reps: int) -> None:
    designs = {
        "common start, AR(1) 0.3 (40 units x 10 periods, 20 treated from period 6)": dict(
            n_units=40, n_periods=10, cohorts=(6,), treated_share=0.5, effect=1.0, rho=0.3),
        "staggered, effect growing 0.5 per period (60 x 12, cohorts 4/7/10, 36 treated)": dict(
            n_units=60, n_periods=12, cohorts=(4, 7, 10), treated_share=0.6, effect=1.0,
            growth=0.5, sigma=0.5),
    }
    for name, kw in designs.items():
        print(f"\n{name}, {reps} replications")
        print("| method | coverage of 95% interval | mean bias | mean estimate |")
        print("|---|---:|---:|---:|")
        for m in ("did", "event", "cs"):
            hit, bias, est = 0, [], []
            for seed in range(reps):
                sim = simulate_panel(seed=seed, **kw)  # type: ignore[arg-type]
                r = _fit(m, sim)
                truth = sim.true_att if m != "event" else float(np.mean(
                    [v for k, v in sim.true_event.items() if k >= 0]))
                hit += r.conf_low <= truth <= r.conf_high
                bias.append(r.estimate - truth)
                est.append(r.estimate)
            print(f"| {m} | {hit / reps:.3f} | {np.mean(bias):+.3f} | {np.mean(est):.3f} |")
    print(f"\nITS, one series of 60 periods, start at 31, level change 1, {reps} replications")
    print("| AR(1) rho | coverage of 95% interval | mean bias |")
    print("|---:|---:|---:|")
    for rho in (0.0, 0.3, 0.6):
        hit, bias = 0, []
        for seed in range(reps):
            sim = simulate_panel(n_units=1, n_periods=60, cohorts=(31,), treated_share=1.0,
                                 effect=1.0, rho=rho, seed=10_000 + seed)
            r = _fit("its", sim)
            hit += r.conf_low <= sim.true_att <= r.conf_high
            bias.append(r.estimate - sim.true_att)
        print(f"| {rho} | {hit / reps:.3f} | {np.mean(bias):+.3f} |")
    print(f"\nsynthetic control, 1 treated + 30 donors x 15 periods, start 11, {reps} "
          "replications")
    print("| true effect | mean estimate | share p <= 0.05 |")
    print("|---:|---:|---:|")
    for eff in (0.0, 2.0):
        est, rej = [], 0
        for seed in range(reps):
            sim = simulate_panel(n_units=31, n_periods=15, cohorts=(11,),
                                 treated_share=1 / 31, effect=eff, sigma=0.5, seed=seed)
            r = _fit("synth", sim)
            est.append(r.estimate)
            rej += r.p_value is not None and r.p_value <= 0.05
        print(f"| {eff} | {np.mean(est):.3f} | {rej / reps:.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--coverage", type=int, default=0, help="replications (0 = timing only)")
    a = ap.parse_args()
    timing(a.runs)
    if a.coverage:
        coverage(a.coverage)


if __name__ == "__main__":
    main()
