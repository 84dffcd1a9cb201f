"""Risk 流失预警: who is sleeping or slipping, and why (DESIGN §4.4–4.6); a learned model beside."""
import pandas as pd
import streamlit as st

from engine.risk import DEMAND_TAGS, RISK_LEVELS
from report import charts
from ui import context, format
from ui.data import risk as risk_data
from ui.data.common import made_on_click
from ui.downloads import file_buttons
from ui.settings import scoring_settings

SHOWN = 2_000  # rows drawn per list; the downloads hold every customer
ORDER = ("customer_id", "name", "revenue_12m", "risk_reasons", "churn_probability", "model_alert",
         "owner", "tier", "risk_level",
         "demand_tag", "lifecycle", "last_purchase_date", "last_interaction_date",
         "complaints_90d")
HIDDEN = {"high": "risk_level", "dormant": "demand_tag"}  # the same for every row of the list
ss = st.session_state
ctx = context.require()
t = ctx.t
st.title(t("risk_page.title"))
st.caption(t("risk_page.caption", as_of=ctx.as_of))
settings = scoring_settings()
summary = risk_data.risk_summary(ctx.db, ctx.version, ctx.as_of)

cards = context.card_row(len(RISK_LEVELS) + 1)
for card, level in zip(cards, RISK_LEVELS):
    card.metric(ctx.label("risk", level), f"{summary['risk'][level]:,}", border=True,
                help=t(f"risk_page.help.{level}"))
at_risk = summary["value_at_risk"]
share = at_risk["share"]
cards[-1].metric(t("risk_page.value_at_risk"),
                 format.money(at_risk["revenue_12m"], ctx.lang, ctx.currency),
                 delta=t("risk_page.value_share", share=share) if share is not None else None,
                 delta_color="off", delta_arrow="off", border=True,
                 help=format.money_help(t("risk_page.value_at_risk_help"), at_risk["revenue_12m"],
                                       ctx.lang, ctx.currency))
for card, tag in zip(context.card_row(len(DEMAND_TAGS)), DEMAND_TAGS):
    card.metric(ctx.label("demand", tag), f"{summary['demand'][tag]:,}", border=True,
                help=t(f"risk_page.help.{tag}"))

left, right = st.columns(2)
with left:
    st.subheader(t("risk_page.crosstab"))
    crosstab = summary["crosstab"].rename(index=lambda c: ctx.label("risk", c),
                                          columns=lambda c: ctx.label("demand", c))
    st.plotly_chart(charts.risk_demand_heatmap(crosstab, x_title=t("risk_page.demand_tag"),
                                               y_title=t("risk_page.risk_level")))
with right:
    st.subheader(t("risk_page.lifecycle"))
    stages = summary["lifecycle"].rename_axis("stage").reset_index()
    st.plotly_chart(charts.horizontal_bars(stages.assign(stage=stages["stage"].map(
        lambda c: ctx.label("lifecycle", c))), label="stage", value="customers",
        value_title=t("risk_page.customers")))

# The learned model is trained on request (it takes a while); once trained, the lists show it.
model_on = ss.get("risk_page.model_on", False) and not ctx.feature_table
if model_on:
    with st.spinner(t("churn.model.training")):
        model = risk_data.churn_model_view(ctx.db, ctx.version, ctx.as_of)

st.subheader(t("risk_page.lists"))
st.info(t("risk_page.signals"), icon=":material/compare_arrows:")
trained = model_on and "summary" in model
order = "value"
if trained:
    backtest = model["summary"]
    st.caption(t("risk_page.backtest", alerts=backtest["rules"]["alerts"],
                 rules_precision=backtest["rules"]["precision"] or 0,
                 rules_recall=backtest["rules"]["recall"] or 0,
                 model_precision=backtest["model_at_same_alerts"]["precision"] or 0,
                 model_recall=backtest["model_at_same_alerts"]["recall"] or 0,
                 first=backtest["test_snapshots"][0], last=backtest["test_snapshots"][-1]))
    order = st.segmented_control(t("risk_page.order"), ("value", "probability"), required=True,
                                 default="value", key="risk_page.order",
                                 format_func=lambda o: t(f"risk_page.order.{o}"))
