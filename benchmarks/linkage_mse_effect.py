"""How linkage error moves the MSE estimate, on the simulator: the estimate from tiplab's
linkage beside the estimate from the true linkage of the same records, and the true N.

Usage::

    .venv/bin/python benchmarks/linkage_mse_effect.py --seeds 42 7 --victims 20000
    .venv/bin/python benchmarks/linkage_mse_effect.py --seeds 42 --victims 200000 --json out.json

For each seed: ``tiplab simulate`` (the demo's settings: years 2015-2024, 2% defects), then
``tiplab link`` on the exports with the simulator's ``linkage_roles.yaml`` (the default
threshold), then :func:`tiplab.linkage.truth_effect.truth_effect` with the app's estimate:
the stepwise model by year (the demo's estimate of record), seed 1234, a 200-replicate BCa
bootstrap; ``overall`` is the same method unstratified, ``sum of strata`` adds the yearly
estimates. ``main`` (independence) is run beside it as the smooth reference. The records'
strata come from the same exports (``tiplab.linkage.link.prepare``), so both person tables
take a person's year by the same rule (the first registration year).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tiplab.cli.link import _inputs
from tiplab.linkage.link import prepare
from tiplab.linkage.truth_effect import (
    DEFAULT_NBOOT,
    DEFAULT_SEED,
    load_simulator_truth,
    read_truth,
    truth_effect,
)


def _run(cmd: list[str], log: Path) -> float:
    t0 = time.perf_counter()
    with log.open("w", encoding="utf-8") as fh:
        done = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed (exit {done.returncode}); see {log}")
    return time.perf_counter() - t0


def one_seed(
    seed: int,
    victims: int,
    years: str,
    work: Path,
    methods: list[str],
    by: tuple[str, ...],
    nboot: int,
) -> dict[str, Any]:
    sim, out = work / f"sim-{seed}-{victims}", work / f"link-{seed}-{victims}"
    py = [sys.executable, "-m", "tiplab"]
    t_sim = _run(
        [
            *py,
            "simulate",
            "--seed",
            str(seed),
            "--victims",
            str(victims),
            "--years",
            years,
            "--out",
            str(sim),
            "--json",
        ],
        work / f"simulate-{seed}.log",
    )
    t_link = _run(
        [*py, "link", "--roles", str(sim / "linkage_roles.yaml"), "--out", str(out), "--json"],
        work / f"link-{seed}.log",
    )
    clusters = pacsv.read_csv(
        out / "clusters.csv",
        convert_options=pacsv.ConvertOptions(
            column_types={"source": pa.string(), "record_id": pa.string(), "person_id": pa.string()}
        ),
    )
    persons = pq.read_table(out / "persons.parquet")
    records = prepare(_inputs([], sim / "linkage_roles.yaml"))[0]
    truth = read_truth(sim / "truth" / "records.csv")
    simulator = load_simulator_truth(sim / "truth")
    res: dict[str, Any] = {
        "seed": seed,
        "victims": victims,
        "years": years,
        "seconds": {"simulate": round(t_sim, 1), "link": round(t_link, 1)},
        "effects": {},
    }
    for method in methods:
        t0 = time.perf_counter()
        e = truth_effect(
            clusters,
            truth,
            records=records,
            by=by,
            method=method,
            nboot=nboot,
            seed=DEFAULT_SEED,
            simulator=simulator,
        )
        res["seconds"][f"estimate {method}"] = round(time.perf_counter() - t0, 1)
        if e.linked_persons != persons.num_rows:  # the rebuilt person table must be the run's
            print(
                f"WARNING seed {seed}: {e.linked_persons} linked persons rebuilt, "
                f"persons.parquet has {persons.num_rows}",
                file=sys.stderr,
            )
        print(f"\n== seed {seed}, {victims:,} victims, {method} ==")
        print(e.to_text())
        res["effects"][method] = e.to_dict()
    return res


def _cell(side: dict[str, Any] | None, interval: bool = True) -> str:
    if not side or side.get("estimate") is None:
        return "-"
    out = f"{side['estimate']:,.0f}"
    if interval and side.get("lower") is not None:
        out += f" ({side['lower']:,.0f}-{side['upper']:,.0f})"
    return out


def summary(results: list[dict[str, Any]]) -> str:
    """One Markdown table: the overall (unstratified) and the sum of the yearly estimates."""
    head = (
        "| seed | victims (true N) | method | persons linked / true | pairwise P / R | "
        "row | from tiplab's linkage | from the true linkage | difference |"
    )
    lines = [head, "|" + "---|" * 9]
    for r in results:
        for method, e in r["effects"].items():
            q = e["quality"]
            for row in (e["overall"], e.get("strata_sum")):
                if row is None:
                    continue
                interval = row["kind"] == "overall"
                diff = row["relative_difference"]
                lines.append(
                    f"| {r['seed']} | {r['victims']:,} | {method} | "
                    f"{e['linked_persons']:,} / {e['true_persons']:,} | "
                    f"{q['pairwise_precision']:.3f} / {q['pairwise_recall']:.3f} | "
                    f"{'unstratified' if interval else 'sum over years'} | "
                    f"{_cell(row['linked'], interval)} | {_cell(row['true'], interval)} | "
                    f"{'-' if diff is None else f'{diff:+.1%}'} |"
                )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[42, 7])
    ap.add_argument("--victims", type=int, default=20000)
    ap.add_argument("--years", default="2015-2024")
    ap.add_argument("--methods", nargs="+", default=["stepwise", "main"])
    ap.add_argument("--by", nargs="*", default=["year"])
    ap.add_argument("--nboot", type=int, default=DEFAULT_NBOOT)
    ap.add_argument("--workdir", type=Path, help="keep the simulations and linkages here")
    ap.add_argument("--json", type=Path, help="write every result to this JSON file")
    args = ap.parse_args()
    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="linkage-mse-effect-")
        work = Path(tmp.name)
    else:
        work = args.workdir
        work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        results = [
            one_seed(s, args.victims, args.years, work, args.methods, tuple(args.by), args.nboot)
            for s in args.seeds
        ]
    finally:
        if tmp is not None:
            tmp.cleanup()
    print(
        f"\n{date.today().isoformat()}: seeds {args.seeds}, {args.victims:,} victims, "
        f"years {args.years}, nboot {args.nboot}, strata {args.by or 'none'}; "
        f"{time.perf_counter() - t0:.0f} s"
    )
    for r in results:
        print(f"seed {r['seed']}: seconds {r['seconds']}")
    print(summary(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
