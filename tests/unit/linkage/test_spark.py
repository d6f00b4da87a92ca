"""The same linkage on Spark (local mode): slow, needs pyspark and Java."""

from __future__ import annotations

import pytest

# One JVM per test run: both Spark tests share an xdist worker (and so one SparkSession).
pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.xdist_group("spark")]


def test_spark_matches_duckdb() -> None:
    pytest.importorskip("pyspark")
    from factories import link_inputs, make_dataset

    from tiplab.linkage import LinkSettings, evaluate_clusters, link

    ds = make_dataset(250, seed=41)
    spark = link(link_inputs(ds), LinkSettings(engine="spark", threshold=0.9))  # type: ignore[arg-type]
    duck = link(link_inputs(ds), LinkSettings(threshold=0.9))  # type: ignore[arg-type]
    as_truth = duck.clusters.rename_columns(["source", "record_id", "true_id"])
    agreement = evaluate_clusters(spark.clusters, as_truth)
    assert spark.settings.engine == "spark"
    assert agreement.pairwise_f1 >= 0.97, agreement.to_text()
    assert evaluate_clusters(spark.clusters, ds.truth).pairwise_f1 >= 0.85


def test_a_local_session_keeps_its_catalog_out_of_the_working_directory() -> None:
    pytest.importorskip("pyspark")
    from tiplab.spark import spark_session

    spark = spark_session()
    assert "tiplab-spark-warehouse-" in spark.conf.get("spark.sql.warehouse.dir")


def test_a_linkage_session_keeps_its_catalog_out_of_the_working_directory(
    tmp_path, monkeypatch
) -> None:
    """The linkage engine builds its own session (the first one in a process wins): it too
    keeps Spark's catalog out of the working directory."""
    pytest.importorskip("pyspark")
    from tiplab.linkage import LinkSettings
    from tiplab.linkage.engine import Engine

    monkeypatch.chdir(tmp_path)
    engine = Engine(LinkSettings(engine="spark"))
    try:
        assert "tiplab-spark-warehouse-" in engine.spark.conf.get("spark.sql.warehouse.dir")
        assert not (tmp_path / "spark-warehouse").exists()
    finally:
        engine.close()
