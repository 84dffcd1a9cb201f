"""Access control (issue 11, part 3): login, roles, and a rep kept to their own customers.

Users are given to AppTest through `at.secrets["users"]`, as the secrets file
would. OIDC is tested through AppTest's seeded `st.user` (no real provider
can run here): the e-mail to user mapping and what each outcome shows.
"""
from __future__ import annotations

import base64
import hashlib
import io
import sys
import tomllib

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import cli.main as cli
from engine import access, audit, plan, store
from tests.conftest import APP, ROOT
from tests.helpers import HASHES, PASSWORDS, login, owners

def sidebar_text(at) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


def page_title(at) -> str:
    return at.title[0].value


# --- passwords, users, rules (engine) ---------------------------------------------------

def test_password_hash_round_trip():
    stored = access.hash_password("pässwort 1")
    assert stored.startswith("scrypt$16384$8$1$")
    assert access.verify_password("pässwort 1", stored)
    assert not access.verify_password("pässwort 2", stored)
    assert access.hash_password("pässwort 1") != stored          # a salt of its own each time


def test_hash_is_plain_scrypt_with_the_stored_salt():
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"hello", salt=salt, n=2 ** 14, r=8, p=1, dklen=32)
    by_hand = ("scrypt$16384$8$1$" + base64.b64encode(salt).decode()
               + "$" + base64.b64encode(digest).decode())
    assert access.hash_password("hello", salt=salt) == by_hand
    assert access.verify_password("hello", by_hand)


def test_authenticate_never_says_which_part_was_wrong():
    table = access.load_users({"ada": {"password_hash": HASHES["ada"], "role": "admin"},
                               "sso": {"email": "Sso@Example.com", "role": "manager"}})
    assert access.authenticate(table, "ada", "ada-secret").role == "admin"
    assert access.authenticate(table, " ada ", "ada-secret").name == "ada"
    assert access.authenticate(table, "ada", "wrong") is None
    assert access.authenticate(table, "nobody", "ada-secret") is None
    assert access.authenticate(table, "sso", "") is None          # an OIDC-only user has no password


def test_oidc_email_maps_to_a_configured_user():
    table = access.load_users({"sso": {"email": "Sso@Example.com", "role": "manager"}})
    assert access.user_for_email(table, "sso@example.COM").name == "sso"
    assert access.user_for_email(table, "other@example.com") is None
    assert access.user_for_email(table, None) is None


@pytest.mark.parametrize("entry, words", [
    ({"password_hash": HASHES["ada"], "role": "boss"}, "role must be one of"),
    ({"password_hash": HASHES["ada"], "role": "rep"}, "needs owner"),
    ({"password_hash": "plain-text", "role": "admin"}, "not one made by"),
    ({"role": "admin"}, "needs a password_hash or an email"),
])
def test_unusable_users_are_refused_with_a_reason(entry, words):
    with pytest.raises(access.AccessConfigError, match=words):
        access.load_users({"x": entry})


def test_pages_each_role_may_open():
    pages = [p.stem for p in sorted((ROOT / "views").glob("*.py"))]
    offered = {role: sorted(p for p in pages if access.may_open(role, p)) for role in access.ROLES}
    assert offered["admin"] == sorted(pages)
    assert offered["manager"] == sorted(set(pages) - {"audit"})
    assert offered["rep"] == ["customers", "plan", "profile"]


def test_only_admins_may_write_the_shared_data():
    for action in ("import", "undo", "reset", "restore", "edit_playbook", "edit_presets",
                   "see_audit", "choose_database"):
        assert [r for r in access.ROLES if access.allowed(r, action)] == ["admin"], action
    assert all(access.allowed(r, "log_followup") for r in access.ROLES)


