"""Validation: every problem of a file, by row and column, before anything is written.

The file is read once into a temporary staging table (`_ingest_stage`, one
row per record in file order, so its rowid is the record's ordinal) with
every mapped cell parsed and, beside it, an error code where the cell is
wrong. `_ingest_rows` then holds the non-blank rows with their values as
they will be stored (codes resolved) and an `_op` column that the checks
and the loader fill in: insert, update, same or reject. Problems go to
`_ingest_problems`. All of it is SQL over whole columns; Python only reads
the results.

Columns of the staging select, for each mapped canonical column `x`:
``x`` the parsed value (for codes: the match key), ``e_x`` the error code
or NULL, ``b_x`` the cell as found where it is wrong; codes also keep the
cleaned text in ``s_x``. `_blank` marks rows with no value at all.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from engine.ingest.columns import Column, amount_derived, columns
from engine.ingest.parse import PARSED_KINDS, YEARS, cast_sql, slow_sql

_BAD = {"date": "bad_date", "timestamp": "bad_datetime", "amount": "bad_amount",
        "number": "bad_number", "hours": "bad_number", "rating": "bad_rating"}
# Values given to NOT NULL columns of rows that are invalid anyway, so the
# fast path can insert them, count them and take them out again.
_SENTINEL = {"id": "''", "date": "DATE '0001-01-01'", "timestamp": "TIMESTAMP '0001-01-01'",
             "amount": "0", "code": "''"}
_REJECT_CODES = {"MISSING COLUMNS": "field_count", "TOO MANY COLUMNS": "field_count",
                 "UNQUOTED VALUE": "bad_quote", "INVALID ENCODING": "bad_encoding",
                 "INVALID UNICODE": "bad_encoding", "LINE SIZE OVER MAXIMUM": "line_too_long"}
_MISSING = "'missing_value'"
# The type each parsed kind has after the exact cast (parse.cast_sql); the fast path's
# typed read asks read_csv for the same (engine.ingest.typed).
STORED_TYPES = {"date": "DATE", "timestamp": "TIMESTAMP", "amount": "DECIMAL(18, 2)",
           "number": "DOUBLE", "hours": "DOUBLE", "rating": "DOUBLE"}
# A row whose first or second cell says one of these is a totals row that a
# spreadsheet export appends (合计 …): left out with a note, not an error.
TOTAL_WORDS = ("合计", "总计", "小计", "总合计", "汇总", "total", "totals", "grand total",
               "sum", "合計", "總計")
# Such a cell: the word alone, or with a colon or a note in brackets after it (合计：,
# 合计（2笔）, Total: 12), lower-cased and trimmed.
_TOTAL_CELL = "(" + "|".join(TOTAL_WORDS) + r")\s*([:：(（\[【].*)?"
# The column whose absence marks a totals row of each table (customers: any).
_DATED = {"transactions": "txn_date", "interactions": "ts", "followups": "ts"}
MAX_LISTED = 1000


@dataclass(frozen=True)
class Plan:
    """What to read from which source column: canonical column -> c{i}."""
    table: str
    mapped: tuple[tuple[Column, str, str], ...]   # (column, raw c{i}, file header)
    unmapped: tuple[str, ...]                      # raw c{i} not imported
    day_first: bool

    derived_amount: bool = False                   # amount = quantity × unit_price
    order_amount: bool = False                     # amount: the order's (a platform's)

    @classmethod
    def build(cls, table: str, headers: list[str], mapping: dict, day_first: bool) -> "Plan":
        raw = {h: f"c{i}" for i, h in enumerate(headers)}
        by_target = {t: h for h, t in mapping.items() if t and h in raw}
        derived = amount_derived(table, by_target)
        mapped = tuple((replace(c, required=True) if derived and c.name == "unit_price" else c,
                        raw[by_target[c.name]], by_target[c.name])
                       for c in columns(table) if c.name in by_target)
        used = {r for _, r, _ in mapped}
        unmapped = tuple(r for r in raw.values() if r not in used)
        return cls(table, mapped, unmapped, day_first, derived)

    @property
    def names(self) -> list[str]:
        """The columns stored: those mapped, and amount where it is derived."""
        return [c.name for c, _, _ in self.mapped] + (["amount"] if self.derived_amount else [])

    def code_columns(self) -> list[Column]:
        return [c for c, _, _ in self.mapped if c.kind in ("code", "label")]


def staging_select(plan: Plan, relation: str, *, fast: bool = False,
                   odd_spaces: bool = True, typed: dict[str, str] | None = None,
                   bare_cells: bool = False) -> str:
    """SELECT over the source: parsed values and error codes per column.

    Five projection levels, so that DuckDB computes each step once per cell
    (a macro nested in a macro would be inlined with its argument repeated,
    and an expression written twice in one level is computed twice): trim,
    then empty/null markers and the exact casts, then the cells those could
    not read, then values, then error codes. Dates, amounts and numbers are
    cast straight from the raw cell (`q_x`); only a cell the exact cast
    cannot read is cleaned (`c_x`) and sent through the slow patterns. Codes give their cleaned text `s_x` and (unless `fast`) their
    match key as `x`. Unless `fast`, `b_x` keeps the cell as found where it
    is wrong and `_blank` is exact (every cell empty once cleaned); with
    `fast` it only spots rows of empty cells, which is safe because the fast
    path refuses any file with a problem. Without `odd_spaces` (the file
    has no tab, full-width space or the like) plain trim() is enough. With
    `fast`, the raw columns in `typed` (c{i}: DuckDB type, see
    engine.ingest.typed) come already parsed by read_csv, and with
    `bare_cells` text cells need neither trim nor a look for null markers:
    none begins or ends with whitespace, and read_csv read the markers as
    NULL (`parse.NULL_MARKERS`). Uses `$today`.
    """
    typed = typed or {}
    assert fast or not (typed or bare_cells), "only the fast path reads cells so"
    trim = "ingest_trim" if odd_spaces else "trim"
    mapped = plan.mapped
    level1, level2, level3, level4, level5, blank = [], [], [], [], [], []
    for c, raw, _ in mapped:
        n = c.name
        if raw in typed:
            # A typed number may be infinite or NaN, which the exact cast refuses: such a
            # cell is a bad one (c_x set, no value), so that nothing casts it further on.
            odd = f"NOT isfinite(q_{n})" if STORED_TYPES[c.kind] == "DOUBLE" else "FALSE"
            level1.append(f"{raw} AS r_{n}")
            level2.append(f"r_{n}, CAST(r_{n} AS {STORED_TYPES[c.kind]}) AS q_{n}")
            level3.append(f"r_{n}, q_{n}, "
                          f"CASE WHEN {odd} THEN CAST(r_{n} AS VARCHAR) END AS c_{n}")
            level4.append(f"r_{n}, c_{n}, CASE WHEN c_{n} IS NULL THEN q_{n} END AS v_{n}")
            found, value = "NULL", f"v_{n}"
        elif c.kind in PARSED_KINDS:
            level1.append(f"{raw} AS r_{n}")
            level2.append(f"r_{n}, {cast_sql(c.kind, f'r_{n}')} AS q_{n}")
            level3.append(f"r_{n}, q_{n}, CASE WHEN r_{n} IS NOT NULL AND q_{n} IS NULL "
                          f"THEN ingest_clean(r_{n}) END AS c_{n}")
            slow = slow_sql(c.kind, f"c_{n}", day_first=plan.day_first)
            level4.append(f"r_{n}, c_{n}, coalesce(q_{n}, CASE WHEN c_{n} IS NOT NULL "
                          f"THEN {slow} END) AS v_{n}")
            found, value = f"coalesce(c_{n}, trim(r_{n}))", f"v_{n}"
            blank.append(f"v_{n} IS NULL AND c_{n} IS NULL")
        else:
            level1.append(f"{raw} AS u_{n}" if bare_cells else f"{trim}({raw}) AS u_{n}")
            level2.append(f"u_{n} AS s_{n}" if bare_cells else f"ingest_null(u_{n}) AS s_{n}")
            level3.append(f"s_{n}")
            level4.append(f"s_{n}")
            found, value = f"s_{n}", f"s_{n}"
            if c.kind == "id":
                value = f"ingest_id(s_{n})"
            elif c.kind == "text":
                value = f"ingest_text(s_{n})"
            elif c.kind in ("code", "label") and not fast:
                value = f"ingest_key(s_{n})"
            blank.append(f"s_{n} IS NULL")
        error = (_fast_error if fast else _error_case)(
            c, f"v_{n}", f"c_{n}" if c.kind in PARSED_KINDS else f"s_{n}")
        level5.append(f"{value} AS {n}, {error} AS e_{n}")
        if c.kind in ("code", "label"):
            level5.append(f"s_{n}")
        if not fast:
            level5.append(f"CASE WHEN ({error}) IS NOT NULL THEN {found} END AS b_{n}")
    raw_cells = [r for _, r, _ in mapped] + list(plan.unmapped)
    flags = "_blank"
    if fast:
        level1.append(f"({' AND '.join(f'{r} IS NULL' for r in raw_cells)}) AS _blank")
        level5.append("_blank")
    else:
        rest = [f"ingest_clean({r}) IS NULL" for r in plan.unmapped] or ["TRUE"]
        level1.append(f"({' AND '.join(rest)}) AS _blank")
        first = sorted(raw_cells, key=lambda r: int(r[1:]))[:2]
        total = " OR ".join(f"regexp_full_match(lower(trim({r})), '{_TOTAL_CELL}')" for r in first)
        level1.append(f"coalesce({total}, FALSE) AS _total")
        level5.append(f"({' AND '.join(blank)} AND _blank) AS _blank, _total")
        flags = "_blank, _total"
    sql = f"SELECT {', '.join(level1)} FROM {relation}"
    for level in (level2, level3, level4):
        sql = f"SELECT {', '.join(level)}, {flags} FROM ({sql})"
    return f"SELECT {', '.join(level5)} FROM ({sql})"


def _error_case(c: Column, v: str, cleaned: str) -> str:
    """SQL for the error code of a cell, NULL when fine.

    `v` is the parsed value; `cleaned` the cleaned cell, which for cast
    kinds is only set where the cast failed (so: missing when both are NULL).
    """
    absent = _MISSING if c.required else "NULL"
    if c.kind not in PARSED_KINDS:
        return f"CASE WHEN {cleaned} IS NULL THEN {absent} END"
    whens = [f"WHEN {v} IS NULL THEN CASE WHEN {cleaned} IS NULL THEN {absent} "
             f"ELSE '{_BAD[c.kind]}' END"]
    if c.kind in ("date", "timestamp"):
        whens.append(f"WHEN year({v}) NOT BETWEEN {YEARS[0]} AND {YEARS[1]} "
                     f"THEN '{_BAD[c.kind]}'")
    if c.kind == "rating":
        whens.append(f"WHEN {v} BETWEEN 1 AND 5 AND {v} <> round({v}) THEN 'rating_fraction'")
        whens.append(f"WHEN {v} NOT IN (1, 2, 3, 4, 5) THEN 'rating_range'")
    if c.past_only:
        whens.append(f"WHEN CAST({v} AS DATE) > $today THEN 'future_date'")
    if c.kind in ("date", "timestamp"):
        whens.append(f"WHEN CAST({v} AS DATE) < $earliest THEN 'too_early'")
        whens.append(f"WHEN CAST({v} AS DATE) > $latest THEN 'too_late'")
    return f"CASE {' '.join(whens)} END"


def _fast_error(c: Column, v: str, cleaned: str) -> str:
    """SQL that is not NULL where a cell has a problem, for the fast path: which problem
    does not matter there, since a file with any goes to the staged path, which names
    it. At least as strict as `_error_case`, with one range test for dates instead of
    four, and stricter where the typed read (engine.ingest.typed) is laxer than the
    exact cast: read_csv's date format reads "infinity" and "epoch" as 1900-01-01 (so
    that day goes to the staged path too). (Its infinite or NaN numbers are already
    bad cells: see `staging_select`.)
    """
    if c.kind not in PARSED_KINDS:
        return f"CASE WHEN {cleaned} IS NULL THEN 'missing_value' END" if c.required \
            else "NULL"
    bad = [f"{v} IS NULL" if c.required else f"{v} IS NULL AND {cleaned} IS NOT NULL"]
    if c.kind in ("date", "timestamp"):
        latest = f"least($latest, DATE '{YEARS[1]}-12-31'{', $today' if c.past_only else ''})"
        bad.append(f"NOT CAST({v} AS DATE) BETWEEN greatest($earliest, "
                   f"DATE '{YEARS[0]}-01-02') AND {latest}")
    elif c.kind == "rating":
        bad.append(f"{v} NOT IN (1, 2, 3, 4, 5)")
    return f"CASE WHEN {' OR '.join(bad)} THEN '{_BAD[c.kind]}' END"


def stored_values(plan: Plan, alias: str = "s", *, fast: bool = False
                  ) -> tuple[list[str], list[str]]:
    """SELECT items of the values as stored, and the code joins they need.

    With `fast` (for the fast path) codes stay as their cleaned text, to be
    resolved afterwards over their few distinct values, and NOT NULL
    columns get a placeholder where the row is invalid.
    """
    items, joins = [], []
    for c, _, _ in plan.mapped:
        x = f"{alias}.{c.name}"
        if c.kind in ("code", "label") and fast:
            expr = f"{alias}.s_{c.name}"
        elif c.kind in ("code", "label"):
            k = f"k_{c.name}"
            joins.append(f"LEFT JOIN _ingest_codes {k} ON {k}.vocabulary = '{c.vocabulary}' "
                         f"AND {k}.key = {x}")
            fallback = "'other'" if c.kind == "code" else f"{alias}.s_{c.name}"
            expr = (f"CASE WHEN {alias}.s_{c.name} IS NULL THEN NULL "
                    f"ELSE coalesce({k}.code, {fallback}) END")
        elif c.kind == "rating":
            # try_cast: a row's rating out of range (3e9) is refused, not a crash
            expr = f"try_cast({x} AS INTEGER)"
        else:
            expr = x
        if fast and c.required:
            expr = f"coalesce({expr}, {_SENTINEL[c.kind]})"
        items.append(f"{expr} AS {c.name}")
    if plan.derived_amount:
        line = line_amount(f"{alias}.quantity" if "quantity" in plan.names else "1",
                           f"{alias}.unit_price")
        items.append(f"{f'coalesce({line}, 0)' if fast else line} AS amount")
    return items, joins


# A line's quantity and its quantity × unit price must stay below these (the amount is
# DECIMAL(18, 2)); the catalogue's "expected" of LINE_TOO_LARGE says them.
LINE_LIMITS = (1e12, 1e15)


def line_amount(quantity: str, unit_price: str) -> str:
    """SQL for a line's amount from its quantity (blank: one) and unit price, to the cent;
    NULL where it does not fit the stored amount (a quantity of 1e17, say): the checks
    then refuse the row (`LINE_TOO_LARGE`) instead of DuckDB stopping the import.

    Multiplied as DECIMAL(38), since DECIMAL(18) operands overflow past about 92
    billion; but a line of a quantity under 999 and a unit price under 9,999,999 (nearly
    every line) is multiplied as DECIMAL(9) by DECIMAL(9), which DuckDB does in 64-bit
    integers instead of 128-bit ones: the same exact product, rounded the same way,
    several times faster (0.4 of 1.4 CPU seconds of reading 2M lines went to it)."""
    q = f"coalesce({quantity}, 1)"
    return (f"CASE WHEN abs(CAST({q} AS DOUBLE)) < 999 "
            f"AND abs(CAST({unit_price} AS DOUBLE)) < 9999999 THEN {_product(q, unit_price, 9)} "
            f"WHEN {_line_fits_sql(q, unit_price)} THEN {_product(q, unit_price, 38)} END")


def _product(q: str, unit_price: str, width: int) -> str:
    return (f"CAST(round(CAST({q} AS DECIMAL({width}, 6)) * CAST({unit_price} AS "
            f"DECIMAL({width}, 2)), 2) AS DECIMAL(18, 2))")


def _line_fits_sql(q: str, unit_price: str) -> str:
    """SQL that is true where quantity `q` (not NULL) × `unit_price` fits an amount."""
    return (f"abs(CAST({q} AS DOUBLE)) < {LINE_LIMITS[0]:.0e} "
            f"AND abs(CAST({q} AS DOUBLE) * CAST({unit_price} AS DOUBLE)) < {LINE_LIMITS[1]:.0e}")


LINE_TOO_LARGE = "amount_range"


def _line_text(quantity: str, unit_price: str) -> str:
    """SQL for "quantity × unit price" as the problem's value."""
    return f"concat(CAST(coalesce({quantity}, 1) AS VARCHAR), ' × ', CAST({unit_price} AS VARCHAR))"


