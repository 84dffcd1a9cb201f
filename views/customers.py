"""Customers 客户列表: find customers by any lens, download the list, open a profile."""
import streamlit as st

from engine.profile import FILTER_COLUMNS
from engine.scoring import DIMENSIONS
from ui import context
from ui.data import customers as customers_data
from ui.data.common import made_on_click
from ui.downloads import file_buttons
from ui.settings import scoring_settings

SHOWN = 2_000  # rows drawn in the table; the downloads hold every match
KINDS = {"tiers": "tier", "rfm_segments": "rfm", "pyramid": "pyramid", "sources": "source",
         "customer_types": "customer_type"}  # filters whose values are codes
ss = st.session_state


def remember(key: str, default, allowed=None) -> str:
    """Start a widget from its value on the last visit (widget state ends with the page)."""
    value = ss.get(key, ss.get(f"kept.{key}", default))
    ss[key] = value if allowed is None else [v for v in value if v in allowed]
    return key


def keep(key: str) -> None:
    ss[f"kept.{key}"] = ss[key]


ctx = context.require()
t = ctx.t
st.title(t("customers.title"))
weights, thresholds, clv = scoring_settings()
st.caption(t("customers.caption", as_of=ctx.as_of, weights=" / ".join(f"{w:g}" for w in weights),
             high=thresholds[0], potential=thresholds[1])
           + (" " + t("scoring.clv.in_use") if clv else ""))

options = customers_data.customer_filter_options(ctx.db, ctx.version, ctx.as_of)
search = st.text_input(t("customers.search"), key=remember("customers.search", ""),
                       placeholder=t("customers.search_placeholder"))
keep("customers.search")
filters = {}
columns = st.columns(4) + st.columns(4)
for column, name in zip(columns, FILTER_COLUMNS):
    kind = KINDS.get(name)
    key = remember(f"customers.filter.{name}", [], options[name])
    filters[name] = tuple(column.multiselect(
        t(f"customers.filter.{name}"), options[name], key=key, placeholder=t("customers.all"),
        format_func=(lambda code, kind=kind: ctx.label(kind, code)) if kind else str))
    keep(key)

listed = customers_data.customer_list(ctx.db, ctx.version, ctx.as_of, weights, thresholds, filters, search,
                                      ctx.lang, clv, SHOWN)
table, found = listed["table"], listed["count"]
total = customers_data.customer_count(ctx.db, ctx.version, ctx.as_of)
st.markdown(t("customers.count", shown=found, total=total))
if not found:
    st.info(t("customers.none"))
    st.stop()

name = f"customers_{ctx.as_of:%Y%m%d}"
args = (ctx.db, ctx.version, ctx.as_of, weights, thresholds, filters, search, ctx.lang)
file_buttons(t, name, lambda kind: made_on_click(customers_data.customer_list_file, *args, kind,
                                                 clv))

score_format = {c: st.column_config.NumberColumn(t(f"customers.col.{c}"), format="%.1f")
                for c in ("score", *DIMENSIONS)}
event = st.dataframe(
    table, hide_index=True, key="customers.table", on_select="rerun", height=560,
    selection_mode="single-row",
    column_config={c: t(f"customers.col.{c}") for c in table.columns} | score_format | {
        "revenue_12m": st.column_config.NumberColumn(t("customers.col.revenue_12m"), format="yen"),
        "last_purchase_date": st.column_config.DateColumn(t("customers.col.last_purchase_date"))})
st.caption(t("customers.pick_hint") + (" " + t("customers.shown", shown=SHOWN) if found > SHOWN
                                       else ""))
if event.selection.rows:
    customer = table["customer_id"].iloc[event.selection.rows[0]]
    ss["profile.customer"] = customer
    st.switch_page("views/profile.py", query_params={"customer": customer})