counts = {"high": summary["risk"]["high"], "dormant": summary["demand"]["dormant"]}
for tab, kind in zip(st.tabs([t(f"risk_page.list.{k}", n=n) for k, n in counts.items()]), counts):
    with tab:
        st.caption(t(f"risk_page.list.{kind}_note.{order}"))
        table = risk_data.risk_list(ctx.db, ctx.version, ctx.as_of, kind, settings, ctx.lang, model_on,
                                    order, SHOWN)
        args = (ctx.db, ctx.version, ctx.as_of, kind, settings, ctx.lang)
        name = f"{kind}_{ctx.as_of:%Y%m%d}"
        file_buttons(t, name, lambda ext: made_on_click(
            risk_data.risk_list_file, *args, ext, model_on, order), key=f"risk_page.{kind}")
        event = st.dataframe(
            format.in_points(table, [c for c in ["churn_probability"] if c in table.columns]),
            hide_index=True, height=420, key=f"risk_page.{kind}.table",
            on_select="rerun", selection_mode="single-row",
            column_order=[c for c in ORDER if c in table.columns and c != HIDDEN[kind]],
            column_config={c: t(f"risk_page.col.{c}") for c in table.columns} | {
                "revenue_12m": st.column_config.NumberColumn(t("risk_page.col.revenue_12m"),
                                                             format="yen"),
                **{c: st.column_config.DateColumn(t(f"risk_page.col.{c}"))
                   for c in ("last_purchase_date", "last_interaction_date")},
                "risk_reasons": st.column_config.TextColumn(t("risk_page.col.risk_reasons"),
                                                            width="large"),
                "churn_probability": st.column_config.ProgressColumn(
                    t("risk_page.col.churn_probability"), format=format.POINTS, min_value=0.0,
                    max_value=100.0, help=t("risk_page.churn_probability_help")),
                "model_alert": st.column_config.CheckboxColumn(
                    t("risk_page.col.model_alert"), help=t("risk_page.model_alert_help"))})
        st.caption(t("customers.pick_hint") + (" " + t("risk_page.shown", shown=SHOWN)
                                               if counts[kind] > SHOWN else ""))
        if event.selection.rows:
            customer = table["customer_id"].iloc[event.selection.rows[0]]
            ss["profile.customer"] = customer
            st.switch_page("views/profile.py", query_params={"customer": customer})

st.subheader(t("risk_page.trend"))
context.require_database("source.needs.risk")  # the trend and the learned model, below
with st.spinner(t("risk_page.trend_wait")):
    trend = risk_data.flagged_by_month(ctx.db, ctx.version, ctx.as_of)
st.plotly_chart(charts.flagged_trend(
    trend, names={"high": ctx.label("risk", "high"), "medium": ctx.label("risk", "medium"),
                  "dormant": ctx.label("demand", "dormant")},
    month=t("risk_page.month_end"), customers=t("risk_page.customers")))
st.caption(t("risk_page.trend_note", as_of=ctx.as_of))

st.subheader(t("churn.model.title"))
st.caption(t("churn.model.caption"))
if not model_on:
    if st.button(t("churn.model.train"), icon=":material/model_training:", key="risk_page.train"):
        ss["risk_page.model_on"] = True
        st.rerun()
    st.stop()
if "error" in model:
    key, values = model["error"]
    st.info(t(key, **values))
    st.stop()
result = model["summary"]
cards = st.columns(4)
cards[0].metric(t("churn.model.auc_model"), f"{result['auc_model']:.3f}", border=True,
                delta=t("churn.model.vs_rules", diff=result["auc_model"] - result["auc_rules"]),
                delta_color="off", delta_arrow="off", help=t("churn.model.auc_help"))
cards[1].metric(t("churn.model.auc_rules"), f"{result['auc_rules']:.3f}", border=True)
cards[2].metric(t("churn.model.test_rows"), f"{result['n_test']:,}", border=True,
                help=t("churn.model.test_rows_help", train=result["n_train"]))
cards[3].metric(t("churn.model.churn_rate"), f"{result['churn_rate_test']:.1%}", border=True,
                help=t("churn.model.churn_rate_help"))
alerts = pd.DataFrame([{"flag": t("churn.model.flag_rules"), **result["rules"]},
                       {"flag": t("churn.model.flag_model"), **result["model_at_same_alerts"]}])
st.dataframe(format.in_points(alerts, ["precision", "recall"]), hide_index=True, height="content", column_config={
    "flag": t("churn.model.col.flag"),
    "alerts": st.column_config.NumberColumn(t("churn.model.col.alerts"), format="localized"),
    "precision": st.column_config.NumberColumn(t("churn.model.col.precision"), format=format.POINTS,
                                               help=t("churn.model.precision_help")),
    "recall": st.column_config.NumberColumn(t("churn.model.col.recall"), format=format.POINTS,
                                            help=t("churn.model.recall_help"))})
top = model["importance"].head(10)
st.markdown(f"**{t('churn.model.importance')}**")
st.plotly_chart(charts.horizontal_bars(top.assign(feature=top["feature"].map(
    lambda f: t(f"churn.feature.{f}"))), label="feature", value="importance",
    value_title=t("churn.model.importance_axis")))
st.caption(t("churn.model.evaluation", train_first=result["train_snapshots"][0],
             train_last=result["train_snapshots"][-1], test_first=result["test_snapshots"][0],
             test_last=result["test_snapshots"][-1], as_of=result["as_of"]))
