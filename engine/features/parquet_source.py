"""The feature inputs and the feature table as Parquet (DESIGN §5 `features`).

A source is a folder or URI holding customers, transactions and
interactions, each as NAME.parquet or as a folder NAME/ of Parquet parts
(what Spark writes). On DuckDB the three become views and the same
`customer_features` runs over them.
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
from pathlib import Path

import duckdb
import pandas as pd

from engine.features.customer import (FEATURE_COLUMNS, NULLABLE_INT_COLUMNS,
                                      customer_features, optional_columns_present)

INPUT_TABLES = ("customers", "transactions", "interactions")
FEATURES_NAME = "customer_features"
META_NAME = "features.json"


def is_uri(source: str | Path) -> bool:
    return "://" in str(source)


def input_path(source: str | Path, table: str, *, glob: bool = True) -> str:
    """The Parquet location of one input table: a file, or a folder of parts."""
    if is_uri(source):
        base = str(source).rstrip("/")
        return f"{base}/{table}.parquet"
    root = Path(source)
    file = root / f"{table}.parquet"
    if file.is_file():
        return str(file)
    for folder in (root / table, file):
        if folder.is_dir():
            return str(folder / "**" / "*.parquet") if glob else str(folder)
    raise FileNotFoundError(f"{root}: neither {table}.parquet nor a folder {table}/ of Parquet files")


def duckdb_views(con, source: str | Path) -> None:
    """Views customers, transactions, interactions over the Parquet inputs."""
    for table in INPUT_TABLES:
        location = input_path(source, table).replace("'", "''")
        con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet('{location}')")


def duckdb_features(source: str | Path, *, as_of: dt.date
                    ) -> tuple[pd.DataFrame, dict[str, bool]]:
    """The feature table (and which optional sources hold data) on DuckDB, in memory."""
    con = duckdb.connect()
    try:
        duckdb_views(con, source)
        return (customer_features(con, as_of=as_of),
                optional_columns_present(con, as_of=as_of))
    finally:
        con.close()


def normalise(frame: pd.DataFrame, reference_dtypes: dict | None = None) -> pd.DataFrame:
    """The pandas types `customer_features` gives on DuckDB, from any engine's frame.

    Decimals become float64, DATE values datetime64, whole-number day counts
    that may be missing Int64, other counts int64.
    """
    frame = frame[list(FEATURE_COLUMNS)].copy()
    for column in frame.columns:
        values = frame[column]
        if column in NULLABLE_INT_COLUMNS:
            frame[column] = values.astype("Int64")
            continue
        sample = values.dropna()
        first = sample.iloc[0] if len(sample) else None
        if isinstance(first, decimal.Decimal):
            frame[column] = values.map(lambda v: None if v is None else float(v)).astype("float64")
        elif isinstance(first, dt.date) and not isinstance(first, dt.datetime):
            frame[column] = pd.to_datetime(values).astype("datetime64[us]")
        elif str(values.dtype).startswith("datetime64"):
            frame[column] = values.astype("datetime64[us]")
        elif pd.api.types.is_integer_dtype(values.dtype):
            frame[column] = values.astype("int64")
        if reference_dtypes and column in reference_dtypes:
            want = reference_dtypes[column]
            if str(frame[column].dtype) != str(want):
                frame[column] = frame[column].astype(want)
    return frame.reset_index(drop=True)


def write_features(frame: pd.DataFrame, out: Path, *, as_of: dt.date, engine: str,
                   available: dict[str, bool] | None) -> Path:
    """OUT/customer_features.parquet and OUT/features.json (T, engine, sources)."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{FEATURES_NAME}.parquet"
    frame.to_parquet(target, index=False)
    write_meta(out, as_of=as_of, engine=engine, available=available)
    return target


def write_meta(out: Path, *, as_of: dt.date, engine: str,
               available: dict[str, bool] | None) -> None:
    (out / META_NAME).write_text(json.dumps(
        {"as_of": as_of.isoformat(), "engine": engine, "available": available}, indent=1),
        encoding="utf-8")


def read_features(folder: Path) -> tuple[pd.DataFrame, dict]:
    """A feature table written by `engine features`, in DuckDB's pandas types, and its meta."""
    folder = Path(folder)
    file = folder / f"{FEATURES_NAME}.parquet"
    location = str(file) if file.is_file() else str(folder / FEATURES_NAME / "**" / "*.parquet")
    con = duckdb.connect()
    try:
        frame = con.execute(f"SELECT * FROM read_parquet('{location.replace(chr(39), chr(39) * 2)}')"
                            ).df()
    finally:
        con.close()
    meta_file = folder / META_NAME
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
    frame = normalise(frame).sort_values("customer_id", kind="stable").reset_index(drop=True)
    return frame, meta


def available_from_features(frame: pd.DataFrame) -> dict[str, bool]:
    """Which optional sources hold data, judged from the feature table alone.

    An approximation used only when the features folder does not say
    (`features.json`): the event-based ones look at the 6-month windows.
    """
    def any_(series) -> bool:
        return bool(series.notna().any())
    return {
        "transactions": any_(frame["last_txn_date"]),
        "product_or_category": bool((frame["products_6m"] > 0).any()),
        "interactions": any_(frame["last_interaction_date"]),
        "event_interactions": bool((frame["events_6m"] > 0).any()),
        "response_hours": any_(frame["median_response_hours_6m"]),
        "due_paid_dates": any_(frame["ontime_share"]),
        "contract_end": any_(frame["contract_end"]),
        "referred_by": bool(frame["referred_by"].fillna("").ne("").any()),
        "referral_interactions": bool((frame["referral_interactions"] > 0).any()),
    }
