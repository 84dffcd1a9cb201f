"""The maintenance plan (DESIGN §4.7): playbook, tasks and due dates, the follow-up log.

Customers are hand-made feature rows as of T = 2024-06-30; follow-ups live
in a small DuckDB file so the log is written and read the way the app does.
"""
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from engine import plan, risk, store
from engine.features.followup_state import FOLLOWUP_STATE_COLUMNS, followup_state

T = date(2024, 6, 30)
TS = pd.Timestamp(T)


def ago(days):
    return pd.Timestamp(T - timedelta(days=days))


def customer(customer_id, owner="张伟", **values):
    """A steady, low-risk buyer unless told otherwise."""
    base = dict(customer_id=customer_id, name=f"name {customer_id}", owner=owner,
                last_txn_date=ago(10), last_interaction_date=pd.NaT, interactions_30d=0,
                last_consultation_date=pd.NaT, last_purchase_date=ago(10),
                first_purchase_date=ago(200), spend_90d=100.0, spend_prev_90d=100.0,
                complaints_90d=0, purchase_days=10, median_gap_days=20.0,
                days_since_last_purchase=10, tenure_days=200, purchase_months_12m=3,
                revenue_12m=1000.0)
    base.update(values)
    return base


HIGH_RISK = dict(complaints_90d=2)
DORMANT = dict(last_txn_date=ago(100), last_purchase_date=ago(100), days_since_last_purchase=100,
               median_gap_days=np.nan, purchase_days=1)

FEATURES = pd.DataFrame([
    customer("A", **HIGH_RISK, **DORMANT),        # high risk + dormant + high tier: win-back
    customer("B", **DORMANT),                      # dormant + high tier: wake-up
    customer("C"),                                 # high tier: visit
    customer("D"),                                 # potential tier: care
    customer("E"),                                 # ordinary: nothing
    customer("F", owner=None, **HIGH_RISK),        # no owner: the role takes it
    customer("G", owner="  "),                     # blank owner, high tier
    customer("H"),                                 # no tier known
])
TIERS = pd.Series({"A": "high", "B": "high", "C": "high", "D": "potential", "E": "ordinary",
                   "F": "ordinary", "G": "high"})


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "plan.duckdb"
    with store.write(path) as con:
        for cid in FEATURES.customer_id:
            con.execute("INSERT INTO customers (customer_id, name) VALUES (?, ?)", [cid, cid])
    return path


def add_followups(path, *rows):
    """rows: (customer_id, action, date or datetime, status)."""
    for customer_id, action, when, status in rows:
        plan.log_followup(path, customer_id=customer_id, action=action, channel="phone",
                          need=None, result=f"{action} {status}", next_contact_date=None,
                          status=status, owner="王芳", ts=when)


def tasks(path, playbook=plan.DEFAULT_PLAYBOOK, as_of=T):
    with store.connect(path) as con:
        state = followup_state(con, as_of=as_of)
    return plan.task_list(FEATURES, tiers=TIERS, followup_state=state, as_of=as_of,
                          playbook=playbook).set_index("customer_id")


# --- which action ------------------------------------------------------------

def test_one_action_per_customer_first_that_applies(db):
    got = tasks(db)
    assert got.action.to_dict() == {"A": "win_back", "B": "wake_up", "C": "visit", "D": "care",
                                    "F": "win_back", "G": "visit"}
    assert list(got.reset_index().columns) == list(plan.TASK_COLUMNS)


def test_due_at_t_or_t_plus_one_for_win_back_without_followups(db):
    got = tasks(db)
    assert got.due_date.to_dict() == {
        "A": TS + pd.Timedelta(days=1), "B": TS, "C": TS, "D": TS,
        "F": TS + pd.Timedelta(days=1), "G": TS}
    assert not got.overdue.any()
    assert got.followups.eq(0).all() and got.last_followup_date.isna().all()


def test_owner_is_the_customers_else_the_role(db):
    got = tasks(db)
    assert got.owner.to_dict() == {"A": "张伟", "B": "张伟", "C": "张伟", "D": "张伟",
                                   "F": "service_supervisor", "G": "account_manager"}
    assert got.owner_role.to_dict() == {"A": "service_supervisor", "B": "service_rep",
                                        "C": "account_manager", "D": "service_rep",
                                        "F": "service_supervisor", "G": "account_manager"}