def test_hash_password_command_prints_a_usable_toml_table(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret word\n"))
    assert cli.main(["hash-password", "--user", "li.na", "--role", "rep", "--owner", "李娜"]) == 0
    config = tomllib.loads(capsys.readouterr().out)
    table = access.load_users(config["users"])
    assert table["li.na"].owner == "李娜" and table["li.na"].role == "rep"
    assert access.authenticate(table, "li.na", "s3cret word") is not None


# --- login (AppTest) ----------------------------------------------------------------------

@pytest.mark.parametrize("lang, note", [("en", "No login is configured"), ("zh", "未配置登录")])
def test_without_users_no_login_and_a_note_says_so(app_db, lang, note):
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception
    first = at.sidebar.children[0]   # at the top, above the language switch and the source
    assert first.type == "warning" and note in first.value and "0.0.0.0" in first.value
    assert page_title(at) in ("Overview", "总览")                  # straight in, as before


def test_without_users_the_server_listens_on_this_computer_only(monkeypatch):
    from streamlit import config

    from ui import auth
    monkeypatch.setattr(auth, "logins_configured", lambda: False)
    monkeypatch.setattr(config, "get_option", lambda key: None)
    assert auth.default_address(None) == "127.0.0.1"
    assert auth.default_address("0.0.0.0") is None                 # the operator said so
    monkeypatch.setattr(auth, "logins_configured", lambda: True)
    assert auth.default_address(None) is None                      # Streamlit's default


@pytest.mark.parametrize("name, password", [("ada", "wrong"), ("nobody", "ada-secret")])
def test_a_failed_login_says_so_without_saying_which_part(app_db, name, password):
    at = login(app_db, name, password)
    assert not at.exception
    assert [e.value for e in at.error] == ["Unknown user name or wrong password."]
    assert page_title(at) == "Log in"
    assert not at.sidebar.caption or "Signed in" not in sidebar_text(at)


def test_login_shows_who_and_logout_ends_it(app_db):
    at = login(app_db, "max", "max-secret", lang="zh")
    assert not at.exception
    assert "已登录：**max**（经理）" in sidebar_text(at)
    assert page_title(at) == "总览"
    at.button(key="auth.logout").click().run()
    assert page_title(at) == "登录"
    assert at.session_state["lang"] == "zh"


def test_oidc_login_maps_the_email_to_a_role(app_db):
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["users"] = {"sso": {"email": "boss@example.com", "role": "manager"}}
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback",
                          "cookie_secret": "x", "client_id": "x", "client_secret": "x",
                          "server_metadata_url": "https://example.com/.well-known/openid"}
    at.session_state["lang"] = "en"
    at.user = {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button] == ["Log in with OIDC"]     # no password users: no form
    at.user = {"is_logged_in": True, "email": "Boss@example.com"}
    at.run()
    assert "Signed in as **sso** (Manager)" in sidebar_text(at)
    at.user = {"is_logged_in": True, "email": "stranger@example.com"}
    at.session_state["auth.user"] = None
    at.run()
    assert "stranger@example.com has no access" in at.warning[0].value


# --- manager: everything but the destructive admin actions ----------------------------------

def test_manager_sees_the_data_page_without_import_undo_or_reset(work_db):
    at = login(work_db, "max", "max-secret", page="data")
    assert not at.exception
    # the import, reset, and backup-and-restore tabs (a backup holds every owner's customers)
    assert sum("Only an admin may import" in i.value for i in at.info) == 3
    labels = [b.label for b in at.button]
    assert not [b for b in labels if b.startswith(("Import", "Undo", "Reset", "Yes"))], labels
    assert not [b for b in at.get("download_button") if b.key.startswith("data_page.backup")]
    assert not [u for u in at.file_uploader if u.key.startswith("data_page.backup")]


def test_manager_sees_the_playbook_and_presets_locked(work_db):
    at = login(work_db, "max", "max-secret", page="plan")
    assert at.button(key="plan_page.playbook_save").disabled
    assert at.button(key="plan_page.playbook_reset").disabled
    at.switch_page("views/scoring.py").run()
    assert at.text_input(key="scoring.preset_name").disabled   # no name to type for a manager
    assert at.button(key="scoring.save").disabled and at.button(key="scoring.delete").disabled


def refusals_script():
    """Run inside AppTest as a logged-in reader: try every admin write through ui.data."""
    import os

    import streamlit as st

    from engine import access
    from ui import auth
    from ui.data import audit as audit_data
    from ui.data import imports as imports_data
    from ui.data import plan as plan_data
    from ui.data import scoring as scoring_data

    st.session_state[auth.USER] = access.User("max", st.session_state["role"], owner="x")
    db = os.environ["CRM_DB"]
    tries = {
        "import": lambda: imports_data.import_files(db, [(b"customer_id\nZ1\n", "customers")]),
        "undo": lambda: imports_data.undo_import(db, 1),
        "reset": lambda: imports_data.reset_data(db, demo=False),
        "playbook": lambda: plan_data.save_playbook(db, []),
        "preset": lambda: scoring_data.save_preset(db, "p", (40, 30, 20, 10), (80, 60)),
        "preset_delete": lambda: scoring_data.delete_preset(db, "p"),
        "audit": lambda: audit_data.audit_view(db, 0, (), (), None, None, "en"),
    }
    for name, attempt in tries.items():
        try:
            attempt()
            st.write(f"done:{name}")
        except auth.Forbidden:
            st.write(f"refused:{name}")


