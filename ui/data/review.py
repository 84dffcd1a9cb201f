"""The monthly review, from month-end snapshots cached one by one."""
from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from engine import review as review_engine
from engine import scoring, store
from engine.features import month_activity
from engine.months import month_end, month_key, parse_month, shift_month
from report import review as review_report
from ui.data.clv_fit import clv_for_scoring
from ui.data.sources import event_history, source_summary

# Months travel as "YYYY-MM" and settings as (weights in scoring.DIMENSIONS order,
# thresholds), so they key the caches. Each month-end snapshot and each month's
# activity is cached on its own, keyed on the data version (imports, undo and
# follow-ups bump it): switching months computes at most one new snapshot, and
# a month seen before is served whole from `monthly_review`. Nothing is stored
# in the database file.


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


@st.cache_data(show_spinner=False, max_entries=30)
def review_activity(db: str, version: int, month: str):
    """Per-customer transactions, purchases, revenue, interactions and follow-ups during `month`."""
    with store.connect(db) as con:
        return review_engine.month_activity_for(con, month=month)


@st.cache_data(show_spinner=False, max_entries=64)
def review_month_summary(db: str, version: int, month: str, settings: tuple):
    """Tier mix at the end of `month` and revenue during it by tier (small: kept long)."""
    return review_engine.month_summary(parse_month(month),
                                       review_snapshot(db, version, month, settings),
                                       review_activity(db, version, month))


@st.cache_data(show_spinner=False, max_entries=64)
def review_month_rates(db: str, version: int, month: str, settings: tuple) -> dict:
    """Wake-up, win-back and retention of `month`, from the snapshots at its end and at the
    end of the month before it (small: kept long, so the 12-month trend is cheap)."""
    before = month_key(shift_month(parse_month(month), -1))
    return review_engine.month_rates(review_snapshot(db, version, before, settings),
                                     review_snapshot(db, version, month, settings),
                                     review_activity(db, version, month))


@st.cache_data(show_spinner=False, max_entries=64)
def review_month_events(db: str, version: int, month: str) -> dict:
    """Complaints by topic and interactions with their ratings during `month` (small)."""
    first = parse_month(month)
    with store.connect(db) as con:
        return {"complaints": month_activity.complaints_by_topic(con, first_month=first,
                                                                 last_month=first),
                "interactions": month_activity.interactions_by_month(con, first_month=first,
                                                                     last_month=first)}


@st.cache_data(show_spinner=False, max_entries=16)
def monthly_review(db: str, version: int, month: str, settings: tuple,
                   _progress_text: str | None = None):
    """Every figure of the review of `month` (engine.review.MonthlyReview), from cached pieces.

    With `_progress_text` (not part of the key) a progress bar counts the
    months while their snapshots are computed (the rates of the first month also
    need the month end before it); bar and its removal happen inside the cached
    call, so a cache hit shows nothing.
    """
    months = review_engine.review_months(month)
    keys = [month_key(m) for m in months]
    bar = st.progress(0.0, text=_progress_text) if _progress_text else None
    try:
        summaries, rates = [], []
        for i, key in enumerate(reversed(keys), start=1):      # M and M−1 first
            summaries.insert(0, review_month_summary(db, version, key, settings))
            rates.insert(0, review_month_rates(db, version, key, settings))
            if bar is not None:
                bar.progress(i / len(keys), text=_progress_text)
    finally:
        if bar is not None:
            bar.empty()
    changes = review_engine.month_changes(review_snapshot(db, version, keys[-2], settings),
                                          review_snapshot(db, version, keys[-1], settings),
                                          review_activity(db, version, keys[-1]))
    events = [review_month_events(db, version, key) for key in keys]
    return review_engine.build_review(
        month, months=months, summaries=summaries, changes=changes, rates=rates,
        complaints=pd.concat([e["complaints"] for e in events], ignore_index=True),
        interactions=pd.concat([e["interactions"] for e in events], ignore_index=True),
        data_end=source_summary(db, version)["last"])


def review_report_html(review, lang: str) -> bytes:
    """The self-contained HTML report (built when its download button is pressed)."""
    from report.html import review_html
    return review_html(review, lang).encode("utf-8")


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def review_workbook(review, lang: str) -> bytes:
    """The Excel workbook, one sheet per table (built when its download button is pressed)."""
    return review_report.review_workbook(review, lang)


def review_summary(review, lang: str) -> list[str]:
    """The month's notable changes in words (report.review.summary_lines)."""
    return review_report.summary_lines(review, lang)
