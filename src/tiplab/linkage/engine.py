"""The SQL engine Splink runs on: DuckDB in-process (default) or Spark (scale-out).

One small adapter: make the Splink database API, register Arrow tables, fetch results as
Arrow. Bloom filters are BLOBs on DuckDB and arrays of 64-bit integers on Spark (Spark SQL
has no popcount on binary); :func:`to_engine_layout` converts them.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tiplab.linkage.errors import LinkageError
from tiplab.linkage.settings import LinkSettings

log = logging.getLogger("tiplab.linkage")


def bf_to_int64_lists(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Binary Bloom filters -> list<int64> (the same bits, 8 bytes per item), vectorised.

    Nulls stay null; every non-null filter must have the same length (a multiple of 8).
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.binary())
    n = len(arr)
    valid = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + n + 1]
    lengths = np.diff(offsets)
    widths = np.unique(lengths[valid])
    if len(widths) == 0:
        return pa.nulls(n, pa.list_(pa.int64()))
    if len(widths) != 1 or widths[0] % 8:
        raise LinkageError(
            f"Bloom filters of unequal lengths {widths.tolist()} bytes; all "
            "inputs must be encoded with the same settings"
        )
    w = int(widths[0])
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    ints = np.ascontiguousarray(data).view("<i8")
    list_offsets = np.concatenate([[0], np.cumsum(valid) * (w // 8)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(list_offsets), pa.array(ints), mask=pa.array(~valid))


class Engine:
    """Splink database API plus the helpers around it."""

    def __init__(self, settings: LinkSettings) -> None:
        self.kind = settings.engine
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.spark: Any = None
        if self.kind == "duckdb":
            import duckdb
            from splink import DuckDBAPI

            self.con = duckdb.connect()
            self.db_api: Any = DuckDBAPI(connection=self.con)
        else:
            self.db_api = self._spark_api(settings)

    def _spark_api(self, settings: LinkSettings) -> Any:
        try:
            from pyspark.sql import SparkSession
        except ImportError as e:
            raise LinkageError(
                "engine 'spark' needs pyspark: install tiplab[spark] (and a Java 17 runtime)"
            ) from e
        from splink import SparkAPI
        from splink.backends.spark import similarity_jar_location

        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        self._tmp = tempfile.TemporaryDirectory(prefix="tiplab-spark-")
        from tiplab.spark import local_catalog

        builder = (
            SparkSession.builder.master(settings.spark_master)
            .appName("tiplab-linkage")
            .config("spark.jars", similarity_jar_location())
            .config("spark.sql.shuffle.partitions", str(settings.spark_shuffle_partitions))
            .config("spark.default.parallelism", str(settings.spark_shuffle_partitions))
            .config("spark.driver.memory", "4g")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        )
        spark = local_catalog(builder, settings.spark_master).getOrCreate()
        spark.sparkContext.setCheckpointDir(self._tmp.name)
        spark.sparkContext.setLogLevel("ERROR")
        self.spark = spark
        return SparkAPI(  # type: ignore[no-untyped-call]
            spark_session=spark, num_partitions_on_repartition=settings.spark_shuffle_partitions
        )

    def register(self, table: pa.Table, name: str) -> Any:
        if self.kind == "duckdb":
            return self.db_api.register(table, dataset_display_name=name)
        for col in table.column_names:
            if col.endswith("_bf") and pa.types.is_binary(table.schema.field(col).type):
                i = table.column_names.index(col)
                table = table.set_column(i, col, bf_to_int64_lists(table.column(col)))
        sdf = self.spark.createDataFrame(table.to_pandas())
        return self.db_api.register(sdf, dataset_display_name=name)

    def to_arrow(self, sdf: Any) -> pa.Table:
        if self.kind == "duckdb":
            out = sdf.as_pyarrow_table()
            assert isinstance(out, pa.Table)
            return out
        spark_df = sdf.as_spark_dataframe()
        to_arrow = getattr(spark_df, "toArrow", None)
        if to_arrow is not None:
            result = to_arrow()
            assert isinstance(result, pa.Table)
            return result
        return pa.Table.from_pandas(spark_df.toPandas(), preserve_index=False)

    def close(self) -> None:
        if self.kind == "duckdb":
            self.con.close()
        # A Spark session is left running (getOrCreate reuses it); its scratch dir goes.
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
