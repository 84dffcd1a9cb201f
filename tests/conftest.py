"""Shared fixtures: a small demo database, clean Streamlit caches, page runner."""
from __future__ import annotations

import concurrent.futures
import shutil
from pathlib import Path
from typing import Iterator

import os

import duckdb
import pytest
from hypothesis import HealthCheck, settings
import streamlit as st
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from engine import audit, demo, derived, store

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
DEMO_SIZE = dict(customers=400, months=24, seed=11)

# Hypothesis profiles for the differential tests (tests/engine/test_differential.py):
# "ci" (the default) keeps the suite's time in bounds; HYPOTHESIS_PROFILE=deep
# runs many more bases locally. Each example loads a database, so no deadline.
_SLOW_DATA = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=50, deadline=None, suppress_health_check=_SLOW_DATA,
                          print_blob=True)
settings.register_profile("deep", max_examples=2000, deadline=None,
                          suppress_health_check=_SLOW_DATA, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# No background preparation of the pages' results (ui.preparation): every test's first
# page run would start one. Its own tests turn it on.
os.environ["CRM_PREPARE"] = "0"


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Iterator[Path]:
    """One small demo database for the whole run; tests that write copy it."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    demo.generate_demo(path, **DEMO_SIZE)
    yield path
    with store.connect(path) as con:   # a result kept here would be read by the next test
        kept = con.execute(f"SELECT name FROM {store.DERIVED_TABLE}").fetchall()
    assert not kept, f"a test kept results in the shared demo database: {kept}"


@pytest.fixture(autouse=True)
def clean_caches():
    """Cached results survive between AppTest runs in one process: start each test clean."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def version_1_file(path: Path, *, data_version: int, customers) -> Path:
    """A database file as the first release wrote it (schema 1), with these
    (customer_id, name) rows: for the tests of migrations."""
    con = duckdb.connect(str(path))
    con.execute(store.MIGRATIONS[0])
    con.execute("INSERT INTO meta VALUES ('schema_version', '1'), ('data_version', ?)",
                [str(data_version)])
    con.executemany("INSERT INTO customers (customer_id, name) VALUES (?, ?)", customers)
    con.close()
    return path


@pytest.fixture
def app_db(demo_db, monkeypatch) -> Path:
    """Point the app at the shared demo database (kept as built: `shared_demo_unwritten`)."""
    monkeypatch.setenv("CRM_DB", str(demo_db))
    return demo_db


@pytest.fixture(autouse=True)
def shared_demo_unwritten(request, monkeypatch):
    """In a test that uses the shared demo database, logins and downloads (audited in the
    file) and the results pages and engine calls keep there (engine.derived) are not
    written to it: the shared demo stays as built, and no test reads another's results."""
    if "demo_db" not in request.fixturenames:
        return
    demo = request.getfixturevalue("demo_db")
    for module, name in ((audit, "log_event"), (derived, "save")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda db, *args, real=real, **kwargs: (
            False if Path(db) == demo else real(db, *args, **kwargs)))


@pytest.fixture
def work_db(demo_db, tmp_path, monkeypatch) -> Path:
    """A copy of the demo database that this test may change, and the app pointed at it."""
    db = tmp_path / "work.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setenv("CRM_DB", str(db))
    return db


@pytest.fixture
def downloads(monkeypatch):
    """The bytes each download button would serve, by file name: a button given bytes
    stores them as the page runs; one given a callable (made on click) is called here, in
    a thread of its own as a click is served: outside the page's run, where no session,
    reader or page context is known."""
    files = {}
    real = MemoryMediaFileStorage.load_and_get_id
    real_deferred = MediaFileManager.add_deferred

    def keep(self, data, mimetype, kind, filename=None):
        files[filename] = data
        return real(self, data, mimetype, kind, filename)

    def call(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as click:
            files[file_name] = click.submit(data_callable).result()
        return real_deferred(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    monkeypatch.setattr(MediaFileManager, "add_deferred", call)
    return files


def open_page(page: str | None, lang: str = "en") -> AppTest:
    """Run app.py as the browser would, in `lang`, then switch to views/<page>.py."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    if page is not None:
        at.switch_page(f"views/{page}.py")
        at.run()
    return at


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so browser fixtures can screenshot failures."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
