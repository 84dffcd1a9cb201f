"""Helpers that several test modules share (test modules do not import each other)."""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from engine import access, store
from tests.conftest import APP


# --- plotly figures as the pages send them ----------------------------------------------

def plotly_array(array) -> np.ndarray:
    """A plotly JSON array: nested lists, or a typed array {"dtype", "bdata", "shape"}
    (base64)."""
    if isinstance(array, dict):
        flat = np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
        shape = array.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return np.asarray(array)


def plotly_list(array) -> list:
    """A plotly JSON array as a Python list (a plain one as it is, mixed types kept)."""
    return plotly_array(array).tolist() if isinstance(array, dict) else list(array)


# --- logins (tests/pages/test_access.py's users) --------------------------------------------------

PASSWORDS = {"ada": "ada-secret", "max": "max-secret", "rita": "rita-secret"}
HASHES = {name: access.hash_password(pw) for name, pw in PASSWORDS.items()}


def owners(db) -> tuple[str, str]:
    """The two owners with the most customers: the rep's, and someone else's."""
    with store.connect(db) as con:
        rows = con.execute("SELECT owner FROM customers WHERE owner IS NOT NULL "
                           "GROUP BY owner ORDER BY count(*) DESC, owner LIMIT 2").fetchall()
    return rows[0][0], rows[1][0]


def users(db) -> dict:
    mine, _ = owners(db)
    return {"ada": {"password_hash": HASHES["ada"], "role": "admin"},
            "max": {"password_hash": HASHES["max"], "role": "manager"},
            "rita": {"password_hash": HASHES["rita"], "role": "rep", "owner": mine}}


def login(db, name: str, password: str, *, lang: str = "en", page: str | None = None,
          query: dict | None = None) -> AppTest:
    """Open the app with users configured, log in through the form, then go to views/<page>.py."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["users"] = users(db)
    at.session_state["lang"] = lang
    at.run()
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    at.button[0].click().run()
    for key, value in (query or {}).items():
        at.query_params[key] = value
    if page is not None:
        at.switch_page(f"views/{page}.py").run()
    return at


# --- the Data page ---------------------------------------------------------------------------

def upload(at, table, name, content, mime="text/csv"):
    at.segmented_control(key="data_page.table").set_value(table).run()
    at.file_uploader[0].upload(name, content, mime).run()
    assert not at.exception, at.exception
    return at


# --- the Plan page's follow-up form ----------------------------------------------------------

WORDS = {"en": {"title": "Maintenance plan", "tasks": "Tasks", "overdue": "Overdue",
                "today": "Due on the as-of date", "shown": "In this list", "save": "Save follow-up",
                "result": "Result", "need": "Customer need", "status": "Status",
                "change": "Change status", "state": "Overdue"},
         "zh": {"title": "维护计划", "tasks": "任务总数", "overdue": "已逾期", "today": "基准日到期",
                "shown": "本清单任务", "save": "保存跟进记录", "result": "跟进结果",
                "need": "客户需求", "status": "跟进状态", "change": "修改状态", "state": "已逾期"}}


def labelled(at, kind, label):
    return next(w for w in getattr(at, kind) if w.label == label)


def fill_and_save(at, lang, *, result, status=None):
    w = WORDS[lang]
    labelled(at, "text_input", w["result"]).input(result)
    labelled(at, "text_input", w["need"]).input("wants a discount")
    if status:
        labelled(at, "selectbox", w["status"]).set_value(status)
    labelled(at, "button", w["save"]).click().run()
    assert not at.exception, at.exception
    return at


# --- lifetime value --------------------------------------------------------------------------

def heavy_spend_copy(demo_db, path):
    """The demo with each customer's amounts scaled by 10^k, k spread evenly over 0..5."""
    shutil.copy(demo_db, path)
    with store.write(path) as con:
        con.execute("UPDATE transactions SET amount = amount * "
                    "power(10, (CAST(substr(customer_id, 2) AS INTEGER) * 37 % 1000) / 200.0)")
    return path


def hold_file(db, seconds):
    """Another process that keeps the file open, as a careless program would."""
    code = textwrap.dedent(f"""
        import duckdb, time
        con = duckdb.connect({str(db)!r})
        print("open", flush=True)
        time.sleep({seconds})
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "open"
    return proc


# --- files and rows of the import tests ---------------------------------------------------

def csv(tmp_path, name, text, encoding="utf-8") -> Path:
    """A text file written in `encoding` (the import tests' exports)."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def column_formats(grid) -> dict:
    """The number format of each column of an st.dataframe element that sets one."""
    config = json.loads(grid.proto.columns or "{}")
    return {c: v["type_config"]["format"] for c, v in config.items()
            if "format" in v.get("type_config", {})}


def rows(db, sql):
    """Every row of a query on the database file at `db`."""
    with store.connect(db) as con:
        return con.execute(sql).fetchall()


def assert_same_clv(got, expected) -> None:
    """Two ClvResults hold the same fits, figures, holdout and reason for a partial one."""
    assert got.to_json() == expected.to_json()
    assert (got.as_of, got.calibration_end, got.settings) == (
        expected.as_of, expected.calibration_end, expected.settings)
    for fit, want in ((got.bgnbd, expected.bgnbd), (got.gamma_gamma, expected.gamma_gamma)):
        assert (fit is None) == (want is None)
        if fit is not None:
            assert type(fit.params) is type(want.params) and fit.params == want.params
            assert np.array_equal(fit.covariance, want.covariance)
            assert fit.standard_errors() == want.standard_errors()
    pd.testing.assert_frame_equal(got.customers, expected.customers)
    if expected.holdout_frequency is None:
        assert got.holdout_frequency is None
    else:
        pd.testing.assert_frame_equal(got.holdout_frequency, expected.holdout_frequency)
    assert (got.spend_error is None) == (expected.spend_error is None)
    if expected.spend_error is not None:
        assert got.spend_error.message("zh") == expected.spend_error.message("zh")
