"""Person ids and the person table (one row per person) from clustered records."""

from __future__ import annotations

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tiplab.linkage.roles import ATTRIBUTES


def assign_person_ids(
    records: pa.Table, labels: npt.NDArray[np.int64], previous: pa.Array | None = None
) -> tuple[pa.Array, list[dict[str, object]]]:
    """A ``person_id`` per record, and the merges of earlier persons.

    A cluster holding records that already had person ids keeps the id held by most of its
    records (ties: the smallest id); a new cluster gets ``P`` + 12 hex digits of the MD5 of its
    smallest "source:record_id" (deterministic, reveals no identifier; when a record id used
    twice in one source is the smallest key of two clusters, the later cluster in record order
    hashes the key with its rank, so two clusters never share an id). ``merges`` lists
    clusters that joined two or more earlier persons.
    """
    prev = previous if previous is not None else pa.nulls(records.num_rows, pa.string())
    t = pa.table(
        {
            "source": records.column("source"),
            "record_id": records.column("record_id"),
            "label": pa.array(labels),
            "prev": prev,
            "ord": pa.array(np.arange(records.num_rows)),
        }
    )
    con = duckdb.connect()
    try:
        con.register("t", t)
        out = con.sql("""
            WITH votes AS (
              SELECT label, prev, count(*) AS n FROM t WHERE prev IS NOT NULL
              GROUP BY label, prev
            ), best AS (
              SELECT DISTINCT ON (label) label, prev AS old_pid
              FROM votes ORDER BY label, n DESC, prev
            ), keys AS (
              SELECT label, min(source || ':' || record_id) AS k, min(ord) AS first
              FROM t GROUP BY label
            ), fresh AS (
              -- a record id used twice in one source (an export defect) can be the smallest
              -- key of two clusters: the later ones get the key and their rank hashed
              SELECT label, 'P' || left(md5(CASE WHEN rn = 1 THEN k
                                                 ELSE k || chr(31) || rn END), 12) AS new_pid
              FROM (SELECT label, k,
                           row_number() OVER (PARTITION BY k ORDER BY first) AS rn
                    FROM keys)
            )
            SELECT coalesce(best.old_pid, fresh.new_pid) AS person_id
            FROM t JOIN fresh USING (label) LEFT JOIN best USING (label)
            ORDER BY t.ord
        """).to_arrow_table()
        merges_rows = con.execute("""
            WITH m AS (
              SELECT label, list_sort(list(DISTINCT prev)) AS merged
              FROM t WHERE prev IS NOT NULL GROUP BY label HAVING count(DISTINCT prev) > 1
            )
            SELECT m.label, m.merged FROM m ORDER BY m.label
        """).fetchall()
    finally:
        con.close()
    pid = out.column("person_id").combine_chunks()
    merges: list[dict[str, object]] = []
    for label, merged in merges_rows:
        idx = int(np.flatnonzero(labels == label)[0])
        merges.append({"person_id": pid[idx].as_py(), "merged_person_ids": list(merged)})
    return pid, merges


def person_table(records: pa.Table, person_id: pa.Array) -> pa.Table:
    """One row per person: person_id, sources, n_records, record_keys, stratum columns.

    ``year`` is the first (smallest) registration year; other strata take the most frequent
    non-null value among the person's records (ties: the smallest value).
    """
    attrs = [a for a in ATTRIBUTES if f"attr_{a}" in records.column_names]
    extra = [c for c in records.column_names if c.startswith("attr_") and c[5:] not in attrs]
    attrs += [c[5:] for c in extra]
    t = pa.table(
        {
            "person_id": person_id,
            "source": records.column("source"),
            "record_id": records.column("record_id"),
            **{f"attr_{a}": records.column(f"attr_{a}") for a in attrs},
        }
    )
    ctes = [
        "base AS (SELECT person_id, list_sort(list(DISTINCT source)) AS sources, "
        "count(*) AS n_records, list_sort(list(source || ':' || record_id)) AS record_keys "
        "FROM t GROUP BY person_id)"
    ]
    joins = []
    cols = []
    for i, a in enumerate(attrs):
        c = f"attr_{a}"
        if a == "year":
            ctes.append(f"a{i} AS (SELECT person_id, min({c}) AS v FROM t GROUP BY person_id)")
        else:
            ctes.append(
                f"a{i} AS (SELECT DISTINCT ON (person_id) person_id, {c} AS v FROM "
                f"(SELECT person_id, {c}, count(*) AS n FROM t WHERE {c} IS NOT NULL "
                f"GROUP BY person_id, {c}) ORDER BY person_id, n DESC, {c})"
            )
        joins.append(f"LEFT JOIN a{i} USING (person_id)")
        cols.append(f"a{i}.v AS {a}")
    con = duckdb.connect()
    try:
        con.register("t", t)
        out = con.sql(
            f"WITH {', '.join(ctes)} SELECT base.*{''.join(', ' + c for c in cols)} "
            f"FROM base {' '.join(joins)} ORDER BY person_id"
        ).to_arrow_table()
    finally:
        con.close()
    return out