@pytest.mark.parametrize("role", ["manager", "rep"])
def test_the_data_layer_refuses_admin_writes_whatever_the_page_shows(work_db, role):
    with store.connect(work_db) as con:
        before = con.execute("SELECT count(*) FROM customers").fetchall()
    version = store.data_version(work_db)
    at = AppTest.from_function(refusals_script, default_timeout=60)
    at.session_state["role"] = role
    at.run()
    assert not at.exception
    assert [m.value for m in at.markdown] == [f"refused:{n}" for n in (
        "import", "undo", "reset", "playbook", "preset", "preset_delete", "audit")]
    assert store.data_version(work_db) == version                   # nothing written at all
    with store.connect(work_db) as con:
        assert con.execute("SELECT count(*) FROM customers").fetchall() == before
        assert con.execute("SELECT count(*) FROM audit_log").fetchall() == [(0,)]


PAGES = sorted(p.stem for p in (ROOT / "views").glob("*.py"))


@pytest.mark.parametrize("name, expected", [
    ("ada", PAGES),
    ("max", [p for p in PAGES if p != "audit"]),
    ("rita", ["customers", "plan", "profile"]),
])
def test_navigation_offers_each_role_its_pages(app_db, name, expected):
    at = login(app_db, name, PASSWORDS[name])
    offered = []
    for page in PAGES:
        try:
            at.switch_page(f"views/{page}.py")     # refused for a page the navigation lacks
        except ValueError as exc:
            assert "Could not find a navigation page" in str(exc)
        else:
            offered.append(page)
    assert offered == expected


# --- rep: only their own customers, on every page, download and link ------------------------

def test_rep_is_offered_only_their_pages(work_db):
    at = login(work_db, "rita", "rita-secret")
    assert page_title(at) == "Customers"                          # their first page is the default
    mine, _ = owners(work_db)
    assert f"Signed in as **rita** (Rep) · customers of {mine}" in sidebar_text(at)
    assert at.text_input(key="db_path").disabled                  # no other database either


def test_rep_customer_list_and_downloads_hold_only_theirs(work_db, downloads):
    mine, _ = owners(work_db)
    with store.connect(work_db) as con:
        as_of = store.date_range(con)[1]
        theirs = {r[0] for r in con.execute(
            "SELECT customer_id FROM customers WHERE owner = ? AND first_contact_date <= ?",
            [mine, as_of]).fetchall()}
    at = login(work_db, "rita", "rita-secret", page="customers")
    assert not at.exception
    shown = at.dataframe[0].value
    assert set(shown["owner"]) == {mine}
    assert any(f"of {len(shown):,} customers match" in m.value for m in at.markdown)
    assert set(shown["customer_id"]) <= theirs
    assert at.multiselect(key="customers.filter.owners").options == [mine]
    csv = next(v for k, v in downloads.items() if k.endswith(".csv"))
    rows = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig", dtype=str)
    assert set(rows["Owner"]) == {mine} and len(rows) == len(shown)
    sheet = pd.read_excel(io.BytesIO(next(v for k, v in downloads.items() if k.endswith(".xlsx"))),
                          dtype=str)
    assert set(sheet["Owner"]) == {mine}


def other_customer(db) -> str:
    _, other = owners(db)
    with store.connect(db) as con:
        return store.first_row(con, "SELECT min(customer_id) FROM customers WHERE owner = ?",
                               [other])[0]


def test_rep_cannot_open_another_owners_profile_by_link(work_db):
    stranger = other_customer(work_db)
    at = login(work_db, "rita", "rita-secret", page="profile", query={"customer": stranger})
    assert not at.exception
    assert at.warning[0].value == f"No customer {stranger} among the customers you look after."
    assert not at.header                                            # no name, no record
    assert not at.get("form")                                       # no follow-up form either


def test_rep_profile_picker_offers_only_theirs(work_db):
    mine, _ = owners(work_db)
    at = login(work_db, "rita", "rita-secret", page="profile")
    picker = at.selectbox[0]
    with store.connect(work_db) as con:
        theirs = {r[0] for r in con.execute("SELECT customer_id FROM customers WHERE owner = ?",
                                            [mine]).fetchall()}
    assert picker.options and {o.split(" · ")[0] for o in picker.options} <= theirs


def test_rep_plan_and_call_list_hold_only_theirs(work_db, downloads):
    mine, _ = owners(work_db)
    at = login(work_db, "rita", "rita-secret", page="plan")
    assert not at.exception
    tasks = next(d for d in at.dataframe if d.key.startswith("plan_page.tasks")).value
    assert len(tasks) and set(tasks["owner"]) == {mine}
    assert at.multiselect(key="plan_page.owners.en").options == [mine]
    assert at.button(key="plan_page.playbook_save").disabled
    csv = next(v for k, v in downloads.items() if k.startswith("call_list") and k.endswith(".csv"))
    rows = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig", dtype=str)
    assert set(rows["Owner"]) == {mine} and len(rows) == len(tasks)


