"""The feature inputs and the feature table as Parquet (DESIGN §5 `features`).

A source is a folder or URI holding customers, transactions and
interactions, each as NAME.parquet or as a folder NAME/ of Parquet parts
(what Spark writes). On DuckDB the three become views and the same
`customer_features` runs over them.
"""
from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from engine import i18n
from engine.features.customer import (FEATURE_COLUMNS, NULLABLE_INT_COLUMNS,
                                      customer_features, optional_columns_present)

INPUT_TABLES = ("customers", "transactions", "interactions")
FEATURES_NAME = "customer_features"
META_NAME = "features.json"
# The layout of a feature table folder; features.json carries it, so a reader
# can refuse a folder written under another FEATURE_COLUMNS. Bump with them.
FORMAT = 1


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
        {"format": FORMAT, "as_of": as_of.isoformat(), "engine": engine,
         "available": available}, indent=1), encoding="utf-8")


def read_features(folder: Path) -> tuple[pd.DataFrame, dict]:
    """A feature table written by `engine features`, in DuckDB's pandas types, and its meta.

    Raises FeatureTableError when a FEATURE_COLUMNS column is missing or
    features.json cannot be read, duckdb.Error when the Parquet cannot.
    """
    folder = Path(folder)
    file = folder / f"{FEATURES_NAME}.parquet"
    location = str(file) if file.is_file() else str(folder / FEATURES_NAME / "**" / "*.parquet")
    con = duckdb.connect()
    try:
        frame = con.execute(f"SELECT * FROM read_parquet('{location.replace(chr(39), chr(39) * 2)}')"
                            ).df()
    finally:
        con.close()
    missing = [c for c in FEATURE_COLUMNS if c not in frame.columns]
    if missing:
        raise FeatureTableError("source.error.columns", path=str(folder), missing=", ".join(missing))
    meta_file = folder / META_NAME
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
    except (OSError, ValueError) as exc:
        raise FeatureTableError("source.error.meta", path=str(meta_file), error=str(exc)) from None
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


# --- a feature table as the dashboard's and `engine score`'s source --------------------

class FeatureTableError(ValueError):
    """A folder that cannot serve as a feature table; `key` and `values` word it in either
    language, so the dashboard and the command line say the same thing."""

    def __init__(self, key: str, **values):
        self.key, self.values = key, values
        super().__init__(i18n.t(key, "en", **values))

    def message(self, lang: str = "en") -> str:
        return i18n.t(self.key, lang, **self.values)


@dataclass(frozen=True)
class FeatureTable:
    """A feature table read from a folder written by `engine features --out DIR`.

    frame: FEATURE_COLUMNS in DuckDB's pandas types, sorted by customer_id;
    as_of: the T it was computed for (None when features.json is missing);
    available: which optional sources hold data (features.json, else judged
    from the table by `available_from_features`); engine: duckdb or spark.
    """
    frame: pd.DataFrame
    as_of: dt.date | None
    available: dict[str, bool]
    engine: str | None


def _table_files(folder: Path) -> list[Path]:
    """The files of the feature table itself and its features.json (what a rewrite changes)."""
    parts = folder / FEATURES_NAME
    files = [folder / f"{FEATURES_NAME}.parquet", folder / META_NAME]
    return [f for f in files if f.is_file()] + (sorted(parts.rglob("*.parquet"))
                                                if parts.is_dir() else [])


def _checked_folder(source: str | Path) -> Path:
    """The local folder of a feature table; FeatureTableError when it is none."""
    if is_uri(source):
        raise FeatureTableError("source.error.uri", path=str(source))
    folder = Path(source).expanduser()
    if not folder.exists():
        raise FeatureTableError("source.error.missing", path=str(folder))
    if not folder.is_dir():
        raise FeatureTableError("source.error.not_folder", path=str(folder))
    if not any(f.suffix == ".parquet" for f in _table_files(folder)):
        inputs = any((folder / f"{t}.parquet").exists() or (folder / t).is_dir()
                     for t in INPUT_TABLES)
        raise FeatureTableError("source.error.inputs_only" if inputs else "source.error.no_table",
                                path=str(folder))
    return folder


def feature_table_version(source: str | Path) -> int:
    """A number that changes whenever the table's files are rewritten (names, sizes, mtimes).

    It plays the part of the database's data version in the dashboard's
    cache keys: cheap (no file is read), and a new `engine features --out`
    into the same folder gives a new number. Raises FeatureTableError.
    """
    folder = _checked_folder(source)
    digest = hashlib.blake2b(digest_size=8)
    for file in _table_files(folder):
        stat = file.stat()
        digest.update(f"{file.relative_to(folder)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return int.from_bytes(digest.digest(), "big", signed=True)


def load_feature_table(source: str | Path) -> FeatureTable:
    """Read and check a feature table folder; FeatureTableError says what is wrong with it.

    Refused: a URI (the reader needs a local or mounted folder), a missing
    path, a file, a folder without customer_features (the Parquet inputs
    alone, or something else), Parquet that cannot be read, a table that
    lacks FEATURE_COLUMNS, and a features.json of another FORMAT.
    """
    folder = _checked_folder(source)
    try:
        frame, meta = read_features(folder)
    except duckdb.Error as exc:
        raise FeatureTableError("source.error.unreadable", path=str(folder),
                                error=str(exc).splitlines()[0]) from None
    if meta.get("format", FORMAT) != FORMAT:
        raise FeatureTableError("source.error.format", path=str(folder),
                                found=meta.get("format"), expected=FORMAT)
    return FeatureTable(frame=frame,
                        as_of=dt.date.fromisoformat(meta["as_of"]) if meta.get("as_of") else None,
                        available=meta.get("available") or available_from_features(frame),
                        engine=meta.get("engine"))
