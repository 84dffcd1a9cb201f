"""Importing: one file (or several) into the database in one transaction.

`preview_import` runs every check and writes nothing. `import_file` does the
same and then writes inside `engine.store.write`: the whole import lands, with
a new data version, or none of it does (a crash included, DuckDB's write-ahead
log sees to that). By default a file with any problem is rejected
(`ImportRejected`); with `skip_invalid` the valid rows go in and the rest come
back in `report.rejects` with an error column.

Every imported row carries the id of its batch (`import_batches`), so an
import can be undone (`history.undo_batch`). Customers are upserted by
customer_id, and the previous version of an updated customer is kept in
`customer_versions`. Importing the same rows again adds nothing: customers and
transactions match on their key, other rows on their content.

A transactions or interactions CSV going into an empty table takes a fast
path: one pass from the file into a work table, the checks run on what landed
there, and one copy into the table; only if a check fails is the file staged
and checked as usual, within the same transaction. With `skip_invalid` (the caller
expects problems) the file goes to the staged checks at once.
"""
from __future__ import annotations

import threading
import time
from contextlib import ExitStack, closing
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np
import pandas as pd

from engine import audit, store
from engine.ingest import limits, parse, readers, typed, validate
from engine.ingest.db import register, unregister
from engine.ingest.columns import TABLE_ORDER, columns
from engine.ingest.errors import (ImportRejected, Problem, render_messages,
                                  sheets_left_out_note)
from engine.ingest.mapping import Mapping, resolve_mapping
from engine.ingest.platforms import detect_platform, takes_order_amount
from engine.ingest.validate import MAX_LISTED, Plan

Progress = Callable[[float, str], None]
PREVIEW_ROWS = 20
FAST_TABLES = ("transactions", "interactions")
# The parameters each row problem's message needs, beyond where and what.
_PARAMS = {"duplicate_id": ("first_line",), "order_conflict": ("first_line", "detail", "other"),
           "txn_conflict": ("columns",), "txn_lines_conflict": ("found", "needed"),
           "order_refused": ("first_line",), "order_in_two_sheets": ("first_line",),
           "field_count": ("found", "needed"), "bad_encoding": ("encoding",),
           "future_date": ("today",), "bad_line": ("detail",), "too_early": ("earliest",),
           "too_late": ("latest",)}


@dataclass
class ImportReport:
    """What an import did, or (dry run) would do.

    Counts are rows of the file: `inserted`, `updated` (customers only),
    `unchanged` (already stored as they are), `rejected` (with a problem).
    `other_values` lists, per code column, values that no synonym matched
    and that are stored as ``other``, with their counts. `preview` holds the
    first rows as they will be stored (with their `line` and whether they
    are `ok`); `rejects` the rejected rows as found in the file, plus `line`
    and `error` columns (None when nothing was rejected).
    """
    file_name: str
    table: str
    format: str
    mapping: Mapping
    content_hash: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets_read: list[str] = field(default_factory=list)
    sheets_left_out: list[str] = field(default_factory=list)   # --sheet all: other columns
    other_sheets: list[str] = field(default_factory=list)      # one sheet read: the others
    platform: str | None = None      # the shop platform whose order report this is
    day_first: bool = True
    dry_run: bool = False
    batch_id: int | None = None
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    customers_created: int = 0
    guests: int = 0
    totals_rows: int = 0
    orders_in_several_sheets: int = 0   # --sheet all: orders a later sheet repeats as they are
    repeated_totals: int = 0            # orders whose total each of their lines repeated
    day_first_assumed: bool = False  # year-last dates whose order no value of the file tells
    other_values: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    problem_counts: dict[str, int] = field(default_factory=dict)
    preview: pd.DataFrame | None = None
    rejects: pd.DataFrame | None = None
    same_file_batches: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def other_counts(self) -> dict[str, int]:
        """Per code column, how many values were stored as ``other``."""
        return {col: sum(v.values()) for col, v in self.other_values.items()}

    def summary(self, lang: str = "en") -> str:
        """One line: the counts, then every note (`notes`), in `lang`."""
        from engine import i18n
        key = "ingest.summary.dry_run" if self.dry_run else "ingest.summary.done"
        head = i18n.plural(key, self.rows_read, lang, file=self.file_name, table=self.table,
                           rows=f"{self.rows_read:,}", inserted=f"{self.inserted:,}",
                           updated=f"{self.updated:,}", unchanged=f"{self.unchanged:,}",
                           rejected=f"{self.rejected:,}")
        return " ".join([head, *self.notes(lang).values()])

    def notes(self, lang: str = "en") -> dict[str, str]:
        """The sentences that apply to this import beyond its counts, by kind, in the order
        the summary gives them; the Data page shows some of them in its own way."""
        from engine import i18n
        amount = next((h for h, t in self.mapping.items() if t == "amount"), "")
        found = {
            "platform": self.platform and i18n.t(
                "ingest.summary.platform", lang,
                platform=i18n.t(f"ingest.platform.{self.platform}", lang)),
            "sheets": len(self.sheets_read) > 1 and i18n.t(
                "ingest.summary.sheets", lang, count=len(self.sheets_read),
                sheets=", ".join(self.sheets_read)),
            "repeated_totals": self.repeated_totals and i18n.plural(
                "ingest.summary.repeated_totals", self.repeated_totals, lang, column=amount),
            "orders_in_several_sheets": self.orders_in_several_sheets and i18n.plural(
                "ingest.summary.orders_in_several_sheets", self.orders_in_several_sheets, lang),
            "other_sheets": self.other_sheets and i18n.plural(
                "ingest.summary.other_sheets", len(self.other_sheets), lang,
                sheets=", ".join(self.other_sheets)),
            "sheets_left_out": self.sheets_left_out and sheets_left_out_note(
                self.sheets_left_out, lang),
            "created": self.customers_created and i18n.plural(
                "ingest.summary.to_create" if self.dry_run else "ingest.summary.created",
                self.customers_created, lang),
            "guests": self.guests and i18n.plural(
                "ingest.summary.guests_to_skip" if self.dry_run else "ingest.summary.guests",
                self.guests, lang),
            "day_first_assumed": self.day_first_assumed and i18n.t(
                "ingest.summary.day_first_assumed", lang),
            "totals": self.totals_rows and i18n.plural("ingest.summary.totals",
                                                       self.totals_rows, lang),
            **{f"other.{col}": i18n.plural("ingest.summary.other", count, lang, column=col)
               for col, count in self.other_counts.items()},
        }
        return {kind: text for kind, text in found.items() if text}

    def problem_table(self, lang: str = "en") -> pd.DataFrame:
        """The listed problems as a table: line, column, value, problem, expected (and
        first the sheet, when the file was read sheet after sheet)."""
        sheets = {"sheet": [p.file[len(self.file_name) + 2:-1] if p.file != self.file_name
                            else "" for p in self.problems]} if len(self.sheets_read) > 1 else {}
        return pd.DataFrame({
            **sheets,
            "line": pd.array([p.line for p in self.problems], dtype="Int64"),
            "column": [p.column or "" for p in self.problems],
            "value": [p.value or "" for p in self.problems],
            "problem": [p.what(lang) for p in self.problems],
            "expected": [p.expected(lang) for p in self.problems],
        })

    def rejects_csv(self) -> bytes:
        """The rejected rows as a CSV file for people (engine.export: UTF-8 with BOM, so
        Excel reads Chinese, and no cell that Excel would run as a formula)."""
        from engine.export import to_csv_bytes
        return to_csv_bytes(self.rejects if self.rejects is not None else pd.DataFrame())