def line_fits(plan: Plan, alias: str) -> str:
    """SQL that is false where a derived line amount (quantity × unit price) does not fit."""
    if not plan.derived_amount:
        return "TRUE"
    quantity = f"{alias}.quantity" if "quantity" in plan.names else "1"
    # The bounds alone: where they hold, `line_amount` is not NULL.
    return (f"({alias}.unit_price IS NULL "
            f"OR ({_line_fits_sql(f'coalesce({quantity}, 1)', f'{alias}.unit_price')}))")


def check_line_amounts(con, plan: Plan) -> None:
    """Lines whose quantity × unit price is too large for an amount (the amount derived)."""
    if not plan.derived_amount:
        return
    quantity = "r.quantity" if "quantity" in plan.names else "1"
    errors = " AND ".join(f"r.e_{n} IS NULL" for n in ("quantity", "unit_price")
                          if n in plan.names)
    con.execute(f"""
        INSERT INTO _ingest_problems (_row, code, target, value)
        SELECT r._row, '{LINE_TOO_LARGE}', 'unit_price', {_line_text(quantity, 'r.unit_price')}
        FROM _ingest_rows r
        WHERE {errors} AND NOT {line_fits(plan, 'r')}""")


def row_ok(plan: Plan, alias: str = "s") -> str:
    """SQL that is true where no cell of the row has an error and its derived line amount,
    if any, fits."""
    cells = [f"{alias}.e_{c.name} IS NULL" for c, _, _ in plan.mapped]
    return " AND ".join(cells + ([line_fits(plan, alias)] if plan.derived_amount else [])) \
        or "TRUE"


