"""A local Spark session configured for this machine (2 cores, loopback only).

pyspark is an optional extra (``pip install tiplab[spark]``); on a cluster, set
``TIPLAB_SPARK_MASTER`` (e.g. ``spark://host:7077`` or ``yarn``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

from tiplab.errors import ConfigError


def local_catalog(builder: Any, master: str) -> Any:
    """``builder`` with its catalog directory in a temporary directory when ``master`` is
    local. Spark's default is ./spark-warehouse, which a local run would leave in the user's
    working directory; tiplab keeps no tables in it. A cluster keeps its own setting."""
    if master.startswith("local"):
        builder = builder.config(
            "spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="tiplab-spark-warehouse-")
        )
    return builder


def spark_session(app_name: str = "tiplab", extra_jars: list[str] | None = None) -> Any:
    """Return (creating once) a SparkSession; local[2] unless TIPLAB_SPARK_MASTER is set."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigError("Spark is an optional extra: pip install 'tiplab[spark]' (needs "
                          "Java 17+)") from exc
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    master = os.environ.get("TIPLAB_SPARK_MASTER", "local[2]")
    builder = (SparkSession.builder.appName(app_name)
               .master(master)
               .config("spark.sql.shuffle.partitions", "8")
               .config("spark.ui.enabled", "false")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.sql.session.timeZone", "UTC"))
    # Splink's similarity functions (Jaro-Winkler etc.) ship as a jar inside the splink wheel.
    # A JVM loads jars only when the first session starts, and getOrCreate() returns that
    # session afterwards, so every session tiplab starts carries the jar: linkage and
    # analysis can then share one session in any order.
    jars = list(extra_jars or [])
    try:
        from splink.backends.spark import similarity_jar_location

        jars.append(similarity_jar_location())
    except ImportError:  # splink without its Spark extras: analysis-only sessions still work
        pass
    if jars:
        builder = builder.config("spark.jars", ",".join(jars))
    spark = local_catalog(builder, master).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="tiplab-spark-"))
    return spark
