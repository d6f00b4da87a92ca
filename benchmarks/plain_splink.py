"""Plain Splink 5 on the simulator's six exports: the peer of ``tiplab link`` in the sweep.

    .venv/bin/python benchmarks/plain_splink.py --roles DIR/linkage_roles.yaml --out out.parquet

Written the way a careful user writes a Splink model from its documentation, on the records
standardised exactly as tiplab standardises them (``tiplab.linkage.standardise``: the same
names, phonetic codes, dates, phones and documents), so only the method differs:

* ``dedupe_only``; candidate pairs from blocking on name sounds and birth year (family sound +
  birth year, given sound + birth year, both name sounds), the document and the phone;
* comparisons from ``splink.comparison_library``: ``NameComparison`` on given and family name
  with term-frequency adjustments, ``DateOfBirthComparison``, ``ExactMatch`` on sex,
  citizenship, region, phone and document;
* the prior from a deterministic rule (same given name, family name and birth date, recall
  0.7), u by random sampling (2 million pairs, seed 1), m by EM on two blocking rules:
  "same birth date" and "same document number";
* ``predict`` at 0.5 and ``cluster_pairwise_predictions_at_threshold`` at 0.95 (the values of
  the example in Splink 5's own docstring of that method; connected components make every
  link transitive, so a careful user takes the stricter of the usual 0.9-0.95).

Why "same document number" and not the tutorials' "same given and family name" for the second
EM rule: the first version of this script used the names (``--em-rules dob/given,family``
reproduces it). Its trained parameters, which a careful user inspects before predicting
(``linker.visualisations.m_u_parameters_chart()``; no truth needed), had m = 0.010 for "exact
birth date" and about 0.6 for "same region" (seed 73043 at 200k: 0.0101 and 0.61): with
realistic name frequencies the same-name block is mostly namesakes (Splink's EM docstring
asks for a rule whose pairs are 1-99% matches), and EM called namesakes matches. Blocking EM
on the document instead gives pairs that are mostly matches and plausible m values. The
check is printed (``m_exact``) and a warning goes to stderr when m("exact birth date") < 0.5.

Why sex and citizenship have fixed m: on the simulator's census-like names (since December
2026) EM drove m of "sex differs" and "citizenship differs" towards 0 (1e-8 to 1e-18 on seeds
9572 and 76856 at 200k) and on 2 of 8 seeds to exactly 0, which Splink 5 refuses
(``ValueError: m_probability value 0.0 is below the minimum allowed value``) — the run
stopped. A careful user who reads that error fixes those two m values a priori with Splink's
``fix_m_probability`` (Splink PR 2379); the values are the ones tiplab fixes (same sex 0.97,
same citizenship 0.9: recording errors happen). Not tuned to any seed or to the truth.

Writes (source, record_id, person_id) to ``--out`` (Parquet) and prints one JSON line with
timings, the threshold and the trained m of each comparison's exact level.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

PREDICT_THRESHOLD = 0.5
#: m of "same sex" and "same citizenship", fixed before training (see the module docstring).
SEX_M = 0.97
CITIZENSHIP_M = 0.9
CLUSTER_THRESHOLD = 0.95
DEFAULT_EM_RULES = "dob/doc"
COLUMNS = [
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


class PeerError(Exception):
    """Bad input to the peer: says what and where."""


def fixed_exact(column: str, m_same: float) -> Any:
    """``ExactMatch`` on ``column`` with m fixed a priori (same: ``m_same``, else the rest),
    with Splink's ``fix_m_probability`` on each level."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column).configure(m_probability=m_same, fix_m_probability=True),
            cll.ElseLevel().configure(m_probability=1 - m_same, fix_m_probability=True),
        ],
        output_column_name=column,
    )


def parse_em_rules(text: str) -> list[list[str]]:
    """``"dob/doc"`` -> [["dob"], ["doc"]]: EM blocking rules, '/' between rules, ',' inside."""
    rules = [[c.strip() for c in part.split(",") if c.strip()] for part in text.split("/")]
    bad = [c for rule in rules for c in rule if c not in COLUMNS[3:]]
    if not rules or any(not r for r in rules) or bad:
        raise PeerError(
            f"--em-rules {text!r}: give rules separated by '/', columns by ',' "
            f"(e.g. 'dob/doc'); unknown column(s) {bad}; known: {COLUMNS[3:]}"
        )
    return rules