def test_sorted_by_urgency_and_tier_then_due_date(db):
    """Win-back first (A high, F ordinary: tier within), then the high tier in playbook order
    (B's wake-up, then C's and G's visits, by id on the same due date), then potential: D's
    care is 46 days overdue yet comes after the high-value work. Two overdue visits of the
    high tier: the earlier due date first."""
    add_followups(db, ("D", "care", date(2024, 5, 1), "done"))
    got = tasks(db).reset_index()
    assert got.customer_id.tolist() == ["A", "F", "B", "C", "G", "D"]
    assert got.days_overdue.tolist() == [0, 0, 0, 0, 0, 46]     # 05-01 + 14 = 05-15
    add_followups(db, ("G", "visit", date(2024, 5, 1), "done"),
                  ("C", "visit", date(2024, 5, 20), "done"))
    got = tasks(db).reset_index()
    assert got.customer_id.tolist() == ["A", "F", "B", "G", "C", "D"]
    assert got.days_overdue.tolist() == [0, 0, 0, 30, 11, 46]


# --- due dates from the follow-up log -------------------------------------------

def test_due_is_last_done_or_in_progress_plus_cadence(db):
    add_followups(db,
                  ("C", "visit", date(2024, 5, 1), "done"),
                  ("C", "visit", datetime(2024, 6, 10, 9, 30), "in_progress"),
                  ("D", "care", date(2024, 6, 1), "done"))
    got = tasks(db)
    assert got.loc["C", "due_date"] == pd.Timestamp(2024, 7, 10)          # 06-10 + 30
    assert not got.loc["C", "overdue"] and got.loc["C", "days_overdue"] == 0
    assert got.loc["D", "due_date"] == pd.Timestamp(2024, 6, 15)          # 06-01 + 14
    assert got.loc["D", "overdue"] and got.loc["D", "days_overdue"] == 15
    assert got.loc["C", "followups"] == 2
    assert got.loc["C", "last_followup_date"] == pd.Timestamp(2024, 6, 10)
    assert got.loc["C", "last_followup_status"] == "in_progress"
    assert got.loc["C", "last_followup_result"] == "visit in_progress"


def test_paused_followups_are_ignored_for_the_due_date(db):
    add_followups(db,
                  ("C", "visit", date(2024, 5, 1), "done"),
                  ("C", "visit", date(2024, 6, 20), "paused"),
                  ("D", "care", date(2024, 6, 25), "paused"))
    got = tasks(db)
    assert got.loc["C", "due_date"] == pd.Timestamp(2024, 5, 31)          # from the done one
    assert got.loc["C", "overdue"]
    assert got.loc["C", "last_followup_status"] == "paused"               # but it is shown
    assert got.loc["D", "due_date"] == TS                                 # only paused: as none


def test_followups_of_other_actions_and_after_t_do_not_count(db):
    add_followups(db,
                  ("C", "care", date(2024, 6, 20), "done"),
                  ("C", "other", date(2024, 6, 21), "done"),
                  ("D", "care", date(2024, 7, 2), "done"))                 # after T
    got = tasks(db)
    assert got.loc["C", "due_date"] == TS and got.loc["C", "followups"] == 0
    assert got.loc["D", "due_date"] == TS


def test_win_back_due_one_day_after_its_last_followup(db):
    add_followups(db, ("A", "win_back", date(2024, 6, 29), "in_progress"),
                  ("F", "win_back", date(2024, 6, 20), "done"))
    got = tasks(db)
    assert got.loc["A", "due_date"] == TS and not got.loc["A", "overdue"]
    assert got.loc["F", "due_date"] == pd.Timestamp(2024, 6, 21) and got.loc["F", "overdue"]


def test_wake_up_cadence_is_seven_days(db):
    add_followups(db, ("B", "wake_up", date(2024, 6, 26), "done"))
    assert tasks(db).loc["B", "due_date"] == pd.Timestamp(2024, 7, 3)


# --- the follow-up log ----------------------------------------------------------

def test_log_followup_advances_the_task(db):
    assert tasks(db).loc["C", "due_date"] == TS
    new_id = plan.log_followup(db, customer_id="C", action="visit", channel="visit",
                               need="年度采购计划", result="已拜访", next_contact_date="2024-07-30",
                               status="done", owner="张伟", ts=datetime(2024, 6, 30, 15, 0))
    assert new_id == 1
    got = tasks(db)
    assert got.loc["C", "due_date"] == pd.Timestamp(2024, 7, 30)          # follow-up date + 30
    assert got.loc["C", "last_followup_id"] == 1 and got.loc["C", "last_followup_result"] == "已拜访"
    # pausing it takes the task back to T
    plan.set_followup_status(db, new_id, "paused")
    assert tasks(db).loc["C", "due_date"] == TS


