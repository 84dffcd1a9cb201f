"""Lifetime value 客户终身价值: who is still a customer, what they are worth ahead, how well the models hold up."""
import streamlit as st

from engine.clv_page import LENSES
from report import charts
from ui import clv_small_data, context, format
from ui.data import clv as clv_data
from ui.data import clv_fit as clv_fit_data
from ui.data.common import made_on_click
from ui.downloads import file_buttons
from ui.settings import scoring_settings

ctx = context.require()
t = ctx.t
st.title(t("clv.title"))
context.require_database("source.needs.clv")
settings = scoring_settings()
with st.spinner(t("clv.fitting")):
    fit = clv_fit_data.clv_fit(ctx.db, ctx.version, ctx.as_of)
if fit["error"] is not None:
    clv_small_data.show(ctx, fit["error"])
result, totals = fit["result"], fit["totals"]
st.caption(t("clv.caption", as_of=ctx.as_of, customers=totals["customers"],
             rate=result.settings.annual_discount_rate))
if result.partial:
    st.warning(t("clv.partial", reason=result.spend_error.message(ctx.lang)))

cards = context.card_row(4)
cards[0].metric(t("clv.kpi.customers"), f"{totals['customers']:,}", help=t("clv.kpi.customers_help"),
                border=True)
cards[1].metric(t("clv.kpi.p_alive"), f"{totals['mean_p_alive']:.1%}", help=t("clv.kpi.p_alive_help"),
                border=True)
cards[2].metric(t("clv.kpi.purchases"), f"{totals['expected_purchases']:,.0f}",
                help=t("clv.kpi.purchases_help", short=f"{totals['expected_purchases_short']:,.0f}"),
                border=True)
cards[3].metric(t("clv.kpi.clv"), format.money(totals["clv"], ctx.lang, ctx.currency),
                help=format.money_help(t("clv.kpi.clv_help"), totals["clv"], ctx.lang, ctx.currency),
                border=True)


def downloads(file_name: str, slipping: tuple | None = None) -> None:
    """CSV and Excel buttons; the file is built when clicked (a million rows take a while)."""
    file_buttons(t, file_name, lambda kind: made_on_click(
        clv_data.clv_file, ctx.db, ctx.version, ctx.as_of, settings, ctx.lang, kind, slipping),
        key=f"clv.download.{file_name}")


name = f"clv_{ctx.as_of:%Y%m%d}"
st.caption(t("clv.download_all"))
downloads(name)

SPEND = ("expected_spend", "clv_12m", "clv_12m_low", "clv_12m_high")
COLUMNS = ["customer_id", "name", "tier", "segment", "pyramid", "revenue_12m", "p_alive",
           "expected_purchases_90d", "expected_purchases_12m", *([] if result.partial else SPEND)]
config = {c: t(f"clv.col.{c}") for c in COLUMNS} | {
    c: st.column_config.NumberColumn(t(f"clv.col.{c}"), format="%.2f")
    for c in ("expected_purchases_90d", "expected_purchases_12m")} | {
    c: st.column_config.NumberColumn(t(f"clv.col.{c}"), format="yen")
    for c in ("revenue_12m", *SPEND)} | {
    "p_alive": st.column_config.ProgressColumn(t("clv.col.p_alive"), format=format.POINTS,
                                              min_value=0, max_value=100)}

st.subheader(t("clv.dist.title"))
view = clv_data.clv_customers(ctx.db, ctx.version, ctx.as_of, settings, ctx.lang)
lenses = [lens for lens in LENSES if view["categories"][lens]]
lens = st.radio(t("clv.dist.lens"), lenses, format_func=lambda lens: t(f"clv.lens.{lens}"),
                horizontal=True, key="clv.lens")
if view["segment_error"]:
    st.info(t("clv.dist.no_segments", reason=view["segment_error"]))
spread = clv_data.clv_distribution(ctx.db, ctx.version, ctx.as_of, settings, ctx.lang, lens)
left, right = st.columns(2)
left.plotly_chart(charts.quantile_boxes(spread, column="p_alive", y_title=t("clv.col.p_alive"),
                                        tickformat=".0%"))
if result.partial:
    right.info(t("clv.no_spend"))
else:
    right.plotly_chart(charts.quantile_boxes(spread, column="clv_12m", y_title=t("clv.col.clv_12m"),
                                             color=charts.PALETTE[2]))
