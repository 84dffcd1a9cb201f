"""The lifetime-value models fitted once per data version and date (engine.clv)."""
from __future__ import annotations

from datetime import date

import streamlit as st

from engine import clv as clv_engine
from engine import clv_page, prepared
from ui.data.sources import opening_view


@st.cache_data(show_spinner=False, max_entries=8)
def clv_fit(db: str, version: int, as_of: date) -> dict:
    """{"result": ClvResult or None, "error": ClvUnavailable or None}, fitted on the
    purchases up to the as-of date (kept in the file for the opening view)."""
    result = prepared.clv_fit(db, version, as_of, keep=opening_view(db, version, as_of))
    if isinstance(result, clv_engine.ClvUnavailable):
        return {"result": None, "error": result}
    return {"result": result, "error": None, "totals": clv_page.totals(result),
            "parameters": clv_page.parameter_table(result)}


@st.cache_data(show_spinner=False, max_entries=8)
def clv_holdout(db: str, version: int, as_of: date, calibration_end: date) -> dict:
    """The holdout check of the models fitted up to `calibration_end` (kept in the file):
    {"holdout", "by_frequency"} or {"error": ClvUnavailable}."""
    return prepared.clv_holdout(db, version, as_of, calibration_end)


@st.cache_data(show_spinner=False, max_entries=16)
def clv_for_scoring(db: str, version: int, as_of: date):
    """12-month CLV by customer_id (a Series) for the value score's optional CLV sub-metric
    (engine.scoring.score_customers(clv=...)), or None when there are no lifetime values.
    In a partial result every value is NaN, and the scoring leaves the sub-metric out.
    Cached on its own (small) so that the 13 dates of a tier history, which push fits
    out of clv_fit's cache, never make the scores at T fit again."""
    result = clv_fit(db, version, as_of)["result"]
    if result is None:
        return None
    return result.customers.set_index("customer_id")[f"clv_{result.settings.horizon_months}m"]
