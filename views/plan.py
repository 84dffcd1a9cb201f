"""Plan 维护计划: the playbook, today's tasks and the follow-up log (DESIGN §4.7)."""
import streamlit as st

from engine.plan import ACTIONS, DEFAULT_PLAYBOOK, MAX_DAYS, OWNER_ROLES, PlaybookError
from engine.plan_page import PLAYBOOK_TARGETS, playbook_from_rows, playbook_rows, target_label
from ui import auth, context
from ui.data import plan as plan_data
from ui.data.common import made_on_click
from ui.downloads import file_buttons
from ui.followup_form import followup_form, show_saved
from ui.settings import scoring_settings

# Rows drawn in the table (the downloads hold every task): a day's calls, not the whole base;
# the overdue rows' colour costs about 0.3 ms a row to send (pandas Styler), 0.6 s for 2,000.
SHOWN = 500
DUE = ("due", "overdue", "all")
FORM = "plan_page.followup"
LATE = "background-color: rgba(196, 78, 82, 0.14); color: #8E1B1F"  # overdue rows stand out
ss = st.session_state


def carry(name: str) -> str:
    """A widget key per language (a keyed widget keeps its old option words otherwise); the
    value chosen in the other language carries over."""
    key, other = f"{name}.{ctx.lang}", f"{name}.{'en' if ctx.lang == 'zh' else 'zh'}"
    if key not in ss and other in ss:
        ss[key] = ss[other]
    return key


def save_playbook(rows) -> None:
    try:
        plan_data.save_playbook(ctx.db, playbook_from_rows(rows))
    except PlaybookError as exc:
        ss["plan_page.playbook_error"] = exc.message(ctx.lang)
    else:
        st.toast(t("plan_page.playbook_saved"))


ctx = context.require()
t = ctx.t
st.title(t("plan_page.title"))
st.caption(t("plan_page.caption", as_of=ctx.as_of))
settings = scoring_settings()

with st.expander(t("plan_page.playbook"), icon=":material/rule:"):
    st.caption(t("plan_page.playbook_note"))
    editable = auth.allowed("edit_playbook") and not ctx.feature_table
    if ctx.feature_table:
        st.info(t("source.needs.playbook"))
    elif not editable:
        st.caption(":material/lock: " + t("access.playbook_admin_only"))
    try:
        rules = plan_data.playbook(ctx.db, ctx.version)
    except PlaybookError as exc:
        st.error(exc.message(ctx.lang))
        rules = DEFAULT_PLAYBOOK
    days = dict(min_value=0, max_value=MAX_DAYS, step=1, required=True, format="%d")
    edited = st.data_editor(
        playbook_rows(rules), num_rows="dynamic", hide_index=True, width="stretch",
        disabled=not editable,
        key=f"plan_page.playbook.{ctx.version}.{ctx.lang}", column_config={
            "action": st.column_config.SelectboxColumn(
                t("plan_page.rule.action"), options=ACTIONS, required=True,
                format_func=lambda c: ctx.label("action", c)),
            "applies_to": st.column_config.SelectboxColumn(
                t("plan_page.rule.applies_to"), options=PLAYBOOK_TARGETS, required=True,
                format_func=lambda c: target_label(c, ctx.lang), width="medium"),
            "cadence_days": st.column_config.NumberColumn(t("plan_page.rule.cadence_days"), **days,
                                                          help=t("plan_page.rule.cadence_help")),
            "first_due_days": st.column_config.NumberColumn(t("plan_page.rule.first_due_days"), **days,
                                                            help=t("plan_page.rule.first_due_help")),
            "owner_role": st.column_config.SelectboxColumn(
                t("plan_page.rule.owner_role"), options=OWNER_ROLES, required=True,
                format_func=lambda c: ctx.label("owner_role", c))})
    save, reset, _ = st.columns([1, 1, 3])
    save.button(t("plan_page.playbook_save"), type="primary", width="stretch",
                on_click=save_playbook, args=(edited,), key="plan_page.playbook_save",
                disabled=not editable)
    reset.button(t("plan_page.playbook_reset"), width="stretch", on_click=save_playbook,
                 args=(playbook_rows(DEFAULT_PLAYBOOK),), key="plan_page.playbook_reset",
                 disabled=not editable)
    if "plan_page.playbook_error" in ss:
        st.error(ss.pop("plan_page.playbook_error"))

