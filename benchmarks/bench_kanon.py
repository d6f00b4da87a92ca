"""k-anonymous microdata (tiplab.privacy.kanon, tiplab.privacy.layouts): speed at 100,000
records x 8 quasi-identifiers, and what a CTDC-layout release keeps next to CTDC's own
k-anonymised 2021 file.

Usage: .venv/bin/python benchmarks/bench_kanon.py [--victims 100000] [--repeat 3]
       [--work DIR] [--skip-ctdc]

Part 1 builds one case record per hidden victim of a simulated country (the simulator's truth,
seed 7), releases it k-anonymously over 8 quasi-identifiers (k=11, at most 5% of records in
local suppression), checks the result by brute force (also on the CSV as written), and, as a
baseline in the same run, evaluates every node of the same lattice exhaustively (no tagging,
no pruning) to confirm that the search found the least-loss node.

Part 2 builds a dataset comparable to CTDC's K-anon release of 15 July 2021 (97,750 records):
the simulator's victims, with CTDC's distributions of year, country of exploitation and data
source (``shared/data/ctdc/kanon_2021_aggregates``) and CTDC's published missing shares
applied at random, puts it in the CTDC layout and releases it at k=11 and k=10 (CTDC's
codebook v7 says k=10), with and without generalisation, and prints the share of records
kept and, per variable, the share missing next to CTDC's published figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
CTDC_AGG = ROOT.parent / "shared" / "data" / "ctdc" / "kanon_2021_aggregates"
CODES = pa.list_(pa.string())
QIS = ["registration_date", "sex", "age_band", "citizenship", "region_of_exploitation",
       "exploitation_forms", "labour_sectors", "recruiter_relation"]


def _simulate(work: Path, victims: int, seed: int) -> Path:
    from tiplab.simulate import SimulationSettings, simulate

    out = work / f"sim-{seed}-{victims}"
    truth = out / "truth" / "victims.parquet"
    if not truth.exists():
        t = time.perf_counter()
        simulate(SimulationSettings(seed=seed, victims=victims), out)
        print(f"simulated {victims:,} victims in {time.perf_counter() - t:.1f} s")
    return truth


def truth_cases(path: Path) -> pa.Table:
    """One case record (CASE_SCHEMA columns) per hidden victim of the simulator's truth."""
    from tiplab.records.codes import age_band

    v = pq.read_table(path)
    age = v.column("age_at_identification").to_numpy()
    bands = np.array([age_band(a) for a in range(131)], dtype=object)[age]

    def one(col: str) -> pa.Array:
        return pa.array([None if x is None else [x] for x in v.column(col).to_pylist()], CODES)

    return pa.table({
        "registration_date": v.column("identification_date"),
        "sex": v.column("sex"),
        "age": v.column("age_at_identification"),
        "age_band": pa.array(bands, pa.string()),
        "majority_status": pa.array(np.where(age < 18, "Minor", "Adult"), pa.string()),
        "citizenship": v.column("citizenship"),
        "region_of_exploitation": v.column("region_of_exploitation"),
        "exploitation_forms": one("exploitation_form"),
        "labour_sectors": one("labour_sector"),
        "means_of_control": v.column("means_of_control"),
        "recruiter_relation": v.column("recruiter_relation"),
    })


def _as_text(table: pa.Table, cols: list[str]) -> pa.Table:
    """The QIs as the text k_anonymise sees at level 0 (dates -> year, lists -> sorted)."""
    import pyarrow.compute as pc

    out = {}
    for c in cols:
        a = table.column(c)
        if pa.types.is_date(a.type):
            out[c] = pc.cast(pc.year(a), pa.string())
        elif pa.types.is_list(a.type):
            out[c] = pa.array([None if not x else ";".join(sorted(x)) for x in a.to_pylist()],
                              pa.string())
        else:
            out[c] = a
    return pa.table(out)