# ---- the staged checks ----------------------------------------------------------

def stage(con, plan: Plan, source, params: dict, run) -> tuple[int, int]:
    """Read and parse the whole file into `_ingest_rows`; return the records read and
    the totals rows left out (a 合计/Total row without a date of its own).

    `run(sql, params)` executes a statement (with progress reporting).
    """
    con.execute("DROP TABLE IF EXISTS _ingest_stage; DROP TABLE IF EXISTS _ingest_rows")
    select = staging_select(plan, source.relation, odd_spaces=source.odd_spaces)
    run(f"CREATE TEMP TABLE _ingest_stage AS {select}", params)
    n_records, base = ordinal_base(con, "_ingest_stage")
    dated = _DATED.get(plan.table)
    total = (f"s._total AND s.e_{dated} IS NOT NULL" if dated in plan.names
             else "s._total" if dated is None else "FALSE")
    n_totals = con.execute(f"SELECT count(*) FROM _ingest_stage s WHERE NOT s._blank AND {total}"
                           ).fetchone()[0]
    items, joins = stored_values(plan)
    keep = [f"s.e_{c.name}, s.b_{c.name}" for c, _, _ in plan.mapped] + [
        f"s.s_{c.name}" for c in plan.code_columns()]
    con.execute(f"""
        CREATE TEMP TABLE _ingest_rows AS
        SELECT s.rowid - $base AS _row, {', '.join(items)}, {', '.join(keep)},
               'insert' AS _op
        FROM _ingest_stage s {' '.join(joins)}
        WHERE NOT s._blank AND NOT ({total})""", {"base": base})
    con.execute("DROP TABLE _ingest_stage")
    con.execute("""
        DROP TABLE IF EXISTS _ingest_problems;
        CREATE TEMP TABLE _ingest_problems (
            _row BIGINT, byte_offset BIGINT, code VARCHAR, target VARCHAR,
            value VARCHAR, first_row BIGINT, detail VARCHAR, found INTEGER, needed INTEGER,
            other VARCHAR)""")
    return n_records, n_totals


