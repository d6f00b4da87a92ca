"""The analytics engine opens the snapshot, empty or not, with the schema's columns."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from tiplab.engine import connect
from tiplab.records.schema import CASE_SCHEMA
from tiplab.snapshot import SnapshotBatch, write_batch, write_manifest


def test_empty_snapshot_gives_empty_tables_with_the_schema(tmp_path: Path) -> None:
    engine = connect(tmp_path)
    assert engine.data_version == "empty"
    assert engine.cases.count().execute() == 0
    for name in CASE_SCHEMA.analytic:
        assert name in engine.cases.columns
    assert "given_name" not in engine.cases.columns  # identifiers never in the snapshot
    assert engine.aggregates.count().execute() == 0


def test_snapshot_batches_are_read_with_their_version(tmp_path: Path) -> None:
    table = pa.table({"_row": [2, 3], "source_agency": ["police", "police"],
                      "record_id": ["a", "b"], "sex": ["Feminine", "Masculine"],
                      "given_name": ["Ana", "Ion"]})
    name = write_batch(tmp_path, "case", "B1", table)
    snap = write_manifest(tmp_path, [SnapshotBatch("B1", "case", "police", "0" * 64, 2, name)])
    engine = connect(tmp_path)
    assert engine.data_version == snap.data_version
    got = engine.to_arrow(engine.cases.order_by("record_id"))
    assert got.column("record_id").to_pylist() == ["a", "b"]
    assert got.column("source_row").to_pylist() == [2, 3]
    assert "given_name" not in got.column_names
