"""The Overview page shows the engine's figures, in the reader's language."""
import json

from engine import scoring, store
from engine.features import activity, customer_features
from tests.conftest import open_page
from ui.format import money


def expected(db):
    with store.connect(db) as con:
        as_of = store.date_range(con)[1]
        features = customer_features(con, as_of=as_of)
        kpis = activity.overview_kpis(con, as_of=as_of)
    return as_of, features, kpis


def test_kpi_cards_show_engine_figures(app_db):
    as_of, features, kpis = expected(app_db)
    at = open_page("overview", "en")
    assert not at.exception
    cards = {m.label: m.value for m in at.metric}
    assert cards["Customers"] == f"{len(features):,}"
    assert cards["Active (90 days)"] == f"{kpis['active_90d']:,}"
    assert cards["Revenue (12 months)"] == money(kpis["revenue_12m"], "en", "¥")
    assert cards["Complaints (90 days)"] == f"{kpis['complaints_90d']:,}"
    assert cards["Satisfaction (90 days)"] == f"{kpis['satisfaction_90d']:.2f} / 5"


def test_charts_and_pareto_sentence(app_db):
    _, features, _ = expected(app_db)
    at = open_page("overview", "en")
    charts = at.get("plotly_chart")
    assert len(charts) == 4
    revenue_chart = json.loads(charts[0].proto.spec)
    assert [trace["type"] for trace in revenue_chart["data"]] == ["bar", "scatter"]
    share = scoring.pareto(features).customer_share
    assert any(f"{share:.1%} of customers make 80 %" in m.value for m in at.markdown)


def test_chinese_labels(app_db):
    at = open_page("overview", "zh")
    assert at.title[0].value == "总览"
    assert {"客户数", "近12个月收入", "投诉（近90天）"} <= {m.label for m in at.metric}


def test_revenue_card_without_a_year_before_has_no_arrow_and_tells_the_exact_amount(app_db):
    _, _, kpis = expected(app_db)
    assert not kpis["prev_12m_complete"]          # the 24-month demo starts mid-year
    at = open_page("overview", "en")
    card = next(m for m in at.metric if m.label == "Revenue (12 months)")
    assert card.proto.delta == "no prior full year"
    assert card.proto.direction == card.proto.MetricDirection.NONE   # no ↑ beside it
    assert card.proto.help.endswith(f"Exact amount: ¥{float(kpis['revenue_12m']):,.2f}")