@dataclass(frozen=True)
class ImportItem:
    """One file to import: what, into which table, with which mapping."""
    file: object
    table: str
    mapping: Mapping | None = None
    name: str | None = None


@dataclass(frozen=True)
class _Options:
    create_customers: bool = False
    skip_invalid: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    day_first: bool | None = None
    today: date | None = None
    lang: str = "en"
    in_worker: bool = False


# ---- entry points --------------------------------------------------------------

def import_file(db, file, table: str, *, name: str | None = None,
                mapping: Mapping | None = None, progress: Progress | None = None,
                **options) -> ImportReport:
    """Import one file into `table` of the database at `db`, all or nothing.

    Parameters
    ----------
    db : path of the DuckDB file (created when missing; a rejected import
        into a new file leaves no file behind).
    file : a path, bytes, or an uploaded file object (with `.read()` and
        `.name`); `name` overrides the name shown in messages.
    table : customers, transactions, interactions or followups.
    mapping : {file header: canonical column or None}; headers it leaves
        out are mapped automatically.
    progress : called as progress(fraction 0..1, stage) with stage one of
        "read", "check", "write", "done", in the calling thread.
    options : create_customers (bool), skip_invalid (bool), encoding,
        delimiter, sheet (xlsx), day_first (None = from the file), today
        (the date after which event dates are refused; default today),
        lang (of the rejects file's error column, "en" or "zh"), in_worker
        (read a workbook in a worker process: the dashboard, so that one
        import does not hold up the other sessions; see engine.ingest.worker).

    Returns the ImportReport; raises ImportRejected (nothing written) when
    the mapping does not work or, unless skip_invalid, any row has a problem.
    """
    item = ImportItem(file, table, mapping, name)
    return import_files(db, [item], progress=progress, **options)[0]


def import_files(db, items: list, *, progress: Progress | None = None,
                 actor: str = audit.LOCAL, **options) -> list[ImportReport]:
    """Import several files in one transaction (customers first): all of them or none.

    `items` are ImportItem, or (file, table) / (file, table, mapping) tuples.
    Each file becomes its own batch, recorded in the audit log as done by
    `actor` in the same transaction. Options as for `import_file`. The files
    are read, transcoded and mapped before the database is opened, so the
    file is locked only while rows are checked and written.
    """
    opts = _Options(**options)
    items = sorted((_item(i) for i in items), key=lambda i: TABLE_ORDER.index(i.table))
    for item in items:
        columns(item.table)
    path = Path(db) if db is not None else store.default_db_path()
    if progress is not None:
        progress(0.0, "read")
    with ExitStack() as stack:
        prepared = [_prepare(stack, item, opts) for item in items]
        existed = path.exists()
        try:
            with store.write(path) as con:
                reports = [_import_one(con, p, opts, dry_run=False,
                                       progress=_scaled(progress, k, len(items)))
                           for k, p in enumerate(prepared)]
                _refuse_conflicts_between_files(con, reports)
                for r in reports:
                    audit.record(con, actor, "import", {
                        "batch_id": r.batch_id, "file": r.file_name, "table": r.table,
                        "inserted": r.inserted, "updated": r.updated, "rejected": r.rejected})
        except BaseException:
            if not existed:
                _remove_database(path)
            raise
    if progress is not None:
        progress(1.0, "done")
    return reports


