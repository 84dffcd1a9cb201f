"""Ordinary bad input gets a message in the reader's language, never a traceback (issue 19,
parts 5 and 7): long fields, old-Mac line ends, a path that is no database of ours, a
database path outside the data folder, a locked file, a damaged backup on the Data page.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from engine import ingest, store
from cli.main import main
from tests.conftest import open_page
from tests.helpers import hold_file

PASSWD = Path("/etc/passwd")


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def texts(at) -> str:
    return " ".join(e.value for kind in ("error", "info", "warning") for e in getattr(at, kind))


def test_a_field_over_131072_characters_in_the_first_rows_is_read():
    data = b"customer_id,name\nC1," + b"x" * 140_000 + b"\nC2,y\n"
    report = ingest.preview_import(None, data, "customers", name="long.csv")
    assert report.rows_read == 2 and report.rejected == 0


def test_old_mac_line_ends_are_lines():
    data = b"customer_id,txn_date,amount\rC1,2024-01-01,5\rC2,2024-13-02,6\r"
    report = ingest.preview_import(None, data, "transactions", name="mac.csv",
                                   create_customers=True)
    assert (report.rows_read, report.rejected) == (2, 1)
    assert report.problems[0].line == 3 and report.problems[0].value == "2024-13-02"


@pytest.mark.parametrize("lang, words", [("en", "is not a database of this app"),
                                         ("zh", "不是本应用的数据库")])
@pytest.mark.parametrize("page", ["overview", "customers", "data"])
def test_a_file_that_is_no_database_shows_a_message_on_every_page(monkeypatch, page, lang,
                                                                   words):
    monkeypatch.setenv("CRM_DB", "/etc/passwd")
    before = sha(PASSWD)
    at = open_page(page, lang)
    assert not at.exception, at.exception
    assert words in " ".join(e.value for e in at.sidebar.error)
    assert words in " ".join(e.value for e in at.main.error)   # the page says it too
    assert sha(PASSWD) == before


def test_another_applications_database_is_refused_and_left_as_it_was(tmp_path, monkeypatch):
    other = tmp_path / "erp.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE invoices (id INTEGER)")
    con.close()
    before = sha(other)
    monkeypatch.setenv("CRM_DB", str(other))
    at = open_page("data", "en")
    assert not at.exception, at.exception
    assert "another application's database (tables: invoices)" in texts(at.sidebar)
    assert sha(other) == before
    with duckdb.connect(str(other)) as con:
        assert con.execute("SELECT table_name FROM information_schema.tables").fetchall() == [
            ("invoices",)]
    assert main(["score", "--db", str(other), "--out", str(tmp_path / "s.csv")]) == 2  # usage


def test_a_typed_path_outside_the_data_folder_is_refused(work_db, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "data"))
    at = open_page("data", "zh")
    assert not at.error   # the operator's CRM_DB is allowed wherever it is
    target = tmp_path / "elsewhere" / "new.duckdb"
    at.text_input(key="db_path").input(str(target)).run()
    assert not at.exception, at.exception
    assert "不在数据文件夹" in texts(at.sidebar) and str(tmp_path / "data") in texts(at.sidebar)
    assert not [b for b in at.button if "demo" in (b.label or "").lower() or "演示" in b.label]
    assert not target.parent.exists()   # nothing was created there
    inside = tmp_path / "data" / "mine.duckdb"
    inside.parent.mkdir()
    at.text_input(key="db_path").input(str(inside)).run()
    assert "不在数据文件夹" not in texts(at.sidebar)


def test_a_locked_file_is_not_called_empty(work_db, monkeypatch):
    monkeypatch.setattr(store, "LOCK_TIMEOUT_S", 0.3)
    holder = hold_file(work_db, 60)
    try:
        at = open_page("overview", "en")
    finally:
        holder.kill()
        holder.wait()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "Another program is holding the database file" in shown, shown
    assert "The database is empty" not in shown


@pytest.mark.parametrize("lang, words", [("en", "was not made by this app's Backup"),
                                         ("zh", "不是本应用“备份”生成的文件")])
def test_a_backup_with_a_bad_schema_version_is_refused_on_the_data_page(work_db, demo_db,
                                                                        tmp_path, lang, words):
    bad = tmp_path / "v.duckdb"
    shutil.copy(demo_db, bad)
    with duckdb.connect(str(bad)) as con:
        con.execute("UPDATE meta SET value = 'abc' WHERE key = 'schema_version'")
    at = open_page("data", lang)
    uploader = next(u for u in at.file_uploader if u.key.startswith("data_page.backup.upload"))
    uploader.upload("v.duckdb", bad.read_bytes(), "application/octet-stream").run()
    assert not at.exception, at.exception
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    assert main(["restore", "--db", str(work_db), str(bad)]) == 1


def test_a_bad_upload_leaves_the_other_tabs_drawn(work_db):
    at = open_page("data", "en")
    at.file_uploader[0].upload("long.csv", b"customer_id,name\nC1," + b"x" * 140_000 + b"\n",
                               "text/csv").run()
    assert not at.exception, at.exception
    history = at.tabs[1]
    assert history.children, "the History tab is empty"
    assert [b for b in at.get("download_button") if b.key == "data_page.backup.duckdb"]



@pytest.mark.parametrize("page", ["customers", "plan", "risk", "data"])
def test_download_links_are_made_on_click_not_with_the_page(app_db, page):
    """A file given as bytes gets a /media link on every run, alive as long as the session;
    every download button here is given a callable, so no link exists before a click."""
    at = open_page(page, "en")
    buttons = at.get("download_button")
    assert buttons, page
    assert [b.proto.url for b in buttons if not b.proto.deferred_file_id] == []


def test_the_backup_downloads_in_a_real_browser(work_db):
    """Streamlit calls a download's callable outside the session: the backup's must not
    need to know the reader then (it refused every click before)."""
    from tests.browser.chromium import require_chromium, running_chromium, serving, wait_idle
    require_chromium()
    with serving(work_db) as url, running_chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.goto(f"{url}/data")
        wait_idle(page)
        page.get_by_role("tab", name="Backup and restore").click()
        with page.expect_download(timeout=60_000) as download:
            page.get_by_role("button", name="DuckDB file").click()
        assert download.value.suggested_filename.endswith(".duckdb")
        assert "/media/" in download.value.url
    with store.connect(work_db) as con:
        assert con.execute("SELECT actor FROM audit_log WHERE action = 'backup_download'"
                           ).fetchall() == [("local",)]


# --- data sanity (part 8) ------------------------------------------------------------------

def txn_file(*rows):
    return ("customer_id,txn_date,amount,due_date\n" + "".join(f"{r}\n" for r in rows)).encode()


def test_placeholder_dates_are_refused_with_the_setting_named(monkeypatch):
    from datetime import date
    report = ingest.preview_import(None, txn_file("C1,1900-01-01,5,", "C2,2024-01-01,5,2080-01-01",
                                                  "C3,2024-01-02,5,2030-01-01"),
                                   "transactions", name="t.csv", create_customers=True,
                                   today=date(2026, 6, 30))
    found = {(p.line, p.code) for p in report.problems}
    assert found == {(2, "too_early"), (3, "too_late")}
    early = next(p for p in report.problems if p.code == "too_early")
    assert "before the earliest date this data may hold (1990-01-01)" in early.message("en")
    assert "CRM_EARLIEST_DATE" in early.message("en") and "最早日期" in early.message("zh")
    late = next(p for p in report.problems if p.code == "too_late")
    assert "(2036-06-30)" in late.message("en")
    monkeypatch.setenv("CRM_EARLIEST_DATE", "1900-01-01")
    monkeypatch.setenv("CRM_LATEST_YEARS", "60")
    again = ingest.preview_import(None, txn_file("C1,1900-01-01,5,", "C2,2024-01-01,5,2080-01-01"),
                                  "transactions", name="t.csv", create_customers=True,
                                  today=date(2026, 6, 30))
    assert again.problems == []


def test_one_customer_with_two_owners_in_one_import_is_reported(tmp_path):
    from engine.ingest import ImportItem
    a = "customer_id,name,owner\nC1,Alpha,张伟\nC2,Beta,王芳\n".encode()
    b = "customer_id,name,owner\nC1,Alpha,李娜\nC3,Gamma,王芳\nC2,Beta,王芳\n".encode()
    db = tmp_path / "two.duckdb"
    with pytest.raises(ingest.ImportRejected) as refused:
        ingest.import_files(db, [ImportItem(a, "customers", None, "a.csv"),
                                 ImportItem(b, "customers", None, "b.csv")])
    assert [(p.file, p.value) for p in refused.value.problems] == [("b.csv", "C1")]
    assert 'customer "C1" is also in a.csv, with other values (owner)' in refused.value.message("en")
    assert "客户“C1”也在 a.csv 中" in refused.value.message("zh")
    assert not db.exists()   # nothing written
    ingest.import_files(db, [ImportItem(a, "customers", None, "a.csv")])
    report = ingest.import_files(db, [ImportItem(b, "customers", None, "b.csv")])[0]
    assert report.updated == 1   # one file after another: the later one updates, as asked


@pytest.mark.parametrize("name, shown", [
    ("http://evil.example/x", "http://evil.example/x"),
    (":red[danger] **bold**", ":red[danger] **bold**"),
    ("Li\nNa", "Li Na"),
])
def test_profile_header_shows_a_name_as_plain_text_with_its_id(work_db, monkeypatch, name, shown):
    import re
    with store.write(work_db) as con:
        con.execute("UPDATE customers SET name = ? WHERE customer_id = 'C000001'", [name])
    at = open_page(None, "en")
    at.session_state["profile.customer"] = "C000001"
    at.switch_page("views/profile.py").run()
    assert not at.exception, at.exception
    header = at.header[0].value.replace("\u2060", "")   # the joiners that keep it no link
    assert re.sub(r"\\(.)", r"\1", header) == f"{shown} · C000001"
    assert not re.search(r"(?<!\\)[:\[\]*/.]", header), header   # nothing left to interpret
