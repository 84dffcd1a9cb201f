"""Helpers the cache modules share: the reader's scope as a cache key, frames shared
across callers, download buttons."""
from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

from engine import export
from ui import auth


def for_reader(cached):
    """`cached`, called with this session's owner scope (auth.scope(): None for every
    customer) as its `owner` argument. The scope is part of the cache key, so one reader's
    rows never serve another, and no page can forget to pass it (issue 11: a rep sees only
    the customers they own)."""
    @functools.wraps(cached)
    def call(*args, **kwargs):
        return cached(*args, owner=auth.scope(), **kwargs)
    call.scoped = cached    # for a result made outside the page's run (made_on_click)
    return call


def shared_frames(max_entries: int):
    """Cache like `st.cache_data`, but keep one copy of the result and hand each caller a
    shallow copy of its frames instead of unpickling a new one.

    For the per-customer tables a slider move reads: at a million customers,
    unpickling the feature table took 0.3 s on every call. Under pandas'
    copy-on-write a shallow copy costs nothing and a caller's change to it
    copies the data first, so the cached frame can never be altered.
    """
    def decorate(compute):
        cached = st.cache_resource(show_spinner=False, max_entries=max_entries)(compute)

        @functools.wraps(compute)
        def call(*args, **kwargs):
            return _fresh(cached(*args, **kwargs))
        return call
    return decorate


def _fresh(result):
    """`result` with each DataFrame (alone or in a tuple) and dict shallow-copied."""
    if isinstance(result, tuple):
        return tuple(_fresh(part) for part in result)
    if isinstance(result, pd.DataFrame):
        return result.copy(deep=False)
    return dict(result) if isinstance(result, dict) else result


def owned(table: pd.DataFrame, owner: str | None) -> pd.DataFrame:
    """The rows whose `owner` is `owner` (every row for None). Scores and tiers were computed
    on the whole base before: scoping never re-scores a subset."""
    return table if owner is None else table[table["owner"] == owner].reset_index(drop=True)


def download_file(table: pd.DataFrame, headers: dict, sheet: str, lang: str, kind: str) -> bytes:
    """`table` as a CSV ("csv") or Excel ("xlsx") file for people (engine.export), headed by
    `headers`."""
    if kind == "csv":
        return export.to_csv_bytes(table, headers=headers, lang=lang)
    return export.to_excel_bytes(table, sheet_name=sheet, headers=headers, lang=lang)


def made_on_click(make, *args, **kwargs):
    """`make(*args, **kwargs)` as st.download_button's data, so the file is built only when
    the button is clicked: at a million customers the call list's Excel file took
    a minute, on every first load of the Plan page (issue 21). The click is served
    outside the page's run, where no reader is known, so a reader-scoped `make`
    (`for_reader`) gets this reader's scope now."""
    scoped = getattr(make, "scoped", None)
    if scoped is not None:
        return functools.partial(scoped, *args, owner=auth.scope(), **kwargs)
    return functools.partial(make, *args, **kwargs)


def on_click(content: bytes):
    """`content` as a callable for st.download_button: Streamlit then makes the file's
    /media link only when the button is clicked, and drops the file a couple of page
    runs later, rather than serving it from every run for as long as the session
    lives (issue 19, part 9)."""
    return lambda: content
