"""The counting queries are Ibis expressions: on Spark (list columns exploded in the query)
they equal DuckDB's, which reads the flat tables materialised per data version."""

from __future__ import annotations

import pyarrow as pa
import pytest

from tiplab.analysis import ProfileSettings, TrendSettings
from tiplab.analysis.flat import MaterialisedFlat, flat_for
from tiplab.analysis.profiles import profile_queries
from tiplab.analysis.routes import leg_query
from tiplab.analysis.synthetic import synthetic_cases, write_snapshot
from tiplab.analysis.trends import count_query
from tiplab.engine import connect


@pytest.mark.spark
@pytest.mark.xdist_group("spark")  # shares one worker, so one JVM, with the linkage Spark test
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")
def test_trend_count_on_spark_equals_duckdb(tmp_path) -> None:
    pytest.importorskip("pyspark")
    import ibis
    import pyarrow.parquet as pq

    from tiplab.spark import spark_session

    records = synthetic_cases(3000, seed=8)
    path = tmp_path / "cases.parquet"
    pq.write_table(records, path)
    engine = connect(write_snapshot_dir(tmp_path, records))
    flat = flat_for(engine, engine.cases)
    assert isinstance(flat, MaterialisedFlat)
    s = TrendSettings(by=("sex", "exploitation_forms"))
    duck = count_query(engine.cases, s, flat).to_pyarrow()
    con = ibis.pyspark.connect(spark_session())
    cases = con.read_parquet(str(path))
    spark = count_query(cases, s).to_pyarrow()

    def norm(t: pa.Table) -> list[tuple]:
        return sorted((r["year"], r["sex"], r["exploitation_forms"] or "", r["n"])
                      for r in t.to_pylist())

    assert norm(spark) == norm(duck)
    assert sum(r["n"] for r in duck.to_pylist()) > 3000  # list column exploded

    legs_duck = leg_query(engine.cases, flat=flat).to_pyarrow().to_pylist()
    legs_spark = leg_query(cases).to_pyarrow().to_pylist()
    assert sorted((r["source"], r["target"], r["n"]) for r in legs_spark) == \
        sorted((r["source"], r["target"], r["n"]) for r in legs_duck)
    ps = ProfileSettings(group="means_of_control", by=("sex",))
    for q_duck, q_spark in zip(profile_queries(engine.cases, ps, flat),
                               profile_queries(cases, ps), strict=True):
        a, b = q_duck.to_pyarrow(), q_spark.to_pyarrow()
        cols = sorted(a.column_names)
        assert sorted(map(str, a.select(cols).to_pylist())) == \
            sorted(map(str, b.select(cols).to_pylist()))


def write_snapshot_dir(tmp_path, records: pa.Table):
    d = tmp_path / "data"
    write_snapshot(d, records, batches=2)
    return d
