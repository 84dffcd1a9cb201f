"""The maintenance plan: the playbook, tasks and follow-ups."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import streamlit as st

from engine import i18n, profile, store
from engine import plan as plan_engine
from engine.features.followup_state import followup_state as read_followup_state
from engine.features.followup_state import no_followups
from ui import auth
from ui.data.common import download_files, for_reader, owned
from ui.data.risk import RISK_CODES, _in_words, risk_assessment
from ui.data.scoring import scores
from ui.data.sources import features, is_feature_table

TASK_STATES = ("overdue", "due", "upcoming")   # due before T, on T, after T


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


def _tiers(db: str, version: int, as_of: date, settings: tuple) -> pd.Series:
    frame = scores(db, version, as_of, *settings)
    return pd.Series(frame["tier"].to_numpy(), index=frame["customer_id"].to_numpy())


@st.cache_data(show_spinner=False, max_entries=16)
def tasks(db: str, version: int, as_of: date, settings: tuple):
    """The task list as of T under the saved playbook and the tiers of `settings` (codes)."""
    try:
        rules = playbook(db, version)
    except plan_engine.PlaybookError:
        rules = plan_engine.DEFAULT_PLAYBOOK   # the page says so; the tasks still follow §4.7
    return plan_engine.task_list(features(db, version, as_of),
                                 tiers=_tiers(db, version, as_of, settings),
                                 followup_state=followup_state(db, version, as_of), as_of=as_of,
                                 playbook=rules, assessed=risk_assessment(db, version, as_of))


@for_reader
def task_options(db: str, version: int, as_of: date, settings: tuple, *,
                 owner=None) -> dict[str, list]:
    """The owners and actions the task filters offer, most tasks first."""
    table = owned(tasks(db, version, as_of, settings), owner)
    return {name: [v for v, n in table[name].value_counts().items() if n]
            for name in ("owner", "action")}


@for_reader
@st.cache_data(show_spinner=False, max_entries=32)
def task_view(db: str, version: int, as_of: date, settings: tuple, owners: tuple,
              actions: tuple, due: str, lang: str, *, owner=None) -> dict:
    """The filtered tasks (codes kept in "codes", words in "table") and their counts.

    due: "all", "due" (due on or before T) or "overdue". "names" maps each
    shown customer_id to "id · name · action" for a picker. A task's owner
    is the customer's owner (else a role code), so `owner` keeps a rep's own.
    """
    table = owned(tasks(db, version, as_of, settings), owner)
    keep = pd.Series(True, index=table.index)
    if owners:
        keep &= table["owner"].isin(owners)
    if actions:
        keep &= table["action"].isin(actions)
    if due == "due":
        keep &= table["due_date"] <= pd.Timestamp(as_of)
    elif due == "overdue":
        keep &= table["overdue"]
    shown = table[keep].reset_index(drop=True)
    today = (shown["due_date"] == pd.Timestamp(as_of)).to_numpy()
    shown.insert(0, "state", pd.Categorical.from_codes(
        np.select([shown["overdue"].to_numpy(), today], [0, 1], 2), categories=TASK_STATES))
    words = _task_words(shown, lang)
    names = (words["customer_id"].astype(str) + " · " + words["name"].fillna("").astype(str)
             + " · " + words["action"].astype(str))
    return {"codes": shown, "table": words, "names": dict(zip(shown["customer_id"], names)),
            "total": len(table),
            "overdue": int(table["overdue"].sum()),
            "due_today": int((table["due_date"] == pd.Timestamp(as_of)).sum())}


def _task_words(shown: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The tasks in the reader's words, an overdue state with its days ("Overdue by 553
    days"), and no "low" churn risk beside a churned lifecycle: the risk rules watch spend in
    the last 180 days and recent complaints, so a customer gone longer has nothing left for
    them to flag; the row says "already churned" instead of a reassuring "low"."""
    words = _in_words(shown, lang)
    late = shown["overdue"].to_numpy(dtype=bool)
    if late.any():
        days = shown.loc[late, "days_overdue"]
        said = {d: i18n.t("plan_page.overdue_days", lang, days=f"{d:,}") for d in days.unique()}
        words["state"] = words["state"].astype(object)
        words.loc[late, "state"] = days.map(said).to_numpy()
    gone = ((shown["lifecycle"] == "churned") & (shown["risk_level"] == "low")).to_numpy()
    if gone.any():
        words["risk_level"] = words["risk_level"].astype(object)
        words.loc[gone, "risk_level"] = i18n.t("plan_page.risk_churned", lang)
    return words


@for_reader
@st.cache_data(show_spinner=False, max_entries=16)
def task_files(db: str, version: int, as_of: date, settings: tuple, owners: tuple,
               actions: tuple, due: str, lang: str, *, owner=None) -> dict[str, bytes]:
    """The filtered task list as a call list (CSV and Excel), headed in the reader's language."""
    table = task_view(db, version, as_of, settings, owners, actions, due, lang)["table"]
    table = table.drop(columns=["owner_role", "last_followup_id"])
    return download_files(table, {c: i18n.t(f"plan_page.col.{c}", lang) for c in table.columns},
                          i18n.t("plan_page.call_list_sheet", lang), lang)


@for_reader
def next_action(db: str, version: int, as_of: date, settings: tuple, customer_id: str, *,
                owner=None) -> dict | None:
    """The customer's task as {action, owner, due_date, overdue, ...}, or None without one."""
    table = owned(tasks(db, version, as_of, settings), owner)
    row = table.index[table["customer_id"] == customer_id]
    return table.loc[row[0]].to_dict() if len(row) else None


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


# The playbook in a data editor: "applies to" joins a rule's column and value ("tier:high").
PLAYBOOK_TARGETS = tuple(f"{c}:{v}" for c, values in plan_engine.RULE_COLUMNS.items() for v in values)


def playbook_rows(rules) -> pd.DataFrame:
    """The rules as editor rows: action, applies_to, cadence_days, first_due_days, owner_role."""
    frame = pd.DataFrame(plan_engine.playbook_records(rules), columns=plan_engine.RULE_FIELDS)
    frame.insert(1, "applies_to", frame["column"] + ":" + frame["value"])
    return frame.drop(columns=["column", "value"])


def playbook_from_rows(rows: pd.DataFrame) -> list[dict]:
    """Editor rows back to playbook records (engine.plan validates them when saved)."""
    records = []
    for row in rows.to_dict("records"):
        column, _, value = str(row.pop("applies_to") or "").partition(":")
        records.append(row | {"column": column or None, "value": value or None})
    return records


def target_label(target: str, lang: str) -> str:
    """"tier:high" in words: "Value tier: High value"."""
    column, _, value = target.partition(":")
    return i18n.t("plan_page.target", lang, column=i18n.label("playbook_column", column, lang),
                  value=i18n.label(RISK_CODES[column], value, lang))