def ordinal_base(con, table: str) -> tuple[int, int]:
    """(rows, rowid of the first row) of a table just filled in file order.

    Rowids of a table count up in insertion order, from 0 or (inside a
    transaction) from a large offset; a gap would break the link between
    rows and lines, so it is an error.
    """
    n, low, high = con.execute(f"SELECT count(*), min(rowid), max(rowid) FROM {table}"
                               ).fetchone()
    if n and high - low + 1 != n:
        raise RuntimeError(f"{table}: rowids are not contiguous ({low}..{high} for {n} rows)")
    return n, low or 0


def check_cells(con, plan: Plan) -> None:
    """One problem per wrong cell: missing, unparseable, out of range, in the future."""
    parts = [f"SELECT _row, e_{c.name}, '{c.name}', b_{c.name} FROM _ingest_rows "
             f"WHERE e_{c.name} IS NOT NULL" for c, _, _ in plan.mapped]
    if parts:
        con.execute("INSERT INTO _ingest_problems (_row, code, target, value) "
                    + " UNION ALL ".join(parts))


# Values of an order rather than of its lines: an export may write them on an
# order's first line only (DESIGN §3, "Orders and lines").
ORDER_VALUES = ("customer_id", "txn_date", "status", "due_date", "paid_date")
# Of those, the ones every line of an order must share: its customer and dates.
ORDER_KEYS = ("customer_id", "txn_date", "due_date", "paid_date")


