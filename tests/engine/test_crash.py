"""Crash safety: an import killed with SIGKILL leaves the database as it was before.

A real import runs in a child process on a large file and is killed at a
known point inside its write transaction (the import path's own progress
callback says where it is and then waits to be killed, so the point is
certain, not a matter of timing), or, for the command line, as soon as the
database file starts to grow. Afterwards the file must open, hold no row of
that batch, and hold everything it held before, table by table.
"""
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from engine import backup, store
from tests.conftest import DEMO_SIZE, ROOT

ROWS = 300_000

# Imports like the Data page does, and stops to be killed where the test asks.
CHILD = """
import sys, time
from engine.ingest import import_file

db, path, stage, at = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])

def progress(fraction, now):
    print(now, fraction, flush=True)
    if now == stage and fraction >= at:
        print("KILL ME", flush=True)
        time.sleep(600)

import_file(db, path, "transactions", progress=progress)
print("COMMITTED", flush=True)
"""


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    """ROWS valid transactions of the demo's customers: several seconds of import."""
    rng = np.random.default_rng(5)
    ids = rng.integers(1, DEMO_SIZE["customers"] + 1, ROWS)
    frame = pd.DataFrame({
        "customer_id": [f"C{i:06d}" for i in ids],
        "txn_date": (np.datetime64("2024-08-01") + rng.integers(0, 600, ROWS)).astype(str),
        "amount": rng.integers(100, 99_999, ROWS) / 100,
        "txn_id": [f"K{i}" for i in range(ROWS)],
    })
    path = tmp_path_factory.mktemp("crash") / "big.csv"
    frame.to_csv(path, index=False)
    return path


def state(db):
    """What must survive a crash: every table's rows and checksum, and the data version."""
    return backup.data_fingerprint(db), store.data_version(db)


def assert_untouched(db, before):
    fingerprint, version = state(db)   # opens: the file is usable
    pd.testing.assert_frame_equal(fingerprint, before[0])
    assert version == before[1]
    with store.connect(db) as con:
        assert store.first_row(con, "SELECT count(*) FROM transactions "
                                    "WHERE txn_id LIKE 'K%'")[0] == 0


def kill(child):
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL


@pytest.mark.parametrize("stage, at, empty", [
    ("check", 0.55, False),   # staged and being checked, nothing written yet
    ("write", 0.98, False),   # every row inserted, the transaction not yet committed
    ("write", 0.10, True),    # fast path into an empty table, killed mid-insert
])
def test_import_killed_inside_its_transaction(work_db, big_csv, stage, at, empty):
    if empty:
        with store.write(work_db) as con:
            con.execute("DELETE FROM transactions")
    before = state(work_db)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(work_db), str(big_csv),
                              stage, str(at)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    lines = []
    for line in child.stdout:
        lines.append(line.strip())
        if line.strip() in ("KILL ME", "COMMITTED"):
            break
    assert lines[-1] == "KILL ME", lines
    kill(child)
    assert_untouched(work_db, before)


def test_command_line_import_killed_while_writing(work_db, big_csv):
    before = state(work_db)
    size = work_db.stat().st_size
    child = subprocess.Popen([sys.executable, "-m", "engine", "import", "--db", str(work_db),
                              "--table", "transactions", str(big_csv)], cwd=ROOT,
                             stdout=subprocess.DEVNULL)
    wal = work_db.with_name(work_db.name + ".wal")
    # DuckDB writes a large insert's blocks into the file before it commits
    while child.poll() is None and work_db.stat().st_size == size and not wal.exists():
        time.sleep(0.01)
    assert child.poll() is None, "the import finished before it could be killed"
    kill(child)
    assert_untouched(work_db, before)
    # and the file still takes the same import afterwards
    done = subprocess.run([sys.executable, "-m", "engine", "import", "--db", str(work_db),
                           "--table", "transactions", str(big_csv)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with store.connect(work_db) as con:
        assert store.first_row(con, "SELECT count(*) FROM transactions "
                                    "WHERE txn_id LIKE 'K%'")[0] == ROWS
