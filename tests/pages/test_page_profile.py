"""The Profile page: one customer's record, score explained, tier history and events."""
import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from engine.months import last_month_ends
from engine import i18n, profile, scoring, store
from engine.features import customer_features, optional_columns_present
from tests.conftest import APP, open_page
from tests.helpers import plotly_array as values
from tests.helpers import column_formats
from report import charts


def expected(db, customer=None, *, history=False):
    with store.connect(db) as con:
        as_of = store.date_range(con)[1]
        features = customer_features(con, as_of=as_of)
        available = optional_columns_present(con, as_of=as_of)
        scores = scoring.score_customers(features, available=available)
        table = profile.filter_customers(profile.customer_table(
            features, scores, scoring.rfm(features), scoring.pyramid(features)))
        customer = customer or table["customer_id"].iloc[0]
        events = profile.customer_events(con, customer, as_of=as_of)
        snapshots = [(day, *profile.month_end_sub_scores(con, as_of=day))
                     for day in last_month_ends(as_of)] if history else []
    row = table.set_index("customer_id").loc[customer]
    return customer, row, events, profile.tier_history(snapshots, customer)


def open_profile(customer: str, lang: str = "en") -> AppTest:
    """The page as reached from a link: ?customer=<id>."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    at.query_params["customer"] = customer
    at.switch_page("views/profile.py")
    return at.run()


def test_purchase_timeline_draws_orders_refunds_below_zero_and_no_cancelled():
    orders = pd.DataFrame({   # as engine.profile gives them: net money, refunds negative
        "txn_date": ["2024-05-01", "2024-05-03", "2024-05-04", "2024-05-05", "2024-05-06"],
        "money": [40.0, -30.0, -5.0, 0.0, 0.0],
        "purchase": [1, 0, 0, 1, 0]})                 # the last: cancelled, counts nothing
    figure = charts.purchase_timeline(orders, amount="a", date="d", refund="Refund",
                                      purchase="Purchase")
    bars = {trace.name: list(values(trace.y)) for trace in figure.data}
    assert bars == {"Purchase": [40.0, 0.0], "Refund": [-30.0, -5.0]}


def test_best_customer_by_default_with_score_and_lenses(app_db):
    customer, row, events, _ = expected(app_db)
    at = open_page("profile", "en")
    assert not at.exception
    assert at.title[0].value == "Customer profile"
    assert at.header[0].value == f"{row['name']} · {customer}"
    cards = {m.label: m.value for m in at.metric}
    assert cards["Value score"] == f"{row['score']:.1f}"
    assert cards["Complaints (to date)"] == f"{len(events['complaints']):,}"
    badges = at.markdown[0].value
    assert f"Value tier: {scoring_label('tier', row['tier'])}" in badges
    assert f"RFM segment: {scoring_label('rfm', row['rfm_segment'])}" in badges
    assert f"Pyramid level: {scoring_label('pyramid', row['pyramid'])}" in badges
    assert at.query_params["customer"] == customer


def scoring_label(kind, code):
    return i18n.label(kind, code, "en")


def test_score_breakdown_adds_up(app_db):
    customer, row, _, _ = expected(app_db)
    at = open_page("profile", "en")
    dimensions = at.dataframe[1].value
    assert list(dimensions["dimension"]) == ["Consumption", "Interaction", "Stability", "Referral"]
    assert list(dimensions["weight"]) == [40.0, 30.0, 20.0, 10.0]
    assert dimensions["points"].sum() == pytest.approx(row["score"])
    table = at.table[0].value   # a static table, so nothing runs past its column at 1,280 px
    names = ("dimension", "sub_metric", "value", "percentile")
    assert list(table.columns) == [i18n.t(f"profile.col.{c}", "en") for c in names]
    subs = table.set_axis(list(names), axis=1)
    assert len(subs) == len(scoring.SUB_METRICS)
    assert subs["percentile"].dropna().between(0, 100).all()
    # each value in its unit: the spend as money, the on-time share as a percentage
    shown = dict(zip(subs["sub_metric"], subs["value"]))
    with store.connect(app_db) as con:
        features = customer_features(con, as_of=store.date_range(con)[1]).set_index(
            "customer_id").loc[customer]
    spend, ontime = features["spend_6m"], features["ontime_share"]
    assert shown["Spend, last 6 months"] == f"¥{spend:,.2f}"
    assert shown["On-time payment share"] == ("—" if ontime != ontime else f"{ontime:.1%}")


def test_tier_history_and_events(app_db):
    customer, _, events, history = expected(app_db, history=True)
    at = open_page("profile", "en")
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    line = chart["data"][0]
    assert list(line["x"]) == [f"{d:%Y-%m-%d}" for d in history.loc[history["known"], "as_of"]]
    assert values(line["y"]) == pytest.approx(history.loc[history["known"], "score"].to_numpy())
    tabs = [tab.label for tab in at.tabs]
    assert tabs == [f"Purchases ({len(events['transactions'])})",
                    f"Interactions ({len(events['interactions'])})",
                    f"Complaints ({len(events['complaints'])})",
                    f"Follow-ups ({len(events['followups'])})"]


def test_reached_by_link_and_searched(app_db):
    customer, row, events, _ = expected(app_db, "C000007")
    at = open_profile("C000007")
    assert not at.exception
    assert at.header[0].value == f"{row['name']} · C000007"
    assert at.tabs[0].label == f"Purchases ({len(events['transactions'])})"
    at.text_input(key="profile.search").input("C00001").run()
    assert all(option.startswith("C00001") for option in at.selectbox[0].options)
    at.selectbox[0].set_value("C000012").run()
    assert at.header[0].value.endswith("· C000012")
    assert at.session_state["profile.customer"] == "C000012"


def test_unknown_customer(app_db):
    at = open_profile("NOBODY")
    assert not at.exception
    assert at.warning[0].value == "There is no customer NOBODY in this database."


def test_chinese_labels(app_db):
    at = open_page("profile", "zh")
    assert at.title[0].value == "客户档案"
    assert "价值评分" in {m.label for m in at.metric}
    assert at.dataframe[1].value["dimension"].tolist() == ["消费能力", "互动活跃度", "合作稳定性", "推荐价值"]


def test_event_tables_show_missing_values_as_empty_cells(app_db):
    at = open_page("profile", "en")
    tables = [d for d in at.dataframe if "txn_date" in d.value.columns]
    assert tables and tables[0].value.isna().any().any()   # e.g. no txn_id or due date
    assert tables[0].proto.HasField("placeholder") and tables[0].proto.placeholder == ""  # not None


def test_event_tables_show_amounts_to_the_cent(app_db):
    at = open_page("profile", "en")
    purchases = next(d for d in at.dataframe if "txn_date" in d.value.columns)
    assert {c: column_formats(purchases)[c] for c in ("amount", "unit_price", "quantity")} == {
        "amount": "%,.2f", "unit_price": "%,.2f", "quantity": "localized"}
    interactions = next(d for d in at.dataframe if "response_hours" in d.value.columns)
    assert column_formats(interactions)["response_hours"] == "%.1f"