def test_log_followup_ids_and_data_version(db):
    before = store.data_version(db)
    ids = [plan.log_followup(db, customer_id=c, action="care", channel=None, need=None,
                             result=None, next_contact_date=None, status="done", owner=None,
                             ts=date(2024, 6, 1)) for c in ("D", "D", "E")]
    assert ids == [1, 2, 3]
    assert store.data_version(db) == before + 3
    with store.connect(db) as con:
        con.execute("UPDATE followups SET followup_id = 41 WHERE followup_id = 3")
    assert plan.log_followup(db, customer_id="E", action="care", channel=None, need=None,
                             result=None, next_contact_date=None, status="done",
                             owner=None) == 42


def test_log_followup_without_ts_is_now(db):
    started = datetime.now().replace(microsecond=0)
    plan.log_followup(db, customer_id="D", action="care", channel="wechat", need="n",
                      result="r", next_contact_date=date(2024, 8, 1), status="in_progress",
                      owner="王芳")
    with store.connect(db) as con:
        got = plan.customer_followups(con, "D")
    assert list(got.columns) == list(plan.FOLLOWUP_COLUMNS)
    assert got.ts.iloc[0] >= started
    assert got.next_contact_date.iloc[0] == pd.Timestamp(2024, 8, 1)


@pytest.mark.parametrize("change, key", [
    (dict(customer_id="ZZZ"), "plan.error.unknown_customer"),
    (dict(customer_id=" "), "plan.error.missing_customer_id"),
    (dict(action="call"), "plan.error.bad_action"),
    (dict(status="finished"), "plan.error.bad_status"),
    (dict(next_contact_date="next week"), "plan.error.bad_date"),
    (dict(ts="yesterday"), "plan.error.bad_date"),
    (dict(next_contact_date="2024-02-30"), "plan.error.bad_date"),
])
def test_log_followup_refuses_bad_input_and_writes_nothing(db, change, key):
    before = store.data_version(db)
    values = dict(customer_id="C", action="visit", channel="phone", need=None, result=None,
                  next_contact_date=None, status="done", owner="张伟", ts=None)
    values.update(change)
    with pytest.raises(plan.FollowupError) as err:
        plan.log_followup(db, **values)
    assert isinstance(err.value, ValueError) and err.value.key == key
    assert err.value.message("zh") and str(err.value) == err.value.message("en")
    assert store.data_version(db) == before
    with store.connect(db) as con:
        assert con.execute("SELECT count(*) FROM followups").fetchone()[0] == 0


def test_unknown_customer_message_names_it(db):
    with pytest.raises(plan.FollowupError, match="No customer with id ZZZ"):
        plan.log_followup(db, customer_id="ZZZ", action="visit", channel=None, need=None,
                          result=None, next_contact_date=None, status="done", owner=None)


def test_set_followup_status_checks_status_and_id(db):
    add_followups(db, ("C", "visit", date(2024, 6, 1), "in_progress"))
    with pytest.raises(plan.FollowupError, match="status 'closed'"):
        plan.set_followup_status(db, 1, "closed")
    with pytest.raises(plan.FollowupError, match="No follow-up with id 9"):
        plan.set_followup_status(db, 9, "done")
    with pytest.raises(plan.FollowupError, match="No follow-up with id x"):
        plan.set_followup_status(db, "x", "done")
    plan.set_followup_status(db, 1, "done")
    with store.connect(db) as con:
        assert plan.customer_followups(con, "C").status.tolist() == ["done"]


def test_customer_followups_latest_first(db):
    add_followups(db, ("C", "visit", date(2024, 5, 1), "done"),
                  ("C", "care", date(2024, 6, 1), "done"),
                  ("D", "care", date(2024, 6, 2), "done"))
    with store.connect(db) as con:
        got = plan.customer_followups(con, "C")
    assert got.followup_id.tolist() == [2, 1]


# --- the follow-up state SQL ----------------------------------------------------

