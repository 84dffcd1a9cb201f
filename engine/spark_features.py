"""The per-customer feature table on Spark (DESIGN §2, "Design principle for scale").

Runs the committed transpilation `engine/features/customer.spark.sql` of the
DuckDB feature SQL, with T bound as a typed DATE literal, over Parquet
inputs (a local folder or any URI Spark reads: hdfs://, s3a://, abfss://).
pyspark is optional (requirements-spark.txt); nothing else imports this.

    python -m engine features --source DIR_OR_URI --as-of DATE --engine {duckdb,spark}
                              [--spark-master URL] --out DIR

`--spark-master` takes a master URL (local[4], spark://host:7077, yarn) or
a Spark Connect URL (sc://host:15002). On DuckDB the inputs become views and
the same `customer_features` runs in memory.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from engine.features import parquet_source
from engine.features.portable import spark_customer_sql

ENGINES = ("duckdb", "spark")


def spark_session(master: str | None = None, *, shuffle_partitions: int | None = None):
    """A SparkSession: Spark Connect for sc:// URLs, else a classic one (UI off)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("customer-features")
    if master and master.startswith("sc://"):
        builder = builder.remote(master)
    else:
        builder = (builder.master(master or "local[*]")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                   .config("spark.sql.session.timeZone", "UTC"))
    if shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    spark = builder.getOrCreate()
    if not (master and master.startswith("sc://")):
        spark.sparkContext.setLogLevel("ERROR")
    return spark


def spark_features_frame(spark, source: str | Path, *, as_of: dt.date):
    """The feature table as a Spark DataFrame (nothing is computed yet)."""
    for table in parquet_source.INPUT_TABLES:
        location = parquet_source.input_path(source, table, glob=False)
        spark.read.parquet(location).createOrReplaceTempView(table)
    return spark.sql(spark_customer_sql(as_of))


def spark_features(spark, source: str | Path, *, as_of: dt.date):
    """The feature table collected to pandas, in the types DuckDB's gives."""
    frame = spark_features_frame(spark, source, as_of=as_of).toPandas()
    return parquet_source.normalise(frame)
