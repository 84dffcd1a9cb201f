"""The Plan page 维护计划 and the follow-up log (跟进记录), also on the customer profile.

Expected tasks come from engine.plan on the same database as of its last
event date with the default tiers. Tests that write (follow-ups, playbook)
work on their own copy of the demo database. AppTest runs a page without
app.py's sidebar, so a session keeps the data version it started with: what
a write changed is checked in a new session, as a manager sees it after the
rerun in the browser.
"""
import csv
import io
import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from engine import i18n, plan, plan_page, scoring, store
from engine.features import customer_features, optional_columns_present
from engine.features.followup_state import followup_state
from engine.scoring_settings import DEFAULT_SETTINGS
from tests.conftest import open_page
from ui.data import plan as plan_data
from tests.helpers import WORDS, fill_and_save, labelled

def engine_tasks(db):
    with store.connect(db) as con:
        as_of = store.date_range(con)[1]
        features = customer_features(con, as_of=as_of)
        available = optional_columns_present(con, as_of=as_of)
        state = followup_state(con, as_of=as_of)
        rules = plan.load_playbook(con)
    scores = scoring.score_customers(features, available=available)
    tiers = scores.set_index("customer_id")["tier"]
    return as_of, plan.task_list(features, tiers=tiers, followup_state=state, as_of=as_of,
                                 playbook=rules)


def task_table(at) -> pd.DataFrame:
    return next(d for d in at.dataframe if d.key.startswith("plan_page.tasks")).value


def cards(at) -> dict:
    return {m.label: m.value for m in at.metric}


# --- the task list ---------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tasks_due_by_the_as_of_date_with_overdue_rows_marked(app_db, lang):
    as_of, tasks = engine_tasks(app_db)
    due = tasks[tasks["due_date"] <= pd.Timestamp(as_of)]
    w = WORDS[lang]
    at = open_page("plan", lang)
    assert not at.exception, at.exception
    assert at.title[0].value == w["title"]
    assert cards(at) == {w["tasks"]: f"{len(tasks):,}", w["overdue"]: f"{int(tasks['overdue'].sum()):,}",
                         w["today"]: f"{int((tasks['due_date'] == pd.Timestamp(as_of)).sum()):,}",
                         w["shown"]: f"{len(due):,}"}
    assert tasks["overdue"].sum() > 0 and len(due) < len(tasks)
    table = task_table(at)
    assert list(table["customer_id"]) == list(due["customer_id"])    # the engine's order
    assert list(table["action"]) == [i18n.label("action", a, lang) for a in due["action"]]
    late = due["overdue"].to_numpy()
    overdue_words = {"en": "Overdue by {:,} days", "zh": "逾期 {:,} 天"}[lang]
    assert table["state"][late].tolist() == [overdue_words.format(d)
                                             for d in due["days_overdue"][late]]
    assert late.sum() == tasks["overdue"].sum()
    assert pd.to_datetime(table["due_date"]).tolist() == due["due_date"].tolist()
    # overdue rows stand out: exactly they carry the red background
    styler = next(d for d in at.dataframe if d.key.startswith("plan_page.tasks")).proto.arrow_data.styler
    assert "background-color" in styler.styles
    styled = {int(i) for i in re.findall(r"_row(\d+)_col", styler.styles)}
    assert styled == set(np.flatnonzero(late))


def test_one_customers_next_action_is_their_row_of_the_whole_task_list(app_db):
    version = store.data_version(app_db)
    with store.connect(app_db) as con:
        as_of = store.date_range(con)[1]
        ids = [r[0] for r in con.execute("SELECT customer_id FROM customers ORDER BY customer_id "
                                         "LIMIT 60").fetchall()]
    settings = DEFAULT_SETTINGS
    every = plan_data.tasks(str(app_db), version, as_of, settings)
    with_task = without = 0
    for customer in [*ids, "NO-SUCH-CUSTOMER"]:
        expected = plan_page.customer_task(every, customer)
        got = plan_data.next_action.scoped(str(app_db), version, as_of, settings, customer,
                                           owner=None)
        if expected is None:
            without += 1
            assert got is None, customer
        else:
            with_task += 1
            assert got == expected, customer
    assert with_task > 0 and without > 1


