"""Concurrent sessions on one database file (issue 11, part 1).

All at once against one file: a session importing a large file through the
Data page, five sessions browsing pages, one session logging follow-ups (each
its own AppTest in its own thread), and `python -m engine import` in another
process. No session may see an exception, an error or a "locked" failure,
and every count a page shows must be the count before or after a whole
import, never part of one.

AppTest is made for one session at a time: each run installs a mock Runtime
as Streamlit's process-wide singleton and removes it afterwards (pulling it
away from sessions still running in other threads), patches the process-wide
config the same way, and compiles the page
scripts afresh (Python 3.11's compiler is not safe to run from several
threads at once: "AST constructor recursion depth mismatch"). `server_like`
keeps one Runtime, one config and one script cache for all sessions, as a
server does.
"""
import re
import subprocess
import sys
import threading
from contextlib import nullcontext
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import app_test
from streamlit.testing.v1.util import patch_config_options

from engine import store
from tests.conftest import DEMO_SIZE, ROOT, open_page
from tests.helpers import upload
from tests.helpers import fill_and_save

PAGE_ROWS, CLI_ROWS = 30_000, 60_000
BROWSED = ("overview", "customers", "rfm", "risk", "review", "data")
COUNTS = re.compile(r"([\d,]+) customers · ([\d,]+) transactions")


def transactions_csv(path, rows, prefix, seed):
    """`rows` valid transactions of the demo's customers, ids starting with `prefix`."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, DEMO_SIZE["customers"] + 1, rows)
    pd.DataFrame({
        "customer_id": [f"C{i:06d}" for i in ids],
        "txn_date": (np.datetime64("2024-08-01") + rng.integers(0, 600, rows)).astype(str),
        "amount": rng.integers(100, 99_999, rows) / 100,
        "txn_id": [f"{prefix}{i}" for i in range(rows)],
    }).to_csv(path, index=False)
    return path


def problems(at):
    """Exceptions and errors a session shows."""
    return [str(e.value) for e in at.exception] + [e.value for e in at.error]


def sidebar_counts(at):
    """(customers, transactions) as the sidebar shows them."""
    text = next(c.value for c in at.sidebar.caption if COUNTS.search(c.value))
    return tuple(int(n.replace(",", "")) for n in COUNTS.search(text).groups())


@pytest.fixture
def server_like(monkeypatch):
    """One Runtime and one script cache for every AppTest session (see the module docstring)."""
    kept = []
    scripts = ScriptCache()
    monkeypatch.setattr(app_test, "ScriptCache", lambda: scripts)

    def instance(cls):
        if cls._instance is not None and not kept:
            kept.append(cls._instance)
        if not kept:
            raise RuntimeError("Runtime hasn't been created!")
        return kept[0]

    monkeypatch.setattr(Runtime, "instance", classmethod(instance))
    monkeypatch.setattr(Runtime, "exists", classmethod(lambda cls: bool(kept) or
                                                       cls._instance is not None))
    # Each run also patches the process-wide config for its duration (global.appTest),
    # and a run ending puts back what it found while others still run: their widgets
    # then stop recording what AppTest reads. Patch it once for every session instead.
    monkeypatch.setattr(app_test, "patch_config_options", lambda options: nullcontext())
    with patch_config_options({"global.appTest": True}):
        yield


def test_sessions_and_a_command_line_import_at_once(work_db, tmp_path, server_like):
    page_file = transactions_csv(tmp_path / "page.csv", PAGE_ROWS, "P", 1)
    cli_file = transactions_csv(tmp_path / "cli.csv", CLI_ROWS, "Q", 2)
    with store.connect(work_db) as con:
        start = store.table_counts(con)
    customers, txns = DEMO_SIZE["customers"], start["transactions"]
    allowed = {(customers, txns + a + b) for a in (0, PAGE_ROWS) for b in (0, CLI_ROWS)}
    to_log = ["C000001", "C000002"]
    writers_done = threading.Event()
    seen, found = [], []   # (session, page, counts) and (session, page, problems)
    lock = threading.Lock()

    def note(session, page, at):
        with lock:
            if problems(at):
                found.append((session, page, problems(at)))
            seen.append((session, page, sidebar_counts(at)))

    def importer():
        at = open_page("data", "en")
        upload(at, "transactions", "page.csv", page_file.read_bytes())
        at.button(key="data_page.import").click().run()
        note("importer", "data", at)
        return [s.value for s in at.success]

    def browser(k):
        passes = 0
        while passes < 1 or not writers_done.is_set():
            for page in BROWSED[k:] + BROWSED[:k]:
                note(f"browser {k}", page, open_page(page, "en"))
            passes += 1
        return passes

    def logger():
        for customer in to_log:
            at = open_page(None, "en")
            at.session_state["profile.customer"] = customer
            at.switch_page("views/profile.py")
            at.run()
            fill_and_save(at, "en", result=f"called {customer} during an import")
            note("logger", "profile", at)
            assert any("saved" in s.value for s in at.success), [s.value for s in at.success]

    cli = subprocess.Popen([sys.executable, "-m", "engine", "import", "--db", str(work_db),
                            "--table", "transactions", str(cli_file)], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with ThreadPoolExecutor(max_workers=7) as pool:
        browsers = [pool.submit(browser, k) for k in range(5)]
        imported = pool.submit(importer)
        logged = pool.submit(logger)
        try:
            out, err = cli.communicate(timeout=120)
            imported.result(), logged.result()
        finally:
            writers_done.set()   # the browsers stop after their pass, whatever happened
        passes = [b.result() for b in browsers]

    assert cli.returncode == 0, err
    assert "60,000 inserted" in out
    assert any("Imported page.csv into transactions" in s for s in imported.result())
    assert not found, found
    assert min(passes) >= 1 and len(seen) >= 5 * len(BROWSED) + 3
    partial = [s for s in seen if s[2] not in allowed]
    assert not partial, partial
    with store.connect(work_db) as con:
        end = store.table_counts(con)
    assert end["transactions"] == txns + PAGE_ROWS + CLI_ROWS
    assert end["followups"] == start["followups"] + len(to_log)
