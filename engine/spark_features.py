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

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from engine.cli import iso_date
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


# --- command line --------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Compute the per-customer feature table from Parquet inputs "
                          "on DuckDB or Spark and write it as Parquet.")
    parser.add_argument("--source", required=True, metavar="DIR_OR_URI",
                        help="folder or URI with customers, transactions, interactions "
                             "(NAME.parquet or NAME/ folders)")
    parser.add_argument("--as-of", type=iso_date, required=True, metavar="YYYY-MM-DD",
                        help="the date T")
    parser.add_argument("--engine", choices=ENGINES, default="duckdb")
    parser.add_argument("--spark-master", default=None, metavar="URL",
                        help="Spark master (local[4], spark://…, yarn) or Spark Connect "
                             "URL (sc://…); default local[*]")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder for customer_features.parquet (Spark: a folder "
                             "customer_features/) and features.json")


def run(args: argparse.Namespace) -> int:
    from engine.cli import InputRejected

    started = time.perf_counter()
    if not parquet_source.is_uri(args.source):
        try:
            for table in parquet_source.INPUT_TABLES:
                parquet_source.input_path(args.source, table)
        except FileNotFoundError as exc:
            raise InputRejected(str(exc)) from None
    if args.engine == "duckdb":
        frame, available = parquet_source.duckdb_features(args.source, as_of=args.as_of)
        target = parquet_source.write_features(frame, Path(args.out), as_of=args.as_of,
                                               engine="duckdb", available=available)
        rows = len(frame)
    else:
        try:
            import pyspark  # noqa: F401
        except ImportError:
            raise InputRejected("--engine spark needs pyspark: pip install -r "
                                "requirements-spark.txt (and Java 17)") from None
        spark = spark_session(args.spark_master)
        result = spark_features_frame(spark, args.source, as_of=args.as_of)
        out = str(args.out).rstrip("/")
        target = f"{out}/{parquet_source.FEATURES_NAME}"
        result.write.mode("overwrite").parquet(target)
        rows = spark.read.parquet(target).count()
        if not parquet_source.is_uri(out):
            # the sources flags need raw events; `engine score` judges them from the table
            parquet_source.write_meta(Path(out), as_of=args.as_of, engine="spark", available=None)
    print(f"Wrote features of {rows:,} customers as of {args.as_of} ({args.engine}) to "
          f"{target} in {time.perf_counter() - started:.1f} s.")
    return 0


COMMAND = ("features", add_arguments, run)


if __name__ == "__main__":  # spark-submit engine/spark_features.py --source … --out …
    from engine.cli import main
    sys.exit(main(["features", "--engine", "spark", *sys.argv[1:]]))