def _refuse_conflicts_between_files(con, reports: list[ImportReport]) -> None:
    """ImportRejected (so nothing is written) when two customer files of one import give
    one customer different values: the later file would silently win, and the change
    would show only as "updated". Found in customer_versions, where the import keeps
    the earlier values of every customer it changes."""
    files = {r.batch_id: r.file_name for r in reports if r.table == "customers"}
    if len(files) < 2:
        return
    names = [c.name for c in columns("customers") if c.name != "customer_id"]
    differing = ", ".join(f"CASE WHEN v.{c} IS DISTINCT FROM n.{c} THEN '{c}' END" for c in names)
    rows = con.execute(f"""
        SELECT v.customer_id, v.batch_id, v.replaced_by, concat_ws(', ', {differing})
        FROM customer_versions AS v JOIN customers AS n USING (customer_id)
        WHERE list_contains($batches, v.batch_id) AND list_contains($batches, v.replaced_by)
        ORDER BY v.customer_id LIMIT {MAX_LISTED}""", {"batches": list(files)}).fetchall()
    if rows:
        raise ImportRejected([Problem("conflict_between_files", files[later], value=customer,
                                      params={"other": files[earlier], "columns": changed})
                              for customer, earlier, later, changed in rows])


def preview_import(db, file, table: str, *, name: str | None = None,
                   mapping: Mapping | None = None, progress: Progress | None = None,
                   **options) -> ImportReport:
    """Everything `import_file` would do, done and then thrown away: a dry run.

    The report has the counts, every problem (`problems`, `problem_count`),
    the first rows as they would be stored (`preview`) and the rows that
    would be rejected (`rejects`). Nothing is written; a missing database
    file is not created. Raises ImportRejected for problems of the file as
    a whole (unreadable, empty, a required column not mapped).
    """
    opts = _Options(**options)
    columns(table)
    path = Path(db) if db is not None else store.default_db_path()
    if progress is not None:
        progress(0.0, "read")
    with ExitStack() as stack:
        prepared = _prepare(stack, ImportItem(file, table, mapping, name), opts)
        if not path.exists():
            con = stack.enter_context(closing(duckdb.connect()))
            store.migrate(con)
            report = _import_one(con, prepared, opts, dry_run=True, progress=progress)
        else:
            with store.rolled_back(path) as con:
                report = _import_one(con, prepared, opts, dry_run=True, progress=progress)
    if progress is not None:
        progress(1.0, "done")
    return report


def import_csv(db, path, table: str = "transactions", **options) -> ImportReport:
    """Import one CSV file by path: the call the benchmark times.

    Same as `import_file`; by default creates the customers the file names
    (a transactions export alone is enough to start).
    """
    options.setdefault("create_customers", True)
    return import_file(db, path, table, **options)


# ---- one file ------------------------------------------------------------------

@dataclass(frozen=True)
class _Prepared:
    """A file read and mapped, ready to go into a table."""
    item: ImportItem
    src: readers.Source
    mapping: Mapping
    plan: Plan
    platform: str | None   # the shop platform whose order report it is (its key)


def _prepare(stack: ExitStack, item: ImportItem, opts: _Options) -> _Prepared:
    """Open the file for DuckDB and settle its mapping; ImportRejected if that fails."""
    src = stack.enter_context(readers.open_source(
        item.file, name=item.name, encoding=opts.encoding, delimiter=opts.delimiter,
        sheet=opts.sheet, in_worker=opts.in_worker))
    info = src.info
    mapping = resolve_mapping(info.headers, item.table, item.mapping, file=info.name,
                              sheets=info.sheets)
    day_first = _first_not_none(opts.day_first, info.day_first, True)
    plan = Plan.build(item.table, info.headers, mapping, day_first)
    platform = detect_platform(info.headers) if item.table == "transactions" else None
    plan = replace(plan, order_amount=takes_order_amount(platform, mapping))
    return _Prepared(item, src, mapping, plan, platform.key if platform else None)


