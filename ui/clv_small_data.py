"""The Lifetime value page when its models cannot be fitted (small or short data).

Instead of the fit's technical refusal alone, the manager reads what is
missing (repeat buyers: how many the models need, how many there are), sees
what the data still tell (each buyer's past value, recency and purchase
days, with the profile's order history a click away) and what to do.
"""
from __future__ import annotations

import streamlit as st

from report import charts
from ui import format
from ui.data import clv as clv_data

ss = st.session_state


def show(ctx, error) -> None:
    """Draw the page for `error` (an engine.clv.ClvUnavailable), then stop it."""
    t = ctx.t
    facts = clv_data.clv_small_data(ctx.db, ctx.version, ctx.as_of)
    repeat, needed = facts["repeat_buyers"], facts["needed"]
    st.warning(t("clv.small.missing", buyers=facts["buyers"], repeat=repeat, needed=needed)
               + " " + t("clv.small.too_few" if repeat < needed else "clv.small.unsettled",
                         needed=needed, short=max(needed - repeat, 0)),
               icon=":material/info:")
    st.caption(t("clv.unavailable", reason=error.message(ctx.lang)))
    past = facts["past"]
    cards = st.columns(4)
    cards[0].metric(t("clv.small.buyers"), f"{facts['buyers']:,}", border=True)
    cards[1].metric(t("clv.small.repeat"), f"{repeat:,}", border=True,
                    delta=t("clv.small.needed", needed=needed), delta_color="off",
                    delta_arrow="off")
    cards[2].metric(t("clv.small.revenue"),
                    format.money(past["revenue_12m"].sum(), ctx.lang, ctx.currency), border=True)
    recency = past["days_since_last_purchase"].median()
    cards[3].metric(t("clv.small.recency"), "—" if recency != recency else f"{recency:,.0f}",
                    border=True, help=t("clv.small.recency_help"))
    st.subheader(t("clv.small.todo_title"))
    st.markdown(t("clv.small.todo", needed=needed))
    st.subheader(t("clv.small.history_title"))
    st.plotly_chart(charts.count_columns(facts["purchase_days"], x="purchase_days", y="customers",
                                         x_title=t("clv.small.col.purchase_days"),
                                         y_title=t("clv.group.customers")),
                    key="clv.small.history")
    st.subheader(t("clv.small.past_title"))
    event = st.dataframe(
        past.head(2_000), hide_index=True, height=420, on_select="rerun",
        selection_mode="single-row", key="clv.small.past",
        column_config={c: t(f"clv.small.col.{c}") for c in past.columns} | {
            "revenue_12m": st.column_config.NumberColumn(t("clv.small.col.revenue_12m"),
                                                         format="yen"),
            **{c: st.column_config.DateColumn(t(f"clv.small.col.{c}"))
               for c in ("first_purchase_date", "last_purchase_date")}})
    st.caption(t("clv.small.pick_hint"))
    if event.selection.rows:
        customer = past["customer_id"].iloc[event.selection.rows[0]]
        ss["profile.customer"] = customer
        st.switch_page("views/profile.py", query_params={"customer": customer})
    st.stop()
