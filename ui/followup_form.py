"""The follow-up log (跟进记录) in a page: log a follow-up, change a follow-up's status.

Shared by the Plan page (for the task picked in the list) and the customer
profile. Every save is one write through engine.plan (via ui.data), which
bumps the data version, so after the rerun every cached view shows the
follow-up: the customer's timeline, the task's new due date, the review.
"""
from __future__ import annotations

from datetime import date, datetime

import streamlit as st

from engine.plan import ACTIONS, OWNER_ROLES, STATUSES, FollowupError
from ui.data import plan as plan_data
from ui.settings import scoring_settings

CHANNELS = ("phone", "wechat", "email", "online", "visit", "other")
FLASH = "followup.flash"   # what the last save did, shown once after the rerun


def followup_form(ctx, customer_id: str, action_default: str | None = None, *,
                  key: str = "followup") -> None:
    """A compact form that logs one follow-up of `customer_id` at once, and a status changer.

    The action defaults to `action_default`, else to the customer's next
    action in the plan, else `other`; the owner to the task's owner. The date
    defaults to the as-of date T or today, whichever is earlier, so the
    follow-up counts for the plan as of T. `key` keeps two forms apart.
    """
    t = ctx.t
    show_saved(ctx, key)
    task = plan_data.next_action(ctx.db, ctx.version, ctx.as_of, scoring_settings(), customer_id)
    late = task is not None and task["overdue"]
    st.caption(_task_words(ctx, task)
               + (" " + t("followup.task_overdue", days=task["days_overdue"]) if late else ""))
    action = action_default or (task["action"] if task is not None else "other")
    owner = task["owner"] if task is not None and task["owner"] not in OWNER_ROLES else ""
    day = min(date.today(), ctx.as_of)
    saves = st.session_state.get(f"{key}.saved", 0)   # a fresh, empty form after each save;
    with st.form(f"{key}.form.{customer_id}.{saves}", border=True):   # a refusal keeps the text
        row = st.columns(4)
        fields = {
            "action": row[0].selectbox(t("followup.action"), ACTIONS, index=ACTIONS.index(action),
                                       format_func=lambda c: ctx.label("action", c)),
            "day": row[1].date_input(t("followup.date"), value=day, help=t("followup.date_help")),
            "channel": row[2].selectbox(t("followup.channel"), CHANNELS,
                                        format_func=lambda c: ctx.label("channel", c)),
            "status": row[3].selectbox(t("followup.status"), STATUSES, index=STATUSES.index("done"),
                                       format_func=lambda c: ctx.label("followup_status", c),
                                       help=t("followup.status_help")),
        }
        row = st.columns(2)
        fields["need"] = row[0].text_input(t("followup.need"), max_chars=500)
        fields["result"] = row[1].text_input(t("followup.result"), max_chars=500)
        row = st.columns([1, 1, 1], vertical_alignment="bottom")
        fields["next_contact_date"] = row[0].date_input(t("followup.next_contact"), value=None)
        fields["owner"] = row[1].text_input(t("followup.owner"), value=owner, max_chars=60)
        saved = row[2].form_submit_button(t("followup.save"), type="primary", width="stretch",
                                          icon=":material/save:")
    if saved:
        _save(ctx, customer_id, key, fields)
    _status_changer(ctx, customer_id, key)


def _save(ctx, customer_id: str, key: str, fields: dict) -> None:
    day = fields.pop("day")
    now = datetime.now().replace(microsecond=0)
    ts = now if day == now.date() else datetime(day.year, day.month, day.day, now.hour, now.minute)
    text = {k: (fields[k] or "").strip() or None for k in ("need", "result", "owner")}
    try:
        followup_id = plan_data.log_followup(ctx.db, customer_id=customer_id, ts=ts, **(fields | text))
    except FollowupError as exc:
        st.error(exc.message(ctx.lang))
        return
    st.session_state[FLASH] = {"key": key, "customer_id": customer_id, "kind": "saved",
                               "id": followup_id, "after_t": day > ctx.as_of}
    st.session_state[f"{key}.saved"] = st.session_state.get(f"{key}.saved", 0) + 1
    st.rerun()


def _status_changer(ctx, customer_id: str, key: str) -> None:
    """Pick one of the customer's follow-ups and give it another status."""
    t = ctx.t
    logged = plan_data.customer_followups(ctx.db, ctx.version, customer_id)
    if not len(logged):
        return
    names = {int(r.followup_id): t("followup.entry", id=int(r.followup_id), date=f"{r.ts:%Y-%m-%d}",
                                   action=ctx.label("action", r.action),
                                   status=ctx.label("followup_status", r.status))
             for r in logged.itertuples()}
    with st.form(f"{key}.status.{customer_id}", border=False):
        row = st.columns([3, 1, 1], vertical_alignment="bottom")
        chosen = row[0].selectbox(t("followup.change_which"), list(names), format_func=names.get)
        status = row[1].selectbox(t("followup.new_status"), STATUSES,
                                  format_func=lambda c: ctx.label("followup_status", c))
        changed = row[2].form_submit_button(t("followup.change"), width="stretch")
    if changed:
        try:
            plan_data.set_followup_status(ctx.db, chosen, status)
        except FollowupError as exc:
            st.error(exc.message(ctx.lang))
            return
        st.session_state[FLASH] = {"key": key, "customer_id": customer_id, "kind": "status",
                                   "id": chosen, "status": status}
        st.rerun()


def show_saved(ctx, key: str) -> None:
    """Once, after the rerun: what the last save of the form `key` did, and the task now."""
    flash = st.session_state.get(FLASH)
    if not flash or flash["key"] != key:
        return
    del st.session_state[FLASH]
    t = ctx.t
    if flash["kind"] == "status":
        st.success(t("followup.status_changed", id=flash["id"],
                     status=ctx.label("followup_status", flash["status"])))
        return
    task = plan_data.next_action(ctx.db, ctx.version, ctx.as_of, scoring_settings(),
                                 flash["customer_id"])
    st.success(t("followup.saved", id=flash["id"], customer=flash["customer_id"]) + " "
               + _task_words(ctx, task))
    if flash["after_t"]:
        st.info(t("followup.after_as_of", as_of=ctx.as_of))


def _task_words(ctx, task: dict | None) -> str:
    """The customer's task in a sentence: next action, due date, owner (or that there is none)."""
    if task is None:
        return ctx.t("followup.no_task")
    return ctx.t("followup.task_now", action=ctx.label("action", task["action"]),
                 due=f"{task['due_date']:%Y-%m-%d}", owner=ctx.label("owner_role", task["owner"]))