def _import_one(con, prepared: _Prepared, opts: _Options, *, dry_run: bool,
                progress: Progress | None) -> ImportReport:
    began = time.perf_counter()
    steps = _Steps(con, progress)
    src, plan, info = prepared.src, prepared.plan, prepared.src.info
    today = opts.today or date.today()
    earliest, latest = limits.date_bounds(today)
    params = {**src.params, "today": today, "earliest": earliest, "latest": latest}
    parse.install(con, src.absent)
    con.execute("DROP TABLE IF EXISTS _ingest_rejects; DROP TABLE IF EXISTS _ingest_reject_scans")
    if src.frame is not None:
        register(con, "_ingest_src", src.frame)
    plan, report_order = _date_order(con, plan, src, opts)
    report = ImportReport(info.name, plan.table, info.format, prepared.mapping,
                          src.content_hash, encoding=info.encoding, delimiter=info.delimiter,
                          sheet=info.sheet, sheets_read=list(info.sheets_read),
                          sheets_left_out=list(info.sheets_left_out),
                          other_sheets=[s for s in info.sheets if s != info.sheet]
                          if info.sheet != readers.ALL_SHEETS else [],
                          platform=prepared.platform,
                          day_first=plan.day_first, dry_run=dry_run)
    report.day_first_assumed = report_order
    report.same_file_batches = [r[0] for r in con.execute(
        "SELECT batch_id FROM import_batches WHERE content_hash = ? AND table_name = ? "
        "AND undone_at IS NULL ORDER BY batch_id", [src.content_hash, plan.table]).fetchall()]
    batch = None if dry_run else _next_batch(con)
    try:
        done = (not dry_run and not opts.skip_invalid and _fast_path_fits(con, src, plan)
                and _fast_import(con, plan, src, params, batch, opts, steps, report))
        if not done:
            steps.rebase()
            _staged_import(con, plan, src, params, batch, opts, steps, report,
                           today=today, dry_run=dry_run)
    finally:
        if src.frame is not None:
            unregister(con, "_ingest_src")
        con.execute("DROP TABLE IF EXISTS _ingest_rows; DROP TABLE IF EXISTS _ingest_raw; "
                    "DROP TABLE IF EXISTS _ingest_problems; DROP TABLE IF EXISTS _ingest_rejects; "
                    "DROP TABLE IF EXISTS _ingest_reject_scans")
    if not dry_run:
        _record_batch(con, report)
    report.seconds = time.perf_counter() - began
    return report


def _date_order(con, plan: Plan, src, opts: _Options) -> tuple[Plan, bool]:
    """The plan with the day/month order the whole file tells, when its first rows did
    not; and whether the order stays a guess (day first), to be named in the summary."""
    dated = [raw for c, raw, _ in plan.mapped if c.kind in ("date", "timestamp")]
    if (opts.day_first is not None or src.info.day_first is not None or not dated
            or not parse.has_year_last(src.info.sample.stack())):
        return plan, False
    day, month = con.execute(parse.year_last_order_sql(dated, src.relation),
                             src.params).fetchone()
    con.execute("DROP TABLE IF EXISTS _ingest_rejects; DROP TABLE IF EXISTS _ingest_reject_scans")
    if day != month:
        return replace(plan, day_first=day), False
    return plan, True


def _staged_import(con, plan: Plan, src, params, batch, opts: _Options, steps, report,
                   *, today: date, dry_run: bool) -> None:
    n_records, report.totals_rows = validate.stage(con, plan, src, params,
                                                   steps.runner(0.0, 0.55, "read"))
    steps.report(0.55, "check")
    report.repeated_totals = validate.fill_order_lines(con, plan)
    validate.check_cells(con, plan)
    validate.check_line_amounts(con, plan)
    validate.check_duplicates(con, plan)
    validate.check_order_lines(con, plan)
    report.orders_in_several_sheets = validate.check_orders_across_sheets(con, plan,
                                                                          src.row_sheets)
    validate.check_customers(con, plan, create=opts.create_customers)
    validate.check_stored_transactions(con, plan)
    validate.check_whole_orders(con, plan)
    validate.check_malformed(con)
    validate.mark_rejected(con)
    validate.mark_customer_changes(con, plan)
    validate.mark_stored_events(con, plan)
    steps.report(0.65, "check")
    frame, lines = validate.problem_frame(con, plan, src, n_records, exact_lines=dry_run)
    frame = _with_params(frame, report, today, src)
    ops = validate.op_counts(con)
    report.rows_read = sum(ops.values()) + int(frame["_row"].isna().sum())
    if report.rows_read == 0:
        raise ImportRejected([Problem("empty_file", report.file_name)])
    report.inserted, report.updated = ops.get("insert", 0), ops.get("update", 0)
    report.unchanged = ops.get("same", 0)
    report.rejected = ops.get("reject", 0) + int(frame["_row"].isna().sum())
    report.other_values = validate.other_values(con, plan)
    report.customers_created = _customers_to_create(con, plan, opts)
    report.problem_count = len(frame)
    report.problem_counts = frame["code"].value_counts().to_dict() if len(frame) else {}
    report.problems = _problems(frame.head(MAX_LISTED), report.file_name)
    report.guests = report.problem_counts.get("no_customer", 0)
    report.preview = _preview(con, plan, lines)
    if len(frame) and (dry_run or opts.skip_invalid):
        steps.report(0.7, "check")
        report.rejects = _rejects(con, src, frame, lines, opts.lang)
    if len(frame) and not dry_run and not opts.skip_invalid:
        guests = [Problem("guest_rows", report.file_name, params={"count": f"{report.guests:,}"})
                  ] if report.guests else []
        raise ImportRejected(guests + report.problems, total=report.problem_count, report=report)
    if dry_run:
        return
    steps.report(0.75, "write")
    report.batch_id = batch
    report.customers_created = _create_customers(con, plan, batch, opts)
    _write_rows(con, plan, batch)
    steps.report(0.98, "write")


