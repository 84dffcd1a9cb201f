"""Preparing the pages' results in the background (ui.preparation): started by a page run
that sees data not prepared, its progress in the sidebar, one job per data version."""
from __future__ import annotations

import threading

import pytest

from engine import prepared, store
from tests.conftest import open_page
from ui import preparation


@pytest.fixture
def enabled(monkeypatch):
    monkeypatch.setenv("CRM_PREPARE", "1")


@pytest.fixture
def held(monkeypatch):
    """`prepare` stopped at step 3 of 14 until `release` is set; calls counted."""
    release, calls = threading.Event(), []

    def prepare(db, progress=None):
        calls.append(db)
        progress(3, 14)
        release.wait(30)
        return store.data_version(db)
    monkeypatch.setattr(prepared, "prepare", prepare)
    return release, calls


def test_a_page_run_starts_the_job_and_the_sidebar_shows_its_steps(work_db, enabled, held):
    release, calls = held
    at = open_page("overview")
    assert not at.exception
    progress = at.sidebar.get("progress")
    assert len(progress) == 1 and "step 3 of 14" in progress[0].proto.text
    open_page("risk")                       # a second session shares the job
    assert calls == [str(work_db)]
    release.set()
    preparation.start(str(work_db), store.data_version(work_db)).finished.wait(30)
    at.run()
    assert not at.sidebar.get("progress")


def test_a_prepared_file_starts_no_job(work_db, enabled, monkeypatch):
    prepared.prepare(work_db)
    monkeypatch.setattr(prepared, "prepare", lambda *a, **k: pytest.fail("prepared again"))
    at = open_page("overview")
    assert not at.exception and not at.sidebar.get("progress")


def test_a_failed_job_is_said_in_the_sidebar_in_the_readers_language(work_db, enabled,
                                                                     monkeypatch):
    def broken(db, progress=None):
        raise OSError("disk full")
    monkeypatch.setattr(prepared, "prepare", broken)
    at = open_page("overview", lang="zh")
    preparation.start(str(work_db), store.data_version(work_db)).finished.wait(30)
    at.run()
    assert any("后台准备各页结果时中断（OSError: disk full）" in c.value for c in at.sidebar.caption)


def test_off_by_setting(work_db, monkeypatch):
    monkeypatch.setenv("CRM_PREPARE", "0")
    assert preparation.start(str(work_db), store.data_version(work_db)) is None


def test_the_job_prepares_the_file(work_db, enabled):
    job = preparation.start(str(work_db), store.data_version(work_db))
    assert job.finished.wait(120) and job.error is None
    assert prepared.is_prepared(work_db, store.data_version(work_db))
    assert (job.done, job.total) == (21, 21)   # the steps of engine.prepared.prepare
