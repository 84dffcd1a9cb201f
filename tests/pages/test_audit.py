"""The audit log (issue 11, part 4): one row per action, in the action's own transaction."""
from __future__ import annotations

import getpass
import json
from datetime import date, datetime

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import cli.main as cli
from engine import audit, ingest, plan, presets, scoring, store
from tests.conftest import APP
from tests.helpers import PASSWORDS, login

CUSTOMERS = b"customer_id,name,owner\nA1,Alpha,Li\nA2,Beta,Li\n"
BAD = b"customer_id,name\n,no id\n"


def log(db) -> pd.DataFrame:
    with store.connect(db) as con:
        return audit.read_log(con)


def test_a_version_2_file_gets_the_audit_table(tmp_path):
    db = tmp_path / "v2.duckdb"
    con = duckdb.connect(str(db))
    for step in store.MIGRATIONS[:2]:
        con.execute(step)
    con.execute("INSERT INTO meta VALUES ('schema_version', '2'), ('data_version', '4')")
    con.close()
    with store.connect(db) as con:
        assert store.schema_version(con) == store.SCHEMA_VERSION   # migrated all the way
        assert [r[0] for r in con.execute("DESCRIBE audit_log").fetchall()] == [
            "at", "actor", "action", "detail"]
    assert store.data_version(db) == 4


def test_filters_by_actor_action_and_whole_days():
    con = duckdb.connect()
    store.migrate(con)
    rows = [(datetime(2026, 1, 1, 10), "ada", "import"), (datetime(2026, 1, 2, 23, 59), "max", "undo"),
            (datetime(2026, 1, 3, 0, 0), "ada", "reset")]
    for at, actor, action in rows:
        con.execute('INSERT INTO audit_log VALUES (?, ?, ?, ?)', [at, actor, action, "{}"])
    assert list(audit.read_log(con)["action"]) == ["reset", "undo", "import"]   # newest first
    assert list(audit.read_log(con, actors=["ada"])["action"]) == ["reset", "import"]
    assert list(audit.read_log(con, actions=["undo", "import"])["actor"]) == ["max", "ada"]
    day = date(2026, 1, 2)
    assert list(audit.read_log(con, start=day, end=day)["action"]) == ["undo"]
    assert list(audit.read_log(con, start=day)["action"]) == ["reset", "undo"]
    assert audit.log_filters(con) == {"actors": ["ada", "max"], "actions": ["import", "reset", "undo"],
                                      "first": date(2026, 1, 1), "last": date(2026, 1, 3)}


def test_an_unknown_action_is_refused():
    con = duckdb.connect()
    store.migrate(con)
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(con, "ada", "drop_everything", {})


def test_import_and_undo_are_recorded_and_a_rejected_import_is_not(tmp_path):
    db = tmp_path / "a.duckdb"
    report = ingest.import_file(db, CUSTOMERS, "customers", name="c.csv", actor="ada")
    with pytest.raises(ingest.ImportRejected):
        ingest.import_file(db, BAD, "customers", name="bad.csv", actor="ada")
    entries = log(db)
    assert list(entries["action"]) == ["import"]
    assert json.loads(entries["detail"][0]) == {"batch_id": report.batch_id, "file": "c.csv",
                                                "table": "customers", "inserted": 2,
                                                "updated": 0, "rejected": 0}
    ingest.undo_batch(db, report.batch_id, actor="max")
    with pytest.raises(ingest.UndoRefused):
        ingest.undo_batch(db, report.batch_id, actor="max")         # already undone: no row
    entries = log(db)
    assert list(zip(entries["actor"], entries["action"])) == [("max", "undo"), ("ada", "import")]
    assert json.loads(entries["detail"][0])["rows_removed"] == 2


def test_the_row_is_part_of_the_transaction(tmp_path):
    db = tmp_path / "t.duckdb"
    with pytest.raises(RuntimeError):
        with store.write(db) as con:
            audit.record(con, "ada", "reset", {})
            raise RuntimeError("the action fails after recording")
    assert log(db).empty


