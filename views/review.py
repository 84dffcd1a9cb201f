"""Review 月度复盘: how the chosen month went against the month before."""
import streamlit as st

from report import figures
from ui import context
from ui.data import review as review_data
from ui.downloads import MIME
from ui.settings import scoring_settings

ctx = context.require()
t = ctx.t
st.title(t("review.title"))
context.require_database("source.needs.review")
st.caption(t("review.caption"))

months = review_data.review_months(ctx.db, ctx.version, ctx.as_of)
if not months:
    st.info(t("review.no_months"))
    st.stop()
month = st.selectbox(t("review.month"), months, key="review.month", help=t("review.month_help"),
                     width=240)
review = review_data.monthly_review(ctx.db, ctx.version, month, scoring_settings(),
                                    _progress_text=t("review.computing"))
previous = f"{review.previous:%Y-%m}"
charts = figures.review_figures(review, ctx.lang)

st.subheader(t("review.summary_title", month=month))
st.markdown("\n".join(f"- {line}" for line in review_data.review_summary(review, ctx.lang, ctx.currency)))

for column, card in zip(context.card_row(5), figures.rate_cards(review, ctx.lang)):
    column.metric(card["label"], card["value"], delta=card["detail"], delta_color="off",
                  delta_arrow="off", help=card["help"], border=True)
for column, card in zip(context.card_row(5), figures.kpi_cards(review, ctx.lang)):
    column.metric(card["label"], card["value"], delta=card["delta"],
                  delta_color=card["delta_color"], help=card["help"], border=True)

st.subheader(t("review.trend.title"))
st.caption(t("review.trend.caption"))
st.plotly_chart(charts["rate_trend"], key="review.rate_trend")
st.subheader(t("review.trend.followup_title"))
st.caption(t("review.trend.followup_caption"))
st.plotly_chart(charts["followup_trend"], key="review.followup_trend")

st.subheader(t("review.tier_mix.title"))
st.plotly_chart(charts["tier_mix"], key="review.tier_mix")

st.subheader(t("review.transitions.title", previous=previous, month=month))
moves = review.moves()
st.caption(t("review.transitions.caption", **moves, month=month,
             new=sum(review.new_customers.values())))
heatmap, sankey = st.tabs([t("review.transitions.heatmap"), t("review.transitions.sankey")])
heatmap.plotly_chart(charts["heatmap"], key="review.heatmap")
movers_only = sankey.toggle(t("review.transitions.movers_only"), value=True,
                            key="review.movers_only")
sankey.plotly_chart(charts["sankey_movers" if movers_only else "sankey"], key="review.sankey")

left, right = st.columns(2)
with left:
    st.subheader(t("review.complaints.title"))
    if review.complaints.empty:
        st.info(t("review.complaints.none", previous=previous, month=month))
    else:
        st.plotly_chart(charts["complaints"], key="review.complaints")
with right:
    st.subheader(t("review.satisfaction.title"))
    st.plotly_chart(charts["satisfaction"], key="review.satisfaction")

st.subheader(t("review.revenue.title"))
st.caption(t("review.revenue.caption"))
st.plotly_chart(charts["revenue"], key="review.revenue")

st.subheader(t("review.download.title"))
html_column, xlsx_column, _ = st.columns([1, 1, 2])
html_column.download_button(t("review.download.html"), icon=":material/description:",
                            data=lambda: review_data.review_report_html(review, ctx.lang,
                                                                        ctx.currency),
                            file_name=f"review-{month}.html", mime="text/html")
xlsx_column.download_button(t("review.download.xlsx"), icon=":material/table_view:",
                            data=lambda: review_data.review_workbook(review, ctx.lang, ctx.currency),
                            file_name=f"review-{month}.xlsx",
                            mime=MIME["xlsx"])