def fill_order_lines(con, plan: Plan) -> int:
    """Complete the lines of each order (rows sharing a txn_id) before they are checked;
    returns the orders whose total was repeated on their lines (see `_repeated_totals`).

    A blank order value on a later line takes the first line's; a blank
    amount on a later line of an order whose first line has one is 0 (that
    line held the order's total); another blank amount is quantity × unit
    price where the line has a unit price. A row still without a customer is
    a guest order (`no_customer`), which cannot be attributed.
    """
    names = plan.names
    if plan.table != "transactions":
        return 0
    repeated = _repeated_totals(con, plan)
    if "txn_id" in names:
        carried = [n for n in ORDER_VALUES if n in names]
        if "amount" in names and not plan.derived_amount:
            carried.append("amount")
        code_cols = {c.name for c in plan.code_columns()}
        sets = []
        for n in carried:
            fill = "CAST(0 AS DECIMAL(18, 2))" if n == "amount" else f"f.{n}"
            blank = (f"(r.{n} IS NULL AND coalesce(r.e_{n}, 'missing_value') = 'missing_value' "
                     f"AND f.{n} IS NOT NULL)")
            sets += [f"{n} = CASE WHEN {blank} THEN {fill} ELSE r.{n} END",
                     f"e_{n} = CASE WHEN {blank} THEN NULL ELSE r.e_{n} END",
                     f"b_{n} = CASE WHEN {blank} THEN NULL ELSE r.b_{n} END"]
            if n in code_cols:
                sets.append(f"s_{n} = CASE WHEN {blank} THEN f.s_{n} ELSE r.s_{n} END")
        firsts = ", ".join(f"{n}" for n in carried) + "".join(
            f", s_{n}" for n in carried if n in code_cols)
        if carried:
            con.execute(f"""
                UPDATE _ingest_rows r SET {', '.join(sets)}
                FROM (SELECT DISTINCT ON (txn_id) _row, txn_id, {firsts} FROM _ingest_rows
                      WHERE txn_id IS NOT NULL ORDER BY txn_id, _row) f
                WHERE r.txn_id = f.txn_id AND r._row > f._row""")
    if "amount" in names and "unit_price" in names and not plan.derived_amount:
        quantity = "quantity" if "quantity" in names else "1"
        line = line_amount(quantity, "unit_price")
        con.execute(f"""
            UPDATE _ingest_rows SET amount = {line},
                   e_amount = CASE WHEN {line} IS NULL THEN '{LINE_TOO_LARGE}' END,
                   b_amount = CASE WHEN {line} IS NULL
                                   THEN {_line_text(quantity, 'unit_price')} END
            WHERE amount IS NULL AND e_amount = 'missing_value' AND unit_price IS NOT NULL""")
    con.execute("UPDATE _ingest_rows SET e_customer_id = 'no_customer' "
                "WHERE e_customer_id = 'missing_value'")
    return repeated


def _repeated_totals(con, plan: Plan) -> int:
    """A platform's order amount that an export of one row per line repeats on every line
    of the order (WooCommerce's Order Total Amount, JD's 应付金额): taken once, on the
    order's first line, when every order of several lines carries one amount on all its
    lines. An order whose lines hold different amounts shows they are the lines' own;
    then nothing changes. Returns the orders so taken."""
    if not (plan.order_amount and "txn_id" in plan.names and "amount" in plan.names):
        return 0
    orders, mixed = con.execute("""
        SELECT count(*), count(*) FILTER (amounts > 1) FROM (
            SELECT count(DISTINCT amount) AS amounts FROM _ingest_rows
            WHERE txn_id IS NOT NULL AND amount IS NOT NULL
            GROUP BY txn_id HAVING count(*) > 1)""").fetchone()
    if not orders or mixed:
        return 0
    con.execute("""
        UPDATE _ingest_rows r SET amount = 0
        FROM (SELECT txn_id, min(_row) AS first_row FROM _ingest_rows
              WHERE txn_id IS NOT NULL GROUP BY txn_id) f
        WHERE r.txn_id = f.txn_id AND r._row > f.first_row AND r.amount IS NOT NULL""")
    return orders


def check_order_lines(con, plan: Plan) -> None:
    """Lines of one order (one txn_id) that name another customer or date than its first line."""
    if plan.table != "transactions" or "txn_id" not in plan.names:
        return
    for n in (k for k in ORDER_KEYS if k in plan.names):
        con.execute(f"""
            INSERT INTO _ingest_problems (_row, code, target, value, first_row, detail, other)
            SELECT r._row, 'order_conflict', '{n}', CAST(r.{n} AS VARCHAR), f._row, r.txn_id,
                   CAST(f.{n} AS VARCHAR)
            FROM _ingest_rows r
            JOIN (SELECT DISTINCT ON (txn_id) _row, txn_id, {n}, e_{n} FROM _ingest_rows
                  WHERE txn_id IS NOT NULL ORDER BY txn_id, _row) f
              ON f.txn_id = r.txn_id AND r._row > f._row
            WHERE r.{n} IS DISTINCT FROM f.{n} AND r.e_{n} IS NULL AND f.e_{n} IS NULL""")