def test_filters_by_owner_action_and_overdue(app_db):
    as_of, tasks = engine_tasks(app_db)
    at = open_page("plan", "en")
    owner = tasks["owner"].value_counts().index[0]
    at.multiselect(key="plan_page.owners.en").set_value([owner]).run()
    at.selectbox(key="plan_page.due.en").set_value("all").run()
    table = task_table(at)
    assert list(table["customer_id"]) == list(tasks.loc[tasks["owner"] == owner, "customer_id"])
    at.multiselect(key="plan_page.owners.en").set_value([]).run()
    at.multiselect(key="plan_page.actions.en").set_value(["win_back", "wake_up"]).run()
    at.selectbox(key="plan_page.due.en").set_value("overdue").run()
    chosen = tasks[tasks["action"].isin(["win_back", "wake_up"]) & tasks["overdue"]]
    assert list(task_table(at)["customer_id"]) == list(chosen["customer_id"])
    assert cards(at)["In this list"] == f"{len(chosen):,}"


def test_call_list_downloads_in_the_readers_words(app_db, downloads):
    as_of, tasks = engine_tasks(app_db)
    due = tasks[tasks["due_date"] <= pd.Timestamp(as_of)]
    open_page("plan", "zh")
    name = f"call_list_{as_of:%Y%m%d}"
    assert sorted(downloads) == [f"{name}.csv", f"{name}.xlsx"]
    raw = downloads[f"{name}.csv"]
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw[3:].decode("utf-8"))))
    assert [r["客户编号"] for r in rows] == list(due["customer_id"])
    assert {"状态", "维护动作", "负责人", "到期日", "逾期天数", "最近跟进"} <= set(rows[0])
    first = due.iloc[0]
    assert rows[0]["状态"] == (f"逾期 {first['days_overdue']:,} 天" if first["overdue"]
                             else "今日到期" if first["due_date"] == pd.Timestamp(as_of) else "待办")
    assert rows[0]["到期日"] == f"{first['due_date']:%Y-%m-%d}"
    sheet = pd.read_excel(io.BytesIO(downloads[f"{name}.xlsx"]), dtype={"客户编号": str})
    assert list(sheet["客户编号"]) == list(due["customer_id"])


# --- the playbook ----------------------------------------------------------------------

def edit_playbook(at, edited_rows):
    editor = next(e for e in at.data_editor if e.key.startswith("plan_page.playbook."))
    at.session_state[editor.key] = {"edited_rows": edited_rows, "added_rows": [],
                                    "deleted_rows": []}
    at.run()
    return editor


def test_playbook_edited_saved_and_followed(work_db):
    at = open_page("plan", "en")
    editor = next(e for e in at.data_editor if e.key.startswith("plan_page.playbook."))
    assert list(editor.value["action"]) == ["win_back", "wake_up", "visit", "care"]
    assert list(editor.value["applies_to"]) == ["risk_level:high", "demand_tag:dormant",
                                                "tier:high", "tier:potential"]
    edit_playbook(at, {3: {"cadence_days": 7}, 1: {"first_due_days": 3}})
    at.button(key="plan_page.playbook_save").click().run()
    assert not at.exception, at.exception
    with store.connect(work_db) as con:
        saved = plan.load_playbook(con)
    assert [(r.action, r.cadence_days, r.first_due_days) for r in saved] == [
        ("win_back", 1, 1), ("wake_up", 7, 3), ("visit", 30, 0), ("care", 7, 0)]
    as_of, tasks = engine_tasks(work_db)            # now under the saved playbook
    at = open_page("plan", "en")
    assert cards(at)["Tasks"] == f"{len(tasks):,}"
    at.selectbox(key="plan_page.due.en").set_value("all").run()
    table = task_table(at)
    assert list(table["customer_id"]) == list(tasks["customer_id"])
    fresh = tasks[(tasks["action"] == "wake_up") & (tasks["followups"] == 0)]
    assert len(fresh) and (fresh["due_date"] == pd.Timestamp(as_of + timedelta(days=3))).all()


@pytest.mark.parametrize("lang, message", [
    ("en", "Playbook rule 4: action 'visit' already has a rule; each action may have one."),
    ("zh", "维护策略第 4 条：动作 'visit' 已有规则，每个动作只能有一条。")])
