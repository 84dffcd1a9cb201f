"""The Review page shows the engine's monthly figures, in the reader's language."""
import json

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
    assert kinds[0] == ["bar", "bar", "bar"]                     # tier mix, stacked
    assert ["heatmap"] in kinds and ["sankey"] in kinds
    heatmap = charts[kinds.index(["heatmap"])]["data"][0]
    assert heatmap["text"] == [[f"{n:,}" for n in row]
                               for row in figures.transitions.to_numpy().tolist()]
    assert heatmap["y"] == ["High value", "Potential", "Ordinary"]
    tier_mix = charts[0]["data"]
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
