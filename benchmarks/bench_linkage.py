"""Benchmark of tiplab.linkage: clear text, encoded, and the recordlinkage peer.

    .venv/bin/python benchmarks/bench_linkage.py --records 1000000 --work /tmp/tiplab-bench

Data: a ROLES.yaml + truth/records.csv directory (``--data``, e.g. from ``tiplab simulate``),
otherwise the seeded generator of tests/unit/linkage/factories.py at the requested scale.
Each stage runs in its own process so its peak memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "unit" / "linkage"))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage_generate(a: argparse.Namespace) -> dict[str, object]:
    from factories import make_dataset

    t = time.perf_counter()
    n_persons = int(a.records / 2.2)
    ds = make_dataset(n_persons, seed=a.seed, n_generated_given=4000, n_generated_family=30000)
    ds.write(Path(a.work) / "data", fmt="parquet")
    return {"records": ds.truth.num_rows, "persons": n_persons, "seconds": time.perf_counter() - t}


def _inputs(data: Path, encoded_dir: Path | None = None) -> list[object]:
    from tiplab.linkage import LinkInput, RolesFile
    from tiplab.linkage.io import read_table

    roles = RolesFile.load(data / "linkage_roles.yaml")
    out = []
    for name, spec in roles.inputs.items():
        if encoded_dir is not None:
            t = read_table(encoded_dir / f"{name}.parquet")
            out.append(LinkInput(name, t, "record_id", encoded=True))
        else:
            assert spec.file
            out.append(LinkInput.from_roles(name, spec, read_table(data / spec.file)))
    return out


def stage_link(a: argparse.Namespace, encoded: bool) -> dict[str, object]:
    from tiplab.linkage import LinkSettings, evaluate_clusters, link
    from tiplab.linkage.io import read_table

    data = Path(a.work) / "data"
    extra: dict[str, object] = {}
    enc_dir = None
    if encoded:
        from tiplab.linkage import EncodingSettings, RolesFile, encode
        from tiplab.linkage.encode import write_encoded

        enc_dir = Path(a.work) / "encoded"
        enc_dir.mkdir(exist_ok=True)
        key = b"benchmark-key-not-secret-32bytes!!"
        t = time.perf_counter()
        roles = RolesFile.load(data / "linkage_roles.yaml")
        for inp in _inputs(data):
            write_encoded(
                encode(inp, key, EncodingSettings()),  # type: ignore[arg-type]
                enc_dir / f"{inp.source}.parquet",
            )  # type: ignore[attr-defined]
        extra["encode_seconds"] = time.perf_counter() - t
        del roles
    t = time.perf_counter()
    inputs = _inputs(data, enc_dir)
    result = link(inputs, LinkSettings())  # type: ignore[arg-type]
    wall = time.perf_counter() - t
    out = Path(a.work) / ("out_encoded" if encoded else "out_clear")
    result.write(out)
    q = evaluate_clusters(result.clusters, read_table(data / "truth" / "records.csv"))
    return {
        "mode": result.mode,
        "records": result.n_records,
        "persons": result.n_persons,
        "pairs_scored": result.pairs.num_rows,
        "threshold": result.threshold.threshold,
        "link_seconds": wall,
        "timings": result.timings,
        **extra,
        "quality": q.to_dict(),
        "peak_rss_mb": peak_mb(),
    }


def stage_peer(a: argparse.Namespace) -> dict[str, object]:
    """recordlinkage's standard approach on a subset, and tiplab on the same subset."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import recordlinkage as rl

    from tiplab.linkage import LinkInput, LinkSettings, evaluate_clusters, link
    from tiplab.linkage.cluster import components
    from tiplab.linkage.io import read_table
    from tiplab.linkage.standardise import standardise

    data = Path(a.work) / "data"
    truth = read_table(data / "truth" / "records.csv")
    # subset: the first persons (by true id) until ~peer_records records
    ids = sorted(set(truth.column("true_id").to_pylist()))
    keep_ids = set(ids[: int(a.peer_records / 2.2)])
    sub_inputs = []
    for inp in _inputs(data):
        t = inp.arrow()  # type: ignore[attr-defined]
        tr = truth.filter(pa.compute.equal(truth.column("source"), inp.source))  # type: ignore[attr-defined]
        keep = {
            r
            for r, tid in zip(
                tr.column("record_id").to_pylist(), tr.column("true_id").to_pylist(), strict=True
            )
            if tid in keep_ids
        }
        mask = pa.array([str(r) in keep for r in t.column(inp.record_id).to_pylist()])  # type: ignore[attr-defined]
        sub_inputs.append(
            LinkInput(
                inp.source,
                t.filter(mask),
                inp.record_id,
                inp.roles,  # type: ignore[attr-defined]
                inp.date_formats,
                inp.attributes,
            )
        )  # type: ignore[attr-defined]
    n_sub = sum(i.arrow().num_rows for i in sub_inputs)
    # recordlinkage, on the same standardised fields (so only the method differs)
    t0 = time.perf_counter()
    frames = []
    for inp in sub_inputs:
        s = standardise(inp).to_pandas()
        s["source"] = inp.source
        frames.append(s)
    df = pd.concat(frames, ignore_index=True)
    prep_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    idx = rl.Index()
    idx.block(["family_ph", "dob_year"])
    idx.block(["given_ph", "family_ph"])
    cands = idx.index(df)
    cmp = rl.Compare()
    cmp.string("given", "given", method="jarowinkler", threshold=0.85, label="given")
    cmp.string("family", "family", method="jarowinkler", threshold=0.85, label="family")
    cmp.exact("dob", "dob", label="dob")
    cmp.exact("sex", "sex", label="sex")
    cmp.exact("citizenship", "citizenship", label="citizenship")
    cmp.exact("phone8", "phone8", label="phone")
    feats = cmp.compute(cands, df)
    ecm = rl.ECMClassifier(binarize=None)
    matches = ecm.fit_predict(feats)
    left = np.asarray(matches.get_level_values(0), dtype=np.int64)
    right = np.asarray(matches.get_level_values(1), dtype=np.int64)
    labels = components(len(df), left, right)
    rl_s = time.perf_counter() - t1
    clusters = pa.table(
        {"source": df["source"], "record_id": df["record_id"], "person_id": labels.astype(str)}
    )
    q_rl = evaluate_clusters(clusters, truth)
    t2 = time.perf_counter()
    res = link(sub_inputs, LinkSettings())
    tip_s = time.perf_counter() - t2
    q_tip = evaluate_clusters(res.clusters, truth)
    return {
        "records": n_sub,
        "recordlinkage": {
            "seconds": rl_s,
            "prepare_seconds": prep_s,
            "candidate_pairs": len(cands),
            "quality": q_rl.to_dict(),
        },
        "tiplab": {"seconds": tip_s, "quality": q_tip.to_dict()},
        "peak_rss_mb": peak_mb(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--peer-records", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", default="/tmp/tiplab-bench-linkage")
    ap.add_argument(
        "--stage", default="all", choices=["all", "generate", "clear", "encoded", "peer"]
    )
    ap.add_argument("--skip", nargs="*", default=[])
    a = ap.parse_args()
    Path(a.work).mkdir(parents=True, exist_ok=True)
    if a.stage != "all":
        fn = {
            "generate": stage_generate,
            "clear": lambda x: stage_link(x, False),
            "encoded": lambda x: stage_link(x, True),
            "peer": stage_peer,
        }[a.stage]
        res = fn(a)
        (Path(a.work) / f"{a.stage}.json").write_text(json.dumps(res, indent=2, default=str))
        print(json.dumps(res, default=str))
        return
    results = {}
    for st in ("generate", "clear", "encoded", "peer"):
        if st in a.skip:
            continue
        cmd = [
            sys.executable,
            __file__,
            "--stage",
            st,
            "--records",
            str(a.records),
            "--peer-records",
            str(a.peer_records),
            "--seed",
            str(a.seed),
            "--work",
            a.work,
        ]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        results[st] = json.loads((Path(a.work) / f"{st}.json").read_text())
        results[st]["stage_wall_seconds"] = time.perf_counter() - t
        print(f"{st}: done in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    (Path(a.work) / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
