"""The DuckDB file: schema, migrations, and short-lived connections.

DuckDB lets only one process hold a database file, so nothing here keeps the
file open between operations (DESIGN §2, "Sharing the file"): every read or
write attaches the file, works, and detaches it (`_attach`). A process that finds the
file held by another program waits and retries, then raises `StoreLocked`.
Every write bumps a data version that the dashboard uses as its cache key.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from engine import i18n

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "data" / "demo.duckdb"
SCHEMA_VERSION = 6
DERIVED_TABLE = "derived_results"
LOCK_TIMEOUT_S = float(os.environ.get("CRM_LOCK_TIMEOUT", "30"))

# Each entry brings a file from version i to i + 1; a file made by an older
# release is migrated when it is first opened by a newer one.
MIGRATIONS: list[str] = [
    # 0 -> 1: the tables of DESIGN §3.
    """
    CREATE TABLE IF NOT EXISTS meta (key VARCHAR, value VARCHAR);
    CREATE TABLE IF NOT EXISTS import_batches (
        batch_id INTEGER, file_name VARCHAR, content_hash VARCHAR,
        table_name VARCHAR, rows_inserted INTEGER, rows_updated INTEGER,
        rows_unchanged INTEGER, rows_rejected INTEGER,
        customers_created INTEGER, imported_at TIMESTAMP, undone_at TIMESTAMP);
    CREATE TABLE IF NOT EXISTS customers (
        customer_id VARCHAR NOT NULL, name VARCHAR, customer_type VARCHAR,
        channel_type VARCHAR, region VARCHAR, source VARCHAR,
        first_contact_date DATE, owner VARCHAR, referred_by VARCHAR,
        contract_end DATE, batch_id INTEGER);
    CREATE TABLE IF NOT EXISTS transactions (
        customer_id VARCHAR NOT NULL, txn_date DATE NOT NULL,
        amount DECIMAL(18, 2) NOT NULL, txn_id VARCHAR, product VARCHAR,
        category VARCHAR, quantity DOUBLE, due_date DATE, paid_date DATE,
        status VARCHAR, batch_id INTEGER);
    CREATE TABLE IF NOT EXISTS interactions (
        customer_id VARCHAR NOT NULL, ts TIMESTAMP NOT NULL,
        kind VARCHAR NOT NULL, channel VARCHAR, topic VARCHAR,
        satisfaction INTEGER, response_hours DOUBLE, note VARCHAR,
        owner VARCHAR, batch_id INTEGER);
    CREATE TABLE IF NOT EXISTS followups (
        followup_id BIGINT, customer_id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL, action VARCHAR, channel VARCHAR, need VARCHAR,
        result VARCHAR, next_contact_date DATE, owner VARCHAR,
        status VARCHAR, batch_id INTEGER);
    CREATE TABLE IF NOT EXISTS settings (
        kind VARCHAR, name VARCHAR, value VARCHAR, saved_at TIMESTAMP);
    """,
    # 1 -> 2: earlier versions of customers that an import overwrote, so
    # undoing that import can restore them.
    """
    CREATE TABLE IF NOT EXISTS customer_versions AS
        SELECT * FROM customers WHERE false;
    ALTER TABLE customer_versions ADD COLUMN replaced_by INTEGER;
    """,
    # 2 -> 3: the audit log (engine.audit), one row per recorded action ("at" is
    # a keyword of DuckDB's SQL, so it is quoted).
    """
    CREATE TABLE IF NOT EXISTS audit_log (
        "at" TIMESTAMP, actor VARCHAR, action VARCHAR, detail VARCHAR);
    """,
    # 3 -> 4: order lines (DESIGN §3): a line's unit price, from which its
    # amount is derived when a file has none, and its number within an order
    # of several lines (1, 2, ...; NULL for an order of one row), which the
    # import sets so that the feature query groups only those orders.
    """
    ALTER TABLE transactions ADD COLUMN IF NOT EXISTS unit_price DECIMAL(18, 2);
    ALTER TABLE transactions ADD COLUMN IF NOT EXISTS order_line INTEGER;
    """,
    # 4 -> 5: results computed from the data, kept for the data version they describe
    # (engine.derived): not data, so backups and fingerprints leave them out.
    f"""
    CREATE TABLE IF NOT EXISTS {DERIVED_TABLE} (
        name VARCHAR, key VARCHAR, data_version BIGINT, engine VARCHAR,
        made_at TIMESTAMP, payload BLOB);
    """,
    # 5 -> 6: each kept result's bytes in a table of its own (DERIVED_TABLE_<part>), so
    # that reading one does not read them all: DuckDB reads a whole vector of a BLOB
    # column, 0.25 s for the 200 MB a million customers' results take. Kept results are
    # not data: those of the old layout are dropped, to be computed again.
    f"""
    DROP TABLE IF EXISTS {DERIVED_TABLE};
    CREATE TABLE {DERIVED_TABLE} (
        name VARCHAR, key VARCHAR, data_version BIGINT, engine VARCHAR,
        made_at TIMESTAMP, part BIGINT);
    """,
]
assert len(MIGRATIONS) == SCHEMA_VERSION

EVENT_TABLES = ("customers", "transactions", "interactions", "followups")


class StoreLocked(RuntimeError):
    """Another program holds the database file longer than we wait."""

    def __init__(self, path: Path, waited: float, detail: str):
        self.path, self.waited, self.detail = Path(path), waited, detail
        super().__init__(
            f"{path}: another program has held this database file for "
            f"{waited:.0f} s ({detail}); close it or try again later."
        )


class ForeignFile(ValueError):
    """A path that is no database of this app: not a DuckDB file at all, or another
    application's (tables, but none of ours). It is refused, never opened for writing.

    `reason` is "unreadable", "not_ours" or "no_access" (the file or its folder cannot be
    written); `detail` says more (DuckDB's words, the tables found). The message is the
    catalogue's `source.foreign.<reason>`, in English.
    """

    def __init__(self, path: Path, reason: str, detail: str):
        self.path, self.reason, self.detail = Path(path), reason, detail
        super().__init__(i18n.t(f"source.foreign.{reason}", "en", path=path, detail=detail))


def default_db_path() -> Path:
    """The database the dashboard and CLI use unless told otherwise."""
    return Path(os.environ.get("CRM_DB") or DEFAULT_DB)


def data_folder() -> Path:
    """The folder the dashboard may open and create databases in: CRM_DATA_DIR, set by
    the operator, else this repository's data/ folder."""
    return Path(os.environ.get("CRM_DATA_DIR") or ROOT / "data").resolve()


def in_data_folder(path: Path | str) -> bool:
    """Whether `path` (links followed) lies inside `data_folder()`."""
    return Path(path).resolve().is_relative_to(data_folder())


# The files are attached, for the length of an operation, to one in-memory DuckDB
# instance of the process: attaching a file costs 2 ms where opening it as a database
# of its own costs 14-18 ms (DuckDB builds a whole instance, with its thousands of
# functions, each time), and a page opens the file 5 to 26 times. A file attached
# for one thread's operation is shared by the operations of other threads (dashboard
# sessions) that start before it ends, each through a connection of its own that
# uses it as its default database; the last to end detaches it, which frees the file
# for other processes as closing did. Attaching and detaching happen one at a time.
_OPEN_CLOSE = threading.Lock()
_BASE: list[duckdb.DuckDBPyConnection] = []
_ATTACHED: dict[str, list] = {}   # resolved path -> [alias, connections using it]
_ALIASES = itertools.count(1)


def _open(path: Path, key: str, timeout: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        try:
            with _OPEN_CLOSE:
                return _attach(key)
        except duckdb.IOException as exc:
            if "permission denied" in str(exc).lower():
                raise ForeignFile(path, "no_access", _first_line(exc)) from None
            if "lock" not in str(exc).lower():
                raise ForeignFile(path, "unreadable", _first_line(exc)) from None
            if time.monotonic() >= deadline:
                detail = str(exc).split(":", 1)[-1].strip().split(". See")[0]
                raise StoreLocked(path, timeout, detail) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def _attach(key: str) -> duckdb.DuckDBPyConnection:
    """A connection whose default database is the file at `key` (its resolved path),
    attached now or already."""
    if not _BASE:   # no extension fetched from the internet: a SQLite file, say, is refused
        _BASE.append(duckdb.connect(config={"autoinstall_known_extensions": False}))
    entry = _ATTACHED.get(key)
    if entry is None:
        alias = f"file{next(_ALIASES)}"
        _BASE[0].execute(f"ATTACH {sql_literal(key)} AS {alias}")
        entry = _ATTACHED[key] = [alias, 0]
    con = _BASE[0].cursor()
    entry[1] += 1
    try:
        con.execute(f"USE {entry[0]}")
    except BaseException:
        _release(con, key)
        raise
    return con


def _release(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """Close an operation's connection; detach the file when it was the last one."""
    con.close()
    entry = _ATTACHED[key]
    entry[1] -= 1
    if entry[1] == 0:   # should the DETACH fail, the next operation finds it still attached
        _BASE[0].execute(f"DETACH {entry[0]}")
        del _ATTACHED[key]


@contextmanager
def attached(con, path: Path | str, alias: str, *, read_only: bool = False) -> Iterator[None]:
    """Another file attached to an operation's connection as `alias` while the block runs.

    Attached files belong to the process's DuckDB instance, not to the
    connection (see `_attach`), so they are detached here, whatever happens.
    """
    con.execute(f"ATTACH {sql_literal(str(path))} AS {alias}{' (READ_ONLY)' if read_only else ''}")
    try:
        yield
    finally:
        con.execute(f"DETACH {alias}")


def sql_literal(text: str) -> str:
    """A string as an SQL literal, for the statements that take no parameters (ATTACH,
    COPY TO)."""
    return "'" + text.replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _check_ours(con, path: Path) -> int:
    """The file's schema version; ForeignFile when it holds tables but no version of ours."""
    version = schema_version(con)
    if version:
        return version
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_catalog = current_database() ORDER BY 1").fetchall()]
    if tables:
        raise ForeignFile(path, "not_ours", ", ".join(tables[:5]))
    return version


def first_row(con, sql: str, params=None) -> tuple | None:
    """The first row of a query, with the result fully consumed.

    DuckDB 2.0 keeps a result open after `fetchone()` and then refuses other
    work on the connection (`register`, a new statement in some paths), so
    small look-ups read everything.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


# How a column that holds a NULL arrives in pandas when `.df()` would have made
# it a nullable type: whole numbers and truth values.
_NULLABLE = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
             pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)   # pandas' default "str"


def frame(con, sql: str, params=None) -> pd.DataFrame:
    """The rows of a query as a DataFrame with the types `.df()` gives, fetched through Arrow.

    `.df()` makes a Python object of every text cell and DECIMAL value; at a
    million customers that conversion took longer than the query itself.
    Here DuckDB casts DECIMAL to DOUBLE (the value `.df()` gave), text stays
    in Arrow memory as pandas' str type, DATE and TIMESTAMP become
    datetime64[us], and whole numbers or truth values with a NULL become
    pandas' nullable types.
    """
    relation = con.sql(sql, params=params)
    columns = ", ".join(
        f'CAST("{name}" AS DOUBLE) AS "{name}"' if str(kind).startswith("DECIMAL") else f'"{name}"'
        for name, kind in zip((c.replace('"', '""') for c in relation.columns), relation.types))
    table = relation.project(columns).to_arrow_table()
    return pd.DataFrame({name: _to_pandas(table.column(name)) for name in table.column_names},
                        copy=False)


def _to_pandas(column: pa.ChunkedArray) -> pd.Series:
    if column.null_count and column.type in _NULLABLE:
        return column.to_pandas(types_mapper={column.type: _NULLABLE[column.type]}.get)
    series = column.to_pandas(types_mapper={pa.string(): _TEXT, pa.large_string(): _TEXT}.get,
                              date_as_object=False)
    if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
        return series.astype("datetime64[us]")
    return series


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """0 for an empty file (no `meta` table), else the version stored in `meta`.

    Asked of `meta` straight away: looking the table up in information_schema
    first took a query more on every opening of the file (a page opens it a
    dozen times). Not for a transaction that might lack `meta`, whose failed
    look-up would end it.
    """
    try:
        row = first_row(con, "SELECT value FROM meta WHERE key = 'schema_version'")
    except duckdb.CatalogException:
        return 0
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection, found: int | None = None) -> int:
    """Bring the file to SCHEMA_VERSION in one transaction; return the old version
    (`found`: the version already read, so that it is not read twice)."""
    found = schema_version(con) if found is None else found
    if found > SCHEMA_VERSION:
        raise RuntimeError(
            f"This database was written by a newer release (schema "
            f"{found}, this release knows {SCHEMA_VERSION}); update the app."
        )
    if found == SCHEMA_VERSION:
        return found
    con.execute("BEGIN TRANSACTION")
    try:
        for step in MIGRATIONS[found:]:
            con.execute(step)
        _set_meta(con, "schema_version", SCHEMA_VERSION)
        if _get_meta(con, "data_version") is None:
            _set_meta(con, "data_version", 0)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return found


def _get_meta(con, key: str) -> str | None:
    row = first_row(con, "SELECT value FROM meta WHERE key = ?", [key])
    return row[0] if row else None


def _set_meta(con, key: str, value) -> None:
    con.execute("DELETE FROM meta WHERE key = ?", [key])
    con.execute("INSERT INTO meta VALUES (?, ?)", [key, str(value)])


@contextmanager
def connect(path: Path | str | None = None, *, timeout: float | None = None
            ) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the file (creating and migrating it as needed) for one operation."""
    path = Path(path or default_db_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())   # the same file by any of its names shares one attachment
    con = _open(path, key, LOCK_TIMEOUT_S if timeout is None else timeout)
    try:
        try:
            found = _check_ours(con, path)
        except (ValueError, duckdb.Error) as exc:   # no number as the schema version, a bad block
            if isinstance(exc, ForeignFile):
                raise
            raise ForeignFile(path, "unreadable", _first_line(exc)) from None
        migrate(con, found)
        yield con
    finally:
        with _OPEN_CLOSE:
            _release(con, key)


# Sessions of the dashboard are threads of one process and share the file's
# database instance, so the file lock does not keep their writes apart; two
# write transactions at once fail in DuckDB ("Conflict on tuple deletion" on
# the data version row, a catalog conflict on an import's work tables). One
# writer at a time within the process, as the file lock does between processes.
_WRITER = threading.Lock()


@contextmanager
def _one_writer(path: Path | str | None, timeout: float | None) -> Iterator[None]:
    waited = LOCK_TIMEOUT_S if timeout is None else timeout
    if not _WRITER.acquire(timeout=waited):
        raise StoreLocked(Path(path or default_db_path()), waited,
                          "another session of this app is writing")
    try:
        yield
    finally:
        _WRITER.release()


@contextmanager
def write(path: Path | str | None = None, *, timeout: float | None = None, bump: bool = True,
          reading: tuple[str, Path] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """One write as one transaction: all of it lands, with a new data version, or none.

    `bump=False` is for a write that changes no data the pages show (an audit row of
    a login), so that it does not make every session's caches drop. `reading` (alias,
    path) attaches another file read-only for the transaction (a restore's backup):
    DuckDB detaches a file the transaction read only after it ends.
    """
    with _one_writer(path, timeout), connect(path, timeout=timeout) as con, ExitStack() as more:
        if reading is not None:
            more.enter_context(attached(con, reading[1], reading[0], read_only=True))
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
            if bump:
                bump_data_version(con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


@contextmanager
def rolled_back(path: Path | str | None = None, *, timeout: float | None = None
                ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A transaction that is always rolled back: a dry run that writes work tables.

    It takes the writer's turn like `write`, since its work tables would
    conflict with those of an import running in another session.
    """
    with _one_writer(path, timeout), connect(path, timeout=timeout) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        finally:
            con.execute("ROLLBACK")


@contextmanager
def session(source) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for one step of a long job over many dates.

    `source` is either an open connection, used as it is, or a database
    path, opened for this step and closed after it: a job that walks 24
    month ends then holds the file one query at a time, and a command-line
    import waiting for the lock gets in between two steps.
    """
    if isinstance(source, (str, Path)):
        with connect(source) as con:
            yield con
    else:
        yield source


def bump_data_version(con) -> int:
    """Mark the data as changed so cached results keyed on the version go stale."""
    version = int(_get_meta(con, "data_version") or 0) + 1
    _set_meta(con, "data_version", version)
    return version


def data_version(path: Path | str | None = None) -> int:
    """The number every write bumps; the dashboard's cache key."""
    with connect(path) as con:
        return current_data_version(con)


def current_data_version(con) -> int:
    """`data_version` as the connection (inside its transaction) sees it."""
    return int(_get_meta(con, "data_version") or 0)


def table_counts(con) -> dict[str, int]:
    """Rows per event table, for the sidebar and reports."""
    return {t: first_row(con, f"SELECT count(*) FROM {t}")[0] for t in EVENT_TABLES}


def date_range(con):
    """First and last event dates across transactions and interactions."""
    return first_row(
        con, "SELECT min(d), max(d) FROM ("
             " SELECT txn_date AS d FROM transactions"
             " UNION ALL SELECT CAST(ts AS DATE) FROM interactions)")