def check_duplicates(con, plan: Plan) -> None:
    """A customer_id twice in a customers file (a transactions file's repeated txn_id
    is an order of several lines: see `check_order_lines`)."""
    key = {"customers": "customer_id"}.get(plan.table)
    if key not in plan.names:
        return
    con.execute(f"""
        INSERT INTO _ingest_problems (_row, code, target, value, first_row)
        SELECT _row, 'duplicate_id', '{key}', {key}, first_row
        FROM (SELECT _row, {key}, min(_row) OVER (PARTITION BY {key}) AS first_row
              FROM _ingest_rows WHERE {key} IS NOT NULL)
        WHERE _row > first_row""")


def check_customers(con, plan: Plan, *, create: bool) -> None:
    """Events for a customer the database lacks, unless such customers are to be created."""
    if plan.table == "customers" or create:
        return
    con.execute("""
        INSERT INTO _ingest_problems (_row, code, target, value)
        SELECT r._row, 'unknown_customer', 'customer_id', r.customer_id
        FROM _ingest_rows r
        WHERE r.customer_id IS NOT NULL
          AND r.customer_id NOT IN (SELECT customer_id FROM customers)""")


def check_stored_transactions(con, plan: Plan) -> None:
    """Orders (txn_ids) already stored: unchanged when the file holds exactly their stored
    lines, in any order; otherwise an error (DESIGN §3: an order whose lines differ from
    those stored), on each line that differs from the stored line at its place in the
    order, or on every line when the number of lines differs.

    Lines are compared on the mapped columns, as multisets: a file that leaves out
    a stored line, or adds one, differs. An order with a line whose cells are wrong
    is left to that line's problem (the order is refused whole: `check_whole_orders`).
    """
    if plan.table != "transactions" or "txn_id" not in plan.names:
        return
    cols = ", ".join(plan.names)
    others = [n for n in plan.names if n != "txn_id"]
    differ = ", ".join(f"CASE WHEN s.{n} IS DISTINCT FROM r.{n} THEN '{n}' END" for n in others)
    clean = row_ok(plan, "r")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ingest_file_lines AS
        SELECT _row, {cols}, row_number() OVER (PARTITION BY txn_id ORDER BY _row) AS k,
               count(*) OVER (PARTITION BY txn_id) AS lines
        FROM _ingest_rows r
        WHERE r._op = 'insert' AND r.txn_id IN (SELECT txn_id FROM transactions)
          AND r.txn_id NOT IN (SELECT txn_id FROM _ingest_rows r
                               WHERE r.txn_id IS NOT NULL AND NOT ({clean}))""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ingest_stored_lines AS
        SELECT {cols}, coalesce(order_line, 1) AS k,
               count(*) OVER (PARTITION BY txn_id) AS lines
        FROM transactions WHERE txn_id IN (SELECT txn_id FROM _ingest_file_lines)""")
    con.execute("CREATE OR REPLACE TEMP TABLE _ingest_changed_orders AS " + _differing(
        f"SELECT {cols} FROM _ingest_file_lines", f"SELECT {cols} FROM _ingest_stored_lines",
        "txn_id"))
    con.execute("""
        UPDATE _ingest_rows SET _op = 'same'
        WHERE _row IN (SELECT _row FROM _ingest_file_lines WHERE txn_id NOT IN (
            SELECT txn_id FROM _ingest_changed_orders))""")
    con.execute("""
        INSERT INTO _ingest_problems (_row, code, target, value, found, needed)
        SELECT r._row, 'txn_lines_conflict', 'txn_id', r.txn_id, r.lines, s.lines
        FROM _ingest_file_lines r
        JOIN (SELECT DISTINCT txn_id, lines FROM _ingest_stored_lines) s USING (txn_id)
        WHERE r.lines <> s.lines""")
    con.execute(f"""
        INSERT INTO _ingest_problems (_row, code, target, value, detail)
        SELECT r._row, 'txn_conflict', 'txn_id', r.txn_id, concat_ws(', ', {differ})
        FROM _ingest_file_lines r JOIN _ingest_stored_lines s ON s.txn_id = r.txn_id AND s.k = r.k
        WHERE r.lines = s.lines AND r.txn_id IN (SELECT txn_id FROM _ingest_changed_orders)
          AND concat_ws(', ', {differ}) <> ''""")
    con.execute("DROP TABLE _ingest_file_lines; DROP TABLE _ingest_stored_lines; "
                "DROP TABLE _ingest_changed_orders")


def check_orders_across_sheets(con, plan: Plan, row_sheets) -> int:
    """Sheets read together (--sheet all) are read as if imported one after the other: an
    order (txn_id) found in an earlier sheet is unchanged in a later one that holds the
    same lines (in any order), and an error in one that holds others (as for an order
    already stored). A workbook of one sheet per year may repeat the days where its
    sheets meet (UCI's Online Retail II repeats 1–9 December 2010): those orders would
    otherwise count their lines twice. Returns the orders found again so.

    `row_sheets`: each staged row's sheet, in file order (None: one sheet).
    """
    if plan.table != "transactions" or "txn_id" not in plan.names or row_sheets is None:
        return 0
    starts = np.flatnonzero(row_sheets[1:] != row_sheets[:-1]) + 1   # each later sheet's first row
    if not len(starts):
        return 0
    sheet = "CASE " + " ".join(f"WHEN _row < {s} THEN {k}" for k, s in enumerate(starts)) + \
        f" ELSE {len(starts)} END"
    cols = ", ".join(plan.names)
    others = [c for c in plan.names if c != "txn_id"]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ingest_sheet_lines AS
        SELECT _row, {cols}, {sheet} AS sheet,
               min({sheet}) OVER (PARTITION BY txn_id) AS first_sheet
        FROM _ingest_rows WHERE txn_id IS NOT NULL""")
    # an order's lines in each later sheet, and its first sheet's lines beside each of them
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ingest_later AS
        SELECT txn_id, sheet, {', '.join(others)} FROM _ingest_sheet_lines
        WHERE sheet > first_sheet""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ingest_first AS
        SELECT f.txn_id, p.sheet, {', '.join(f'f.{c}' for c in others)}
        FROM _ingest_sheet_lines f
        JOIN (SELECT DISTINCT txn_id, sheet FROM _ingest_later) p USING (txn_id)
        WHERE f.sheet = f.first_sheet""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ingest_repeats AS
        SELECT p.txn_id, p.sheet, d.txn_id IS NOT NULL AS differs
        FROM (SELECT DISTINCT txn_id, sheet FROM _ingest_later) p
        LEFT JOIN ({_differing("FROM _ingest_later", "FROM _ingest_first", "txn_id, sheet")}) d
          USING (txn_id, sheet)""")
    con.execute("""
        UPDATE _ingest_rows SET _op = 'same' WHERE _row IN (
            SELECT l._row FROM _ingest_sheet_lines l
            JOIN _ingest_repeats r USING (txn_id, sheet) WHERE NOT r.differs)""")
    con.execute("""
        INSERT INTO _ingest_problems (_row, code, target, value, first_row)
        SELECT l._row, 'order_in_two_sheets', 'txn_id', l.txn_id, f.first_row
        FROM _ingest_sheet_lines l JOIN _ingest_repeats r USING (txn_id, sheet)
        JOIN (SELECT txn_id, min(_row) AS first_row FROM _ingest_sheet_lines
              WHERE sheet = first_sheet GROUP BY txn_id) f USING (txn_id)
        WHERE r.differs""")
    repeated = con.execute("SELECT count(DISTINCT txn_id) FROM _ingest_repeats "
                           "WHERE NOT differs").fetchone()[0]
    con.execute("DROP TABLE _ingest_sheet_lines; DROP TABLE _ingest_later; "
                "DROP TABLE _ingest_first; DROP TABLE _ingest_repeats")
    return repeated


def _differing(first: str, second: str, keys: str) -> str:
    """SQL for the distinct `keys` under which two queries of the same columns hold
    different rows, each row counted as often as it comes (lines compared as multisets)."""
    return (f"SELECT DISTINCT {keys} FROM (({first} EXCEPT ALL {second}) "
            f"UNION ALL ({second} EXCEPT ALL {first}))")


def check_whole_orders(con, plan: Plan) -> None:
    """An order is imported whole or not at all: the other lines of an order with a
    refused line are refused with it (DESIGN §3, an order's amount is the sum of its
    lines), naming the first refused line. Storing the rest would count a part of the
    order as all of it, and the corrected file would then conflict with what was stored."""
    if plan.table != "transactions" or "txn_id" not in plan.names:
        return
    con.execute("""
        INSERT INTO _ingest_problems (_row, code, target, value, first_row)
        SELECT r._row, 'order_refused', 'txn_id', r.txn_id, b.first_row
        FROM _ingest_rows r
        JOIN (SELECT i.txn_id, min(i._row) AS first_row
              FROM _ingest_problems p JOIN _ingest_rows i ON i._row = p._row
              WHERE i.txn_id IS NOT NULL GROUP BY i.txn_id) b ON b.txn_id = r.txn_id
        WHERE r._row NOT IN (SELECT _row FROM _ingest_problems WHERE _row IS NOT NULL)""")


def check_malformed(con) -> None:
    """Records DuckDB could not split into the header's columns (CSV only)."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() "
                         "WHERE table_name = '_ingest_rejects'").fetchone()[0]
    if not exists:
        return
    con.execute("""
        INSERT INTO _ingest_problems (byte_offset, code, value, detail, found, needed)
        SELECT line_byte_position, code, trim(csv_line, ' \t\r\n'), error_message,
               try_cast(regexp_extract(error_message, 'Found: (\\d+)', 1) AS INTEGER),
               try_cast(regexp_extract(error_message, 'Expected Number of Columns: (\\d+)', 1)
                        AS INTEGER)
        FROM (SELECT DISTINCT ON (line_byte_position) line_byte_position, csv_line,
                     error_message, CAST(error_type AS VARCHAR) AS error_type,
                     CASE CAST(error_type AS VARCHAR) """ + " ".join(
        f"WHEN '{k}' THEN '{v}'" for k, v in _REJECT_CODES.items()) + """
                          ELSE 'bad_line' END AS code
              FROM _ingest_rejects
              ORDER BY line_byte_position)
        WHERE trim(coalesce(csv_line, ''), ' \t\r\n') <> '' OR code <> 'field_count'""")


