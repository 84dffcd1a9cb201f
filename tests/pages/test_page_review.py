"""The Review page shows the engine's monthly figures, in the reader's language."""
import json

import numpy as np
import pytest

from engine.months import month_key
from engine import review, store
from report import review as review_report
from tests.conftest import open_page
from tests.helpers import plotly_list as values


@pytest.fixture(scope="module")
def expected(demo_db):
    """The engine's review of the latest complete month and the one before, default settings."""
    with store.connect(demo_db) as con:
        first, last = store.date_range(con)
        months = review.reviewable_months(first, last)
        return {m: review.monthly_review(con, month=m) for m in months[:2]}, months


def rate_text(figure):
    return "n/a" if figure["rate"] is None else f"{figure['rate']:.1%}"


def test_month_picker_offers_complete_months_newest_first(app_db, expected):
    _, months = expected
    at = open_page("review", "en")
    assert not at.exception
    assert at.title[0].value == "Monthly review"
    picker = at.selectbox(key="review.month")
    assert picker.options == [month_key(m) for m in months]
    assert picker.value == month_key(months[0])


def test_rate_cards_show_rates_with_counts(app_db, expected):
    reviews, months = expected
    figures = reviews[months[0]]
    at = open_page("review", "en")
    cards = {m.label: (m.value, m.proto.delta) for m in at.metric}
    wake = figures.wake_up
    assert cards["Wake-up rate"] == (rate_text(wake),
                                     f"{wake['woken']:,} of {wake['eligible']:,}")
    win = figures.win_back
    assert cards["Win-back rate"] == (rate_text(win), f"{win['won']:,} of {win['eligible']:,}")
    with_ = win["with_followup"]
    assert cards["With follow-up"] == (rate_text(with_),
                                       f"{with_['won']:,} of {with_['eligible']:,}")
    without = win["without_followup"]
    assert cards["Without follow-up"][1] == f"{without['won']:,} of {without['eligible']:,}"
    ret = figures.retention
    assert cards["Retention"] == (rate_text(ret), f"{ret['retained']:,} of {ret['eligible']:,}")
    complaints = figures.complaints_in(figures.month)
    assert cards["Complaints"][0] == f"{complaints:,}"
    assert cards["Mean satisfaction"][0] == f"{figures.mean_satisfaction(figures.month):.2f} / 5"


def test_summary_charts_and_downloads(app_db, expected):
    reviews, months = expected
    figures = reviews[months[0]]
    at = open_page("review", "en")
    summary = next(m.value for m in at.markdown if m.value.startswith("- "))
    assert summary.splitlines() == [f"- {line}" for line in review_report.summary_lines(figures, "en")]
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    kinds = [[trace["type"] for trace in chart["data"]] for chart in charts]
    assert kinds[:3] == [["scatter"] * 3, ["scatter"] * 3, ["bar", "bar", "bar"]]  # rates, tier mix
    assert ["heatmap"] in kinds and ["sankey"] in kinds
    heatmap = charts[kinds.index(["heatmap"])]["data"][0]
    assert heatmap["text"] == [[f"{n:,}" for n in row]
                               for row in figures.transitions.to_numpy().tolist()]
    assert heatmap["y"] == ["High value", "Potential", "Ordinary"]
    tier_mix = charts[2]["data"]
    high = next(trace for trace in tier_mix if trace["name"] == "High value")
    assert values(high["y"])[-1] == figures.tier_counts(figures.month)["high"]
    labels = [button.proto.label for button in at.get("download_button")]
    assert labels == ["Download HTML report", "Download Excel workbook"]
    assert [tab.label for tab in at.tabs] == ["Heatmap", "Sankey"]


def test_switching_months_shows_that_months_figures(app_db, expected):
    reviews, months = expected
    previous = reviews[months[1]]
    at = open_page("review", "en")
    at.selectbox(key="review.month").select(month_key(months[1])).run()
    assert not at.exception
    cards = {m.label: (m.value, m.proto.delta) for m in at.metric}
    wake = previous.wake_up
    assert cards["Wake-up rate"] == (rate_text(wake),
                                     f"{wake['woken']:,} of {wake['eligible']:,}")
    assert at.subheader[0].value == f"What changed in {month_key(months[1])}"


def test_chinese_labels(app_db, expected):
    reviews, months = expected
    at = open_page("review", "zh")
    assert not at.exception
    assert at.title[0].value == "月度复盘"
    labels = {m.label for m in at.metric}
    assert {"沉睡唤醒率", "流失挽回率", "客户留存率", "投诉数"} <= labels
    summary = next(m.value for m in at.markdown if m.value.startswith("- "))
    assert summary.splitlines()[0] == "- " + review_report.summary_lines(reviews[months[0]], "zh")[0]
    assert [button.proto.label for button in at.get("download_button")] == [
        "下载 HTML 报告", "下载 Excel 工作簿"]


def test_rate_trends_month_by_month(app_db, expected):
    """Win-back, wake-up and retention at each of the 12 months, then win-back with and
    without a follow-up; the eligible counts in the hover, gaps where nobody was eligible."""
    reviews, months = expected
    figures = reviews[months[0]]
    at = open_page("review", "en")
    headings = [h.value for h in at.subheader]
    assert "Win-back, wake-up and retention month by month" in headings
    assert "Did our follow-ups help? Win-back with and without a follow-up" in headings
    charts = {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    trend = next(spec for key, spec in charts.items() if "review.rate_trend" in key)["data"]
    assert [line["name"] for line in trend] == ["Win-back rate", "Wake-up rate", "Retention"]
    rows = figures.rate_trend[figures.rate_trend["figure"] == "win_back"]
    assert trend[0]["x"] == rows["month"].tolist() and len(trend[0]["x"]) == 12
    shown = [None if y is None else round(y, 6) for y in values(trend[0]["y"])]
    assert shown == [None if np.isnan(r) else round(r, 6) for r in rows["rate"]]
    assert trend[0]["customdata"][-1] == (f"{figures.win_back['won']:,} of "
                                          f"{figures.win_back['eligible']:,}")
    split = next(spec for key, spec in charts.items() if "review.followup_trend" in key)["data"]
    assert [line["name"] for line in split] == ["With follow-up", "Without follow-up",
                                                "Win-back rate"]
    with_ = figures.win_back["with_followup"]
    assert split[0]["customdata"][-1] == f"{with_['won']:,} of {with_['eligible']:,}"
