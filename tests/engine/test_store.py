"""The DuckDB file: creation, migration, reopening, sharing between processes."""
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from engine import store
from tests.conftest import version_1_file
from tests.helpers import hold_file

ROOT = store.ROOT


def test_create_and_reopen(tmp_path):
    db = tmp_path / "new.duckdb"
    with store.write(db) as con:
        con.execute("INSERT INTO customers (customer_id, name) VALUES (?, ?)", ["C1", "张三"])
    with store.connect(db) as con:
        assert store.schema_version(con) == store.SCHEMA_VERSION
        assert con.execute("SELECT name FROM customers").fetchall() == [("张三",)]
        assert store.table_counts(con) == {"customers": 1, "transactions": 0,
                                           "interactions": 0, "followups": 0}


def test_migrates_a_version_1_file(tmp_path):
    db = version_1_file(tmp_path / "old.duckdb", data_version=7, customers=[("C9", None)])
    with store.connect(db) as con:
        assert store.schema_version(con) == 6
        assert con.execute("SELECT customer_id FROM customers").fetchall() == [("C9",)]
        assert "replaced_by" in [r[0] for r in con.execute("DESCRIBE customer_versions").fetchall()]
        # version 4: order lines (DESIGN §3)
        txn_columns = [r[0] for r in con.execute("DESCRIBE transactions").fetchall()]
        assert {"unit_price", "order_line"} <= set(txn_columns)
        # versions 5 and 6: derived results (engine.derived)
        assert con.execute("SELECT count(*) FROM derived_results").fetchone() == (0,)
    assert store.data_version(db) == 7


def test_refuses_a_newer_file(tmp_path):
    db = tmp_path / "future.duckdb"
    with store.connect(db) as con:
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(RuntimeError, match="newer release"):
        with store.connect(db):
            pass


def test_write_bumps_version_and_rolls_back_on_error(tmp_path):
    db = tmp_path / "v.duckdb"
    start = store.data_version(db)
    with store.write(db) as con:
        con.execute("INSERT INTO customers (customer_id) VALUES ('A')")
    assert store.data_version(db) == start + 1
    with pytest.raises(ZeroDivisionError):
        with store.write(db) as con:
            con.execute("INSERT INTO customers (customer_id) VALUES ('B')")
            1 / 0
    assert store.data_version(db) == start + 1
    with store.connect(db) as con:
        assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == 1


def test_waits_for_a_lock_and_then_gets_in(tmp_path):
    db = tmp_path / "held.duckdb"
    store.data_version(db)
    holder = hold_file(db, 1.0)
    started = time.monotonic()
    with store.write(db, timeout=20) as con:
        con.execute("INSERT INTO customers (customer_id) VALUES ('late')")
    holder.wait()
    assert time.monotonic() - started >= 0.3
    assert store.data_version(db) == 1


def test_says_clearly_when_the_file_stays_locked(tmp_path):
    db = tmp_path / "stuck.duckdb"
    store.data_version(db)
    holder = hold_file(db, 10)
    try:
        with pytest.raises(store.StoreLocked, match="another program has held this database file"):
            with store.connect(db, timeout=0.5):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_cli_writes_while_a_dashboard_process_reads(tmp_path):
    """A dashboard in another process reads in a loop; the CLI's write still lands."""
    db = tmp_path / "shared.duckdb"
    store.data_version(db)
    reader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from engine import store
        from engine.features import activity
        seen, end = set(), time.monotonic() + 90  # stops once it sees the write
        while time.monotonic() < end:
            with store.connect({str(db)!r}) as con:
                seen.add(store.table_counts(con)["customers"])
                activity.overview_kpis(con, as_of="2026-06-30")
            time.sleep(0.01)
            if len(seen) > 1:
                break
        print(sorted(seen))
    """)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    cli = subprocess.run([sys.executable, "-m", "engine", "demo", "--db", str(db),
                          "--customers", "200", "--months", "6"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    out, err = reader.communicate(timeout=60)
    assert cli.returncode == 0, cli.stderr
    assert reader.returncode == 0, err
    assert eval(out) == [0, 200]  # the reader saw the file before and after, never an error


def test_connection_stays_usable_after_migrate_and_lookups():
    """DuckDB 2.0 refuses work on a connection with an unfinished result."""
    import pandas as pd
    con = duckdb.connect()
    store.migrate(con)
    store.migrate(con)
    store.table_counts(con)
    store.date_range(con)
    con.register("frame", pd.DataFrame({"a": [1]}))
    assert con.execute("SELECT a FROM frame").fetchall() == [(1,)]


def test_session_opens_a_path_per_step_and_passes_a_connection_through(tmp_path):
    db = tmp_path / "s.duckdb"
    store.data_version(db)
    with store.session(db) as con:
        con.execute("SELECT 1").fetchall()
    holder = hold_file(db, 0.1)  # another process can open the file right after the step
    holder.wait()
    assert holder.returncode == 0
    mem = duckdb.connect()
    with store.session(mem) as con:
        assert con is mem


def test_overlapping_operations_of_one_process_share_the_file_and_free_it_after(tmp_path):
    """Two sessions' operations that overlap use one attachment of the file; once the
    last ends, another process opens the file at once (nothing holds it)."""
    db = tmp_path / "shared.duckdb"
    store.data_version(db)
    with store.connect(db) as first:
        with store.connect(db) as second:
            second.execute("INSERT INTO customers (customer_id) VALUES ('x')")
        assert first.execute("SELECT count(*) FROM customers").fetchone()[0] == 1
        assert first.execute("SELECT current_database()").fetchone()[0] != "memory"
    opened = subprocess.run([sys.executable, "-c",
                             f"import duckdb; duckdb.connect({str(db)!r}).close()"],
                            capture_output=True, text=True, timeout=60)
    assert opened.returncode == 0, opened.stderr