def _write_rows(con, plan: Plan, batch: int) -> None:
    """Insert the rows marked insert; for customers also apply the updates."""
    names = plan.names
    cols = ", ".join(names)
    if plan.table == "customers" and "update" in validate.op_counts(con):
        kept = _table_columns(con, "customers")
        version_cols = [c for c in _table_columns(con, "customer_versions") if c in kept]
        vc = ", ".join(version_cols)
        con.execute(f"""
            INSERT INTO customer_versions ({vc}, replaced_by)
            SELECT {vc}, $b FROM customers
            WHERE customer_id IN (SELECT customer_id FROM _ingest_rows WHERE _op = 'update')""",
                    {"b": batch})
        sets = ", ".join(f"{n} = r.{n}" for n in names if n != "customer_id")
        con.execute(f"""
            UPDATE customers SET {sets + ', ' if sets else ''}batch_id = $b
            FROM _ingest_rows r
            WHERE customers.customer_id = r.customer_id AND r._op = 'update'""", {"b": batch})
    if plan.table == "followups":
        con.execute(f"""
            INSERT INTO followups (followup_id, {cols}, batch_id)
            SELECT (SELECT coalesce(max(followup_id), 0) FROM followups)
                   + row_number() OVER (ORDER BY _row), {cols}, $b
            FROM _ingest_rows WHERE _op = 'insert'""", {"b": batch})
    elif plan.table == "transactions" and "txn_id" in names:
        con.execute(f"""
            INSERT INTO transactions ({cols}, order_line, batch_id)
            SELECT {cols}, CASE WHEN count(*) OVER (PARTITION BY txn_id) > 1 AND txn_id IS NOT NULL
                                THEN row_number() OVER (PARTITION BY txn_id ORDER BY _row) END, $b
            FROM _ingest_rows WHERE _op = 'insert' ORDER BY _row""", {"b": batch})
    else:
        con.execute(f"INSERT INTO {plan.table} ({cols}, batch_id) "
                    f"SELECT {cols}, $b FROM _ingest_rows WHERE _op = 'insert' ORDER BY _row",
                    {"b": batch})


def _customers_to_create(con, plan: Plan, opts: _Options) -> int:
    if plan.table == "customers" or not opts.create_customers:
        return 0
    return con.execute("""
        SELECT count(DISTINCT customer_id) FROM _ingest_rows
        WHERE _op <> 'reject' AND customer_id NOT IN (SELECT customer_id FROM customers)
        """).fetchone()[0]


def _create_customers(con, plan: Plan, batch: int, opts: _Options) -> int:
    """Customers the file names and the database lacks, with only their id."""
    if plan.table == "customers" or not opts.create_customers:
        return 0
    return con.execute("""
        INSERT INTO customers (customer_id, batch_id)
        SELECT DISTINCT customer_id, $b FROM _ingest_rows
        WHERE _op <> 'reject' AND customer_id NOT IN (SELECT customer_id FROM customers)
        """, {"b": batch}).fetchone()[0]


# ---- the fast path --------------------------------------------------------------

def _fast_path_fits(con, src, plan: Plan) -> bool:
    """A CSV of events going into an empty table: nothing to match against (and no order
    amount that lines may repeat, which the staged path takes once)."""
    if src.frame is not None or plan.table not in FAST_TABLES or plan.order_amount:
        return False
    return con.execute(f"SELECT count(*) = 0 FROM (SELECT 1 FROM {plan.table} LIMIT 1)"
                       ).fetchone()[0]


