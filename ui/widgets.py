"""Widgets whose value the script gives them through session state."""
from __future__ import annotations

import streamlit as st


def keep_value(key: str, default):
    """Set the session value of the widget `key` (its own, else `default`) on every run,
    not only when it is missing, and return it.

    A run cut short (the language switched while a page first loaded) leaves a
    defaulted value in session state without the widget ever reaching the browser;
    on the next run the browser then draws the widget at its own default (a slider
    at 0) and sends that back, unless the run sets the value again.
    """
    st.session_state[key] = st.session_state.get(key, default)
    return st.session_state[key]
