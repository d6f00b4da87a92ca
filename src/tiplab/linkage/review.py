"""Human review: the queue of uncertain pairs, and decisions that later runs respect.

A decision row: source_l, record_id_l, source_r, record_id_r, decision ("match" or
"non-match"), decided_by, decided_at (ISO timestamp). The latest decision on a pair wins.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pyarrow as pa

from tiplab.linkage.errors import LinkageError
from tiplab.linkage.result import LinkResult

DECISION_SCHEMA = pa.schema(
    [
        ("source_l", pa.string()),
        ("record_id_l", pa.string()),
        ("source_r", pa.string()),
        ("record_id_r", pa.string()),
        ("decision", pa.string()),
        ("decided_by", pa.string()),
        ("decided_at", pa.string()),
    ]
)


def empty_decisions() -> pa.Table:
    return DECISION_SCHEMA.empty_table()


def read_decisions(path: str | Path) -> pa.Table:
    """Read a decisions file (CSV or Parquet) with the columns of :data:`DECISION_SCHEMA`."""
    from tiplab.linkage.io import read_table

    t = read_table(path)
    missing = [n for n in DECISION_SCHEMA.names if n not in t.column_names]
    if missing:
        raise LinkageError(
            f"{path}: decisions file lacks column(s) {missing}; expected {DECISION_SCHEMA.names}"
        )
    return t.select(DECISION_SCHEMA.names).cast(DECISION_SCHEMA)


def review_queue(
    result: LinkResult, low: float | None = None, high: float | None = None
) -> pa.Table:
    """Pairs with ``low <= p < high`` (default: the settings' review band) not yet decided,
    most probable first: one row per pair, with ids, probability, weight and levels."""
    lo = result.settings.review_low if low is None else low
    hi = result.settings.review_high if high is None else high
    decided = result.decisions if result.decisions is not None else empty_decisions()
    pairs = result.pairs.drop_columns(
        [c for c in ("unique_id_l", "unique_id_r") if c in result.pairs.column_names]
    )
    con = duckdb.connect()
    try:
        con.register("p", pairs)
        con.register("d", decided.select(DECISION_SCHEMA.names).cast(DECISION_SCHEMA))
        return con.sql(
            """
            SELECT p.* FROM p
            WHERE match_probability >= ? AND match_probability < ?
              AND NOT EXISTS (
                SELECT 1 FROM d WHERE
                  (d.source_l = p.source_l AND d.record_id_l = p.record_id_l
                   AND d.source_r = p.source_r AND d.record_id_r = p.record_id_r) OR
                  (d.source_l = p.source_r AND d.record_id_l = p.record_id_r
                   AND d.source_r = p.source_l AND d.record_id_r = p.record_id_l))
            ORDER BY match_probability DESC, source_l, record_id_l, source_r, record_id_r
        """,
            params=[lo, hi],
        ).to_arrow_table()
    finally:
        con.close()


def apply_decisions(result: LinkResult, decisions: pa.Table) -> LinkResult:
    """Re-cluster ``result`` with ``decisions`` added to those it already has (no rescoring).

    Forced matches join clusters; forced non-matches are cut (see :mod:`.cluster`);
    undecidable conflicts are listed in ``result.conflicts``.
    """
    from tiplab.linkage.link import finish

    new = decisions.select(DECISION_SCHEMA.names).cast(DECISION_SCHEMA)
    old = result.decisions
    allp = (
        new
        if old is None
        else pa.concat_tables([old.select(DECISION_SCHEMA.names).cast(DECISION_SCHEMA), new])
    )
    clusters, persons, conflicts, _ = finish(
        result.records, result.pairs, result.threshold.threshold, allp,
        settings=result.settings,
    )
    return dataclasses.replace(
        result, clusters=clusters, persons=persons, conflicts=conflicts, decisions=allp
    )