def _fast_import(con, plan: Plan, src, params, batch: int, opts: _Options, steps,
                 report: ImportReport) -> bool:
    """Read the file into a work table, check it there, then copy it into the table in
    one statement; False (and nothing left behind) if a check fails.

    Invalid rows land with batch id -batch and placeholders in NOT NULL
    columns, codes as their text; the checks then look only at what landed.
    Columns whose first rows look clean are read typed (engine.ingest.typed);
    a cell further down that does not fit is a refused record, so the file
    goes to the staged path. Null markers are read as NULL by read_csv, and
    cells are not trimmed when the file has no cell to trim.

    The work table is in memory and its row ids follow the file, so the lines
    of each order are numbered there before the rows are copied. Writing them
    into the table first and numbering them there cost more: an UPDATE of rows
    already written to the file makes the commit write them again (an import
    of 2M order lines took a quarter longer).
    """
    table, b = plan.table, {"b": batch}
    items, _ = validate.stored_values(plan, fast=True)
    numbered = ["CAST(NULL AS INTEGER) AS order_line"] if "txn_id" in plan.names else []
    read = typed.choose(plan, src.info.sample)
    relation = src.csv_read.relation(read.types, read.formats, src.null_markers)
    staging = validate.staging_select(plan, relation, fast=True, odd_spaces=src.odd_spaces,
                                      typed=read.types, bare_cells=src.bare_cells)
    steps.runner(0.0, 0.6, "read")(
        f"CREATE OR REPLACE TEMP TABLE {_LANDED} AS "
        f"SELECT {', '.join(items + numbered)}, "
        f"CASE WHEN {validate.row_ok(plan)} THEN $b ELSE -$b END AS batch_id "
        f"FROM ({staging}) s WHERE NOT s._blank", {**params, **b})
    steps.report(0.65, "check")
    try:
        if not _fast_checks_pass(con, plan, opts, batch):
            # The staged path reads the file again, as text: what this read refused
            # (a cell that did not fit its type, say) is not the file's problem.
            con.execute("DROP TABLE IF EXISTS _ingest_rejects; "
                        "DROP TABLE IF EXISTS _ingest_reject_scans")
            return False
        for c in plan.code_columns():
            _resolve_codes(con, c, report)
        steps.report(0.75, "write")
        inserted = steps.runner(0.75, 0.95, "write")(_copy_landed(plan), {}).fetchone()[0]
        report.customers_created = 0 if not opts.create_customers else con.execute(f"""
            INSERT INTO customers (customer_id, batch_id)
            SELECT DISTINCT customer_id, $b FROM {_LANDED}
            WHERE customer_id NOT IN (SELECT customer_id FROM customers)""", b).fetchone()[0]
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_LANDED}")
    report.batch_id = batch
    report.rows_read = report.inserted = inserted
    report.preview = con.execute(
        f"SELECT {', '.join(plan.names)} FROM {table} WHERE batch_id = $b LIMIT {PREVIEW_ROWS}",
        b).fetchdf().assign(ok=True)
    steps.report(0.98, "write")
    return True


# The fast path's work table: the file's rows as they will be stored.
_LANDED = "_ingest_landed"


def _copy_landed(plan: Plan) -> str:
    """The INSERT that copies the checked rows into the table, in file order (a plain
    scan keeps it, as DuckDB preserves insertion order)."""
    cols = ", ".join(plan.names + (["order_line"] if "txn_id" in plan.names else []))
    return (f"INSERT INTO {plan.table} ({cols}, batch_id) "
            f"SELECT {cols}, batch_id FROM {_LANDED}")


def _resolve_codes(con, c, report: ImportReport) -> None:
    """Turn the texts the fast path landed in a code column into codes.

    The few distinct texts are matched through the synonyms (punctuation,
    spaces and case ignored); only rows whose text is not already its code
    are rewritten. Texts no synonym matches become ``other`` (kind code,
    counted in the report) or stay as written (kind label).
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ingest_texts AS
        SELECT m.text, m.n, k.code FROM (
            SELECT {c.name} AS text, count(*) AS n FROM {_LANDED}
            WHERE {c.name} IS NOT NULL GROUP BY 1) m
        LEFT JOIN _ingest_codes k ON k.vocabulary = $vocabulary AND k.key = ingest_key(m.text)
        """, {"vocabulary": c.vocabulary})
    fallback = "'other'" if c.kind == "code" else "m.text"
    con.execute(f"""
        UPDATE {_LANDED} SET {c.name} = coalesce(m.code, {fallback})
        FROM _ingest_texts m
        WHERE {_LANDED}.{c.name} = m.text AND m.text <> coalesce(m.code, {fallback})""")
    if c.kind == "code":
        rows = con.execute("SELECT text, n FROM _ingest_texts WHERE code IS NULL "
                           "ORDER BY n DESC, text").fetchall()
        if rows:
            report.other_values[c.name] = dict(rows)
    con.execute("DROP TABLE _ingest_texts")


def _number_order_lines(con, plan: Plan) -> bool:
    """Number the lines of the orders of several that landed; False when the lines of
    one order name different customers or dates (the staged checks say where).

    One GROUP BY over the landed rows finds the orders of several lines and
    where each starts. Lines of an order that follow one another in the file
    (the usual export) are numbered from that start, looked up by a scalar
    subquery: DuckDB runs it as a join, and an UPDATE … FROM the same join
    took twice as long on 2M order lines (0.23–0.33 s against 0.12 s). Only
    an order whose lines are spread through the file needs the window that
    numbers them in file order. Then the lines of each order must name one
    customer and one set of dates: as many distinct (txn_id, customer, dates) as
    orders (DISTINCT takes two NULLs as the same, like IS NOT DISTINCT FROM);
    and with a `status` column, no later line may leave the first line's
    status blank.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ingest_orders AS
        SELECT txn_id, min(rowid) AS first_row, max(rowid) - min(rowid) + 1 = count(*) AS adjacent
        FROM {_LANDED} WHERE txn_id IS NOT NULL
        GROUP BY txn_id HAVING count(*) > 1""")
    try:
        multi, spread = con.execute(
            "SELECT count(*), count(*) FILTER (NOT adjacent) FROM _ingest_orders").fetchone()
        if not multi:
            return True
        con.execute(f"""
            UPDATE {_LANDED} SET order_line = {_LANDED}.rowid + 1 - (
                SELECT o.first_row FROM _ingest_orders o
                WHERE o.txn_id = {_LANDED}.txn_id AND o.adjacent)""")
        if spread:
            con.execute(f"""
                UPDATE {_LANDED} SET order_line = n.k
                FROM (SELECT l.rowid AS r,
                             row_number() OVER (PARTITION BY l.txn_id ORDER BY l.rowid) AS k
                      FROM {_LANDED} l SEMI JOIN _ingest_orders o
                      ON o.txn_id = l.txn_id AND NOT o.adjacent) n
                WHERE {_LANDED}.rowid = n.r""")
        keys = ", ".join(k for k in validate.ORDER_KEYS if k in plan.names)
        return multi == con.execute(f"""
            SELECT count(*) FROM (
                SELECT DISTINCT txn_id, {keys} FROM {_LANDED}
                WHERE order_line IS NOT NULL)""").fetchone()[0] \
            and not ("status" in plan.names and _status_left_blank(con))
    finally:
        con.execute("DROP TABLE _ingest_orders")


