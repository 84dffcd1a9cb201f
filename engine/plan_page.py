"""What the Plan page shows of the task list (engine.plan.task_list): the filters it
offers, the filtered tasks in the reader's words with their counts, one customer's
task, and the playbook as rows of a data editor."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from engine import i18n, plan
from engine.words import RISK_CODES, in_words

TASK_STATES = ("overdue", "due", "upcoming")   # due before T, on T, after T
# The playbook in a data editor: "applies to" joins a rule's column and value ("tier:high").
PLAYBOOK_TARGETS = tuple(f"{c}:{v}" for c, values in plan.RULE_COLUMNS.items() for v in values)


def tiers_by_customer(scores: pd.DataFrame) -> pd.Series:
    """The tier of each customer of a scores frame, indexed by customer_id (as task_list
    takes them)."""
    return pd.Series(scores["tier"].to_numpy(), index=scores["customer_id"].to_numpy())


def task_options(tasks: pd.DataFrame) -> dict[str, list]:
    """The owners and actions the task filters offer, most tasks first (ties in the
    order of their first task)."""
    return {name: [v for v, n in tasks[name].value_counts().items() if n]
            for name in ("owner", "action")}


def task_view(tasks: pd.DataFrame, *, owners: tuple, actions: tuple, due: str, as_of: date,
              lang: str, rows: int | None = None) -> dict:
    """The tasks the filters keep (codes in "codes", words in "table") and the counts of
    all of them.

    Empty `owners` or `actions` keep every one; `due`: "all", "due" (due on
    or before T) or "overdue". Each kept task gets a state (TASK_STATES:
    overdue, due on T, upcoming). "names" maps each kept customer_id to
    "id · name · action" for a picker; "total", "overdue" and "due_today"
    count every task, the filters aside, and "kept" the tasks the filters keep.
    With `rows`, "codes", "table" and "names" hold only the first `rows` kept
    tasks: what a page draws of half a million tasks (a million customers), put
    in words in a tenth of the time.
    """
    day = pd.Timestamp(as_of)
    keep = pd.Series(True, index=tasks.index)
    if owners:
        keep &= tasks["owner"].isin(owners)
    if actions:
        keep &= tasks["action"].isin(actions)
    if due == "due":
        keep &= tasks["due_date"] <= day
    elif due == "overdue":
        keep &= tasks["overdue"]
    shown = tasks[keep].reset_index(drop=True)
    kept = len(shown)
    if rows is not None:
        shown = shown.head(rows)
    today = (shown["due_date"] == day).to_numpy()
    shown.insert(0, "state", pd.Categorical.from_codes(
        np.select([shown["overdue"].to_numpy(), today], [0, 1], 2), categories=TASK_STATES))
    words = task_words(shown, lang)
    names = (words["customer_id"].astype(str) + " · " + words["name"].fillna("").astype(str)
             + " · " + words["action"].astype(str))
    return {"codes": shown, "table": words, "names": dict(zip(shown["customer_id"], names)),
            "total": len(tasks), "kept": kept, "overdue": int(tasks["overdue"].sum()),
            "due_today": int((tasks["due_date"] == day).sum())}


def task_words(shown: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The tasks in the reader's words, an overdue state with its days ("Overdue by 553
    days"), and no "low" churn risk beside a churned lifecycle: the risk rules watch spend in
    the last 180 days and recent complaints, so a customer gone longer has nothing left for
    them to flag; the row says "already churned" instead of a reassuring "low"."""
    words = in_words(shown, lang, RISK_CODES)
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


def customer_task(tasks: pd.DataFrame, customer_id: str) -> dict | None:
    """The customer's task as {action, owner, due_date, overdue, ...}, or None without one."""
    row = tasks.index[tasks["customer_id"] == customer_id]
    return tasks.loc[row[0]].to_dict() if len(row) else None


def playbook_rows(rules) -> pd.DataFrame:
    """The rules as editor rows: action, applies_to, cadence_days, first_due_days, owner_role."""
    frame = pd.DataFrame(plan.playbook_records(rules), columns=plan.RULE_FIELDS)
    frame.insert(1, "applies_to", frame["column"] + ":" + frame["value"])
    return frame.drop(columns=["column", "value"])


def playbook_from_rows(rows: pd.DataFrame) -> list[dict]:
    """Editor rows back to playbook records (engine.plan validates them when saved); an
    empty "applies to" gives no column and no value."""
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