def _exhaustive(table: pa.Table, hierarchies: dict[str, Any], k: int,
                allowed: int) -> tuple[float, int]:
    """Baseline: every node of the lattice, generalised on the frequency set with numpy.
    Independent of the search: returns the least generalisation loss among the nodes with
    at most ``allowed`` records in small classes, and the number of nodes."""
    from tiplab.privacy.kanon import SUPPRESSED

    cols = table.column_names
    frame = table.to_pandas()
    fs = frame.groupby(cols, dropna=False).size().reset_index(name="n")
    counts = fs["n"].to_numpy(dtype=np.float64)
    n = counts.sum()
    per_col = []
    for c in cols:
        vals = [None if (isinstance(v, float) and np.isnan(v)) else v for v in fs[c]]
        h = hierarchies[c]
        domain = sorted({v for v in vals if v is not None})
        levels = []
        for lv in range(h.height):
            labels = [str(h.label(v, lv)) for v in vals]
            codes = pd.factorize(np.array(labels, dtype=object))[0]
            dlabels = {d: h.label(d, lv) for d in domain}
            ncp = np.zeros(len(vals))
            for i, v in enumerate(vals):
                if v is None:
                    continue
                lab = dlabels[v]
                if lab == SUPPRESSED:
                    ncp[i] = 1.0
                elif len(domain) > 1:
                    cover = sum(1 for d in domain if dlabels[d] == lab)
                    ncp[i] = (cover - 1) / (len(domain) - 1)
            levels.append((codes, float((ncp * counts).sum() / n)))
        per_col.append(levels)
    best = np.inf
    nodes = 0
    for node in itertools.product(*(range(len(x)) for x in per_col)):
        nodes += 1
        loss = float(np.mean([per_col[j][lv][1] for j, lv in enumerate(node)]))
        if loss >= best:
            continue
        key = np.zeros(len(counts), dtype=np.int64)
        for j, lv in enumerate(node):
            codes = per_col[j][lv][0]
            key = pd.factorize(key * (int(codes.max()) + 1) + codes)[0]
        sizes = np.bincount(key, weights=counts)
        if sizes[sizes < k].sum() <= allowed:
            best = loss
    return best, nodes


def part1(work: Path, victims: int, repeat: int) -> None:
    from tiplab.privacy.kanon import check_k, country_hierarchy, default_hierarchy, k_anonymise
    from tiplab.privacy.layouts import write

    cases = truth_cases(_simulate(work, victims, 7))
    qi = _as_text(cases, QIS)
    # the simulated country's code is user-assigned: place it in a sub-region
    hier = {"citizenship": country_hierarchy({"XTL": "Eastern Europe"})}
    print(f"\n## Part 1: {qi.num_rows:,} records x {len(QIS)} quasi-identifiers, k=11, "
          f"max 5% of records in local suppression")
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        r = k_anonymise(qi, k=11, hierarchies=hier)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    w = time.perf_counter()
    rr = k_anonymise(qi, k=11, hierarchies=hier, suppression="records")
    w_rec = time.perf_counter() - w
    w = time.perf_counter()
    bad = check_k(r.table, QIS, 11)
    w_check = time.perf_counter() - w
    with tempfile.TemporaryDirectory() as tmp:
        path = write(r, Path(tmp) / "release.csv")
        back = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in QIS}, strings_can_be_null=True))
        bad_file = check_k(back, QIS, 11)
    print(f"k_anonymise (cells), median of {repeat}: {statistics.median(walls):.2f} s wall, "
          f"{statistics.median(cpus):.2f} s CPU (runs: "
          f"{', '.join(f'{x:.2f}' for x in walls)})")
    print(f"k_anonymise (records): {w_rec:.2f} s wall")
    print(f"check_k on the released table: {w_check:.2f} s, violations {len(bad)}; "
          f"on the CSV as written and read back: {len(bad_file)}")
    print(f"lattice {r.nodes} nodes, {r.nodes_evaluated} evaluated")
    print("| QI | level | released as | values suppressed | NCP |")
    print("|---|---:|---|---:|---:|")
    for q in r.quasi_identifiers:
        print(f"| {q} | {r.levels[q]} | {r.level_names[q]} | {r.values_suppressed[q]:,} | "
              f"{r.ncp[q]:.3f} |")
    for label, x in (("cells", r), ("records", rr)):
        print(f"{label}: records kept {x.records_out:,} of {x.records_in:,} "
              f"({100 * x.records_out / x.records_in:.2f}%), removed {x.records_suppressed:,}, "
              f"cells suppressed {x.cells_suppressed_total:,}, classes {x.classes:,} "
              f"(smallest {x.smallest_class}), NCP {x.ncp_overall:.4f}, "
              f"DM {x.discernibility:,}, C_avg {x.average_class_size:.1f}")
    full = {c: hier.get(c) or default_hierarchy(c, qi.column(c).to_pylist()) for c in QIS}
    w = time.perf_counter()
    best, nodes = _exhaustive(qi, full, 11, int(np.floor(0.05 * qi.num_rows + 1e-9)))
    w_ex = time.perf_counter() - w
    chosen = float(np.mean([_gen_loss(qi.column(c).to_pylist(), full[c], r.levels[c])
                            for c in QIS]))
    print(f"baseline, exhaustive search of the same {nodes} nodes: {w_ex:.2f} s; least "
          f"generalisation loss {best:.6f}; the search's node: {chosen:.6f}")


