"""Person tables read from Parquet and CSV files give the same capture table as Arrow."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tiplab.estimation import CaptureTable


def test_parquet_csv_and_arrow_agree(tmp_path: Path) -> None:
    table = pa.table({
        "person_id": [f"p{i}" for i in range(7)],
        "sources": [["a"], ["a", "b"], ["b"], ["c"], ["a", "c"], ["b", "c"], ["a"]],
    })
    pq.write_table(table, tmp_path / "persons.parquet")
    (tmp_path / "persons.csv").write_text(
        "person_id,sources\n" + "\n".join(
            f"{p},{';'.join(s)}" for p, s in zip(table.column("person_id").to_pylist(),
                                                 table.column("sources").to_pylist(),
                                                 strict=True)) + "\n", encoding="utf-8")
    from_arrow = CaptureTable.from_person_table(table).total()
    for name in ("persons.parquet", "persons.csv"):
        from_file = CaptureTable.from_person_table(tmp_path / name).total()
        assert from_file.names == from_arrow.names
        assert from_file.counts.tolist() == from_arrow.counts.tolist()
    assert from_arrow.n == 7