def _status_left_blank(con) -> bool:
    """Whether a later line of an order leaves its status blank where the first line
    has one: the staged path gives it the first line's status (`validate.fill_order_lines`),
    which the fast path does not, so such a file goes there. The later lines without a
    status are looked up first: a file has few or none."""
    return con.execute(f"""
        SELECT count(*) FROM {_LANDED}
        WHERE order_line = 1 AND status IS NOT NULL AND txn_id IN (
            SELECT txn_id FROM {_LANDED} WHERE order_line > 1 AND status IS NULL)""",
                       ).fetchone()[0] > 0


def _fast_checks_pass(con, plan: Plan, opts: _Options, batch: int) -> bool:
    if not con.execute(f"SELECT count(*) FROM {_LANDED}").fetchone()[0]:
        return False
    if con.execute(f"SELECT count(*) FROM {_LANDED} WHERE batch_id = -$b",
                   {"b": batch}).fetchone()[0]:
        return False
    malformed = con.execute("""
        SELECT count(*) FROM duckdb_tables() WHERE table_name = '_ingest_rejects'""").fetchone()[0]
    if malformed and con.execute(
            "SELECT count(*) FROM _ingest_rejects "
            "WHERE trim(coalesce(csv_line, ''), ' \t\r\n') <> '' "
            "OR CAST(error_type AS VARCHAR) NOT IN ('MISSING COLUMNS', 'TOO MANY COLUMNS')"
    ).fetchone()[0]:
        return False
    if "txn_id" in plan.names and not _number_order_lines(con, plan):
        return False
    if not opts.create_customers and con.execute(f"""
            SELECT count(*) FROM {_LANDED}
            WHERE customer_id NOT IN (SELECT customer_id FROM customers)""").fetchone()[0]:
        return False
    return True


# ---- report parts ------------------------------------------------------------------

def _with_params(frame: pd.DataFrame, report: ImportReport, today: date, src) -> pd.DataFrame:
    """The problems frame with the slots its messages need; a row of a workbook of
    several sheets is placed in "file [sheet]"."""
    frame = frame.copy()
    frame["file"] = report.file_name
    row_sheets = src.row_sheets
    if row_sheets is None and len(src.info.sheets) > 1:   # one sheet of several, chosen
        frame["file"] = f"{report.file_name} [{src.info.sheet}]"
    elif row_sheets is not None and len(frame):
        rows = frame["_row"].dropna().astype("int64")
        frame.loc[rows.index, "file"] = [f"{report.file_name} [{s}]" for s in row_sheets[rows]]
    frame["columns"] = frame["detail"]
    frame["today"] = today.isoformat()
    frame["earliest"], frame["latest"] = (d.isoformat() for d in limits.date_bounds(today))
    frame["encoding"] = report.encoding or "UTF-8"
    return frame


def _problems(frame: pd.DataFrame, file_name: str) -> list[Problem]:
    """Problem objects for the first rows of a problems frame."""
    out = []
    for row in frame.to_dict("records"):
        params = {k: _plain(row.get(k)) for k in _PARAMS.get(row["code"], ())}
        out.append(Problem(row["code"], row.get("file") or file_name, line=_plain(row.get("line")),
                           column=_plain(row.get("column")), value=_plain(row.get("value")),
                           target=_plain(row.get("target")), params=params))
    return out


def _plain(value):
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _preview(con, plan: Plan, lines: np.ndarray | None) -> pd.DataFrame:
    """The first rows of the file as they will be stored."""
    frame = con.execute(f"SELECT _row, {', '.join(plan.names)}, _op <> 'reject' AS ok "
                        f"FROM _ingest_rows ORDER BY _row LIMIT {PREVIEW_ROWS}").fetchdf()
    rows = frame.pop("_row").to_numpy(np.int64)
    line = lines[rows] if lines is not None else rows + 2
    frame.insert(0, "line", line)
    return frame


