"""Import history, undo, and starting over.

Every import is a batch in `import_batches`; every row it wrote carries the
batch id, and every customer row it overwrote waits in `customer_versions`
(replaced_by = the batch). Undoing a batch deletes its rows and puts those
customer versions back, in one transaction. Undo refuses (`UndoRefused`)
when later data builds on the batch: a later import changed customers this
one wrote, or later rows belong to customers this one created; undo those
first.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import pandas as pd

from engine import audit, i18n, store

_EVENTS = ("transactions", "interactions", "followups")


class UndoRefused(Exception):
    """An undo that would lose or orphan other data; `code` and `params` name why."""

    def __init__(self, code: str, **params):
        self.code, self.params = code, params
        super().__init__(self.message("en"))

    def message(self, lang: str = "en") -> str:
        return i18n.t(f"ingest.undo.{self.code}", lang, **self.params)


@dataclass(frozen=True)
class UndoResult:
    """What an undo took out: the batch's rows, customers it created, versions it restored."""
    batch_id: int
    table: str
    rows_removed: int
    customers_removed: int
    customers_restored: int


def list_batches(db=None) -> pd.DataFrame:
    """Import batches, newest first.

    Columns: batch_id, file_name, table_name, imported_at, rows_inserted,
    rows_updated, rows_unchanged, rows_rejected, customers_created,
    undone_at (NaT while in force), content_hash.
    """
    with store.connect(db) as con:
        return con.execute("""
            SELECT batch_id, file_name, table_name, imported_at, rows_inserted,
                   rows_updated, rows_unchanged, rows_rejected, customers_created,
                   undone_at, content_hash
            FROM import_batches ORDER BY batch_id DESC""").fetchdf()


def undo_batch(db, batch_id: int, *, actor: str = audit.LOCAL) -> UndoResult:
    """Remove exactly the rows of one import and restore the customers it updated.

    The undo is recorded in the audit log as done by `actor`, in the same transaction.
    """
    with store.write(db) as con:
        row = con.execute("SELECT table_name, undone_at FROM import_batches WHERE batch_id = ?",
                          [batch_id]).fetchone()
        if row is None:
            raise UndoRefused("unknown_batch", batch=batch_id)
        table, undone_at = row
        if undone_at is not None:
            raise UndoRefused("already_undone", batch=batch_id, when=f"{undone_at:%Y-%m-%d %H:%M}")
        _refuse_if_built_upon(con, batch_id)
        removed = 0
        if table in _EVENTS:
            removed = _delete(con, table, batch_id)
        created = con.execute("""
            SELECT count(*) FROM customers WHERE batch_id = $b AND customer_id NOT IN
                (SELECT customer_id FROM customer_versions WHERE replaced_by = $b)""",
                              {"b": batch_id}).fetchone()[0]
        deleted = _delete(con, "customers", batch_id)
        restored = _restore_versions(con, batch_id)
        if table == "customers":
            removed, created = deleted - restored, 0
        con.execute("UPDATE import_batches SET undone_at = ? WHERE batch_id = ?",
                    [datetime.now(), batch_id])
        result = UndoResult(batch_id, table, removed, created, restored)
        audit.record(con, actor, "undo", asdict(result))
    return result


def reset(path=None, demo: bool = True, *, actor: str = audit.LOCAL,
          **demo_options) -> dict[str, int]:
    """Empty the data (history included, saved settings and audit log kept), then load
    the demo or nothing.

    `demo_options` go to `engine.demo.write_demo` (customers, months, seed,
    …). Returns rows per table afterwards. Recorded in the audit log as done
    by `actor`.
    """
    with store.write(path) as con:
        for table in (*store.EVENT_TABLES, "customer_versions", "import_batches"):
            con.execute(f"DELETE FROM {table}")
        if demo:
            from engine import demo as demo_data
            rows = demo_data.write_demo(con, **demo_options)
        else:
            rows = dict.fromkeys(store.EVENT_TABLES, 0)
        audit.record(con, actor, "reset", {"demo": demo, "rows": rows})
        return rows


def _refuse_if_built_upon(con, batch_id: int) -> None:
    later = [r[0] for r in con.execute("""
        SELECT DISTINCT replaced_by FROM customer_versions
        WHERE batch_id = $b AND replaced_by <> $b ORDER BY 1""", {"b": batch_id}).fetchall()]
    if later:
        raise UndoRefused("later_changes", batch=batch_id,
                          batches=", ".join(map(str, later)))
    users = con.execute(" UNION ALL ".join(f"""
        SELECT batch_id FROM {t} WHERE batch_id IS DISTINCT FROM $b AND customer_id IN (
            SELECT customer_id FROM customers WHERE batch_id = $b AND customer_id NOT IN
                (SELECT customer_id FROM customer_versions WHERE replaced_by = $b))"""
                                            for t in _EVENTS), {"b": batch_id}).fetchdf()
    if len(users):
        batches = sorted(int(b) for b in users["batch_id"].dropna().unique())
        raise UndoRefused("customers_in_use", batch=batch_id, rows=len(users),
                          batches=", ".join(map(str, batches)) or "-",
                          unbatched=int(users["batch_id"].isna().sum()))


def _delete(con, table: str, batch_id: int) -> int:
    return con.execute(f"DELETE FROM {table} WHERE batch_id = ?", [batch_id]).fetchone()[0]


def _restore_versions(con, batch_id: int) -> int:
    cols = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
        "AND table_catalog = current_database() "
        "AND table_name = 'customers' ORDER BY ordinal_position").fetchall()]
    names = ", ".join(cols)
    restored = con.execute(f"INSERT INTO customers ({names}) SELECT {names} "
                           "FROM customer_versions WHERE replaced_by = ?", [batch_id]
                           ).fetchone()[0]
    con.execute("DELETE FROM customer_versions WHERE replaced_by = ?", [batch_id])
    return restored
