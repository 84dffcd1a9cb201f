"""Audit log 操作日志 (admins only): who imported, undid, reset, changed settings or logged a
follow-up, and when. Only an admin's navigation holds this page, and ui.data refuses the
log to anyone else."""
import functools
from pathlib import Path

import streamlit as st

from engine import i18n
from ui import context
from ui.data import audit as audit_data
from ui.data.common import on_click

lang = context.language()
t = functools.partial(i18n.t, lang=lang)
st.title(t("audit.title"))
st.caption(t("audit.caption"))
ctx = context.current()
if ctx is None or not Path(ctx.db).exists():
    st.info(t("audit.none"))
    st.stop()

options = audit_data.audit_filters(ctx.db, ctx.version)
if options["first"] is None:
    st.info(t("audit.none"))
    st.stop()
row = st.columns([2, 2, 2])
actors = row[0].multiselect(t("audit.filter.actor"), options["actors"], key="audit.actors",
                            placeholder=t("customers.all"))
actions = row[1].multiselect(t("audit.filter.action"), options["actions"], key="audit.actions",
                             placeholder=t("customers.all"),
                             format_func=lambda a: i18n.label("audit_action", a, lang))
days = row[2].date_input(t("audit.filter.days"), value=(options["first"], options["last"]),
                         key=f"audit.days.{options['last']}")   # a new day widens the range
start, end = (tuple(days) + (None, None))[:2]   # one day picked so far: from that day on
args = (ctx.db, ctx.version, tuple(actors), tuple(actions), start, end, lang)
log = audit_data.audit_view(*args)
total = len(audit_data.audit_view(ctx.db, ctx.version, (), (), None, None, lang))
st.markdown(t("audit.count", shown=len(log), total=total))
if not len(log):
    st.info(t("audit.no_match"))
    st.stop()
st.download_button(t("common.download_csv"), on_click(audit_data.audit_file(*args)), "audit_log.csv", "text/csv",
                   icon=":material/download:")
st.dataframe(log, hide_index=True, width="stretch", column_config={
    "at": st.column_config.DatetimeColumn(t("audit.col.at"), format="YYYY-MM-DD HH:mm:ss"),
    "actor": t("audit.col.actor"), "action": t("audit.col.action"),
    "detail": st.column_config.TextColumn(t("audit.col.detail"), width="large")})