def test_rep_cannot_log_or_change_a_follow_up_of_another_owner(work_db):
    mine, other = owners(work_db)
    stranger = other_customer(work_db)
    with pytest.raises(plan.FollowupError):
        plan.log_followup(work_db, customer_id=stranger, action="care", channel="phone",
                          need=None, result=None, next_contact_date=None, status="done",
                          owner=None, only_owner=mine)
    theirs = plan.log_followup(work_db, customer_id=stranger, action="care", channel="phone",
                               need=None, result=None, next_contact_date=None, status="done",
                               owner=None, actor="max")
    with pytest.raises(plan.FollowupError):
        plan.set_followup_status(work_db, theirs, "paused", only_owner=mine)
    plan.set_followup_status(work_db, theirs, "paused", only_owner=other)
    with store.connect(work_db) as con:
        log = audit.read_log(con)
    assert list(log["action"]) == ["followup_status", "followup_logged"]   # refusals leave none


def test_rep_logs_a_follow_up_for_their_customer_as_themselves(work_db):
    mine, _ = owners(work_db)
    at = login(work_db, "rita", "rita-secret", page="plan")
    picker = at.selectbox(key="plan_page.pick.en")
    customer = picker.options[0].split(" · ")[0]
    picker.set_value(customer).run()
    submit = next(b for b in at.button if b.label == "Save follow-up")
    submit.click().run()
    assert not at.exception
    with store.connect(work_db) as con:
        log = audit.read_log(con)
        owner = store.first_row(con, "SELECT owner FROM customers WHERE customer_id = ?",
                                [customer])[0]
    assert owner == mine
    assert list(log["actor"]) == ["rita", "rita"]
    assert list(log["action"]) == ["followup_logged", "login"]


# --- login back-off and its audit (issue 19, part 6) -----------------------------------

def test_the_back_off_doubles_per_key_and_caps_at_a_lockout():
    throttle = access.Throttle(free=3, base_s=1.0, most_s=300.0, forget_s=900.0)
    keys = ("user:ada", "address:10.0.0.9")
    t = 1000.0
    for _ in range(3):                                   # three free tries
        assert throttle.wait(keys, t) == 0
        throttle.failed(keys, t)
    assert throttle.wait(keys, t) == 1.0                 # then 1 s after the 3rd failure
    throttle.failed(keys, t + 1)
    assert throttle.wait(keys, t + 1) == 2.0             # 2 s after the 4th, 4 s after the 5th
    for k in range(46):                                  # 50 failures in all
        throttle.failed(keys, t + 2 + k)
    assert throttle.wait(keys, t + 47) == 300.0          # locked for the cap
    assert throttle.wait(keys, t + 47 + 299) == 1.0
    assert throttle.wait(keys, t + 47 + 300) == 0.0      # one more try after the lockout
    # another address on the same name waits too; another name from the address too
    assert throttle.wait(("user:ada", "address:10.0.0.1"), t + 50) > 0
    assert throttle.wait(("user:max", "address:10.0.0.9"), t + 50) > 0
    assert throttle.wait(("user:max", "address:10.0.0.1"), t + 50) == 0
    throttle.succeeded("user:ada")
    assert throttle.wait(("user:ada", "address:10.0.0.1"), t + 50) == 0
    assert throttle.wait(keys, t + 47 + 900 + 1) == 0    # failures are forgotten in time


def test_after_failed_logins_the_right_password_waits_and_every_try_is_logged(
        work_db, monkeypatch):
    monkeypatch.setattr(access, "LOGINS", access.Throttle(free=3, base_s=60.0))
    for _ in range(3):
        assert page_title(login(work_db, "ada", "wrong")) == "Log in"
    at = login(work_db, "ada", "ada-secret", lang="zh")   # right, but within the wait
    assert not at.exception, at.exception
    assert page_title(at) == "登录"
    assert any("登录失败次数过多" in e.value for e in at.error)
    monkeypatch.setattr(access, "LOGINS", access.Throttle())
    at = login(work_db, "ada", "ada-secret")
    assert page_title(at) in ("Overview", "总览")
    with store.connect(work_db) as con:
        rows = audit.read_log(con)
    assert rows["action"].tolist()[:5] == ["login", "login_refused", "login_failed",
                                           "login_failed", "login_failed"]
    assert set(rows["actor"][:5]) == {"ada"}


def test_a_backup_download_is_made_on_click_and_logged(work_db, downloads):
    at = login(work_db, "ada", "ada-secret", page="data")
    assert not at.exception, at.exception
    button = next(b for b in at.get("download_button") if b.key == "data_page.backup.duckdb")
    assert button.proto.deferred_file_id and not button.proto.url   # no link before the click
    assert next(v for k, v in downloads.items() if k.endswith(".duckdb"))[8:12] == b"DUCK"
    with store.connect(work_db) as con:
        rows = audit.read_log(con, actions=["backup_download"])
    assert rows["actor"].tolist() == ["ada"] * 2   # the fixture clicked both buttons