def _gen_loss(values: list[Any], h: Any, level: int) -> float:
    from tiplab.privacy.kanon import SUPPRESSED

    domain = sorted({v for v in values if v is not None})
    labels = {d: h.label(d, level) for d in domain}
    cover: dict[Any, int] = {}
    for lab in labels.values():
        cover[lab] = cover.get(lab, 0) + 1
    tot = 0.0
    for v in values:
        if v is None:
            continue
        lab = labels[v]
        tot += 1.0 if lab == SUPPRESSED else (
            (cover[lab] - 1) / (len(domain) - 1) if len(domain) > 1 else 0.0)
    return tot / len(values)


# -- part 2: CTDC --------------------------------------------------------------------------

CTDC_N = 97_750


def ctdc_like(work: Path, seed: int = 11) -> pa.Table:
    """Case records shaped like CTDC's 2021 file (see the module docstring)."""
    import pycountry

    v = pq.read_table(_simulate(work, 100_000, 7)).slice(0, CTDC_N).to_pandas()
    rng = np.random.default_rng(seed)
    n = len(v)
    years = pd.read_csv(CTDC_AGG / "year_summary.csv")
    year = rng.choice(years["yearOfRegistration"].to_numpy(), n,
                      p=(years["n_records"] / years["n_records"].sum()).to_numpy())
    countries = pd.read_csv(CTDC_AGG / "country_summary.csv", keep_default_na=False)
    a3 = [pycountry.countries.get(alpha_2=c) for c in countries["CountryOfExploitation"]]
    codes = np.array([None if c is None else c.alpha_3 for c in a3], dtype=object)
    w = countries["n_records"].to_numpy(dtype=float)
    coe = rng.choice(codes, n, p=w / w.sum()).astype(object)
    missing = pd.read_csv(CTDC_AGG / "missing_summary.csv", index_col=0)["missing_pct"] / 100
    coe[rng.random(n) < missing["CountryOfExploitation"]] = None
    sources = pd.read_csv(CTDC_AGG / "source_summary.csv")
    p_hot = float(sources.set_index("Datasource").loc["Hotline", "n_records"] / CTDC_N)
    source = np.where(rng.random(n) < p_hot, "Hotline", "Case Management")
    cit = v["citizenship"].to_numpy(dtype=object)
    # the simulated country's own citizens are domestic victims: citizens of the country of
    # exploitation (drawn like it where that is missing, so citizenship is not missing more)
    domestic = cit == "XTL"
    cit[domestic] = np.where(coe[domestic] == None, rng.choice(  # noqa: E711
        codes, int(domestic.sum()), p=w / w.sum()), coe[domestic])
    age = v["age_at_identification"].to_numpy()
    from tiplab.records.codes import age_band
    band = np.array([age_band(a) for a in range(131)], dtype=object)[age]
    major = np.where(age < 18, "Minor", "Adult").astype(object)
    forms = v["exploitation_form"].to_numpy(dtype=object)
    # assumption (the simulator has no sub-type): CTDC-like shares of sexual exploitation
    sex_type = rng.choice(["Prostitution", "Pornography", "RemoteInteractiveServices",
                           "PrivateSexualServices"], n, p=[0.85, 0.08, 0.04, 0.03])

    def gaps(values: np.ndarray, share: float) -> np.ndarray:
        out = values.copy()
        out[rng.random(n) < share] = None
        return out

    forms_kept = gaps(forms, missing["typeOfExploitConcatenated"])
    means = v["means_of_control"].to_numpy(dtype=object)
    means = np.array([None if m is None else list(m) for m in means], dtype=object)
    means[rng.random(n) < missing["meansOfControlConcatenated"]] = None
    sectors = v["labour_sector"].to_numpy(dtype=object)
    return pa.table({
        "source_agency": pa.array(source, pa.string()),
        "registration_date": pa.array([dt.date(int(y), 7, 1) for y in year]),
        "sex": pa.array(gaps(v["sex"].to_numpy(dtype=object), missing["gender"]), pa.string()),
        "age_band": pa.array(gaps(band, missing["ageBroad"]), pa.string()),
        "majority_status": pa.array(gaps(major, missing["majorityStatus"]), pa.string()),
        "citizenship": pa.array(gaps(cit, missing["citizenship"]), pa.string()),
        "country_of_exploitation": pa.array(coe, pa.string()),
        "exploitation_forms": pa.array([None if f is None else [f] for f in forms_kept], CODES),
        "labour_sectors": pa.array([None if s is None or f is None else [s]
                                    for s, f in zip(sectors, forms_kept, strict=True)], CODES),
        "sexual_exploitation_types": pa.array(
            [[t] if f == "SexualExploitation" else None
             for t, f in zip(sex_type, forms_kept, strict=True)], CODES),
        "means_of_control": pa.array(list(means), CODES),
        "recruiter_relation": pa.array(gaps(v["recruiter_relation"].to_numpy(dtype=object),
                                            missing["RecruiterRelationship"]), pa.string()),
    })


