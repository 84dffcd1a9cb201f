"""The monthly review, from month-end snapshots cached one by one."""
from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from engine import prepared, scoring, store
from engine import review as review_engine
from engine.months import month_end, month_key, parse_month
from report import review as review_report
from ui.data.clv_fit import clv_for_scoring
from ui.data.sources import event_history, source_summary

# Months travel as "YYYY-MM" and settings as (weights in scoring.DIMENSIONS order,
# thresholds, clv), so they key the caches. What the review needs of each month is
# kept in the database file for the data version (engine.prepared), and cached here;
# the month-end snapshots it is computed from are cached one by one: switching
# months computes at most one new snapshot.


def review_months(db: str, version: int, as_of: date) -> list[str]:
    """Months the Review page offers, newest first: complete by T, with a month before them."""
    first = source_summary(db, version)["first"]
    return [month_key(m) for m in review_engine.reviewable_months(first, as_of)]


@st.cache_data(show_spinner=False, max_entries=30)
def review_snapshot(db: str, version: int, month: str, settings: tuple):
    """Score, tier, demand tag and risk of every customer known at the end of `month`
    (with `settings`' clv, the CLV models fitted as of that day join the score)."""
    weights, thresholds, clv = settings
    day = month_end(parse_month(month))
    lifetime = clv_for_scoring(db, version, day) if clv else None
    history = event_history(db, version)
    with store.connect(db) as con:
        return review_engine.month_end_snapshot(
            con, month_end=day, weights=dict(zip(scoring.DIMENSIONS, weights)),
            thresholds=tuple(thresholds), clv=lifetime, history=history)


@st.cache_data(show_spinner=False, max_entries=64)
def review_month(db: str, version: int, month: str, settings: tuple) -> dict:
    """Tier mix, revenue by tier, changes and rates, complaints and interactions of `month`
    (engine.prepared.review_month: kept in the file, so small and kept long here too;
    a 12-month trend seen once is cheap after)."""
    return prepared.review_month(db, version, month, settings,
                                 lambda key: review_snapshot(db, version, key, settings))


@st.cache_data(show_spinner=False, max_entries=16)
def monthly_review(db: str, version: int, month: str, settings: tuple,
                   _progress_text: str | None = None):
    """Every figure of the review of `month` (engine.review.MonthlyReview), from its months.

    With `_progress_text` (not part of the key) a progress bar counts the
    months while they are computed or read; bar and its removal happen inside
    the cached call, so a cache hit shows nothing.
    """
    months = review_engine.review_months(month)
    keys = [month_key(m) for m in months]
    bar = st.progress(0.0, text=_progress_text) if _progress_text else None
    try:
        pieces = []
        kept = prepared.review_months_kept(db, version, keys, settings)
        for i, (key, piece) in enumerate(reversed(list(zip(keys, kept))), start=1):  # M, M−1 first
            pieces.insert(0, review_month(db, version, key, settings) if piece is None else piece)
            if bar is not None:
                bar.progress(i / len(keys), text=_progress_text)
    finally:
        if bar is not None:
            bar.empty()
    return review_engine.build_review(
        month, months=months, summaries=[p["summary"] for p in pieces],
        changes=pieces[-1]["changes"], rates=[prepared.month_rates(p) for p in pieces],
        complaints=pd.concat([p["complaints"] for p in pieces], ignore_index=True),
        interactions=pd.concat([p["interactions"] for p in pieces], ignore_index=True),
        data_end=source_summary(db, version)["last"])


def review_report_html(review, lang: str, currency: str) -> bytes:
    """The self-contained HTML report (built when its download button is pressed)."""
    from report.html import review_html
    return review_html(review, lang, currency).encode("utf-8")


def review_workbook(review, lang: str, currency: str) -> bytes:
    """The Excel workbook, one sheet per table (built when its download button is pressed)."""
    return review_report.review_workbook(review, lang, currency)


def review_summary(review, lang: str, currency: str) -> list[str]:
    """The month's notable changes in words (report.review.summary_lines)."""
    return review_report.summary_lines(review, lang, currency)