def test_an_invalid_playbook_is_refused_in_the_users_language(work_db, lang, message):
    at = open_page("plan", lang)
    edit_playbook(at, {3: {"action": "visit"}})
    at.button(key="plan_page.playbook_save").click().run()
    assert [e.value for e in at.error] == [message]
    with store.connect(work_db) as con:
        assert plan.load_playbook(con) == plan.DEFAULT_PLAYBOOK


# --- logging follow-ups ----------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
def test_logging_a_followup_advances_the_task(work_db, lang):
    as_of, tasks = engine_tasks(work_db)
    task = tasks[tasks["overdue"] & (tasks["action"] == "wake_up")].iloc[0]
    customer, rule = task["customer_id"], plan.DEFAULT_PLAYBOOK[1]
    at = open_page("plan", lang)
    at.selectbox(key=f"plan_page.pick.{lang}").set_value(customer).run()
    assert not at.exception, at.exception
    action_box = labelled(at, "selectbox", "Action" if lang == "en" else "维护动作")
    assert action_box.value == "wake_up"                       # the task's action by default
    fill_and_save(at, lang, result="sent the returning-customer coupon")
    with store.connect(work_db) as con:
        logged = plan.customer_followups(con, customer).iloc[0]
    assert (logged["action"], logged["status"], logged["result"], logged["need"]) == (
        "wake_up", "done", "sent the returning-customer coupon", "wants a discount")
    day = min(date.today(), as_of)                              # the form's default date
    assert logged["ts"].date() == day
    saved = i18n.t("followup.saved", lang, id=int(logged["followup_id"]), customer=customer)
    assert any(saved in s.value for s in at.success)

    # after the rerun (a new session here) the task has moved on
    _, after = engine_tasks(work_db)
    moved = after.set_index("customer_id").loc[customer]
    assert moved["due_date"] == pd.Timestamp(day + timedelta(days=rule.cadence_days))
    assert not moved["overdue"]
    at = open_page("plan", lang)
    w = WORDS[lang]
    assert cards(at)[w["overdue"]] == f"{int(tasks['overdue'].sum()) - 1:,}"
    assert customer not in set(task_table(at)["customer_id"])   # no longer due by T
    at.selectbox(key=f"plan_page.due.{lang}").set_value("all").run()
    row = task_table(at).set_index("customer_id").loc[customer]
    assert pd.Timestamp(row["due_date"]) == moved["due_date"]
    assert row["last_followup_result"] == "sent the returning-customer coupon"
    assert row["last_followup_status"] == i18n.label("followup_status", "done", lang)


def test_pausing_a_followup_puts_the_task_back(work_db):
    as_of, tasks = engine_tasks(work_db)
    task = tasks[tasks["overdue"] & (tasks["action"] == "wake_up")].iloc[0]
    customer = task["customer_id"]
    at = open_page("plan", "en")
    at.selectbox(key="plan_page.pick.en").set_value(customer).run()
    fill_and_save(at, "en", result="left a message")
    with store.connect(work_db) as con:
        followup_id = int(plan.customer_followups(con, customer).iloc[0]["followup_id"])

    at = open_page("plan", "en")
    at.selectbox(key="plan_page.due.en").set_value("all").run()
    at.selectbox(key="plan_page.pick.en").set_value(customer).run()
    labelled(at, "selectbox", "Change the status of").set_value(followup_id)
    labelled(at, "selectbox", "New status").set_value("paused")
    labelled(at, "button", "Change status").click().run()
    assert not at.exception, at.exception
    assert any(f"Follow-up no. {followup_id} is now Paused." in s.value for s in at.success)
    _, after = engine_tasks(work_db)
    back = after.set_index("customer_id").loc[customer]
    assert back["due_date"] == task["due_date"] and back["overdue"]   # paused does not count


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_refused_followup_is_explained_in_the_users_language(work_db, monkeypatch, lang):
    as_of, tasks = engine_tasks(work_db)
    customer = tasks.loc[tasks["due_date"] <= pd.Timestamp(as_of), "customer_id"].iloc[0]

    def refuse(path, **fields):
        raise plan.FollowupError("plan.error.unknown_customer", customer_id=fields["customer_id"])

    monkeypatch.setattr(plan, "log_followup", refuse)
    at = open_page("plan", lang)
    at.selectbox(key=f"plan_page.pick.{lang}").set_value(customer).run()
    fill_and_save(at, lang, result="called twice")
    assert [e.value for e in at.error] == [
        i18n.t("plan.error.unknown_customer", lang, customer_id=customer)]
    assert not at.success
    assert labelled(at, "text_input", WORDS[lang]["result"]).value == "called twice"  # kept