VARIABLES = ["yearOfRegistration", "Datasource", "gender", "ageBroad", "majorityStatus",
             "citizenship", "CountryOfExploitation", "meansOfControlConcatenated",
             "typeOfExploitConcatenated", "typeOfLabourConcatenated", "typeOfSexConcatenated",
             "RecruiterRelationship"]
DEMOGRAPHIC = ["yearOfRegistration", "Datasource", "gender", "ageBroad", "majorityStatus",
               "citizenship", "CountryOfExploitation"]


def _missing(table: pa.Table, col: str) -> tuple[float, float]:
    """Share null or "*" in a column, and share "*" only."""
    vals = table.column(col).cast(pa.string()).to_pylist()
    n = len(vals) or 1
    star = sum(1 for x in vals if x == "*")
    return (sum(1 for x in vals if x is None) + star) / n, star / n


def part2(work: Path) -> None:
    from tiplab.privacy.kanon import k_anonymise
    from tiplab.privacy.layouts import to_ctdc

    cases = ctdc_like(work)
    layout = to_ctdc(cases, datasource={"Hotline": "Hotline",
                                        "Case Management": "Case Management"})
    t = layout.table
    print(f"\n## Part 2: CTDC layout, {t.num_rows:,} records x {t.num_columns} columns, every "
          f"column a quasi-identifier ({len(layout.groups)} flag groups of one QI each)")
    print(f"mapping report: {layout.unmapped:,} values sent to other/missing "
          f"({', '.join(f'{r.source} {r.unmapped:,}' for r in layout.report if r.unmapped)})")
    runs = {
        "A k=11 optimal, 5%": dict(k=11, groups=layout.groups),
        "B k=10 optimal, 5%": dict(k=10, groups=layout.groups),
        "C k=11 no generalisation, cells": dict(k=11, groups=layout.groups,
                                                 max_suppression=0.999),
        "D k=11 no generalisation, records": dict(k=11, groups=layout.groups,
                                                   max_suppression=0.999,
                                                   suppression="records"),
        "E k=11 demographic QIs only, records": dict(k=11, quasi_identifiers=DEMOGRAPHIC,
                                                      max_suppression=0.999,
                                                      suppression="records"),
        "F k=11 demographic QIs only, optimal, 5%": dict(
            k=11, quasi_identifiers=DEMOGRAPHIC,
            insensitive=[c for c in t.column_names if c not in DEMOGRAPHIC]),
    }
    results = {}
    print("| run | wall s | records kept | records removed | QIs generalised |")
    print("|---|---:|---:|---:|---|")
    for name, kw in runs.items():
        w = time.perf_counter()
        r = k_anonymise(t, **kw)  # type: ignore[arg-type]
        wall = time.perf_counter() - w
        results[name] = r
        gen = ", ".join(f"{q}={r.level_names[q]}" for q in r.quasi_identifiers
                        if r.levels[q] > 0) or "none"
        print(f"| {name} | {wall:.1f} | {r.records_out:,} "
              f"({100 * r.records_out / r.records_in:.1f}%) | {r.records_suppressed:,} | "
              f"{gen} |")
    print("CTDC: 'in the case of the original data, 40% of case records would need to be "
          "suppressed' (Global Synthetic Data Codebook v2, 2024, p. 1), i.e. about 60% kept")
    ctdc = pd.read_csv(CTDC_AGG / "missing_summary.csv", index_col=0)["missing_pct"]
    shown = {"A": "A k=11 optimal, 5%", "C": "C k=11 no generalisation, cells",
             "F": "F k=11 demographic QIs only, optimal, 5%"}
    print("\nMissing share per variable, in % of the input records (a removed record counts "
          "as missing in every column; in brackets: '*' or removed, i.e. lost to the "
          "anonymisation):")
    print("| variable | CTDC 2021 file | ours, before release | "
          + " | ".join(f"{k}: after release" for k in shown) + " |")
    print("|---|---:|---:|" + "---:|" * len(shown))
    for col in VARIABLES:
        before, _ = _missing(t, col)
        cells = []
        for name in shown.values():
            r = results[name]
            m, star = _missing(r.table, col)
            kept = r.records_out / r.records_in
            lost = 1 - kept
            cells.append(f"{100 * (m * kept + lost):.1f} ({100 * (star * kept + lost):.1f})")
        ref = f"{ctdc[col]:.1f}" if col in ctdc.index else "0 (not listed)"
        print(f"| {col} | {ref} | {100 * before:.1f} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--victims", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--skip-ctdc", action="store_true")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_kanon_"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}")
    part1(work, args.victims, args.repeat)
    if not args.skip_ctdc:
        part2(work)


if __name__ == "__main__":
    main()
