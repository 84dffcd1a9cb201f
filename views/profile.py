"""Profile 客户档案: everything about one customer as of the chosen date."""
import streamlit as st

from engine.scoring import TIERS
from report import charts
from ui import auth, context, format
from ui.data import customers as customers_data
from ui.followup_form import followup_form
from ui.settings import scoring_settings

ss = st.session_state
ctx = context.require()
t = ctx.t
st.title(t("profile.title"))
context.require_database("source.needs.profile")
weights, thresholds, clv = scoring_settings()

# The customer: named in the URL, chosen on the list, or picked here (best score first).
chosen = st.query_params.get("customer") or ss.get("profile.customer")
search = st.text_input(t("profile.search"), key="profile.search",
                       placeholder=t("customers.search_placeholder"))
choices = customers_data.customer_choices(ctx.db, ctx.version, ctx.as_of, weights, thresholds, search,
                                          clv=clv)
if chosen and chosen not in choices and not search:
    choices = {chosen: chosen} | choices
if not choices:
    st.info(t("profile.no_match"))
    st.stop()
ids = list(choices)
customer = st.selectbox(t("profile.pick"), ids, format_func=choices.get,
                        index=ids.index(chosen) if chosen in choices else 0)
ss["profile.customer"] = st.query_params["customer"] = customer

view = customers_data.customer_profile(ctx.db, ctx.version, ctx.as_of, customer, weights, thresholds, clv)
if view is None:
    st.warning(t("access.not_yours" if auth.scope() else "profile.unknown", customer=customer))
    st.stop()
record, summary, events = view["record"], view["summary"], view["events"]
st.header(f"{format.plain(record['name'] or '')} · {format.plain(customer)}")

if summary is None:
    st.info(t("profile.not_known", as_of=ctx.as_of))
else:
    rfm_scores = (t("profile.rfm_scores", r=summary["r"], f=summary["f"], m=summary["m"])
                  if summary["r"] is not None and summary["r"] == summary["r"] else "")
    st.markdown(f":green-badge[{t('profile.tier')}: {ctx.label('tier', summary['tier'])}] "
                f":blue-badge[{t('profile.rfm')}: {ctx.label('rfm', summary['rfm_segment'])}{rfm_scores}] "
                f":orange-badge[{t('profile.pyramid')}: {ctx.label('pyramid', summary['pyramid'])}]")
    # Widths for the longest label and value at 1,280 px: a whole date ("2026-06-28") needs
    # the widest card, "Revenue (12 months)" with its help icon the next.
    cards = st.columns([0.75, 1.15, 1.35, 1])
    cards[0].metric(t("profile.score"), f"{summary['score']:.1f}", border=True)
    revenue = summary["revenue_12m"]
    cards[1].metric(t("customers.col.revenue_12m"), format.money(revenue, ctx.lang, ctx.currency),
                    help=format.money_help(None, revenue, ctx.lang, ctx.currency), border=True)
    last = summary["last_purchase_date"]
    cards[2].metric(t("customers.col.last_purchase_date"),
                    f"{last:%Y-%m-%d}" if last == last and last is not None else t("common.none"),
                    border=True)
    cards[3].metric(t("profile.complaints"), f"{len(events['complaints']):,}", border=True)

master = {t(f"profile.col.{k}"): (ctx.label(k, v) if k in ("customer_type", "source") else v)
          for k, v in record.items() if k not in ("customer_id", "name")}
st.subheader(t("profile.master"))
st.dataframe([{t("profile.field"): k, t("profile.value"): "" if v is None else str(v)}
              for k, v in master.items()], hide_index=True, height="content")

if summary is not None:
    st.subheader(t("profile.breakdown"))
    left, right = st.columns([2, 3])
    dims = view["dimensions"]
    left.dataframe(dims.assign(dimension=dims["dimension"].map(lambda d: ctx.label("dimension", d))),
                   hide_index=True, height="content", column_order=["dimension", "weight", "score", "points"],
                   column_config={"dimension": t("profile.col.dimension"),
                                  **{c: st.column_config.NumberColumn(t(f"profile.col.{c}"), format="%.1f")
                                     for c in ("weight", "score", "points")}})
    subs = view["sub_metrics"]
    headers = {c: t(f"profile.col.{c}") for c in ("dimension", "sub_metric", "value", "percentile")}
    right.table(format.wrapping_table(
        subs.assign(dimension=subs["dimension"].map(lambda d: ctx.label("dimension", d)),
                    sub_metric=subs["sub_metric"].map(lambda m: ctx.label("submetric", m)),
                    value=[format.quantity(v, u, ctx.lang, ctx.currency)
                           for v, u in zip(subs["value"], subs["unit"])]),
        headers, {"percentile": "{:.1f}"}, na_rep="—"))
    st.caption(t("profile.breakdown_note") + (" " + t("scoring.clv.in_use") if clv else ""))

st.subheader(t("profile.history"))
with st.spinner(t("profile.history_wait")):
    history = customers_data.tier_history(ctx.db, ctx.version, ctx.as_of, customer, weights, thresholds, clv)
st.plotly_chart(charts.tier_history(history, names={c: ctx.label("tier", c) for c in TIERS},
                                    thresholds=thresholds, x_title=t("profile.month_end"),
                                    y_title=t("profile.score")))
st.caption(t("profile.history_note"))



# Formats of an event table's number columns.
NUMBER_FORMATS = {"amount": format.CENTS, "unit_price": format.CENTS, "quantity": "localized",
                  "response_hours": "%.1f"}


def column(name: str):
    """An event table's column: its header in the reader's words, dates without a time,
    amounts to the cent."""
    label = t(f"profile.col.{name}")
    if name == "ts":
        return st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm")
    if name in NUMBER_FORMATS:
        return st.column_config.NumberColumn(label, format=NUMBER_FORMATS[name])
    return st.column_config.DateColumn(label) if name.endswith("date") else label


# Per event table, the columns that hold codes and the label kind that names them.
CODES = {"transactions": {"status": "txn_status"},
         "interactions": {"kind": "interaction_kind", "channel": "channel"},
         "complaints": {"kind": "interaction_kind", "channel": "channel"},
         "followups": {"action": "action", "channel": "channel", "status": "followup_status"}}
tabs = st.tabs([t(f"profile.tab.{key}", n=len(events[key])) for key in CODES])
for tab, (key, codes) in zip(tabs, CODES.items()):
    frame = events[key]
    with tab:
        if key == "transactions" and len(frame):
            st.plotly_chart(charts.purchase_timeline(events["orders"], amount=t("profile.col.amount"),
                                                     date=t("profile.col.txn_date"),
                                                     refund=t("profile.refund"),
                                                     purchase=t("profile.purchase")))
        if not len(frame):
            st.caption(t("common.none"))
            continue
        st.dataframe(frame.assign(**{c: frame[c].map(lambda v, k=k: ctx.label(k, v))
                                     for c, k in codes.items()}),
                     hide_index=True, placeholder="", column_config={c: column(c) for c in frame.columns})

st.subheader(t("followup.title"))
followup_form(ctx, customer, key="profile.followup")
