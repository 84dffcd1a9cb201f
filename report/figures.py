"""The monthly review's figures and cards in the reader's language, for the page and the report."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from engine import i18n, review as engine_review
from engine.months import month_key
from engine.review import MonthlyReview
from report import charts

# The rate trend's two charts: {figure of engine.review.RATES: (colour, dash)}
TREND_LINES = {"win_back": (charts.PALETTE[3], "solid"), "wake_up": (charts.PALETTE[1], "solid"),
               "retention": (charts.PALETTE[0], "solid")}
FOLLOWUP_LINES = {"win_back_with": (charts.PALETTE[2], "solid"),
                  "win_back_without": (charts.PALETTE[7], "dash"),
                  "win_back": (charts.PALETTE[3], "dot")}


def tier_names(lang: str) -> dict[str, str]:
    return {tier: i18n.label("tier", tier, lang) for tier in engine_review.TIERS}


def rate_cards(review: MonthlyReview, lang: str) -> list[dict]:
    """One card per rate: key, label, value ("17.2%" or n/a), detail ("183 of 1,067"), help."""
    months = {"month": month_key(review.month), "previous": month_key(review.previous)}
    cards = []
    for key, figure_of, count in engine_review.RATES:
        figure = figure_of(review.rates())
        rate = figure["rate"]
        cards.append({
            "key": key,
            "label": i18n.t(f"review.rate.{key}", lang),
            "value": i18n.t("review.na", lang) if rate is None else f"{rate:.1%}",
            "detail": (i18n.t("review.of", lang, n=figure[count], total=figure["eligible"])
                       if figure["eligible"] else i18n.t("review.nobody", lang)),
            "help": i18n.t(f"review.rate.{key}_help", lang, **months)})
    return cards


def kpi_cards(review: MonthlyReview, lang: str) -> list[dict]:
    """High-value share, mean satisfaction and complaints of M, each with its change vs M−1.

    Each card: label, value, delta (text or None), delta_color (Streamlit's
    'normal' / 'inverse' / 'off'), help.
    """
    previous = month_key(review.previous)
    high = review.high_share()
    sat, sat_before = (review.mean_satisfaction(review.month),
                       review.mean_satisfaction(review.previous))
    complaints, complaints_before = (review.complaints_in(review.month),
                                     review.complaints_in(review.previous))
    return [
        {"label": i18n.t("review.kpi.high_share", lang),
         "value": (i18n.t("review.na", lang) if high["current"] is None
                   else f"{high['current']:.1%}"),
         "delta": (None if high["change"] is None else
                   i18n.t("review.pp", lang, pp=round(high["change"] * 100, 1) + 0.0)),
         "delta_color": "normal",
         "help": i18n.t("review.kpi.high_share_help", lang, previous=previous)},
        {"label": i18n.t("review.kpi.satisfaction", lang),
         "value": i18n.t("review.kpi.no_rating", lang) if sat is None else f"{sat:.2f} / 5",
         "delta": (None if sat is None or sat_before is None
                   else f"{round(sat - sat_before, 2) + 0.0:+.2f}"),
         "delta_color": "normal",
         "help": i18n.t("review.kpi.satisfaction_help", lang, previous=previous)},
        {"label": i18n.t("review.kpi.complaints", lang), "value": f"{complaints:,}",
         "delta": f"{complaints - complaints_before:+,}", "delta_color": "inverse",
         "help": None},
    ]


def complaints_frame(review: MonthlyReview, lang: str) -> pd.DataFrame:
    """The complaints table with topics in the reader's words ('unspecified' translated)."""
    return review.complaints.assign(
        topic=[i18n.label("topic", topic, lang) for topic in review.complaints["topic"]])


def rate_hover(trend: pd.DataFrame, lang: str) -> list[str]:
    """Per row of a rate trend: "17 of 60" (responded of eligible), or "nobody eligible"."""
    return [i18n.t("review.of", lang, n=n, total=total) if total
            else i18n.t("review.nobody", lang)
            for n, total in zip(trend["count"], trend["eligible"])]


def rate_trend_figure(review: MonthlyReview, lang: str, lines: dict) -> go.Figure:
    """The rates of `lines` ({figure: (colour, dash)}) at each month of the trend."""
    return charts.rate_lines(
        review.rate_trend, hover=rate_hover(review.rate_trend, lang),
        lines={key: (i18n.t(f"review.rate.{key}", lang), colour, dash)
               for key, (colour, dash) in lines.items()},
        month=i18n.t("review.col.month", lang), rate=i18n.t("review.col.rate", lang))


def review_figures(review: MonthlyReview, lang: str) -> dict[str, go.Figure]:
    """{name: figure}: rate_trend (win-back, wake-up, retention by month), followup_trend
    (win-back with and without a follow-up), tier_mix, heatmap, sankey, sankey_movers
    (customers who changed tier), complaints, satisfaction, revenue."""
    t = lambda key, **values: i18n.t(key, lang, **values)  # noqa: E731
    names = tier_names(lang)
    m, p = month_key(review.month), month_key(review.previous)
    return {
        "rate_trend": rate_trend_figure(review, lang, TREND_LINES),
        "followup_trend": rate_trend_figure(review, lang, FOLLOWUP_LINES),
        "tier_mix": charts.tier_stack(review.summaries, value="customers", names=names,
                                      x_title=t("review.axis.month"),
                                      y_title=t("review.axis.customers")),
        "heatmap": charts.transition_heatmap(review.transitions, names=names,
                                             x_title=t("review.axis.tier_at", month=m),
                                             y_title=t("review.axis.tier_at", month=p)),
        "sankey": charts.transition_sankey(review.transitions, names=names, before=p, after=m),
        "sankey_movers": charts.transition_sankey(review.transitions, names=names, before=p,
                                                  after=m, movers_only=True),
        "complaints": charts.compare_bars(complaints_frame(review, lang), label="topic",
                                          series={"previous": p, "current": m},
                                          value_title=t("review.axis.complaints")),
        "satisfaction": charts.satisfaction_trend(review.satisfaction,
                                                  mean=t("review.axis.mean_satisfaction"),
                                                  rated=t("review.axis.rated"),
                                                  month=t("review.col.month")),
        "revenue": charts.tier_stack(review.summaries, value="revenue", names=names,
                                     x_title=t("review.col.month"),
                                     y_title=t("review.axis.revenue")),
    }