def mark_rejected(con) -> None:
    con.execute("UPDATE _ingest_rows SET _op = 'reject' "
                "WHERE _row IN (SELECT _row FROM _ingest_problems WHERE _row IS NOT NULL)")


def mark_customer_changes(con, plan: Plan) -> None:
    """Customers already stored: unchanged where every mapped column is equal, else updated."""
    if plan.table != "customers":
        return
    others = [n for n in plan.names if n != "customer_id"]
    same = " AND ".join(f"c.{n} IS NOT DISTINCT FROM r.{n}" for n in others) or "TRUE"
    con.execute(f"""
        UPDATE _ingest_rows r
        SET _op = CASE WHEN {same} THEN 'same' ELSE 'update' END
        FROM (SELECT DISTINCT ON (customer_id) * FROM customers) c
        WHERE c.customer_id = r.customer_id AND r._op = 'insert'""")


def mark_stored_events(con, plan: Plan) -> None:
    """Event rows already stored (no key): as many as the table holds of an identical row.

    Comparison is on the mapped columns. A file holding a row three times
    and a table holding it once leaves two to insert, so importing the same
    file again adds nothing, and a later export that overlaps an earlier
    one adds only what is new.
    """
    if plan.table == "customers":
        return
    names = [n for n in plan.names]
    nokey = "txn_id IS NULL" if "txn_id" in names else "TRUE"
    cols = ", ".join(names)
    on = " AND ".join(f"n.{c} IS NOT DISTINCT FROM o.{c}" for c in names)
    con.execute(f"""
        UPDATE _ingest_rows SET _op = 'same'
        WHERE _row IN (
            WITH n AS (SELECT _row, {cols},
                              row_number() OVER (PARTITION BY {cols} ORDER BY _row) AS occ
                       FROM _ingest_rows WHERE _op = 'insert' AND {nokey}),
                 o AS (SELECT {cols}, count(*) AS cnt FROM {plan.table}
                       WHERE customer_id IN (SELECT customer_id FROM n)
                       GROUP BY ALL)
            SELECT n._row FROM n JOIN o ON {on} WHERE n.occ <= o.cnt)""")


