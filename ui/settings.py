"""This session's scoring settings: kept in st.session_state and in the URL's query
parameters, so the other pages, a reload and a shared link see the same tiers."""
from __future__ import annotations

import streamlit as st

from engine.scoring_settings import (DEFAULT_SETTINGS, QUERY_NAMES, settings_from_query,
                                     settings_query)

SETTINGS_KEY = "scoring.settings"


def scoring_settings() -> tuple[tuple[float, ...], tuple[float, float], bool]:
    """(weights, thresholds, clv) of this session's Scoring page: those set in the session,
    else those of the URL (a reload or a shared link), else the defaults."""
    if SETTINGS_KEY not in st.session_state:
        st.session_state[SETTINGS_KEY] = settings_from_query(st.query_params) or DEFAULT_SETTINGS
    return st.session_state[SETTINGS_KEY]


def keep_scoring_settings(weights: tuple, thresholds: tuple, clv: bool = False) -> None:
    """Remember the Scoring page's settings for the other pages of this session, and in the
    URL."""
    st.session_state[SETTINGS_KEY] = (tuple(weights), tuple(thresholds), bool(clv))
    show_settings_in_url()


def show_settings_in_url() -> None:
    """Write the session's settings into the URL (run on every page: a page switch clears
    the query parameters); other parameters are left as they are."""
    wanted = settings_query(scoring_settings())
    for name in QUERY_NAMES:
        if name in wanted and st.query_params.get(name) != wanted[name]:
            st.query_params[name] = wanted[name]
        elif name not in wanted and name in st.query_params:
            del st.query_params[name]
