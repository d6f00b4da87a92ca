"""Plain Splink 5 on the simulator's six exports: the peer of ``tiplab link`` in the sweep.

    .venv/bin/python benchmarks/plain_splink.py --roles DIR/linkage_roles.yaml --out out.parquet

Written once, the way a careful user writes a Splink model from its documentation, on the
records standardised exactly as tiplab standardises them (``tiplab.linkage.standardise``:
the same names, phonetic codes, dates, phones and documents), so only the method differs:

* blocking on name sounds and birth year: family sound + birth year, given sound + birth
  year, both name sounds, the document, the phone;
* comparisons from ``splink.comparison_library``: ``NameComparison`` on given and family name
  with term-frequency adjustments, ``DateOfBirthComparison``, ``ExactMatch`` on sex,
  citizenship, region, phone and document;
* the prior from a deterministic rule (same given name, family name and birth date, recall
  0.7), u by random sampling (2 million pairs), m by EM on "same birth date" and "same given
  and family name";
* clusters: ``cluster_pairwise_predictions_at_threshold`` at 0.9 (a cautious user's choice;
  Splink's examples use 0.9–0.95).

Not tuned to any seed. Writes (source, record_id, person_id) and prints one JSON line with the
timings.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THRESHOLD = 0.9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--roles", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    t0 = time.perf_counter()
    import pyarrow as pa
    import pyarrow.parquet as pq
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from tiplab.cli.link import _inputs
    from tiplab.linkage.standardise import standardise

    parts = []
    for inp in _inputs([], Path(a.roles)):
        s = standardise(inp)
        parts.append(s.append_column("source", pa.array([inp.source] * s.num_rows)))
    table = pa.concat_tables(parts, promote_options="default")
    table = table.append_column("uid", pa.array(range(table.num_rows), pa.int64()))
    keep = [
        "uid",
        "source",
        "record_id",
        "given",
        "family",
        "given_ph",
        "family_ph",
        "dob",
        "dob_year",
        "sex",
        "citizenship",
        "region",
        "phone8",
        "doc",
    ]
    table = table.select([c for c in keep if c in table.column_names])
    t_prep = time.perf_counter() - t0

    db = DuckDBAPI()
    sdf = db.register(table, dataset_display_name="records")
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="uid",
        blocking_rules_to_generate_predictions=[
            block_on("family_ph", "dob_year"),
            block_on("given_ph", "dob_year"),
            block_on("given_ph", "family_ph"),
            block_on("doc"),
            block_on("phone8"),
        ],
        comparisons=[
            cl.NameComparison("given").configure(term_frequency_adjustments=True),
            cl.NameComparison("family").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("sex"),
            cl.ExactMatch("citizenship"),
            cl.ExactMatch("region"),
            cl.ExactMatch("phone8"),
            cl.ExactMatch("doc"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker(sdf, settings)
    t1 = time.perf_counter()
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given", "family", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given", "family"))
    t_train = time.perf_counter() - t1
    t2 = time.perf_counter()
    pred = linker.inference.predict(threshold_match_probability=0.01)
    t_pred = time.perf_counter() - t2
    t3 = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, threshold_match_probability=THRESHOLD
    ).as_pyarrow_table()
    t_cluster = time.perf_counter() - t3
    ids = clusters.select(["uid", "cluster_id"])
    import duckdb

    con = duckdb.connect()
    con.register("c", ids)
    con.register("t", table.select(["uid", "source", "record_id"]))
    out = con.sql(
        "SELECT t.source, t.record_id, CAST(c.cluster_id AS VARCHAR) AS person_id "
        "FROM t JOIN c USING (uid) ORDER BY t.uid"
    ).to_arrow_table()
    pq.write_table(out, a.out)
    print(
        json.dumps(
            {
                "records": table.num_rows,
                "threshold": THRESHOLD,
                "timings": {
                    "prepare": round(t_prep, 2),
                    "train": round(t_train, 2),
                    "predict": round(t_pred, 2),
                    "cluster": round(t_cluster, 2),
                    "total": round(time.perf_counter() - t0, 2),
                },
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