def test_followup_state_per_customer_and_action(db):
    add_followups(db, ("C", "visit", datetime(2024, 6, 1, 10), "done"),
                  ("C", "visit", datetime(2024, 6, 1, 10), "paused"),       # same ts, later id
                  ("C", "visit", datetime(2024, 5, 1, 10), "in_progress"),
                  ("C", "visit", datetime(2024, 6, 30, 23, 59), "paused"),   # on T: counts
                  ("C", "visit", datetime(2024, 7, 1, 0, 0), "done"))        # after T
    with store.connect(db) as con:
        con.execute("INSERT INTO followups (followup_id, customer_id, ts, status) "
                    "VALUES (99, 'D', TIMESTAMP '2024-06-03 08:00', 'done')")
        got = followup_state(con, as_of=T)
        before_t = followup_state(con, as_of=date(2024, 6, 1)).set_index(["customer_id", "action"])
    assert list(got.columns) == list(FOLLOWUP_STATE_COLUMNS)
    got = got.set_index(["customer_id", "action"])
    c = got.loc[("C", "visit")]
    assert (c.followups, c.last_followup_id, c.last_status) == (4, 4, "paused")
    assert c.last_date == pd.Timestamp(2024, 6, 30)
    assert c.last_active_date == pd.Timestamp(2024, 6, 1)
    assert got.loc[("D", "other"), "followups"] == 1                       # no action: other
    b = before_t.loc[("C", "visit")]
    assert (b.followups, b.last_followup_id, b.last_status) == (3, 2, "paused")


def test_a_followup_without_a_status_counts_like_one_in_progress(db):
    """DESIGN §4.7: the cadence runs from the last follow-up "done or in progress,
    not paused". A log imported without a status column holds follow-ups
    without one: they happened, so they count; only paused ones do not."""
    add_followups(db, ("C", "care", datetime(2024, 6, 10, 9), "done"))
    with store.write(db) as con:
        con.execute("INSERT INTO followups (followup_id, customer_id, ts, action, status) VALUES "
                    "(50, 'C', TIMESTAMP '2024-06-20 09:00', 'care', NULL), "
                    "(51, 'C', TIMESTAMP '2024-06-25 09:00', 'care', 'paused')")
        got = followup_state(con, as_of=T).set_index(["customer_id", "action"])
    assert got.loc[("C", "care"), "last_active_date"] == pd.Timestamp(2024, 6, 20)


# --- the playbook -----------------------------------------------------------------

def test_default_playbook_is_the_design_table():
    assert [(r.action, r.column, r.value, r.cadence_days, r.first_due_days, r.owner_role)
            for r in plan.DEFAULT_PLAYBOOK] == [
        ("win_back", "risk_level", "high", 1, 1, "service_supervisor"),
        ("wake_up", "demand_tag", "dormant", 7, 0, "service_rep"),
        ("visit", "tier", "high", 30, 0, "account_manager"),
        ("care", "tier", "potential", 14, 0, "service_rep")]


def test_playbook_saved_and_loaded(db):
    with store.connect(db) as con:
        assert plan.load_playbook(con) == plan.DEFAULT_PLAYBOOK
    records = plan.playbook_records(plan.DEFAULT_PLAYBOOK)
    records[2]["cadence_days"] = 21
    before = store.data_version(db)
    plan.save_playbook(db, records)
    plan.save_playbook(db, records)                     # saving again replaces it
    with store.connect(db) as con:
        loaded = plan.load_playbook(con)
        assert con.execute("SELECT count(*) FROM settings WHERE kind = 'playbook'"
                           ).fetchone()[0] == 1
    assert store.data_version(db) == before + 2
    assert loaded[2].cadence_days == 21 and loaded[0] == plan.DEFAULT_PLAYBOOK[0]
    add_followups(db, ("C", "visit", date(2024, 6, 1), "done"))
    assert tasks(db, playbook=loaded).loc["C", "due_date"] == pd.Timestamp(2024, 6, 22)


def test_playbook_order_is_precedence(db):
    reordered = (plan.DEFAULT_PLAYBOOK[2], *plan.DEFAULT_PLAYBOOK[:2], plan.DEFAULT_PLAYBOOK[3])
    got = tasks(db, playbook=reordered)
    assert got.action.to_dict()["A"] == "visit" and got.action.to_dict()["F"] == "win_back"


def test_playbook_from_a_data_editor_frame():
    frame = pd.DataFrame(plan.playbook_records(plan.DEFAULT_PLAYBOOK))
    frame["cadence_days"] = frame["cadence_days"].astype(float)
    assert plan.playbook_from_records(frame) == plan.DEFAULT_PLAYBOOK


@pytest.mark.parametrize("change, key", [
    (dict(action="call"), "playbook_bad_action"),
    (dict(action="visit"), "playbook_duplicate_action"),
    (dict(column="region"), "playbook_bad_column"),
    (dict(value="very_high"), "playbook_bad_value"),
    (dict(cadence_days=-1), "playbook_bad_days"),
    (dict(cadence_days=1.5), "playbook_bad_days"),
    (dict(first_due_days="1"), "playbook_bad_days"),
    (dict(owner_role="intern"), "playbook_bad_role"),
    (dict(extra=1), "playbook_bad_rule"),
])
def test_bad_playbook_rules_are_refused(change, key):
    records = plan.playbook_records(plan.DEFAULT_PLAYBOOK)
    records[0].update(change)
    with pytest.raises(plan.PlaybookError) as err:
        plan.playbook_from_records(records)
    where = "rule 3" if key == "playbook_duplicate_action" else "rule 1"   # visit comes 3rd
    assert err.value.key == f"plan.error.{key}" and where in str(err.value)


