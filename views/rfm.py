"""RFM: the R × F grid and the named segments with what to do about each (DESIGN §4.3)."""
import streamlit as st

from report import charts
from ui import context, format
from ui.data import scoring as scoring_data

ctx = context.require()
t = ctx.t
st.title(t("rfm.title"))
view = scoring_data.rfm_view(ctx.db, ctx.version, ctx.as_of)
st.caption(t("rfm.caption", as_of=ctx.as_of, buyers=view["buyers"], customers=view["customers"]))
if not view["buyers"]:
    st.info(t("rfm.no_buyers"))
    st.stop()

cells = view["cells"]
cells = cells.assign(count=cells["customers"].map("{:,}".format),
                     money=cells["revenue"].map(lambda v: format.money(v, ctx.lang, ctx.currency)))
left, right = st.columns(2)
for column, value, text, key, scale in ((left, "customers", "count", "rfm.grid.customers", "Blues"),
                                        (right, "revenue", "money", "rfm.grid.revenue", "Greens")):
    with column:
        st.subheader(t(key))
        st.plotly_chart(charts.rfm_heatmap(cells, value=value, text=text, x_title=t("rfm.f_axis"),
                                           y_title=t("rfm.r_axis"), colorscale=scale))
st.caption(t("rfm.grid_note"))

segments = view["segments"]
segments = segments.assign(label=segments["key"].map(lambda s: ctx.label("rfm", s)),
                           stance=segments["key"].map(lambda s: t(f"rfm.stance.{s}")))
st.subheader(t("rfm.segments"))
st.plotly_chart(charts.segment_treemap(segments, label="label", value="customers"))
headers = {"label": t("rfm.col.segment"), "customers": t("scoring.col.customers"),
           "customer_share": t("scoring.col.customer_share"), "revenue": t("scoring.col.revenue"),
           "revenue_share": t("scoring.col.revenue_share"), "stance": t("rfm.col.stance")}
st.table(format.wrapping_table(segments, headers, {
    "customers": "{:,}", "customer_share": "{:.1%}", "revenue": ctx.currency + "{:,.0f}",
    "revenue_share": "{:.1%}"}))
st.caption(t("rfm.segments_note"))
