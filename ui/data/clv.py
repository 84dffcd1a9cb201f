"""The Lifetime value page: customers under the lenses, distributions, top and slipping."""
from __future__ import annotations

from datetime import date

import streamlit as st

from engine import clv_page, i18n
from ui.data.clv_fit import clv_fit
from ui.data.common import download_file
from ui.data.scoring import scores
from ui.data.segments import customer_segments
from ui.data.sources import features, source_summary

# The models are fitted once per data version, as-of date and calibration end
# (the file is closed before the fit); the lenses (tier under this session's
# weights, segment, pyramid level) and their labels are joined on in the
# reader's language. A ClvUnavailable is returned, not raised, so that it is
# cached like a result.


@st.cache_data(show_spinner=False, max_entries=8)
def clv_small_data(db: str, version: int, as_of: date) -> dict:
    """Buyers, repeat buyers and each buyer's past when the models cannot be fitted
    (engine.clv_page.small_data)."""
    return clv_page.small_data(features(db, version, as_of))


def clv_calibration_range(db: str, version: int, as_of: date) -> tuple | None:
    """(default, earliest, latest) calibration end for the holdout check, or None
    (engine.clv_page.calibration_choice)."""
    return clv_page.calibration_choice(source_summary(db, version)["first"], as_of)


@st.cache_data(show_spinner=False, max_entries=8)
def clv_customers(db: str, version: int, as_of: date, settings: tuple, lang: str) -> dict:
    """Every modelled customer with name, lenses in the reader's words, 12-month revenue and
    its rank (engine.clv_page.with_lenses); "base" (all customers), "categories" (each lens's
    labels in order) and "segment_error" (why there are no segments, or None)."""
    table = features(db, version, as_of)
    try:
        found, segment_error = customer_segments(db, version, as_of, lang), None
    except ValueError as exc:
        found, segment_error = None, str(exc)
    lenses, categories = clv_page.lens_columns(table, scores(db, version, as_of, *settings)["tier"],
                                               lang, segments=found)
    return {"table": clv_page.with_lenses(clv_fit(db, version, as_of)["result"].customers, lenses),
            "base": len(table), "categories": categories, "segment_error": segment_error}


@st.cache_data(show_spinner=False, max_entries=16)
def clv_distribution(db: str, version: int, as_of: date, settings: tuple, lang: str,
                     lens: str):
    """P(alive) and CLV quantiles, means and totals per group of `lens` (engine.clv_page.LENSES)."""
    view = clv_customers(db, version, as_of, settings, lang)
    return clv_page.distribution_by(view["table"], lens, categories=view["categories"][lens])


def clv_top(db: str, version: int, as_of: date, settings: tuple, lang: str, n: int):
    """The n customers with the largest 12-month CLV (none in a partial result), with a
    "label" of id and name for charts."""
    return clv_page.top_for_chart(clv_customers(db, version, as_of, settings, lang)["table"], n)


def clv_slipping(db: str, version: int, as_of: date, settings: tuple, lang: str,
                 top_share: float, max_p_alive: float):
    """Valuable and slipping customers (engine.clv_page.valuable_and_slipping)."""
    view = clv_customers(db, version, as_of, settings, lang)
    return clv_page.valuable_and_slipping(view["table"], base_size=view["base"],
                                            top_share=top_share, max_p_alive=max_p_alive)


@st.cache_data(show_spinner=False, max_entries=8)
def clv_file(db: str, version: int, as_of: date, settings: tuple, lang: str, kind: str,
             slipping: tuple | None = None) -> bytes:
    """Modelled customers (or, with slipping=(top_share, max_p_alive), the valuable and
    slipping ones) as CSV or Excel bytes, headed in the reader's language."""
    table = (clv_customers(db, version, as_of, settings, lang)["table"] if slipping is None
             else clv_slipping(db, version, as_of, settings, lang, *slipping))
    table = table.drop(columns="revenue_rank")
    return download_file(table, {c: i18n.t(f"clv.col.{c}", lang) for c in table.columns},
                         i18n.t("nav.clv", lang), lang, kind)
