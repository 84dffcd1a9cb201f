"""The review's cards and figures as the page and the HTML report draw them."""
from datetime import date

import pandas as pd
import pytest

from engine import review
from report.figures import kpi_cards, review_figures

MONTH, PREVIOUS = date(2024, 6, 1), date(2024, 5, 1)


def hand_review(complaints: pd.DataFrame, satisfaction: list) -> review.MonthlyReview:
    """A review of 2024-06 with two customers, one high, in both months."""
    summaries = pd.DataFrame({"month": ["2024-05", "2024-05", "2024-06", "2024-06"],
                              "tier": ["high", "ordinary"] * 2, "customers": [1, 1, 1, 1],
                              "revenue": [10.0, 5.0, 10.0, 5.0]})
    frame = pd.DataFrame({"month": ["2024-05", "2024-06"], "interactions": [4, 4],
                          "complaints": [0, 0], "rated": [2, 2],
                          "mean_satisfaction": satisfaction})
    empty = pd.DataFrame(0, index=list(review.TIERS), columns=list(review.TIERS))
    one = {"eligible": 2, "woken": 1, "won": 1, "retained": 1, "rate": 0.5}
    rates = {"wake_up": one, "retention": one,
             "win_back": one | {"with_followup": one, "without_followup": one}}
    return review.MonthlyReview(
        month=MONTH, previous=PREVIOUS, months=(PREVIOUS, MONTH), data_end=date(2024, 6, 30),
        summaries=summaries, transitions=empty, new_customers={}, wake_up=rates["wake_up"],
        win_back=rates["win_back"], retention=rates["retention"],
        rate_trend=review.rate_trend((PREVIOUS, MONTH), [rates, rates]),
        complaints=complaints, satisfaction=frame)


NO_COMPLAINTS = pd.DataFrame({"topic": pd.Series(dtype=object), "previous": pd.Series(dtype="int64"),
                              "current": pd.Series(dtype="int64"), "change": pd.Series(dtype="int64")})


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_unchanged_figure_carries_no_arrow(lang):
    # no complaints in either month and 4.0 both times: nothing rose, so no "+0" (shown red)
    cards = kpi_cards(hand_review(NO_COMPLAINTS, [4.0, 4.0]), lang)
    assert [card["value"] for card in cards] == ["50.0%", "4.00 / 5", "0"]
    assert [card["delta"] for card in cards[1:]] == [None, None]


def test_a_changed_figure_keeps_its_delta():
    complaints = pd.DataFrame({"topic": ["late"], "previous": [3], "current": [1], "change": [-2]})
    cards = kpi_cards(hand_review(complaints, [4.0, 3.5]), "en")
    assert [card["delta"] for card in cards[1:]] == ["-0.50", "-2"]


def test_satisfaction_axis_shows_the_whole_scale():
    # 3.9 and 3.8 on a 3.8–3.9 axis would look like a collapse; the axis runs 1 to 5
    figure = review_figures(hand_review(NO_COMPLAINTS, [3.9, 3.8]), "en")["satisfaction"]
    assert list(figure.layout.yaxis.range) == [1, 5]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_figures_make_room_for_their_labels(lang):
    """Written to HTML, a figure gets only the margins it asks for: every axis asks for the
    room its tick labels and title need (the complaint topics were cut to one character)."""
    complaints = pd.DataFrame({"topic": ["物流延迟", "unspecified"], "previous": [3, 1],
                               "current": [1, 2], "change": [-2, 1]})
    for name, figure in review_figures(hand_review(complaints, [4.0, 3.5]), lang).items():
        layout = figure.to_plotly_json()["layout"]
        axes = [key for key in layout if key.startswith(("xaxis", "yaxis"))]
        for axis in axes:
            assert layout[axis].get("automargin") is True, (name, axis)
