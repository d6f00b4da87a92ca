"""The trend count is an Ibis expression: the same query on Spark equals DuckDB's."""

from __future__ import annotations

import pyarrow as pa
import pytest

from tiplab.analysis import TrendSettings
from tiplab.analysis.synthetic import synthetic_cases
from tiplab.analysis.trends import count_query


@pytest.mark.spark
@pytest.mark.xdist_group("spark")  # shares one worker, so one JVM, with the linkage Spark test
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")
def test_trend_count_on_spark_equals_duckdb(tmp_path) -> None:
    pytest.importorskip("pyspark")
    import ibis
    import pyarrow.parquet as pq

    from tiplab.spark import spark_session

    path = tmp_path / "cases.parquet"
    pq.write_table(synthetic_cases(3000, seed=8).select(
        ["registration_date", "sex", "exploitation_forms"]), path)
    s = TrendSettings(by=("sex", "exploitation_forms"))
    duck = count_query(ibis.duckdb.connect().read_parquet(str(path)), s).to_pyarrow()
    con = ibis.pyspark.connect(spark_session())
    spark = count_query(con.read_parquet(str(path)), s).to_pyarrow()

    def norm(t: pa.Table) -> list[tuple]:
        return sorted((r["year"], r["sex"], r["exploitation_forms"] or "", r["n"])
                      for r in t.to_pylist())

    assert norm(spark) == norm(duck)
    assert sum(r["n"] for r in duck.to_pylist()) > 3000  # list column exploded