def _rejects(con, src, frame: pd.DataFrame, lines: np.ndarray | None, lang: str
             ) -> pd.DataFrame:
    """Rejected rows as found in the file, with their line and an error column."""
    headers = src.info.headers
    line_col = "line" if "line" not in headers else "import_line"
    error_col = "error" if "error" not in headers else "import_error"
    frame = frame.copy()
    frame["message"] = render_messages(frame, lang, with_file=False)
    on_rows = frame[frame["_row"].notna()]
    errors = on_rows.groupby("_row", sort=True)["message"].agg("; ".join)
    ordinals = errors.index.to_numpy(np.int64)
    if src.frame is not None:
        raw = src.frame.iloc[ordinals].reset_index(drop=True)
    else:
        con.execute("DROP TABLE IF EXISTS _ingest_raw; DROP TABLE IF EXISTS _ingest_rejects; "
                    "DROP TABLE IF EXISTS _ingest_reject_scans")
        con.execute(f"CREATE TEMP TABLE _ingest_raw AS SELECT * FROM {src.relation}", src.params)
        _, base = validate.ordinal_base(con, "_ingest_raw")
        register(con, "_ingest_bad", pd.DataFrame({"_row": ordinals}))
        try:
            raw = con.execute("SELECT r.* FROM _ingest_raw r JOIN _ingest_bad b "
                              "ON r.rowid - $base = b._row ORDER BY r.rowid",
                              {"base": base}).fetchdf()
        finally:
            unregister(con, "_ingest_bad")
    raw.columns = headers
    raw = raw.astype("string")
    raw[line_col] = lines[ordinals]
    raw[error_col] = errors.to_numpy()
    broken = frame[frame["_row"].isna()]
    if len(broken):
        extra = pd.DataFrame({line_col: broken["line"].to_numpy(),
                              error_col: broken["message"].to_numpy()})
        raw = pd.concat([raw, extra], ignore_index=True)
    raw[line_col] = raw[line_col].astype("Int64")
    return raw.sort_values(line_col, kind="stable").reset_index(drop=True)


# ---- batches ---------------------------------------------------------------------

def _next_batch(con) -> int:
    return con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM import_batches").fetchone()[0]


def _record_batch(con, report: ImportReport) -> None:
    if report.batch_id is None:
        return
    con.execute("""
        INSERT INTO import_batches (batch_id, file_name, content_hash, table_name,
            rows_inserted, rows_updated, rows_unchanged, rows_rejected, customers_created,
            imported_at, undone_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)""",
                [report.batch_id, report.file_name, report.content_hash, report.table,
                 report.inserted, report.updated, report.unchanged, report.rejected,
                 report.customers_created, datetime.now()])


def _table_columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_catalog = current_database() "
        "AND table_name = ? ORDER BY ordinal_position",
        [table]).fetchall()]


# ---- plumbing ---------------------------------------------------------------------

class _Steps:
    """Progress reporting: stage boundaries, and DuckDB's own progress inside long queries.

    A long statement runs in a worker thread while this thread polls
    `query_progress()`, so the callback is always called from the caller's
    thread (Streamlit needs that).
    """

    def __init__(self, con, callback: Progress | None):
        # The caller has already said (0.0, "read") while it prepared the file.
        self.con, self.callback, self.last, self.base = con, callback, (0.0, "read"), 0.0
        # DuckDB's own bar would print to the terminal; the callback shows progress instead.
        con.execute(f"SET enable_progress_bar = {'true' if callback else 'false'}; "
                    "SET enable_progress_bar_print = false")

    def rebase(self) -> None:
        """Map what follows into the part of the bar not yet used (after a fallback)."""
        if self.last is not None:
            self.base = self.last[0]

    def report(self, fraction: float, stage: str) -> None:
        """Tell the callback, unless it would hear the same thing again."""
        fraction = self.base + (1.0 - self.base) * min(max(fraction, 0.0), 1.0)
        now = (round(fraction, 3), stage)
        if self.callback is not None and now != self.last:
            self.last = now
            self.callback(*now)

    def runner(self, lo: float, hi: float, stage: str):
        def run(sql: str, params: dict):
            params = {k: v for k, v in params.items() if f"${k}" in sql}
            if self.callback is None:
                return self.con.execute(sql, params)
            return self._watched(sql, params, lo, hi, stage)
        return run

    def _watched(self, sql, params, lo, hi, stage):
        self.report(lo, stage)
        outcome: dict = {}

        def work():
            try:
                outcome["result"] = self.con.execute(sql, params)
            except BaseException as exc:  # handed over to the caller's thread
                outcome["error"] = exc
        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.2)
                done = self.con.query_progress()
                if done >= 0:
                    self.report(lo + (hi - lo) * done / 100.0, stage)
        except BaseException:
            self.con.interrupt()
            worker.join()
            raise
        if "error" in outcome:
            raise outcome["error"]
        self.report(hi, stage)
        return outcome["result"]


def _scaled(progress: Progress | None, k: int, n: int) -> Progress | None:
    if progress is None:
        return None
    return lambda fraction, stage: progress((k + fraction) / n, stage)


def _item(item) -> ImportItem:
    if isinstance(item, ImportItem):
        return item
    return ImportItem(*item)


def _first_not_none(*values):
    return next(v for v in values if v is not None)


def _remove_database(path: Path) -> None:
    """Remove a database file this import created (and its write-ahead log)."""
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
