"""`python -m engine export --db DB --out DIR`: the feature inputs as Parquet.

Writes DIR/customers.parquet, DIR/transactions.parquet and
DIR/interactions.parquet from a DuckDB file, with the stored types
(amount stays DECIMAL(18,2), dates DATE, ts TIMESTAMP), so
`python -m engine features --source DIR` can run on DuckDB or on Spark.
"""
from __future__ import annotations

from pathlib import Path

from engine import store

TABLES = ("customers", "transactions", "interactions")


def export_parquet(db: Path, out: Path) -> dict[str, int]:
    """Write the three input tables to OUT; return the row count of each."""
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    with store.connect(db) as con:
        for table in TABLES:
            target = out / f"{table}.parquet"
            con.execute(f"COPY (SELECT * EXCLUDE (batch_id) FROM {table}) "
                        f"TO '{_quoted(target)}' (FORMAT parquet)")
            counts[table] = store.first_row(con, f"SELECT count(*) FROM {table}")[0]
    return counts


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
