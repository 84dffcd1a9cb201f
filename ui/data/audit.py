"""The audit log (admins only: the page is in no other role's navigation, and the data
refuses anyone else)."""
from __future__ import annotations

import functools
from datetime import date

import pandas as pd
import streamlit as st

from engine import audit, export, i18n, store
from ui import auth

# Admins only: the page is in no other role's navigation, and the data
# refuses anyone else.

def admins_only(function):
    """`function`, refused with auth.Forbidden unless the reader may see the audit log."""
    @functools.wraps(function)
    def call(*args, **kwargs):
        auth.actor("see_audit")
        return function(*args, **kwargs)
    return call


@admins_only
@st.cache_data(show_spinner=False, max_entries=8)
def audit_filters(db: str, version: int) -> dict:
    """Actors and actions in the log, and its first and last day (engine.audit.log_filters)."""
    with store.connect(db) as con:
        return audit.log_filters(con)


@admins_only
@st.cache_data(show_spinner=False, max_entries=16)
def audit_view(db: str, version: int, actors: tuple, actions: tuple, start: date | None,
               end: date | None, lang: str) -> pd.DataFrame:
    """The filtered log, newest first, actions in the reader's words."""
    with store.connect(db) as con:
        log = audit.read_log(con, actors=actors, actions=actions, start=start, end=end)
    return audit.log_in_words(log, lang)


@admins_only
@st.cache_data(show_spinner=False, max_entries=8)
def audit_file(db: str, version: int, actors: tuple, actions: tuple, start: date | None,
               end: date | None, lang: str) -> bytes:
    """The filtered log as CSV, headed in the reader's language, formula-safe."""
    log = audit_view(db, version, actors, actions, start, end, lang)
    return export.to_csv_bytes(log, headers={c: i18n.t(f"audit.col.{c}", lang) for c in log.columns},
                               lang=lang)