st.caption(t("clv.dist.caption"))
group_columns = ["key", "customers", "p_alive_mean",
                 *([] if result.partial else ["clv_12m_mean", "clv_12m_sum", "clv_12m_share"])]
shares = [c for c in ("p_alive_mean", "clv_12m_share") if c in group_columns]
st.dataframe(format.in_points(spread[group_columns], shares), hide_index=True, column_config={
    "key": t(f"clv.lens.{lens}"),
    "customers": st.column_config.NumberColumn(t("clv.group.customers"), format="localized"),
    "p_alive_mean": st.column_config.NumberColumn(t("clv.group.p_alive_mean"), format=format.POINTS),
    "clv_12m_mean": st.column_config.NumberColumn(t("clv.group.clv_mean"), format="yen"),
    "clv_12m_sum": st.column_config.NumberColumn(t("clv.group.clv_sum"), format="yen"),
    "clv_12m_share": st.column_config.NumberColumn(t("clv.group.clv_share"), format=format.POINTS)})

st.subheader(t("clv.top.title"))
if result.partial:
    st.info(t("clv.no_spend"))
else:
    n = st.slider(t("clv.top.count"), 10, 50, 20, step=5, key="clv.top")
    top = clv_data.clv_top(ctx.db, ctx.version, ctx.as_of, settings, ctx.lang, n)
    st.plotly_chart(charts.value_band(top, label="label", value="clv_12m", low="clv_12m_low",
                                      high="clv_12m_high", x_title=t("clv.col.clv_12m")))
    st.caption(t("clv.top.band", level=result.settings.band_level))
    st.dataframe(format.in_points(top[COLUMNS], ["p_alive"]), hide_index=True, column_config=config)

st.subheader(t("clv.slip.title"))
left, right = st.columns(2)
share = left.slider(t("clv.slip.top_share"), 5, 50, 20, step=5, format="%d%%", key="clv.slip.share")
alive = right.slider(t("clv.slip.max_p_alive"), 5, 95, 50, step=5, format="%d%%", key="clv.slip.alive")
slipping = clv_data.clv_slipping(ctx.db, ctx.version, ctx.as_of, settings, ctx.lang, share / 100, alive / 100)
st.markdown(t("clv.slip.count", count=len(slipping), share=share, p_alive=alive))
if len(slipping):
    st.dataframe(format.in_points(slipping[COLUMNS].head(2_000), ["p_alive"]), hide_index=True,
                 column_config=config)
    downloads(f"{name}_slipping", (share / 100, alive / 100))

st.subheader(t("clv.holdout.title"))
span = clv_data.clv_calibration_range(ctx.db, ctx.version, ctx.as_of)
if span is None:
    st.info(t("clv.holdout.too_short"))
else:
    end = st.columns([1, 2])[0].date_input(
        t("clv.holdout.calibration_end"), value=span[0], min_value=span[1], max_value=span[2],
        key=f"clv.calibration_end:{ctx.as_of}", help=t("clv.holdout.help"))
    with st.spinner(t("clv.fitting")):
        check = clv_fit_data.clv_holdout(ctx.db, ctx.version, ctx.as_of, end)
    if "error" in check:
        st.info(t("clv.holdout.unavailable", reason=check["error"].message(ctx.lang)))
    else:
        holdout = check["holdout"]
        st.markdown(t("clv.holdout.totals", start=holdout["start"], end=holdout["end"],
                      actual=holdout["actual"], predicted=holdout["predicted"]))
        st.plotly_chart(charts.holdout_check(
            check["by_frequency"], actual=t("clv.holdout.actual"),
            predicted=t("clv.holdout.predicted"), x_title=t("clv.holdout.x"),
            y_title=t("clv.holdout.y"), customers=t("clv.group.customers")))
        st.caption(t("clv.holdout.caption"))

with st.expander(t("clv.params.title")):
    st.dataframe(fit["parameters"], hide_index=True, column_config={
        "model": t("clv.params.model"), "parameter": t("clv.params.parameter"),
        "value": st.column_config.NumberColumn(t("clv.params.value"), format="%.4g"),
        "standard_error": st.column_config.NumberColumn(t("clv.params.standard_error"),
                                                        format="%.3g")})
    st.caption(t("clv.params.bgnbd", unit=t(f"clv.unit.{result.settings.time_unit}"),
                 customers=result.bgnbd.customers))
    if not result.partial:
        st.caption(t("clv.params.gamma_gamma", repeat=result.gamma_gamma.customers))