options = plan_data.task_options(ctx.db, ctx.version, ctx.as_of, settings)
row = st.columns([2, 2, 1])
owners = row[0].multiselect(t("plan_page.filter.owner"), options["owner"],
                            key=carry("plan_page.owners"), placeholder=t("customers.all"),
                            format_func=lambda o: ctx.label("owner_role", o))
actions = row[1].multiselect(t("plan_page.filter.action"), options["action"],
                             key=carry("plan_page.actions"), placeholder=t("customers.all"),
                             format_func=lambda a: ctx.label("action", a))
due = row[2].selectbox(t("plan_page.filter.due"), DUE, key=carry("plan_page.due"),
                       format_func=lambda d: t(f"plan_page.due.{d}", as_of=ctx.as_of))
filters = (tuple(owners), tuple(actions), due, ctx.lang)
view = plan_data.task_view(ctx.db, ctx.version, ctx.as_of, settings, *filters, SHOWN)
table, codes = view["table"], view["codes"]

cards = st.columns(4)
cards[0].metric(t("plan_page.kpi.tasks"), f"{view['total']:,}", border=True,
                help=t("plan_page.kpi.tasks_help"))
cards[1].metric(t("plan_page.kpi.overdue"), f"{view['overdue']:,}", border=True)
cards[2].metric(t("plan_page.kpi.due_today"), f"{view['due_today']:,}", border=True)
cards[3].metric(t("plan_page.kpi.shown"), f"{view['kept']:,}", border=True)

name = f"call_list_{ctx.as_of:%Y%m%d}"
args = (ctx.db, ctx.version, ctx.as_of, settings, *filters)
file_buttons(t, name, lambda kind: made_on_click(plan_data.task_file, *args, kind),
             disabled=not len(table))

late = codes["overdue"].to_numpy()
styled = table.style.apply(lambda c: [LATE if x else "" for x in late]).format(
    "{:%Y-%m-%d}", subset=["due_date", "last_followup_date"], na_rep="")
event = st.dataframe(
    styled, hide_index=True, height=460, on_select="rerun", selection_mode="single-row",
    key=f"plan_page.tasks.{ss.get(f'{FORM}.saved', 0)}",
    column_order=["state", "customer_id", "name", "action", "tier", "owner", "due_date",
                  "risk_level", "demand_tag", "lifecycle", "last_followup_date",
                  "last_followup_result", "last_followup_status", "followups"],
    column_config={c: t(f"plan_page.col.{c}") for c in table.columns} | {
        "state": st.column_config.TextColumn(t("plan_page.col.state"),
                                             help=t("plan_page.state_help")),
        "risk_level": st.column_config.TextColumn(t("plan_page.col.risk_level"),
                                                  help=t("plan_page.risk_help"))})
st.caption(t("plan_page.pick_hint")
           + (" " + t("plan_page.shown", shown=SHOWN) if view["kept"] > SHOWN else ""))

# Log a follow-up: a row picked in the table (or here) opens the form for that customer.
st.subheader(t("plan_page.log"))
context.require_database("source.needs.followups")
show_saved(ctx, FORM)
PICK = carry("plan_page.pick")
selected = table["customer_id"].iloc[event.selection.rows[0]] if event.selection.rows else None
if selected and selected != ss.get("plan_page.selected"):
    ss[PICK] = ss["plan_page.selected"] = selected
choices = view["names"]
picked = ss.get(PICK)
if picked and picked not in choices:
    task = plan_data.next_action(ctx.db, ctx.version, ctx.as_of, settings, picked)
    if task is None:
        ss[PICK] = None
    else:
        action = ctx.label("action", task["action"])
        choices = {picked: f"{picked} · {task['name'] or ''} · {action}"} | choices
customer = st.selectbox(t("plan_page.pick"), list(choices), format_func=choices.get, index=None,
                        key=PICK, placeholder=t("plan_page.pick_placeholder"))
if customer:
    followup_form(ctx, customer, key=FORM)