def standardised_records(roles_path: Path) -> Any:
    """Every input named in the roles file, standardised as ``tiplab link`` does, in one
    table with ``source`` and a unique ``uid``."""
    import pyarrow as pa

    from tiplab.linkage import LinkInput, RolesFile
    from tiplab.linkage.io import read_table
    from tiplab.linkage.standardise import standardise

    roles = RolesFile.load(roles_path)
    parts = []
    for name, spec in roles.inputs.items():
        if not spec.file:
            raise PeerError(f"{roles_path}: input '{name}' names no 'file:' to read")
        path = Path(roles.base_dir) / spec.file
        s = standardise(LinkInput.from_roles(name, spec, read_table(path)))
        parts.append(s.append_column("source", pa.array([name] * s.num_rows, pa.string())))
    if not parts:
        raise PeerError(f"{roles_path}: the roles file lists no inputs")
    table = pa.concat_tables(parts, promote_options="default")
    table = table.append_column("uid", pa.array(range(table.num_rows), pa.int64()))
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise PeerError(f"standardised records lack column(s) {missing}")
    # record_id is text in some exports and numbers in others
    table = table.set_column(
        table.column_names.index("record_id"),
        "record_id",
        table.column("record_id").cast(pa.string()),
    )
    return table.select(COLUMNS)


def exact_m(model: dict[str, Any]) -> dict[str, float | None]:
    """The trained m of each comparison's first non-null level (its exact-match level)."""
    out: dict[str, float | None] = {}
    for comp in model["comparisons"]:
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        m = levels[0].get("m_probability") if levels else None
        out[comp["output_column_name"]] = round(m, 4) if m is not None else None
    return out


def run(roles_path: Path, out_path: Path, em_rules: list[list[str]]) -> dict[str, Any]:
    t0 = time.perf_counter()
    import duckdb
    import pyarrow.parquet as pq
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    table = standardised_records(roles_path)
    t_prep = time.perf_counter() - t0

    sdf = DuckDBAPI().register(table, dataset_display_name="records")
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
            fixed_exact("sex", SEX_M),
            fixed_exact("citizenship", CITIZENSHIP_M),
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
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*rule))
    t_train = time.perf_counter() - t1
    m_exact = exact_m(linker.misc.save_model_to_json())
    if (m_exact.get("dob") or 0.0) < 0.5:
        print(
            f"warning: trained m of 'exact birth date' is {m_exact.get('dob')}: EM has "
            "mistaken non-matches for matches; inspect the EM blocking rules",
            file=sys.stderr,
        )
    t2 = time.perf_counter()
    pred = linker.inference.predict(threshold_match_probability=PREDICT_THRESHOLD)
    t_pred = time.perf_counter() - t2
    t3 = time.perf_counter()
    clustered: Any = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, threshold_match_probability=CLUSTER_THRESHOLD
    )
    clusters = clustered.as_pyarrow_table()
    t_cluster = time.perf_counter() - t3
    con = duckdb.connect()
    try:
        con.register("c", clusters.select(["uid", "cluster_id"]))
        con.register("t", table.select(["uid", "source", "record_id"]))
        out = con.sql(
            "SELECT t.source, t.record_id, CAST(c.cluster_id AS VARCHAR) AS person_id "
            "FROM t JOIN c USING (uid) ORDER BY t.uid"
        ).to_arrow_table()
    finally:
        con.close()
    if out.num_rows != table.num_rows:
        raise PeerError(f"clustering returned {out.num_rows} of {table.num_rows} records")
    pq.write_table(out, out_path)
    return {
        "records": table.num_rows,
        "predict_threshold": PREDICT_THRESHOLD,
        "threshold": CLUSTER_THRESHOLD,
        "em_rules": ["+".join(r) for r in em_rules],
        "m_exact": m_exact,
        "timings": {
            "prepare": round(t_prep, 2),
            "train": round(t_train, 2),
            "predict": round(t_pred, 2),
            "cluster": round(t_cluster, 2),
            "total": round(time.perf_counter() - t0, 2),
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Plain Splink 5 on the files of a roles file (the sweep's peer)."
    )
    ap.add_argument("--roles", required=True, type=Path, help="linkage_roles.yaml")
    ap.add_argument("--out", required=True, type=Path, help="clusters (Parquet) to write")
    ap.add_argument(
        "--em-rules",
        default=DEFAULT_EM_RULES,
        help="EM blocking rules, '/' between rules and ',' between columns "
        f"(default {DEFAULT_EM_RULES}; 'dob/given,family' is the first version's)",
    )
    a = ap.parse_args(argv)
    from tiplab.errors import TiplabError

    try:
        if not a.roles.is_file():
            raise PeerError(f"--roles {a.roles}: no such file")
        if not a.out.parent.is_dir():
            raise PeerError(f"--out {a.out}: directory {a.out.parent} does not exist")
        summary = run(a.roles, a.out, parse_em_rules(a.em_rules))
    except (PeerError, TiplabError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
