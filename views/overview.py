"""Overview 总览: how the customer base is doing as of the chosen date."""
from datetime import timedelta

import streamlit as st

from report import charts
from ui import context, format
from ui.data import sources as sources_data


def pareto(base: dict) -> None:
    st.subheader(t("overview.pareto.title"))
    share = base["pareto_share"]
    st.markdown(t("overview.pareto.summary", share=share) if share is not None
                else t("overview.pareto.none"))
    st.plotly_chart(charts.pareto_curve(base["pareto_curve"], share_at_80=share,
                                        x_title=t("overview.pareto.x"),
                                        y_title=t("overview.pareto.y")))


ctx = context.require()
t = ctx.t
st.title(t("overview.title"))
st.caption(t("overview.caption", as_of=ctx.as_of))

base = sources_data.customer_base(ctx.db, ctx.version, ctx.as_of)
if ctx.feature_table:  # the rest of the page reads raw events
    st.info(t("source.needs.overview"), icon=":material/database:")
    st.metric(t("overview.kpi.customers"), f"{base['kpis']['customers']:,}", border=True,
              help=t("overview.kpi.customers_help"), width=240)
    pareto(base)
    st.stop()
view = sources_data.overview(ctx.db, ctx.version, ctx.as_of)
kpis = base["kpis"] | view["kpis"]
customers = kpis["customers"]

cards = context.card_row(5)
cards[0].metric(t("overview.kpi.customers"), f"{customers:,}", help=t("overview.kpi.customers_help"),
                border=True)
cards[1].metric(t("overview.kpi.active"), f"{kpis['active_90d']:,}",
                delta=t("overview.share_of_customers", share=kpis["active_90d"] / customers) if customers else None,
                delta_color="off", help=t("overview.kpi.active_help"), border=True)
revenue, previous = float(kpis["revenue_12m"] or 0), float(kpis["revenue_prev_12m"] or 0)
compared = bool(kpis["prev_12m_complete"] and previous)
change = (f"{(revenue - previous) / abs(previous):+.1%}" if compared
          else t("overview.kpi.revenue_no_prev"))
cards[2].metric(t("overview.kpi.revenue"), format.money(revenue, ctx.lang, ctx.currency),
                delta=change, delta_color="normal" if compared else "off",
                delta_arrow="auto" if compared else "off", border=True,
                help=format.money_help(t("overview.kpi.revenue_help"), revenue, ctx.lang,
                                       ctx.currency))
cards[3].metric(t("overview.kpi.complaints"), f"{kpis['complaints_90d']:,}", border=True)
satisfaction = kpis["satisfaction_90d"]
cards[4].metric(t("overview.kpi.satisfaction"),
                f"{satisfaction:.2f} / 5" if satisfaction is not None else t("overview.kpi.no_rating"),
                help=t("overview.kpi.satisfaction_help", n=kpis["rated_90d"]), border=True)

st.subheader(t("overview.trend.title"))
st.plotly_chart(charts.revenue_and_buyers(view["monthly"], revenue=t("overview.trend.revenue"),
                                          buyers=t("overview.trend.active"),
                                          month=t("overview.trend.month")))
if (ctx.as_of + timedelta(days=1)).day != 1:
    st.caption(t("overview.trend.partial", as_of=ctx.as_of))

left, right = st.columns(2)
for column, key, kind, frame in ((left, "overview.by_region", "region", view["by_region"]),
                                 (right, "overview.by_source", "source", view["by_source"])):
    with column:
        st.subheader(t(key))
        frame = frame.assign(key=frame["key"].map(lambda k: ctx.label(kind, k) if k else
                                                  t("overview.unknown")))
        st.plotly_chart(charts.horizontal_bars(frame, label="key", value="revenue",
                                               value_title=t("overview.revenue")))

pareto(base)
