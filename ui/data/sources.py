"""The data source: its summary, the feature table every page reads, the Overview page."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from engine import demo, prepared, scoring, store
from engine.currency import saved_currency
from engine.scoring_settings import DEFAULT_SETTINGS
from engine.features import parquet_source
from engine.features import event_history as read_event_history
from ui import auth
from ui.data.common import shared_frames


@st.cache_data(show_spinner=False, max_entries=16)
def source_summary(db: str, version: int) -> dict:
    """Row counts and the first and last event dates, for the sidebar."""
    with store.connect(db) as con:
        first, last = store.date_range(con)
        return {"counts": store.table_counts(con), "first": first, "last": last}


def version_and_currency(db: str) -> tuple[int, str]:
    """The file's data version and the sign its amounts are shown with (engine.currency),
    read on every run in one opening: choosing the sign changes no figure, so it leaves
    the data version the caches key on."""
    with store.connect(db) as con:
        return store.current_data_version(con), saved_currency(con)


@st.cache_data(show_spinner=False, max_entries=16)
def overview(db: str, version: int, as_of: date) -> dict:
    """Everything the Overview page draws from the events (kept in the file: engine.prepared)."""
    return prepared.overview(db, version, as_of)


def opening_view(db: str, version: int, as_of: date, settings: tuple = DEFAULT_SETTINGS) -> bool:
    """Whether `as_of` and `settings` are those the pages open on (T the last day with data,
    the default settings): the view whose large results are kept in the file
    (engine.prepared), and prepared ahead of the pages."""
    return (settings == DEFAULT_SETTINGS and not is_feature_table(db)
            and as_of == source_summary(db, version)["last"])


def is_feature_table(db: str) -> bool:
    """Whether the source passed as `db` is a feature table folder rather than a database file.

    With a feature table (the sidebar's other source) `db` is its folder and
    `version` parquet_source.feature_table_version, so every cache below stays
    keyed right; only the functions that read the file itself look here.
    """
    return Path(db).is_dir()


@st.cache_data(show_spinner=False, max_entries=4)
def feature_table_summary(folder: str, version: int) -> dict:
    """customers, as_of, engine and available of a feature table folder (the frame is
    left to `features`, so a large table is not cached twice); FeatureTableError when bad."""
    table = parquet_source.load_feature_table(folder)
    return {"customers": len(table.frame), "as_of": table.as_of, "engine": table.engine,
            "available": table.available}


@shared_frames(max_entries=8)
def features(db: str, version: int, as_of: date):
    """The per-customer feature table as of T: the one expensive query, cached on T and version
    (and kept in the file: engine.prepared).

    From a feature table folder, its table (computed for its own T, which the sidebar shows).
    """
    if is_feature_table(db):
        return parquet_source.load_feature_table(db).frame
    return prepared.features(db, version, as_of, keep=opening_view(db, version, as_of))


@st.cache_data(show_spinner=False, max_entries=8)
def customer_base(db: str, version: int, as_of: date) -> dict:
    """Customer count and the Pareto curve, from the feature table."""
    table = features(db, version, as_of)
    result = scoring.pareto(table, points=400)
    return {"kpis": {"customers": len(table)}, "pareto_curve": result.curve,
            "pareto_share": result.customer_share}


def create_demo(db: str, progress=None) -> None:
    """Fill the file with the built-in demo data (a write: bumps the version; admins only)."""
    auth.actor("reset")
    demo.generate_demo(db, progress=progress)


@st.cache_resource(show_spinner=False, max_entries=2)
def event_history(db: str, version: int):
    """The T-independent parts of the feature query (engine.features.event_history): read once
    per data version for every past date a page needs (tier history, review months). A
    resource, not data: the read-only Arrow tables are shared, never copied per use."""
    with store.connect(db) as con:
        return read_event_history(con)
