"""Quality of a clustering against known truth: pairwise, B-cubed and adjusted Rand.

All counts come from the contingency table of (predicted cluster, true entity) group sizes,
so pairs are counted, never enumerated: for a group of size s there are s(s-1)/2 pairs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import pyarrow as pa

from tiplab.linkage.errors import LinkageError


@dataclass(frozen=True)
class LinkageQuality:
    """Agreement of predicted persons with true identities, over records in both."""

    records: int
    records_without_truth: int
    predicted_pairs: int
    true_pairs: int
    true_positive_pairs: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    adjusted_rand_index: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def to_text(self) -> str:
        return (
            f"{self.records} records: pairwise precision {self.pairwise_precision:.4f}, "
            f"recall {self.pairwise_recall:.4f}, F1 {self.pairwise_f1:.4f}; "
            f"B-cubed P {self.bcubed_precision:.4f} R {self.bcubed_recall:.4f} "
            f"F1 {self.bcubed_f1:.4f}; ARI {self.adjusted_rand_index:.4f}"
        )


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def evaluate_clusters(
    clusters: pa.Table,
    truth: pa.Table,
    *,
    cluster_column: str = "person_id",
    truth_column: str = "true_id",
) -> LinkageQuality:
    """Compare ``clusters`` (source, record_id, person_id) with ``truth`` (source, record_id,
    true_id). Records absent from the truth are counted, not scored."""
    for name, t, cols in (
        ("clusters", clusters, ("source", "record_id", cluster_column)),
        ("truth", truth, ("source", "record_id", truth_column)),
    ):
        missing = [c for c in cols if c not in t.column_names]
        if missing:
            raise LinkageError(f"{name} table lacks column(s) {missing}; it has {t.column_names}")
    con = duckdb.connect()
    try:
        con.register("c", clusters.append_column("_ord", pa.array(range(clusters.num_rows))))
        con.register("t", truth.append_column("_ord", pa.array(range(truth.num_rows))))
        # A record id can occur more than once in a source (a duplicate-id defect): the k-th
        # occurrence in the clustering is matched with the k-th in the truth (both in file
        # order), so duplicates are neither multiplied by the join nor lost.
        order_t = "row" if "row" in truth.column_names else "_ord"
        con.execute(f"""
            CREATE TEMP TABLE c2 AS
            SELECT CAST(source AS VARCHAR) AS s, CAST(record_id AS VARCHAR) AS r,
                   CAST({cluster_column} AS VARCHAR) AS pid,
                   row_number() OVER (PARTITION BY CAST(source AS VARCHAR),
                                      CAST(record_id AS VARCHAR) ORDER BY _ord) AS k
            FROM c
        """)
        con.execute(f"""
            CREATE TEMP TABLE t2 AS
            SELECT CAST(source AS VARCHAR) AS s, CAST(record_id AS VARCHAR) AS r,
                   CAST({truth_column} AS VARCHAR) AS tid,
                   row_number() OVER (PARTITION BY CAST(source AS VARCHAR),
                                      CAST(record_id AS VARCHAR)
                                      ORDER BY {order_t}, _ord) AS k
            FROM t
        """)
        con.execute("""
            CREATE TEMP TABLE j AS
            SELECT c2.pid, t2.tid FROM c2 JOIN t2 USING (s, r, k)
        """)
        row = con.execute("""
            WITH cell AS (SELECT pid, tid, count(*)::DOUBLE AS n FROM j GROUP BY pid, tid),
                 ps AS (SELECT pid, sum(n) AS a FROM cell GROUP BY pid),
                 ts AS (SELECT tid, sum(n) AS b FROM cell GROUP BY tid),
                 cc AS (SELECT cell.n, ps.a, ts.b FROM cell JOIN ps USING (pid)
                        JOIN ts USING (tid))
            SELECT (SELECT sum(n) FROM cell),
                   (SELECT sum(n * (n - 1) / 2) FROM cell),
                   (SELECT sum(a * (a - 1) / 2) FROM ps),
                   (SELECT sum(b * (b - 1) / 2) FROM ts),
                   (SELECT sum(n * n / a) FROM cc),
                   (SELECT sum(n * n / b) FROM cc)
        """).fetchone()
        n_clusters = con.execute("SELECT count(*) FROM c").fetchone()
    finally:
        con.close()
    assert row is not None
    assert n_clusters is not None
    n, tp, pp, tpairs, bp, br = (float(x or 0.0) for x in row)
    if n == 0:
        raise LinkageError(
            "no record of the clustering appears in the truth file; check that "
            "'source' and 'record_id' use the same spelling in both"
        )
    prec = tp / pp if pp else 1.0
    rec = tp / tpairs if tpairs else 1.0
    total = n * (n - 1) / 2
    expected = pp * tpairs / total if total else 0.0
    max_index = (pp + tpairs) / 2
    ari = (tp - expected) / (max_index - expected) if max_index != expected else 1.0
    b_p, b_r = bp / n, br / n
    return LinkageQuality(
        records=int(n),
        records_without_truth=int(n_clusters[0]) - int(n),
        predicted_pairs=int(pp),
        true_pairs=int(tpairs),
        true_positive_pairs=int(tp),
        pairwise_precision=prec,
        pairwise_recall=rec,
        pairwise_f1=_f1(prec, rec),
        bcubed_precision=b_p,
        bcubed_recall=b_r,
        bcubed_f1=_f1(b_p, b_r),
        adjusted_rand_index=ari,
    )