def other_values(con, plan: Plan, where: str = "_op IN ('insert', 'update', 'same')"
                 ) -> dict[str, dict[str, int]]:
    """Per code column: the values stored as `other` because no synonym matched, with counts."""
    out = {}
    for c in plan.code_columns():
        if c.kind != "code":
            continue
        rows = con.execute(f"""
            SELECT t.text, t.n FROM (
                SELECT s_{c.name} AS text, count(*) AS n FROM _ingest_rows
                WHERE {where} AND s_{c.name} IS NOT NULL GROUP BY 1) t
            LEFT JOIN _ingest_codes k ON k.vocabulary = ? AND k.key = ingest_key(t.text)
            WHERE k.code IS NULL ORDER BY 2 DESC, 1""", [c.vocabulary]).fetchall()
        if rows:
            out[c.name] = dict(rows)
    return out


def op_counts(con) -> dict[str, int]:
    return dict(con.execute("SELECT _op, count(*) FROM _ingest_rows GROUP BY 1").fetchall())


def problem_frame(con, plan: Plan, source, n_records: int, *, exact_lines: bool
                  ) -> tuple[pd.DataFrame, np.ndarray | None]:
    """All problems with file lines, sorted by line; and each record's line if computed.

    Columns: _row, line, code, target, column, value, first_line, detail,
    found, needed, today-free params. Lines come from the file itself (see
    `readers.record_starts`); where that count disagrees with DuckDB's the
    line is the ordinal plus two (exact for files without blank lines or
    line breaks inside quotes).
    """
    frame = con.execute("SELECT * FROM _ingest_problems").fetchdf()
    if not len(frame) and not exact_lines:
        return frame.assign(line=pd.Series(dtype="Int64")), None
    rejected = frame["byte_offset"].dropna().to_numpy(np.int64)
    lines = source.ordinal_lines(n_records, _refused_offsets(con))
    if lines is None:
        lines = np.arange(n_records, dtype=np.int64) + 2
    has_row = frame["_row"].notna()
    line = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    line[has_row] = lines[frame.loc[has_row, "_row"].to_numpy(np.int64)]
    first = frame["first_row"].notna()
    frame["first_line"] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    frame.loc[first, "first_line"] = lines[frame.loc[first, "first_row"].to_numpy(np.int64)]
    if len(rejected):
        line[~has_row] = source.line_of_offsets(rejected)
    frame["line"] = line
    headers = {c.name: h for c, _, h in plan.mapped}
    frame["column"] = frame["target"].map(headers)
    position = {name: i for i, name in enumerate(plan.names)}
    frame["_pos"] = frame["target"].map(position)
    # sheets read one after the other: in their order (each sheet's lines start at 2)
    order = "_row" if source.row_sheets is not None else "line"
    frame = frame.sort_values([order, "_pos"], kind="stable").drop(columns="_pos")
    frame = frame.reset_index(drop=True)
    return frame, lines


def _refused_offsets(con) -> np.ndarray:
    """Byte offsets of every record DuckDB refused, blank-looking ones included."""
    if not con.execute("SELECT count(*) FROM duckdb_tables() "
                       "WHERE table_name = '_ingest_rejects'").fetchone()[0]:
        return np.zeros(0, np.int64)
    return con.execute("SELECT DISTINCT line_byte_position FROM _ingest_rejects ORDER BY 1"
                       ).fetchdf()["line_byte_position"].to_numpy(np.int64)
