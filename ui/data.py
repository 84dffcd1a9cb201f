"""The pages' only door to the engine: cached calls keyed on their inputs.

Every cached function takes the database path and its data version first,
so results are reused until an import, undo, reset or follow-up bumps the
version, and never leak between two databases. Each call opens the file
for the duration of one query and closes it (DESIGN §2).
"""
from __future__ import annotations

from datetime import date

import streamlit as st

from engine import demo, scoring, store
from engine.features import activity, customer_features


@st.cache_data(show_spinner=False, max_entries=16)
def source_summary(db: str, version: int) -> dict:
    """Row counts and the first and last event dates, for the sidebar."""
    with store.connect(db) as con:
        first, last = store.date_range(con)
        return {"counts": store.table_counts(con), "first": first, "last": last}


@st.cache_data(show_spinner=False, max_entries=16)
def overview(db: str, version: int, as_of: date) -> dict:
    """Everything the Overview page draws, in one visit to the file."""
    with store.connect(db) as con:
        return {
            "kpis": activity.overview_kpis(con, as_of=as_of),
            "monthly": activity.monthly_activity(con, as_of=as_of),
            "by_region": activity.revenue_by(con, as_of=as_of, column="region"),
            "by_source": activity.revenue_by(con, as_of=as_of, column="source"),
        }


@st.cache_data(show_spinner=False, max_entries=8)
def features(db: str, version: int, as_of: date):
    """The per-customer feature table as of T: the one expensive query, cached on T and version."""
    with store.connect(db) as con:
        return customer_features(con, as_of=as_of)


@st.cache_data(show_spinner=False, max_entries=8)
def customer_base(db: str, version: int, as_of: date) -> dict:
    """Customer count and the Pareto curve, from the feature table."""
    table = features(db, version, as_of)
    result = scoring.pareto(table, points=400)
    return {"kpis": {"customers": len(table)}, "pareto_curve": result.curve,
            "pareto_share": result.customer_share}


def create_demo(db: str, progress=None) -> None:
    """Fill the file with the built-in demo data (a write: bumps the version)."""
    demo.generate_demo(db, progress=progress)