def test_settings_and_follow_ups_are_recorded_with_their_actor(tmp_path):
    db = tmp_path / "s.duckdb"
    ingest.import_file(db, CUSTOMERS, "customers", name="c.csv")    # today's callers: "local"
    with store.write(db) as con:
        presets.save_preset(con, "=1+2", scoring.DEFAULT_WEIGHTS, (80, 60), actor="ada")
        presets.delete_preset(con, "=1+2", actor="ada")
    plan.save_playbook(db, plan.playbook_records(plan.DEFAULT_PLAYBOOK), actor="ada")
    fid = plan.log_followup(db, customer_id="A1", action="care", channel="phone", need=None,
                            result=None, next_contact_date=None, status="in_progress",
                            owner="Li", actor="rita")
    plan.set_followup_status(db, fid, "done", actor="rita")
    ingest.reset(db, demo=False, actor="ada")
    entries = log(db).iloc[::-1]
    assert list(zip(entries["actor"], entries["action"])) == [
        ("local", "import"), ("ada", "preset_saved"), ("ada", "preset_deleted"),
        ("ada", "playbook_saved"), ("rita", "followup_logged"), ("rita", "followup_status"),
        ("ada", "reset")]
    details = [json.loads(d) for d in entries["detail"]]
    assert details[1]["name"] == "=1+2" and details[1]["thresholds"] == [80, 60]
    assert details[3] == {"name": "default", "rules": 4}
    assert details[4] == {"followup_id": fid, "customer_id": "A1", "action": "care",
                          "status": "in_progress"}
    assert details[6] == {"demo": False, "rows": {"customers": 0, "transactions": 0,
                                                  "interactions": 0, "followups": 0}}


def test_a_command_line_import_is_recorded_as_cli_and_the_os_user(tmp_path):
    db, file = tmp_path / "cli.duckdb", tmp_path / "c.csv"
    file.write_bytes(CUSTOMERS)
    assert cli.main(["import", "--db", str(db), "--table", "customers", str(file)]) == 0
    entries = log(db)
    assert list(entries["actor"]) == [f"cli:{getpass.getuser()}"]
    assert list(entries["action"]) == ["import"]


# --- the Audit log page ------------------------------------------------------------------

def test_admin_sees_filters_and_downloads_a_formula_safe_log(work_db, downloads):
    with store.write(work_db) as con:
        audit.record(con, "=HYPERLINK(\"x\")", "reset", {"demo": True})
    at = login(work_db, "ada", PASSWORDS["ada"], page="audit")
    assert not at.exception
    assert at.title[0].value == "Audit log"
    shown = at.dataframe[0].value
    assert list(shown["action"]) == ["Login", "Reset data"]   # ada's own login, newest first
    assert "2 of 2 entries" in " ".join(m.value for m in at.markdown)
    csv = downloads["audit_log.csv"].decode("utf-8-sig")
    assert "'=HYPERLINK" in csv and csv.splitlines()[0] == "When,Who,Action,Details"


def test_a_follow_up_logged_in_the_app_shows_on_the_audit_page(work_db):
    with store.connect(work_db) as con:
        customer = store.first_row(con, "SELECT min(customer_id) FROM customers")[0]
    plan.log_followup(work_db, customer_id=customer, action="visit", channel="visit", need=None,
                      result=None, next_contact_date=None, status="done", owner=None, actor="max")
    at = login(work_db, "ada", PASSWORDS["ada"], lang="zh", page="audit")
    assert at.title[0].value == "操作日志"
    assert list(at.dataframe[0].value["action"]) == ["登录", "记录跟进"]   # ada's login, newest first
    at.multiselect(key="audit.actors").select("max").run()
    assert list(at.dataframe[0].value["actor"]) == ["max"]
    at.date_input(key=f"audit.days.{date.today()}").set_value((date(2020, 1, 1), date(2020, 1, 2))).run()
    assert "没有符合筛选条件的记录" in at.info[0].value


def test_without_login_the_local_reader_is_recorded_as_local(work_db):
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page("views/scoring.py").run()
    at.text_input(key="scoring.preset_name").input("mine").run()
    at.button(key="scoring.save").click().run()
    assert not at.exception
    entries = log(work_db)
    assert list(zip(entries["actor"], entries["action"])) == [("local", "preset_saved")]


def test_import_through_the_data_page_records_the_logged_in_admin(work_db):
    at = login(work_db, "ada", PASSWORDS["ada"], page="data")
    at.get("file_uploader")[0].upload("new.csv", b"customer_id,name\nZ9,Zed\n", "text/csv").run()
    at.button(key="data_page.import").click().run()
    assert not at.exception
    entries = log(work_db)
    assert list(zip(entries["actor"], entries["action"])) == [("ada", "import"), ("ada", "login")]
    assert json.loads(entries["detail"][0])["file"] == "new.csv"