def test_a_followup_logged_on_the_profile_shows_in_its_timeline(work_db):
    _, tasks = engine_tasks(work_db)
    customer = tasks[tasks["action"] == "win_back"]["customer_id"].iloc[0]
    at = open_page(None, "zh")
    at.session_state["profile.customer"] = customer
    at.switch_page("views/profile.py")
    at.run()
    assert not at.exception, at.exception
    assert at.main.subheader[-1].value == "跟进记录"
    before = next(tab.label for tab in at.tabs if tab.label.startswith("跟进记录"))
    assert labelled(at, "selectbox", "维护动作").value == "win_back"
    fill_and_save(at, "zh", result="已致电，安排补偿", status="in_progress")
    with store.connect(work_db) as con:
        logged = plan.customer_followups(con, customer).iloc[0]
    assert (logged["action"], logged["status"], logged["result"]) == (
        "win_back", "in_progress", "已致电，安排补偿")

    at = open_page(None, "zh")
    at.session_state["profile.customer"] = customer
    at.switch_page("views/profile.py")
    at.run()
    after = next(tab.label for tab in at.tabs if tab.label.startswith("跟进记录"))
    count = lambda label: int(label.split("（")[1].rstrip("）")) if "（" in label else \
        int(label.split("(")[1].rstrip(")"))  # noqa: E731
    assert count(after) == count(before) + 1
    timeline = next(d.value for d in at.dataframe if "result" in d.value.columns)
    assert timeline["result"].iloc[0] == "已致电，安排补偿"
    assert timeline["status"].iloc[0] == "跟进中"


def test_filters_that_leave_no_task(app_db):
    _, tasks = engine_tasks(app_db)
    grid = tasks.groupby(["owner", "action"], observed=True).size().unstack(fill_value=0)
    pairs = [(o, a) for o in grid.index for a in grid.columns if grid.loc[o, a] == 0]
    assert pairs, "some owner has no task of some action"
    owner, action = pairs[0]
    at = open_page("plan", "en")
    at.multiselect(key="plan_page.owners.en").set_value([owner]).run()
    at.multiselect(key="plan_page.actions.en").set_value([action]).run()
    assert not at.exception, at.exception
    assert cards(at)["In this list"] == "0" and task_table(at).empty
    assert all(b.proto.disabled for b in at.download_button)
    assert at.selectbox(key="plan_page.pick.en").options == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_valuable_work_first_and_no_low_risk_beside_churned(app_db, lang):
    """Win-back tasks lead, then the high tier's tasks (visits), whatever ordinary wake-ups
    are overdue; a churned customer's risk reads 'already churned', never 'low'."""
    as_of, tasks = engine_tasks(app_db)
    at = open_page("plan", lang)
    at.selectbox(key=f"plan_page.due.{lang}").set_value("all").run()
    table = task_table(at)
    actions = tasks["action"].astype(str).tolist()
    wins = actions.count("win_back")
    assert 0 < wins < len(actions) and actions[:wins] == ["win_back"] * wins
    tiers = tasks["tier"].astype(str).tolist()[wins:]
    rank = {"high": 0, "potential": 1, "ordinary": 2, "nan": 3}
    assert [rank[x] for x in tiers] == sorted(rank[x] for x in tiers)
    assert list(table["customer_id"]) == list(tasks["customer_id"])
    assert "visit" in actions[wins:wins + 3]
    churned_low = ((tasks["lifecycle"] == "churned") & (tasks["risk_level"] == "low")).to_numpy()
    assert churned_low.any()
    gone = {"en": "— already churned", "zh": "— 已流失"}[lang]
    assert (table["risk_level"][churned_low] == gone).all()
    low = i18n.label("risk", "low", lang)
    assert not ((table["lifecycle"] == i18n.label("lifecycle", "churned", lang))
                & (table["risk_level"] == low)).any()
