"""The maintenance plan: the playbook, tasks and follow-ups."""
from __future__ import annotations

from datetime import date

import streamlit as st

from engine import i18n, prepared, profile, store
from engine import plan as plan_engine
from engine import plan_page
from engine.features.followup_state import followup_state as read_followup_state
from engine.features.followup_state import no_followups
from ui import auth
from ui.data.common import download_file, for_reader, owned
from ui.data.risk import risk_assessment
from ui.data.scoring import scores
from ui.data.sources import features, is_feature_table, opening_view


@st.cache_data(show_spinner=False, max_entries=16)
def playbook(db: str, version: int) -> tuple:
    """The saved playbook (DEFAULT_PLAYBOOK when none, or without a database to save it in);
    PlaybookError when it cannot be read."""
    if is_feature_table(db):
        return plan_engine.DEFAULT_PLAYBOOK
    with store.connect(db) as con:
        return plan_engine.load_playbook(con)


def save_playbook(db: str, records) -> None:
    """Validate and save the playbook (a write: bumps the version); PlaybookError when invalid,
    auth.Forbidden for a non-admin."""
    plan_engine.save_playbook(db, records, actor=auth.actor("edit_playbook"))


@st.cache_data(show_spinner=False, max_entries=8)
def followup_state(db: str, version: int, as_of: date):
    """The follow-up log as of T (engine.features.followup_state); empty without a database."""
    if is_feature_table(db):
        return no_followups()
    with store.connect(db) as con:
        return read_followup_state(con, as_of=as_of)


@st.cache_data(show_spinner=False, max_entries=16)
def tasks(db: str, version: int, as_of: date, settings: tuple):
    """The task list as of T under the saved playbook and the tiers of `settings` (codes);
    kept in the file for the opening view (engine.prepared.tasks)."""
    return prepared.tasks(db, version, as_of, settings,
                          lambda: _tasks_of(db, version, as_of, settings),
                          keep=opening_view(db, version, as_of, settings))


def _tasks_of(db: str, version: int, as_of: date, settings: tuple, rows=None):
    """The tasks of every customer, or of the feature table's `rows` (a boolean mask): a
    customer's task depends on that customer alone (engine.plan.next_actions)."""
    try:
        rules = playbook(db, version)
    except plan_engine.PlaybookError:
        rules = plan_engine.DEFAULT_PLAYBOOK   # the page says so; the tasks still follow §4.7
    table, assessed = features(db, version, as_of), risk_assessment(db, version, as_of)
    if rows is not None:
        table, assessed = table[rows], assessed[rows]
    return plan_engine.task_list(table, tiers=plan_page.tiers_by_customer(
                                     scores(db, version, as_of, *settings)),
                                 followup_state=followup_state(db, version, as_of), as_of=as_of,
                                 playbook=rules, assessed=assessed)


@for_reader
def task_options(db: str, version: int, as_of: date, settings: tuple, *,
                 owner=None) -> dict[str, list]:
    """The owners and actions the task filters offer (engine.plan_page.task_options)."""
    return plan_page.task_options(owned(tasks(db, version, as_of, settings), owner))


@for_reader
@st.cache_data(show_spinner=False, max_entries=32)
def task_view(db: str, version: int, as_of: date, settings: tuple, owners: tuple,
              actions: tuple, due: str, lang: str, rows: int | None = None, *,
              owner=None) -> dict:
    """The filtered tasks and their counts (engine.plan_page.task_view), the first `rows`
    of them in words (all for None: a download). A task's owner is the customer's owner
    (else a role code), so `owner` keeps a rep's own."""
    return plan_page.task_view(owned(tasks(db, version, as_of, settings), owner),
                               owners=owners, actions=actions, due=due, as_of=as_of, lang=lang,
                               rows=rows)


@for_reader
@st.cache_data(show_spinner=False, max_entries=16)
def task_file(db: str, version: int, as_of: date, settings: tuple, owners: tuple,
              actions: tuple, due: str, lang: str, kind: str, *, owner=None) -> bytes:
    """The filtered task list as a call list (CSV or Excel: `kind`), headed in the reader's
    language."""
    table = task_view.scoped(db, version, as_of, settings, owners, actions, due, lang,
                             owner=owner)["table"]
    table = table.drop(columns=["owner_role", "last_followup_id"])
    return download_file(table, {c: i18n.t(f"plan_page.col.{c}", lang) for c in table.columns},
                         i18n.t("plan_page.call_list_sheet", lang), lang, kind)


@for_reader
def next_action(db: str, version: int, as_of: date, settings: tuple, customer_id: str, *,
                owner=None) -> dict | None:
    """The customer's task as {action, owner, due_date, overdue, ...}, or None without one:
    worked out for this customer alone (the whole list took seconds at a million customers,
    on every profile a follow-up form shows)."""
    rows = (features(db, version, as_of)["customer_id"] == customer_id).to_numpy()
    return plan_page.customer_task(owned(_tasks_of(db, version, as_of, settings, rows), owner),
                                   customer_id)


@for_reader
@st.cache_data(show_spinner=False, max_entries=64)
def customer_followups(db: str, version: int, customer_id: str, *, owner=None):
    """The customer's follow-ups with their ids, latest first (engine.plan.customer_followups);
    none for a customer another owner looks after."""
    with store.connect(db) as con:
        logged = plan_engine.customer_followups(con, customer_id)
        record = profile.customer_record(con, customer_id) if owner is not None else None
    return logged if owner is None or record and record["owner"] == owner else logged.head(0)


def log_followup(db: str, **fields) -> int:
    """Write one follow-up at once (a write: bumps the version); FollowupError when refused,
    also for a rep's customer of another owner."""
    return plan_engine.log_followup(db, actor=auth.actor("log_followup"),
                                    only_owner=auth.scope(), **fields)


def set_followup_status(db: str, followup_id: int, status: str) -> None:
    """Change a follow-up's status (a write: bumps the version); FollowupError when refused."""
    plan_engine.set_followup_status(db, followup_id, status, actor=auth.actor("log_followup"),
                                    only_owner=auth.scope())