def test_unreadable_saved_playbook(db):
    with store.write(db) as con:
        con.execute("INSERT INTO settings VALUES ('playbook', 'default', '{oops', now())")
    with store.connect(db) as con, pytest.raises(plan.PlaybookError, match="cannot be read"):
        plan.load_playbook(con)


# --- the score CSV's columns --------------------------------------------------------

def test_risk_columns(db):
    add_followups(db, ("C", "visit", date(2024, 6, 1), "done"))
    with store.connect(db) as con:
        state = followup_state(con, as_of=T)
    got = plan.risk_columns(FEATURES, tiers=TIERS, followup_state=state, as_of=T,
                            playbook=plan.DEFAULT_PLAYBOOK, lang="en")
    assert list(got.columns) == list(plan.RISK_COLUMNS) and got.index.name == "customer_id"
    assert got.index.tolist() == FEATURES.customer_id.tolist()
    a = got.loc["A"]
    assert (a.demand_tag, a.risk_level, a.lifecycle, a.next_action) == (
        "dormant", "high", "at_risk", "win_back")
    assert a.risk_reasons == "2 complaints"
    assert a.next_action_due == pd.Timestamp(2024, 7, 1)
    assert got.loc["C", "next_action_due"] == pd.Timestamp(2024, 7, 1)
    assert pd.isna(got.loc["E", "next_action"]) and pd.isna(got.loc["E", "next_action_due"])
    assert got.loc["E", "risk_reasons"] == ""
    zh = plan.risk_columns(FEATURES, tiers=TIERS, followup_state=state, as_of=T,
                           playbook=plan.DEFAULT_PLAYBOOK, lang="zh")
    assert zh.loc["A", "risk_reasons"] == "近90天投诉 2 次"
    csv = got.to_csv()
    assert "E,general,low,,active,," in csv.replace("\r", "")


def test_tasks_from_assessed_frame_match(db):
    with store.connect(db) as con:
        state = followup_state(con, as_of=T)
    assessed = risk.assess(FEATURES, as_of=T)
    a = plan.task_list(FEATURES, tiers=TIERS, followup_state=state, as_of=T, assessed=assessed)
    b = plan.task_list(FEATURES, tiers=TIERS, followup_state=state, as_of=T)
    pd.testing.assert_frame_equal(a, b)


def test_tasks_without_any_followup_state():
    empty = pd.DataFrame(columns=list(FOLLOWUP_STATE_COLUMNS))
    got = plan.task_list(FEATURES, tiers=TIERS, followup_state=empty, as_of=T).set_index(
        "customer_id")
    assert got.due_date.to_dict()["A"] == TS + pd.Timedelta(days=1)
    assert got.followups.eq(0).all() and got.last_followup_id.isna().all()


def test_tiers_in_any_order_and_customers_unknown_to_the_tiers(db):
    shuffled = TIERS.iloc[::-1]
    got = tasks(db).action.to_dict()
    with store.connect(db) as con:
        state = followup_state(con, as_of=T)
    again = plan.task_list(FEATURES, tiers=shuffled, followup_state=state, as_of=T)
    assert again.set_index("customer_id").action.to_dict() == got
    assert "H" not in got                                      # no tier: no visit or care


def test_followups_of_customers_not_in_the_features_are_ignored(db):
    add_followups(db, ("C", "visit", date(2024, 6, 1), "done"))
    with store.connect(db) as con:
        state = followup_state(con, as_of=T)
    only_c = FEATURES[FEATURES.customer_id != "C"]
    got = plan.task_list(only_c, tiers=TIERS, followup_state=state, as_of=T)
    assert got.followups.eq(0).all() and "C" not in set(got.customer_id)


def test_tasks_for_reads_the_database(db):
    add_followups(db, ("A", "visit", date(2024, 6, 1), "done"))
    with store.connect(db) as con:
        got = plan.tasks_for(con, as_of=T, tiers=pd.Series({"A": "high"}))
    # customers without events are dormant, and A's tier is high: wake-up comes first
    assert got.set_index("customer_id").action.to_dict() == {c: "wake_up" for c in "ABCDEFGH"}
