"""Workbooks read in a worker process (engine.ingest.worker), as the dashboard reads them
(issue 19, part 2): openpyxl's parsing must not hold the lock other sessions' pages need.

What crosses the process boundary is checked here: the refusal with its problems, the
limits as the caller has them now, a worker that dies. That the parsing is not in this
process is checked by making openpyxl unusable here.
"""
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from engine import ingest
from engine.ingest import readers, worker
from engine.ingest.errors import ImportRejected, Problem

ROOT = Path(__file__).resolve().parents[2]


def workbook(path, rows):
    """A workbook of `rows` transactions of two customers, 10.5 each."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["customer_id", "txn_date", "amount"])
    for i in range(rows):
        sheet.append([f"C{i % 2}", f"2024-01-{i % 28 + 1:02d}", 10.5])
    book.save(path)
    return path


@pytest.fixture
def no_openpyxl_here(monkeypatch):
    """openpyxl refuses to open a workbook in this process (a worker has its own)."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"a workbook was opened in process {os.getpid()}")
    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


def test_a_refusal_pickles_with_its_problems():
    problem = Problem("sheet_too_many_rows", "big.xlsx", params={"limit": "1,000"})
    back = pickle.loads(pickle.dumps(ImportRejected([problem], total=7)))
    assert type(back) is ImportRejected
    assert back.problems == [problem] and back.total == 7
    assert "超过 1,000 行" in back.message("zh")


def test_the_worker_is_another_process():
    assert worker.run(os.getpid) != os.getpid()


def test_a_workbook_is_checked_in_the_worker(tmp_path, no_openpyxl_here):
    path = workbook(tmp_path / "t.xlsx", 30)
    info = ingest.inspect_file(path, in_worker=True)
    assert info.headers == ["customer_id", "txn_date", "amount"]
    report = ingest.preview_import(tmp_path / "new.duckdb", path, "transactions",
                                   create_customers=True, in_worker=True)
    assert (report.inserted, report.customers_created, report.rejected) == (30, 2, 0)
    with pytest.raises(ImportRejected, match="opened in process"):   # the command line's way
        ingest.inspect_file(path)


def test_limits_set_after_the_worker_started_hold_there(tmp_path, monkeypatch):
    worker.run(os.getpid)   # the pool is up, started under the default limits
    monkeypatch.setenv("CRM_MAX_ROWS", "20")
    with pytest.raises(ImportRejected) as refused:
        ingest.preview_import(tmp_path / "new.duckdb", workbook(tmp_path / "t.xlsx", 30),
                              "transactions", create_customers=True, in_worker=True)
    assert [p.code for p in refused.value.problems] == ["too_many_rows"]
    assert "more than 20 data rows" in refused.value.message("en")
    assert not (tmp_path / "new.duckdb").exists()


def test_a_worker_that_dies_refuses_the_file_and_the_next_read_works(tmp_path):
    with pytest.raises(ImportRejected) as refused:
        readers._parsed(True, "t.xlsx", os._exit, 1)
    assert [p.code for p in refused.value.problems] == ["unreadable"]
    assert "t.xlsx: the file cannot be read" in refused.value.message("en")
    assert ingest.inspect_file(workbook(tmp_path / "t.xlsx", 3), in_worker=True).sheet == "Sheet"


def test_the_worker_yields_the_cpu_to_the_server():
    """An import is batch work: its worker runs at a lower priority than the sessions."""
    assert worker.run(os.nice, 0) == os.nice(0) + worker.NICENESS


def running(pid: int) -> bool:
    """Whether the process runs (a zombie no reaper has collected counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_worker_ends_when_the_server_is_killed():
    """kill -9 of the process that started a worker leaves no worker behind."""
    server = subprocess.Popen(
        [sys.executable, "-c", "import os, sys; from engine.ingest import worker; "
                               "print(worker.run(os.getpid), flush=True); sys.stdin.read()"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pid = int(server.stdout.readline())
    assert running(pid)
    server.kill()
    server.wait()
    deadline = time.monotonic() + 60   # a bound on the wait, not a measurement
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not running(pid)
