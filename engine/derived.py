"""Results derived from the data, kept in the database file for the data version they
were computed from (issue 21).

At a million customers the Review's month ends take minutes, the risk trend
over a minute and the feature table ten seconds. Kept in the file, they are
computed once per data version: a restart of the dashboard, a second
dashboard process or the command line reads them back instead.

A kept result is found only under the data version, and the engine code,
it was computed with. Every write that changes the data bumps the version,
so a result can never outlive its data; a new release (other engine code)
computes its own. Each save deletes the results of other versions, so the
file holds those of one version at most.

A result is a DataFrame (stored as Parquet) or a tree of dicts, lists,
numbers, decimals, strings, dates and DataFrames (JSON, the frames as Parquet
inside).
Never pickle: a database file may come from elsewhere (a restored backup),
and reading it must not run code.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from engine import store

TABLE = store.DERIVED_TABLE
SAVE_TIMEOUT_S = 5.0    # a save waits this long for the file, then gives up: the result stands
_FRAME, _TREE = b"P", b"J"
RESERVED = {"__frame__", "__date__", "__decimal__"}   # keys that mark a value in the JSON


# ---- the payload ---------------------------------------------------------------------

def encode(value) -> bytes:
    """`value` as bytes (see the module docstring for what it may be)."""
    if isinstance(value, pd.DataFrame):
        return _FRAME + _parquet(value)
    return _TREE + json.dumps(_tree(value), allow_nan=True).encode("utf-8")


def decode(payload: bytes):
    """The value `encode` was given."""
    kind, body = payload[:1], payload[1:]
    if kind == _FRAME:
        return _frame(body)
    if kind == _TREE:
        return _untree(json.loads(body))
    raise ValueError(f"not a derived result (kind {kind!r})")


def _parquet(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame), out, compression="zstd")
    return out.getvalue()


def _frame(body: bytes) -> pd.DataFrame:
    return pq.read_table(io.BytesIO(body)).to_pandas()


def _tree(value):
    if isinstance(value, pd.DataFrame):
        return {"__frame__": base64.b64encode(_parquet(value)).decode("ascii")}
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("a derived result's dict keys must be text")
        if RESERVED & set(value):
            raise TypeError("a derived result's dict may not use a reserved key")
        return {k: _tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_tree(v) for v in value]
    if isinstance(value, datetime):
        raise TypeError("a derived result holds dates, not times")
    if isinstance(value, date):
        return {"__date__": value.isoformat()}
    if isinstance(value, Decimal):   # DuckDB's sums of money: exact, as text
        return {"__decimal__": str(value)}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"a derived result cannot hold {type(value).__name__}")


def _untree(value):
    if isinstance(value, dict):
        if "__frame__" in value:
            return _frame(base64.b64decode(value["__frame__"]))
        if "__date__" in value:
            return date.fromisoformat(value["__date__"])
        if "__decimal__" in value:
            return Decimal(value["__decimal__"])
        return {k: _untree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untree(v) for v in value]
    return value


# ---- the table -----------------------------------------------------------------------

@cache
def engine_code() -> str:
    """A digest of the engine's source: results of other code are never read."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def result_key(key: Mapping[str, Any]) -> str:
    """The text a result is found under: its arguments, in a fixed order, a whole number
    written alike whether it came as 40 or 40.0 (a weight from a slider or a default)."""
    return json.dumps(_whole(_tree(dict(key))), sort_keys=True, separators=(",", ":"))


def _whole(value):
    if isinstance(value, dict):
        return {k: _whole(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


MISSING = object()


def load(con, name: str, key: Mapping[str, Any], version: int):
    """The result kept under `name` and `key` for data `version`, else MISSING."""
    row = store.first_row(
        con, f"SELECT part FROM {TABLE} WHERE name = ? AND key = ? AND data_version = ? "
             "AND engine = ?", [name, result_key(key), version, engine_code()])
    if row is None:
        return MISSING
    try:
        payload = store.first_row(con, f"SELECT payload FROM {part_table(row[0])}")[0]
    except duckdb.CatalogException:   # another session of this process replaced it meanwhile
        return MISSING
    return decode(payload)


def load_many(db, name: str, keys: list[Mapping[str, Any]], version: int) -> list:
    """`load` of each of `keys` (MISSING where nothing is kept) through one opening of the
    file: a page that reads a dozen results pays one opening (16 ms), not a dozen."""
    with store.connect(db) as con:
        return [load(con, name, key, version) for key in keys]


def part_table(part: int) -> str:
    """The table holding one kept result's bytes (a whole number of ours, never text)."""
    return f"{TABLE}_{int(part)}"


def save(db, name: str, key: Mapping[str, Any], version: int, value) -> bool:
    """Keep `value` under `name` and `key` for data `version`, and drop every result of
    another version or code. Nothing is kept when the data has moved on since (the
    result describes older data) or when the file stays held by another program
    for SAVE_TIMEOUT_S; returns whether it was kept. The data version is not bumped:
    the data did not change."""
    payload = encode(value)
    try:
        with store.write(db, timeout=SAVE_TIMEOUT_S, bump=False) as con:
            if store.current_data_version(con) != version:
                return False
            part = con.execute(f"SELECT coalesce(max(part), 0) + 1 FROM {TABLE}").fetchone()[0]
            stale = [r[0] for r in con.execute(
                f"SELECT part FROM {TABLE} WHERE data_version <> ? OR engine <> ? "
                "OR (name = ? AND key = ?)",
                [version, engine_code(), name, result_key(key)]).fetchall()]
            for old in stale:
                con.execute(f"DROP TABLE IF EXISTS {part_table(old)}")
            con.execute(f"DELETE FROM {TABLE} WHERE part IN (SELECT unnest(?::BIGINT[]))",
                        [stale])
            con.execute(f"CREATE TABLE {part_table(part)} (payload BLOB)")
            con.execute(f"INSERT INTO {part_table(part)} VALUES (?)", [payload])
            con.execute(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, now()::TIMESTAMP, ?)",
                        [name, result_key(key), version, engine_code(), part])
    except store.StoreLocked:
        return False
    return True


# One computation of a result at a time in this process: a second session (or the
# background preparation) asking for it waits and then reads it.
_LOCKS: dict[tuple, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock(db, name: str, key: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault((str(Path(db).resolve()), name, key), threading.Lock())


def kept(db, version: int, name: str, key: Mapping[str, Any], compute: Callable[[], Any], *,
         keep: bool = True):
    """The result `compute()` gives for data `version`, read from the file when it was
    kept there before, else computed now and kept; without `keep`, just computed (a
    large result of a view that is not worth the room in the file)."""
    if not keep:
        return compute()
    with _lock(db, name, result_key(key)):
        with store.connect(db) as con:
            found = load(con, name, key, version)
        if found is not MISSING:
            return found
        value = compute()
        save(db, name, key, version, value)
        return value
